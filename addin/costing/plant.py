"""The plant prepared for one month-end: items, standards per BOM window, stock roles.

Built once by ``Plant.of(inputs)`` and read-only afterwards; every stage of the run and the
backflush detail read it, none changes it.

- Standards for the period are the ones in force at Period Start: rolled up with the BOM in
  effect on Period Start (the first window; backflush-domain.md section 7). A BOM version that
  starts during the period does not restate them. A dated standard change (Standard Costs
  rows with a later Effective From) starts an *epoch*: from its date the standards are the
  changed ones, rolled up with the BOM in effect that day, and stock on hand is revalued.
  The period is split where BOM effectivity changes (and on dated standard changes); each
  window has its own BOM matrix, roll-up and explosion, used to flush completions dated in it
  (the difference to the standard in force is a usage variance).
- Where an item is stocked depends on the trigger: raw materials in MIP when purchases are
  recorded (V1, V2); finished goods and subassemblies completed for stock in FG at full
  standard (V1, V3) or in MIP at material standard (V2: conversion is applied at sale);
  nothing in V4.
- Stocked subassemblies vs phantoms (backflush-domain.md section 8): where made items are
  carried (V1, V2, V3), a parent's flush takes its Subassembly and Finished components from
  stock at the value they are carried at and does not flush their components again (their
  own completion did); a Phantom is never stocked and is blown through. In V4 nothing is
  carried and a sale flushes through every level.
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
from addin.costing.orders import PerOrder, items_with_orders, window_orders
from addin.costing.postings import Postings

MADE = ("Finished", "Subassembly")
"""Item types that are stocked when completed (a Phantom is made but never stocked)."""


class FlushStandards(NamedTuple):
    """Standards per unit (arrays over items) used by one BOM window's flush."""

    material: npt.NDArray[np.float64]  # an item made or sold: its flushed material per unit
    conversion: npt.NDArray[np.float64]  # ... and its conversion applied per unit
    leaf_material: npt.NDArray[np.float64]  # an item consumed as a component: value per unit
    # ... of its conversion, the labour per unit (None: labour and overhead not kept apart)
    labor: npt.NDArray[np.float64] | None = None


class Window(NamedTuple):
    """One stretch of the period with the same BOM lines in effect."""

    start: np.datetime64
    matrix: sp.csr_matrix  # A[parent, component] = quantity per parent unit incl. scrap
    rollup: bomlib.Rollup
    explosion: bomlib.Explosion
    standards: FlushStandards  # the window's roll-up, as flushed
    carried: npt.NDArray[np.bool_]  # made items the flush takes out of stock (see _window)
    cut: FlushStandards | None  # standards with the carried items cut out (None: none carried)
    epoch: int = 0  # the standards in force in this window (Plant.epochs)
    orders: PerOrder | None = None  # its per-order lines split out (None: it has none)


