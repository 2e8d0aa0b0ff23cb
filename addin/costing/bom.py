"""Bills of materials: standard cost roll-up and multi-level explosion (backflush quantities).

Rules (backflush-domain.md, sections 1 and 4, and the README's "How the engine flushes"):
- A BOM line says: ``base_quantity`` units of ``parent`` consume ``qty_per x conversion_factor x
  (1 + scrap_pct)`` of ``component`` (in the component's unit), grossed up by the parent's planned
  yield (/ yield_pct). A per-order line (``per`` = "Order") is consumed once per production order:
  the standard spreads it over the parent's costing lot size (see :func:`line_quantities`).
- Roll-up: rolled element(parent) = own element(parent) + sum(qty x (1 + scrap) x rolled
  element(component)), for material, conversion, and labour/overhead when they are split.
- Explosion flushes through the items the caller marks ``exploded`` down to *leaves*: the
  plant (plant.py) passes items with BOM lines and Backflush = Yes that are not stocked
  subassemblies; explode_demand and the worksheet functions pass every item with BOM lines
  and Backflush = Yes (the BOM's full explosion, whatever is stocked).
- Effectivity: a line applies on day d when effective_from <= d <= effective_to (blank = open).
Everything is vectorised with numpy/scipy.sparse, never a Python loop per BOM line or per
transaction. Roll-up and explosion go in MRP's low-level-code order (an item's level is the
longest path below it): rolling up, level 1 first, each item's components are final before it
is rolled; exploding, the highest level first, each item's demand is complete before it is
passed on. So every BOM line is used once (per demand row), however deep the BOM.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from addin.costing.cycles import find_cycles

ELEMENTS = ("material", "labor", "overhead", "conversion")

# What a BOM line says (its Line Type): a component consumed, or an item obtained from the
# parent's completion (a by-product valued at its own standard, or a co-product sharing the
# joint cost). Obtained lines enter the BOM matrix with a negative quantity: they lower the
# parent's roll-up and are received into stock when the parent is flushed (byproducts.py).
COMPONENT, BYPRODUCT, COPRODUCT = "Component", "By-product", "Co-product"
LINE_TYPES = (COMPONENT, BYPRODUCT, COPRODUCT)


class BomCycleError(ValueError):
    """The BOM contains a loop; ``cycles`` lists the items of each loop in order."""

    def __init__(self, cycles: list[list[str]]) -> None:
        self.cycles = cycles
        text = "; ".join(" -> ".join([*c, c[0]]) for c in cycles)
        super().__init__(f"BOM cycle: {text}")


@dataclass(frozen=True)
class ItemIndex:
    """Item codes <-> matrix positions. Codes are the canonical Standard Costs spelling."""

    codes: pd.Index

    @classmethod
    def from_standard_costs(cls, standard_costs: pd.DataFrame) -> ItemIndex:
        return cls(pd.Index(standard_costs["item"].astype(str).to_numpy(), dtype=object))

    def __len__(self) -> int:
        return len(self.codes)

    def positions(self, items: pd.Series | npt.ArrayLike) -> npt.NDArray[np.intp]:
        """Row of each item on Standard Costs. Categorical columns (as parse_inputs gives them)
        are looked up once per category, not once per row."""
        if isinstance(items, pd.Series) and isinstance(items.dtype, pd.CategoricalDtype):
            of_category = self.codes.get_indexer(items.cat.categories.astype(object))
            codes = items.cat.codes.to_numpy()
            pos = np.where(codes >= 0, of_category[codes], -1)
        else:
            pos = self.codes.get_indexer(pd.Index(np.asarray(items, dtype=object)))
        if (pos < 0).any():
            missing = sorted({str(x) for x, p in zip(np.asarray(items), pos, strict=True) if p < 0})
            raise KeyError(f"items not on Standard Costs: {', '.join(missing[:10])}")
        return pos


def active_lines(bom: pd.DataFrame, on: dt.date | pd.Timestamp) -> pd.DataFrame:
    """The BOM lines in effect on day ``on`` (blank effectivity dates are open-ended)."""
    return bom.loc[in_effect(bom, on)]


def in_effect(bom: pd.DataFrame, on: dt.date | pd.Timestamp) -> npt.NDArray[np.bool_]:
    """Mask of the BOM lines in effect on day ``on``."""
    day = pd.Timestamp(on).to_datetime64().astype("datetime64[ns]")
    start = pd.to_datetime(bom["effective_from"]).to_numpy("datetime64[ns]")
    end = pd.to_datetime(bom["effective_to"]).to_numpy("datetime64[ns]")
    return (np.isnat(start) | (start <= day)) & (np.isnat(end) | (end >= day))


def bom_matrix(
    bom: pd.DataFrame, index: ItemIndex, standard_costs: pd.DataFrame | None = None
) -> sp.csr_matrix:
    """A[parent, component] = the line's component units per parent unit (line_quantities,
    with the parents' yield and lot size from ``standard_costs`` when given), summed over
    duplicate lines; negative on a by-product or co-product line (obtained, not used)."""
    n = len(index)
    if len(bom) == 0:
        return sp.csr_matrix((n, n), dtype=np.float64)
    rows = index.positions(bom["parent"])
    cols = index.positions(bom["component"])
    if standard_costs is None:
        quantities = line_quantities(bom)
    else:
        quantities = planned_line_quantities(bom, standard_costs, rows)
    return matrix_of(rows, cols, quantities * line_signs(bom), n)


def planned_line_quantities(
    bom: pd.DataFrame, standard_costs: pd.DataFrame, parents: npt.NDArray[np.intp]
) -> npt.NDArray[np.float64]:
    """line_quantities with each line's parent's Yield % and Lot Size (``parents``: the lines'
    positions on ``standard_costs``); unsigned (line_signs gives the sign)."""
    yields = item_yields(standard_costs)
    line_yield = None if (yields == 1.0).all() else yields[parents]
    return line_quantities(bom, line_yield, item_lot_sizes(standard_costs)[parents])


def line_kinds(bom: pd.DataFrame) -> npt.NDArray[np.int8]:
    """Each line's position in LINE_TYPES (0 component, 1 by-product, 2 co-product); a blank or
    absent Line Type is a component. Categorical columns are read by their codes (cheap)."""
    col = bom.get("line_type")
    if col is None or not len(col):
        return np.zeros(len(bom), dtype=np.int8)
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy()
        categories = list(col.cat.categories)
        if categories == list(LINE_TYPES[: len(categories)]):  # as validation gives it
            return np.maximum(codes, 0).astype(np.int8, copy=False)
        of_category = pd.Index(LINE_TYPES).get_indexer(pd.Index(categories, dtype=object))
        return np.where(codes >= 0, np.maximum(of_category[codes], 0), 0).astype(np.int8)
    kind = pd.Index(LINE_TYPES).get_indexer(pd.Index(col.to_numpy(dtype=object)))
    return np.maximum(kind, 0).astype(np.int8)  # blank (None, NaN): -1, a component


def line_signs(bom: pd.DataFrame) -> npt.NDArray[np.float64]:
    """+1 for a component line, -1 for a by-product or co-product line (obtained, not used)."""
    return np.where(line_kinds(bom) > 0, -1.0, 1.0)


def _numbers(frame: pd.DataFrame, column: str, default: float) -> npt.NDArray[np.float64] | None:
    """A numeric column, blanks as ``default``; None when the frame has no such column."""
    if column not in frame:
        return None
    return pd.to_numeric(frame[column]).fillna(default).to_numpy(np.float64)


def item_yields(standard_costs: pd.DataFrame) -> npt.NDArray[np.float64]:
    """Planned yield per item (fraction; 1 where not given)."""
    y = _numbers(standard_costs, "yield_pct", 1.0)
    return np.ones(len(standard_costs)) if y is None else y


def item_lot_sizes(standard_costs: pd.DataFrame) -> npt.NDArray[np.float64]:
    """Costing lot size per item (units; NaN where not given)."""
    lot = _numbers(standard_costs, "lot_size", np.nan)
    return np.full(len(standard_costs), np.nan) if lot is None else lot


def per_order(bom: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Lines consumed once per production order (Per = Order)."""
    if "per" not in bom:
        return np.zeros(len(bom), dtype=bool)
    return np.asarray(bom["per"].to_numpy(object) == "Order", dtype=bool)


