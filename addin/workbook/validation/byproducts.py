"""BOM lines that obtain an item (Line Type By-product or Co-product): what they may say.

A by-product or co-product is a Raw or Finished item with no BOM lines of its own and
Backflush = Yes (it is received by the backflush, valued at its standard); it is not also a
component of the same parent; Scrap % does not apply to it. Cost Share % is given on co-product
lines only, above 0, and the co-products of one parent share at most 100 % on any day; a
co-product comes from one parent (its standard is derived from that parent's cost).
Every rule looks only at the obtained lines (few), never loops over the component lines.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from addin.costing.bom import BYPRODUCT, COPRODUCT, LINE_TYPES, line_kinds
from addin.workbook.validation.columns import Frame
from addin.workbook.validation.report import MAX_FINDINGS_PER_RULE, Report

OBTAINABLE_TYPES = ("Raw", "Finished")


def line_type_column(f: Frame) -> pd.Categorical:
    """The engine's line_type column: categorical over LINE_TYPES (all components, at no cost,
    when the sheet has no Line Type column)."""
    if "Line Type" not in f.values:
        return pd.Categorical.from_codes(
            np.zeros(len(f), dtype=np.int8), categories=list(LINE_TYPES)
        )
    return pd.Categorical(f.values["Line Type"], categories=list(LINE_TYPES))


def check_obtained_lines(
    f: Frame | None, bom: pd.DataFrame, standard_costs: pd.DataFrame | None, report: Report
) -> None:
    """Every rule on by-product and co-product lines and on Cost Share %; errors located."""
    if f is None or not len(bom):
        return
    kind = line_kinds(bom)
    share = pd.to_numeric(bom["cost_share"]).to_numpy(np.float64)
    _shares_on_their_lines(f, kind, share, report)
    obtained = np.flatnonzero(kind > 0)
    if not len(obtained):
        return
    parent = bom["parent"].astype(object).to_numpy()
    item = bom["component"].astype(object).to_numpy()
    _scrap(f, bom, obtained, report)
    if standard_costs is not None:
        _item_kinds(f, item, kind, obtained, standard_costs, report)
    _made_or_used(f, parent, item, kind, obtained, report)
    _co_parents(f, parent, item, kind, report)
    _shares_per_parent(f, bom, parent, kind, share, report)


def _name(kind: int) -> str:
    return "by-product" if LINE_TYPES[kind] == BYPRODUCT else "co-product"


def _shares_on_their_lines(f: Frame, kind: np.ndarray, share: np.ndarray, report: Report) -> None:
    """Cost Share % only on co-product lines; every co-product line has one above 0."""
    co = kind == LINE_TYPES.index(COPRODUCT)
    stray = np.flatnonzero(~co & ~np.isnan(share) & (share != 0))
    for k in stray[:MAX_FINDINGS_PER_RULE].tolist():
        report.error(
            "cost share",
            "Cost Share % is given on a line that is not a co-product; clear it, or set "
            "Line Type to Co-product",
            f.table.sheet,
            f.cell("Cost Share %", k),
        )
    missing = np.flatnonzero(co & ~(share > 0))
    for k in missing[:MAX_FINDINGS_PER_RULE].tolist():
        has = "Cost Share %" in f.values
        report.error(
            "cost share",
            "a co-product line needs a Cost Share % above 0 (its share of the parent's cost); "
            "type it, or set Line Type to By-product to value it at its own standard",
            f.table.sheet,
            f.cell("Cost Share %" if has else "Line Type", k),
        )


def _scrap(f: Frame, bom: pd.DataFrame, obtained: np.ndarray, report: Report) -> None:
    scrap = pd.to_numeric(bom["scrap_pct"]).fillna(0.0).to_numpy(np.float64)
    for k in obtained[scrap[obtained] != 0][:MAX_FINDINGS_PER_RULE].tolist():
        report.error(
            "by-product scrap",
            "Scrap % does not apply to a by-product or co-product line (Qty Per is what is "
            "obtained per parent unit); clear it",
            f.table.sheet,
            f.cell("Scrap %", k),
        )


def _item_kinds(
    f: Frame,
    item: np.ndarray,
    kind: np.ndarray,
    obtained: np.ndarray,
    standard_costs: pd.DataFrame,
    report: Report,
) -> None:
    """Obtained items are Raw or Finished with Backflush = Yes."""
    sc = standard_costs.set_index(standard_costs["item"].astype(object))
    for k in obtained[:MAX_FINDINGS_PER_RULE].tolist():
        code = item[k]
        if code is None or (isinstance(code, float) and np.isnan(code)) or code not in sc.index:
            continue  # an unknown item is reported by the item check
        typ, flushed = sc.at[code, "item_type"], bool(sc.at[code, "backflush"])
        problem = (
            f"is a {typ} item; a {_name(int(kind[k]))} must be a Raw or Finished item "
            "(kept in stock at its standard): change its Type or the line"
            if typ not in OBTAINABLE_TYPES
            else "has Backflush = No on Standard Costs; a by-product or co-product is received "
            "by the backflush: set it to Yes"
            if not flushed
            else ""
        )
        if problem:
            report.error(
                "by-product item",
                f'"{code}" {problem}',
                f.table.sheet,
                f.cell("Component", k),
                item=str(code),
            )


def _made_or_used(
    f: Frame, parent: np.ndarray, item: np.ndarray, kind: np.ndarray, obtained: np.ndarray,
    report: Report,
) -> None:  # fmt: skip
    """An obtained item has no component lines of its own and is not a component of the same
    parent (that would consume what the completion yields)."""
    comp = kind == 0
    pairs = pd.MultiIndex.from_arrays([parent[obtained], item[obtained]])
    comp_rows = np.flatnonzero(comp & pd.Series(item).isin(set(item[obtained])).to_numpy())
    component_of = {(parent[j], item[j]): j for j in comp_rows.tolist()}
    parents = set(pd.Series(parent[comp]).dropna().unique().tolist())
    shown = 0
    for k, (p, code) in zip(obtained.tolist(), pairs, strict=True):
        if shown >= MAX_FINDINGS_PER_RULE:
            break
        if (p, code) in component_of:
            other = f.cell("Component", component_of[(p, code)])
            message = (
                f'"{code}" is a component of {p} on {f.table.sheet}!{other} and also its '
                f"{_name(int(kind[k]))} here; a completion cannot consume what it yields: "
                "delete one of the lines"
            )
        elif code in parents:
            message = (
                f'"{code}" has BOM lines of its own, so it cannot be obtained as a '
                f"{_name(int(kind[k]))} of {p}: it would be made twice. Use another item code "
                "for what the completion yields"
            )
        else:
            continue
        report.error("by-product line", message, f.table.sheet, f.cell("Component", k), item=p)
        shown += 1


def _co_parents(
    f: Frame, parent: np.ndarray, item: np.ndarray, kind: np.ndarray, report: Report
) -> None:
    """A co-product comes from one parent: its standard is derived from that parent's cost."""
    co = np.flatnonzero(kind == LINE_TYPES.index(COPRODUCT))
    first: dict[object, int] = {}
    for k in co.tolist():
        j = first.setdefault(item[k], k)
        if parent[j] != parent[k]:
            report.error(
                "co-product parents",
                f'"{item[k]}" is a co-product of {parent[j]} ({f.table.sheet}!'
                f"{f.cell('Component', j)}) and of {parent[k]}: its standard comes from one "
                "parent's cost; make it a By-product of one of them",
                f.table.sheet,
                f.cell("Component", k),
                item=str(item[k]),
            )