class Epoch(NamedTuple):
    """A stretch of the period with the same standards in force: Period Start, then one per
    dated standard change."""

    start: np.datetime64
    standard_costs: pd.DataFrame  # Standard Costs with the changes up to ``start`` applied
    rolled: dict[str, npt.NDArray[np.float64]]  # the standards in force, per unit
    stock: StockRoles  # where items are carried and at what unit value from ``start``

    @property
    def material(self) -> npt.NDArray[np.float64]:
        return self.rolled["material"]

    @property
    def conversion(self) -> npt.NDArray[np.float64]:
        return self.rolled["conversion"]

    @property
    def total(self) -> npt.NDArray[np.float64]:
        return self.rolled["material"] + self.rolled["conversion"]

    @property
    def labor(self) -> npt.NDArray[np.float64]:
        """Rolled-up labour per unit (0 where labour and overhead are not kept apart)."""
        return np.nan_to_num(self.rolled["labor"])


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
    epochs: tuple[Epoch, ...]  # the standards in force: Period Start, then each dated change
    post: Postings  # builds this run's posting frames
    # labour and overhead kept apart on Standard Costs (every item with a conversion standard
    # splits it): conversion allocated is posted per element (kinds "labor" and "overhead")
    by_element: bool = False

    @classmethod
    def of(cls, inputs: MonthEndInputs) -> Plant:
        """Prepare the plant. Raises bom.BomCycleError when the BOM has a cycle."""
        sc = inputs.standard_costs.reset_index(drop=True)
        index = bomlib.ItemIndex.from_standard_costs(sc)
        codes = index.codes.to_numpy()
        types = sc["item_type"].astype(str).to_numpy()
        flushed = sc["backflush"].astype(bool).to_numpy()
        changes = _epoch_standards(inputs, sc, index)
        matrices = _window_matrices(inputs, index, [d for d, _ in changes[1:]])
        obtaining = bool(len(inputs.bom)) and bool((bomlib.line_kinds(inputs.bom) > 0).any())
        if obtaining:  # co-products' standards derived from their parents' joint cost
            changes = _with_coproducts(inputs, index, changes, matrices[0][1])
            sc = changes[0][1]
        starts = np.array([d for d, _ in changes], dtype="datetime64[ns]")
        epoch_of = np.searchsorted(starts, [ws for ws, _ in matrices], side="right") - 1
        rollups = [
            bomlib.roll_up(changes[e][1], a, index)
            for (_, a), e in zip(matrices, epoch_of.tolist(), strict=True)
        ]
        if obtaining:
            byproducts.refuse_negative_costs(inputs, rollups, index)
        firsts = [ws for ws, _ in matrices]  # each epoch starts a window
        trigger = inputs.settings.trigger
        epochs = tuple(
            _epoch(trigger, types, day, table, rollups[firsts.index(day)]) for day, table in changes
        )
        windows = tuple(
            _window(start, a, r, index, types, flushed, epochs[e])._replace(epoch=e)
            for (start, a), r, e in zip(matrices, rollups, epoch_of.tolist(), strict=True)
        )
        if bomlib.per_order(inputs.bom).any():
            orders = _orders(inputs, index, [start for start, _ in matrices])
            windows = tuple(w._replace(orders=o) for w, o in zip(windows, orders, strict=True))
        split = standards_split(inputs)
        if split:
            windows = tuple(w._replace(standards=_with_labor(w)) for w in windows)
        return cls(
            inputs, sc, index, codes, types, flushed, windows, epochs, Postings(codes), split
        )

    # ---- the period standard (BOM in effect on Period Start) --------------------------
    @property
    def period(self) -> bomlib.Rollup:
        return self.windows[0].rollup

    @property
    def stock(self) -> StockRoles:
        """Where items are carried, at the standards in force at Period Start."""
        return self.epochs[0].stock

    @property
    def closing(self) -> Epoch:
        """The standards in force at Period End (the last dated change, else Period Start's)."""
        return self.epochs[-1]

    def epoch_of(self, dates: pd.Series | npt.NDArray[np.datetime64]) -> npt.NDArray[np.intp]:
        """The epoch (standards in force) of each date."""
        d = _days(dates)
        starts = np.array([e.start for e in self.epochs], dtype="datetime64[ns]")
        return np.searchsorted(starts, d, side="right") - 1

    def standard_on(
        self, dates: pd.Series | npt.NDArray[np.datetime64], pos: npt.NDArray[np.intp], what: str
    ) -> npt.NDArray[np.float64]:
        """Per unit, the standard in force on each date for the item at ``pos``: ``what`` is
        "material", "conversion", "labor", "total" or "unit_value" (the value it is carried at)."""

        def of(e: Epoch) -> npt.NDArray[np.float64]:
            return e.stock.unit_value if what == "unit_value" else getattr(e, what)

        if len(self.epochs) == 1:
            return of(self.epochs[0])[pos]
        table = np.stack([of(e) for e in self.epochs])
        return table[self.epoch_of(dates), pos]

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
        return np.searchsorted(self.window_starts, _days(dates), side="right") - 1

    def flush_standards(self, w: int, leaves: npt.NDArray[np.intp]) -> FlushStandards:
        """Standards per unit used when window ``w``'s BOM is flushed down to ``leaves`` (the
        item positions consumed): the window's roll-up, unless a leaf is a made item carried
        in stock (see _window), which is then taken out at the value it is carried at."""
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
    def has_orders(self) -> bool:
        """Some BOM window has per-order lines."""
        return any(w.orders is not None for w in self.windows)

    @property
    def orders_of(self) -> npt.NDArray[np.bool_]:
        """Items with per-order BOM lines in some window."""
        return items_with_orders([w.orders for w in self.windows], len(self.codes))

    @property
    def raw(self) -> npt.NDArray[np.bool_]:
        return self.types == "Raw"

    @property
    def phantom(self) -> npt.NDArray[np.bool_]:
        return self.types == "Phantom"