def stock_quantities(bom: pd.DataFrame) -> npt.NDArray[np.float64]:
    """Each line's quantity in the component's unit, scrap included, before the base quantity:
    qty_per x conversion_factor x (1 + scrap_pct). A per-order line's is per order."""
    q = bom["qty_per"].to_numpy(np.float64) * (
        1.0 + pd.to_numeric(bom["scrap_pct"]).fillna(0.0).to_numpy(np.float64)
    )
    factor = _numbers(bom, "conversion_factor", 1.0)
    return q if factor is None else q * factor


def line_quantities(
    bom: pd.DataFrame,
    parent_yield: npt.NDArray[np.float64] | None = None,
    parent_lot: npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.float64]:
    """Component units per parent unit on each line, as the standard counts them: a per-unit
    line qty_per x conversion_factor / base_quantity x (1 + scrap_pct) / yield of its parent;
    a per-order line qty_per x conversion_factor x (1 + scrap_pct) / lot size of its parent
    (NaN without one). ``parent_yield``/``parent_lot``: per line (1 / NaN when None)."""
    q = stock_quantities(bom)
    base = _numbers(bom, "base_quantity", 1.0)
    order = per_order(bom)
    if base is not None:
        q = q / np.where(order, 1.0, base)
    if parent_yield is not None:
        q = q / np.where(order, 1.0, parent_yield)
    if order.any():
        lot = np.full(len(q), np.nan) if parent_lot is None else parent_lot
        q = np.where(order, q / lot, q)
    return q


