"""Validation: neutral sheet rows in, :class:`MonthEndInputs` (or every problem) out.

``parse_inputs`` reads every input sheet named in :mod:`addin.workbook.contract`, converts cells
by the column's :class:`~addin.workbook.contract.Kind`, checks the cross-sheet rules (items,
phantoms, BOM cycles, the period) and returns all findings of one pass. Each finding names the
sheet as spelled in the workbook, the cell ("C14"; "" for a whole sheet) and the item where one
is concerned, and ends with what to do.

Conventions:
- Sheet, column and setting names, item codes and choices match case-insensitively with
  surrounding spaces ignored (``contract.normalize_name``).
- Whole columns are converted at once, so per-cell Python work happens only for bad cells:
  only the contract's columns are taken out of the rows; a number column whose cells are all
  float/int/blank becomes float64 in one ``np.array`` call and a text column of plain strings is
  stripped with one C-level ``map``; anything else (text in a number column, dates, choices)
  goes through its distinct values.
- Dates are day precision: a time of day is dropped. Frames carry ``source_row``, the 1-based
  worksheet row.
- A rule that fires on very many cells of one column reports the first
  ``MAX_FINDINGS_PER_RULE`` cells and one summary finding for the rest.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import itemgetter, not_

import numpy as np
import pandas as pd

from addin.costing.cycles import find_cycles
from addin.costing.model import (
    BOM_COLUMNS,
    COMPLETION_COLUMNS,
    CONVERSION_COST_COLUMNS,
    COUNT_COLUMNS,
    DEFAULT_ACCOUNTS,
    OPENING_COLUMNS,
    PURCHASE_COLUMNS,
    SALE_COLUMNS,
    STANDARD_COST_COLUMNS,
    Account,
    Finding,
    MonthEndInputs,
    Settings,
    Severity,
    Trigger,
)
from addin.workbook import contract as C
from addin.workbook.contract import (
    EXCEL_ERRORS,
    NO_WORDS,
    YES_WORDS,
    Column,
    Kind,
    SheetSpec,
    normalize_name,
    number_from_text,
)
from addin.workbook.reader import SheetRows, column_letters, parse_range_ref

MAX_ABS_NUMBER = 1e12  # larger numbers are taken as typing or unit mistakes
FIRST_SERIAL = 32874  # Excel serial of 1990-01-01: smaller numbers are not taken as dates
LAST_SERIAL = 73415  # Excel serial of 2100-12-31
EXCEL_EPOCH = dt.datetime(1899, 12, 30)  # serial 0 in Excel's 1900 date system
FIRST_DATE = dt.date(1900, 1, 1)  # typed dates outside these are refused (or, for effectivity,
LAST_DATE = dt.date(2261, 12, 31)  # read as blank): beyond them no datetime64[ns] holds them
MAX_FINDINGS_PER_RULE = 50
HEADER_CUTOFF = 0.75  # difflib ratio from which an unknown header is taken as a misspelling

NO_SAVED_VALUE = (
    "is a formula with no saved value; open the file in Excel, let it calculate, save, "
    "and run again"
)


# ---------------------------------------------------------------------------------------------
# Findings, collected with a cap per rule and column


class _Report:
    """Collects findings; beyond MAX_FINDINGS_PER_RULE per (sheet, check, group) it counts."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self._seen: Counter[tuple[str, str, str]] = Counter()
        self._severity: dict[tuple[str, str, str], Severity] = {}

    def add(
        self,
        severity: Severity,
        check: str,
        message: str,
        sheet: str = "",
        cell: str = "",
        item: str = "",
        group: str = "",
    ) -> None:
        key = (sheet, check, group)
        self._seen[key] += 1
        self._severity[key] = severity
        if self._seen[key] <= MAX_FINDINGS_PER_RULE:
            self.findings.append(Finding(severity, check, message, sheet, cell, item))

    def error(self, check: str, message: str, sheet: str = "", cell: str = "", item: str = "",
              group: str = "") -> None:  # fmt: skip
        self.add(Severity.ERROR, check, message, sheet, cell, item, group)

    def skipped(self, severity: Severity, check: str, sheet: str, group: str, n: int) -> None:
        """Count ``n`` further findings that were not built."""
        if n > 0:
            key = (sheet, check, group)
            self._seen[key] += n
            self._severity[key] = severity

    @property
    def has_errors(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.findings)

    def finish(self) -> list[Finding]:
        out = list(self.findings)
        for (sheet, check, group), n in self._seen.items():
            if n > MAX_FINDINGS_PER_RULE:
                where = f" in column {group}" if group else ""
                out.append(
                    Finding(
                        self._severity[(sheet, check, group)],
                        check,
                        f"{n - MAX_FINDINGS_PER_RULE:,} more cells{where} have the same problem "
                        f"({check}) as those listed; fix them the same way",
                        sheet,
                    )
                )
        return out


# ---------------------------------------------------------------------------------------------
# Scalar cell parsing (used on distinct values and on Settings)


def _g(x: float) -> str:
    """A number as an accountant would type it: 5, 0.05, 1234.5."""
    return f"{x:,.10g}" if abs(x) >= 1e6 else f"{x:.10g}"


def _is_blank(v: object) -> bool:
    if v is None:
        return True
    if isinstance(v, float):
        return math.isnan(v)
    return isinstance(v, str) and not v.strip()


def _text(v: object) -> str:
    """A cell as text: numbers without a trailing ".0" (1001.0 -> "1001"), dates as ISO."""
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return str(v).strip()


def _choice_key(v: object) -> str:
    return normalize_name(v).replace(" ", "").replace("_", "").replace("-", "")


_YES = YES_WORDS
_NO = NO_WORDS


def _number_issue(x: float, col: Column) -> tuple[str, str] | None:
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
                f"is {_g(x)}; did you mean {_g(x)}%? Type {_g(x)}% (Excel stores {_g(x / 100)})",
            )
        if x < 0:
            return "negative", f"is {_g(x * 100)}%; it cannot be negative"
    if col.positive and x <= 0:
        return "not positive", f"is {_g(x)}; it must be more than 0"
    if col.min_value is not None and x < col.min_value:
        if col.min_value == 0:
            return "negative", f"is {_g(x)}; it cannot be negative"
        return "too small", f"is {_g(x)}; it must be at least {_g(col.min_value)}"
    return None


def _scalar(v: object, col: Column) -> tuple[object, str | None]:
    """(value, problem) for one non-blank cell; ``problem`` completes "<Column> ..."."""
    if isinstance(v, str) and v.strip().upper() in EXCEL_ERRORS:
        return None, (
            f"is {v.strip().upper()} (an Excel error); fix the formula or type the "
            f"{col.name.lower()}"
        )
    kind = col.kind
    if kind is Kind.TEXT:
        text = _text(v)
        return text, _text_limit_problem(text, col)
    if kind is Kind.CHOICE:
        for c in col.choices:
            if _choice_key(c) == _choice_key(v):
                return c, None
        return None, f'is "{_text(v)}"; use one of: {", ".join(col.choices)}'
    if kind is Kind.YESNO:
        if isinstance(v, bool):
            return v, None
        key = normalize_name(_text(v))
        if key in _YES:
            return True, None
        if key in _NO:
            return False, None
        return None, f'is "{_text(v)}"; type Yes or No'
    if kind in (Kind.NUMBER, Kind.PERCENT):
        return _scalar_number(v, col)
    return _scalar_date(v, col)


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


