"""Whole-column parsing: a located table's raw columns into typed arrays, bad cells reported.

Whole columns are converted at once, so per-cell Python work happens only for bad cells: a
number column whose cells are all float/int/blank becomes float64 in one ``np.array`` call and a
text column of plain strings is stripped with one C-level ``map``; anything else (text in a
number column, dates, choices) goes through its distinct values, each read once by
:func:`addin.workbook.cells.read_cell`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from operator import not_

import numpy as np
import pandas as pd

from addin.costing.model import Severity
from addin.workbook import contract as C
from addin.workbook.cells import (
    EXCEL_ERRORS,
    Kind,
    Read,
    is_blank,
    read_cell,
)
from addin.workbook.cells import number_text as g
from addin.workbook.contract import Column
from addin.workbook.validation.report import MAX_FINDINGS_PER_RULE, Report
from addin.workbook.validation.table import NO_SAVED_VALUE, Table

MAX_ABS_NUMBER = 1e12  # larger numbers are taken as typing or unit mistakes


@dataclass
class Parsed:
    values: np.ndarray  # float64, datetime64[ns], bool or object (str)
    blank: np.ndarray  # bool: the cell is empty
    bad: np.ndarray  # bool: a finding was reported for the cell


def emit(
    report: Report,
    t: Table,
    col: str,
    idx: np.ndarray,
    describe: Callable[[int], tuple[str, str] | None],
) -> None:
    """Findings for the cells ``idx`` of one column; ``describe(i)`` -> (check, tail)."""
    letter = t.letter(col)
    shown = 0
    for i in idx.tolist():
        if shown >= MAX_FINDINGS_PER_RULE:
            report.skipped(Severity.ERROR, "bad cell", t.sheet, letter, len(idx) - shown)
            return
        issue = describe(i)
        if issue is not None:
            check, tail = issue
            report.error(check, f"{col} {tail}", t.sheet, t.cell(col, i), group=letter)
            shown += 1


_KIND_CHECK = {
    Kind.NUMBER: "not a number",
    Kind.PERCENT: "not a number",
    Kind.DATE: "not a date",
    Kind.TEXT: "bad text",
    Kind.CHOICE: "unknown choice",
    Kind.YESNO: "not yes/no",
}


def _check_of(problem: str | None, col: Column) -> tuple[str, str] | None:
    if problem is None:
        return None
    return ("excel error" if "(an Excel error)" in problem else _KIND_CHECK[col.kind]), problem


def number_issue(x: float, col: Column) -> tuple[str, str] | None:
    """(check, message tail) for a parsed number that breaks the column's rules."""
    if not math.isfinite(x):
        return "not a number", "is not a finite number; type a number"
    if abs(x) > MAX_ABS_NUMBER:
        return (
            "implausible number",
            f"is {x:,.0f}, which is implausibly large (more than 1,000,000,000,000); "
            "check the cell",
        )
    if col.kind is Kind.PERCENT:
        if x > 1:
            return (
                "percent as number",
                f"is {g(x)}; did you mean {g(x)}%? Type {g(x)}% (Excel stores {g(x / 100)})",
            )
        if x < 0:
            return "negative", f"is {g(x * 100)}%; it cannot be negative"
    if col.positive and x <= 0:
        return "not positive", f"is {g(x)}; it must be more than 0"
    if col.min_value is not None and x < col.min_value:
        if col.min_value == 0:
            return "negative", f"is {g(x)}; it cannot be negative"
        return "too small", f"is {g(x)}; it must be at least {g(col.min_value)}"
    return None


def scalar(v: object, col: Column) -> Read:
    """(value, problem) for one non-blank cell: the shared reading, plus the text limits."""
    value, problem = read_cell(v, col)
    if problem is None and col.kind is Kind.TEXT:
        problem = _text_limit_problem(str(value), col)
    return value, problem


def _text_limit_problem(text: str, col: Column) -> str | None:
    """Why ``text`` is too long for where it goes (None when it fits): a cell holds 32,767
    characters (longer text cannot come from Excel, but can from other tools, and would be cut
    in the results); Company also goes into every page header."""
    if len(text) <= C.COMPANY_TEXT_LIMIT // 2:
        return None
    n = C.excel_length(text)
    if n > C.CELL_TEXT_LIMIT:
        return (
            f"is {n:,} characters long, more than the {C.CELL_TEXT_LIMIT:,} an Excel cell holds; "
            "shorten it"
        )
    if col.key == "company":
        n = C.excel_length(text.replace("&", "&&"))
        if n > C.COMPANY_TEXT_LIMIT:
            amp = " (an & counts twice)" if "&" in text else ""
            return (
                f"is {n:,} characters long{amp}; it is printed in the page header of every "
                f"result tab, which Excel limits to {C.HEADER_TEXT_LIMIT} characters with the "
                f"period: shorten it to at most {C.COMPANY_TEXT_LIMIT}"
            )
    return None


