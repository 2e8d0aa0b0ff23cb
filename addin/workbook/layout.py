"""Result tabs laid out once: positioned cells, Excel tables, widths, charts and freeze panes.

A :class:`~addin.workbook.tabs.Tab` says what a tab holds; :func:`sheet_layout` says where each
piece goes on the worksheet (0-based rows and columns, as xlsxwriter counts) and in which named
style of :data:`STYLES`. The file writer (writer.py, xlsxwriter) and the xlwings writer
(addin/excel/sheets.py) only translate a :class:`SheetLayout` into their own calls, so the two
faces of a result tab cannot drift apart. Nothing here touches a file or Excel.

Tables stay column-wise (one list of values per column) so that a million-row tab is laid out
without a Python object per cell; the small free-form pieces (titles, Summary blocks, check
rows) are :class:`Region` rectangles of :class:`Cell`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, SupportsFloat, cast

import numpy as np
import pandas as pd

from addin.workbook.contract import fit_cell_text
from addin.workbook.tabs import (
    NUMBER_FORMATS,
    Block,
    Chart,
    Col,
    Formula,
    Tab,
    block_row,
    column_letter,
)

# ---- named styles ------------------------------------------------------------------------


@dataclass(frozen=True)
class Style:
    """A named cell format, in neutral terms (no xlsxwriter or Excel object)."""

    number_format: str | None = None  # None: Excel's General
    bold: bool = False
    italic: bool = False
    size: float | None = None  # points; None: the workbook's default
    font_color: str | None = None  # "#RRGGBB"
    fill: str | None = None  # background, "#RRGGBB"
    border_bottom: bool = False  # a thin line under the cell
    wrap: bool = False  # text wraps inside the column width
    align_top: bool = False  # text starts at the top of the cell (for wrapped text)


def _kind_styles() -> dict[str, Style]:
    """One style per column kind, plus a bold and a wrapping variant of each."""
    out: dict[str, Style] = {}
    for kind, number_format in NUMBER_FORMATS.items():
        out[kind] = Style(number_format)
        out[f"{kind} bold"] = Style(number_format, bold=True)
        out[f"{kind} wrap"] = Style(number_format, wrap=True, align_top=True)
    return out


STYLES: dict[str, Style] = {
    "title": Style(bold=True, size=14),
    "subtitle": Style(italic=True, font_color="#595959"),
    "caption": Style(bold=True, size=12, font_color="#1F4E78"),
    "header": Style(bold=True, fill="#DDEBF7", border_bottom=True, wrap=True),
    "pass": Style(bold=True, font_color="#006100", fill="#C6EFCE"),
    "fail": Style(bold=True, font_color="#9C0006", fill="#FFC7CE"),
    "not checked": Style(bold=True, font_color="#595959", fill="#EDEDED"),
    **_kind_styles(),
}
"""Every style a result tab uses, by name; a cell without a style is General, unformatted."""

TABLE_STYLE = "TableStyleMedium2"
CHART_SIZE = (560, 300)  # pixels
CHART_COLUMN = 7  # charts sit from column H
CHART_STEP = 17  # rows from one chart's top to the next one's


VERDICT_STYLES = {"PASS": "pass", "FAIL": "fail", "NOT CHECKED": "not checked"}


def verdict_style(value: object) -> str | None:
    """Green for a passed check, red for a failed one, grey for one not checked (never green),
    nothing for other text."""
    return VERDICT_STYLES.get(value) if isinstance(value, str) else None


# ---- the layout ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cell:
    """One worksheet cell: a value (None = blank), a style name, and perhaps a formula.

    A formula cell's ``value`` is the engine's figure, kept as the formula's cached value."""

    value: object = None
    style: str | None = None
    formula: str | None = None


@dataclass(frozen=True)
class Region:
    """A rectangle of cells written at once; ``row``/``col`` is its top-left cell (0-based)."""

    row: int
    col: int
    cells: list[list[Cell]]

    @property
    def width(self) -> int:
        return max((len(line) for line in self.cells), default=0)

    def has_formulas(self) -> bool:
        return any(c.formula for line in self.cells for c in line)


