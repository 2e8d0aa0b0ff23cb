"""Column widths per engine: characters for Excel on Windows and macOS, points for xlwings Lite.

Excel's ColumnWidth (xlwings' ``column_width`` on the desktop) counts characters of the default
font; office.js, which xlwings Lite drives, takes points. A width of 12 handed to Lite as points
is 16 pixels: every money column would show ####. Checked in pixels, the unit both reduce to:
a Calibri 11 digit is 7 px plus 5 px padding (so 8.43 characters = 64 px, Excel's default
column), and 1 px = 0.75 pt.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from fake_xlwings import FakeBook, book_from_sheet_rows

from addin.excel import macros, sheets
from addin.workbook.reader import read_workbook

DEMO = Path(__file__).resolve().parents[1] / "workbook_templates" / "demo-plant.xlsx"
ENGINES = {"win32": "characters", "darwin": "characters", "emscripten": "points"}


def pixels(width: float, unit: str) -> float:
    return width * 7 + 5 if unit == "characters" else width / 0.75


def test_engine_width_worked_figures() -> None:
    assert sheets.engine_width(10, "win32") == 10
    assert sheets.engine_width(10, "darwin") == 10
    assert sheets.engine_width(10, "emscripten") == 56.25  # (10 x 7 + 5) px x 0.75 = 56.25 pt
    assert sheets.engine_width(8.43, "emscripten") == 48.01  # 64.01 px x 0.75 = 48.0075 pt


@pytest.fixture(scope="module")
def demo_rows():
    rows, findings = read_workbook(DEMO)
    assert not findings
    return rows


def journal_widths(rows, folder: Path, platform: str, monkeypatch) -> tuple[FakeBook, dict]:
    monkeypatch.setattr(sys, "platform", platform)
    book = book_from_sheet_rows(str(folder / f"demo-{platform}.xlsx"), rows)
    macros.run_month_end(book)
    monkeypatch.undo()
    journal = book.sheets["Journal"]
    return book, dict(journal._widths)


def test_journal_money_columns_fit_on_every_engine(demo_rows, tmp_path, monkeypatch) -> None:
    """Debit and Credit (columns E, F) hold the month's total debits (10 characters): at
    least 10 x 7 + 5 = 75 px on every engine, and every column the same pixels on all three."""
    in_pixels = {}
    for platform, unit in ENGINES.items():
        book, widths = journal_widths(demo_rows, tmp_path, platform, monkeypatch)
        in_pixels[platform] = {c: round(pixels(w, unit), 1) for c, w in widths.items()}
        values = book.sheets["Journal"]._values.items()
        total = round(sum(v for (_r, c), v in values if c == 5 and isinstance(v, float)), 2)
        shown = f"{total:,.2f}"  # the month's debits, e.g. 761,380.41: 10 characters
        assert len(shown) == 10, shown
        for col in (5, 6):
            assert in_pixels[platform][col] >= len(shown) * 7 + 5, (platform, col, widths[col])
    assert in_pixels["win32"] == in_pixels["darwin"] == in_pixels["emscripten"]
    assert in_pixels["win32"][7] == 60 * 7 + 5  # Memo's fixed 60 characters = 425 px
