"""One reading of a cell for the three faces that read cells: validation (the month-end), the
worksheet functions (addin.workbook.ranges) and the xlwings reader (addin.excel.sheets); and the
worksheet functions agree with the month-end on the standards they roll up from the same
sheets."""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd
import pytest
from fake_xlwings import book_from_sheet_rows

from addin.costing.engine import run_month_end
from addin.excel import sheets as xl_sheets
from addin.excel.udfs import BF_STDCOST
from addin.workbook import contract as C
from addin.workbook import ranges
from addin.workbook.reader import SheetRows
from addin.workbook.validation import parse_inputs

STD = C.SHEETS_BY_NAME[C.STANDARD_COSTS]
BOM = C.SHEETS_BY_NAME[C.BOM]

# (column, cell, what the month-end reads: a value, or the refusal's wording)
TABLE: list[tuple[C.Column, object, object]] = [
    (STD.column("Material"), 5, 5.0),
    (STD.column("Material"), "1,234.50", 1234.5),
    (STD.column("Material"), " 7 ", 7.0),
    (STD.column("Material"), "$5", 5.0),
    (STD.column("Material"), "(12.00)", -12.0),
    (STD.column("Material"), "-$5", -5.0),
    (STD.column("Material"), "12%", 'Material is "12%", a percentage; type a plain number'),
    (STD.column("Material"), "1,5", 'Material is "1,5", not a number; type a number'),
    (STD.column("Material"), True, "Material is TRUE, not a number; type a number"),
    (
        STD.column("Material"),
        dt.date(2026, 1, 2),
        "Material is a date (2026-01-02), not a number; type a number",
    ),  # fmt: skip
    (
        STD.column("Material"),
        " #n/a ",
        "Material is #N/A (an Excel error); fix the formula or type the material",
    ),  # fmt: skip
    (BOM.column("Scrap %"), "5%", 0.05),
    (BOM.column("Scrap %"), 0.05, 0.05),
    (BOM.column("Scrap %"), "abc", 'Scrap % is "abc", not a number; type a percentage such as 5%'),
    (BOM.column("Effective From"), dt.datetime(2026, 10, 31, 13, 30), pd.Timestamp(2026, 10, 31)),
    (BOM.column("Effective From"), "2026-10-31", pd.Timestamp(2026, 10, 31)),
    (BOM.column("Effective From"), 46326, pd.Timestamp(2026, 10, 31)),
    (
        BOM.column("Effective From"),
        5,
        "Effective From is 5, not a date; type a date such as 2026-10-31",
    ),  # fmt: skip
    (
        BOM.column("Effective From"),
        "31/10/2026",
        'Effective From is "31/10/2026", not a date; '
        "type a date such as 2026-10-31 (or as an Excel date)",
    ),  # fmt: skip
    (BOM.column("Effective To"), dt.datetime(9999, 12, 31), None),  # "no end": blank
    (
        BOM.column("Effective To"),
        "#REF!",
        "Effective To is #REF! (an Excel error); fix the formula or type the effective to",
    ),  # fmt: skip
    (STD.column("Backflush"), "x", True),
    (STD.column("Backflush"), " No ", False),
    (STD.column("Backflush"), 0, False),
    (STD.column("Backflush"), 1.0, True),
    (STD.column("Backflush"), 2, 'Backflush is "2"; type Yes or No'),
    (STD.column("Backflush"), "maybe", 'Backflush is "maybe"; type Yes or No'),
]


def _udf_reading(col: C.Column, cell: object) -> object:
    try:
        return ranges.cell_value(cell, col, "")
    except ranges.LookupProblem as e:
        return str(e).strip()


def _month_end_sheets(col: C.Column, cell: object) -> dict[str, SheetRows]:
    """Settings, Standard Costs (A raw, P finished) and one BOM line P -> A; ``cell`` in
    ``col`` on A's row or on the BOM line."""
    std = [["Item", "Type", "Material", "Conversion", "Backflush"],
           ["A", "Raw", 1.0, 0.0, "Yes"], ["P", "Finished", 0.0, 2.0, "Yes"]]  # fmt: skip
    bom = [["Parent", "Component", "Qty Per", "Scrap %", "Effective From", "Effective To"],
           ["P", "A", 2.0, None, None, None]]  # fmt: skip
    rows = std if col.name in std[0] else bom
    rows[1][rows[0].index(col.name)] = cell
    settings = [["Setting", "Value"], ["Period Start", dt.datetime(2026, 10, 1)],
                ["Period End", dt.datetime(2026, 10, 31)], ["Trigger", "completion"]]  # fmt: skip
    return {
        name: SheetRows(name, r)
        for name, r in ((C.SETTINGS, settings), (C.STANDARD_COSTS, std), (C.BOM, bom))
    }


