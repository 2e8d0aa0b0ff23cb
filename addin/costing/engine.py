"""The month-end run: standard cost roll-up, trigger-point postings, variances, journal, controls.

Pure functions over pandas frames; no Excel and no files. ``run_month_end`` is the one entry.

How the accounting is done (backflush-domain.md; the README repeats it for accountants):
- Standards for the period are rolled up with the BOM in effect on Period End. A completion is
  flushed with the BOM in effect on its own date; if that differs, the difference between the
  period standard and the flushed standard is a usage variance ("BOM change").
- Where an item is stocked depends on the trigger: raw materials in MIP when purchases are
  recorded (V1, V2); finished goods and subassemblies completed for stock in FG at full standard
  (V1, V3) or in MIP at material standard (V2: conversion is applied at sale); nothing in V4.
- Every posting is valued per item and rounded half-up to cents (Excel's ROUND), so each account
  line is a sum of item cents; rounding left over inside an entry goes to Conversion Costs
  Allocated (closed to COGS at period end) or, where no conversion is applied, stays with the
  output item. So every entry balances exactly and inventory ties to the ledger exactly.
- Components marked Backflush = No are not flushed: their standard is credited to the usage
  variance account (V1, V2) until a count shows what was really used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from addin.costing import bom as bomlib
from addin.costing.keys import day_numbers, group_sum, sum_cents
from addin.costing.model import ROLES, Check, Finding, MonthEndInputs, Severity, Trigger
from addin.costing.money import MAX_LINE_CENTS, MAX_TOTAL_CENTS, allocate_cents, to_cents

Progress = Callable[[str, float], None]

UNITEMIZED = "(unitemized)"  # material of a manufactured item not backed by its BOM lines

# Event names, in the order entries of one day are posted.
PURCHASE = "Purchase"
CONVERSION = "Conversion incurred"
COMPLETION = "Completion"
SCRAP = "Scrap"
SALE = "Sale"
COUNT = "Count adjustment"
CLOSE = "Period-end close"
OPENING = "Opening balance"
EVENT_ORDER = [PURCHASE, CONVERSION, COMPLETION, SCRAP, SALE, COUNT, CLOSE]

POSTING_COLUMNS = ["date", "event", "role", "item", "quantity", "cents", "kind"]
STOCK_ROLES = ("MIP", "FG")

EVENT_MEMO = {
    PURCHASE: "Purchase: materials at standard, price variance to PPV",
    CONVERSION: "Conversion incurred: actual labour and overhead",
    COMPLETION: "Completion: finished units, components backflushed at standard",
    SCRAP: "Scrap: reported scrap at standard",
    SALE: "Sale: goods sold at standard",
    COUNT: "Count adjustment: book adjusted to count (usage variance)",
    CLOSE: "Period-end close: under/over-allocated conversion costs",
}


class Consumption(NamedTuple):
    """Leaf components flushed by one event in one BOM window (arrays of equal length)."""

    event: str
    date: npt.NDArray[np.datetime64]
    component: npt.NDArray[np.intp]  # item position on Standard Costs
    quantity: npt.NDArray[np.float64]  # component units
    cents: npt.NDArray[np.int64]  # at the flushed material standard, rounded per line


class FlushStandards(NamedTuple):
    """Standards per unit (arrays over items) used by one BOM window's flush."""

    material: npt.NDArray[np.float64]  # an item made or sold: its flushed material per unit
    conversion: npt.NDArray[np.float64]  # ... and its conversion applied per unit
    leaf_material: npt.NDArray[np.float64]  # an item consumed as a component: value per unit


class InputError(ValueError):
    """The inputs cannot be posted; ``findings`` lists every reason, each located."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        super().__init__("\n".join(str(f) for f in findings))


@dataclass(frozen=True)
class MonthEndResult:
    """Everything a month-end run produces. Money columns ending in ``_cents`` are int64."""

    inputs: MonthEndInputs
    rollup: pd.DataFrame  # per item: this level's and rolled-up standard by element
    postings: pd.DataFrame  # item-level postings, debit positive (POSTING_COLUMNS)
    journal: pd.DataFrame  # entry lines: entry, date, event, role, account, debit/credit cents
    variances: pd.DataFrame  # type, item, quantity, amount_cents (+ = unfavourable), role
    backflush: pd.DataFrame  # event, component, flushed quantity and standard amount
    inventory: pd.DataFrame  # roll-forward per stocked item and account
    trial_balance: pd.DataFrame  # per role: opening, debits, credits, closing (cents)
    findings: list[Finding] = field(default_factory=list)  # controls: warnings and infos
    checks: list[Check] = field(default_factory=list)  # consistency checks and controls
    # optional: one line per source row and component (addin.costing.detail), else None
    backflush_detail: pd.DataFrame | None = None

    @property
    def entries(self) -> int:
        return int(self.journal["entry"].nunique()) if len(self.journal) else 0


KINDS = ["", "output", "manual issue", "BOM change", "rounding", "price", "count", "conversion"]
EVENT_DTYPE = pd.CategoricalDtype([*EVENT_ORDER, OPENING])
ROLE_DTYPE = pd.CategoricalDtype(ROLES)
KIND_DTYPE = pd.CategoricalDtype(KINDS)


def _categorical(values: object, dtype: pd.CategoricalDtype, n: int) -> pd.Categorical:
    """Postings keep their text columns as categoricals: grouping and comparing stay fast."""
    if isinstance(values, str):
        code = dtype.categories.get_loc(values)
        return pd.Categorical.from_codes(np.full(n, code, dtype=np.int32), dtype=dtype)
    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        return pd.Categorical.from_codes(np.broadcast_to(arr, (n,)).astype(np.int32), dtype=dtype)
    codes = dtype.categories.get_indexer(np.broadcast_to(arr.astype(object), (n,)))
    return pd.Categorical.from_codes(codes.astype(np.int32), dtype=dtype)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Posting frames end to end. Their categorical columns share one dtype per run, so the
    codes are joined directly (pd.concat would compare the 20,000-item categories each time)."""
    frames = [f for f in frames if len(f)] or frames[:1]
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    columns: dict[str, object] = {}
    for c in frames[0].columns:
        first = frames[0][c]
        if isinstance(first.dtype, pd.CategoricalDtype) and all(
            f[c].dtype is first.dtype for f in frames
        ):
            codes = np.concatenate([f[c].cat.codes.to_numpy() for f in frames])
            columns[c] = pd.Categorical.from_codes(codes, dtype=first.dtype, validate=False)
        elif isinstance(first.dtype, pd.CategoricalDtype):
            columns[c] = pd.concat([f[c] for f in frames], ignore_index=True)
        else:
            columns[c] = np.concatenate([f[c].to_numpy() for f in frames])
    return pd.DataFrame(columns)


