"""The xlwings layer (addin/excel/sheets.py, macros.py) against a strict fake Book.

The fake (tests/fake_xlwings.py) implements only attributes real xlwings has, with the same
parameter names (checked here against xlwings.main), so a wrong call fails a test.
"""

from __future__ import annotations

import csv
import inspect
from pathlib import Path

import fake_xlwings
import pandas as pd
import pytest
import xlwings.main as xwm
from fake_xlwings import FAKE_TO_REAL, FakeBook, FakeRange, book_from_sheet_rows

from addin import cli
from addin.excel import macros, ribbon, sheets
from addin.workbook import contract as C
from addin.workbook.reader import read_workbook
from addin.workbook.tabs import Col, Tab

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "workbook_templates" / "demo-plant.xlsx"


# ---- the fake is honest ---------------------------------------------------------------


def _public(cls: type) -> dict[str, object]:
    return {k: v for k, v in vars(cls).items() if not k.startswith("_") or k in ("__getitem__",)}


@pytest.mark.parametrize("fake_name", sorted(FAKE_TO_REAL))
def test_fake_matches_real_xlwings(fake_name: str) -> None:
    fake = getattr(fake_xlwings, fake_name)
    real = getattr(xwm, FAKE_TO_REAL[fake_name])
    for name, attr in _public(fake).items():
        if name == "__slots__":
            continue
        assert hasattr(real, name), f"{FAKE_TO_REAL[fake_name]} has no {name!r}"
        real_attr = inspect.getattr_static(real, name)
        if isinstance(attr, property):
            assert isinstance(real_attr, property), f"{name} is not a property in xlwings"
            if attr.fset is not None:
                assert real_attr.fset is not None, f"{name} cannot be set in xlwings"
        elif callable(attr):
            fake_params = list(inspect.signature(attr).parameters)
            real_params = list(inspect.signature(real_attr).parameters)
            assert fake_params == real_params[: len(fake_params)], (name, real_params)
    for slot in fake.__slots__:
        if not slot.startswith("_"):
            assert hasattr(real, slot), f"{FAKE_TO_REAL[fake_name]} has no {slot!r}"


def test_fake_rejects_what_xlwings_lacks() -> None:
    book = FakeBook("x.xlsx")
    sheet = book.sheets[0]
    with pytest.raises(AttributeError):
        sheet.range("A1").bold = True  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        sheet.write("A1", 1)  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        sheet.tables.add(sheet.range("A1"), style="x")  # type: ignore[call-arg]


# ---- the demo workbook through the fake book ---------------------------------------------


@pytest.fixture(scope="module")
def demo_rows():
    rows, findings = read_workbook(DEMO)
    assert not findings
    return rows


@pytest.fixture()
def demo_book(demo_rows, tmp_path: Path) -> FakeBook:
    return book_from_sheet_rows(str(tmp_path / "demo-plant.xlsx"), demo_rows)


def names(book: FakeBook) -> list[str]:
    return [s.name for s in book.sheets]


def test_run_month_end_writes_each_result_tab_once_and_replaces_on_rerun(
    demo_book: FakeBook,
) -> None:
    inputs = names(demo_book)
    before = {n: v for n, v in demo_book._snapshot().items()}
    message = macros.run_month_end(demo_book)
    assert message and message.startswith("Month-end posted:")
    assert names(demo_book) == inputs + list(C.RESULT_TABS)
    app = demo_book.app
    assert app.status_bar is False and app.screen_updating is True
    assert app._alerts[-1][3] == "info"

    journal = demo_book.sheets["Journal"]
    first_values = dict(journal._values)
    macros.run_month_end(demo_book)
    assert names(demo_book) == inputs + list(C.RESULT_TABS)
    after = demo_book._snapshot()
    assert {n: after[n] for n in inputs} == before  # input sheets unchanged
    assert demo_book.sheets["Journal"]._values.keys() == first_values.keys()
    tables = [t.name for s in demo_book.sheets for t in s.tables]
    assert len(tables) == len(set(tables))