@dataclass(frozen=True)
class TableColumn:
    """One column of an Excel table: header, style of its data cells, values, formulas."""

    header: str
    kind: str  # tabs.ColumnKind: how the values are written (text, date or a number)
    style: str
    values: list[object]  # one per data row: str, float, datetime or None (blank)
    formulas: list[str | None] | None = None  # one per data row where the column has formulas
    total: Cell | None = None  # its cell in the totals row: a SUBTOTAL or the "Total" label


@dataclass(frozen=True)
class TableLayout:
    """An Excel table: header row ``row``, data rows under it, perhaps a totals row."""

    name: str
    row: int
    columns: tuple[TableColumn, ...]
    n_data: int  # data rows written (an empty table keeps one blank row)
    totals: bool
    style: str = TABLE_STYLE

    @property
    def first_data(self) -> int:
        return self.row + 1

    @property
    def last_data(self) -> int:
        return self.row + self.n_data

    @property
    def last_row(self) -> int:
        """The table's last row: the totals row, or the last data row."""
        return self.last_data + int(self.totals)

    @property
    def ref(self) -> str:
        """The table's A1 range, header to totals row, e.g. ``A4:H61``."""
        last = column_letter(len(self.columns) - 1)
        return f"A{self.row + 1}:{last}{self.last_row + 1}"


Box = tuple[int, int, int, int]  # first row, first column, last row, last column (0-based)


@dataclass(frozen=True)
class ChartLayout:
    """A bar or column chart of one series, anchored at ``anchor`` (row, column)."""

    title: str
    kind: Literal["column", "bar"]
    categories: Box
    values: Box
    anchor: tuple[int, int]
    size: tuple[int, int] = CHART_SIZE
    # a stacked chart: each series' name cell (row, column) and values; ``values`` is the
    # first of them. Empty: one series, ``values``.
    stacked: tuple[tuple[tuple[int, int], Box], ...] = ()


@dataclass(frozen=True)
class PageSetup:
    """Printing: Excel's header and footer codes (&L, &C, &R), A4 landscape, one page wide."""

    header: str = ""
    footer: str = ""
    landscape: bool = True
    paper: int = 9  # A4
    fit_width: int = 1


@dataclass
class SheetLayout:
    """One result tab, positioned: what both writers put on the worksheet."""

    name: str
    regions: list[Region] = field(default_factory=list)
    tables: list[TableLayout] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)  # column -> characters
    heights: dict[int, float] = field(default_factory=dict)  # row -> points
    # rows of wrapped text, sized for applications that do not grow them on opening (Excel
    # grows them itself as the text is written): row -> points
    wrapped_heights: dict[int, float] = field(default_factory=dict)
    freeze: tuple[int, int] | None = None  # rows and columns frozen at the top and left
    repeat_rows: int | None = None  # row printed on every page
    charts: list[ChartLayout] = field(default_factory=list)


def sheet_layout(tab: Tab) -> SheetLayout:
    """Where everything of ``tab`` goes: title rows, then its table or its blocks."""
    out = SheetLayout(tab.name, regions=_title_regions(tab))
    if tab.columns:
        _lay_out_table(tab, out)
        out.charts = _table_charts(tab, out.tables[-1])
    if tab.blocks:
        spans = _lay_out_blocks(tab, out)
        out.charts = _charts(tab, spans)
    return out


def page_setup(company: str, period: str, run_note: str) -> PageSetup:
    """Company left, tab name centred, period right; the run note and page number below."""
    return PageSetup(
        header=f"&L{_escape(company)}&C&A&R{_escape(period)}",
        footer=f"&L{_escape(run_note)}&RPage &P of &N",
    )


def _escape(text: str) -> str:
    return text.replace("&", "&&")


