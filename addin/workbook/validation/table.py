"""Locating a sheet's table: its header row, the contract's columns, its data rows.

A sheet is an Excel table or a plain range whose first non-empty row is the header. Cells that
look like the table's data but lie outside the Excel table are refused, never read or dropped
in silence.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter

import numpy as np

from addin.workbook.cells import is_blank, normalize_name, text
from addin.workbook.contract import Column, SheetSpec
from addin.workbook.reader import SheetRows, column_letters, parse_range_ref
from addin.workbook.validation.report import Report

HEADER_CUTOFF = 0.75  # difflib ratio from which an unknown header is taken as a misspelling
NO_SAVED_VALUE = (
    "is a formula with no saved value; open the file in Excel, let it calculate, save, "
    "and run again"
)


@dataclass
class Table:
    """The data region of one input sheet, columns still raw (object arrays)."""

    sheet: str  # as spelled in the workbook
    spec: SheetSpec
    header_row: int
    columns: dict[str, int]  # contract column name -> 1-based worksheet column
    raw: dict[str, np.ndarray]
    rows: np.ndarray  # 1-based worksheet row of each data row
    special: dict[str, dict[int, str]] = field(default_factory=dict)  # col -> {index: problem}
    outside: set[str] = field(default_factory=set)  # contract columns beside the Excel table
    # headers not in the contract whose words the sheet watches (spec.watched_headers):
    # (worksheet column, header), not read, named by the sheet's own rule
    watched: list[tuple[int, str]] = field(default_factory=list)

    def cell(self, col: str, i: int) -> str:
        return f"{column_letters(self.columns[col])}{int(self.rows[i])}"

    def letter(self, col: str) -> str:
        return column_letters(self.columns[col])


def closest(name: str, candidates: Iterable[str], cutoff: float = HEADER_CUTOFF) -> str | None:
    """The candidate ``name`` is most likely a misspelling of, if any."""
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
        if any(not is_blank(v) for v in row):
            return rows[i:], sr.first_row + i, sr.first_col
    return None


def _filled(v: object) -> bool:
    return not is_blank(v)


def _is_data(v: object) -> bool:
    """A number or a date: what a title or note row above a table does not hold."""
    return isinstance(v, (int, float, dt.date, dt.time, dt.timedelta)) and not isinstance(v, bool)


# ---- cells beside, below and above an Excel table -------------------------------------------


@dataclass(frozen=True)
class _Box:
    """An Excel table's box on its sheet, and how the findings name it."""

    r0: int
    c0: int
    r1: int
    c1: int
    where: str  # 'the table "Bom" (A1:F9)'


def _beside(sr: SheetRows, spec: SheetSpec, box: _Box) -> dict[str, int]:
    """Contract headers in the table's header row but left or right of the table."""
    rows, fc = sr.rows, sr.first_col
    by_key = {normalize_name(c.name): c.name for c in spec.columns}
    header = rows[box.r0 - sr.first_row] if 0 <= box.r0 - sr.first_row < len(rows) else []
    inside = {
        normalize_name(text(v)) for v in header[max(box.c0 - fc, 0) : box.c1 - fc + 1] if _filled(v)
    }
    beside: dict[str, int] = {}
    for j, v in enumerate(header):
        col = fc + j
        key = normalize_name(text(v)) if _filled(v) else ""
        if (col < box.c0 or col > box.c1) and key in by_key and key not in inside:
            beside.setdefault(by_key[key], col)
    return beside


def _below(sr: SheetRows, box: _Box, first_col: int, last_col: int) -> list[int]:
    """Worksheet rows below the table (past its totals row) with something in its columns."""
    rows, fr, fc = sr.rows, sr.first_row, sr.first_col
    lo, hi = max(first_col - fc, 0), last_col - fc + 1
    end = box.r1 + sr.table_totals
    below = [
        fr + i for i in range(max(end + 1 - fr, 0), len(rows)) if any(map(_filled, rows[i][lo:hi]))
    ]
    below += [
        r for (r, c) in (*sr.error_cells, *sr.uncached_formulas)
        if r > end and first_col <= c <= last_col
    ]  # fmt: skip
    return below


def _report_above(sr: SheetRows, box: _Box, report: Report) -> None:
    """Rows above the table's header that hold data (two filled cells, one a number or date)."""
    rows, fr, fc = sr.rows, sr.first_row, sr.first_col
    for i in range(min(box.r0 - fr, len(rows))):
        cells = rows[i][max(box.c0 - fc, 0) : box.c1 - fc + 1]
        if sum(map(_filled, cells)) >= 2 and any(map(_is_data, cells)):
            report.error(
                "outside table",
                f"row {fr + i} above {box.where} holds data; move it into the table, or clear it",
                sr.name,
                f"{column_letters(box.c0)}{fr + i}",
            )