def test_result_tab_layout_matches_the_file_writer(demo_book: FakeBook) -> None:
    macros.run_month_end(demo_book)
    j = demo_book.sheets["Journal"]
    assert j.range("A1").value.endswith("journal entries")
    assert j.range("A1").font.bold and j.range("A1").font.size == 14
    assert j.range("A4:H4").value == [
        "Entry", "Date", "Account", "Account Name", "Debit", "Credit", "Memo", "Reference",
    ]  # fmt: skip
    table = next(iter(j.tables))
    assert table.name == "Journal" and table.show_totals
    last = table.range.shape[0] + 3  # header on row 4; the totals row is the table's last
    assert j._formulas[(last, 5)] == f"=SUBTOTAL(109,E5:E{last - 1})"
    assert j.range((last, 1)).value == "Total"
    assert j.range("E5").number_format.startswith("_(* #,##0.00_)")
    assert j.range("B5").number_format == "yyyy-mm-dd"
    assert j.range("A5").number_format == "@"
    assert j._frozen == "B5"  # 8 columns: header row and first column frozen
    assert j._widths[7] == 60  # Memo's fixed width
    debits = pd.Series(j.range((5, 5), (last - 1, 5)).value, dtype=float).sum()
    credits = pd.Series(j.range((5, 6), (last - 1, 6)).value, dtype=float).sum()
    assert round(debits, 2) == round(credits, 2) > 0

    inv = demo_book.sheets["Inventory"]
    assert inv._formulas[(5, 8)] == "=E5+F5-G5"  # Book Qty
    assert inv._formulas[(6, 13)] == "=H6-N(L6)"  # Ending Qty
    assert inv.range("H5").value is not None  # the engine's figure stays as the value

    s = demo_book.sheets["Summary"]
    assert s.range("A4").value == "Key figures"
    assert s.range("A5:B5").value == ["Figure", "Value"]
    assert len(s.charts) == 2  # variances by type, and the largest by item
    assert [c.chart_type for c in s.charts._items] == ["column_clustered", "bar_clustered"]


def test_each_table_is_written_in_bulk(demo_book: FakeBook) -> None:
    macros.run_month_end(demo_book)
    log = demo_book.app._log
    writes = [e for e in log if e[0] == "write" and e[1] == "Journal"]
    assert [w[2] for w in writes][:2] == ["$A$1", "$A$2"]
    assert len(writes) == 3  # title, subtitle, and the whole table in one assignment
    n = len(demo_book.sheets["Journal"].range("A4").sheet.used_range.value)
    assert writes[2][2].startswith("$A$4:$H$")
    formats = [e for e in log if e[0] == "format" and e[1] == "Journal"]
    assert len(formats) == 9  # one per column, one for the check rows under the totals
    assert n > 10


def test_input_errors_show_sheet_and_cell_and_nothing_is_written(demo_book: FakeBook) -> None:
    bom = demo_book.sheets["BOM"]
    bom.range("C3").value = "lots"
    assert macros.run_month_end(demo_book) is None
    prompt, title, _buttons, mode = demo_book.app._alerts[-1]
    assert mode == "critical" and title == "Backflush"
    assert "BOM!C3" in prompt and "nothing was written" in prompt
    assert "Traceback" not in prompt
    assert not set(names(demo_book)) & set(C.RESULT_TABS)
    assert demo_book.app.status_bar is False


