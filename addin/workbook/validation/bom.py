"""The BOM: lines checked for self-components, backwards effectivity, overlapping duplicates
and cycles; phantoms must have lines."""

from __future__ import annotations

import numpy as np
import pandas as pd

from addin.costing.cycles import find_cycles
from addin.costing.model import Severity
from addin.workbook import contract as C
from addin.workbook.validation.byproducts import line_type_column
from addin.workbook.validation.columns import Frame
from addin.workbook.validation.frames import date, empty, engine_frame
from addin.workbook.validation.items import Items, map_item_ids
from addin.workbook.validation.report import MAX_FINDINGS_PER_RULE, Report

_MAX_PRUNE_ROUNDS = 64


def _line_checks(
    f: Frame, parent: np.ndarray, component: np.ndarray, usable: np.ndarray, report: Report
) -> np.ndarray:
    """Self-components and backwards effectivity; returns the self-loop mask."""
    sheet = f.table.sheet
    self_loop = usable & (parent == component)
    for k in np.flatnonzero(self_loop)[:MAX_FINDINGS_PER_RULE].tolist():
        report.error(
            "self component",
            f'item "{parent[k]}" is its own component; delete this line',
            sheet,
            f.cell("Component", k),
            item=str(parent[k]),
        )
    eff_from, eff_to = date(f, "Effective From"), date(f, "Effective To")
    backwards = ~np.isnat(eff_from) & ~np.isnat(eff_to) & (eff_to < eff_from)
    for k in np.flatnonzero(backwards)[:MAX_FINDINGS_PER_RULE].tolist():
        report.error(
            "effectivity",
            "Effective To is before Effective From; correct the dates",
            sheet,
            f.cell("Effective To", k),
            item=str(parent[k]),
        )
    return self_loop


def parse_bom(f: Frame | None, items: Items | None, report: Report) -> pd.DataFrame:
    """The BOM frame (every line, parents and components canonical); errors reported."""
    spec = C.SHEETS_BY_NAME[C.BOM]
    if f is None or items is None:
        return empty(spec)
    parent, parent_id = map_item_ids(f, "Parent", items, report)
    component, component_id = map_item_ids(f, "Component", items, report)
    usable = ~pd.isna(parent) & ~pd.isna(component)
    edges = usable & ~_line_checks(f, parent, component, usable, report)
    line_type = line_type_column(f)
    kind = line_type.codes  # 0 component, 1 by-product, 2 co-product (bom.LINE_TYPES)
    # one key per parent, item and line type; a co-product may have several lines (summed)
    key = (parent_id * (len(items.numbers) + 1) + component_id) * 3 + kind
    if "Per" in f.values:  # a per-unit and a per-order line of one component are two lines
        key = key * 2 + (f.values["Per"] == "Order")
    _duplicates(f, parent, component, key, edges & (kind != 2), report)
    # a co-product's standard comes from its parent: its line counts turned round for loops
    co = kind == 2
    turned, turned_ids = (parent, component), (parent_id, component_id)
    if co.any():
        turned = (np.where(co, component, parent), np.where(co, parent, component))
        turned_ids = (np.where(co, component_id, parent_id), np.where(co, parent_id, component_id))
    _cycles(f, turned, turned_ids, edges, report)
    given = {
        "parent": items.column(parent_id),
        "component": items.column(component_id),
        "line_type": line_type,
    }
    return engine_frame(f, given)


def _duplicates(
    f: Frame,
    parent: np.ndarray,
    component: np.ndarray,
    key: np.ndarray,
    edges: np.ndarray,
    report: Report,
) -> None:
    """Two lines for the same parent and component whose effectivity periods overlap.
    ``key`` numbers the (parent, component) pairs (int64; equal pairs, equal keys).

    Vectorised: every pair (a, b), a above b, of lines with the same parent and component is
    built with one self-merge and tested at once; findings come in the order of a loop over
    the pairs (groups by first line, then a, then b), the first MAX_FINDINGS_PER_RULE built.
    """
    idx = np.flatnonzero(edges)
    if not len(idx):
        return
    dup = pd.Series(key[idx]).duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    a, b = _same_pairs(idx[dup], key)
    start = np.where(np.isnat(eff := date(f, "Effective From")), _LO, eff)
    stop = np.where(np.isnat(eff := date(f, "Effective To")), _HI, eff)
    overlap = np.flatnonzero((start[a] <= stop[b]) & (start[b] <= stop[a]))
    for j in overlap[:MAX_FINDINGS_PER_RULE].tolist():
        ka, kb = int(a[j]), int(b[j])
        report.error(
            "duplicate BOM line",
            f"{parent[kb]} -> {component[kb]} repeats row {int(f.rows[ka])} with "
            "overlapping effective dates; delete one line or make their dates "
            "not overlap",
            f.table.sheet,
            f.cell("Parent", kb),
            item=str(parent[kb]),
        )
    report.skipped(
        Severity.ERROR, "duplicate BOM line", f.table.sheet, "",
        len(overlap) - MAX_FINDINGS_PER_RULE,
    )  # fmt: skip


_LO = np.datetime64("1700-01-01", "ns")
_HI = np.datetime64("2262-01-01", "ns")