def _parse_column(t: Table, col: Column, report: Report) -> Parsed:
    arr = t.raw[col.name]
    special = t.special.get(col.name, {})
    if special:
        arr = arr.copy()
        arr[list(special)] = None
    if col.kind in (Kind.NUMBER, Kind.PERCENT):
        parsed = _parse_numbers(t, col, arr, report)
    else:
        parsed = _parse_by_value(t, col, arr, report)
    if special:
        idx = np.fromiter(special, dtype=np.int64, count=len(special))
        idx.sort()
        parsed.blank[idx] = False
        parsed.bad[idx] = True
        check = {NO_SAVED_VALUE: "formula without value"}
        emit(report, t, col.name, idx, lambda i: (check.get(special[i], "excel error"), special[i]))
    return parsed


_PLAIN_NUMBER_TYPES = frozenset({float, int, type(None)})
_TEXT_TYPES = frozenset({str, type(None)})


def _plain_numbers(arr: np.ndarray) -> np.ndarray | None:
    """The usual case, floats and blanks, as float64 in one call (None -> NaN); None when some
    cell is anything else."""
    cells = arr.tolist()
    if not set(map(type, cells)) <= _PLAIN_NUMBER_TYPES:
        return None
    try:
        return np.array(cells, dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        return None


def _numbers_by_value(
    t: Table, col: Column, arr: np.ndarray, bad: np.ndarray, report: Report
) -> np.ndarray:
    """The slow path: numbers as they are, every other distinct value read once; bad cells
    are reported and marked in ``bad``."""
    n = len(arr)
    is_num = np.fromiter(
        (isinstance(v, (int, float)) and not isinstance(v, bool) for v in arr), bool, n
    )
    values = np.full(n, np.nan)
    values[is_num] = arr[is_num].astype(np.float64)
    rest = np.flatnonzero(~is_num)
    codes, uniques = pd.factorize(arr[rest])
    u_val = np.full(len(uniques) + 1, np.nan)
    u_msg: list[str | None] = []
    for k, u in enumerate(uniques):
        x, problem = (None, None) if is_blank(u) else scalar(u, col)
        u_msg.append(problem)
        if x is not None and problem is None:
            u_val[k] = x  # type: ignore[assignment]
    u_msg.append(None)
    values[rest] = u_val[codes]
    u_bad = np.array([m is not None for m in u_msg], dtype=bool)
    bad_rest = rest[u_bad[codes]]
    bad[bad_rest] = True
    cell_codes = dict(zip(rest.tolist(), codes.tolist(), strict=True))
    emit(report, t, col.name, bad_rest, lambda i: _check_of(u_msg[cell_codes[i]], col))
    return values


def _parse_numbers(t: Table, col: Column, arr: np.ndarray, report: Report) -> Parsed:
    bad = np.zeros(len(arr), dtype=bool)
    values = _plain_numbers(arr)
    if values is None:  # only the cells that are not numbers are parsed one by one
        values = _numbers_by_value(t, col, arr, bad, report)
    blank = np.isnan(values) & ~bad
    ok = ~blank & ~bad
    with np.errstate(invalid="ignore"):
        wrong = ~np.isfinite(values) | (np.abs(values) > MAX_ABS_NUMBER)
        if col.kind is Kind.PERCENT:
            wrong |= (values > 1) | (values < 0)
        if col.positive:
            wrong |= values <= 0
        if col.min_value is not None:
            wrong |= values < col.min_value
    wrong &= ok
    if wrong.any():
        idx = np.flatnonzero(wrong)
        bad[idx] = True
        found = values
        emit(report, t, col.name, idx, lambda i: number_issue(float(found[i]), col))
    return Parsed(values, blank, bad)


def _parse_text_fast(arr: np.ndarray, col: Column) -> Parsed | None:
    """A text column holding only strings and blanks (the usual case), without factorising.

    Stripping and the Excel-error check are done once per distinct value (a million-line BOM
    has some thousands), so the cells are walked only to take their types and distinct values.
    """
    if col.kind is not Kind.TEXT:
        return None
    cells = arr.tolist()
    types = set(map(type, cells))
    if str not in types or not types <= _TEXT_TYPES:
        return None
    n = len(cells)
    distinct = set(cells)
    distinct.discard(None)
    changed = {u: s for u in distinct if (s := u.strip()) is not u}  # str.strip returns u itself
    values = (distinct - changed.keys()) | set(changed.values())
    if not EXCEL_ERRORS.isdisjoint(values):
        return None  # the general path words the Excel-error findings
    if max(map(len, values), default=0) > C.CELL_TEXT_LIMIT // 2:
        return None  # maybe longer than a cell holds: the general path measures and words it
    if changed:
        get = changed.get
        cells = [get(v, v) if v is not None else "" for v in cells]
        stripped = np.fromiter(cells, dtype=object, count=n)
    else:
        stripped = arr
    if type(None) in types or "" in values:
        blank = np.fromiter(map(not_, cells), dtype=bool, count=n)  # None and "" are blank
        if blank.any():
            stripped = stripped.copy() if stripped is arr else stripped
            stripped[blank] = "" if col.default is None else str(col.default)
    else:
        blank = np.zeros(n, dtype=bool)
    return Parsed(stripped, blank, np.zeros(n, dtype=bool))


def _typed(col: Column, u_val: list[object], codes: np.ndarray) -> np.ndarray:
    """Distinct parsed values (None = blank or bad) spread back to every cell, typed by kind."""
    if col.kind is Kind.DATE:
        stamps = pd.DatetimeIndex([x if x is not None else pd.NaT for x in u_val])
        return stamps.astype("datetime64[ns]").to_numpy()[codes]
    if col.kind is Kind.YESNO:
        default = bool(col.default) if col.default is not None else False
        return np.array([default if x is None else x for x in u_val], dtype=bool)[codes]
    fill = "" if col.default is None else str(col.default)
    return np.array([fill if x is None else x for x in u_val], dtype=object)[codes]


def _parse_by_value(t: Table, col: Column, arr: np.ndarray, report: Report) -> Parsed:
    """Text, choices, yes/no and dates: each distinct value is parsed once."""
    fast = _parse_text_fast(arr, col)
    if fast is not None:
        return fast
    codes, uniques = pd.factorize(arr)
    u_val: list[object] = []
    u_msg: list[str | None] = []
    u_blank: list[bool] = []
    for u in uniques:
        blank = is_blank(u)
        x, problem = (None, None) if blank else scalar(u, col)
        u_val.append(x)
        u_msg.append(problem)
        u_blank.append(blank)
    u_val.append(None)
    u_msg.append(None)
    u_blank.append(True)
    bad = np.array([m is not None for m in u_msg], dtype=bool)[codes]
    if bad.any():
        emit(report, t, col.name, np.flatnonzero(bad), lambda i: _check_of(u_msg[codes[i]], col))
    return Parsed(_typed(col, u_val, codes), np.array(u_blank, dtype=bool)[codes], bad)


@dataclass
class Frame:
    """A parsed sheet: typed columns for the rows that are not blank."""

    table: Table
    values: dict[str, np.ndarray]
    bad: dict[str, np.ndarray]
    index: np.ndarray  # row positions in table (for cell references)

    @property
    def rows(self) -> np.ndarray:
        return self.table.rows[self.index]

    def cell(self, col: str, k: int) -> str:
        return self.table.cell(col, int(self.index[k]))

    def __len__(self) -> int:
        return len(self.index)


def _blank_message(hint: str) -> Callable[[int], tuple[str, str]]:
    """The (check, message tail) of a blank required cell, whatever its row."""
    return lambda _row: ("blank", f"is blank; {hint}")


_BLANK_HINTS = {
    Kind.TEXT: "type it",
    Kind.NUMBER: "type a number (0 if none)",
    Kind.PERCENT: "type a percentage",
    Kind.DATE: "type a date such as 2026-10-31",
}


def _report_blanks(t: Table, parsed: dict[str, Parsed], keep: np.ndarray, report: Report) -> None:
    """Blank cells of required columns (without a default) on the rows kept (not where the
    column's ``blank_with`` column is filled)."""
    for name, p in parsed.items():
        col = t.spec.column(name)
        if col.required and col.default is None:
            missing = keep[p.blank[keep]]
            if col.blank_with in parsed:  # blank accepted where that column is filled
                missing = missing[parsed[col.blank_with].blank[missing]]
            if len(missing):
                hint = _BLANK_HINTS.get(col.kind, f"type one of: {', '.join(col.choices)}")
                p.bad[missing] = True
                emit(report, t, name, missing, _blank_message(hint))


def parse_table(t: Table, report: Report) -> Frame:
    """Parse every present column, drop blank rows, report blanks in required columns."""
    parsed = {name: _parse_column(t, t.spec.column(name), report) for name in t.columns}
    n = len(t.rows)
    empty = np.ones(n, dtype=bool)
    for p in parsed.values():
        empty &= p.blank
    keep = np.flatnonzero(~empty)
    _report_blanks(t, parsed, keep, report)
    if len(keep) == n:  # no blank rows: the parsed columns are used as they are
        return Frame(
            t,
            {name: p.values for name, p in parsed.items()},
            {name: p.bad for name, p in parsed.items()},
            keep,
        )
    return Frame(
        t,
        {name: p.values[keep] for name, p in parsed.items()},
        {name: p.bad[keep] for name, p in parsed.items()},
        keep,
    )


def missing_columns(t: Table, report: Report) -> bool:
    """Errors for required columns the header lacks; True when the sheet cannot be used."""
    bad = bool(t.outside)  # reported as beside the table
    present = set(t.columns) | t.outside
    for c in t.spec.columns:
        if c.required and c.name not in present:
            report.error(
                "missing column",
                f'column "{c.name}" is missing; add a header "{c.name}" in row {t.header_row}',
                t.sheet,
            )
            bad = True
    if t.spec.one_of and not any(all(n in present for n in g) for g in t.spec.one_of):
        options = " or ".join(" and ".join(f'"{n}"' for n in g) for g in t.spec.one_of)
        report.error(
            "missing column",
            f"needs {options} columns; add them in row {t.header_row}",
            t.sheet,
        )
        bad = True
    return bad
