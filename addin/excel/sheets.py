"""The open workbook through xlwings: input sheets in as SheetRows, result tabs out in bulk.

Reading: one ``.value`` read of each input sheet's used range (plus where its Excel table is).
Writing a :class:`~addin.workbook.tabs.Tab` translates its one layout
(``addin.workbook.layout.sheet_layout``, which the xlsxwriter file writer translates too) into
xlwings calls: one write per table (and per formula column), per title and per Summary block;
formats and fonts per column or per rectangle of equal style, never per data cell.

Only the open-source xlwings API is used. Its gaps are filled in small guarded places:
freezing panes goes through Excel's COM object on Windows (xlwings' ``freeze_panes`` is
implemented only for xlwings Lite) and is skipped on macOS; calls an engine does not
implement (``NotImplementedError``, e.g. the status bar in xlwings Lite) are skipped.
"""

from __future__ import annotations

import contextlib
import math
import sys
from collections.abc import Callable, Iterator
from typing import Any

import xlwings as xw

from addin.workbook import contract as C
from addin.workbook.cells import excel_error
from addin.workbook.contract import normalize_name
from addin.workbook.layout import (
    STYLES,
    Cell,
    ChartLayout,
    Region,
    Style,
    TableColumn,
    TableLayout,
    sheet_layout,
)
from addin.workbook.reader import SheetRows, column_letters, parse_range_ref
from addin.workbook.tabs import Tab

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


def _value(v: object) -> object:
    """A laid-out value as Excel takes it: text that looks like a formula gets the prefix."""
    return (_text(v) or None) if isinstance(v, str) else v


def _formula(cell: Cell) -> object:
    """A cell for a ``.formula`` write: its formula, else its value ('' for a blank)."""
    if cell.formula:
        return cell.formula
    return "" if cell.value is None else _value(cell.value)


# ---- writing: the layout of addin/workbook/layout.py, translated --------------------------

LITE_PLATFORM = "emscripten"
"""``sys.platform`` in Pyodide, where xlwings Lite runs."""


def engine_width(characters: float, platform: str | None = None) -> float:
    """A layout width (characters of the default font, Excel's ColumnWidth) in the unit this
    engine's ``column_width`` takes: unchanged in Excel for Windows and macOS; points in xlwings
    Lite (office.js ``format.columnWidth``): Calibri 11's digit is 7 pixels, plus 5 pixels of
    cell padding, and a pixel is 0.75 points (Excel's default 8.43 characters = 64 px = 48 pt)."""
    if (platform or sys.platform) != LITE_PLATFORM:
        return characters
    return round((7 * characters + 5) * 0.75, 2)


def write_tab(book: xw.Book, tab: Tab) -> xw.Sheet:
    """Write ``tab`` into ``book``, replacing the result tab of the same name."""
    sheet = replace_result_sheet(book, tab.name)
    layout = sheet_layout(tab)
    for region in layout.regions:
        _write_region(sheet, region)
    for table in layout.tables:
        _write_table(sheet, table)
    for j, width in layout.widths.items():
        sheet.range((1, j + 1)).column_width = engine_width(width)
    for first, last, height in _runs(sorted(layout.heights.items())):
        sheet.range((first + 1, 1), (last + 1, 1)).row_height = height
    # layout.wrapped_heights is left to Excel: it grows rows of wrapped text as they are written
    if layout.freeze is not None:
        freeze_panes(book, sheet, *layout.freeze)
    for chart in layout.charts:
        _add_chart(sheet, chart)
    return sheet


def _runs(items: list[tuple[int, float]]) -> list[tuple[int, int, float]]:
    """Consecutive rows of equal height as (first, last, height)."""
    out: list[tuple[int, int, float]] = []
    for row, h in items:
        if out and out[-1][1] == row - 1 and out[-1][2] == h:
            out[-1] = (out[-1][0], row, h)
        else:
            out.append((row, row, h))
    return out


StyleBox = tuple[int, int, int, int, str]  # first row, first column, last row, last column, style


def style_boxes(region: Region, key: Callable[[Cell], str | None]) -> list[StyleBox]:
    """The region's cells grouped into rectangles of equal ``key`` (0-based, relative to the
    region): runs along each row, merged down while the next row has the same run."""
    open_runs: dict[tuple[int, int, str], list[int]] = {}
    boxes: list[StyleBox] = []
    for i, line in enumerate(region.cells):
        keys = [key(c) for c in line]
        for j1, j2, k in _row_runs(keys):
            rows = open_runs.get((j1, j2, k))
            if rows is not None and rows[1] == i - 1:
                rows[1] = i
                continue
            if rows is not None:
                boxes.append((rows[0], j1, rows[1], j2, k))
            open_runs[(j1, j2, k)] = [i, i]
    boxes += [(r[0], j1, r[1], j2, k) for (j1, j2, k), r in open_runs.items()]
    return sorted(boxes)


