"""The Settings sheet: one row per setting (Setting, Value), read into :class:`Settings`.

The period is read on its own so that transaction dates are still checked against it when
another setting is wrong; when the period cannot be read, the errors that say why also say that
the dates were not checked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from addin.costing.model import Settings, Severity, Trigger
from addin.workbook import contract as C
from addin.workbook.cells import Kind, excel_error, is_blank, normalize_name, text
from addin.workbook.contract import Column
from addin.workbook.reader import SheetRows
from addin.workbook.validation.columns import missing_columns, number_issue, scalar
from addin.workbook.validation.report import Report
from addin.workbook.validation.table import Table, closest, locate

DATES_NOT_CHECKED = (
    "; until the period can be read, the dates on the other sheets are not checked against it"
)
_PERIOD_KEYS = ("period_start", "period_end")
_EXAMPLE_SETTING = '"Conversion Variance"'


@dataclass(frozen=True)
class Period:
    """Period Start and End as read from Settings; known even when another setting is bad."""

    start: dt.date
    end: dt.date


def _note_dates_not_checked(report: Report, first: int, only: set[int] | None = None) -> None:
    """Append :data:`DATES_NOT_CHECKED` to the Settings errors reported since ``first``
    (or to those at ``only``): the period could not be read, so no date was checked."""
    for k in range(first, len(report.findings)):
        f = report.findings[k]
        if f.severity is Severity.ERROR and (only is None or k in only):
            report.findings[k] = f._replace(message=f.message + DATES_NOT_CHECKED)


def _setting_name_problem(sr: SheetRows, t: Table, i: int, value_filled: bool) -> str | None:
    """Why the Setting cell of row ``i`` cannot be read (an Excel error, a formula with no saved
    value, or blank beside a filled Value); None when it holds a name."""
    row, col = int(t.rows[i]), t.columns["Setting"]
    fix = f"type the setting's name, e.g. {_EXAMPLE_SETTING}"
    if (row, col) in sr.error_cells:
        return f"setting name is {sr.error_cells[(row, col)]} (an Excel error); {fix}"
    if (row, col) in sr.uncached_formulas:
        return f"setting name is a formula with no saved value; {fix}"
    name = t.raw["Setting"][i]
    error = excel_error(name)
    if error is not None:
        return f"setting name is {error} (an Excel error); {fix}"
    if is_blank(name) and value_filled:
        return f"setting name is blank but its Value is filled; {fix}, or clear the value"
    return None


def _unknown_setting(
    report: Report, sheet: str, cell: str, name: str, value_filled: bool, vcell: str
) -> None:
    """An unknown setting name: an error when its Value is filled (the value would be lost),
    a warning when the row is a label with no value."""
    guess = closest(name, C.SETTING_ROWS)
    if not value_filled:
        hint = f' (did you mean "{guess}"?)' if guess else ""
        report.add(
            Severity.WARNING, "unknown setting",
            f'setting "{name}" is not known{hint} and has no value; it is ignored', sheet, cell,
        )  # fmt: skip
        return
    fix = (
        f'did you mean "{guess}"? Correct the name'
        if guess
        else f"use one of: {', '.join(C.SETTING_ROWS)}"
    )
    report.error(
        "unknown setting",
        f'setting "{name}" is not known, so its value ({vcell}) would be lost; {fix}',
        sheet,
        cell,
    )


@dataclass
class _Read:
    """What reading the Settings rows found so far."""

    sr: SheetRows
    report: Report
    got: dict[str, object] = field(default_factory=dict)  # setting key -> value
    where: dict[str, str] = field(default_factory=dict)  # setting key -> cell of its name
    value_cell: dict[str, str] = field(default_factory=dict)
    reported: set[str] = field(default_factory=set)
    period_errors: set[int] = field(default_factory=set)  # indices into report.findings
    ok: bool = True

    def fail(self, key: str, check: str, message: str, cell: str) -> None:
        if key in _PERIOD_KEYS:
            self.period_errors.add(len(self.report.findings))
        self.report.error(check, message, self.sr.name, cell)
        self.ok = False


def _setting_value(value: object, special: str | None, col: Column) -> tuple[object, str | None]:
    """(value, problem) of a setting's Value cell; (None, None) when it is blank."""
    if special is not None or is_blank(value):
        return None, special
    parsed, problem = scalar(value, col)
    if problem is None and col.kind in (Kind.NUMBER, Kind.PERCENT):
        issue = number_issue(float(parsed), col)  # type: ignore[arg-type]
        problem = issue[1] if issue else None
    return parsed, problem


