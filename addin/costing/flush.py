"""The backflush: demand (date, item, quantity) exploded through the BOM in effect on each date.

Every posting is valued per item and rounded half-up to cents (Excel's ROUND), so each account
line is a sum of item cents; each day's rounding left over inside an entry goes to ROUNDING, so
every entry balances exactly and inventory ties to the ledger exactly.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from addin.costing.keys import day_numbers, group_sum, sum_cents
from addin.costing.model import ROLES, Finding, Severity
from addin.costing.money import to_cents
from addin.costing.plant import Epoch, FlushStandards, Plant
from addin.costing.postings import KINDS, UNITEMIZED, concat
from addin.costing.results import Consumption, Posted


class FlushRule(NamedTuple):
    """How one event flushes (see flush)."""

    event: str
    debit_role: str | npt.NDArray[np.object_]  # output debited to this role (or one per item)
    basis: str  # "total" or "material": the output's standard debited
    material_role: str  # leaves' material credited to MIP (per item) or AP
    apply_conversion: bool  # credit the output's conversion standard to CCA
    period_valued: bool  # output at the period standard, the BOM change to USAGE


def flush(plant: Plant, demand: pd.DataFrame, rule: FlushRule) -> Posted:
    """Backflush ``demand`` (date, item, quantity) through the BOM in effect on each date.

    Debits ``rule.debit_role`` with the output at standard (the period standard when
    ``period_valued``, else the flushed standard), credits the leaves' material to
    ``material_role`` (MIP per item, or AP), components marked Backflush = No to USAGE (when
    material_role is MIP), conversion to CCA, and a BOM change to USAGE. Returns balanced
    postings, the phantom findings and the leaves consumed (one Consumption per window)."""
    if len(demand) == 0:
        return Posted(plant.post.empty())
    # one demand line per date and item, in date then Standard Costs order
    n = len(plant.codes)
    day, days = day_numbers(demand["date"].to_numpy("datetime64[ns]"))
    raw_key = day * n + plant.index.positions(demand["item"])
    key, qty = group_sum(raw_key, demand["quantity"].to_numpy(np.float64), len(days) * n)
    orders = np.zeros(len(key))
    if "orders" in demand:  # production orders started (per-order lines: orders.py)
        orders = group_sum(raw_key, demand["orders"].to_numpy(np.float64), len(days) * n)[1]
    nonzero = (qty != 0) | (orders != 0)
    key, qty, orders = key[nonzero], qty[nonzero], orders[nonzero]
    if len(key) == 0:
        return Posted(plant.post.empty())
    pos, demand_date = key % n, days[key // n]
    win = plant.window_of(demand_date)
    out: list[pd.DataFrame] = []
    findings: list[Finding] = []
    used: list[Consumption] = []
    by_order = "orders" in demand
    for w in np.unique(win).tolist():
        sel = win == w
        made = Made(demand_date[sel], pos[sel], qty[sel], orders[sel] if by_order else None)
        frames, found, consumed = _flush_window(plant, w, made, rule)
        out += frames
        findings += found
        used.append(consumed)
    return Posted(balance(plant, concat(out), rule.event), tuple(findings), tuple(used))


class Made(NamedTuple):
    """The demand of one window, one line per date and item."""

    date: npt.NDArray[np.datetime64]
    item: npt.NDArray[np.intp]
    quantity: npt.NDArray[np.float64]  # units made (or sold, scrapped)
    orders: npt.NDArray[np.float64] | None  # production orders started; None: not by order


def _flush_window(
    plant: Plant, w: int, made: Made, rule: FlushRule
) -> tuple[list[pd.DataFrame], list[Finding], Consumption]:
    """The postings of the demand dated in window ``w``: leaves, unitemized material, output."""
    o_date, o_item, o_qty = made.date, made.item, made.quantity
    dates, day = np.unique(o_date, return_inverse=True)
    shape = (len(dates), len(plant.codes))
    d = sp.csr_matrix((o_qty, (day, o_item)), shape=shape)
    per = plant.windows[w].orders if made.orders is not None else None
    if per is None:
        c = plant.windows[w].explosion(d)
    else:  # per-unit lines per unit, per-order lines once per order (orders.py)
        n_orders = sp.csr_matrix((made.orders, (day, o_item)), shape=shape)
        first = d @ per.unit_matrix + n_orders @ per.order_matrix
        c = plant.windows[w].explosion.below(first)
    own = plant.raw | plant.obtained  # no BOM lines of their own (by-products: validation)
    if own[o_item].any():  # a raw or obtained item demanded directly is its own component
        c = c + d @ sp.diags(own.astype(np.float64))
    c = c.tocoo()
    leaf_qty, leaf_item, leaf_date = c.data, c.col, dates[c.row]
    std = plant.flush_standards(w, leaf_item)
    leaf_cents = to_cents(leaf_qty * std.leaf_material[leaf_item])
    consumed = Consumption(rule.event, leaf_date, leaf_item, leaf_qty, leaf_cents)
    leaves, findings = _leaf_postings(plant, rule, leaf_date, leaf_item, leaf_qty, leaf_cents)
    out = [leaves]
    # material of the output not backed by its BOM leaves (own-level material)
    made_mat = o_qty * std.material[o_item]
    lot_size = None
    if per is not None and made.orders is not None:
        order_mat = per.order_material(std.leaf_material)  # per item: per order
        share = per.share(order_mat)  # ... and spread by its lot size, per unit
        made_mat += made.orders * order_mat[o_item] - o_qty * share[o_item]
        lot_size = (made.orders * order_mat[o_item] - o_qty * share[o_item], per.lot[o_item])
    own_mat = np.bincount(day, weights=made_mat, minlength=len(dates))
    leaf_mat = np.bincount(
        c.row, weights=leaf_qty * std.leaf_material[leaf_item], minlength=len(dates)
    )
    unitemized = to_cents(own_mat - leaf_mat)
    nz = unitemized != 0
    if nz.any():
        out.append(
            plant.post(dates[nz], rule.event, rule.material_role, UNITEMIZED, 0.0, -unitemized[nz])
        )
    epoch = plant.epochs[plant.windows[w].epoch]
    out += _output_postings(plant, epoch, std, o_date, o_item, o_qty, rule)
    if lot_size is not None:
        out.append(_lot_size_postings(plant, made, rule, *lot_size))
    return out, findings, consumed


def _lot_size_postings(
    plant: Plant,
    made: Made,
    rule: FlushRule,
    variance: npt.NDArray[np.float64],
    lot: npt.NDArray[np.float64],
) -> pd.DataFrame:
    """The lot-size variance to USAGE (Dr + unfavourable): per-order material consumed less
    the output's share of it at standard. Its quantity is the units the orders fell short of
    their lot sizes (orders x lot size - units)."""
    cents = to_cents(variance)
    nz = cents != 0
    orders = made.orders if made.orders is not None else np.zeros(len(cents))
    short = np.nan_to_num(orders * lot - made.quantity)
    return plant.post(
        made.date[nz], rule.event, "USAGE", made.item[nz], short[nz], cents[nz], "lot size"
    )


def allocated(
    plant: Plant,
    day: npt.ArrayLike,
    event: str,
    item: npt.NDArray[np.intp],
    conv: npt.NDArray[np.int64],
    labor: npt.NDArray[np.float64] | None,
) -> list[pd.DataFrame]:
    """Conversion allocated (``conv`` cents) credited to CCA. Where labour and overhead are
    kept apart (``plant.by_element``; ``labor``: labour at standard, currency) it is two
    credits: kind "labor" (ROUND(labour, 2)) and kind "overhead" (the rest), so each element's
    allocation is known at the close and the CCA total is the same to the cent."""
    if not plant.by_element or labor is None:
        return [plant.post(day, event, "CCA", item, 0.0, -conv)]
    lab = to_cents(labor)
    return [
        plant.post(day, event, "CCA", item, 0.0, -lab, "labor"),
        plant.post(day, event, "CCA", item, 0.0, lab - conv, "overhead"),
    ]


def _output_postings(
    plant: Plant,
    epoch: Epoch,
    std: FlushStandards,
    o_date: npt.NDArray[np.datetime64],
    o_item: npt.NDArray[np.intp],
    o_qty: npt.NDArray[np.float64],
    rule: FlushRule,
) -> list[pd.DataFrame]:
    """The output debited at the standard in force (``epoch``), its conversion credited to CCA,
    a BOM change to USAGE."""
    flushed_unit = std.material[o_item]
    period_unit = epoch.material[o_item]
    if rule.basis == "total":
        flushed_unit = flushed_unit + std.conversion[o_item]
        period_unit = period_unit + epoch.conversion[o_item]
    out = []
    if rule.apply_conversion:
        conv = to_cents(o_qty * std.conversion[o_item])
        labor = None if std.labor is None else o_qty * std.labor[o_item]
        out += allocated(plant, o_date, rule.event, o_item, conv, labor)
    unit = period_unit if rule.period_valued else flushed_unit
    role = rule.debit_role if isinstance(rule.debit_role, str) else rule.debit_role[o_item]
    out_cents = to_cents(o_qty * unit)
    out.append(plant.post(o_date, rule.event, role, o_item, o_qty, out_cents, "output"))
    if rule.period_valued:
        change = to_cents(o_qty * (period_unit - flushed_unit))
        nzc = change != 0
        if nzc.any():
            out.append(
                plant.post(
                    o_date[nzc], rule.event, "USAGE", o_item[nzc], 0.0, -change[nzc], "BOM change"
                )
            )
    return out


def leaf_roles(
    plant: Plant, item: npt.NDArray[np.intp], material_role: str
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Per flushed component: the role credited (code in ROLES), whether it is issued by hand
    (Backflush = No: credited to USAGE) and whether it is a phantom with nothing to flush
    through (its material credited without an item). See _leaf_postings."""
    carried = plant.stock.code[item]
    stocked = carried >= 0
    manual = ~plant.flushed[item] & (stocked | (material_role == "MIP"))
    phantom = plant.phantom[item] & ~manual
    role = np.where(stocked, carried, ROLES.index(material_role)).astype(np.int64)
    role[manual] = ROLES.index("USAGE")
    return role, manual, phantom