def _row_runs(keys: list[str | None]) -> list[tuple[int, int, str]]:
    runs: list[tuple[int, int, str]] = []
    for j, k in enumerate(keys):
        if k is None:
            continue
        if runs and runs[-1][1] == j - 1 and runs[-1][2] == k:
            runs[-1] = (runs[-1][0], j, k)
        else:
            runs.append((j, j, k))
    return runs


def _number_format(cell: Cell) -> str | None:
    return STYLES[cell.style].number_format if cell.style else None


def _write_region(sheet: xw.Sheet, region: Region) -> None:
    """Formats first (text cells are "@", so nothing typed in them turns into a formula), then
    the region in one write (``.formula`` when it holds formulas), then fonts and fills."""
    top, left = region.row + 1, region.col + 1
    for r1, c1, r2, c2, number_format in style_boxes(region, _number_format):
        sheet.range((top + r1, left + c1), (top + r2, left + c2)).number_format = number_format
    width = region.width
    target = sheet.range((top, left), (top + len(region.cells) - 1, left + width - 1))
    pad = [Cell()] * width
    if region.has_formulas():
        target.formula = [[_formula(c) for c in (line + pad)[:width]] for line in region.cells]
    else:
        target.value = [[_value(c.value) for c in (line + pad)[:width]] for line in region.cells]
    for r1, c1, r2, c2, name in style_boxes(region, lambda c: c.style):
        _apply_style(sheet.range((top + r1, left + c1), (top + r2, left + c2)), STYLES[name])


def _apply_style(rng: xw.Range, style: Style) -> None:
    """Fonts, fill and wrapping of a named style (number formats are set before the values;
    borders are left to the file writer)."""
    with unsupported_skipped():
        if style.bold:
            rng.font.bold = True
        if style.italic:
            rng.font.italic = True
        if style.size is not None:
            rng.font.size = style.size
        if style.font_color:
            rng.font.color = style.font_color
        if style.fill:
            rng.color = style.fill
        if style.wrap:
            rng.wrap_text = True
        if style.align_top:
            rng.vertical_alignment = "top"


def _column_body(c: TableColumn) -> list[object]:
    if c.kind == "text":
        return [_text(v) or None for v in c.values]
    return c.values


def _write_table(sheet: xw.Sheet, t: TableLayout) -> None:
    """Formats per column, the header and data in one write, formula columns one write each,
    then the Excel table and its totals row."""
    ncols = len(t.columns)
    top, last, bottom = t.row + 1, t.last_data + 1, t.last_row + 1
    for j, c in enumerate(t.columns):
        number_format = STYLES[c.style].number_format
        if number_format:
            sheet.range((top + 1, j + 1), (bottom, j + 1)).number_format = number_format
    body: list[list[object]] = [[c.header for c in t.columns]]
    if t.columns[0].values:
        body += [list(r) for r in zip(*map(_column_body, t.columns), strict=True)]
    else:
        body.append([None] * ncols)
    sheet.range((top, 1), (last, ncols)).value = body
    for j, c in enumerate(t.columns):
        if c.formulas:  # rows without a formula keep the engine's figure
            column = [
                [f if f is not None else ("" if v is None else v)]
                for f, v in zip(c.formulas, c.values, strict=True)
            ]
            sheet.range((top + 1, j + 1), (last, j + 1)).formula = column
        style = STYLES[c.style]
        if style.wrap or style.bold:
            _apply_style(sheet.range((top + 1, j + 1), (last, j + 1)), style)
    table = None
    with unsupported_skipped():
        source = sheet.range((top, 1), (last, ncols))
        table = sheet.tables.add(source=source, name=t.name, table_style_name=t.style)
    if t.totals:
        _write_totals(sheet, t, table, bottom)


def _write_totals(sheet: xw.Sheet, t: TableLayout, table: Any, row: int) -> None:
    if table is not None:
        table.show_totals = True
    line = [_formula(c.total) if c.total else "" for c in t.columns]
    totals = sheet.range((row, 1), (row, len(t.columns)))
    totals.formula = [line]
    totals.font.bold = True


CHART_TYPES = {"bar": "bar_clustered", "column": "column_clustered"}
STACKED_CHART_TYPES = {"bar": "bar_stacked", "column": "column_stacked"}


def _add_chart(sheet: xw.Sheet, spec: ChartLayout) -> None:
    anchor = sheet.range((spec.anchor[0] + 1, spec.anchor[1] + 1))
    first, cat, _, _ = spec.categories
    _, _, last, val = spec.values
    kind = CHART_TYPES[spec.kind]
    if spec.stacked:  # the header row names the series; the columns are side by side
        first, val = spec.stacked[0][0][0], spec.stacked[-1][1][3]
        kind = STACKED_CHART_TYPES[spec.kind]
    with unsupported_skipped():
        sheet.charts.add(
            anchor.left,
            anchor.top,
            spec.size[0],
            spec.size[1],
            chart_type=kind,
            source=sheet.range((first + 1, cat + 1), (last + 1, val + 1)),
        )


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