def _outside_table(sr: SheetRows, spec: SheetSpec, report: Report) -> set[str]:
    """Refuse cells the sheet's Excel table leaves out but that look like its data: rows filled
    below it (past its totals row), contract headers beside its header row, data rows above
    it. Excel's table is what the accountant sees as the list; the run never reads around it
    in silence, nor guesses that cells beside it belong to it. Returns the contract columns
    found beside the table (the table is too narrow: they are not also reported missing)."""
    ref = parse_range_ref(sr.table_ref) if sr.table_ref else None
    if ref is None or not sr.rows:
        return set()
    name = f'"{sr.table_name}"' if sr.table_name else ""
    box = _Box(*ref, where=f"the table {name} ({sr.table_ref})".replace("  ", " "))
    beside = _beside(sr, spec, box)
    first_col, last_col = min([box.c0, *beside.values()]), max([box.c1, *beside.values()])
    below = _below(sr, box, first_col, last_col)
    last_row = max([box.r1, *below])
    fix = f"{column_letters(first_col)}{box.r0}:{column_letters(last_col)}{last_row}"
    resize = f"resize the table to {fix} (Table Design > Resize Table)"
    for col_name, col in beside.items():
        report.error(
            "outside table",
            f'column "{col_name}" is beside {box.where}, not in it; {resize}, or move the '
            "column into the table",
            sr.name,
            f"{column_letters(col)}{box.r0}",
        )
    if below:
        first, last = min(below), max(below)
        rows_text = f"row {first} is" if first == last else f"rows {first} to {last} are"
        report.error(
            "outside table",
            f"{rows_text} filled but outside {box.where}; {resize}, or clear "
            f"{'it' if first == last else 'them'}",
            sr.name,
            f"{column_letters(first_col)}{first}",
        )
    _report_above(sr, box, report)
    return set(beside)


# ---- the header -----------------------------------------------------------------------------


def _bad_header_cell(sr: SheetRows, rc: tuple[int, int], report: Report) -> None:
    """A header cell holding an Excel error or a formula with no saved value."""
    if rc not in sr.error_cells and rc not in sr.uncached_formulas:
        return
    what = (
        f"is {sr.error_cells[rc]} (an Excel error)"
        if rc in sr.error_cells
        else "is a formula with no saved value"
    )
    report.error(
        "bad header",
        f"the header cell {what}; type the column name there",
        sr.name,
        f"{column_letters(rc[1])}{rc[0]}",
    )


def _header_columns(
    sr: SheetRows, spec: SheetSpec, header: list[object], at: tuple[int, int], report: Report
) -> dict[str, int]:
    """Contract column name -> worksheet column, from the header row at ``at`` (row, first
    column). Duplicates, bad header cells and misspelt headers are reported."""
    header_row, first_col = at
    by_key: dict[str, Column] = {normalize_name(c.name): c for c in spec.columns}
    columns: dict[str, int] = {}
    unknown: list[tuple[int, str]] = []
    for j, v in enumerate(header):
        ws_col = first_col + j
        _bad_header_cell(sr, (header_row, ws_col), report)
        if is_blank(v):
            continue
        col = by_key.get(normalize_name(text(v)))
        if col is None:
            unknown.append((ws_col, text(v)))
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
    for ws_col, name in unknown:
        if watched(spec, name):
            continue
        guess = closest(name, absent)
        if guess:
            report.error(
                "unknown column",
                f'column "{name}" is not known; did you mean "{guess}"? Rename the header',
                sr.name,
                f"{column_letters(ws_col)}{header_row}",
            )
    return columns


def watched(spec: SheetSpec, header: str) -> bool:
    """Whether ``header`` holds one of the words the sheet watches (case-insensitive)."""
    key = normalize_name(header)
    return any(word in key for word in spec.watched_headers)


def _watched_columns(
    spec: SheetSpec, header: list[object], first_col: int
) -> list[tuple[int, str]]:
    """(worksheet column, header) of the headers not in the contract that the sheet watches."""
    known = {normalize_name(c.name) for c in spec.columns}
    return [
        (first_col + j, text(v))
        for j, v in enumerate(header)
        if not is_blank(v) and normalize_name(text(v)) not in known and watched(spec, text(v))
    ]


def _special_cells(sr: SheetRows, table: Table, last_col: int) -> None:
    """Excel errors and formulas without a saved value in the table's data cells, by column
    (``last_col``: the table's last worksheet column)."""
    header_row, n = table.header_row, len(table.rows)
    col_by_ws = {ws: name for name, ws in table.columns.items()}
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


def locate(sr: SheetRows, spec: SheetSpec, report: Report) -> Table | None:
    """Find the header and the contract's columns; None when the sheet holds no table."""
    found = _region(sr)
    if found is None:
        return None
    block, header_row, first_col = found
    header, data = block[0], block[1:]
    columns = _header_columns(sr, spec, header, (header_row, first_col), report)
    _check_merged(sr, header_row, first_col, len(header), len(data), report)
    width, n = len(header), len(data)
    if n and set(map(len, data)) != {width}:
        data = [list(r[:width]) + [None] * (width - len(r)) for r in data]
    raw = {name: _column(data, ws_col - first_col) for name, ws_col in columns.items()}
    rows = np.arange(header_row + 1, header_row + 1 + n, dtype=np.int64)
    table = Table(sr.name, spec, header_row, columns, raw, rows)
    table.outside = _outside_table(sr, spec, report)
    if spec.watched_headers:
        table.watched = _watched_columns(spec, header, first_col)
    _special_cells(sr, table, first_col + width - 1)
    return table


def _column(data: list[list[object]], j: int) -> np.ndarray:
    """Column ``j`` of equal-length rows as an object array (only the columns read are built)."""
    return np.fromiter(map(itemgetter(j), data), dtype=object, count=len(data))


def _check_merged(
    sr: SheetRows, header_row: int, first_col: int, width: int, n: int, report: Report
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
