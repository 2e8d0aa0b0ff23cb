"""Period-end stages: book adjusted to counts, and the conversion cost accounts closed.

- Each count adjusts the book at the count's date (Period End when blank); the difference goes
  to the usage variance account. Components marked Backflush = No are not flushed: their
  standard is credited to the usage variance account (V1, V2) until a count shows what was
  really used, so a count is judged against the book less that standard use.
- CCA and CCC are closed at Period End; the difference goes to COGS, or is prorated over COGS,
  scrap and ending finished goods (Settings: Prorate).
- No value without quantity: an item whose quantity in a stock account ends at zero (within
  float noise) but whose value does not (cents left by per-day rounding) is swept to ROUNDING
  at Period End, one entry per item.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from addin.costing.elements import ELEMENT_ROLES, element_variances
from addin.costing.keys import QUANTITY_NOISE, sum_cents
from addin.costing.model import ROLES, Finding, Severity
from addin.costing.money import allocate_cents, to_cents
from addin.costing.plant import Plant
from addin.costing.postings import CLOSE, COUNT, SCRAP, SWEEP, concat, in_stock, role_cents
from addin.costing.results import (
    Closed,
    Consumption,
    ConversionSummary,
    Counted,
    ElementVariance,
    Posted,
)


def counts(
    plant: Plant, movements: list[pd.DataFrame], consumption: tuple[Consumption, ...]
) -> Counted:
    """Adjust book to count at each count's date. ``movements``: the posting frames so far
    (opening included); ``consumption``: the leaves the flushes consumed."""
    ct = plant.inputs.counts
    if len(ct) == 0:
        return Counted(plant.post.empty(), (), None)
    ct = ct.copy()
    ct["date"] = pd.to_datetime(ct["date"]).fillna(plant.end)
    pos = plant.index.positions(ct["item"])
    role = plant.stock.role[pos]
    carried = role != ""
    findings: list[Finding] = []
    if (~carried).any():
        findings.append(
            Finding(
                Severity.INFO,
                "counts not posted",
                f"{int((~carried).sum())} counted items are not carried in an inventory account "
                f"under the '{plant.trigger.value}' trigger; their counts are not posted.",
                "Counts",
            )
        )
    ct = ct[carried].assign(role=role[carried], pos=pos[carried])
    if len(ct) == 0:
        return Counted(plant.post.empty(), tuple(findings), None)
    ct = _with_book(plant, ct, movements)
    findings += _beyond_tolerance(plant, ct, consumption)
    return Counted(_count_postings(plant, ct), tuple(findings), ct)


def _with_book(plant: Plant, ct: pd.DataFrame, movements: list[pd.DataFrame]) -> pd.DataFrame:
    """The counts with ``book`` (every stock movement of the item up to the count's date) and
    ``difference`` (book - counted; 0 within float noise)."""
    n = len(plant.codes)
    count_day = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    count_day[ct["pos"].to_numpy()] = ct["date"].to_numpy(dtype="datetime64[ns]")
    book = np.zeros(n)
    for frame in movements:
        code = frame["item"].cat.codes.to_numpy().astype(np.int64)
        # stock accounts only, real items only (not "" or the unitemized pseudo-item)
        take = in_stock(frame) & (code < n)
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
    return ct


def _count_postings(plant: Plant, ct: pd.DataFrame) -> pd.DataFrame:
    """Book adjusted to count: the difference at carried value, to USAGE."""
    diff = ct["difference"].to_numpy()
    unit = plant.standard_on(ct["date"], ct["pos"].to_numpy(), "unit_value")
    cents = to_cents(diff * unit)
    nz = cents != 0
    d = ct["date"].to_numpy()[nz]
    items = ct["pos"].to_numpy()[nz]
    return concat(
        [
            plant.post(d, COUNT, "USAGE", items, diff[nz], cents[nz], "count"),
            plant.post(d, COUNT, ct["role"].to_numpy()[nz], items, -diff[nz], -cents[nz]),
        ],
    )


def _manual_use(
    plant: Plant, ct: pd.DataFrame, consumption: tuple[Consumption, ...]
) -> npt.NDArray[np.float64]:
    """Per count: the standard use of an item issued by hand (Backflush = No) up to its date,
    which the flush never relieved, so its book is expected to exceed the count by it."""
    expected = np.zeros(len(ct))
    manual = ~plant.flushed[ct["pos"].to_numpy()]
    if not (manual.any() and consumption):
        return expected
    comp = np.concatenate([c.component for c in consumption])
    day = np.concatenate([c.date for c in consumption])
    qty = np.concatenate([c.quantity for c in consumption])
    by_hand = ~plant.flushed[comp]
    comp, day, qty = comp[by_hand], day[by_hand], qty[by_hand]
    ct_pos = ct["pos"].to_numpy()
    ct_day = ct["date"].to_numpy("datetime64[ns]")
    for k in np.flatnonzero(manual):
        mask = (comp == ct_pos[k]) & (day <= ct_day[k])
        expected[k] = float(qty[mask].sum())
    return expected


def _beyond_tolerance(
    plant: Plant, ct: pd.DataFrame, consumption: tuple[Consumption, ...]
) -> list[Finding]:
    """A warning per count whose unexplained difference is beyond the count tolerance."""
    tol = plant.inputs.settings.count_tolerance
    diff = ct["difference"].to_numpy()
    base = np.abs(ct["book"].to_numpy())
    expected = _manual_use(plant, ct, consumption)
    manual = ~plant.flushed[ct["pos"].to_numpy()]
    unexplained = diff - expected
    unit = plant.standard_on(ct["date"], ct["pos"].to_numpy(), "unit_value")
    beyond = (np.abs(unexplained) > tol * base + 1e-9) & (unexplained != 0)
    found = []
    for k in np.flatnonzero(beyond):
        judged = (
            f" It is issued by hand (Backflush = No): standard use was {expected[k]:,.6g}, "
            f"so {unexplained[k]:,.6g} ({_share(unexplained[k], base[k])}) is unexplained; "
            f"tolerance {tol:.1%}."
            if manual[k]
            else f" Tolerance {tol:.1%}."
        )
        value = abs(unexplained[k] * unit[k])
        found.append(_count_finding(plant, ct.iloc[k], diff[k], base[k], judged, value))
    return found


def _share(x: float, book: float) -> str:
    return f"{abs(x) / book:.1%} of book" if book else "book is zero"


def _count_finding(
    plant: Plant, r: pd.Series, d: float, book: float, judged: str, value: float
) -> Finding:
    """The warning for one count beyond tolerance; ``value``: the unexplained difference at
    the value the item is carried at (currency)."""
    return Finding(
        Severity.WARNING,
        "count beyond tolerance",
        f"{r['item']}: counted {r['counted_quantity']:,.6g}, book {r['book']:,.6g} "
        f"(difference {d:,.6g}, {_share(d, book)}).{judged} Book adjusted to the count; "
        "check the BOM quantities, scrap reporting and the count itself.",
        "Counts",
        plant.inputs.cell("Counts", "Counted Quantity", int(r["source_row"])),
        r["item"],
        value,
    )


def close(plant: Plant, frames: list[pd.DataFrame], sales: pd.DataFrame) -> Closed:
    """Close CCA and CCC; the difference to COGS (by element, to each element's account, when
    labour and overhead are kept apart: elements.py), or prorated (Settings: Prorate).
    ``frames``: every posting frame of the period, opening first; ``sales``: the sales'."""
    cca = sum(role_cents(f, "CCA") for f in frames)
    ccc = sum(role_cents(f, "CCC") for f in frames)
    diff = ccc + cca  # > 0: under-allocated (actual above allocated)
    if cca == 0 and ccc == 0:
        return Closed(plant.post.empty(), (), ConversionSummary(ccc, -cca, diff))
    elements, found = element_variances(plant, frames)
    summary = ConversionSummary(ccc, -cca, diff, elements)
    day = plant.end
    parts = [
        plant.post(day, CLOSE, "CCA", "", 0.0, -cca),
        plant.post(day, CLOSE, "CCC", "", 0.0, -ccc),
    ]
    findings = _conversion_findings(plant, summary) + found
    if plant.inputs.settings.conversion_variance == "Prorate" and diff:
        parts.append(_prorated(plant, frames, sales, diff))
    elif elements:
        parts.append(_by_element(plant, elements))
    elif diff:
        parts.append(plant.post(day, CLOSE, "COGS", "", 0.0, np.array([diff]), "conversion"))
    return Closed(concat(parts), tuple(findings), summary)


def _by_element(plant: Plant, elements: tuple[ElementVariance, ...]) -> pd.DataFrame:
    """Each element's variance to its account role (LABOR_VARIANCE, OVERHEAD_VARIANCE; COGS
    unless the Accounts sheet names them)."""
    whole = [e for e in elements if not e.cause and e.amount]
    return concat(
        [
            plant.post(
                plant.end,
                CLOSE,
                plant.inputs.posting_role(ELEMENT_ROLES[e.element]),
                "",
                0.0,
                np.array([e.amount]),
                "conversion",
            )
            for e in whole
        ]
        or [plant.post.empty()]
    )


def _conversion_findings(plant: Plant, summary: ConversionSummary) -> list[Finding]:
    """A warning when the conversion variance is beyond its tolerance of the allocated; by
    element when labour and overhead are kept apart, each against its own allocation."""
    tol = plant.inputs.settings.conversion_tolerance
    whole = [e for e in summary.elements if not e.cause]
    if whole:
        return [
            _tolerance_finding(e.element.lower(), e.standard, e.amount, tol)
            for e in whole
            if e.standard and abs(e.amount) > tol * abs(e.standard)
        ]
    allocated, diff = summary.allocated, summary.difference
    if not (allocated and abs(diff) > tol * abs(allocated)):
        return []
    return [_tolerance_finding("conversion", allocated, diff, tol)]


def _tolerance_finding(what: str, allocated: int, diff: int, tol: float) -> Finding:
    """``what`` ("conversion", "labor", "overhead") under- or over-allocated beyond tolerance."""
    name = {"labor": "Labour", "overhead": "Overhead"}.get(what, "Conversion costs")
    standards = {"labor": "labour"}.get(what, what)
    return Finding(
        Severity.WARNING,
        f"{what} variance beyond tolerance",
        f"{name} {'under' if diff > 0 else 'over'}-allocated by "
        f"{abs(diff) / 100:,.2f} ({abs(diff) / abs(allocated):.1%} of allocated; tolerance "
        f"{tol:.1%}). Review the {standards} standards or the costs incurred.",
        "Conversion Costs",
        amount=abs(diff) / 100,
    )


def _prorated(
    plant: Plant, frames: list[pd.DataFrame], sales: pd.DataFrame, diff: int
) -> pd.DataFrame:
    """The conversion variance spread over COGS, scrap and ending FG by conversion in them."""
    targets_role: list[str] = ["COGS", "SCRAP"]
    targets_item: list[str] = ["", ""]
    weights: list[float] = [
        _conversion_in_cogs(plant, sales),
        float(-sum(role_cents(f, "CCA", SCRAP) for f in frames)),
    ]
    if plant.trigger.records_finished_goods:
        p, quantity = _ending_finished_goods(plant, frames)
        w = quantity * plant.closing.conversion[p] * 100
        targets_role += ["FG"] * len(p)
        targets_item += list(plant.codes[p])
        weights += list(np.maximum(w, 0.0))
    alloc = allocate_cents(diff, weights)
    keep = alloc != 0
    return plant.post(
        plant.end,
        CLOSE,
        np.array(targets_role, dtype=object)[keep],
        np.array(targets_item, dtype=object)[keep],
        0.0,
        alloc[keep],
        "conversion",
    )


def _ending_finished_goods(
    plant: Plant, frames: list[pd.DataFrame]
) -> tuple[np.ndarray, np.ndarray]:
    """(positions, ending quantity) of the items that moved in FG, in Standard Costs order."""
    n = len(plant.codes)
    fg = ROLES.index("FG")
    seen, quantity = np.zeros(n, dtype=bool), np.zeros(n)
    for f in frames:
        code = f["item"].cat.codes.to_numpy().astype(np.int64)
        take = (f["role"].cat.codes.to_numpy() == fg) & (code < n)
        seen[code[take]] = True
        quantity += np.bincount(code[take], weights=f["quantity"].to_numpy()[take], minlength=n)
    p = np.flatnonzero(seen)
    return p, quantity[p]


def _conversion_in_cogs(plant: Plant, sales: pd.DataFrame) -> float:
    """Conversion at standard in the goods sold (cents, before rounding)."""
    if len(sales) == 0:
        return 0.0
    cogs = sales[sales["role"] == "COGS"]
    p = plant.index.positions(cogs["item"])
    conversion = plant.standard_on(cogs["date"], p, "conversion")
    return float((cogs["quantity"].to_numpy() * conversion * 100).clip(min=0).sum())


def sweep(plant: Plant, frames: list[pd.DataFrame]) -> Posted:
    """Sweep rounding residue out of inventory at Period End, in one journal entry (a posting
    per item and account): an item with no quantity closes at 0.00, and an item carried at
    standard closes at ROUND(quantity x unit standard, 2) where per-day rounding left it a few
    cents off (at most one cent per posting). So the closing carries no value without quantity,
    and next month's opening at this value revalues only where a standard really changed.
    ``frames``: every posting frame of the period, opening first."""
    n = len(plant.codes)
    quantity, moved, cents, count = _slots(plant, frames)
    empty = np.abs(quantity) <= QUANTITY_NOISE * np.maximum(moved, 1.0)
    role_of, item_of = np.divmod(np.arange(len(cents)), n)
    stock = plant.closing.stock  # the standards in force at Period End
    carrying = stock.code[item_of] == role_of
    standard = np.where(carrying, to_cents(quantity * stock.unit_value[item_of]), cents)
    target = np.where(empty, 0, standard)
    rounding = empty | (np.abs(cents - target) <= count)  # never more than a cent a posting
    at = np.flatnonzero((cents != target) & rounding)
    if not len(at):
        return Posted(plant.post.empty())
    role = np.asarray(ROLES, dtype=object)[at // n]
    item, left = at % n, cents[at] - target[at]
    postings = concat(
        [
            plant.post(plant.end, SWEEP, role, item, 0.0, -left, "rounding"),
            plant.post(plant.end, SWEEP, "ROUNDING", item, 0.0, left, "rounding"),
        ]
    )
    return Posted(postings)  # one entry on Period End; each item's cents are on Inventory


def _slots(
    plant: Plant, frames: list[pd.DataFrame]
) -> tuple[
    npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.int64]
]:
    """Per (role, item) slot of MIP and FG: quantity, quantity moved, cents, postings."""
    n = len(plant.codes)
    size = len(ROLES) * n
    quantity, moved = np.zeros(size), np.zeros(size)
    cents = np.zeros(size, dtype=np.int64)
    count = np.zeros(size, dtype=np.int64)
    for f in frames:
        code = f["item"].cat.codes.to_numpy().astype(np.int64)
        take = in_stock(f) & (code < n)  # real items in MIP or FG
        slot = f["role"].cat.codes.to_numpy().astype(np.int64)[take] * n + code[take]
        q = f["quantity"].to_numpy(np.float64)[take]
        quantity += np.bincount(slot, weights=q, minlength=size)
        moved += np.bincount(slot, weights=np.abs(q), minlength=size)
        cents += sum_cents(slot, f["cents"].to_numpy(np.int64)[take], size)
        count += np.bincount(slot, minlength=size)
    return quantity, moved, cents, count