def _title_regions(tab: Tab) -> list[Region]:
    regions = [Region(0, 0, [[Cell(fit_cell_text(tab.title), "title")]])]
    if tab.subtitle:
        regions.append(Region(1, 0, [[Cell(fit_cell_text(tab.subtitle), "subtitle")]]))
    return regions


# ---- one Excel table -----------------------------------------------------------------------

NUMERIC_KINDS = frozenset({"money", "qty", "price", "int", "percent"})


def column_values(series: pd.Series, kind: str) -> list[object]:
    """Plain Python values of one column: None for blanks, datetimes for dates, text cut to
    what a cell holds."""
    if kind == "date":
        d = pd.to_datetime(series, errors="coerce")
        return [None if pd.isna(x) else x.to_pydatetime() for x in d]
    if kind in NUMERIC_KINDS:
        a = pd.to_numeric(series, errors="coerce").to_numpy(np.float64)
        return [float(x) if math.isfinite(x) else None for x in a]
    return [
        None if (x is None or (isinstance(x, float) and math.isnan(x))) else fit_cell_text(str(x))
        for x in series
    ]


def column_width(header: str, values: Sequence[object], kind: str, fixed: float | None) -> float:
    """Characters: the fixed width, else room for the header and the kind's figures, else the
    longest of the first 2,000 texts (at most 60)."""
    if fixed is not None:
        return fixed
    if kind == "money":
        return max(len(header) + 2, 15)
    if kind in NUMERIC_KINDS:
        return max(len(header) + 2, 12)
    if kind == "date":
        return max(len(header) + 2, 11)
    sample = [len(str(v)) for v in values[:2000] if v]
    return float(min(max([len(header) + 2, *sample]) + 1, 60))


PLACEHOLDER = re.compile(r"\{([^}]+)\}")
"""``{Column}`` in a column formula: that column's cell on the same row."""
TOTAL_PLACEHOLDER = re.compile(r"\{([^}:]+):total\}")
"""``{Column:total}`` in a check formula: that column's cell in the totals row."""


def row_formulas(
    template: str, letters: dict[str, str], first_row: int, mask: np.ndarray
) -> list[str | None]:
    """``={Opening Qty}+{In Qty}`` on each row where ``mask`` holds (0-based rows from
    ``first_row``): ``=E5+F5``, ``=E6+F6``...; None where it does not."""
    parts = PLACEHOLDER.split(template)  # text, name, text, name, ..., text
    names = [letters[p] for p in parts[1::2]]
    texts = parts[0::2]
    out: list[str | None] = []
    for i, on in enumerate(mask.tolist()):
        if not on:
            out.append(None)
            continue
        row = str(first_row + i + 1)
        pieces = [texts[0]]
        for name, text in zip(names, texts[1:], strict=True):
            pieces += (name, row, text)
        out.append("".join(pieces))
    return out


def _column_style(c: Col) -> str:
    return f"{c.kind} wrap" if c.wrap else c.kind


def _table_column(tab: Tab, c: Col, letters: dict[str, str], has_totals: bool) -> TableColumn:
    values = column_values(tab.data[c.header], c.kind)
    style = _column_style(c)
    formulas = None
    if c.formula:
        n = len(values)
        mask = tab.data[c.formula_rows].to_numpy(bool) if c.formula_rows else np.ones(n, bool)
        formulas = row_formulas(c.formula, letters, Tab.HEADER_ROW + 1, mask)
    total = None
    if has_totals and c.total:
        letter, first = letters[c.header], Tab.HEADER_ROW + 2
        last = Tab.HEADER_ROW + 1 + tab.n_rows
        figure = sum(v for v in values if isinstance(v, float))
        figure = round(figure, 2) if c.kind == "money" else figure
        total = Cell(figure, style, f"=SUBTOTAL(109,{letter}{first}:{letter}{last})")
    elif has_totals and c is tab.columns[0]:
        total = Cell("Total", style)
    return TableColumn(c.header, c.kind, style, values, formulas, total)


