"""The bundled workbooks are what ``python -m addin.templates`` writes today."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest
from result_books import read_table

from addin.cli import main
from addin.templates import DEMO, TEMPLATE, write_all
from addin.workbook.contract import INPUT_SHEETS, SETTING_ROWS, SETTINGS

BUNDLED = Path(__file__).resolve().parents[1] / "workbook_templates"


def test_bundled_workbooks_are_up_to_date(tmp_path):
    fresh = write_all(tmp_path)
    for path in fresh:
        committed = BUNDLED / path.name
        assert committed.exists(), f"{committed} missing: run `make templates`"
        assert committed.read_bytes() == path.read_bytes(), (
            f"{path.name} is stale: run `make templates`"
        )
    assert {p.name for p in fresh} == {TEMPLATE, DEMO}


def _fill(ws, rows: list[list[object]]) -> None:
    """Type ``rows`` under the header, as a user would, and let the table grow over them
    (Excel extends a table when you type in the row below it)."""
    for i, row in enumerate(rows, start=2):
        for j, v in enumerate(row, start=1):
            ws.cell(i, j, v)
    (table,) = ws.tables.values()
    first, last = table.ref.split(":")
    last_col = "".join(ch for ch in last if ch.isalpha())
    table.ref = f"{first}:{last_col}{max(len(rows) + 1, 2)}"


def _header(ws) -> list[str]:
    return [c.value for c in ws[1] if c.value is not None]


def test_the_shipped_template_holds_every_setting_and_column_of_the_contract():
    wb = openpyxl.load_workbook(BUNDLED / TEMPLATE)
    for spec in INPUT_SHEETS:
        assert _header(wb[spec.name]) == [c.name for c in spec.columns], spec.name
    settings = [r[0] for r in wb[SETTINGS].iter_rows(min_row=2, values_only=True) if r[0]]
    assert settings == list(SETTING_ROWS)


def test_the_shipped_template_filled_in_runs_a_month(tmp_path, capsys):
    """A tiny October typed into the template's tables, as a new user would."""
    book = tmp_path / "october.xlsx"
    shutil.copy(BUNDLED / TEMPLATE, book)
    wb = openpyxl.load_workbook(book)
    settings = wb[SETTINGS]
    for row in settings.iter_rows(min_row=2):
        if row[0].value == "Period Start":
            row[1].value = dt.datetime(2026, 10, 1)
        elif row[0].value == "Period End":
            row[1].value = dt.datetime(2026, 10, 31)
        elif row[0].value == "Company":
            row[1].value = "Keyboards Ltd"
    oct_ = dt.datetime(2026, 10, 15)
    # Item, Description, Type, UoM, Material, Conversion, Labor, Overhead, Backflush
    _fill(
        wb["Standard Costs"],
        [
            ["DM", "Direct materials", "Raw", "kg", 1, None, None, None, "Yes"],
            ["KB", "Keyboard", "Finished", "ea", 0, 12, None, None, "Yes"],
        ],
    )
    _fill(wb["BOM"], [["KB", "DM", 19]])
    _fill(wb["Purchases"], [[oct_, "DM", 100, 1.10, "PO-1"]])
    _fill(wb["Completions"], [[oct_, "KB", 5]])
    _fill(wb["Sales"], [[oct_, "KB", 4]])
    _fill(wb["Conversion Costs"], [[oct_, "Conversion", 70]])
    wb.save(book)

    assert main(["validate", str(book)]) == 0, capsys.readouterr().err
    out = tmp_path / "results.xlsx"
    assert main(["run", str(book), "--out", str(out), "--quiet"]) == 0, capsys.readouterr().err
    ending = {}
    for r in read_table(out, "Inventory"):
        ending[r["Account"]] = ending.get(r["Account"], 0) + r["Ending Value"]
    # MIP (1300): 100 kg at the 1.00 standard less 5 keyboards x 19 kg = 5.00
    # FG (1400): 1 keyboard at 19 x 1.00 + 12 conversion = 31.00
    assert ending == {"1300": 5.0, "1400": 31.0}
    variances = {r["Type"]: r["Amount"] for r in read_table(out, "Variances")}
    # price: 100 kg x (1.10 - 1.00); conversion: 70 actual - 5 keyboards x 12 allocated
    assert variances == {"price": pytest.approx(10.0), "conversion": pytest.approx(10.0)}


def test_input_workbook_text_a_cell_cannot_hold_is_refused_not_cut(tmp_path):
    from addin.workbook.inputs_writer import write_input_workbook
    from addin.workbook.writer import OutputError
    from tests.builders import horngren

    inputs = horngren("completion")
    inputs.standard_costs.loc[0, "description"] = "D" * 32_768
    path = tmp_path / "inputs.xlsx"
    with pytest.raises(OutputError, match=r"Standard Costs!B2: the text is 32,768 characters"):
        write_input_workbook(inputs, path)
    assert not path.exists()