def _scalar_number(v: object, col: Column) -> tuple[object, str | None]:
    what = "a percentage such as 5%" if col.kind is Kind.PERCENT else "a number"
    if isinstance(v, bool):
        return None, f"is {'TRUE' if v else 'FALSE'}, not a number; type {what}"
    if isinstance(v, (int, float)):
        return float(v), None
    if isinstance(v, (dt.date, dt.datetime)):
        return None, f"is a date ({v:%Y-%m-%d}), not a number; type {what}"
    if isinstance(v, (dt.time, dt.timedelta)):
        return None, f"is a time ({_time_text(v)}), not a number; type {what}"
    if isinstance(v, str):
        x = number_from_text(v, percent=col.kind is Kind.PERCENT)
        if x is not None:
            return x, None
        if col.kind is Kind.NUMBER and number_from_text(v, percent=True) is not None:
            return None, f'is "{v.strip()}", a percentage; type a plain number'
        return None, f'is "{v.strip()}", not a number; type {what}'
    return None, f"is {v!r}, not a number; type {what}"


def _time_text(v: object) -> str:
    if isinstance(v, dt.timedelta):
        minutes = int(v.total_seconds() // 60)
        return f"{minutes // 60}:{minutes % 60:02d}"
    return f"{v:%H:%M}" if isinstance(v, dt.time) else str(v)


def _date_in_range(d: dt.date, col: Column | None) -> tuple[object, str | None]:
    """A calendar date as a day Timestamp, or why it is refused (outside FIRST_DATE..LAST_DATE).

    An effectivity date far out (SAP's 9999-12-31 "no end", or 0001-01-01 "always") means the
    same as a blank cell and is read as blank; elsewhere it is a typing mistake."""
    if isinstance(d, dt.datetime):
        d = d.date()
    if FIRST_DATE <= d <= LAST_DATE:
        return pd.Timestamp(d.year, d.month, d.day), None
    if col is not None and col.name in ("Effective From", "Effective To"):
        return None, None
    return None, (
        f"is {d.isoformat()}, a date outside {FIRST_DATE.year} to {LAST_DATE.year}; "
        "type a date such as 2026-10-31"
    )


def _scalar_date(v: object, col: Column | None = None) -> tuple[object, str | None]:
    hint = "type a date such as 2026-10-31"
    if isinstance(v, (dt.date, dt.datetime)):  # a datetime's time of day is dropped
        return _date_in_range(v, col)
    if isinstance(v, bool):
        return None, f"is {'TRUE' if v else 'FALSE'}, not a date; {hint}"
    if isinstance(v, (int, float)):
        if FIRST_SERIAL <= v <= LAST_SERIAL:
            return pd.Timestamp(EXCEL_EPOCH + dt.timedelta(days=int(v))), None
        return None, f"is {_g(float(v))}, not a date; {hint}"
    if isinstance(v, str):
        s = v.strip()
        try:
            parsed = dt.datetime.fromisoformat(s)
        except ValueError:
            return None, f'is "{s}", not a date; {hint} (or as an Excel date)'
        return _date_in_range(parsed, col)
    if isinstance(v, (dt.time, dt.timedelta)):
        return None, f"is a time ({_time_text(v)}) with no date; {hint}"
    return None, f"is {v!r}, not a date; {hint}"


# ---------------------------------------------------------------------------------------------
# Locating a sheet's table: header row, columns, data rows


@dataclass
class _Table:
    """The data region of one input sheet, columns still raw (object arrays)."""

    sheet: str  # as spelled in the workbook
    spec: SheetSpec
    header_row: int
    columns: dict[str, int]  # contract column name -> 1-based worksheet column
    raw: dict[str, np.ndarray]
    rows: np.ndarray  # 1-based worksheet row of each data row
    special: dict[str, dict[int, str]] = field(default_factory=dict)  # col -> {index: problem}
    outside: set[str] = field(default_factory=set)  # contract columns beside the Excel table

    def cell(self, col: str, i: int) -> str:
        return f"{column_letters(self.columns[col])}{int(self.rows[i])}"

    def letter(self, col: str) -> str:
        return column_letters(self.columns[col])


def _closest(name: str, candidates: Iterable[str], cutoff: float = HEADER_CUTOFF) -> str | None:
    by_key = {normalize_name(c): c for c in candidates}
    match = difflib.get_close_matches(normalize_name(name), list(by_key), n=1, cutoff=cutoff)
    return by_key[match[0]] if match else None


def _region(sr: SheetRows) -> tuple[list[list[object]], int, int] | None:
    """(header + data rows, worksheet row of the header, worksheet column of rows[0][0])."""
    rows = sr.rows
    box = parse_range_ref(sr.table_ref) if sr.table_ref else None
    if box is not None:
        r0, c0, r1, c1 = box
        i0, i1 = r0 - sr.first_row, r1 - sr.first_row
        j0, j1 = c0 - sr.first_col, c1 - sr.first_col
        if 0 <= i0 < len(rows) and j0 >= 0:
            return [r[j0 : j1 + 1] for r in rows[i0 : i1 + 1]], r0, c0
    for i, row in enumerate(rows):
        if any(not _is_blank(v) for v in row):
            return rows[i:], sr.first_row + i, sr.first_col
    return None


def _filled(v: object) -> bool:
    return not _is_blank(v)


def _is_data(v: object) -> bool:
    """A number or a date: what a title or note row above a table does not hold."""
    return isinstance(v, (int, float, dt.date, dt.time, dt.timedelta)) and not isinstance(v, bool)


def _outside_table(sr: SheetRows, spec: SheetSpec, report: _Report) -> set[str]:
    """Refuse cells the sheet's Excel table leaves out but that look like its data: rows filled
    below it (past its totals row), contract headers beside its header row, data rows above
    it. Excel's table is what the accountant sees as the list; the run never reads around it
    in silence, nor guesses that cells beside it belong to it. Returns the contract columns
    found beside the table (the table is too narrow: they are not also reported missing)."""
    box = parse_range_ref(sr.table_ref) if sr.table_ref else None
    if box is None or not sr.rows:
        return set()
    r0, c0, r1, c1 = box
    rows, fr, fc = sr.rows, sr.first_row, sr.first_col
    name = f'"{sr.table_name}"' if sr.table_name else ""
    where = f"the table {name} ({sr.table_ref})".replace("  ", " ")
    by_key = {normalize_name(c.name): c.name for c in spec.columns}
    header = rows[r0 - fr] if 0 <= r0 - fr < len(rows) else []
    inside = {normalize_name(_text(v)) for v in header[max(c0 - fc, 0) : c1 - fc + 1] if _filled(v)}
    beside: dict[str, int] = {}
    for j, v in enumerate(header):
        col = fc + j
        key = normalize_name(_text(v)) if _filled(v) else ""
        if (col < c0 or col > c1) and key in by_key and key not in inside:
            beside.setdefault(by_key[key], col)
    last_col = max([c1, *beside.values()])
    first_col = min([c0, *beside.values()])
    lo, hi = max(first_col - fc, 0), last_col - fc + 1
    below = [
        fr + i
        for i in range(max(r1 + sr.table_totals + 1 - fr, 0), len(rows))
        if any(map(_filled, rows[i][lo:hi]))
    ]
    below += [
        r for (r, c) in (*sr.error_cells, *sr.uncached_formulas)
        if r > r1 + sr.table_totals and first_col <= c <= last_col
    ]  # fmt: skip
    last_row = max([r1, *below])
    fix = f"{column_letters(first_col)}{r0}:{column_letters(last_col)}{last_row}"
    resize = f"resize the table to {fix} (Table Design > Resize Table)"
    for col_name, col in beside.items():
        report.error(
            "outside table",
            f'column "{col_name}" is beside {where}, not in it; {resize}, or move the column '
            "into the table",
            sr.name,
            f"{column_letters(col)}{r0}",
        )
    if below:
        first, last = min(below), max(below)
        rows_text = f"row {first} is" if first == last else f"rows {first} to {last} are"
        report.error(
            "outside table",
            f"{rows_text} filled but outside {where}; {resize}, or clear "
            f"{'it' if first == last else 'them'}",
            sr.name,
            f"{column_letters(first_col)}{first}",
        )
    for i in range(min(r0 - fr, len(rows))):
        cells = rows[i][max(c0 - fc, 0) : c1 - fc + 1]
        if sum(map(_filled, cells)) >= 2 and any(map(_is_data, cells)):
            report.error(
                "outside table",
                f"row {fr + i} above {where} holds data; move it into the table, or clear it",
                sr.name,
                f"{column_letters(c0)}{fr + i}",
            )
    return set(beside)


def _locate(sr: SheetRows, spec: SheetSpec, report: _Report) -> _Table | None:
    """Find the header and the contract's columns; None when the sheet holds no table."""
    found = _region(sr)
    if found is None:
        return None
    block, header_row, first_col = found
    header = block[0]
    data = block[1:]
    by_key = {normalize_name(c.name): c for c in spec.columns}
    columns: dict[str, int] = {}
    unknown: list[tuple[int, str]] = []
    for j, v in enumerate(header):
        rc = (header_row, first_col + j)
        if rc in sr.error_cells or rc in sr.uncached_formulas:
            what = (
                f"is {sr.error_cells[rc]} (an Excel error)"
                if rc in sr.error_cells
                else "is a formula with no saved value"
            )
            report.error(
                "bad header",
                f"the header cell {what}; type the column name there",
                sr.name,
                f"{column_letters(rc[1])}{header_row}",
            )
        if _is_blank(v):
            continue
        col = by_key.get(normalize_name(_text(v)))
        ws_col = first_col + j
        if col is None:
            unknown.append((ws_col, _text(v)))
        elif col.name in columns:
            report.error(
                "duplicate column",
                f'column "{col.name}" appears twice (also column '
                f"{column_letters(columns[col.name])}); delete or rename one of them",
                sr.name,
                f"{column_letters(ws_col)}{header_row}",
            )
        else:
            columns[col.name] = ws_col
    absent = [c.name for c in spec.columns if c.name not in columns]
    for ws_col, text in unknown:
        guess = _closest(text, absent)
        if guess:
            report.error(
                "unknown column",
                f'column "{text}" is not known; did you mean "{guess}"? Rename the header',
                sr.name,
                f"{column_letters(ws_col)}{header_row}",
            )
    _check_merged(sr, header_row, first_col, len(header), len(data), report)

    width = len(header)
    last_col = first_col + width - 1
    n = len(data)
    if n and set(map(len, data)) != {width}:
        data = [list(r[:width]) + [None] * (width - len(r)) for r in data]
    raw = {name: _column(data, ws_col - first_col) for name, ws_col in columns.items()}
    rows = np.arange(header_row + 1, header_row + 1 + n, dtype=np.int64)
    table = _Table(sr.name, spec, header_row, columns, raw, rows)
    table.outside = _outside_table(sr, spec, report)

    col_by_ws = {ws: name for name, ws in columns.items()}
    for cells, is_error in ((sr.error_cells, True), (sr.uncached_formulas, False)):
        for rc in cells:
            r, c = rc
            name = col_by_ws.get(c)
            if name is None or not (header_row < r <= header_row + n) or c > last_col:
                continue
            problem = (
                f"is {cells[rc]} (an Excel error); fix the formula or type the {name.lower()}"  # type: ignore[index]
                if is_error
                else NO_SAVED_VALUE
            )
            table.special.setdefault(name, {})[r - header_row - 1] = problem
    return table


def _column(data: list[list[object]], j: int) -> np.ndarray:
    """Column ``j`` of equal-length rows as an object array (only the columns read are built)."""
    return np.fromiter(map(itemgetter(j), data), dtype=object, count=len(data))


def _blank_message(hint: str) -> Callable[[int], tuple[str, str]]:
    """The (check, message tail) of a blank required cell, whatever its row."""
    return lambda _row: ("blank", f"is blank; {hint}")


def _check_merged(
    sr: SheetRows, header_row: int, first_col: int, width: int, n: int, report: _Report
) -> None:
    last_col, last_row = first_col + width - 1, header_row + n
    for ref in sr.merged:
        box = parse_range_ref(ref)
        if box is None:
            continue
        r0, c0, r1, c1 = box
        if c1 < first_col or c0 > last_col or r1 < header_row or r0 > last_row:
            continue
        if r0 <= header_row <= r1:
            report.error(
                "merged header",
                f"header cells {ref} are merged; unmerge them (Home > Merge & Center > "
                "Unmerge Cells) and give each column its own header",
                sr.name,
                ref.split(":")[0],
            )
        else:
            report.error(
                "merged cells",
                f"cells {ref} are merged; unmerge them and type the value on every row",
                sr.name,
                ref.split(":")[0],
            )


# ---------------------------------------------------------------------------------------------
# Whole-column parsing


@dataclass
class _Parsed:
    values: np.ndarray  # float64, datetime64[ns], bool or object (str)
    blank: np.ndarray  # bool: the cell is empty
    bad: np.ndarray  # bool: a finding was reported for the cell


def _emit(
    report: _Report,
    t: _Table,
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


def _parse_column(t: _Table, col: Column, report: _Report) -> _Parsed:
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
        _emit(
            report, t, col.name, idx, lambda i: (check.get(special[i], "excel error"), special[i])
        )
    return parsed


_PLAIN_NUMBER_TYPES = frozenset({float, int, type(None)})
_TEXT_TYPES = frozenset({str, type(None)})


def _parse_numbers(t: _Table, col: Column, arr: np.ndarray, report: _Report) -> _Parsed:
    n = len(arr)
    bad = np.zeros(n, dtype=bool)
    values: np.ndarray | None = None
    cells = arr.tolist()
    if set(map(type, cells)) <= _PLAIN_NUMBER_TYPES:  # the usual case: floats, blanks
        try:
            values = np.array(cells, dtype=np.float64)  # None -> NaN
        except (ValueError, TypeError, OverflowError):
            values = None
    if values is None:  # slow path: only the cells that are not numbers are parsed one by one
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
            if _is_blank(u):
                u_msg.append(None)
                continue
            x, problem = _scalar(u, col)
            u_msg.append(problem)
            if problem is None:
                u_val[k] = x  # type: ignore[assignment]
        u_msg.append(None)
        values[rest] = u_val[codes]
        u_bad = np.array([m is not None for m in u_msg], dtype=bool)
        bad_rest = rest[u_bad[codes]]
        bad[bad_rest] = True
        cell_codes = dict(zip(rest.tolist(), codes.tolist(), strict=True))
        _emit(report, t, col.name, bad_rest, lambda i: _check_of(u_msg[cell_codes[i]], col))
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
        _emit(report, t, col.name, idx, lambda i: _number_issue(float(values[i]), col))
    return _Parsed(values, blank, bad)


def _parse_text_fast(arr: np.ndarray, col: Column) -> _Parsed | None:
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
    changed = {u: t for u in distinct if (t := u.strip()) is not u}  # str.strip returns u itself
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
    return _Parsed(stripped, blank, np.zeros(n, dtype=bool))


def _parse_by_value(t: _Table, col: Column, arr: np.ndarray, report: _Report) -> _Parsed:
    """Text, choices, yes/no and dates: each distinct value is parsed once."""
    fast = _parse_text_fast(arr, col)
    if fast is not None:
        return fast
    codes, uniques = pd.factorize(arr)
    u_val: list[object] = []
    u_msg: list[str | None] = []
    u_blank: list[bool] = []
    for u in uniques:
        if _is_blank(u):
            u_val.append(None)
            u_msg.append(None)
            u_blank.append(True)
            continue
        x, problem = _scalar(u, col)
        u_val.append(x)
        u_msg.append(problem)
        u_blank.append(False)
    u_val.append(None)
    u_msg.append(None)
    u_blank.append(True)
    blank = np.array(u_blank, dtype=bool)[codes]
    bad = np.array([m is not None for m in u_msg], dtype=bool)[codes]
    if bad.any():
        _emit(report, t, col.name, np.flatnonzero(bad), lambda i: _check_of(u_msg[codes[i]], col))
    if col.kind is Kind.DATE:
        stamps = pd.DatetimeIndex([x if x is not None else pd.NaT for x in u_val])
        values = stamps.astype("datetime64[ns]").to_numpy()[codes]
    elif col.kind is Kind.YESNO:
        default = bool(col.default) if col.default is not None else False
        values = np.array([default if x is None else x for x in u_val], dtype=bool)[codes]
    else:
        fill = "" if col.default is None else str(col.default)
        values = np.array([fill if x is None else x for x in u_val], dtype=object)[codes]
    return _Parsed(values, blank, bad)


@dataclass
class _Frame:
    """A parsed sheet: typed columns for the rows that are not blank."""

    table: _Table
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


def _parse_table(t: _Table, report: _Report) -> _Frame:
    """Parse every present column, drop blank rows, report blanks in required columns."""
    parsed = {name: _parse_column(t, t.spec.column(name), report) for name in t.columns}
    n = len(t.rows)
    empty = np.ones(n, dtype=bool)
    for p in parsed.values():
        empty &= p.blank
    keep = np.flatnonzero(~empty)
    for name, p in parsed.items():
        col = t.spec.column(name)
        if col.required and col.default is None:
            missing = keep[p.blank[keep]]
            if len(missing):
                hint = {
                    Kind.TEXT: "type it",
                    Kind.NUMBER: "type a number (0 if none)",
                    Kind.PERCENT: "type a percentage",
                    Kind.DATE: "type a date such as 2026-10-31",
                }.get(col.kind, f"type one of: {', '.join(col.choices)}")
                p.bad[missing] = True
                _emit(report, t, name, missing, _blank_message(hint))
    if len(keep) == n:  # no blank rows: the parsed columns are used as they are
        return _Frame(
            t,
            {name: p.values for name, p in parsed.items()},
            {name: p.bad for name, p in parsed.items()},
            keep,
        )
    return _Frame(
        t,
        {name: p.values[keep] for name, p in parsed.items()},
        {name: p.bad[keep] for name, p in parsed.items()},
        keep,
    )


def _missing_columns(t: _Table, report: _Report) -> bool:
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


# ---------------------------------------------------------------------------------------------
# Sheets


def _find_sheets(sheets: dict[str, SheetRows], report: _Report) -> dict[str, SheetRows]:
    """Contract sheet name -> the workbook's sheet, matched by normalised name."""
    by_key = {normalize_name(s.name): s for s in C.INPUT_SHEETS}
    out: dict[str, SheetRows] = {}
    unmatched: list[str] = []
    for name, sr in sheets.items():
        spec = by_key.get(normalize_name(name))
        if spec is None:
            unmatched.append(name)
        elif spec.name in out:
            report.error(
                "duplicate sheet",
                f'sheets "{out[spec.name].name}" and "{name}" both look like "{spec.name}"; '
                "delete or rename one of them",
                name,
            )
        else:
            out[spec.name] = sr
    results = {normalize_name(r) for r in C.RESULT_TABS}
    absent = [s.name for s in C.INPUT_SHEETS if s.name not in out]
    for name in unmatched:
        if normalize_name(name) in results:
            continue
        guess = _closest(name, absent, cutoff=0.8)
        if guess:
            report.error(
                "unknown sheet",
                f'sheet "{name}" is not known; did you mean "{guess}"? Rename the sheet',
                name,
            )
    for spec in C.INPUT_SHEETS:
        if spec.required and spec.name not in out:
            report.error(
                "missing sheet",
                f'the workbook has no "{spec.name}" sheet; add it (see the template)',
                spec.name,
            )
    return out


def _load(
    found: dict[str, SheetRows], name: str, report: _Report, required: bool = False
) -> _Frame | None:
    sr = found.get(name)
    if sr is None:
        return None
    spec = C.SHEETS_BY_NAME[name]
    t = _locate(sr, spec, report)
    if t is None:
        if required:
            report.error(
                "empty sheet",
                f"sheet is empty; add a header row ({', '.join(c.name for c in spec.columns)})"
                " and the data",
                sr.name,
            )
        return None
    if _missing_columns(t, report):
        return None
    return _parse_table(t, report)


# ---------------------------------------------------------------------------------------------
# Settings and accounts


@dataclass(frozen=True)
class _Period:
    """Period Start and End as read from Settings; known even when another setting is bad."""

    start: dt.date
    end: dt.date


DATES_NOT_CHECKED = (
    "; until the period can be read, the dates on the other sheets are not checked against it"
)
_PERIOD_KEYS = ("period_start", "period_end")
_EXAMPLE_SETTING = '"Conversion Variance"'


def _note_dates_not_checked(report: _Report, first: int, only: set[int] | None = None) -> None:
    """Append :data:`DATES_NOT_CHECKED` to the Settings errors reported since ``first``
    (or to those at ``only``): the period could not be read, so no date was checked."""
    for k in range(first, len(report.findings)):
        f = report.findings[k]
        if f.severity is Severity.ERROR and (only is None or k in only):
            report.findings[k] = f._replace(message=f.message + DATES_NOT_CHECKED)


def _setting_name_problem(sr: SheetRows, t: _Table, i: int, value_filled: bool) -> str | None:
    """Why the Setting cell of row ``i`` cannot be read (an Excel error, a formula with no saved
    value, or blank beside a filled Value); None when it holds a name."""
    row, col = int(t.rows[i]), t.columns["Setting"]
    fix = f"type the setting's name, e.g. {_EXAMPLE_SETTING}"
    if (row, col) in sr.error_cells:
        return f"setting name is {sr.error_cells[(row, col)]} (an Excel error); {fix}"
    if (row, col) in sr.uncached_formulas:
        return f"setting name is a formula with no saved value; {fix}"
    name = t.raw["Setting"][i]
    if isinstance(name, str) and name.strip().upper() in EXCEL_ERRORS:
        return f"setting name is {name.strip().upper()} (an Excel error); {fix}"
    if _is_blank(name) and value_filled:
        return f"setting name is blank but its Value is filled; {fix}, or clear the value"
    return None


def _unknown_setting(
    report: _Report, sheet: str, cell: str, name: str, value_filled: bool, vcell: str
) -> None:
    """An unknown setting name: an error when its Value is filled (the value would be lost),
    a warning when the row is a label with no value."""
    guess = _closest(name, C.SETTING_ROWS)
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


def _parse_settings(
    found: dict[str, SheetRows], report: _Report
) -> tuple[Settings | None, _Period | None]:
    """The Settings sheet: (settings or None when any is wrong, the period when it was read).

    The period is returned on its own so that transaction dates are still checked against it
    when another setting is wrong; when the period cannot be read, the errors that say why
    also say that the dates were not checked."""
    first = len(report.findings)
    sr = found.get(C.SETTINGS)
    if sr is None:
        missing = {
            k
            for k, f in enumerate(report.findings)
            if f.check == "missing sheet" and f.sheet == C.SETTINGS
        }
        _note_dates_not_checked(report, 0, missing)
        return None, None
    t = _locate(sr, C.SHEETS_BY_NAME[C.SETTINGS], report)
    if t is None:
        report.error("empty sheet", "sheet is empty; add Setting and Value columns", sr.name)
        _note_dates_not_checked(report, first)
        return None, None
    if _missing_columns(t, report):
        _note_dates_not_checked(report, first)
        return None, None
    names = t.raw["Setting"]
    values = t.raw.get("Value", np.full(len(names), None, dtype=object))
    value_special = t.special.get("Value", {})
    known = {normalize_name(k): c for k, c in C.SETTING_ROWS.items()}
    got: dict[str, object] = {}
    where: dict[str, str] = {}  # setting key -> cell of its name
    value_cell: dict[str, str] = {}
    reported: set[str] = set()
    period_errors: set[int] = set()  # indices into report.findings
    ok = True

    def fail(key: str, check: str, message: str, cell: str) -> None:
        if key in _PERIOD_KEYS:
            period_errors.add(len(report.findings))
        report.error(check, message, sr.name, cell)

    for i, (name, value) in enumerate(zip(names.tolist(), values.tolist(), strict=True)):
        cell = t.cell("Setting", i)
        vcell = f"{t.letter('Value')}{int(t.rows[i])}" if "Value" in t.columns else cell
        filled = i in value_special or not _is_blank(value)
        problem = _setting_name_problem(sr, t, i, filled)
        if problem is not None:
            report.error("bad setting name", problem, sr.name, cell)
            ok = False
            continue
        if _is_blank(name):
            continue
        col = known.get(normalize_name(_text(name)))
        if col is None:
            _unknown_setting(report, sr.name, cell, _text(name), filled, vcell)
            ok = ok and not filled
            continue
        if col.key in got or col.key in where:
            fail(
                col.key,
                "duplicate setting",
                f'"{col.name}" is set twice (also {where[col.key]}); keep one row',
                cell,
            )
            reported.add(col.key)
            got.pop(col.key, None)
            ok = False
            continue
        where[col.key] = cell
        value_cell[col.key] = vcell
        problem = value_special.get(i)
        parsed: object = None
        if problem is None and not _is_blank(value):
            parsed, problem = _scalar(value, col)
            if problem is None and col.kind in (Kind.NUMBER, Kind.PERCENT):
                issue = _number_issue(float(parsed), col)  # type: ignore[arg-type]
                problem = issue[1] if issue else None
        if problem is not None:
            fail(col.key, "bad setting", f"{col.name} {problem}", vcell)
            reported.add(col.key)
            ok = False
        elif parsed is not None:
            got[col.key] = parsed
    for col in C.SETTING_ROWS.values():
        if col.key in got or col.key in reported:
            continue
        if col.required and col.key not in where:
            accepted = f" ({', '.join(col.choices)})" if col.choices else ""
            fail(
                col.key,
                "missing setting",
                f'setting "{col.name}" is missing; add a row with Setting "{col.name}" and its '
                f"value{accepted}",
                "",
            )
            ok = False
        elif col.required:
            fail(col.key, "missing setting", f"{col.name} has no value; fill it in",
                 value_cell[col.key])  # fmt: skip
            ok = False
        else:
            got[col.key] = col.default
    period = _period(got, value_cell, sr.name, report, period_errors)
    if period is None:
        _note_dates_not_checked(report, first, period_errors)
    if not ok or period is None:
        return None, period
    return (
        Settings(
            period_start=period.start,
            period_end=period.end,
            trigger=Trigger(got["trigger"]),
            currency=str(got["currency"]),
            conversion_variance=str(got["conversion_variance"]),
            count_tolerance=float(got["count_tolerance"]),  # type: ignore[arg-type]
            conversion_tolerance=float(got["conversion_tolerance"]),  # type: ignore[arg-type]
            price_tolerance=float(got["price_tolerance"]),  # type: ignore[arg-type]
            company=str(got["company"]),
        ),
        period,
    )


def _period(
    got: dict[str, object],
    value_cell: dict[str, str],
    sheet: str,
    report: _Report,
    period_errors: set[int],
) -> _Period | None:
    """Period Start and End when both were read and End is not before Start."""
    start, end = got.get("period_start"), got.get("period_end")
    if not isinstance(start, pd.Timestamp) or not isinstance(end, pd.Timestamp):
        return None
    if end < start:
        period_errors.add(len(report.findings))
        report.error(
            "period",
            f"Period End {end:%Y-%m-%d} is before Period Start {start:%Y-%m-%d}; correct them",
            sheet,
            value_cell["period_end"],
        )
        return None
    return _Period(start.date(), end.date())


def _parse_accounts(f: _Frame | None, report: _Report) -> dict[str, Account]:
    out: dict[str, Account] = {
        role: Account(role, code, name) for role, (code, name) in DEFAULT_ACCOUNTS.items()
    }
    if f is None:
        return out
    seen: dict[str, str] = {}
    names = f.values.get("Name", np.full(len(f), "", dtype=object))
    for k in range(len(f)):
        if f.bad["Role"][k] or f.bad["Account"][k]:
            continue
        role = str(f.values["Role"][k])
        cell = f.cell("Role", k)
        if role in seen:
            report.error(
                "duplicate role", f"role {role} is given twice (also {seen[role]}); keep one row",
                f.table.sheet, cell,
            )  # fmt: skip
            continue
        seen[role] = cell
        name = str(names[k]) or DEFAULT_ACCOUNTS[role][1]
        out[role] = Account(role, str(f.values["Account"][k]), name)
    return out


# ---------------------------------------------------------------------------------------------
# Items


@dataclass
class _Items:
    canonical: dict[str, str]  # normalised code -> spelling on Standard Costs
    types: dict[str, str]  # canonical code -> item type
    numbers: dict[str, int] = field(default_factory=dict)  # canonical code -> 0, 1, 2, ...
    _dtype: pd.CategoricalDtype | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.numbers:
            self.numbers = {c: i for i, c in enumerate(self.canonical.values())}

    def column(self, ids: np.ndarray) -> pd.Categorical:
        """An item column for the engine: a categorical over the Standard Costs items in their
        order, built from the item numbers (-1 = none) without hashing the codes again."""
        if self._dtype is None:
            self._dtype = pd.CategoricalDtype(list(self.canonical.values()))
        return pd.Categorical.from_codes(ids, dtype=self._dtype, validate=False)


def _keys(values: Iterable[object]) -> list[str]:
    """``normalize_name`` for many values; plain strings take a quicker route."""
    return [
        " ".join(v.split()).casefold() if isinstance(v, str) else normalize_name(v) for v in values
    ]


def _lookup(values: np.ndarray, fn: Callable[[object], object]) -> np.ndarray:
    """``fn`` applied to each distinct value (None stays None), spread back to every cell."""
    codes, uniques = pd.factorize(values)
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[:-1] = [fn(u) for u in uniques]
    mapped[-1] = None
    return mapped[codes]


def _canonical_items(f: _Frame, report: _Report) -> tuple[_Items, np.ndarray]:
    """The item map from Standard Costs; duplicates are errors. Returns the keep mask too."""
    codes = f.values["Item"]
    keys = np.empty(len(codes), dtype=object)
    keys[:] = _keys(codes)
    usable = ~f.bad["Item"]
    idx = np.flatnonzero(usable)
    dup = pd.Series(keys[idx]).duplicated(keep="first").to_numpy()
    keep = usable.copy()
    keep[idx[dup]] = False
    firsts = idx[~dup]
    canonical = dict(zip(keys[firsts].tolist(), codes[firsts].astype(str).tolist(), strict=True))
    first_row = dict(zip(keys[firsts].tolist(), firsts.tolist(), strict=True))
    for k in idx[dup].tolist():
        j = first_row[keys[k]]
        report.error(
            "duplicate item",
            f'item "{codes[k]}" is already on row {int(f.rows[j])} ("{codes[j]}"); each item '
            "needs exactly one row: delete or merge one of them",
            f.table.sheet,
            f.cell("Item", k),
            item=str(codes[j]),
        )
    types: dict[str, str] = {}
    if "Type" in f.values:
        ok = np.flatnonzero(keep & ~f.bad["Type"])
        types = dict(
            zip(codes[ok].astype(str).tolist(), f.values["Type"][ok].tolist(), strict=True)
        )
    return _Items(canonical, types), keep


def _map_item_ids(
    f: _Frame, col: str, items: _Items, report: _Report
) -> tuple[np.ndarray, np.ndarray]:
    """Canonical codes for an item column (unknown codes become None, reported once each),
    plus each row's item as an int (its row among the canonical items;
    -1 for none), for grouping by item without hashing the strings again."""
    values = f.values[col]
    ok = ~f.bad[col]
    codes, uniques = pd.factorize(values)
    canon = np.empty(len(uniques) + 1, dtype=object)
    get = items.canonical.get
    canon[:-1] = [get(k) for k in _keys(uniques)]
    canon[-1] = None
    out = canon[codes]
    out[~ok] = None
    number = items.numbers.get
    u_ids = np.array([number(c, -1) for c in canon[:-1].tolist()] + [-1], dtype=np.int64)
    ids = u_ids[codes]
    ids[~ok] = -1
    flag_u = np.array([c != u for c, u in zip(canon[:-1], uniques, strict=True)] + [False])
    idx = np.flatnonzero(flag_u[codes] & ok)
    if not len(idx):
        return out, ids
    letter = f.table.letter(col)
    flagged, first, count = np.unique(codes[idx], return_index=True, return_counts=True)
    for u_code, pos, n in zip(flagged.tolist(), first.tolist(), count.tolist(), strict=True):
        u, c = uniques[u_code], canon[u_code]
        cell = f.cell(col, int(idx[pos]))
        more = f" (and {n - 1:,} more rows)" if n > 1 else ""
        if c is None:
            report.error(
                "unknown item",
                f'item "{u}" is not on Standard Costs; add it there or correct the code{more}',
                f.table.sheet,
                cell,
                item=str(u),
                group=letter,
            )
        else:
            report.add(
                Severity.INFO,
                "item spelling",
                f'item "{u}" is read as "{c}", its spelling on Standard Costs{more}',
                f.table.sheet,
                cell,
                item=c,
                group=letter,
            )
    return out, ids


def _type_rule(
    f: _Frame,
    col: str,
    items_col: np.ndarray,
    items: _Items,
    banned: tuple[str, ...],
    why: str,
    report: _Report,
) -> np.ndarray:
    """Errors for rows whose item has a banned type; returns the bad mask."""
    types = _lookup(items_col, lambda c: items.types.get(str(c), ""))
    bad = pd.Series(types, dtype=object).isin(banned).to_numpy()
    for k in np.flatnonzero(bad)[:MAX_FINDINGS_PER_RULE].tolist():
        code = items_col[k]
        report.error(
            "item type",
            f'item "{code}" is {types[k]}; {why}',
            f.table.sheet,
            f.cell(col, k),
            item=str(code),
            group=f.table.letter(col),
        )
    report.skipped(
        Severity.ERROR, "item type", f.table.sheet, f.table.letter(col),
        int(bad.sum()) - MAX_FINDINGS_PER_RULE,
    )  # fmt: skip
    return bad


def _check_period(f: _Frame, period: _Period | None, report: _Report) -> np.ndarray:
    if period is None or "Date" not in f.values:
        return np.zeros(len(f), dtype=bool)
    dates = f.values["Date"]
    start = np.datetime64(period.start, "ns")
    end = np.datetime64(period.end, "ns")
    outside = ~np.isnat(dates) & ((dates < start) | (dates > end)) & ~f.bad["Date"]
    span = f"{period.start:%Y-%m-%d} to {period.end:%Y-%m-%d}"
    idx = np.flatnonzero(outside)
    for k in idx[:MAX_FINDINGS_PER_RULE].tolist():
        d = pd.Timestamp(dates[k])
        report.error(
            "outside period",
            f"Date {d:%Y-%m-%d} is outside the period {span}; correct the date, or the "
            "period on Settings",
            f.table.sheet,
            f.cell("Date", k),
            group=f.table.letter("Date"),
        )
    report.skipped(
        Severity.ERROR, "outside period", f.table.sheet, f.table.letter("Date"),
        len(idx) - MAX_FINDINGS_PER_RULE,
    )  # fmt: skip
    return outside


# ---------------------------------------------------------------------------------------------
# Frames


def _num(f: _Frame, col: str, default: float = np.nan) -> np.ndarray:
    if col not in f.values:
        return np.full(len(f), default, dtype=np.float64)
    v = f.values[col].astype(np.float64, copy=True)
    if not math.isnan(default):
        v[np.isnan(v)] = default
    return v


def _txt(f: _Frame, col: str) -> np.ndarray:
    if col not in f.values:
        return np.full(len(f), "", dtype=object)
    return f.values[col].astype(object)


def _date(f: _Frame, col: str) -> np.ndarray:
    if col not in f.values:
        return np.full(len(f), np.datetime64("NaT"), dtype="datetime64[ns]")
    return f.values[col].astype("datetime64[ns]")


def _empty(columns: list[str], kinds: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=kinds.get(c, object)) for c in columns})