def _lay_out_table(tab: Tab, out: SheetLayout) -> None:
    cols = tab.columns
    has_totals = any(c.total for c in cols)
    letters = {c.header: column_letter(j) for j, c in enumerate(cols)}
    columns = tuple(_table_column(tab, c, letters, has_totals) for c in cols)
    table = TableLayout(
        tab.table_name or tab.name.replace(" ", ""), Tab.HEADER_ROW, columns, tab.n_rows, has_totals
    )
    out.tables.append(table)
    if tab.checks:
        out.regions.append(_check_region(tab, table, letters))
    for j, (c, tc) in enumerate(zip(cols, columns, strict=True)):
        out.widths[j] = column_width(c.header, tc.values, c.kind, c.width)
    out.heights[table.row] = 30
    out.wrapped_heights = _wrapped_heights(cols, columns, table.first_data)
    out.freeze = (table.row + 1, 1 if len(cols) > 6 else 0)
    out.repeat_rows = table.row


def _check_region(tab: Tab, table: TableLayout, letters: dict[str, str]) -> Region:
    """The check rows under the totals row: a label and a formula over the totals."""
    total_row = table.last_data + 1  # 0-based; the totals row when the table has one

    def at_total(m: re.Match[str]) -> str:
        return f"{letters[m.group(1)]}{total_row + 1}"

    lines = [
        [
            Cell(fit_cell_text(label), "header"),
            Cell(value, "money bold", TOTAL_PLACEHOLDER.sub(at_total, formula)),
        ]
        for label, formula, value in tab.checks
    ]
    return Region(total_row + 2, 0, lines)


