"""The plant prepared for one month-end: items, standards per BOM window, stock roles.

Built once by ``Plant.of(inputs)`` and read-only afterwards; every stage of the run and the
backflush detail read it, none changes it.

- Standards for the period are the ones in force at Period Start: rolled up with the BOM in
  effect on Period Start (the first window; backflush-domain.md section 7). A BOM version that
  starts during the period does not restate them. The period is split where BOM effectivity
  changes; each window has its own BOM matrix, roll-up and explosion, used to flush
  completions dated in it (the difference to the period standard is a usage variance).
- Where an item is stocked depends on the trigger: raw materials in MIP when purchases are
  recorded (V1, V2); finished goods and subassemblies completed for stock in FG at full
  standard (V1, V3) or in MIP at material standard (V2: conversion is applied at sale);
  nothing in V4.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from addin.costing import bom as bomlib
from addin.costing import byproducts
from addin.costing.model import ROLES, MonthEndInputs, Trigger
from addin.costing.postings import Postings


class FlushStandards(NamedTuple):
    """Standards per unit (arrays over items) used by one BOM window's flush."""

    material: npt.NDArray[np.float64]  # an item made or sold: its flushed material per unit
    conversion: npt.NDArray[np.float64]  # ... and its conversion applied per unit
    leaf_material: npt.NDArray[np.float64]  # an item consumed as a component: value per unit


class Window(NamedTuple):
    """One stretch of the period with the same BOM lines in effect."""

    start: np.datetime64
    matrix: sp.csr_matrix  # A[parent, component] = quantity per parent unit incl. scrap
    rollup: bomlib.Rollup
    explosion: bomlib.Explosion
    standards: FlushStandards  # the window's roll-up, as flushed
    carried: npt.NDArray[np.bool_]  # made items the flush takes out of stock (see _carried)
    cut: FlushStandards | None  # standards with the carried items cut out (None: none carried)


class StockRoles(NamedTuple):
    """Where each item is carried under the trigger, and at what unit value."""

    role: npt.NDArray[np.object_]  # "MIP", "FG" or "" (not carried)
    code: npt.NDArray[np.int64]  # the same as a code in ROLES; -1: not carried
    unit_value: npt.NDArray[np.float64]  # per unit, in the period's currency


@dataclass(frozen=True)
class Plant:
    """Items, standards and BOM windows of one month-end (arrays in Standard Costs order)."""

    inputs: MonthEndInputs
    sc: pd.DataFrame  # Standard Costs, index 0..n-1
    index: bomlib.ItemIndex
    codes: npt.NDArray[np.object_]
    types: npt.NDArray[np.object_]
    flushed: npt.NDArray[np.bool_]  # Backflush = Yes
    windows: tuple[Window, ...]
    stock: StockRoles
    post: Postings  # builds this run's posting frames

    @classmethod
    def of(cls, inputs: MonthEndInputs) -> Plant:
        """Prepare the plant. Raises bom.BomCycleError when the BOM has a cycle."""
        sc = inputs.standard_costs.reset_index(drop=True)
        index = bomlib.ItemIndex.from_standard_costs(sc)
        codes = index.codes.to_numpy()
        types = sc["item_type"].astype(str).to_numpy()
        flushed = sc["backflush"].astype(bool).to_numpy()
        matrices = _window_matrices(inputs, index)
        obtaining = bool(len(inputs.bom)) and bool((bomlib.line_kinds(inputs.bom) > 0).any())
        co = byproducts.co_lines(inputs, index) if obtaining else None
        if co is not None:  # co-products' standards derived from their parents' joint cost
            sc = byproducts.with_coproduct_standards(sc, co, matrices[0][1], index)
        rollups = [bomlib.roll_up(sc, a, index) for _, a in matrices]
        if obtaining:
            byproducts.refuse_negative_costs(inputs, rollups, index)
        period = rollups[0].rolled  # the period standard: the BOM in effect on Period Start
        stock = _stock_roles(inputs.settings.trigger, types, period)
        total = period["material"] + period["conversion"]
        windows = tuple(
            _window(start, a, r, index, types, flushed, stock, total)
            for (start, a), r in zip(matrices, rollups, strict=True)
        )
        return cls(inputs, sc, index, codes, types, flushed, windows, stock, Postings(codes))

    # ---- the period standard (BOM in effect on Period Start) --------------------------
    @property
    def period(self) -> bomlib.Rollup:
        return self.windows[0].rollup

    @property
    def material(self) -> npt.NDArray[np.float64]:
        return self.period.rolled["material"]

    @property
    def conversion(self) -> npt.NDArray[np.float64]:
        return self.period.rolled["conversion"]

    @property
    def total(self) -> npt.NDArray[np.float64]:
        return self.material + self.conversion

    # ---- the period and its windows ------------------------------------------------------
    @property
    def trigger(self) -> Trigger:
        return self.inputs.settings.trigger

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(self.inputs.settings.period_start)

    @property
    def end(self) -> pd.Timestamp:
        return pd.Timestamp(self.inputs.settings.period_end)

    @property
    def window_starts(self) -> npt.NDArray[np.datetime64]:
        return np.array([w.start for w in self.windows], dtype="datetime64[ns]")

    def window_of(self, dates: pd.Series | npt.NDArray[np.datetime64]) -> npt.NDArray[np.intp]:
        """The window of each date."""
        d = (
            dates.to_numpy(dtype="datetime64[ns]")
            if isinstance(dates, pd.Series)
            else np.asarray(dates, dtype="datetime64[ns]")
        )
        return np.searchsorted(self.window_starts, d, side="right") - 1

    def flush_standards(self, w: int, leaves: npt.NDArray[np.intp]) -> FlushStandards:
        """Standards per unit used when window ``w``'s BOM is flushed down to ``leaves`` (the
        item positions consumed): the window's roll-up, unless a leaf is a made item carried
        in stock (see _carried), which is then taken out at the value it is carried at."""
        window = self.windows[w]
        if window.cut is None or not window.carried[leaves].any():
            return window.standards
        return window.cut

    @cached_property
    def obtained(self) -> npt.NDArray[np.bool_]:
        """Items on a by-product or co-product line: received into stock when their parent is
        flushed (byproducts.py)."""
        return byproducts.obtained_items(self.inputs.bom, self.index)

    @property
    def raw(self) -> npt.NDArray[np.bool_]:
        return self.types == "Raw"

    @property
    def phantom(self) -> npt.NDArray[np.bool_]:
        return self.types == "Phantom"