_DTYPES = {
    "date": "datetime64[ns]",
    "effective_from": "datetime64[ns]",
    "effective_to": "datetime64[ns]",
    "quantity": "float64",
    "unit_price": "float64",
    "scrap_quantity": "float64",
    "amount": "float64",
    "counted_quantity": "float64",
    "qty_per": "float64",
    "scrap_pct": "float64",
    "material": "float64",
    "labor": "float64",
    "overhead": "float64",
    "conversion": "float64",
    "backflush": "bool",
    "source_row": "int64",
}


def _frame(columns: list[str], data: dict[str, np.ndarray], keep: np.ndarray) -> pd.DataFrame:
    if not len(keep):
        return _empty(columns, _DTYPES)
    if len(keep) == len(data[columns[0]]) and keep[-1] == len(keep) - 1:  # every row, in order
        return pd.DataFrame({c: data[c] for c in columns})
    return pd.DataFrame({c: data[c][keep] for c in columns}).reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Entry point


def parse_inputs(
    sheets: dict[str, SheetRows],
) -> tuple[MonthEndInputs | None, list[Finding]]:
    """Validate the input sheets into :class:`MonthEndInputs`.

    Returns (None, findings) when any finding is an ERROR; otherwise the inputs and the
    warnings/infos. Every rule runs on every sheet that could be read, so one pass lists all
    problems.
    """
    report = _Report()
    found = _find_sheets(sheets, report)
    settings, period = _parse_settings(found, report)
    std = _load(found, C.STANDARD_COSTS, report, required=True)
    frames = {
        name: _load(found, name, report)
        for name in (C.BOM, C.PURCHASES, C.COMPLETIONS, C.SALES, C.CONVERSION_COSTS, C.COUNTS,
                     C.OPENING_BALANCES, C.ACCOUNTS)
    }  # fmt: skip
    accounts = _parse_accounts(frames[C.ACCOUNTS], report)

    standard_costs, items = _standard_costs(std, report)
    bom = _bom(frames[C.BOM], items, report)
    if std is not None and items is not None:
        _phantoms_without_bom(std, items, bom, report)

    def tx(name: str, builder: Callable[..., pd.DataFrame]) -> pd.DataFrame:
        return builder(frames[name], items, period, report)

    purchases = tx(C.PURCHASES, _purchases)
    completions = tx(C.COMPLETIONS, _completions)
    sales = tx(C.SALES, _sales)
    conversion_costs = tx(C.CONVERSION_COSTS, _conversion_costs)
    counts = tx(C.COUNTS, _counts)
    opening = tx(C.OPENING_BALANCES, _opening)

    findings = report.finish()
    if report.has_errors or settings is None or standard_costs is None:
        return None, findings
    return (
        MonthEndInputs(
            settings=settings,
            standard_costs=standard_costs,
            bom=bom,
            purchases=purchases,
            completions=completions,
            sales=sales,
            conversion_costs=conversion_costs,
            counts=counts,
            opening_balances=opening,
            accounts=accounts,
            columns=_column_letters([std, *frames.values()]),
        ),
        findings,
    )


