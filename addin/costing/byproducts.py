"""By-products and co-products: items obtained from a parent's completion (BOM Line Type).

- A **by-product** line (Qty Per = units obtained per parent unit) is valued at the
  by-product's own standard: the parent's roll-up is lowered by Qty Per x that standard,
  element by element (ERPNext: FG = raw material 7,000 - scrap 2,000 = 5,000).
- A **co-product** line takes its Cost Share of the parent's *joint cost* (the parent's roll-up
  before its co-products): the co-product's standard per unit is derived as the sum of
  share x joint cost over its lines, divided by the sum of their Qty Per, element by element;
  the parent keeps the rest (Odoo: 25 % + 50 % of 550 over 8 + 12 units: main product 137.50,
  by-product 20.625 a unit). It is derived from the BOM in effect on Period Start and used in
  every BOM window, like every standard of the period (section 7); the Standard Costs figure of
  a co-product is replaced (a warning names a difference).

Both kinds enter the BOM matrix with a negative quantity (bom.line_signs): the roll-up lowers
the parent, and the backflush receives them into stock as negative leaves, at the value they
are carried at (flush.py). A parent whose obtained items are worth more than its cost (any
element below zero) is refused with the BOM lines named.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from addin.costing import bom as bomlib
from addin.costing.model import Finding, MonthEndInputs, Severity

ELEMENTS_SHOWN = ("material", "conversion")
NEGATIVE_COST = -0.005  # half a cent a unit: below it a rolled-up element is negative


class ObtainedCostError(ValueError):
    """The obtained items of some parents are worth more than their cost (``findings``)."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        super().__init__("; ".join(str(f) for f in findings))


class CoLines(NamedTuple):
    """The co-product lines in effect on Period Start, as item positions."""

    parent: npt.NDArray[np.intp]
    item: npt.NDArray[np.intp]
    # units obtained per parent unit (over Base Quantity, x Conversion Factor, / Yield)
    quantity: npt.NDArray[np.float64]
    share: npt.NDArray[np.float64]  # fraction of the parent's joint cost


def co_lines(inputs: MonthEndInputs, index: bomlib.ItemIndex) -> CoLines | None:
    """The co-product lines in effect on Period Start (None when there are none)."""
    bom = inputs.bom
    if not len(bom):
        return None
    kind = bomlib.line_kinds(bom)
    take = kind == bomlib.LINE_TYPES.index(bomlib.COPRODUCT)
    if not take.any():
        return None
    take &= bomlib.in_effect(bom, inputs.settings.period_start)
    if not take.any():
        return None
    lines = bom.loc[take]
    parents = index.positions(lines["parent"])
    sc = inputs.standard_costs.reset_index(drop=True)
    return CoLines(
        parents,
        index.positions(lines["component"]),
        bomlib.planned_line_quantities(lines, sc, parents),  # as the BOM matrix counts them
        pd.to_numeric(lines["cost_share"]).fillna(0.0).to_numpy(np.float64),
    )


def with_coproduct_standards(
    sc: pd.DataFrame, co: CoLines, matrix: sp.csr_matrix, index: bomlib.ItemIndex
) -> pd.DataFrame:
    """Standard Costs with each co-product's own standard replaced by its derived one:
    sum of share x joint cost of its parent / sum of Qty Per, per element. ``matrix`` is the
    BOM on Period Start (co-product lines negative). A co-product consumed below its own
    parent is a loop (bom.BomCycleError). Repeated until no derived standard changes (one pass
    per co-product level, as a co-product may be consumed by another co-product's parent)."""
    _refuse_loops(matrix, co, index)
    own = sc.copy()
    units = np.bincount(co.item, weights=co.quantity, minlength=len(index))
    items = np.unique(co.item)
    for _ in range(len(items) + 2):
        rolled = bomlib.roll_up(own, matrix, index).rolled
        changed = False
        for e in bomlib.ELEMENTS:
            if e not in own or np.isnan(rolled[e]).all():
                continue
            current = pd.to_numeric(own[e]).fillna(0.0).to_numpy(np.float64)
            back = co.quantity * current[co.item]  # the co-products' value put back
            joint = rolled[e][co.parent] + np.bincount(co.parent, back, len(index))[co.parent]
            derived = np.bincount(co.item, weights=co.share * joint, minlength=len(index))
            new = derived[items] / units[items]
            changed |= not np.allclose(new, current[items], rtol=0.0, atol=1e-12)
            values = own[e].to_numpy(np.float64, copy=True)
            values[items] = new
            own[e] = values
        if not changed:
            return own
    return own