def _shares_per_parent(
    f: Frame, bom: pd.DataFrame, parent: np.ndarray, kind: np.ndarray, share: np.ndarray,
    report: Report,
) -> None:  # fmt: skip
    """The co-product shares of one parent in effect on one day add up to at most 100 %."""
    co = np.flatnonzero((kind == LINE_TYPES.index(COPRODUCT)) & (share > 0))
    start = pd.to_datetime(bom["effective_from"]).to_numpy("datetime64[ns]")
    end = pd.to_datetime(bom["effective_to"]).to_numpy("datetime64[ns]")
    lo, hi = np.datetime64("1700-01-01", "ns"), np.datetime64("2262-01-01", "ns")
    start, end = np.where(np.isnat(start), lo, start), np.where(np.isnat(end), hi, end)
    for p in pd.unique(parent[co]).tolist():
        mine = co[parent[co] == p]
        for day in np.unique(start[mine]):
            on = mine[(start[mine] <= day) & (end[mine] >= day)]
            total = float(share[on].sum())
            if total > 1 + 1e-9:
                cells = ", ".join(f"{f.table.sheet}!{f.cell('Cost Share %', k)}" for k in on)
                report.error(
                    "cost shares over 100 %",
                    f"the co-products of {p} share {total * 100:.6g} % of its cost ({cells}); the "
                    "shares of one parent add up to at most 100 % (the parent keeps the rest): "
                    "lower them",
                    f.table.sheet,
                    f.cell("Cost Share %", int(on[0])),
                    item=str(p),
                )
                break