class _Postings:
    """Builds posting frames with one fixed set of categories per run, so they concatenate."""

    def __init__(self, codes: npt.NDArray[np.object_]) -> None:
        self.item_dtype = pd.CategoricalDtype([*codes, "", UNITEMIZED])
        self.none = len(codes)  # category code of "" (no item)

    def empty(self) -> pd.DataFrame:
        return self(np.array([], dtype="datetime64[ns]"), PURCHASE, "MIP", "", 0.0, [])

    def __call__(
        self,
        date: npt.ArrayLike,
        event: str,
        role: str | npt.ArrayLike,
        item: npt.ArrayLike | str,
        quantity: npt.ArrayLike | float,
        cents: npt.ArrayLike,
        kind: str | npt.ArrayLike = "",
    ) -> pd.DataFrame:
        """Item is a code, an array of codes, or an array of item positions (ints)."""
        cents_arr = np.atleast_1d(np.asarray(cents, dtype=np.int64))
        n = len(cents_arr)
        return pd.DataFrame(
            {
                "date": np.broadcast_to(np.asarray(date, dtype="datetime64[ns]"), (n,)).copy(),
                "event": _categorical(event, EVENT_DTYPE, n),
                "role": _categorical(role, ROLE_DTYPE, n),
                "item": _categorical(item, self.item_dtype, n),
                "quantity": np.broadcast_to(np.asarray(quantity, dtype=np.float64), (n,)).copy(),
                "cents": cents_arr,
                "kind": _categorical(kind, KIND_DTYPE, n),
            }
        )