def _leaf_postings(
    plant: Plant,
    rule: FlushRule,
    date: npt.NDArray[np.datetime64],
    item: npt.NDArray[np.intp],
    quantity: npt.NDArray[np.float64],
    cents: npt.NDArray[np.int64],
) -> tuple[pd.DataFrame, list[Finding]]:
    """Credit the flushed components where they are carried (debit a by-product received).
    A component carried in stock (raw in MIP; a finished or subassembly item consumed as a
    component, in FG or MIP) is relieved from its own account; one issued by hand
    (Backflush = No) is credited to USAGE until counted (when it is carried, or materials
    are recorded at purchase); anything else to ``material_role`` (AP when materials are
    recorded at the flush). A phantom consumed on a date when none of its BOM lines is in
    effect has nothing to flush through: its own material is credited without an item."""
    material_role = rule.material_role
    role, manual, phantom = leaf_roles(plant, item, material_role)
    stocked = plant.stock.code[item] >= 0
    move = np.where(manual, quantity, np.where(stocked, -quantity, 0.0))
    kinds = leaf_kinds(plant, item, quantity, manual)
    codes = np.where(phantom, len(plant.codes) + 1, item)  # UNITEMIZED's category code
    findings = (
        _phantom_findings(plant, date[phantom], item[phantom], cents[phantom], material_role)
        if phantom.any()
        else []
    )
    keep = ~phantom | (cents != 0)
    frame = plant.post(
        date[keep],
        rule.event,
        role[keep],
        codes[keep],
        np.where(phantom, 0.0, move)[keep],
        -cents[keep],
        kinds[keep],
    )
    return frame, findings