def _column_letters(frames: Iterable[_Frame | None]) -> dict[str, dict[str, str]]:
    """Sheet -> contract column -> the letter it was read from (the user's column order)."""
    return {
        f.table.spec.name: {col: f.table.letter(col) for col in f.table.columns}
        for f in frames
        if f is not None
    }


def _standard_costs(f: _Frame | None, report: _Report) -> tuple[pd.DataFrame | None, _Items | None]:
    if f is None:
        return None, None
    items, keep = _canonical_items(f, report)
    labor, overhead = _num(f, "Labor"), _num(f, "Overhead")
    conversion = _num(f, "Conversion")
    # A row is split when it gives Labor or Overhead, or when the sheet keeps the split
    # columns and the row has no Conversion; blanks in a split row are 0.
    split = ~np.isnan(labor) | ~np.isnan(overhead)
    if "Labor" in f.values and "Overhead" in f.values:
        split |= np.isnan(conversion)
    total = np.where(split, np.nan_to_num(labor) + np.nan_to_num(overhead), np.nan)
    if "Conversion" in f.values:
        differs = split & ~np.isnan(conversion) & (np.abs(conversion - total) > 0.005)
        for k in np.flatnonzero(differs & keep)[:MAX_FINDINGS_PER_RULE].tolist():
            report.error(
                "conversion split",
                f"Conversion {_g(conversion[k])} is not Labor + Overhead ({_g(total[k])}); "
                "correct one of them or leave Conversion blank",
                f.table.sheet,
                f.cell("Conversion", k),
                item=str(f.values["Item"][k]),
            )
    conversion = np.where(split, total, np.nan_to_num(conversion))
    data = {
        "item": _txt(f, "Item"),
        "description": _txt(f, "Description"),
        "item_type": _txt(f, "Type"),
        "uom": _txt(f, "UoM"),
        "material": _num(f, "Material", 0.0),
        "labor": np.where(split, np.nan_to_num(labor), np.nan),
        "overhead": np.where(split, np.nan_to_num(overhead), np.nan),
        "conversion": conversion,
        "backflush": f.values["Backflush"].astype(bool)
        if "Backflush" in f.values
        else np.ones(len(f), dtype=bool),
        "source_row": f.rows,
    }
    return _frame(STANDARD_COST_COLUMNS, data, np.flatnonzero(keep)), items


