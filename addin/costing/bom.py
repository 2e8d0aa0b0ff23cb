"""Bills of materials: standard cost roll-up and multi-level explosion (backflush quantities).

Rules (backflush-domain.md, sections 1 and 4, and the README's "How the engine flushes"):
- A BOM line says: one unit of ``parent`` consumes ``qty_per x (1 + scrap_pct)`` of ``component``.
- Roll-up: rolled element(parent) = own element(parent) + sum(qty x (1 + scrap) x rolled
  element(component)), for material, conversion, and labour/overhead when they are split.
- Explosion flushes through every item that has BOM lines (subassemblies and phantoms alike)
  down to *leaves*: items with no BOM lines, or items marked Backflush = No (those are consumed
  as a whole and are not flushed: they are reported apart).
- Effectivity: a line applies on day d when effective_from <= d <= effective_to (blank = open).
Everything is vectorised with scipy.sparse: one sparse product per BOM level, never a Python
loop per BOM line or per transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

ELEMENTS = ("material", "labor", "overhead", "conversion")


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
        pos = self.codes.get_indexer(pd.Index(np.asarray(items, dtype=object)))
        if (pos < 0).any():
            missing = sorted({str(x) for x, p in zip(np.asarray(items), pos, strict=True) if p < 0})
            raise KeyError(f"items not on Standard Costs: {', '.join(missing[:10])}")
        return pos


def active_lines(bom: pd.DataFrame, on: dt.date | pd.Timestamp) -> pd.DataFrame:
    """The BOM lines in effect on day ``on`` (blank effectivity dates are open-ended)."""
    day = pd.Timestamp(on)
    start = pd.to_datetime(bom["effective_from"])
    end = pd.to_datetime(bom["effective_to"])
    keep = (start.isna() | (start <= day)) & (end.isna() | (end >= day))
    return bom.loc[keep.to_numpy()]


def bom_matrix(bom: pd.DataFrame, index: ItemIndex) -> sp.csr_matrix:
    """A[parent, component] = qty_per x (1 + scrap_pct), summed over duplicate lines."""
    n = len(index)
    if len(bom) == 0:
        return sp.csr_matrix((n, n), dtype=np.float64)
    rows = index.positions(bom["parent"])
    cols = index.positions(bom["component"])
    vals = bom["qty_per"].to_numpy(np.float64) * (
        1.0 + pd.to_numeric(bom["scrap_pct"]).fillna(0.0).to_numpy(np.float64)
    )
    return sp.csr_matrix((vals, (rows, cols)), shape=(n, n))


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


def find_loops(structure: sp.csr_matrix, codes: pd.Index | None = None) -> list[list[str]]:
    """Name the loops of a cyclic BOM: prune items that cannot be on a loop, then walk."""
    n = structure.shape[0]
    alive = np.ones(n, dtype=bool)
    s = structure.tocsr()
    t = s.T.tocsr()
    while True:  # drop items with no live components or no live parents
        out_deg = s @ alive.astype(np.int64)
        in_deg = t @ alive.astype(np.int64)
        drop = alive & ((out_deg == 0) | (in_deg == 0))
        if not drop.any():
            break
        alive &= ~drop
    loops: list[list[str]] = []
    seen = np.zeros(n, dtype=bool)
    for start in np.flatnonzero(alive):
        if seen[start]:
            continue
        path: list[int] = []
        pos: dict[int, int] = {}
        node = int(start)
        while node not in pos and not seen[node]:
            pos[node] = len(path)
            path.append(node)
            nxt = [int(c) for c in s.indices[s.indptr[node] : s.indptr[node + 1]] if alive[c]]
            node = nxt[0]
        if node in pos:
            loop = path[pos[node] :]
            loops.append([str(codes[i]) if codes is not None else str(i) for i in loop])
        seen[path] = True
    return loops


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


def roll_up(standard_costs: pd.DataFrame, matrix: sp.csr_matrix, index: ItemIndex) -> Rollup:
    """Roll standard costs up the BOM given as ``matrix`` (see bom_matrix)."""
    lvl = levels(matrix, index.codes)
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
    rolled = {}
    depth = int(lvl.max()) if len(lvl) else 0
    for e, v in own.items():
        base = np.nan_to_num(v)
        x = base.copy()
        for _ in range(depth):
            x = base + matrix @ x
        rolled[e] = x if not np.isnan(v).all() else np.full_like(v, np.nan)
    return Rollup(index, own, rolled, lvl, np.diff(matrix.indptr) > 0)


def explode(
    demand: sp.csr_matrix,
    matrix: sp.csr_matrix,
    exploded: npt.NDArray[np.bool_],
) -> sp.csr_matrix:
    """Leaf consumption for each demand row: rows x items, in component units.

    ``demand`` is rows x items (quantity of each item to make). The demanded items are always
    exploded one level; below that, items where ``exploded`` is True pass their demand on to
    their own components and everything else is consumed as a leaf.
    """
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
    a = bom_matrix(lines, index)
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