def matrix_of(
    parents: npt.NDArray[np.intp],
    components: npt.NDArray[np.intp],
    quantities: npt.NDArray[np.float64],
    n: int,
) -> sp.csr_matrix:
    """The n x n BOM matrix from lines given as item positions (duplicates summed)."""
    return sp.csr_matrix((quantities, (parents, components)), shape=(n, n))


def levels(matrix: sp.csr_matrix, codes: pd.Index | None = None) -> npt.NDArray[np.int64]:
    """Low-level code of each item: 0 for items without components, else 1 + max of components.

    Raises BomCycleError (naming the loops when ``codes`` is given) if the BOM has a cycle.
    """
    n = matrix.shape[0]
    structure = (matrix != 0).astype(np.int8).tocsr()
    level = np.zeros(n, dtype=np.int64)
    has_children = np.diff(structure.indptr) > 0
    frontier = has_children.copy()  # items whose level is still rising
    for depth in range(1, n + 2):
        if not frontier.any():
            return level
        level[frontier] = depth
        # a parent rises again when one of its components rose in this step
        frontier = (structure @ frontier.astype(np.int8)) > 0
    raise BomCycleError(find_loops(structure, codes))


def low_level_codes(matrix: sp.csr_matrix) -> npt.NDArray[np.int64]:
    """Each item's low-level code as ERPs number it (SAP, Business Central): 0 for an item no
    BOM line uses (the top), else one below the deepest parent that uses it. The BOM must be
    free of cycles (``levels`` refuses them first)."""
    n = matrix.shape[0]
    uses = (matrix != 0).astype(np.int8).T.tocsr()  # uses[component, parent]
    level = np.zeros(n, dtype=np.int64)
    frontier = np.diff(uses.indptr) > 0  # items some parent uses: their level is still falling
    for depth in range(1, n + 2):
        if not frontier.any():
            break
        level[frontier] = depth
        # a component falls again when one of its parents fell in this step
        frontier = (uses @ frontier.astype(np.int8)) > 0
    return level


def find_loops(structure: sp.csr_matrix, codes: pd.Index | None = None) -> list[list[str]]:
    """Name the loops of a cyclic BOM (item codes, or item numbers without ``codes``): the
    matrix's edges handed to the one cycle finder, :func:`addin.costing.cycles.find_cycles`."""
    edges = structure.tocoo()
    names = np.asarray(codes, dtype=object) if codes is not None else np.arange(structure.shape[0])
    return find_cycles(names[edges.row], names[edges.col])


@dataclass(frozen=True)
class Rollup:
    """Standard cost per unit by element: this level's and rolled up through the BOM."""

    index: ItemIndex
    own: dict[str, npt.NDArray[np.float64]]
    rolled: dict[str, npt.NDArray[np.float64]]
    level: npt.NDArray[np.int64]
    has_bom: npt.NDArray[np.bool_]

    @property
    def total(self) -> npt.NDArray[np.float64]:
        return self.rolled["material"] + self.rolled["conversion"]