class _Run:
    """The state of one month-end computation (private; use run_month_end)."""

    def __init__(self, inputs: MonthEndInputs) -> None:
        self.inputs = inputs
        s = inputs.settings
        self.trigger = s.trigger
        self.start = pd.Timestamp(s.period_start)
        self.end = pd.Timestamp(s.period_end)
        sc = inputs.standard_costs.reset_index(drop=True)
        self.sc = sc
        self.index = bomlib.ItemIndex.from_standard_costs(sc)
        self.codes = self.index.codes.to_numpy()
        self.types = sc["item_type"].astype(str).to_numpy()
        self.flushed = sc["backflush"].astype(bool).to_numpy()
        self.findings: list[Finding] = []
        self.post = _Postings(self.codes)
        self.consumption: list[Consumption] = []
        self.count_table: pd.DataFrame | None = None  # counts with book at count date, if any
        self.conversion_summary = (0, 0, 0)  # (actual, allocated, difference) in cents
        self.raw = self.types == "Raw"
        self.phantom = self.types == "Phantom"
        self._flush_standards: dict[int, FlushStandards] = {}
        self._carried_items: dict[int, npt.NDArray[np.bool_]] = {}
        self._windows()
        self._stock_roles()

    # ---- standards -------------------------------------------------------------------
    def _windows(self) -> None:
        """Split the period where BOM effectivity changes; roll up standards per window."""
        bom = self.inputs.bom
        n = len(self.codes)
        bounds: set[pd.Timestamp] = set()
        if len(bom):
            parents = self.index.positions(bom["parent"])
            components = self.index.positions(bom["component"])
            quantities = bomlib.line_quantities(bom)
            starts = pd.to_datetime(bom["effective_from"]).to_numpy("datetime64[ns]")
            ends = pd.to_datetime(bom["effective_to"]).to_numpy("datetime64[ns]")
            changes = np.concatenate([starts, ends + np.timedelta64(1, "D")])
            for d in np.unique(changes[~np.isnat(changes)]):
                d = pd.Timestamp(d)
                if self.start < d <= self.end:
                    bounds.add(d)
        self.window_starts = np.array(sorted({self.start, *bounds}), dtype="datetime64[ns]")
        self.matrices: list[sp.csr_matrix] = []
        self._explosions: dict[int, bomlib.Explosion] = {}
        self.rollups: list[bomlib.Rollup] = []
        for ws in self.window_starts:
            if len(bom):
                keep = bomlib.in_effect(bom, pd.Timestamp(ws))
                if keep.all():
                    a = bomlib.matrix_of(parents, components, quantities, n)
                else:
                    a = bomlib.matrix_of(parents[keep], components[keep], quantities[keep], n)
            else:
                a = sp.csr_matrix((n, n), dtype=np.float64)
            self.matrices.append(a)
            self.rollups.append(bomlib.roll_up(self.sc, a, self.index))
        # The period standard: BOM in effect on Period End (the last window).
        self.period = self.rollups[-1]
        self.material = self.period.rolled["material"]
        self.conversion = self.period.rolled["conversion"]
        self.total = self.material + self.conversion

    def explosion(self, w: int) -> bomlib.Explosion:
        """Window ``w``'s BOM prepared for flushing (built on first use, then kept)."""
        if self._explosions.get(w) is None:
            r = self.rollups[w]
            self._explosions[w] = bomlib.Explosion(
                self.matrices[w], r.has_bom & self.flushed, r.level
            )
        return self._explosions[w]

    def window_of(self, dates: pd.Series) -> npt.NDArray[np.intp]:
        d = dates.to_numpy(dtype="datetime64[ns]")
        return np.searchsorted(self.window_starts, d, side="right") - 1

    def _stock_roles(self) -> None:
        """Where each item is carried, and at what unit value, under this trigger."""
        t = self.trigger
        raw = self.types == "Raw"
        made = np.isin(self.types, ["Finished", "Subassembly"])
        role = np.full(len(self.codes), "", dtype=object)
        unit = np.zeros(len(self.codes))
        if t.records_purchases:
            role[raw] = "MIP"
            unit[raw] = self.material[raw]
        if t.records_finished_goods:
            role[made] = "FG"
            unit[made] = self.total[made]
        elif t is Trigger.PURCHASE_SALE:
            role[made] = "MIP"
            unit[made] = self.material[made]
        self.stock_role = role
        mip, fg = ROLES.index("MIP"), ROLES.index("FG")
        # the same as a role code (-1: not carried), for array work in the flush
        self.stock_role_code = np.where(role == "MIP", mip, np.where(role == "FG", fg, -1))
        self.unit_value = unit

    # ---- the flush ---------------------------------------------------------------------
    def flush(
        self,
        demand: pd.DataFrame,
        event: str,
        debit_role: str | npt.NDArray[np.object_],
        basis: str,
        material_role: str,
        apply_conversion: bool,
        period_valued: bool,
    ) -> pd.DataFrame:
        """Backflush ``demand`` (date, item, quantity) through the BOM in effect on each date.

        Debits ``debit_role`` with the output at standard (``basis`` "total" or "material";
        the period standard when ``period_valued``, else the flushed standard), credits the
        leaves' material to ``material_role`` (MIP per item, or AP), components marked
        Backflush = No to USAGE (when material_role is MIP), conversion to CCA, and a BOM
        change to USAGE. Returns balanced postings: rounding goes to CCA when conversion is
        applied, else to the output item.
        """
        if len(demand) == 0:
            return self.post.empty()
        # one demand line per date and item, in date then Standard Costs order
        n = len(self.codes)
        day, days = day_numbers(demand["date"].to_numpy("datetime64[ns]"))
        key = day * n + self.index.positions(demand["item"])
        key, qty = group_sum(key, demand["quantity"].to_numpy(np.float64), len(days) * n)
        nonzero = qty != 0
        key, qty = key[nonzero], qty[nonzero]
        if len(key) == 0:
            return self.post.empty()
        pos = key % n
        demand_date = days[key // n]
        win = np.searchsorted(self.window_starts, demand_date, side="right") - 1
        out: list[pd.DataFrame] = []
        for w in np.unique(win):
            sel = win == w
            dates, day = np.unique(demand_date[sel], return_inverse=True)
            d = sp.csr_matrix((qty[sel], (day, pos[sel])), shape=(len(dates), len(self.codes)))
            c = self.explosion(w)(d)
            if self.raw[pos[sel]].any():  # a raw item demanded directly is its own component
                c = c + d @ sp.diags(self.raw.astype(np.float64))
            c = c.tocoo()
            leaf_qty, leaf_item, leaf_date = c.data, c.col, dates[c.row]
            std = self.flush_standards(w, leaf_item)
            leaf_cents = to_cents(leaf_qty * std.leaf_material[leaf_item])
            self.consumption.append(Consumption(event, leaf_date, leaf_item, leaf_qty, leaf_cents))
            out.append(
                self._leaf_postings(
                    event, material_role, leaf_date, leaf_item, leaf_qty, leaf_cents
                )
            )
            o_date, o_item, o_qty = demand_date[sel], pos[sel], qty[sel]
            # material of the output not backed by its BOM leaves (own-level material)
            own_mat = np.bincount(day, weights=o_qty * std.material[o_item], minlength=len(dates))
            leaf_mat = np.bincount(
                c.row, weights=leaf_qty * std.leaf_material[leaf_item], minlength=len(dates)
            )
            unitemized = to_cents(own_mat - leaf_mat)
            nz = unitemized != 0
            if nz.any():
                out.append(
                    self.post(dates[nz], event, material_role, UNITEMIZED, 0.0, -unitemized[nz])
                )
            flushed_unit = std.material[o_item]
            period_unit = self.material[o_item]
            if basis == "total":
                flushed_unit = flushed_unit + std.conversion[o_item]
                period_unit = period_unit + self.conversion[o_item]
            if apply_conversion:
                conv = to_cents(o_qty * std.conversion[o_item])
                out.append(self.post(o_date, event, "CCA", o_item, 0.0, -conv))
            unit = period_unit if period_valued else flushed_unit
            role = debit_role if isinstance(debit_role, str) else debit_role[o_item]
            out_cents = to_cents(o_qty * unit)
            out.append(self.post(o_date, event, role, o_item, o_qty, out_cents, "output"))
            if period_valued:
                change = to_cents(o_qty * (period_unit - flushed_unit))
                nzc = change != 0
                if nzc.any():
                    out.append(
                        self.post(
                            o_date[nzc],
                            event,
                            "USAGE",
                            o_item[nzc],
                            0.0,
                            -change[nzc],
                            "BOM change",
                        )
                    )
        return self._balance(_concat(out), event)

    def _leaf_postings(
        self,
        event: str,
        material_role: str,
        date: npt.NDArray[np.datetime64],
        item: npt.NDArray[np.intp],
        quantity: npt.NDArray[np.float64],
        cents: npt.NDArray[np.int64],
    ) -> pd.DataFrame:
        """Credit the flushed components where they are carried.

        A component carried in stock (raw in MIP; a finished or subassembly item consumed as a
        component, in FG or MIP) is relieved from its own account; one issued by hand
        (Backflush = No) is credited to USAGE until counted (when it is carried, or materials
        are recorded at purchase); anything else to ``material_role`` (AP when materials are
        recorded at the flush). A phantom consumed on a date when none of its BOM lines is in
        effect has nothing to flush through: its own material is credited without an item."""
        carried = self.stock_role_code[item]
        stocked = carried >= 0
        manual = ~self.flushed[item] & (stocked | (material_role == "MIP"))
        phantom = self.phantom[item] & ~manual
        role = np.where(stocked, carried, ROLES.index(material_role))
        role[manual] = ROLES.index("USAGE")
        move = np.where(manual, quantity, np.where(stocked, -quantity, 0.0))
        kinds = np.where(manual, KINDS.index("manual issue"), KINDS.index(""))
        codes = np.where(phantom, len(self.codes) + 1, item)  # UNITEMIZED's category code
        if phantom.any():
            self._phantom_finding(date[phantom], item[phantom], cents[phantom], material_role)
        keep = ~phantom | (cents != 0)
        return self.post(
            date[keep],
            event,
            role[keep],
            codes[keep],
            np.where(phantom, 0.0, move)[keep],
            -cents[keep],
            kinds[keep],
        )

    def _phantom_finding(
        self,
        date: npt.NDArray[np.datetime64],
        item: npt.NDArray[np.intp],
        cents: npt.NDArray[np.int64],
        material_role: str,
    ) -> None:
        for p in np.unique(item).tolist():
            on = np.unique(date[item == p])
            days = ", ".join(f"{pd.Timestamp(x):%Y-%m-%d}" for x in on[:3])
            more = f" and {len(on) - 3} more days" if len(on) > 3 else ""
            code = str(self.codes[p])
            amount = int(cents[item == p].sum()) / 100
            self.findings.append(
                Finding(
                    Severity.WARNING,
                    "phantom without BOM lines in effect",
                    f"{code} is a phantom consumed on {days}{more}, when none of its BOM lines "
                    f"is in effect: nothing was flushed through it and its own material "
                    f"({amount:,.2f}) was credited to {material_role} without an item. Check the "
                    "Effective From/To dates of its BOM lines.",
                    "BOM",
                    "",
                    code,
                )
            )

    def flush_standards(self, w: int, leaves: npt.NDArray[np.intp]) -> FlushStandards:
        """Standards per unit used when window ``w``'s BOM is flushed down to ``leaves`` (the
        item positions consumed).

        A finished or subassembly item that is carried in stock and consumed as a component in
        this window (no BOM lines in effect yet, or issued by hand) is taken out of stock at the
        value it is carried at, not at its window roll-up: its parents' flushed material counts
        it at that value and their conversion no longer includes its conversion (already
        applied when it was completed). Without such a component the window's roll-up is used
        as it is."""
        r = self.rollups[w]
        carried = self._carried(w)
        if not carried[leaves].any():
            material = r.rolled["material"]
            return FlushStandards(material, r.rolled["conversion"], material)
        if w not in self._flush_standards:
            sub = pd.DataFrame(
                {
                    "material": np.where(carried, self.unit_value, r.own["material"]),
                    "conversion": np.where(
                        carried, self.total - self.unit_value, np.nan_to_num(r.own["conversion"])
                    ),
                }
            )
            a = self.matrices[w]
            cut = (sp.diags((~carried).astype(np.float64)) @ a).tocsr()
            cut.eliminate_zeros()
            leaf = bomlib.roll_up(sub, cut, self.index, r.level)  # fewer lines, same order
            own_m, own_c = np.nan_to_num(r.own["material"]), np.nan_to_num(r.own["conversion"])
            self._flush_standards[w] = FlushStandards(
                own_m + a @ leaf.rolled["material"],
                own_c + a @ leaf.rolled["conversion"],
                leaf.rolled["material"],
            )
        return self._flush_standards[w]

    def _carried(self, w: int) -> npt.NDArray[np.bool_]:
        """Finished and subassembly items carried in stock that window ``w``'s flush takes out
        of stock rather than blowing through (no BOM lines in effect, or Backflush = No)."""
        if w not in self._carried_items:
            r = self.rollups[w]
            made = np.isin(self.types, ["Finished", "Subassembly"])
            self._carried_items[w] = (
                made & (self.stock_role_code >= 0) & ~(r.has_bom & self.flushed)
            )
        return self._carried_items[w]

    def _balance(self, postings: pd.DataFrame, event: str) -> pd.DataFrame:
        """Put each day's rounding residue (items rounded to cents one by one) on ROUNDING.

        Item lines stay exactly quantity x standard, rounded; conversion allocated stays exactly
        units x standard conversion, so rounding never shows as a conversion variance."""
        day_codes, days = day_numbers(postings["date"].to_numpy("datetime64[ns]"))
        sums = sum_cents(day_codes, postings["cents"].to_numpy(np.int64), len(days))
        nz = sums != 0
        if not nz.any():
            return postings
        plug = self.post(days[nz], event, "ROUNDING", "", 0.0, -sums[nz], "rounding")
        return _concat([postings, plug])

    # ---- events ------------------------------------------------------------------------
    def purchases(self) -> pd.DataFrame:
        p = self.inputs.purchases
        if len(p) == 0:
            return self.post.empty()
        if not self.trigger.records_purchases:
            self.findings.append(
                Finding(
                    Severity.INFO,
                    "purchases not posted",
                    f"{len(p)} purchase rows are not posted: under the '{self.trigger.value}' "
                    "trigger materials are recorded when they are flushed, at standard (AP).",
                    "Purchases",
                )
            )
            return self.post.empty()
        pos = self.index.positions(p["item"])
        qty = p["quantity"].to_numpy(np.float64)
        frame = pd.DataFrame(
            {
                "date": p["date"].to_numpy(),
                "item": pos,
                "quantity": qty,
                "std": to_cents(qty * self.material[pos]),
                "actual": to_cents(qty * p["unit_price"].to_numpy(np.float64)),
            }
        )
        g = frame.groupby(["date", "item"], as_index=False, sort=True).sum()
        return _concat(
            [
                self.post(g["date"], PURCHASE, "MIP", g["item"], g["quantity"], g["std"]),
                self.post(
                    g["date"],
                    PURCHASE,
                    "PPV",
                    g["item"],
                    g["quantity"],
                    g["actual"] - g["std"],
                    "price",
                ),
                self.post(g["date"], PURCHASE, "AP", g["item"], 0.0, -g["actual"]),
            ],
        )

    def conversion_incurred(self) -> pd.DataFrame:
        cc = self.inputs.conversion_costs
        if len(cc) == 0:
            return self.post.empty()
        cents = to_cents(cc["amount"].to_numpy(np.float64))
        g = (
            pd.DataFrame({"date": cc["date"].to_numpy(), "cents": cents})
            .groupby("date", as_index=False)
            .sum()
        )
        return _concat(
            [
                self.post(g["date"], CONVERSION, "CCC", "", 0.0, g["cents"]),
                self.post(g["date"], CONVERSION, "CONV_OFFSET", "", 0.0, -g["cents"]),
            ],
        )

    def completions(self) -> pd.DataFrame:
        c = self.inputs.completions
        if len(c) == 0:
            return self.post.empty()
        t = self.trigger
        parts = []
        good = c[["date", "item", "quantity"]]
        if t is Trigger.PURCHASE_COMPLETION:
            parts.append(self.flush(good, COMPLETION, "FG", "total", "MIP", True, True))
        elif t is Trigger.PURCHASE_SALE:
            parts.append(self.flush(good, COMPLETION, "MIP", "material", "MIP", False, True))
        elif t is Trigger.COMPLETION:
            parts.append(self.flush(good, COMPLETION, "FG", "total", "AP", True, True))
        scrap = c[["date", "item"]].assign(
            quantity=c["scrap_quantity"].fillna(0.0).to_numpy(np.float64)
        )
        scrap = scrap[scrap["quantity"] > 0]
        if len(scrap):
            parts.append(
                self.flush(scrap, SCRAP, "SCRAP", "total", t.material_credit_role, True, False)
            )
        return _concat(parts) if parts else self.post.empty()

    def sales(self) -> pd.DataFrame:
        s = self.inputs.sales
        if len(s) == 0:
            return self.post.empty()
        s = s.groupby(["date", "item"], as_index=False, sort=True)["quantity"].sum()
        pos = self.index.positions(s["item"])
        role = self.stock_role[pos]
        stocked = role != ""
        parts = []
        if stocked.any():
            ss = s[stocked]
            p = pos[stocked]
            q = ss["quantity"].to_numpy(np.float64)
            relief = to_cents(q * self.unit_value[p])
            cogs = to_cents(q * self.total[p])
            part = [
                self.post(ss["date"], SALE, "COGS", p, q, cogs),
                self.post(ss["date"], SALE, role[stocked], p, -q, -relief),
            ]
            carried_conv = np.isclose(self.unit_value[p], self.total[p])
            conv = np.where(carried_conv, 0, to_cents(q * self.conversion[p]))
            if (conv != 0).any():
                part.append(self.post(ss["date"], SALE, "CCA", p, 0.0, -conv))
            parts.append(self._balance(_concat(part), SALE))
        if (~stocked).any():
            # Nothing is carried for these items: flush at the sale (V4, and raw items in V3).
            parts.append(self.flush(s[~stocked], SALE, "COGS", "total", "AP", True, True))
        return _concat(parts)

    def opening(self) -> pd.DataFrame:
        ob = self.inputs.opening_balances
        if len(ob) == 0:
            return self.post.empty()
        ob = ob.groupby(["item", "account"], as_index=False, sort=True)["quantity"].sum()
        pos = self.index.positions(ob["item"])
        role = self.stock_role[pos]
        carried = role != ""
        if (~carried).any():
            self.findings.append(
                Finding(
                    Severity.INFO,
                    "opening balances not carried",
                    f"{int((~carried).sum())} opening balance rows are not carried: under the "
                    f"'{self.trigger.value}' trigger those items are not kept in inventory accounts.",
                    "Opening Balances",
                )
            )
        moved = carried & (ob["account"].to_numpy() != role)
        for item, given, used in zip(
            ob["item"].to_numpy()[moved], ob["account"].to_numpy()[moved], role[moved], strict=True
        ):
            basis = "material standard" if used == "MIP" and given == "FG" else "standard"
            self.findings.append(
                Finding(
                    Severity.WARNING,
                    "opening balance account",
                    f"{item}: opening balance given in {given}, but under the "
                    f"'{self.trigger.value}' trigger it is carried in {used} at its {basis}; "
                    f"it was opened in {used}. Check the account on Opening Balances.",
                    "Opening Balances",
                    "",
                    str(item),
                )
            )
        q = ob["quantity"].to_numpy(np.float64)[carried]
        return self.post(
            self.start,
            OPENING,
            role[carried],
            pos[carried],
            q,
            to_cents(q * self.unit_value[pos[carried]]),
        )

    def counts(self, movements: list[pd.DataFrame]) -> pd.DataFrame:
        """Adjust book to count at each count's date (period end when blank). ``movements``:
        the posting frames so far (opening included)."""
        ct = self.inputs.counts
        if len(ct) == 0:
            return self.post.empty()
        ct = ct.copy()
        ct["date"] = pd.to_datetime(ct["date"]).fillna(self.end)
        pos = self.index.positions(ct["item"])
        role = self.stock_role[pos]
        carried = role != ""
        if (~carried).any():
            self.findings.append(
                Finding(
                    Severity.INFO,
                    "counts not posted",
                    f"{int((~carried).sum())} counted items are not carried in an inventory account "
                    f"under the '{self.trigger.value}' trigger; their counts are not posted.",
                    "Counts",
                )
            )
        ct = ct[carried].assign(role=role[carried], pos=pos[carried])
        if len(ct) == 0:
            return self.post.empty()
        # book at each count's date: every stock movement of the item up to that day
        n = len(self.codes)
        count_day = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        count_day[ct["pos"].to_numpy()] = ct["date"].to_numpy(dtype="datetime64[ns]")
        book = np.zeros(n)
        for frame in movements:
            code = frame["item"].cat.codes.to_numpy().astype(np.int64)
            # stock accounts only, real items only (not "" or the unitemized pseudo-item)
            take = _in_stock(frame) & (code < n)
            code = code[take]
            day = frame["date"].to_numpy(dtype="datetime64[ns]")[take]
            upto = day <= count_day[code]  # False where the item is not counted (NaT)
            book += np.bincount(
                code[upto], weights=frame["quantity"].to_numpy()[take][upto], minlength=n
            )
        ct["book"] = book[ct["pos"].to_numpy()]
        diff = ct["book"].to_numpy() - ct["counted_quantity"].to_numpy(np.float64)
        scale = np.maximum(np.abs(ct["book"].to_numpy()), 1.0)
        diff = np.where(np.abs(diff) < 1e-9 * scale, 0.0, diff)  # float noise, not a difference
        ct["difference"] = diff
        self.count_table = ct
        cents = to_cents(diff * self.unit_value[ct["pos"].to_numpy()])
        tol = self.inputs.settings.count_tolerance
        base = np.abs(ct["book"].to_numpy())
        # Items issued by hand (Backflush = No) are never relieved by the flush: their book is
        # expected to exceed the count by the standard quantity used, so judge the rest.
        expected = np.zeros(len(ct))
        manual = ~self.flushed[ct["pos"].to_numpy()]
        if manual.any() and self.consumption:
            comp = np.concatenate([c.component for c in self.consumption])
            day = np.concatenate([c.date for c in self.consumption])
            qty = np.concatenate([c.quantity for c in self.consumption])
            by_hand = ~self.flushed[comp]
            comp, day, qty = comp[by_hand], day[by_hand], qty[by_hand]
            ct_pos = ct["pos"].to_numpy()
            ct_day = ct["date"].to_numpy("datetime64[ns]")
            for k in np.flatnonzero(manual):
                mask = (comp == ct_pos[k]) & (day <= ct_day[k])
                expected[k] = float(qty[mask].sum())
        unexplained = diff - expected
        beyond = (np.abs(unexplained) > tol * base + 1e-9) & (unexplained != 0)
        for k in np.flatnonzero(beyond):
            r = ct.iloc[k]
            d = diff[k]

            def share(x: float, b: float = base[k]) -> str:
                return f"{abs(x) / b:.1%} of book" if b else "book is zero"

            judged = (
                f" It is issued by hand (Backflush = No): standard use was {expected[k]:,.6g}, "
                f"so {unexplained[k]:,.6g} ({share(unexplained[k])}) is unexplained; "
                f"tolerance {tol:.1%}."
                if manual[k]
                else f" Tolerance {tol:.1%}."
            )
            self.findings.append(
                Finding(
                    Severity.WARNING,
                    "count beyond tolerance",
                    f"{r['item']}: counted {r['counted_quantity']:,.6g}, book {r['book']:,.6g} "
                    f"(difference {d:,.6g}, {share(d)}).{judged} Book adjusted to the count; "
                    "check the BOM quantities, scrap reporting and the count itself.",
                    "Counts",
                    self.inputs.cell("Counts", "Counted Quantity", int(r["source_row"])),
                    r["item"],
                )
            )
        nz = cents != 0
        d = ct["date"].to_numpy()[nz]
        items = ct["pos"].to_numpy()[nz]
        return _concat(
            [
                self.post(d, COUNT, "USAGE", items, diff[nz], cents[nz], "count"),
                self.post(d, COUNT, ct["role"].to_numpy()[nz], items, -diff[nz], -cents[nz]),
            ],
        )

    def close(self, frames: list[pd.DataFrame], sales: pd.DataFrame) -> pd.DataFrame:
        """Close CCA and CCC; the difference to COGS, or prorated (Settings: Prorate).
        ``frames``: every posting frame of the period, opening first."""
        cca = sum(_role_cents(f, "CCA") for f in frames)
        ccc = sum(_role_cents(f, "CCC") for f in frames)
        diff = ccc + cca  # > 0: under-allocated (actual above allocated)
        self.conversion_summary = (ccc, -cca, diff)
        if cca == 0 and ccc == 0:
            return self.post.empty()
        day = self.end
        parts = [
            self.post(day, CLOSE, "CCA", "", 0.0, -cca),
            self.post(day, CLOSE, "CCC", "", 0.0, -ccc),
        ]
        tol = self.inputs.settings.conversion_tolerance
        if -cca and abs(diff) > tol * abs(cca):
            self.findings.append(
                Finding(
                    Severity.WARNING,
                    "conversion variance beyond tolerance",
                    f"Conversion costs {'under' if diff > 0 else 'over'}-allocated by "
                    f"{abs(diff) / 100:,.2f} ({abs(diff) / abs(cca):.1%} of allocated; tolerance "
                    f"{tol:.1%}). Review the conversion standards or the costs incurred.",
                    "Conversion Costs",
                )
            )
        if self.inputs.settings.conversion_variance == "Prorate" and diff:
            targets_role: list[str] = ["COGS"]
            targets_item: list[str] = [""]
            weights: list[float] = [self._conversion_in_cogs(sales)]
            targets_role.append("SCRAP")
            targets_item.append("")
            weights.append(float(-sum(_role_cents(f, "CCA", SCRAP) for f in frames)))
            if self.trigger.records_finished_goods:
                p, quantity = self._ending_finished_goods(frames)
                w = quantity * self.conversion[p] * 100
                targets_role += ["FG"] * len(p)
                targets_item += list(self.codes[p])
                weights += list(np.maximum(w, 0.0))
            alloc = allocate_cents(diff, weights)
            keep = alloc != 0
            parts.append(
                self.post(
                    day,
                    CLOSE,
                    np.array(targets_role, dtype=object)[keep],
                    np.array(targets_item, dtype=object)[keep],
                    0.0,
                    alloc[keep],
                    "conversion",
                )
            )
        elif diff:
            parts.append(self.post(day, CLOSE, "COGS", "", 0.0, np.array([diff]), "conversion"))
        return _concat(parts)

    def _ending_finished_goods(self, frames: list[pd.DataFrame]) -> tuple[np.ndarray, np.ndarray]:
        """(positions, ending quantity) of the items that moved in FG, in Standard Costs order."""
        n = len(self.codes)
        fg = ROLES.index("FG")
        seen, quantity = np.zeros(n, dtype=bool), np.zeros(n)
        for f in frames:
            code = f["item"].cat.codes.to_numpy().astype(np.int64)
            take = (f["role"].cat.codes.to_numpy() == fg) & (code < n)
            seen[code[take]] = True
            quantity += np.bincount(code[take], weights=f["quantity"].to_numpy()[take], minlength=n)
        p = np.flatnonzero(seen)
        return p, quantity[p]

    def _conversion_in_cogs(self, sales: pd.DataFrame) -> float:
        if len(sales) == 0:
            return 0.0
        cogs = sales[sales["role"] == "COGS"]
        p = self.index.positions(cogs["item"])
        return float((cogs["quantity"].to_numpy() * self.conversion[p] * 100).clip(min=0).sum())


def _in_stock(frame: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Rows of a posting frame on a stock account (MIP or FG)."""
    role = frame["role"].cat.codes.to_numpy()
    return (role == ROLES.index("MIP")) | (role == ROLES.index("FG"))


def _role_cents(frame: pd.DataFrame, role: str, event: str | None = None) -> int:
    """Total cents posted to ``role`` in a posting frame (by ``event`` only, when given)."""
    take = frame["role"].cat.codes.to_numpy() == ROLES.index(role)
    if event is not None:
        take &= frame["event"].cat.codes.to_numpy() == EVENT_DTYPE.categories.get_loc(event)
    return int(frame["cents"].to_numpy()[take].sum())


EVENT_SHEET = {
    PURCHASE: "Purchases",
    CONVERSION: "Conversion Costs",
    COMPLETION: "Completions",
    SCRAP: "Completions",
    SALE: "Sales",
    COUNT: "Counts",
    OPENING: "Opening Balances",
}


def magnitude_findings(
    run: _Run, frames: list[pd.DataFrame], before: dict[str, float] | None = None
) -> tuple[list[Finding], dict[str, float]]:
    """Amounts beyond what is kept exact (money.MAX_LINE_CENTS per item and day, MAX_TOTAL_CENTS
    for the month): one error per event, item and day (the sheet and rows behind it, at most
    20), or one for the month's total. Lines without an item (conversion costs, the close,
    rounding, material not backed by BOM lines) are sums, held by the month's limit."""
    found: dict[tuple[str, str, pd.Timestamp], Finding] = {}
    by_sheet: dict[str, float] = dict(before or {})  # absolute cents per source sheet
    n = len(run.codes)
    for frame in frames:
        cents = frame["cents"].to_numpy(np.int64)
        magnitude = np.abs(cents).astype(np.float64)
        events = frame["event"].cat.codes.to_numpy()
        per_event = np.bincount(events, weights=magnitude, minlength=len(EVENT_DTYPE.categories))
        for code in np.flatnonzero(per_event).tolist():
            sheet = EVENT_SHEET.get(str(EVENT_DTYPE.categories[code]), "Settings")
            by_sheet[sheet] = by_sheet.get(sheet, 0.0) + float(per_event[code])
        itemized = frame["item"].cat.codes.to_numpy() < n
        for k in np.flatnonzero(itemized & (np.abs(cents) > MAX_LINE_CENTS)).tolist():
            posting = frame.iloc[k]
            key = (str(posting["event"]), str(posting["item"]), pd.Timestamp(posting["date"]))
            if key not in found and len(found) < 20:
                found[key] = _too_large(run, posting)
    total = sum(by_sheet.values())
    if not found and total > MAX_TOTAL_CENTS:
        largest = max(by_sheet, key=lambda k: by_sheet[k])
        total_error = [
            Finding(
                Severity.ERROR,
                "amount too large",
                f"the month's amounts add up to {total / 100:,.0f}, beyond the supported "
                f"{MAX_TOTAL_CENTS / 100:,.2f}: totals that large cannot be kept to the cent "
                f"(Excel keeps 15 significant digits); the largest part, "
                f"{by_sheet[largest] / 100:,.0f}, comes from this sheet. Check quantities and "
                "prices for a unit or typing mistake, or split the month.",
                largest,
            )
        ]
        return total_error, by_sheet
    return list(found.values()), by_sheet


def _refuse_too_large(
    run: _Run, frames: list[pd.DataFrame], before: dict[str, float] | None = None
) -> dict[str, float]:
    """Raise InputError for amounts beyond the supported magnitudes; else the month's
    absolute amounts so far, per sheet (pass them on with the next frames)."""
    too_large, by_sheet = magnitude_findings(run, frames, before)
    if too_large:
        raise InputError(too_large)
    return by_sheet


def _source_rows(run: _Run, sheet: str, item: str, date: pd.Timestamp) -> npt.NDArray[np.int64]:
    """Worksheet rows of ``sheet`` on ``date`` (and of ``item``, when the sheet has it)."""
    source = {
        "Purchases": run.inputs.purchases,
        "Conversion Costs": run.inputs.conversion_costs,
        "Completions": run.inputs.completions,
        "Sales": run.inputs.sales,
        "Counts": run.inputs.counts,
        "Opening Balances": run.inputs.opening_balances,
    }.get(sheet)
    if source is None or len(source) == 0:
        return np.zeros(0, dtype=np.int64)
    take = np.ones(len(source), dtype=bool)
    if "date" in source:
        dates = pd.to_datetime(source["date"]).fillna(run.end).to_numpy("datetime64[ns]")
        take &= dates == date.to_datetime64()
    if "item" in source:
        same = (source["item"].astype(str) == item).to_numpy()
        if (take & same).any():
            take &= same
    return np.unique(source["source_row"].to_numpy()[take].astype(np.int64))


def _too_large(run: _Run, posting: pd.Series) -> Finding:
    """The located error for one posting whose amount is beyond MAX_LINE_CENTS."""
    event, item = str(posting["event"]), str(posting["item"])
    date = pd.Timestamp(posting["date"])
    sheet = EVENT_SHEET.get(event, "")
    rows = _source_rows(run, sheet, item, date)
    cell = f"{rows[0]}:{rows[0]}" if len(rows) else ""
    others = f" (rows {', '.join(map(str, rows[:5].tolist()))}{', ...' if len(rows) > 5 else ''})"
    cents = abs(int(posting["cents"]))
    shown = f"{cents / 100:,.2f}" if cents < 9 * 10**18 else "too large to hold"
    return Finding(
        Severity.ERROR,
        "amount too large",
        f"{event} on {date:%Y-%m-%d}{others if len(rows) > 1 else ''}: {item or 'the'} "
        f"amount on {posting['role']} is {shown}, beyond the supported "
        f"{MAX_LINE_CENTS / 100:,.2f} per item and day (larger amounts cannot be kept to the "
        "cent). Check the quantity, price or standard for a unit or typing mistake.",
        sheet,
        cell,
        item,
    )


def run_month_end(inputs: MonthEndInputs, progress: Progress | None = None) -> MonthEndResult:
    """Run the month-end on validated inputs. Raises InputError if the BOM has a cycle."""
    say = progress or (lambda step, frac: None)
    say("Rolling up standard costs", 0.05)
    try:
        run = _Run(inputs)
    except bomlib.BomCycleError as e:
        raise InputError(
            [
                Finding(
                    Severity.ERROR,
                    "BOM cycle",
                    f"cycle {' -> '.join([*c, c[0]])}; remove one of its lines",
                    "BOM",
                )
                for c in e.cycles
            ]
        ) from e
    say("Posting purchases and conversion costs", 0.15)
    opening = run.opening()
    parts = [run.purchases(), run.conversion_incurred()]
    say("Backflushing completions", 0.3)
    parts.append(run.completions())
    say("Posting sales", 0.5)
    sales = run.sales()
    parts.append(sales)
    so_far = _refuse_too_large(run, [opening, *parts])  # before counts and close sum them
    say("Adjusting to counts", 0.6)
    counts = run.counts([opening, *parts])
    say("Closing conversion costs", 0.7)
    close = run.close([opening, *parts, counts], sales)
    _refuse_too_large(run, [counts, close], so_far)
    parts += [counts, close]
    period = _concat([p for p in parts if len(p)] or [run.post.empty()])
    say("Building the journal and reports", 0.8)
    from addin.costing import reports

    result = reports.assemble(run, opening, period)
    say("Computed", 0.85)
    return result


__all__ = ["InputError", "MonthEndResult", "run_month_end"]