def _window_matrices(
    inputs: MonthEndInputs, index: bomlib.ItemIndex
) -> list[tuple[np.datetime64, sp.csr_matrix]]:
    """Split the period where BOM effectivity changes: each window's start and BOM matrix."""
    bom, n = inputs.bom, len(index)
    start = pd.Timestamp(inputs.settings.period_start)
    end = pd.Timestamp(inputs.settings.period_end)
    if not len(bom):
        return [(start.to_datetime64(), sp.csr_matrix((n, n), dtype=np.float64))]
    parents = index.positions(bom["parent"])
    components = index.positions(bom["component"])
    quantities = bomlib.line_quantities(bom) * bomlib.line_signs(bom)  # obtained lines < 0
    starts = pd.to_datetime(bom["effective_from"]).to_numpy("datetime64[ns]")
    ends = pd.to_datetime(bom["effective_to"]).to_numpy("datetime64[ns]")
    changes = np.concatenate([starts, ends + np.timedelta64(1, "D")])
    bounds = {pd.Timestamp(d) for d in np.unique(changes[~np.isnat(changes)])}
    window_starts = np.array(
        sorted({start, *(d for d in bounds if start < d <= end)}), dtype="datetime64[ns]"
    )
    out = []
    for ws in window_starts:
        keep = bomlib.in_effect(bom, pd.Timestamp(ws))
        if keep.all():
            a = bomlib.matrix_of(parents, components, quantities, n)
        else:
            a = bomlib.matrix_of(parents[keep], components[keep], quantities[keep], n)
        out.append((ws, a))
    return out


def _stock_roles(
    trigger: Trigger, types: npt.NDArray[np.object_], period: dict[str, npt.NDArray[np.float64]]
) -> StockRoles:
    """Where each item is carried, and at what unit value, under this trigger."""
    material = period["material"]
    total = material + period["conversion"]
    raw = types == "Raw"
    made = np.isin(types, ["Finished", "Subassembly"])
    role = np.full(len(types), "", dtype=object)
    unit = np.zeros(len(types))
    if trigger.records_purchases:
        role[raw] = "MIP"
        unit[raw] = material[raw]
    if trigger.records_finished_goods:
        role[made] = "FG"
        unit[made] = total[made]
    elif trigger is Trigger.PURCHASE_SALE:
        role[made] = "MIP"
        unit[made] = material[made]
    mip, fg = ROLES.index("MIP"), ROLES.index("FG")
    code = np.where(role == "MIP", mip, np.where(role == "FG", fg, -1))
    return StockRoles(role, code, unit)


def _window(
    start: np.datetime64,
    a: sp.csr_matrix,
    r: bomlib.Rollup,
    index: bomlib.ItemIndex,
    types: npt.NDArray[np.object_],
    flushed: npt.NDArray[np.bool_],
    stock: StockRoles,
    period_total: npt.NDArray[np.float64],
) -> Window:
    """One window prepared for flushing: its explosion and its flush standards.

    Made items (Finished, Subassembly) carried in stock that this window's flush takes out of
    stock rather than blowing through (no BOM lines in effect, or Backflush = No) are
    *carried*: their parents' flushed material counts them at the value they are carried at,
    and their parents' conversion no longer includes theirs (applied when they were
    completed)."""
    exploded = r.has_bom & flushed
    made = np.isin(types, ["Finished", "Subassembly"])
    carried = made & (stock.code >= 0) & ~exploded
    material = r.rolled["material"]
    plain = FlushStandards(material, r.rolled["conversion"], material)
    cut = _cut_standards(a, r, index, carried, stock, period_total) if carried.any() else None
    explosion = bomlib.Explosion(a, exploded, r.level)
    return Window(start, a, r, explosion, plain, carried, cut)


def _cut_standards(
    a: sp.csr_matrix,
    r: bomlib.Rollup,
    index: bomlib.ItemIndex,
    carried: npt.NDArray[np.bool_],
    stock: StockRoles,
    period_total: npt.NDArray[np.float64],
) -> FlushStandards:
    """The window's standards with the carried items valued as carried, not rolled up."""
    sub = pd.DataFrame(
        {
            "material": np.where(carried, stock.unit_value, r.own["material"]),
            "conversion": np.where(
                carried, period_total - stock.unit_value, np.nan_to_num(r.own["conversion"])
            ),
        }
    )
    cut = (sp.diags((~carried).astype(np.float64)) @ a).tocsr()
    cut.eliminate_zeros()
    leaf = bomlib.roll_up(sub, cut, index, r.level)  # fewer lines, same order
    own_m, own_c = np.nan_to_num(r.own["material"]), np.nan_to_num(r.own["conversion"])
    return FlushStandards(
        own_m + a @ leaf.rolled["material"],
        own_c + a @ leaf.rolled["conversion"],
        leaf.rolled["material"],
    )