def _same_pairs(lines: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (a, b), a above b, of ``lines`` with the same key, ordered by group (its
    first line), then a, then b."""
    # Each group is known by its first line (k ascends), so sorting by it keeps group order.
    first = pd.Series(lines).groupby(key[lines]).transform("min").to_numpy()
    left = pd.DataFrame({"g": first, "a": lines})
    both = left.merge(left.rename(columns={"a": "b"}), on="g")
    both = both[both["a"].to_numpy() < both["b"].to_numpy()]
    both = both.sort_values(["g", "a", "b"], kind="stable")
    return both["a"].to_numpy(), both["b"].to_numpy()


def _cycle_candidates(
    idx: np.ndarray, parent_id: np.ndarray, component_id: np.ndarray
) -> np.ndarray:
    """The lines of ``idx`` that can be on a cycle: round by round, a line is dropped when its
    parent is no line's component or its component is no line's parent (on item numbers, so
    cheap). Every line of every cycle survives; on a sound BOM (a DAG) none does."""
    src, dst = parent_id[idx], component_id[idx]
    n = int(max(src.max(), dst.max())) + 1 if len(idx) else 0
    for _ in range(_MAX_PRUNE_ROUNDS):
        if not len(idx):
            break
        keep = (np.bincount(dst, minlength=n)[src] > 0) & (np.bincount(src, minlength=n)[dst] > 0)
        if keep.all():
            break
        idx, src, dst = idx[keep], src[keep], dst[keep]
    return idx


def _cycles(
    f: Frame,
    codes: tuple[np.ndarray, np.ndarray],
    ids: tuple[np.ndarray, np.ndarray],
    edges: np.ndarray,
    report: Report,
) -> None:
    """One error per BOM cycle, naming the cell of each of its lines."""
    parent, component = codes
    idx = np.flatnonzero(edges)
    near = _cycle_candidates(idx, *ids)
    cycles = find_cycles(parent[near], component[near])
    if not cycles:
        return
    on_cycle = {n for cyc in cycles for n in cyc}
    line: dict[tuple[str, str], int] = {}
    idx = idx[pd.Series(parent[idx], dtype=object).isin(on_cycle).to_numpy()]
    for k in idx.tolist():
        p = parent[k]
        if p in on_cycle and (p, component[k]) not in line:
            line[(p, component[k])] = k
    for cyc in cycles:
        loop = [*cyc, cyc[0]]
        cells = [
            f"{f.table.sheet}!{f.cell('Parent', line[(a, b)])}"
            for a, b in zip(loop, loop[1:], strict=False)
            if (a, b) in line
        ]
        report.error(
            "BOM cycle",
            f"cycle {' -> '.join(loop)}; remove one of these lines: {', '.join(cells)}",
            f.table.sheet,
            item=cyc[0],
        )


def phantoms_without_bom(f: Frame, items: Items, bom: pd.DataFrame, report: Report) -> None:
    """A phantom item with no BOM lines is an error (nothing to blow through)."""
    parents = set(bom["parent"].dropna().tolist()) if len(bom) else set()
    phantoms = [c for c, t in items.types.items() if t == "Phantom" and c not in parents]
    if not phantoms:
        return
    codes = f.values["Item"]
    at = np.flatnonzero(pd.Series(codes, dtype=object).isin(phantoms).to_numpy() & ~f.bad["Item"])
    for k in at.tolist():
        code = str(codes[k])
        report.error(
            "phantom without BOM",
            f'phantom item "{code}" has no BOM lines; add its components on BOM, or change '
            "its Type",
            f.table.sheet,
            f.cell("Type", k),
            item=code,
        )


def per_order_lines(
    f: Frame | None, standard_costs: pd.DataFrame | None, bom: pd.DataFrame, report: Report
) -> None:
    """A per-order line (Per = Order) needs its parent's Lot Size on Standard Costs, and takes
    no Base Quantity (it is for the whole order)."""
    if f is None or standard_costs is None or not len(bom) or "Per" not in f.values:
        return
    order = bom["per"].to_numpy(object) == "Order"
    if not order.any():
        return
    lots = pd.Series(
        pd.to_numeric(standard_costs["lot_size"]).to_numpy(np.float64),
        index=standard_costs["item"].astype(str).to_numpy(),
    )
    lot = lots.reindex(bom["parent"].astype(str).to_numpy()).to_numpy(np.float64)
    parent = bom["parent"].to_numpy(object)
    for k in np.flatnonzero(order & ~(lot > 0) & pd.notna(parent))[:MAX_FINDINGS_PER_RULE]:
        report.error(
            "per-order line without lot size",
            f"Per is Order: {parent[k]} -> {bom['component'].iloc[k]} is consumed once per "
            f"production order, but {parent[k]} has no Lot Size on Standard Costs to spread "
            "it over in the standard; enter its costing lot size there",
            f.table.sheet,
            f.cell("Per", int(k)),
            item=str(parent[k]),
        )
    base = bom["base_quantity"].to_numpy(np.float64)
    for k in np.flatnonzero(order & (base != 1.0))[:MAX_FINDINGS_PER_RULE]:
        report.error(
            "base quantity on per-order line",
            f"Base Quantity is {base[k]:,.10g} on a line consumed once per order (Per = "
            "Order): a per-order quantity is for the whole order; leave Base Quantity blank",
            f.table.sheet,
            f.cell("Base Quantity", int(k)),
            item=str(parent[k]),
        )
