"""Amounts beyond what the month-end keeps exact to the cent: located errors, not silent loss.

money.MAX_LINE_CENTS per item and day, money.MAX_TOTAL_CENTS for the month (Excel keeps 15
significant digits).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from addin.costing.model import Finding, Severity
from addin.costing.money import MAX_LINE_CENTS, MAX_TOTAL_CENTS
from addin.costing.plant import Plant
from addin.costing.postings import EVENT_DTYPE, EVENT_SHEET
from addin.costing.results import InputError


def magnitude_findings(
    plant: Plant, frames: list[pd.DataFrame], before: dict[str, float] | None = None
) -> tuple[list[Finding], dict[str, float]]:
    """Amounts beyond what is kept exact (money.MAX_LINE_CENTS per item and day, MAX_TOTAL_CENTS
    for the month): one error per event, item and day (the sheet and rows behind it, at most
    20), or one for the month's total. Lines without an item (conversion costs, the close,
    rounding, material not backed by BOM lines) are sums, held by the month's limit.
    Returns the errors and the month's absolute cents so far per source sheet."""
    found: dict[tuple[str, str, pd.Timestamp], Finding] = {}
    by_sheet: dict[str, float] = dict(before or {})  # absolute cents per source sheet
    n = len(plant.codes)
    for frame in frames:
        _add_per_sheet(frame, by_sheet)
        cents = frame["cents"].to_numpy(np.int64)
        itemized = frame["item"].cat.codes.to_numpy() < n
        for k in np.flatnonzero(itemized & (np.abs(cents) > MAX_LINE_CENTS)).tolist():
            posting = frame.iloc[k]
            key = (str(posting["event"]), str(posting["item"]), pd.Timestamp(posting["date"]))
            if key not in found and len(found) < 20:
                found[key] = _too_large(plant, posting)
    total = sum(by_sheet.values())
    if not found and total > MAX_TOTAL_CENTS:
        return [_month_too_large(by_sheet, total)], by_sheet
    return list(found.values()), by_sheet


def _add_per_sheet(frame: pd.DataFrame, by_sheet: dict[str, float]) -> None:
    """Add a posting frame's absolute cents to ``by_sheet``, per source sheet of its events."""
    magnitude = np.abs(frame["cents"].to_numpy(np.int64)).astype(np.float64)
    events = frame["event"].cat.codes.to_numpy()
    per_event = np.bincount(events, weights=magnitude, minlength=len(EVENT_DTYPE.categories))
    for code in np.flatnonzero(per_event).tolist():
        sheet = EVENT_SHEET.get(str(EVENT_DTYPE.categories[code]), "Settings")
        by_sheet[sheet] = by_sheet.get(sheet, 0.0) + float(per_event[code])


def _month_too_large(by_sheet: dict[str, float], total: float) -> Finding:
    largest = max(by_sheet, key=lambda k: by_sheet[k])
    return Finding(
        Severity.ERROR,
        "amount too large",
        f"the month's amounts add up to {total / 100:,.0f}, beyond the supported "
        f"{MAX_TOTAL_CENTS / 100:,.2f}: totals that large cannot be kept to the cent "
        f"(Excel keeps 15 significant digits); the largest part, "
        f"{by_sheet[largest] / 100:,.0f}, comes from this sheet. Check quantities and "
        "prices for a unit or typing mistake, or split the month.",
        largest,
    )


def refuse_too_large(
    plant: Plant, frames: list[pd.DataFrame], before: dict[str, float] | None = None
) -> dict[str, float]:
    """Raise InputError for amounts beyond the supported magnitudes; else the month's
    absolute amounts so far, per sheet (pass them on with the next frames)."""
    too_large, by_sheet = magnitude_findings(plant, frames, before)
    if too_large:
        raise InputError(too_large)
    return by_sheet


def _source_rows(plant: Plant, sheet: str, item: str, date: pd.Timestamp) -> npt.NDArray[np.int64]:
    """Worksheet rows of ``sheet`` on ``date`` (and of ``item``, when the sheet has it)."""
    source = {
        "Purchases": plant.inputs.purchases,
        "Conversion Costs": plant.inputs.conversion_costs,
        "Completions": plant.inputs.completions,
        "Sales": plant.inputs.sales,
        "Counts": plant.inputs.counts,
        "Opening Balances": plant.inputs.opening_balances,
    }.get(sheet)
    if source is None or len(source) == 0:
        return np.zeros(0, dtype=np.int64)
    take = np.ones(len(source), dtype=bool)
    if "date" in source:
        dates = pd.to_datetime(source["date"]).fillna(plant.end).to_numpy("datetime64[ns]")
        take &= dates == date.to_datetime64()
    if "item" in source:
        same = (source["item"].astype(str) == item).to_numpy()
        if (take & same).any():
            take &= same
    return np.unique(source["source_row"].to_numpy()[take].astype(np.int64))


def _too_large(plant: Plant, posting: pd.Series) -> Finding:
    """The located error for one posting whose amount is beyond MAX_LINE_CENTS."""
    event, item = str(posting["event"]), str(posting["item"])
    date = pd.Timestamp(posting["date"])
    sheet = EVENT_SHEET.get(event, "")
    rows = _source_rows(plant, sheet, item, date)
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