def _refuse_loops(matrix: sp.csr_matrix, co: CoLines, index: bomlib.ItemIndex) -> None:
    """A co-product's standard comes from its parent: the co-product lines turned round (item
    -> parent) must not close a loop with the other lines (bom.BomCycleError names it)."""
    n = len(index)
    structure = (abs(matrix) > 0).astype(np.int8).tocsr()
    ones = np.ones(len(co.parent), dtype=np.int8)
    co_edges = sp.csr_matrix((ones, (co.parent, co.item)), shape=(n, n))
    structure = structure - (co_edges > 0).astype(np.int8)
    structure = structure + sp.csr_matrix((ones, (co.item, co.parent)), shape=(n, n))
    structure = (structure > 0).astype(np.int8).tocsr()
    structure.eliminate_zeros()
    bomlib.levels(structure, index.codes)


def refuse_negative_costs(
    inputs: MonthEndInputs, rollups: list[bomlib.Rollup], index: bomlib.ItemIndex
) -> None:
    """Raise ObtainedCostError when a parent's rolled-up material or conversion is below zero
    in a BOM window because of its by-products or co-products; the finding names its lines."""
    bom = inputs.bom
    obtained = bomlib.line_kinds(bom) > 0 if len(bom) else np.zeros(0, dtype=bool)
    if not obtained.any():
        return
    lines = bom.loc[obtained]
    parents = index.positions(lines["parent"])
    negative = np.zeros(len(index), dtype=bool)
    for r in rollups:
        for e in ELEMENTS_SHOWN:
            negative |= np.nan_to_num(r.rolled[e]) < NEGATIVE_COST
    bad = np.unique(parents[negative[parents]])
    if len(bad):
        worst = {e: np.min([r.rolled[e] for r in rollups], axis=0) for e in ELEMENTS_SHOWN}
        raise ObtainedCostError(
            [_negative_finding(inputs, lines, parents, p, index, worst) for p in bad]
        )


def _negative_finding(
    inputs: MonthEndInputs,
    lines: pd.DataFrame,
    parents: npt.NDArray[np.intp],
    p: int,
    index: bomlib.ItemIndex,
    worst: dict[str, npt.NDArray[np.float64]],
) -> Finding:
    """The error of one parent whose obtained items are worth more than its cost."""
    code = str(index.codes[p])
    rows = [int(r) for r in lines["source_row"].to_numpy()[parents == p]]
    cells = [inputs.cell("BOM", "Qty Per", r) for r in rows]
    element = "material" if worst["material"][p] < NEGATIVE_COST else "conversion"
    return Finding(
        Severity.ERROR,
        "by-products worth more than the parent",
        f"the by-products and co-products of {code} (BOM lines {', '.join(cells)}) are worth "
        f"more than its cost: its rolled-up {element} would be {worst[element][p]:,.4f} a unit. "
        "Check their Qty Per and their standards on Standard Costs.",
        "BOM",
        cells[0],
        code,
    )


def obtained_items(bom: pd.DataFrame, index: bomlib.ItemIndex) -> npt.NDArray[np.bool_]:
    """Items on some by-product or co-product line (any date)."""
    out = np.zeros(len(index), dtype=bool)
    if len(bom):
        kind = bomlib.line_kinds(bom)
        if (kind > 0).any():
            out[index.positions(bom.loc[kind > 0, "component"])] = True
    return out


def credit_per_unit(
    matrix: sp.csr_matrix, total: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Per parent: what its obtained items are worth per parent unit (Qty Per x standard),
    the amount its roll-up is lowered by (0 for items without such lines)."""
    obtained = matrix.minimum(0).tocsr()
    if obtained.nnz == 0:
        return np.zeros(matrix.shape[0])
    return 0.0 - obtained @ np.nan_to_num(total)  # 0.0 - x: no -0.0 shown


def coproduct_findings(
    inputs: MonthEndInputs, derived: pd.DataFrame, co: CoLines | None, index: bomlib.ItemIndex
) -> list[Finding]:
    """A warning per co-product whose Standard Costs figure (when not 0) differs from its
    derived one by half a cent or more."""
    if co is None:
        return []
    sheet = inputs.standard_costs.reset_index(drop=True)
    found = []
    for k in np.unique(co.item).tolist():
        given = float(sheet["material"].iloc[k] or 0) + float(sheet["conversion"].iloc[k] or 0)
        new = float(derived["material"].iloc[k]) + float(derived["conversion"].iloc[k])
        if given == 0 or abs(given - new) < 0.005:
            continue  # none given (0: derive it), or the same to the cent
        code = str(index.codes[k])
        parent = str(index.codes[co.parent[co.item == k][0]])
        found.append(
            Finding(
                Severity.WARNING,
                "co-product standard derived",
                f"{code} is a co-product of {parent}: its standard is derived from its cost "
                f"share, {new:,.4f} a unit, not the {given:,.4f} on Standard Costs (the derived "
                "standard is used). Put the derived figure on Standard Costs, or check the Cost "
                "Share % and Qty Per of its BOM lines.",
                "Standard Costs",
                inputs.cell("Standard Costs", "Material", int(sheet["source_row"].iloc[k])),
                code,
            )
        )
    return found