def _read_row(r: _Read, t: Table, i: int, name: object, value: object) -> None:
    """One Settings row: its name checked, its value parsed into ``r.got``."""
    cell = t.cell("Setting", i)
    vcell = f"{t.letter('Value')}{int(t.rows[i])}" if "Value" in t.columns else cell
    special = t.special.get("Value", {}).get(i)
    filled = special is not None or not is_blank(value)
    problem = _setting_name_problem(r.sr, t, i, filled)
    if problem is not None:
        r.report.error("bad setting name", problem, r.sr.name, cell)
        r.ok = False
        return
    if is_blank(name):
        return
    col = _KNOWN.get(normalize_name(text(name)))
    if col is None:
        _unknown_setting(r.report, r.sr.name, cell, text(name), filled, vcell)
        r.ok = r.ok and not filled
        return
    if col.key in r.got or col.key in r.where:
        twice = f'"{col.name}" is set twice (also {r.where[col.key]}); keep one row'
        r.fail(col.key, "duplicate setting", twice, cell)
        r.reported.add(col.key)
        r.got.pop(col.key, None)
        return
    r.where[col.key], r.value_cell[col.key] = cell, vcell
    parsed, problem = _setting_value(value, special, col)
    if problem is not None:
        r.fail(col.key, "bad setting", f"{col.name} {problem}", vcell)
        r.reported.add(col.key)
    elif parsed is not None:
        r.got[col.key] = parsed


_KNOWN = {normalize_name(k): c for k, c in C.SETTING_ROWS.items()}


def _fill_defaults(r: _Read) -> None:
    """Required settings missing or without a value are errors; optional ones get defaults."""
    for col in C.SETTING_ROWS.values():
        if col.key in r.got or col.key in r.reported:
            continue
        if col.required and col.key not in r.where:
            accepted = f" ({', '.join(col.choices)})" if col.choices else ""
            r.fail(
                col.key,
                "missing setting",
                f'setting "{col.name}" is missing; add a row with Setting "{col.name}" and its '
                f"value{accepted}",
                "",
            )
        elif col.required:
            r.fail(col.key, "missing setting", f"{col.name} has no value; fill it in",
                   r.value_cell[col.key])  # fmt: skip
        else:
            r.got[col.key] = col.default


def _period(r: _Read) -> Period | None:
    """Period Start and End when both were read and End is not before Start."""
    start, end = r.got.get("period_start"), r.got.get("period_end")
    if not isinstance(start, pd.Timestamp) or not isinstance(end, pd.Timestamp):
        return None
    if end < start:
        r.period_errors.add(len(r.report.findings))
        r.report.error(
            "period",
            f"Period End {end:%Y-%m-%d} is before Period Start {start:%Y-%m-%d}; correct them",
            r.sr.name,
            r.value_cell["period_end"],
        )
        return None
    return Period(start.date(), end.date())


def _settings(got: dict[str, object], period: Period) -> Settings:
    """:class:`Settings` from the values read, typed by the contract's kinds."""
    values: dict[str, object] = {}
    for col in C.SETTING_ROWS.values():
        v = got[col.key]
        if col.kind is Kind.NUMBER:  # optional amounts (Materiality): None when blank
            values[col.key] = None if v is None else float(v)  # type: ignore[arg-type]
            continue
        values[col.key] = float(v) if col.kind is Kind.PERCENT else str(v)  # type: ignore[arg-type]
    values["period_start"], values["period_end"] = period.start, period.end
    values["trigger"] = Trigger(values["trigger"])
    return Settings(**values)  # type: ignore[arg-type]


def _settings_table(found: dict[str, SheetRows], report: Report) -> tuple[SheetRows, Table] | None:
    """The Settings sheet located with its columns; None (errors reported) when unusable."""
    first = len(report.findings)
    sr = found.get(C.SETTINGS)
    if sr is None:
        missing = {
            k
            for k, f in enumerate(report.findings)
            if f.check == "missing sheet" and f.sheet == C.SETTINGS
        }
        _note_dates_not_checked(report, 0, missing)
        return None
    t = locate(sr, C.SHEETS_BY_NAME[C.SETTINGS], report)
    if t is None:
        report.error("empty sheet", "sheet is empty; add Setting and Value columns", sr.name)
        _note_dates_not_checked(report, first)
        return None
    if missing_columns(t, report):
        _note_dates_not_checked(report, first)
        return None
    return sr, t


def parse_settings(
    found: dict[str, SheetRows], report: Report
) -> tuple[Settings | None, Period | None]:
    """The Settings sheet: (settings or None when any is wrong, the period when it was read)."""
    first = len(report.findings)
    located = _settings_table(found, report)
    if located is None:
        return None, None
    sr, t = located
    names = t.raw["Setting"]
    values = t.raw.get("Value", np.full(len(names), None, dtype=object))
    r = _Read(sr, report)
    for i, (name, value) in enumerate(zip(names.tolist(), values.tolist(), strict=True)):
        _read_row(r, t, i, name, value)
    _fill_defaults(r)
    period = _period(r)
    if period is None:
        _note_dates_not_checked(report, first, r.period_errors)
    if not r.ok or period is None:
        return None, period
    return _settings(r.got, period), period
