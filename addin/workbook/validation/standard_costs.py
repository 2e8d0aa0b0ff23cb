"""Standard Costs: one row per item, with its type and this level's standard per unit.

The conversion standard is kept either as one Conversion element or split into Labor and
Overhead; a split row's Conversion (when given) must equal Labor + Overhead.

With the optional Effective From column an item may have several rows (backflush-domain.md
section 7: changing a standard is an explicit, dated act). The row in force at Period Start is
the one with the latest Effective From on or before it (blank = always); rows dated after it
are dated changes (the engine revalues stock on hand on their date); earlier rows are
superseded, rows after Period End wait for their month. Each is stated, none is dropped.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from addin.costing.model import Severity
from addin.workbook.cells import number_text as g
from addin.workbook.validation.columns import Frame
from addin.workbook.validation.frames import date, empty, engine_frame, num
from addin.workbook.validation.items import Items, canonical_items, item_keys
from addin.workbook.validation.report import MAX_FINDINGS_PER_RULE, Report
from addin.workbook.validation.settings import Period

_ALWAYS = np.iinfo(np.int64).min  # a blank Effective From: in force since always


class StandardCosts(NamedTuple):
    """Standard Costs parsed: the standards in force at Period Start (one row per item), the
    dated changes after it, and the item map."""

    in_force: pd.DataFrame
    changes: pd.DataFrame
    items: Items


def _conversion(f: Frame, keep: np.ndarray, report: Report) -> dict[str, np.ndarray]:
    """labor, overhead and conversion per row. A row is split when it gives Labor or Overhead,
    or when the sheet keeps the split columns and the row has no Conversion; blanks in a split
    row are 0, and an unsplit row's labor and overhead are NaN."""
    labor, overhead = num(f, "Labor"), num(f, "Overhead")
    conversion = num(f, "Conversion")
    split = ~np.isnan(labor) | ~np.isnan(overhead)
    if "Labor" in f.values and "Overhead" in f.values:
        split |= np.isnan(conversion)
    total = np.where(split, np.nan_to_num(labor) + np.nan_to_num(overhead), np.nan)
    if "Conversion" in f.values:
        differs = split & ~np.isnan(conversion) & (np.abs(conversion - total) > 0.005)
        for k in np.flatnonzero(differs & keep)[:MAX_FINDINGS_PER_RULE].tolist():
            report.error(
                "conversion split",
                f"Conversion {g(conversion[k])} is not Labor + Overhead ({g(total[k])}); "
                "correct one of them or leave Conversion blank",
                f.table.sheet,
                f.cell("Conversion", k),
                item=str(f.values["Item"][k]),
            )
    return {
        "labor": np.where(split, np.nan_to_num(labor), np.nan),
        "overhead": np.where(split, np.nan_to_num(overhead), np.nan),
        "conversion": np.where(split, total, np.nan_to_num(conversion)),
    }


def parse_standard_costs(
    f: Frame | None, report: Report, period: Period | None = None
) -> StandardCosts | None:
    """The standard-costs frames (items in sheet order, duplicates left out) and the item map."""
    if f is None:
        return None
    current, changes = _effective_rows(f, period, report)
    items, keep = canonical_items(f, report, current)
    given = {
        **_conversion(f, keep | changes, report),
        "material": num(f, "Material", 0.0),
        "backflush": f.values["Backflush"].astype(bool)
        if "Backflush" in f.values
        else np.ones(len(f), dtype=bool),
    }
    in_force = engine_frame(f, given, np.flatnonzero(keep))
    changes &= _changes_checked(f, items, changes, report)
    if not changes.any():
        return StandardCosts(in_force, empty(f.table.spec), items)
    keys = item_keys(f)
    given["item"] = np.array([items.canonical.get(k, "") for k in keys], dtype=object)
    return StandardCosts(in_force, engine_frame(f, given, np.flatnonzero(changes)), items)


def _effective_rows(
    f: Frame, period: Period | None, report: Report
) -> tuple[np.ndarray, np.ndarray]:
    """(rows in force at Period Start, rows of dated changes after it). Without Effective From
    dates every row is in force (duplicates are then errors, as ever)."""
    eff = date(f, "Effective From")
    every, none = np.ones(len(f), dtype=bool), np.zeros(len(f), dtype=bool)
    if period is None or np.isnat(eff).all():
        return every, none
    day = np.where(np.isnat(eff), _ALWAYS, eff.astype("datetime64[ns]").astype(np.int64))
    start = np.datetime64(period.start, "ns").astype(np.int64)
    usable = ~f.bad["Item"] & ~f.bad["Effective From"]
    rows = pd.DataFrame({"key": item_keys(f), "day": day})[usable]
    by_item = rows.groupby("key")["day"]
    latest = rows["day"].where(rows["day"] <= start).groupby(rows["key"]).transform("max")
    first = by_item.transform("min")
    chosen = np.where(latest.isna(), first, latest)
    current, later = none.copy(), none.copy()
    current[rows.index] = rows["day"].to_numpy() == chosen
    later[rows.index] = rows["day"].to_numpy() > chosen
    superseded = usable & ~current & ~later
    _note_rows(f, superseded, "superseded standard", "are superseded by a later Effective "
               "on or before Period Start: not used", report)  # fmt: skip
    end = np.datetime64(period.end, "ns").astype(np.int64)
    _note_rows(f, later & (day > end), "standard after the period", "take effect after Period "
               "End: not used this month (`backflush next` carries them)", report)  # fmt: skip
    _note_rows(f, current & (day > start), "standard from a later date", "are the first "
               "standard of their item but take effect after Period Start: used from Period "
               "Start (no stock can be on hand at an older standard)", report)  # fmt: skip
    return current | ~usable, later


def _note_rows(f: Frame, mask: np.ndarray, check: str, what: str, report: Report) -> None:
    """One info finding naming the rows of ``mask`` (the first few) and what became of them."""
    rows = f.rows[mask].tolist()
    if not rows:
        return
    shown = ", ".join(str(r) for r in rows[:5]) + (
        f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    )
    report.add(
        Severity.INFO,
        check,
        f"{len(rows)} row{'s' if len(rows) > 1 else ''} ({shown}) {what}",
        f.table.sheet,
        f.cell("Effective From", int(np.flatnonzero(mask)[0])),
    )


def _changes_checked(f: Frame, items: Items, changes: np.ndarray, report: Report) -> np.ndarray:
    """Dated changes must keep the item's Type and not repeat a date; returns the usable mask."""
    ok = changes.copy()
    keys = item_keys(f)
    eff = date(f, "Effective From")
    dup = pd.DataFrame({"k": keys, "d": eff})[changes].duplicated(keep="first")
    for k in dup[dup].index.tolist():
        ok[k] = False
        report.error(
            "duplicate standard change",
            f'item "{f.values["Item"][k]}" already has a standard taking effect on '
            f"{pd.Timestamp(eff[k]):%Y-%m-%d}; keep one row per item and date",
            f.table.sheet,
            f.cell("Effective From", k),
            item=str(f.values["Item"][k]),
        )
    if "Type" not in f.values:
        return ok
    for k in np.flatnonzero(changes).tolist():
        code = items.canonical.get(keys[k])
        if code is not None and f.values["Type"][k] != items.types.get(code):
            ok[k] = False
            report.error(
                "standard change type",
                f'item "{code}" is {items.types.get(code)} on the row in force at Period Start; '
                "a dated standard change changes costs only: give it the same Type",
                f.table.sheet,
                f.cell("Type", k),
                item=code,
            )
    return ok