def _bom(f: _Frame | None, items: _Items | None, report: _Report) -> pd.DataFrame:
    if f is None or items is None:
        return _empty(BOM_COLUMNS, _DTYPES)
    sheet = f.table.sheet
    parent, parent_id = _map_item_ids(f, "Parent", items, report)
    component, component_id = _map_item_ids(f, "Component", items, report)
    eff_from, eff_to = _date(f, "Effective From"), _date(f, "Effective To")
    usable = ~pd.isna(parent) & ~pd.isna(component)
    self_loop = usable & (parent == component)
    for k in np.flatnonzero(self_loop)[:MAX_FINDINGS_PER_RULE].tolist():
        report.error(
            "self component",
            f'item "{parent[k]}" is its own component; delete this line',
            sheet,
            f.cell("Component", k),
            item=str(parent[k]),
        )
    backwards = ~np.isnat(eff_from) & ~np.isnat(eff_to) & (eff_to < eff_from)
    for k in np.flatnonzero(backwards)[:MAX_FINDINGS_PER_RULE].tolist():
        report.error(
            "effectivity",
            "Effective To is before Effective From; correct the dates",
            sheet,
            f.cell("Effective To", k),
            item=str(parent[k]),
        )
    edges = usable & ~self_loop
    key = parent_id * (len(items.numbers) + 1) + component_id
    _bom_duplicates(f, parent, component, key, eff_from, eff_to, edges, report)
    _bom_cycles(f, parent, component, parent_id, component_id, edges, report)
    data = {
        "parent": items.column(parent_id),
        "component": items.column(component_id),
        "qty_per": _num(f, "Qty Per"),
        "scrap_pct": _num(f, "Scrap %", 0.0),
        "effective_from": eff_from,
        "effective_to": eff_to,
        "source_row": f.rows,
    }
    return _frame(BOM_COLUMNS, data, np.arange(len(f)))