def roll_up(
    standard_costs: pd.DataFrame,
    matrix: sp.csr_matrix,
    index: ItemIndex,
    level: npt.NDArray[np.int64] | None = None,
) -> Rollup:
    """Roll standard costs up the BOM given as ``matrix`` (see bom_matrix). ``level``: low-level
    codes to reuse (those of a BOM that holds every line of ``matrix`` order it as well)."""
    lvl = levels(matrix, index.codes) if level is None else level
    own: dict[str, npt.NDArray[np.float64]] = {}
    for e in ELEMENTS:
        col = (
            standard_costs[e]
            if e in standard_costs
            else pd.Series(np.nan, index=standard_costs.index)
        )
        own[e] = pd.to_numeric(col).to_numpy(np.float64)
    own["material"] = np.nan_to_num(own["material"])
    own["conversion"] = np.nan_to_num(own["conversion"])
    # level by level upwards: an item's components (lower levels) are final when it is rolled
    base = np.nan_to_num(np.column_stack([own[e] for e in ELEMENTS]))  # items x elements
    x = base.copy()
    has_bom = np.diff(matrix.indptr) > 0
    blocks = _passing_blocks(matrix, has_bom, lvl)
    for items, rows in reversed(blocks):
        x[items] = base[items] + rows @ x
    rolled = {
        e: x[:, k].copy() if not np.isnan(own[e]).all() else np.full(len(x), np.nan)
        for k, e in enumerate(ELEMENTS)
    }
    return Rollup(index, own, rolled, lvl, has_bom)


DENSE_ROWS = 64  # up to this many demand rows the level-ordered dense pass is used
DENSE_CELLS = 1 << 22  # items x rows per dense block (32 MiB of float64)


