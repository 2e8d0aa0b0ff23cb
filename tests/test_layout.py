"""One layout, two writers: the file writer and the xlwings writer put the same grid on a sheet.

Each month below goes through both writers: the result file (xlsxwriter) is read back with
openpyxl, the xlwings writer writes into tests/fake_xlwings.py's recording Book. The two grids
are compared cell by cell: values, formulas, number formats, column widths, frozen panes, Excel
table ranges and chart anchors.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from builders import make_inputs
from fake_xlwings import FakeBook

from addin import app
from addin.costing.model import MonthEndInputs, Trigger
from addin.excel import sheets
from addin.workbook.layout import Cell, Region
from addin.workbook.reader import read_workbook
from addin.workbook.tabs import Tab
from addin.workbook.validate import parse_inputs
from addin.workbook.writer import write_tabs

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "workbook_templates" / "demo-plant.xlsx"
XLSXWRITER_PADDING = 0.7109375  # xlsxwriter stores a column width of w characters as w + this

Grid = dict[str, Any]


@pytest.fixture(scope="module")
def demo_inputs() -> MonthEndInputs:
    rows, findings = read_workbook(DEMO)
    assert not findings
    inputs, findings = parse_inputs(rows)
    assert inputs is not None
    return inputs


def empty_month() -> MonthEndInputs:
    """Two items, no opening balances and nothing bought, made, sold or spent: no postings."""
    return make_inputs(
        items=[
            {"item": "RM", "item_type": "Raw", "material": 2.50},
            {"item": "FG", "item_type": "Finished", "conversion": 4.00},
        ],
        bom=[{"parent": "FG", "component": "RM", "qty_per": 2}],
    )


def month_tabs(inputs: MonthEndInputs) -> list[Tab]:
    """The result tabs of a run, as both writers get them."""
    _result, tabs = app.month_end(inputs, "inputs.xlsx")
    return tabs


def _number(v: object) -> object:
    """Numbers as floats to 15 significant digits (an .xlsx file keeps 16, Python 17)."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(f"{v:.15g}")
    return v


def file_grid(tabs: list[Tab], path: Path) -> dict[str, Grid]:
    """What the file writer wrote, read back with openpyxl (formulas as text)."""
    write_tabs(tabs, path)
    out: dict[str, Grid] = {}
    for ws in openpyxl.load_workbook(path).worksheets:
        cells: dict[tuple[int, int], tuple[object, str]] = {}
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    cells[(c.row, c.column)] = (_number(c.value), c.number_format)
        widths = {
            col: round(dim.width - XLSXWRITER_PADDING, 4)
            for dim in ws.column_dimensions.values()
            if dim.width
            for col in range(dim.min, dim.max + 1)
        }
        out[ws.title] = {
            "cells": cells,
            "widths": widths,
            "frozen": ws.freeze_panes,
            "tables": dict(ws.tables.items()),
            "charts": [(c.anchor._from.row + 1, c.anchor._from.col + 1) for c in ws._charts],
        }
    return out