def _bom_duplicates(
    f: _Frame,
    parent: np.ndarray,
    component: np.ndarray,
    key: np.ndarray,
    eff_from: np.ndarray,
    eff_to: np.ndarray,
    edges: np.ndarray,
    report: _Report,
) -> None:
    """Two lines for the same parent and component whose effectivity periods overlap.
    ``key`` numbers the (parent, component) pairs (int64; equal pairs, equal keys).

    Vectorised: every pair (a, b), a above b, of lines with the same parent and component is
    built with one self-merge and tested at once; findings come in the order of a loop over
    the pairs (groups by first line, then a, then b), the first MAX_FINDINGS_PER_RULE built.
    """
    idx = np.flatnonzero(edges)
    if not len(idx):
        return
    keys = pd.Series(key[idx])
    dup = keys.duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    # Each group is known by its first line (k ascends), so sorting by it keeps group order.
    lines = idx[dup]
    first = pd.Series(lines).groupby(key[lines]).transform("min").to_numpy()
    left = pd.DataFrame({"g": first, "a": lines})
    both = left.merge(left.rename(columns={"a": "b"}), on="g")
    both = both[both["a"].to_numpy() < both["b"].to_numpy()]
    both = both.sort_values(["g", "a", "b"], kind="stable")
    a = both["a"].to_numpy()
    b = both["b"].to_numpy()
    lo = np.datetime64("1700-01-01", "ns")
    hi = np.datetime64("2262-01-01", "ns")
    start = np.where(np.isnat(eff_from), lo, eff_from)
    stop = np.where(np.isnat(eff_to), hi, eff_to)
    overlap = np.flatnonzero((start[a] <= stop[b]) & (start[b] <= stop[a]))
    for j in overlap[:MAX_FINDINGS_PER_RULE].tolist():
        ka, kb = int(a[j]), int(b[j])
        report.error(
            "duplicate BOM line",
            f"{parent[kb]} -> {component[kb]} repeats row {int(f.rows[ka])} with "
            "overlapping effective dates; delete one line or make their dates "
            "not overlap",
            f.table.sheet,
            f.cell("Parent", kb),
            item=str(parent[kb]),
        )
    report.skipped(
        Severity.ERROR, "duplicate BOM line", f.table.sheet, "",
        len(overlap) - MAX_FINDINGS_PER_RULE,
    )  # fmt: skip