def _wrapped_heights(
    cols: tuple[Col, ...], columns: tuple[TableColumn, ...], first_data: int
) -> dict[int, float]:
    """Row heights (points) for wrapped text: not every application grows rows on opening."""
    heights: dict[int, float] = {}
    for c, tc in zip(cols, columns, strict=True):
        if not c.wrap:
            continue
        chars = max(int((c.width or 60) * 1.15), 10)
        for i, v in enumerate(tc.values):
            lines = -(-len(v) // chars) if isinstance(v, str) and v else 1
            if lines > 1:
                heights[first_data + i] = 15 * lines
    return heights


# ---- free-form blocks (the Summary, the Run Log) --------------------------------------------


def _lay_out_blocks(tab: Tab, out: SheetLayout) -> list[tuple[int, int]]:
    """Each block as a region (caption, header, rows); returns (first, last) rows of each
    block's data (last < first for a block without rows)."""
    spans: list[tuple[int, int]] = []
    for k, block in enumerate(tab.blocks):
        first = block_row(tab.blocks, k, 0)
        region = _block_region(block, first - 2)
        out.regions.append(region)
        _widen(out.widths, region)
        spans.append((first, first + len(block.rows) - 1))
    return spans


def _block_region(block: Block, top: int) -> Region:
    n_cols = len(block.header)
    lines = [[Cell(fit_cell_text(block.caption), "caption")]]
    lines.append([Cell(fit_cell_text(h) or None, "header") for h in block.header])
    for values in block.rows:
        kinds: list[str] = list(block.kinds)
        if len(values) > n_cols:  # the row names the kind of its values (all but the first)
            kinds[1:] = [cast(str, values[n_cols])] * (n_cols - 1)
        lines.append(
            [_block_cell(v, kind) for v, kind in zip(values[:n_cols], kinds, strict=False)]
        )
    return Region(top, 0, lines)


def _block_cell(v: object, kind: str) -> Cell:
    """A block value as a cell: numbers in their kind's format (a count or a quantity in a
    text column), PASS and FAIL coloured, text cut to what a cell holds."""
    if v is None or v == "" or (isinstance(v, float) and math.isnan(v)):
        return Cell()  # blank in both writers (the file writer would keep an empty string)
    if isinstance(v, Formula):
        if isinstance(v.value, str):
            return Cell(v.value, verdict_style(v.value), v.text)
        return Cell(v.value, kind if kind != "text" else "qty", v.text)
    if isinstance(v, str):
        text = fit_cell_text(v)
        return Cell(text, verdict_style(text))
    if isinstance(v, (dt.date, dt.datetime)):
        return Cell(v, "date")
    number = float(cast(SupportsFloat, v))
    style = kind if kind != "text" else ("int" if number.is_integer() else "qty")
    return Cell(number, style)


def _widen(widths: dict[int, float], region: Region) -> None:
    """Block columns: as wide as their header, 16 for figures, texts up to 70 characters."""
    for line in region.cells[1:]:  # the caption runs over the next columns
        for j, cell in enumerate(line):
            w = _cell_width(cell, header=line is region.cells[1])
            if w is not None:
                widths[region.col + j] = max(widths.get(region.col + j, 0), w)


def _cell_width(cell: Cell, header: bool) -> float | None:
    v = cell.value
    if header:
        return len(str(v)) + 2
    if cell.formula or isinstance(v, float):
        return 16
    if isinstance(v, str) and v:
        return min(len(v) + 2, 70)
    return None


def _charts(tab: Tab, spans: list[tuple[int, int]]) -> list[ChartLayout]:
    """One chart per spec with data: beside the blocks, stacked from row 4, or under its
    block."""
    out: list[ChartLayout] = []
    for k, spec in enumerate(tab.charts):
        first, last = spans[spec.block]
        if last < first:
            continue  # nothing to draw
        kind: Literal["column", "bar"] = "bar" if spec.kind == "bar" else "column"
        categories, values = _chart_boxes(tab, spec, first, last)
        anchor = (
            (last + 2, 0)
            if spec.place == "below"
            else (Tab.HEADER_ROW + CHART_STEP * k, CHART_COLUMN)
        )
        out.append(ChartLayout(spec.title, kind, categories, values, anchor))
    return out


def _table_charts(tab: Tab, table: TableLayout) -> list[ChartLayout]:
    """Stacked charts of a table's columns (Chart.series) over its first data rows, right of
    the table; none for an empty table."""
    if not len(tab.data):
        return []
    out: list[ChartLayout] = []
    first = table.first_data
    for k, spec in enumerate(tab.charts):
        last = first + min(len(tab.data), spec.max_rows or len(tab.data)) - 1
        kind: Literal["column", "bar"] = "bar" if spec.kind == "bar" else "column"
        cat = spec.category_column
        stacked = tuple(((table.row, j), (first, j, last, j)) for j in spec.series)
        anchor = (table.row + CHART_STEP * k, len(tab.columns) + 1)
        values = stacked[0][1] if stacked else (first, spec.value_column, last, spec.value_column)
        out.append(
            ChartLayout(spec.title, kind, (first, cat, last, cat), values, anchor, stacked=stacked)
        )
    return out


def _chart_boxes(tab: Tab, spec: Chart, first: int, last: int) -> tuple[Box, Box]:
    """Categories and values of one chart: a column down the block's rows (categories from
    another column), or one row across the block's columns (categories from its header)."""
    if spec.value_row is None:
        cat, val = spec.category_column, spec.value_column
        return (first, cat, last, cat), (first, val, last, val)
    right = len(tab.blocks[spec.block].header) - 1
    row = first + spec.value_row
    return (first - 1, spec.value_column, first - 1, right), (row, spec.value_column, row, right)


def region_cells(region: Region) -> Iterable[tuple[int, int, Cell]]:
    """Every cell of ``region`` with its worksheet row and column (0-based)."""
    for i, line in enumerate(region.cells):
        for j, cell in enumerate(line):
            yield region.row + i, region.col + j, cell


__all__ = [
    "STYLES",
    "Cell",
    "ChartLayout",
    "PageSetup",
    "Region",
    "SheetLayout",
    "Style",
    "TableColumn",
    "TableLayout",
    "column_values",
    "column_width",
    "page_setup",
    "region_cells",
    "sheet_layout",
]