def _passing_blocks(
    matrix: sp.csr_matrix, passing: npt.NDArray[np.bool_], level: npt.NDArray[np.int64]
) -> list[tuple[npt.NDArray[np.intp], sp.csr_matrix]]:
    """The BOM rows of the items that pass demand on, one block per low-level code, highest
    level first: (items, their rows of ``matrix``). A block's components all have lower levels."""
    items = np.flatnonzero(passing & (np.diff(matrix.indptr) > 0))
    if len(items) == 0:
        return []
    items = items[np.argsort(-level[items], kind="stable")]
    rows = matrix[items]
    cuts = [0, *(np.flatnonzero(np.diff(level[items])) + 1).tolist(), len(items)]
    return [(items[a:b], rows[a:b]) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


def explode(
    demand: sp.csr_matrix,
    matrix: sp.csr_matrix,
    exploded: npt.NDArray[np.bool_],
    level: npt.NDArray[np.int64] | None = None,
) -> sp.csr_matrix:
    """Leaf consumption for each demand row: rows x items, in component units.

    ``demand`` is rows x items (quantity of each item to make). The demanded items are always
    exploded one level; below that, items where ``exploded`` is True pass their demand on to
    their own components and everything else is consumed as a leaf. ``level`` is the low-level
    code of each item (``levels(matrix)``; computed when not given). To explode several demand
    lists through one BOM, build an :class:`Explosion` once.
    """
    return Explosion(matrix, exploded, level)(demand)


class Explosion:
    """A BOM prepared for exploding demand, in MRP's low-level-code order.

    Items are taken from the highest level down, so each item's demand is complete when it is
    passed on and every BOM line is used once per demand row. Few demand rows (a month's days)
    run as dense columns; many sparse rows (one per source record) run level by level on
    sparse rows.
    """

    def __init__(
        self,
        matrix: sp.csr_matrix,
        exploded: npt.NDArray[np.bool_],
        level: npt.NDArray[np.int64] | None = None,
    ) -> None:
        self.matrix = matrix
        self.exploded = exploded
        self.level = levels(matrix) if level is None else level
        self._blocks: list[tuple[npt.NDArray[np.intp], sp.csr_matrix]] | None = None
        self._leaves = np.flatnonzero(~exploded)

    @property
    def blocks(self) -> list[tuple[npt.NDArray[np.intp], sp.csr_matrix]]:
        if self._blocks is None:
            self._blocks = _passing_blocks(self.matrix, self.exploded, self.level)
        return self._blocks

    def below(self, first: sp.csr_matrix) -> sp.csr_matrix:
        """Leaf consumption (rows x items) for component demand ``first`` (rows x items), already
        one level below what was made: items that pass demand on are exploded, the others are
        consumed as they are."""
        first = sp.csr_matrix(first)
        n = self.matrix.shape[0]
        passed = (first @ sp.diags(self.exploded.astype(np.float64), shape=(n, n))).tocsr()
        passed.eliminate_zeros()
        kept = (first @ sp.diags((~self.exploded).astype(np.float64), shape=(n, n))).tocsr()
        kept.eliminate_zeros()
        return kept if passed.nnz == 0 else (kept + self(passed)).tocsr()

    def __call__(self, demand: sp.csr_matrix) -> sp.csr_matrix:
        """Leaf consumption (rows x items) for ``demand`` (rows x items); see explode()."""
        if demand.shape[0] > DENSE_ROWS:
            return _explode_sparse(demand, self.matrix, self.exploded)
        n = self.matrix.shape[0]
        demand = sp.csr_matrix(demand)
        demanded = np.unique(demand.indices)
        top = self.matrix[demanded]  # the demanded items' own lines: always exploded once
        chunk = max(1, DENSE_CELLS // max(n, 1))
        parts = []
        for r0 in range(0, demand.shape[0], chunk):
            wanted = demand[r0 : r0 + chunk][:, demanded].T.toarray()  # demanded x rows
            gross = np.asarray(top.T @ wanted)  # items x rows, one level down
            for items, rows in self.blocks:
                gross += rows.T @ gross[items]
            at_leaves = gross[self._leaves].T  # rows x leaves; exploded items passed theirs on
            row, k = np.nonzero(at_leaves)
            indptr = np.zeros(at_leaves.shape[0] + 1, dtype=np.int64)
            np.cumsum(np.bincount(row, minlength=at_leaves.shape[0]), out=indptr[1:])
            parts.append(
                sp.csr_matrix(
                    (at_leaves[row, k], self._leaves[k], indptr), shape=(at_leaves.shape[0], n)
                )
            )
        return parts[0] if len(parts) == 1 else sp.vstack(parts, format="csr")


def _explode_sparse(
    demand: sp.csr_matrix, matrix: sp.csr_matrix, exploded: npt.NDArray[np.bool_]
) -> sp.csr_matrix:
    """explode() for many sparse demand rows: x_{k+1} = x_k @ A_pass until nothing is left."""
    n = matrix.shape[0]
    # rows of A kept only for items that pass their demand on: x_{k+1} = x_k @ A_pass
    a_pass = (sp.diags(exploded.astype(np.float64), shape=(n, n), format="csr") @ matrix).tocsr()
    leaf = (~exploded).astype(np.float64)
    x = (demand @ matrix).tocsr()
    reached = x
    for _ in range(n + 1):
        x = (x @ a_pass).tocsr()
        if x.nnz == 0:
            break
        reached = reached + x
    consumed = reached.multiply(leaf).tocsr()  # demand that stops at a leaf is consumed there
    consumed.eliminate_zeros()
    return consumed


def explode_demand(
    bom: pd.DataFrame,
    standard_costs: pd.DataFrame,
    demand: pd.DataFrame,
    on: dt.date | None = None,
) -> pd.DataFrame:
    """Total leaf consumption for a demand list: DataFrame[item, quantity] -> [component, quantity].

    Uses the BOM lines in effect on ``on`` (all lines when None). Leaves are items without BOM
    lines and items marked Backflush = No. Quantities in component units.
    """
    index = ItemIndex.from_standard_costs(standard_costs)
    lines = bom if on is None else active_lines(bom, on)
    a = bom_matrix(lines, index, standard_costs)
    has_bom = np.diff(a.indptr) > 0
    flushed = standard_costs["backflush"].astype(bool).to_numpy()
    d = sp.csr_matrix(
        (
            demand["quantity"].to_numpy(np.float64),
            (np.zeros(len(demand), dtype=np.intp), index.positions(demand["item"])),
        ),
        shape=(1, len(index)),
    )
    c = explode(d, a, has_bom & flushed).tocoo()
    return pd.DataFrame({"component": index.codes[c.col].to_numpy(), "quantity": c.data})