_MAX_PRUNE_ROUNDS = 64


def _cycle_candidates(
    idx: np.ndarray, parent_id: np.ndarray, component_id: np.ndarray
) -> np.ndarray:
    """The lines of ``idx`` that can be on a cycle: round by round, a line is dropped when its
    parent is no line's component or its component is no line's parent (on item numbers, so
    cheap). Every line of every cycle survives; on a sound BOM (a DAG) none does."""
    src, dst = parent_id[idx], component_id[idx]
    n = int(max(src.max(), dst.max())) + 1 if len(idx) else 0
    for _ in range(_MAX_PRUNE_ROUNDS):
        if not len(idx):
            break
        keep = (np.bincount(dst, minlength=n)[src] > 0) & (np.bincount(src, minlength=n)[dst] > 0)
        if keep.all():
            break
        idx, src, dst = idx[keep], src[keep], dst[keep]
    return idx


def _bom_cycles(
    f: _Frame,
    parent: np.ndarray,
    component: np.ndarray,
    parent_id: np.ndarray,
    component_id: np.ndarray,
    edges: np.ndarray,
    report: _Report,
) -> None:
    idx = np.flatnonzero(edges)
    near = _cycle_candidates(idx, parent_id, component_id)
    cycles = find_cycles(parent[near], component[near])
    if not cycles:
        return
    on_cycle = {n for cyc in cycles for n in cyc}
    line: dict[tuple[str, str], int] = {}
    idx = idx[pd.Series(parent[idx], dtype=object).isin(on_cycle).to_numpy()]
    for k in idx.tolist():
        p = parent[k]
        if p in on_cycle and (p, component[k]) not in line:
            line[(p, component[k])] = k
    for cyc in cycles:
        loop = [*cyc, cyc[0]]
        cells = [
            f"{f.table.sheet}!{f.cell('Parent', line[(a, b)])}"
            for a, b in zip(loop, loop[1:], strict=False)
            if (a, b) in line
        ]
        report.error(
            "BOM cycle",
            f"cycle {' -> '.join(loop)}; remove one of these lines: {', '.join(cells)}",
            f.table.sheet,
            item=cyc[0],
        )


