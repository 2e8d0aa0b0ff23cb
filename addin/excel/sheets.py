"""The open workbook through xlwings: input sheets in as SheetRows, result tabs out in bulk.

Reading: one ``.value`` read of each input sheet's used range (plus where its Excel table is).
Writing a :class:`~addin.workbook.tabs.Tab` renders the layout of the xlsxwriter writer
(addin/workbook/writer.py): title in row 1, subtitle in row 2, the table header in row 4, an
Excel table with a totals row of ``SUBTOTAL(109, ...)``, formula columns as same-row A1
references, accounting formats, fixed widths, the header frozen. Calls are per sheet, per
column or per block, never per data cell.

Only the open-source xlwings API is used. Its gaps are filled in small guarded places:
freezing panes goes through Excel's COM object on Windows (xlwings' ``freeze_panes`` is
implemented only for xlwings Lite) and is skipped on macOS; calls an engine does not
implement (``NotImplementedError``, e.g. the status bar in xlwings Lite) are skipped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import re
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import xlwings as xw

from addin.workbook import contract as C
from addin.workbook.cells import excel_error
from addin.workbook.contract import normalize_name
from addin.workbook.reader import SheetRows, column_letters, parse_range_ref
from addin.workbook.tabs import NUMBER_FORMATS, Block, Formula, Tab

TABLE_STYLE = "TableStyleMedium2"
INPUT_KEYS = frozenset(normalize_name(s.name) for s in C.INPUT_SHEETS)
RESULT_KEYS = {normalize_name(name): name for name in C.RESULT_TABS}
FORMULA_START = ("=", "+", "-", "@")
"""Text starting with one of these could be taken as a formula: it is written with Excel's
text prefix (an apostrophe, which Excel keeps out of the cell's value)."""


@contextlib.contextmanager
def unsupported_skipped() -> Iterator[None]:
    """Skip a call this Excel engine does not implement (xlwings raises NotImplementedError)."""
    try:  # noqa: SIM105 - contextlib.suppress would do; kept explicit for readers
        yield
    except NotImplementedError:
        pass


# ---- reading ---------------------------------------------------------------------------


def read_input_sheets(book: xw.Book) -> dict[str, SheetRows]:
    """Every sheet of ``book``; the contract's input sheets with their values, others by name.

    Other sheets (results, notes) are listed without values: validation only needs their
    names (to suggest a spelling), and reading them would cost time.
    """
    out: dict[str, SheetRows] = {}
    for sheet in book.sheets:
        name = sheet.name
        if normalize_name(name) not in INPUT_KEYS:
            out[name] = SheetRows(name=name, rows=[])
            continue
        used = sheet.used_range
        values = used.options(ndim=2, err_to_str=True).value
        rows = [list(r) for r in values] if isinstance(values, list) else [[values]]
        first_row, first_col = used.row, used.column
        errors = {
            (first_row + i, first_col + j): e
            for i, r in enumerate(rows)
            for j, v in enumerate(r)
            if isinstance(v, str) and (e := excel_error(v)) is not None
        }
        for r, c in errors:
            rows[r - first_row][c - first_col] = None
        out[name] = SheetRows(
            name=name,
            rows=rows,
            first_row=first_row,
            first_col=first_col,
            error_cells=errors,
            **table_info(sheet),
        )
    return out


def table_ref(sheet: xw.Sheet) -> str | None:
    """The A1 range of the sheet's first Excel table, if it has one."""
    with unsupported_skipped():
        for table in sheet.tables:
            return table.range.address.replace("$", "")
    return None


def table_info(sheet: xw.Sheet) -> dict[str, Any]:
    """``table_ref`` (header and data rows), ``table_name`` and ``table_totals`` of the sheet's
    first Excel table for :class:`SheetRows`; none when it has no table."""
    ref = table_ref(sheet)
    if ref is None:
        return {}
    name: str | None = None
    totals = 0
    with unsupported_skipped():
        table = next(iter(sheet.tables))
        name = getattr(table, "name", None)
        totals = 1 if getattr(table, "show_totals", False) else 0
    box = parse_range_ref(ref)
    if totals and box is not None and box[2] - 1 > box[0]:
        ref = f"{column_letters(box[1])}{box[0]}:{column_letters(box[3])}{box[2] - 1}"
    else:
        totals = 0
    return {"table_ref": ref, "table_name": name, "table_totals": totals}


# ---- sheets ----------------------------------------------------------------------------


def find_sheet(book: xw.Book, name: str) -> xw.Sheet | None:
    key = normalize_name(name)
    for sheet in book.sheets:
        if normalize_name(sheet.name) == key:
            return sheet
    return None


def replace_result_sheet(book: xw.Book, name: str) -> xw.Sheet:
    """A new, empty sheet ``name`` where the old one was (or at the end of the book).

    Only result tabs (contract.RESULT_TABS) are ever replaced: an input sheet is never deleted.
    """
    if normalize_name(name) not in RESULT_KEYS:
        raise ValueError(f"{name!r} is not a result tab; only result tabs are replaced")
    old = find_sheet(book, name)
    sheets = book.sheets
    if old is None:
        return sheets.add(name, after=sheets[len(sheets) - 1])
    new = sheets.add(f"{name[:24]} (new)", after=old)
    old.delete()
    new.name = name
    return new


def delete_result_sheets(book: xw.Book) -> list[str]:
    """Delete every result tab (and nothing else); returns the names deleted."""
    doomed = [s for s in book.sheets if normalize_name(s.name) in RESULT_KEYS]
    names = [s.name for s in doomed]
    for sheet in doomed:
        sheet.delete()
    return names


# ---- cell values -----------------------------------------------------------------------


def _text(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    s = C.fit_cell_text(str(v))
    return "'" + s if s.startswith(FORMULA_START) else s


def column_values(series: pd.Series, kind: str) -> list[object]:
    """Plain values for one column: None for blanks, datetimes for dates, text kept as text."""
    if kind == "date":
        d = pd.to_datetime(series, errors="coerce")
        return [None if pd.isna(x) else x.to_pydatetime() for x in d]
    if kind in ("money", "qty", "price", "int", "percent"):
        a = pd.to_numeric(series, errors="coerce").to_numpy(np.float64)
        return [float(x) if math.isfinite(x) else None for x in a]
    return [_text(x) or None for x in series]


def column_width(header: str, values: list[object], kind: str, fixed: float | None) -> float:
    """The xlsxwriter writer's widths (characters)."""
    if fixed is not None:
        return fixed
    if kind == "money":
        return max(len(header) + 2, 15)
    if kind in ("qty", "price", "int", "percent"):
        return max(len(header) + 2, 12)
    if kind == "date":
        return max(len(header) + 2, 11)
    sample = [len(str(v)) for v in values[:2000] if v]
    return float(min(max([len(header) + 2, *sample]) + 1, 60))


_PLACEHOLDER = re.compile(r"\{([^}]+)\}")


def row_formulas(template: str, letters: dict[str, str], first: int, last: int) -> list[list[str]]:
    """``={Opening Qty}+{In Qty}`` for worksheet rows first..last: ``=E5+F5``, ``=E6+F6``..."""
    parts = _PLACEHOLDER.split(template)  # text, name, text, name, ..., text
    out = []
    for row in range(first, last + 1):
        out.append(
            [
                "".join(
                    f"{letters[p]}{row}" if i % 2 else p
                    for i, p in enumerate(parts)  # noqa: B023
                )
            ]
        )
    return out


# ---- writing ---------------------------------------------------------------------------


def write_tab(book: xw.Book, tab: Tab) -> xw.Sheet:
    """Write ``tab`` into ``book``, replacing the result tab of the same name."""
    sheet = replace_result_sheet(book, tab.name)
    title = sheet.range("A1")
    title.value = _text(tab.title)
    title.font.bold = True
    title.font.size = 14
    if tab.subtitle:
        sub = sheet.range("A2")
        sub.value = _text(tab.subtitle)
        sub.font.italic = True
    if tab.columns:
        _write_table(book, sheet, tab)
    if tab.blocks:
        spans = _write_blocks(sheet, tab)
        for k, spec in enumerate(tab.charts):
            first, last = spans[spec.block]
            if last < first:
                continue  # nothing to draw
            with unsupported_skipped():
                anchor = sheet.range((Tab.HEADER_ROW + 1 + 17 * k, 8))
                sheet.charts.add(
                    anchor.left,
                    anchor.top,
                    560,
                    300,
                    chart_type="bar_clustered" if spec.kind == "bar" else "column_clustered",
                    source=sheet.range((first, 1), (last, spec.value_column + 1)),
                )
    return sheet


def _write_table(book: xw.Book, sheet: xw.Sheet, tab: Tab) -> None:
    cols = tab.columns
    n = len(tab.data)
    ncols = len(cols)
    top = Tab.HEADER_ROW + 1  # worksheet row of the header (1-based)
    first = top + 1
    last = top + max(n, 1)
    has_totals = any(c.total for c in cols)
    letters = {c.header: column_letters(j + 1) for j, c in enumerate(cols)}
    values = [column_values(tab.data[c.header], c.kind) for c in cols]

    # Formats first: text columns are "@", so nothing typed in them turns into a formula.
    bottom = last + int(has_totals)
    for j, c in enumerate(cols):
        sheet.range((first, j + 1), (bottom, j + 1)).number_format = NUMBER_FORMATS[c.kind]

    body: list[list[object]] = [[c.header for c in cols]]
    if n:
        body += [list(r) for r in zip(*values, strict=True)]
    else:
        body.append([None] * ncols)
    sheet.range((top, 1), (last, ncols)).value = body

    for j, c in enumerate(cols):
        if c.formula and n:
            column = row_formulas(c.formula, letters, first, last)
            if c.formula_rows:  # rows without a formula keep the engine's figure
                mask = tab.data[c.formula_rows].to_numpy(bool)
                for i in np.flatnonzero(~mask):
                    v = values[j][i]
                    column[i] = ["" if v is None else v]  # type: ignore[list-item]
            sheet.range((first, j + 1), (last, j + 1)).formula = column

    source = sheet.range((top, 1), (last, ncols))
    table = None
    with unsupported_skipped():
        table = sheet.tables.add(
            source=source, name=tab.table_name or None, table_style_name=TABLE_STYLE
        )
    if has_totals:
        if table is not None:
            table.show_totals = True
        totals: list[object] = []
        for j, c in enumerate(cols):
            if c.total:
                col = letters[c.header]
                totals.append(f"=SUBTOTAL(109,{col}{first}:{col}{last})")
            else:
                totals.append("Total" if j == 0 else "")
        sheet.range((last + 1, 1), (last + 1, ncols)).formula = [totals]
        sheet.range((last + 1, 1), (last + 1, ncols)).font.bold = True

    if tab.checks:  # label and formula rows under the totals row, as the file writer does
        total = last + 1

        def at_total(m: re.Match[str]) -> str:
            return f"{letters[m.group(1)]}{total}"

        checks = [
            [_text(label), re.sub(r"\{([^}:]+):total\}", at_total, formula)]
            for label, formula, _value in tab.checks
        ]
        rows = sheet.range((total + 2, 1), (total + 1 + len(checks), 2))
        sheet.range((total + 2, 2), (total + 1 + len(checks), 2)).number_format = NUMBER_FORMATS[
            "money"
        ]
        rows.formula = checks
        rows.font.bold = True

    for j, c in enumerate(cols):
        sheet.range((top, j + 1)).column_width = column_width(c.header, values[j], c.kind, c.width)
    sheet.range((top, 1)).row_height = 30
    freeze_panes(book, sheet, top, 1 if ncols > 6 else 0)


def _write_blocks(sheet: xw.Sheet, tab: Tab) -> list[tuple[int, int]]:
    """Each block as one 2-D write; returns (first, last) worksheet rows of each block's data."""
    row = Tab.HEADER_ROW + 1
    spans: list[tuple[int, int]] = []
    widths: dict[int, float] = {}
    for block in tab.blocks:
        width = len(block.header)
        matrix: list[list[object]] = [[_text(block.caption)] + [None] * (width - 1)]
        matrix.append([_text(h) for h in block.header])
        cell_kinds: list[tuple[int, int, str]] = []  # (row, col, kind) where a row names it
        formulas: list[tuple[int, int, str]] = []  # (row, col, formula): a few Summary cells
        for i, values in enumerate(block.rows):
            line = []
            for j, v in enumerate(values[:width]):
                if isinstance(v, Formula):
                    formulas.append((row + 2 + i, j + 1, v.text))
                    if block.kinds[j] == "text" and not isinstance(v.value, str):
                        cell_kinds.append((row + 2 + i, j + 1, "qty"))
                    v = v.value
                line.append(_block_value(v))
            line += [None] * (width - len(line))
            matrix.append(line)
            if len(values) > width:
                cell_kinds.append((row + 2 + i, width, str(values[width])))
        sheet.range((row, 1), (row + len(matrix) - 1, width)).value = matrix
        for r, c, text in formulas:
            sheet.range((r, c)).formula = text
        caption = sheet.range((row, 1))
        caption.font.bold = True
        caption.font.size = 12
        sheet.range((row + 1, 1), (row + 1, width)).font.bold = True
        first, last = row + 2, row + 1 + max(len(block.rows), 1)
        if block.rows:
            for j, kind in enumerate(block.kinds[:width]):
                if kind != "text":
                    sheet.range((first, j + 1), (last, j + 1)).number_format = NUMBER_FORMATS[kind]
            for r, c, row_kind in cell_kinds:
                sheet.range((r, c)).number_format = NUMBER_FORMATS.get(row_kind, "General")
            _colour_checks(sheet, block, first)
        for j in range(width):
            cells = [str(line[j]) for line in matrix[1:] if j < len(line) and line[j] is not None]
            widths[j] = max(widths.get(j, 0), min(max(map(len, cells), default=0) + 2, 70))
        spans.append((first, last))
        row = last + 2
    for j, w in widths.items():
        sheet.range((Tab.HEADER_ROW + 1, j + 1)).column_width = max(w, 12)
    return spans


def _block_value(v: object) -> object:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, str):
        return _text(v)
    if isinstance(v, (dt.date, dt.datetime, bool)):
        return v
    return float(v)  # type: ignore[arg-type]


def _colour_checks(sheet: xw.Sheet, block: Block, first: int) -> None:
    """PASS green, FAIL red, as on the xlsxwriter Summary (a handful of cells)."""
    for i, values in enumerate(block.rows):
        for j, v in enumerate(values[: len(block.header)]):
            if isinstance(v, Formula):
                v = v.value
            if v in ("PASS", "FAIL"):
                cell = sheet.range((first + i, j + 1))
                with unsupported_skipped():
                    cell.color = "#C6EFCE" if v == "PASS" else "#FFC7CE"
                    cell.font.bold = True


def freeze_panes(book: xw.Book, sheet: xw.Sheet, rows: int, cols: int) -> None:
    """Freeze the top ``rows`` rows and the first ``cols`` columns (best effort, see module)."""
    cell = f"{column_letters(cols + 1)}{rows + 1}"
    if sys.platform == "win32":  # pragma: no cover - needs Excel
        try:
            sheet.activate()
            window: Any = book.app.api.ActiveWindow
            window.FreezePanes = False
            window.SplitRow = rows
            window.SplitColumn = cols
            window.FreezePanes = True
        except Exception:  # noqa: BLE001 - cosmetic; never fail a run over it
            pass
    elif sys.platform != "darwin":  # xlwings Lite (emscripten) implements freeze_panes
        with unsupported_skipped():
            sheet.freeze_panes.freeze_at(cell)


__all__ = [
    "delete_result_sheets",
    "find_sheet",
    "read_input_sheets",
    "replace_result_sheet",
    "write_tab",
]