def leaf_kinds(
    plant: Plant,
    item: npt.NDArray[np.intp],
    quantity: npt.NDArray[np.float64],
    manual: npt.NDArray[np.bool_],
) -> npt.NDArray[np.int64]:
    """Each leaf line's kind: a manual issue, a by-product received (an obtained item's net
    quantity of the day below zero), or plain."""
    kinds = np.where(manual, KINDS.index("manual issue"), KINDS.index(""))
    if plant.obtained.any():
        kinds[plant.obtained[item] & (quantity < 0) & ~manual] = KINDS.index("by-product")
    return kinds


def _phantom_findings(
    plant: Plant,
    date: npt.NDArray[np.datetime64],
    item: npt.NDArray[np.intp],
    cents: npt.NDArray[np.int64],
    material_role: str,
) -> list[Finding]:
    """One warning per phantom consumed when none of its BOM lines is in effect."""
    found = []
    for p in np.unique(item).tolist():
        on = np.unique(date[item == p])
        days = ", ".join(f"{pd.Timestamp(x):%Y-%m-%d}" for x in on[:3])
        more = f" and {len(on) - 3} more days" if len(on) > 3 else ""
        code = str(plant.codes[p])
        amount = int(cents[item == p].sum()) / 100
        found.append(
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
                abs(amount),
            )
        )
    return found


def balance(plant: Plant, postings: pd.DataFrame, event: str) -> pd.DataFrame:
    """Put each day's rounding residue (items rounded to cents one by one) on ROUNDING.

    Item lines stay exactly quantity x standard, rounded; conversion allocated stays exactly
    units x standard conversion, so rounding never shows as a conversion variance."""
    day_codes, days = day_numbers(postings["date"].to_numpy("datetime64[ns]"))
    sums = sum_cents(day_codes, postings["cents"].to_numpy(np.int64), len(days))
    nz = sums != 0
    if not nz.any():
        return postings
    plug = plant.post(days[nz], event, "ROUNDING", "", 0.0, -sums[nz], "rounding")
    return concat([postings, plug])