def test_internal_errors_become_a_message_not_a_traceback(
    demo_book: FakeBook, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(macros.app, "month_end", boom)
    assert macros.run_month_end(demo_book) is None
    prompt = demo_book.app._alerts[-1][0]
    assert "internal error: RuntimeError: disk on fire" in prompt


def test_validate_writes_nothing(demo_book: FakeBook) -> None:
    before = names(demo_book)
    message = macros.validate_inputs(demo_book)
    assert message and message.startswith("The input sheets have no errors")
    assert names(demo_book) == before


def test_roll_up_writes_only_the_cost_rollup(demo_book: FakeBook) -> None:
    inputs = names(demo_book)
    macros.roll_up_standards(demo_book)
    assert names(demo_book) == inputs + ["Cost Rollup"]
    rollup = demo_book.sheets["Cost Rollup"]
    assert rollup.range("A4").value == "Item"
    assert rollup._formulas[(5, 14)] == "=J5+M5"


def test_clear_results_deletes_only_result_tabs(demo_book: FakeBook) -> None:
    inputs = names(demo_book)
    macros.run_month_end(demo_book)
    demo_book.sheets.add("My notes", after=demo_book.sheets[len(demo_book.sheets) - 1])
    message = macros.clear_results(demo_book)
    assert message and message.startswith(f"Removed {len(C.RESULT_TABS)} result tab(s)")
    assert names(demo_book) == inputs + ["My notes"]
    with pytest.raises(ValueError, match="not a result tab"):
        sheets.replace_result_sheet(demo_book, "BOM")


def test_export_journal_csv_for_gl_import(demo_book: FakeBook, tmp_path: Path) -> None:
    macros.run_month_end(demo_book)
    journal = demo_book.sheets["Journal"]
    journal.range("G5").value = '\'=HYPERLINK("http://x")'  # an accountant's edit
    message = macros.export_journal(demo_book)
    path = tmp_path / "demo-plant - journal.csv"
    assert message and str(path) in message
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == [
        "Entry", "Date", "Account", "Description", "Debit", "Credit", "Memo", "Reference",
    ]  # fmt: skip
    assert rows[1][6] == '\'=HYPERLINK("http://x")'
    assert rows[1][1].count("-") == 2 and len(rows[1][1]) == 10  # ISO date
    money = [r[4] or r[5] for r in rows[1:]]
    assert all(m.count(".") == 1 and len(m.split(".")[1]) == 2 for m in money)
    debit = sum(float(r[4] or 0) for r in rows[1:])
    credit = sum(float(r[5] or 0) for r in rows[1:])
    assert round(debit, 2) == round(credit, 2)
    # the same file as the command line's export (a cross-face check), but for the edited memo
    cli_csv = tmp_path / "cli.csv"
    assert cli.main(["export-journal", str(DEMO), "--out", str(cli_csv), "--quiet"]) == 0
    with open(cli_csv, newline="", encoding="utf-8") as fh:
        from_cli = list(csv.reader(fh))
    from_cli[1][6] = rows[1][6]
    assert rows == from_cli


def test_export_journal_needs_a_run_first(demo_book: FakeBook) -> None:
    assert macros.export_journal(demo_book) is None
    assert "Run Month-End first" in demo_book.app._alerts[-1][0]


def test_new_template_opens_a_fresh_input_workbook(demo_book: FakeBook) -> None:
    macros.new_template(demo_book)
    opened = demo_book.app.books._books[-1]
    assert Path(opened.fullname).exists() and opened.fullname.endswith(".xlsx")


def test_new_template_from_an_empty_excel_closes_the_blank_book() -> None:
    """No workbook was open: the ribbon's VBA opened a blank "Book1" for xlwings; New Template
    opens the template, then closes that blank book unsaved."""
    blank = FakeBook("Book1")
    blank.app.books._books.append(blank)
    macros.new_template(blank, close_blank=True)
    names = [b.name for b in blank.app.books._books]
    assert len(names) == 1 and names[0].startswith("Backflush inputs ")
    assert ("close", "Book1", "") in blank.app._log
    assert blank.app._alerts == []


def test_text_that_looks_like_a_formula_stays_text(demo_book: FakeBook) -> None:
    tab = Tab(
        "Exceptions",
        "=cmd|' /C calc'!A0",
        columns=(Col("Message"), Col("Amount", "money", total=True)),
        data=pd.DataFrame({"Message": ["=1+1", "@SUM(A1)"], "Amount": [1.5, 2.0]}),
        table_name="Exceptions",
    )
    sheet = sheets.write_tab(demo_book, tab)
    assert sheet.range("A1").value == "=cmd|' /C calc'!A0"
    assert sheet.range("A5:A6").value == ["=1+1", "@SUM(A1)"]
    assert (5, 1) not in sheet._formulas and (1, 1) not in sheet._formulas
    assert sheet._formulas[(7, 2)] == "=SUBTOTAL(109,B5:B6)"


def test_every_ribbon_button_has_its_macro() -> None:
    for button in ribbon.BUTTONS:
        fn = getattr(macros, button.macro)
        # a button that works without an open workbook also closes the blank one VBA opened
        extra = [] if button.needs_workbook else ["close_blank"]
        assert list(inspect.signature(fn).parameters) == ["book", *extra]


def test_reading_keeps_worksheet_coordinates(demo_rows) -> None:
    book = book_from_sheet_rows("b.xlsx", demo_rows)
    book.sheets["Counts"].range("B3").value = "#N/A"
    got = sheets.read_input_sheets(book)
    assert got["BOM"].rows[0][:3] == ["Parent", "Component", "Qty Per"]
    assert got["BOM"].first_row == 1 and got["BOM"].table_ref == demo_rows["BOM"].table_ref
    assert got["Counts"].error_cells == {(3, 2): "#N/A"}
    assert isinstance(book.sheets["BOM"].used_range, FakeRange)


XLWINGS_LAYER = [
    "addin/excel/sheets.py",
    "addin/excel/macros.py",
    "addin/excel/udfs.py",
    "addin/costing/lookup.py",
    "addin/workbook/ranges.py",
]


def test_mypy_xlwings_layer() -> None:
    """The layer type-checks against xlwings' own hints (xlwings ships py.typed)."""
    import subprocess
    import sys

    pytest.importorskip("mypy")
    run = subprocess.run(
        [sys.executable, "-m", "mypy", *XLWINGS_LAYER],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