def _month_end_reading(col: C.Column, cell: object) -> object:
    """The value the month-end's frame holds, or the message refusing the cell."""
    inputs, findings = parse_inputs(_month_end_sheets(col, cell))
    refusals = [f.message for f in findings if f.check != "negative" and f.cell]
    if refusals:
        return refusals[0]
    if inputs is None:  # refused by a column rule (a negative price), not by the reading
        return [f.message for f in findings]
    frame = inputs.standard_costs if col.name in ("Material", "Backflush") else inputs.bom
    value = frame[col.field].iloc[0]
    return None if pd.isna(value) else value


@pytest.mark.parametrize(("col", "cell", "expected"), TABLE)
def test_the_worksheet_functions_read_a_cell_as_the_month_end(col, cell, expected) -> None:
    assert _udf_reading(col, cell) == expected
    got = _month_end_reading(col, cell)
    if isinstance(got, list):  # read the same, then refused for its sign: "-12; it cannot ..."
        assert isinstance(expected, float) and expected < 0
        assert got == [f"{col.name} is {expected:g}; it cannot be negative"]
    else:
        assert got == expected


@pytest.mark.parametrize(("col", "cell", "expected"), TABLE)
def test_the_xlwings_reader_reads_a_cell_as_the_file_reader(col, cell, expected) -> None:
    """The same sheets read from an open book (xlwings) and as the file reader hands them
    over: the same inputs or the same findings."""
    by_file = _month_end_sheets(col, cell)
    book = book_from_sheet_rows("book.xlsx", by_file)
    from_file, file_findings = parse_inputs(by_file)
    from_book, book_findings = parse_inputs(xl_sheets.read_input_sheets(book))
    assert book_findings == file_findings
    assert (from_book is None) == (from_file is None)
    if from_file is not None and from_book is not None:
        for attr in ("standard_costs", "bom"):
            pd.testing.assert_frame_equal(getattr(from_book, attr), getattr(from_file, attr))


# ---- worksheet functions and the month-end roll up the same standards -----------------------

MONEY_TEXT = ("{:.2f}", "${:.2f}", "{:,.2f}", " {:.2f} ")


def _random_sheets(rng: random.Random) -> tuple[list[list[object]], list[list[object]]]:
    """A random plant: items 0..n-1, item i's components drawn from items below it; costs and
    quantities typed as numbers or as money/percent text; Backflush as Yes/No/x/blank."""
    n = rng.randint(3, 12)
    costs: list[list[object]] = [["Item", "Type", "Material", "Labor", "Overhead", "Backflush"]]
    bom: list[list[object]] = [["Parent", "Component", "Qty Per", "Scrap %"]]
    for i in range(n):
        comps = rng.sample(range(i), k=min(i, rng.randint(0, 3)))
        kind = "Raw" if not comps else rng.choice(["Subassembly", "Finished"])
        material = round(rng.uniform(0, 50), 2) if kind == "Raw" else 0.0
        amounts = (material, round(rng.uniform(0, 9), 2), round(rng.uniform(0, 9), 2))
        cells = [rng.choice(MONEY_TEXT).format(x) if rng.random() < 0.5 else x for x in amounts]
        flag = rng.choice(["Yes", "No", "x", None, "n", True]) if comps else None
        costs.append([f"I{i}", kind, *cells, flag])
        for c in comps:
            scrap = rng.choice([0.0, 0.05, "10%", None])
            bom.append([f"I{i}", f"i{c} ", rng.choice([1, 2, 0.5, "1.25", 3]), scrap])
    return costs, bom


def _month_end_rollup(costs: list[list[object]], bom: list[list[object]]) -> dict[str, float]:
    settings = [["Setting", "Value"], ["Period Start", dt.datetime(2026, 10, 1)],
                ["Period End", dt.datetime(2026, 10, 31)], ["Trigger", "completion"]]  # fmt: skip
    sheets = {
        C.SETTINGS: SheetRows(C.SETTINGS, settings),
        C.STANDARD_COSTS: SheetRows(C.STANDARD_COSTS, costs),
        C.BOM: SheetRows(C.BOM, bom),
    }
    inputs, findings = parse_inputs(sheets)
    assert inputs is not None, findings
    rollup = run_month_end(inputs).rollup
    return dict(zip(rollup["item"].astype(str), rollup["rolled_total"], strict=True))


@pytest.mark.parametrize("seed", range(40))
def test_the_standard_a_worksheet_function_returns_is_the_cost_rollups(seed: int) -> None:
    """BF_STDCOST over the Standard Costs and BOM rows equals the rolled-up standard on the
    month-end's Cost Rollup for every item, however the cells are typed."""
    ranges.clear_cache()
    costs, bom = _random_sheets(random.Random(seed))
    month_end = _month_end_rollup(costs, bom)
    for row in costs[1:]:
        item = str(row[0])
        assert BF_STDCOST(costs, bom, item) == pytest.approx(month_end[item], abs=1e-9), item