def _phantoms_without_bom(f: _Frame, items: _Items, bom: pd.DataFrame, report: _Report) -> None:
    parents = set(bom["parent"].dropna().tolist()) if len(bom) else set()
    phantoms = [c for c, t in items.types.items() if t == "Phantom" and c not in parents]
    if not phantoms:
        return
    codes = f.values["Item"]
    at = np.flatnonzero(pd.Series(codes, dtype=object).isin(phantoms).to_numpy() & ~f.bad["Item"])
    for k in at.tolist():
        code = str(codes[k])
        report.error(
            "phantom without BOM",
            f'phantom item "{code}" has no BOM lines; add its components on BOM, or change '
            "its Type",
            f.table.sheet,
            f.cell("Type", k),
            item=code,
        )


_NEVER_STOCKED = "phantoms are never stocked; use its parent or its components instead"


def _purchases(
    f: _Frame | None, items: _Items | None, period: _Period | None, report: _Report
) -> pd.DataFrame:
    if f is None or items is None:
        if f is not None:  # Standard Costs could not be read: the dates are still checked
            _check_period(f, period, report)
        return _empty(PURCHASE_COLUMNS, _DTYPES)
    item, item_id = _map_item_ids(f, "Item", items, report)
    _type_rule(
        f, "Item", item, items, ("Subassembly", "Finished", "Phantom"),
        "only Raw items are purchased; record it on Completions, or change its Type on "
        "Standard Costs", report,
    )  # fmt: skip
    _check_period(f, period, report)
    data = {
        "date": _date(f, "Date"),
        "item": items.column(item_id),
        "quantity": _num(f, "Quantity"),
        "unit_price": _num(f, "Unit Price"),
        "reference": _txt(f, "Reference"),
        "source_row": f.rows,
    }
    return _frame(PURCHASE_COLUMNS, data, np.arange(len(f)))


def _completions(
    f: _Frame | None, items: _Items | None, period: _Period | None, report: _Report
) -> pd.DataFrame:
    if f is None or items is None:
        if f is not None:  # Standard Costs could not be read: the dates are still checked
            _check_period(f, period, report)
        return _empty(COMPLETION_COLUMNS, _DTYPES)
    item, item_id = _map_item_ids(f, "Item", items, report)
    _type_rule(
        f, "Item", item, items, ("Raw", "Phantom"),
        "only Subassembly and Finished items are completed; correct the item or its Type "
        "on Standard Costs", report,
    )  # fmt: skip
    _check_period(f, period, report)
    qty = _num(f, "Quantity")
    scrap = _num(f, "Scrap Quantity", 0.0)
    zero = (qty == 0) & (scrap == 0)
    for k in np.flatnonzero(zero)[:MAX_FINDINGS_PER_RULE].tolist():
        report.add(
            Severity.WARNING,
            "zero completion",
            "Quantity and Scrap Quantity are both 0; the row posts nothing. Delete it or "
            "fill in the quantity",
            f.table.sheet,
            f.cell("Quantity", k),
            item=str(item[k]),
        )
    data = {
        "date": _date(f, "Date"),
        "item": items.column(item_id),
        "quantity": qty,
        "scrap_quantity": scrap,
        "reference": _txt(f, "Reference"),
        "source_row": f.rows,
    }
    return _frame(COMPLETION_COLUMNS, data, np.arange(len(f)))


def _sales(
    f: _Frame | None, items: _Items | None, period: _Period | None, report: _Report
) -> pd.DataFrame:
    if f is None or items is None:
        if f is not None:  # Standard Costs could not be read: the dates are still checked
            _check_period(f, period, report)
        return _empty(SALE_COLUMNS, _DTYPES)
    item, item_id = _map_item_ids(f, "Item", items, report)
    _type_rule(f, "Item", item, items, ("Phantom",), _NEVER_STOCKED, report)
    _check_period(f, period, report)
    data = {
        "date": _date(f, "Date"),
        "item": items.column(item_id),
        "quantity": _num(f, "Quantity"),
        "reference": _txt(f, "Reference"),
        "source_row": f.rows,
    }
    return _frame(SALE_COLUMNS, data, np.arange(len(f)))


def _conversion_costs(
    f: _Frame | None, items: _Items | None, period: _Period | None, report: _Report
) -> pd.DataFrame:
    if f is None:
        return _empty(CONVERSION_COST_COLUMNS, _DTYPES)
    _check_period(f, period, report)
    data = {
        "date": _date(f, "Date"),
        "element": _txt(f, "Element")
        if "Element" in f.values
        else np.full(len(f), "Conversion", dtype=object),
        "amount": _num(f, "Amount"),
        "reference": _txt(f, "Reference"),
        "source_row": f.rows,
    }
    return _frame(CONVERSION_COST_COLUMNS, data, np.arange(len(f)))


def _counts(
    f: _Frame | None, items: _Items | None, period: _Period | None, report: _Report
) -> pd.DataFrame:
    if f is None or items is None:
        if f is not None:  # Standard Costs could not be read: the dates are still checked
            _check_period(f, period, report)
        return _empty(COUNT_COLUMNS, _DTYPES)
    item, item_id = _map_item_ids(f, "Item", items, report)
    _type_rule(f, "Item", item, items, ("Phantom",), _NEVER_STOCKED, report)
    _check_period(f, period, report)
    first: dict[str, int] = {}
    for k, code in enumerate(item.tolist()):
        if code is None:
            continue
        if code in first:
            report.error(
                "duplicate count",
                f'item "{code}" is counted twice (also row {int(f.rows[first[code]])}); keep '
                "one row with the total counted quantity",
                f.table.sheet,
                f.cell("Item", k),
                item=code,
            )
        else:
            first[code] = k
    data = {
        "item": items.column(item_id),
        "counted_quantity": _num(f, "Counted Quantity"),
        "date": _date(f, "Date"),
        "source_row": f.rows,
    }
    return _frame(COUNT_COLUMNS, data, np.arange(len(f)))


def _opening(
    f: _Frame | None, items: _Items | None, period: _Period | None, report: _Report
) -> pd.DataFrame:
    if f is None or items is None:
        return _empty(OPENING_COLUMNS, _DTYPES)
    item, item_id = _map_item_ids(f, "Item", items, report)
    _type_rule(f, "Item", item, items, ("Phantom",), _NEVER_STOCKED, report)
    data = {
        "item": items.column(item_id),
        "account": _txt(f, "Account"),
        "quantity": _num(f, "Quantity"),
        "source_row": f.rows,
    }
    return _frame(OPENING_COLUMNS, data, np.arange(len(f)))


__all__ = ["parse_inputs", "number_from_text", "EXCEL_ERRORS"]