def standards_split(inputs: MonthEndInputs) -> bool:
    """Labour and overhead are kept apart on Standard Costs: some row gives Labor or Overhead
    and every row with a conversion standard (dated changes too) gives them."""
    frames = [inputs.standard_costs, inputs.standard_changes]
    frames = [f for f in frames if len(f) and "labor" in f]
    if not frames:
        return False
    labor = np.concatenate([pd.to_numeric(f["labor"]).to_numpy(np.float64) for f in frames])
    conversion = np.concatenate(
        [pd.to_numeric(f["conversion"]).to_numpy(np.float64) for f in frames]
    )
    given = ~np.isnan(labor)
    return bool(given.any() and not (np.nan_to_num(conversion) != 0)[~given].any())


def _with_labor(w: Window) -> FlushStandards:
    """The window's plain standards with their labour per unit."""
    return w.standards._replace(labor=np.nan_to_num(w.rollup.rolled["labor"]))


def _days(dates: pd.Series | npt.NDArray[np.datetime64]) -> npt.NDArray[np.datetime64]:
    if isinstance(dates, pd.Series):
        return dates.to_numpy(dtype="datetime64[ns]")
    return np.asarray(dates, dtype="datetime64[ns]")


def _epoch_standards(
    inputs: MonthEndInputs, sc: pd.DataFrame, index: bomlib.ItemIndex
) -> list[tuple[np.datetime64, pd.DataFrame]]:
    """Period Start's Standard Costs, then for each date with dated changes in the period the
    table with every change up to that date applied (cost elements only)."""
    start = pd.Timestamp(inputs.settings.period_start).to_datetime64()
    out = [(start.astype("datetime64[ns]"), sc)]
    ch = inputs.standard_changes
    if not len(ch):
        return out
    when = pd.to_datetime(ch["effective_from"]).to_numpy("datetime64[ns]")
    end = pd.Timestamp(inputs.settings.period_end).to_datetime64()
    keep = (when > start) & (when <= end)
    ch, when = ch[keep], when[keep]
    table = sc
    for day in np.unique(when):
        rows = ch[when == day]
        table = table.copy()
        pos = index.positions(rows["item"].astype(str))
        for e in ("material", "labor", "overhead", "conversion"):
            table.loc[pos, e] = rows[e].to_numpy()
        out.append((day, table))
    return out


def _with_coproducts(
    inputs: MonthEndInputs,
    index: bomlib.ItemIndex,
    changes: list[tuple[np.datetime64, pd.DataFrame]],
    matrix: sp.csr_matrix,
) -> list[tuple[np.datetime64, pd.DataFrame]]:
    """Each epoch's Standard Costs with the co-products' standards derived from their parents'
    joint cost (byproducts.py), through ``matrix``: the BOM on Period Start."""
    co = byproducts.co_lines(inputs, index)
    if co is None:
        return changes
    return [(d, byproducts.with_coproduct_standards(t, co, matrix, index)) for d, t in changes]


def _epoch(
    trigger: Trigger,
    types: npt.NDArray[np.object_],
    start: np.datetime64,
    table: pd.DataFrame,
    rollup: bomlib.Rollup,
) -> Epoch:
    """The standards in force from ``start``: ``table`` rolled up with the BOM of that day."""
    rolled = rollup.rolled
    return Epoch(start, table, rolled, _stock_roles(trigger, types, rolled))