def xlwings_grid(tabs: list[Tab], tmp_path: Path) -> dict[str, Grid]:
    """What the xlwings writer wrote into the recording Book (formulas as text)."""
    book = FakeBook(str(tmp_path / "open.xlsx"))
    for tab in tabs:
        sheets.write_tab(book, tab)
    out: dict[str, Grid] = {}
    for s in book.sheets:
        if s.name == "Sheet1":
            continue
        cells = {
            cell: (_number(v), s._formats.get(cell, "General")) for cell, v in s._values.items()
        }
        cells.update(
            {cell: (f, s._formats.get(cell, "General")) for cell, f in s._formulas.items()}
        )
        out[s.name] = {
            "cells": cells,
            "widths": {col: round(w, 4) for col, w in s._widths.items()},
            "frozen": s._frozen,
            "tables": {t.name: t.range.address.replace("$", "") for t in s.tables},
            "charts": [
                (int(c._box[1] // 15) + 1, int(c._box[0] // 48) + 1) for c in s.charts._items
            ],
        }
    return out


def assert_same_grids(tabs: list[Tab], tmp_path: Path) -> None:
    by_file = file_grid(tabs, tmp_path / "results.xlsx")
    by_xlwings = xlwings_grid(tabs, tmp_path)
    assert list(by_file) == list(by_xlwings) == [t.name for t in tabs]
    for name in by_file:
        f, x = by_file[name], by_xlwings[name]
        differ = {
            cell: (f["cells"].get(cell), x["cells"].get(cell))
            for cell in set(f["cells"]) | set(x["cells"])
            if f["cells"].get(cell) != x["cells"].get(cell)
        }
        assert not differ, (name, sorted(differ.items())[:5])
        for key in ("frozen", "tables", "charts", "widths"):
            assert f[key] == x[key], (name, key)


def with_trigger(inputs: MonthEndInputs, trigger: str) -> MonthEndInputs:
    settings = dataclasses.replace(inputs.settings, trigger=Trigger(trigger))
    return dataclasses.replace(inputs, settings=settings)


@pytest.mark.parametrize("trigger", [t.value for t in Trigger])
def test_both_writers_lay_out_the_demo_alike_under_each_trigger(
    demo_inputs: MonthEndInputs, trigger: str, tmp_path: Path
) -> None:
    assert_same_grids(month_tabs(with_trigger(demo_inputs, trigger)), tmp_path)


def test_both_writers_lay_out_an_empty_month_alike(tmp_path: Path) -> None:
    assert_same_grids(month_tabs(empty_month()), tmp_path)


def test_the_grids_compared_are_not_empty(demo_inputs: MonthEndInputs, tmp_path: Path) -> None:
    """The comparison above sees formulas, formats, tables and charts (not two blank books)."""
    grid = xlwings_grid(month_tabs(demo_inputs), tmp_path)
    journal, summary = grid["Journal"], grid["Summary"]
    assert journal["frozen"] == "B5" and journal["tables"]["Journal"].startswith("A4:H")
    money = '_(* #,##0.00_);_(* (#,##0.00);_(* "-"??_);_(@_)'
    assert journal["cells"][(5, 5)][1] == money
    assert summary["charts"] == [(4, 8), (21, 8)]  # H4, then 17 rows lower
    assert any(str(v).startswith("=SUMIFS(") for v, _ in summary["cells"].values())


# ---- the two divergences of the xlwings Summary, as worked examples -------------------------


def _summary_cells(tabs: list[Tab], tmp_path: Path) -> tuple[Grid, Grid]:
    f = file_grid(tabs, tmp_path / "results.xlsx")["Summary"]["cells"]
    x = xlwings_grid(tabs, tmp_path)["Summary"]["cells"]
    return f, x


def test_an_empty_ledger_keeps_the_next_block_in_place(tmp_path: Path) -> None:
    """No postings and no opening balances. Key figures: caption row 4, header 5, 8 figures in
    rows 6-13, a blank row 14; the balance-sheet block: caption 15, header 16, its two inventory
    accounts (MIP 1300, FG 1400, shown every month) on 17-18, a blank row 19; this month's
    activity: caption 20, header 21, no rows, a blank row 22; so Variances by type has its
    caption on row 23, its header on 24 and "price" on 25 (the xlwings writer used to leave a
    blank data row under an empty header, putting all of this one row lower)."""
    f, x = _summary_cells(month_tabs(empty_month()), tmp_path)
    for grid in (f, x):
        assert grid[(15, 1)][0] == "Balance sheet: inventory accounts, Dr/(Cr)"
        assert grid[(16, 1)][0] == "Account"
        assert [grid[(r, 1)][0] for r in (17, 18)] == ["1300", "1400"]
        assert (19, 1) not in grid
        assert str(grid[(20, 1)][0]).startswith("This month's activity")
        assert grid[(21, 1)][0] == "Account"
        assert (22, 1) not in grid
        assert grid[(23, 1)][0] == "Variances by type"
        assert grid[(24, 1)][0] == "Type"
        assert [grid[(r, 1)][0] for r in range(25, 29)] == ["price", "usage", "scrap", "conversion"]
        assert grid[(30, 1)][0] == "Checks"


def test_each_fu_formula_reads_the_amount_on_its_own_row(tmp_path: Path) -> None:
    """F/U says U when the amount beside it (column B, same row) rounds above 0, F below. In an
    empty month "price" is on row 25 (see above), so its F/U formula reads B25, which holds
    the price variance (a SUMIFS over the Variances tab), not the header "Amount" on row 24."""
    f, x = _summary_cells(month_tabs(empty_month()), tmp_path)
    for grid in (f, x):
        types = ("price", "usage", "scrap", "conversion")
        for row, vtype in zip(range(25, 29), types, strict=True):
            assert grid[(row, 1)][0] == vtype
            amount = str(grid[(row, 2)][0])
            assert amount.startswith("=SUMIFS(") and f'"{vtype}"' in amount
            assert grid[(row, 3)][0] == f'=IF(ROUND(B{row},2)>0,"U",IF(ROUND(B{row},2)<0,"F",""))'
        assert grid[(24, 2)][0] == "Amount"


def test_no_chart_is_drawn_over_an_empty_block(tmp_path: Path) -> None:
    """An empty month has no variance by item: the Summary keeps the chart of the four variance
    types (anchored at H4) and draws none for the empty "Largest variances by item" block (the
    xlwings writer used to draw one over a blank row)."""
    tabs = month_tabs(empty_month())
    assert file_grid(tabs, tmp_path / "r.xlsx")["Summary"]["charts"] == [(4, 8)]
    assert xlwings_grid(tabs, tmp_path)["Summary"]["charts"] == [(4, 8)]


def test_styles_are_set_per_rectangle_not_per_cell() -> None:
    """A caption over two columns, a two-cell header, then two rows of [text, money]: the
    money cells (rows 2-3, column 1) make one rectangle, the header one, the caption one."""
    region = Region(
        10,
        0,
        [
            [Cell("Ledger", "caption")],
            [Cell("Account", "header"), Cell("Closing", "header")],
            [Cell("1200"), Cell(5.0, "money")],
            [Cell("1300"), Cell(-2.5, "money")],
        ],
    )
    assert sheets.style_boxes(region, lambda c: c.style) == [
        (0, 0, 0, 0, "caption"),
        (1, 0, 1, 1, "header"),
        (2, 1, 3, 1, "money"),
    ]


def test_the_summary_is_written_one_block_at_a_time(
    demo_inputs: MonthEndInputs, tmp_path: Path
) -> None:
    """Title, subtitle and the six Summary blocks: eight writes in all, whatever the rows."""
    book = FakeBook(str(tmp_path / "open.xlsx"))
    summary = [t for t in month_tabs(demo_inputs) if t.name == "Summary"][0]
    assert len(summary.blocks) == 6 and sum(len(b.rows) for b in summary.blocks) > 20
    sheets.write_tab(book, summary)
    writes = [e for e in book.app._log if e[0] in ("write", "formula") and e[1] == "Summary"]
    assert len(writes) == 8