def _window_matrices(
    inputs: MonthEndInputs, index: bomlib.ItemIndex, more: list[np.datetime64] | None = None
) -> list[tuple[np.datetime64, sp.csr_matrix]]:
    """Split the period where BOM effectivity changes (and on the dates in ``more``): each
    window's start and BOM matrix."""
    bom, n = inputs.bom, len(index)
    start = pd.Timestamp(inputs.settings.period_start)
    end = pd.Timestamp(inputs.settings.period_end)
    extra = {pd.Timestamp(d) for d in more or []}
    if not len(bom):
        starts = sorted({start, *extra})
        a = sp.csr_matrix((n, n), dtype=np.float64)
        return [(pd.Timestamp(d).to_datetime64().astype("datetime64[ns]"), a) for d in starts]
    parents = index.positions(bom["parent"])
    components = index.positions(bom["component"])
    quantities = _line_quantities(inputs, parents)
    starts = pd.to_datetime(bom["effective_from"]).to_numpy("datetime64[ns]")
    ends = pd.to_datetime(bom["effective_to"]).to_numpy("datetime64[ns]")
    changes = np.concatenate([starts, ends + np.timedelta64(1, "D")])
    bounds = {pd.Timestamp(d) for d in np.unique(changes[~np.isnat(changes)])}
    window_starts = np.array(
        sorted({start, *extra, *(d for d in bounds if start < d <= end)}), dtype="datetime64[ns]"
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


def _line_quantities(
    inputs: MonthEndInputs, parents: npt.NDArray[np.intp]
) -> npt.NDArray[np.float64]:
    """Each BOM line's component units per parent unit (bom.line_quantities), with its
    parent's planned yield and costing lot size; negative on a by-product or co-product line
    (bom.line_signs: obtained, not used)."""
    quantities = bomlib.planned_line_quantities(inputs.bom, inputs.standard_costs, parents)
    return quantities * bomlib.line_signs(inputs.bom)


def _orders(
    inputs: MonthEndInputs, index: bomlib.ItemIndex, starts: list[np.datetime64]
) -> list[PerOrder | None]:
    """Each window's per-order split (orders.window_orders) of the BOM lines in effect."""
    bom = inputs.bom
    parents = index.positions(bom["parent"])
    components = index.positions(bom["component"])
    quantities = _line_quantities(inputs, parents)
    lots = bomlib.item_lot_sizes(inputs.standard_costs.reset_index(drop=True))
    return [
        window_orders(
            bom, parents, components, quantities, lots, bomlib.in_effect(bom, pd.Timestamp(ws))
        )
        for ws in starts
    ]


def _stock_roles(
    trigger: Trigger, types: npt.NDArray[np.object_], period: dict[str, npt.NDArray[np.float64]]
) -> StockRoles:
    """Where each item is carried, and at what unit value, under this trigger."""
    material = period["material"]
    total = material + period["conversion"]
    raw = types == "Raw"
    made = np.isin(types, MADE)
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
    epoch: Epoch,
) -> Window:
    """One window prepared for flushing: its explosion and its flush standards.

    Made items (Finished, Subassembly) carried in stock under the trigger (V1, V2, V3) are
    *carried*: stocked items, completed on their own, which their parents' flush takes out of
    stock rather than blowing through (backflush-domain.md section 8). Their parents' flushed
    material counts them at the value they are carried at, and their parents' conversion no
    longer includes theirs (applied when they were completed). Phantoms, and every made item
    when nothing is carried (V4), are blown through: their components are flushed."""
    stock, period_total = epoch.stock, epoch.total
    carried = np.isin(types, MADE) & (stock.code >= 0)
    exploded = r.has_bom & flushed & ~carried
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
    """The window's standards with the carried items valued as carried, not rolled up (their
    labour: the share of their rolled labour in the conversion not yet in their value)."""
    own_l = np.nan_to_num(r.own["labor"])
    sub = pd.DataFrame(
        {
            "material": np.where(carried, stock.unit_value, r.own["material"]),
            "conversion": np.where(
                carried, period_total - stock.unit_value, np.nan_to_num(r.own["conversion"])
            ),
            "labor": np.where(carried, _carried_labor(r, period_total - stock.unit_value), own_l),
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
        own_l + a @ np.nan_to_num(leaf.rolled["labor"]),
    )


def _carried_labor(
    r: bomlib.Rollup, conversion_left: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Labour per unit in ``conversion_left`` (the conversion a carried item's value lacks):
    its rolled labour in proportion (0 where it has no conversion)."""
    conv = np.nan_to_num(r.rolled["conversion"])
    share = np.divide(conversion_left, conv, out=np.zeros(len(conv)), where=conv != 0)
    return np.nan_to_num(r.rolled["labor"]) * share
