"""parse_inputs: every bad input reported with sheet, cell and fix; tidy inputs parsed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from addin.costing.cycles import find_cycles
from addin.costing.model import BOM_COLUMNS, STANDARD_COST_COLUMNS, Severity, Trigger
from addin.workbook.contract import number_from_text
from addin.workbook.reader import SheetRows, read_workbook
from addin.workbook.validate import parse_inputs
from tests.workbooks import errors, run, save, texts, tidy

D = dt.date


def with_rows(sheet: str, *rows: list[object], base: dict | None = None) -> dict:
    """The tidy workbook with ``rows`` appended to ``sheet`` (rows start at worksheet row 3
    on sheets whose tidy version has one data row)."""
    sheets = base or tidy()
    sheets[sheet] = sheets[sheet] + [list(r) for r in rows]
    return sheets


# --- happy path -----------------------------------------------------------------------------


def test_tidy_workbook_with_table_and_offset_range(tmp_path: Path) -> None:
    sheets = tidy()
    inputs, findings = run(
        tmp_path,
        sheets,
        origin={"BOM": "C4", "Standard Costs": "B3"},
        tables={"BOM": "BomTable"},
    )
    assert findings == []
    assert inputs is not None
    s = inputs.settings
    assert (s.period_start, s.period_end, s.trigger) == (
        D(2026, 10, 1),
        D(2026, 10, 31),
        Trigger.PURCHASE_COMPLETION,
    )
    sc = inputs.standard_costs
    assert list(sc.columns) == STANDARD_COST_COLUMNS
    assert sc["item"].tolist() == ["KB", "DM"]
    assert sc["source_row"].tolist() == [4, 5]  # header on B3
    assert sc["conversion"].tolist() == [12.0, 0.0]
    assert np.isnan(sc["labor"]).all() and sc["backflush"].tolist() == [True, True]
    assert sc["material"].dtype == np.float64
    bom = inputs.bom
    assert list(bom.columns) == BOM_COLUMNS
    assert bom[["parent", "component", "qty_per", "scrap_pct"]].values.tolist() == [
        ["KB", "DM", 19.0, 0.0]
    ]
    assert bom["source_row"].tolist() == [5]  # title row 3, header row 4
    assert bom["effective_from"].dtype == "datetime64[ns]" and bom["effective_from"].isna().all()
    p = inputs.purchases
    assert p["date"].dtype == "datetime64[ns]"
    assert p[["item", "quantity", "unit_price"]].values.tolist() == [["DM", 1_950_000.0, 1.0]]
    assert inputs.conversion_costs["element"].tolist() == ["Conversion"]
    assert inputs.counts.empty and inputs.opening_balances.empty
    assert inputs.account("MIP").code == "1300"


def test_labor_and_overhead_split(tmp_path: Path) -> None:
    sheets = tidy()
    sheets["Standard Costs"] = [
        ["Item", "Type", "Material", "Labor", "Overhead"],
        ["KB", "Finished", 0, 5, 7],
        ["DM", "Raw", 1, None, None],
    ]
    inputs, findings = run(tmp_path, sheets)
    assert findings == []
    sc = inputs.standard_costs
    assert sc["conversion"].tolist() == [12.0, 0.0]
    assert sc["labor"].tolist() == [5.0, 0.0] and sc["overhead"].tolist() == [7.0, 0.0]


def test_missing_conversion_and_labor_overhead(tmp_path: Path) -> None:
    sheets = tidy()
    sheets["Standard Costs"] = [["Item", "Type", "Material", "Labor"], ["KB", "Finished", 0, 5]]
    inputs, findings = run(tmp_path, sheets)
    assert inputs is None
    assert (
        'Standard Costs: needs "Conversion" or "Labor" and "Overhead" columns; add them in row 1'
        in errors(findings)
    )


# --- numbers --------------------------------------------------------------------------------


def test_numbers_stored_as_text_are_accepted(tmp_path: Path) -> None:
    sheets = with_rows(
        "Purchases",
        [D(2026, 10, 3), "DM", "1,234.50", "$2"],
        [D(2026, 10, 4), "DM", " 7 ", "(0.00)"],
    )
    inputs, findings = run(tmp_path, sheets)
    assert errors(findings) == []
    assert inputs.purchases["quantity"].tolist() == [1_950_000.0, 1234.5, 7.0]
    assert inputs.purchases["unit_price"].tolist() == [1.0, 2.0, 0.0]


def test_number_from_text() -> None:
    assert number_from_text("(12.00)") == -12.0
    assert number_from_text("-$5") == -5.0
    assert number_from_text("12%", percent=True) == 0.12
    assert number_from_text("12%") is None
    assert number_from_text("1,5") is None  # not a thousands separator: refused, not 15
    assert number_from_text("abc") is None


def test_text_bool_and_negative_in_number_cells(tmp_path: Path) -> None:
    sheets = with_rows(
        "Purchases",
        [D(2026, 10, 3), "DM", "lots", 1],
        [D(2026, 10, 3), "DM", True, 1],
        [D(2026, 10, 3), "DM", -4, 1],  # a return to the vendor: accepted
        [D(2026, 10, 3), "DM", 0, -1],
    )
    inputs, findings = run(tmp_path, sheets)
    assert inputs is None
    assert errors(findings) == [
        'Purchases!C3: Quantity is "lots", not a number; type a number',
        "Purchases!C4: Quantity is TRUE, not a number; type a number",
        "Purchases!D6: Unit Price is -1; it cannot be negative",
        "Purchases!C6: Quantity is 0 and the row has no Charges: it posts nothing; type the "
        "units received (below 0 for a return to the vendor), the Charges of a later charge on "
        "the item, or delete the row",
    ]


def test_huge_number(tmp_path: Path) -> None:
    sheets = with_rows("Purchases", [D(2026, 10, 3), "DM", 5e13, 1])
    _, findings = run(tmp_path, sheets)
    assert errors(findings) == [
        "Purchases!C3: Quantity is 50,000,000,000,000, which is implausibly large "
        "(more than 1,000,000,000,000); check the cell"
    ]


def test_percent_typed_as_whole_number(tmp_path: Path) -> None:
    sheets = with_rows("BOM", ["KB", "DM", 1, 5], ["KB", "DM", 1, "12%"])
    sheets["BOM"][2][1] = "DM"
    sheets["BOM"][3][2] = 2  # distinct line, avoid duplicate check noise
    sheets["Standard Costs"].append(["DM2", "x", "Raw", 1, 0])
    sheets["BOM"][3][1] = "DM2"
    sheets["BOM"][2][0] = "KB"
    inputs, findings = run(tmp_path, sheets)
    msgs = errors(findings)
    assert "BOM!D3: Scrap % is 5; did you mean 5%? Type 5% (Excel stores 0.05)" in msgs
    assert not any("BOM!D4" in m for m in msgs)  # "12%" as text is 0.12


def test_excel_error_values(tmp_path: Path) -> None:
    sheets = with_rows(
        "Purchases", [D(2026, 10, 3), "DM", 5, "#N/A"], [D(2026, 10, 3), "#REF!", 5, 1]
    )
    inputs, findings = run(tmp_path, sheets)
    assert inputs is None
    assert sorted(errors(findings)) == [
        "Purchases!B4: Item is #REF! (an Excel error); fix the formula or type the item",
        "Purchases!D3: Unit Price is #N/A (an Excel error); fix the formula or type the unit price",
    ]


def test_excel_error_strings_from_xlwings() -> None:
    sheets = {
        "Settings": SheetRows.from_values("Settings", tidy()["Settings"]),
        "Standard Costs": SheetRows.from_values(
            "Standard Costs",
            [["Item", "Type", "Material", "Conversion"], ["DM", "Raw", "#DIV/0!", 0]],
        ),
    }
    _, findings = parse_inputs(sheets)
    assert errors(findings) == [
        "Standard Costs!C2: Material is #DIV/0! (an Excel error); "
        "fix the formula or type the material"
    ]


def test_formula_without_saved_value(tmp_path: Path) -> None:
    sheets = with_rows("Purchases", [D(2026, 10, 3), "DM", "=C2*2", 1])
    inputs, findings = run(tmp_path, sheets)
    assert inputs is None
    assert errors(findings) == [
        "Purchases!C3: Quantity is a formula with no saved value; open the file in Excel, let it "
        "calculate, save, and run again"
    ]


# --- dates and the period ----------------------------------------------------------------------


def test_dates_outside_period_and_not_dates(tmp_path: Path) -> None:
    sheets = with_rows(
        "Sales",
        [D(2026, 11, 1), "KB", 1],
        ["31/10/2026", "KB", 1],
        ["2026-10-15", "KB", 1],
        [46300, "KB", 1],  # Excel serial for 2026-10-05
        [5, "KB", 1],
    )
    inputs, findings = run(tmp_path, sheets)
    assert errors(findings) == [
        'Sales!A4: Date is "31/10/2026", not a date; '
        "type a date such as 2026-10-31 (or as an Excel date)",
        "Sales!A7: Date is 5, not a date; type a date such as 2026-10-31",
        "Sales!A3: Date 2026-11-01 is outside the period 2026-10-01 to 2026-10-31; correct the "
        "date, or the period on Settings",
    ]


def test_excel_serial_and_iso_dates_accepted(tmp_path: Path) -> None:
    sheets = with_rows("Sales", ["2026-10-15", "KB", 1], [46300, "KB", 1])
    inputs, findings = run(tmp_path, sheets)
    assert errors(findings) == []
    assert inputs.sales["date"].tolist() == [
        pd.Timestamp("2026-10-31"),
        pd.Timestamp("2026-10-15"),
        pd.Timestamp("2026-10-05"),
    ]


def test_period_end_before_start(tmp_path: Path) -> None:
    sheets = tidy()
    sheets["Settings"][2] = ["Period End", D(2026, 9, 30)]
    inputs, findings = run(tmp_path, sheets)
    assert errors(findings) == [
        "Settings!B3: Period End 2026-09-30 is before Period Start 2026-10-01; correct them; "
        "until the period can be read, the dates on the other sheets are not checked against it"
    ]


def test_settings_unknown_missing_and_bad(tmp_path: Path) -> None:
    sheets = tidy()
    sheets["Settings"] = [
        ["Setting", "Value"],
        ["Period Start", D(2026, 10, 1)],
        ["Period End", D(2026, 10, 31)],
        ["Trigger", "monthly"],
        ["Count Tolerence %", 0.03],
        ["Price Tolerance %", 10],
    ]
    inputs, findings = run(tmp_path, sheets)
    assert inputs is None
    assert texts(findings) == [
        'Settings!B4: Trigger is "monthly"; use one of: purchase+completion, purchase+sale, '
        "completion, sale",
        'Settings!A5: setting "Count Tolerence %" is not known, so its value (B5) would be lost; '
        'did you mean "Count Tolerance %"? Correct the name',
        "Settings!B6: Price Tolerance % is 10; did you mean 10%? Type 10% (Excel stores 0.1)",
    ]
    assert findings[1].severity is Severity.ERROR  # its value would be lost: not a warning


def test_missing_required_setting(tmp_path: Path) -> None:
    sheets = tidy()
    del sheets["Settings"][3]
    _, findings = run(tmp_path, sheets)
    assert errors(findings) == [
        'Settings: setting "Trigger" is missing; add a row with Setting "Trigger" and its value '
        "(purchase+completion, purchase+sale, completion, sale)"
    ]


# --- sheets and headers ------------------------------------------------------------------------


def test_missing_required_sheets(tmp_path: Path) -> None:
    sheets = tidy()
    del sheets["Standard Costs"]
    del sheets["Settings"]
    inputs, findings = run(tmp_path, sheets)
    assert inputs is None
    assert errors(findings) == [
        'Settings: the workbook has no "Settings" sheet; add it (see the template); until the '
        "period can be read, the dates on the other sheets are not checked against it",
        'Standard Costs: the workbook has no "Standard Costs" sheet; add it (see the template)',
    ]


def test_names_match_case_and_spaces(tmp_path: Path) -> None:
    sheets = tidy()
    sheets[" bom "] = [["  PARENT", "component ", "qty  per", "Notes"], ["kb", "dm", 3, "x"]]
    del sheets["BOM"]
    inputs, findings = run(tmp_path, sheets)
    assert errors(findings) == []
    assert inputs.bom[["parent", "component", "qty_per"]].values.tolist() == [["KB", "DM", 3.0]]


def test_misspelled_header_suggests_closest(tmp_path: Path) -> None:
    sheets = tidy()
    sheets["BOM"][0] = ["Parent", "Component", "Qty Pr", "Scrap %"]
    inputs, findings = run(tmp_path, sheets)
    assert inputs is None
    assert errors(findings) == [
        'BOM!C1: column "Qty Pr" is not known; did you mean "Qty Per"? Rename the header',
        'BOM: column "Qty Per" is missing; add a header "Qty Per" in row 1',
    ]


def test_misspelled_sheet_name(tmp_path: Path) -> None:
    sheets = tidy()
    sheets["Purchase"] = sheets.pop("Purchases")
    _, findings = run(tmp_path, sheets)
    assert errors(findings) == [
        'Purchase: sheet "Purchase" is not known; did you mean "Purchases"? Rename the sheet'
    ]


def test_merged_header_cells(tmp_path: Path) -> None:
    sheets = tidy()
    sheets["Sales"][0] = ["Date", "Item", None]
    _, findings = run(tmp_path, sheets, merged={"Sales": "B1:C1"})
    assert errors(findings)[0] == (
        "Sales!B1: header cells B1:C1 are merged; unmerge them (Home > Merge & Center > "
        "Unmerge Cells) and give each column its own header"
    )
    assert 'Sales: column "Quantity" is missing; add a header "Quantity" in row 1' in errors(
        findings
    )


def test_optional_sheets_absent_or_empty(tmp_path: Path) -> None:
    sheets = {k: v for k, v in tidy().items() if k in ("Settings", "Standard Costs")}
    sheets["Counts"] = [[None]]
    inputs, findings = run(tmp_path, sheets)
    assert findings == []
    assert inputs.bom.empty and list(inputs.bom.columns) == BOM_COLUMNS
    assert inputs.counts.empty


# --- items -------------------------------------------------------------------------------------


def test_blank_and_duplicate_item_codes(tmp_path: Path) -> None:
    sheets = with_rows(
        "Standard Costs", [None, "Nothing", "Raw", 1, 0], [" kb ", "again", "Finished", 0, 1]
    )
    inputs, findings = run(tmp_path, sheets)
    assert inputs is None
    assert errors(findings) == [
        "Standard Costs!A4: Item is blank; type it",
        'Standard Costs!A5: item "kb" is already on row 2 ("KB"); each item needs exactly one '
        "row: delete or merge one of them",
    ]


def test_unknown_item_and_spelling_variants(tmp_path: Path) -> None:
    sheets = with_rows("Completions", [D(2026, 10, 30), "X12", 1], [D(2026, 10, 30), " kb", 1])
    inputs, findings = run(tmp_path, sheets)
    assert texts(findings) == [
        'Completions!B3: item "X12" is not on Standard Costs; add it there or correct the code',
        'Completions!B4: item "kb" is read as "KB", its spelling on Standard Costs',
    ]
    assert findings[0].item == "X12"
    assert findings[1].severity is Severity.INFO


def test_variant_spelling_alone_parses_to_canonical(tmp_path: Path) -> None:
    sheets = with_rows("Completions", [D(2026, 10, 30), "kb  ", 5])
    inputs, findings = run(tmp_path, sheets)
    assert [f.severity for f in findings] == [Severity.INFO]
    assert inputs.completions["item"].tolist() == ["KB", "KB"]


def test_item_codes_from_numbers_have_no_decimal(tmp_path: Path) -> None:
    sheets = with_rows("Standard Costs", [1001, "Part", "Raw", 2, 0])
    sheets = with_rows("Purchases", [D(2026, 10, 3), "1001", 1, 2], base=sheets)
    inputs, findings = run(tmp_path, sheets)
    assert findings == []
    assert inputs.standard_costs["item"].tolist()[-1] == "1001"
    assert inputs.purchases["item"].tolist()[-1] == "1001"


def test_item_type_rules(tmp_path: Path) -> None:
    sheets = with_rows("Standard Costs", ["PH", "phantom", "Phantom", 0, 0])
    sheets = with_rows("BOM", ["PH", "DM", 1, 0], ["KB", "PH", 1, 0], base=sheets)
    sheets = with_rows("Purchases", [D(2026, 10, 3), "KB", 1, 1], base=sheets)
    sheets = with_rows(
        "Completions", [D(2026, 10, 3), "DM", 1], [D(2026, 10, 3), "PH", 1], base=sheets
    )
    sheets = with_rows("Sales", [D(2026, 10, 3), "PH", 1], base=sheets)
    inputs, findings = run(tmp_path, sheets)
    assert errors(findings) == [
        'Purchases!B3: item "KB" is Finished; only Raw items are purchased; record it on '
        "Completions, or change its Type on Standard Costs",
        'Completions!B3: item "DM" is Raw; only Subassembly and Finished items are completed; '
        "correct the item or its Type on Standard Costs",
        'Completions!B4: item "PH" is Phantom; only Subassembly and Finished items are completed; '
        "correct the item or its Type on Standard Costs",
        'Sales!B3: item "PH" is Phantom; phantoms are never stocked; use its parent or its '
        "components instead",
    ]


def test_phantom_without_bom(tmp_path: Path) -> None:
    sheets = with_rows("Standard Costs", ["PH", "phantom", "Phantom", 0, 0])
    _, findings = run(tmp_path, sheets)
    assert errors(findings) == [
        'Standard Costs!C4: phantom item "PH" has no BOM lines; add its components on BOM, or '
        "change its Type"
    ]


def test_bad_choice_lists_choices(tmp_path: Path) -> None:
    sheets = with_rows("Standard Costs", ["RM", "x", "Material", 1, 0])
    _, findings = run(tmp_path, sheets)
    assert errors(findings) == [
        'Standard Costs!C4: Type is "Material"; use one of: Raw, Subassembly, Finished, Phantom'
    ]


def test_duplicate_counts_and_zero_completion(tmp_path: Path) -> None:
    sheets = tidy()
    sheets["Counts"] = [["Item", "Counted Quantity"], ["DM", 5], ["dm", 6]]
    sheets = with_rows("Completions", [D(2026, 10, 30), "KB", 0], base=sheets)
    inputs, findings = run(tmp_path, sheets)
    assert (
        'Counts!A3: item "dm" is counted twice (also row 2); '
        "keep one row with the total counted quantity" not in texts(findings)
    )
    assert (
        'Counts!A3: item "DM" is counted twice (also row 2); '
        "keep one row with the total counted quantity" in errors(findings)
    )
    warn = [f for f in findings if f.severity is Severity.WARNING]
    assert [str(w) for w in warn] == [
        "Completions!C3: Quantity and Scrap Quantity are both 0; the row posts nothing. Delete "
        "it or fill in the quantity"
    ]


def test_accounts_roles_and_defaults(tmp_path: Path) -> None:
    sheets = tidy()
    sheets["Accounts"] = [["Role", "Account"], ["mip", 1310], ["Bank", "1000"], ["FG", None]]
    inputs, findings = run(tmp_path, sheets)
    assert errors(findings) == [
        'Accounts!A3: Role is "Bank"; use one of: MIP, FG, AP, CONV_OFFSET, COGS, CCC, CCA, PPV, '
        "USAGE, SCRAP, REVALUATION, ROUNDING, LABOR_VARIANCE, OVERHEAD_VARIANCE",
        "Accounts!B4: Account is blank; type it",
    ]
    sheets["Accounts"] = [["Role", "Account"], ["mip", 1310]]
    inputs, findings = run(tmp_path, sheets)
    assert inputs.account("MIP").code == "1310"
    assert inputs.account("MIP").name == "Materials and In-Process Inventory Control"
    assert inputs.account("COGS").code == "5000"


# --- BOM structure -----------------------------------------------------------------------------


def test_bom_self_loop_direct_and_deep_cycles(tmp_path: Path) -> None:
    sheets = tidy()
    sheets["Standard Costs"] += [[c, c, "Subassembly", 0, 1] for c in ("A", "B", "C", "D", "E")]
    sheets["BOM"] += [
        ["A", "B", 1, 0],  # row 3
        ["B", "C", 1, 0],  # row 4
        ["C", "A", 1, 0],  # row 5: deep cycle A -> B -> C -> A
        ["D", "E", 1, 0],  # row 6
        ["E", "D", 1, 0],  # row 7: direct cycle D -> E -> D
        ["KB", "kb", 1, 0],  # row 8: its own component
    ]
    inputs, findings = run(tmp_path, sheets)
    assert inputs is None
    assert errors(findings) == [
        'BOM!B8: item "KB" is its own component; delete this line',
        "BOM: cycle A -> B -> C -> A; remove one of these lines: BOM!A3, BOM!A4, BOM!A5",
        "BOM: cycle D -> E -> D; remove one of these lines: BOM!A6, BOM!A7",
    ]


def test_bom_duplicate_lines_with_overlapping_dates(tmp_path: Path) -> None:
    sheets = tidy()
    sheets["BOM"] = [
        ["Parent", "Component", "Qty Per", "Effective From", "Effective To"],
        ["KB", "DM", 19, None, D(2026, 10, 15)],
        ["KB", "DM", 20, D(2026, 10, 16), None],  # follows on: fine
        ["KB", "DM", 21, D(2026, 10, 10), D(2026, 10, 20)],  # overlaps both
    ]
    _, findings = run(tmp_path, sheets)
    assert errors(findings) == [
        "BOM!A4: KB -> DM repeats row 2 with overlapping effective dates; delete one line or make "
        "their dates not overlap",
        "BOM!A4: KB -> DM repeats row 3 with overlapping effective dates; delete one line or make "
        "their dates not overlap",
    ]


def test_find_cycles_pure() -> None:
    assert find_cycles(["A", "B", "C", "X"], ["B", "C", "A", "X"]) == [["A", "B", "C"], ["X"]]
    assert find_cycles(["A", "B"], ["B", "C"]) == []
    n = 200_000
    chain = [f"N{i}" for i in range(n)]
    assert find_cycles(chain, chain[1:] + ["N0"])[0][:2] == ["N0", "N1"]


# --- everything at once ------------------------------------------------------------------------


def test_many_problems_reported_in_one_pass(tmp_path: Path) -> None:
    sheets = tidy()
    sheets["Standard Costs"].append([None, "no code", "Raw", "abc", 0])
    sheets["BOM"][0][2] = "Qty Pr"
    sheets = with_rows("Purchases", [D(2026, 12, 1), "DM", "#N/A", 1], base=sheets)
    sheets = with_rows("Sales", [D(2026, 10, 3), "ZZ", 1], base=sheets)
    sheets["Settings"][3] = ["Trigger", "daily"]
    inputs, findings = run(tmp_path, sheets)
    assert inputs is None
    locations = [f.location for f in findings if f.severity is Severity.ERROR]
    assert locations == [
        "Settings!B4",
        "Standard Costs!D4",
        "Standard Costs!A4",
        "BOM!C1",
        "BOM",
        "Purchases!C3",
        "Purchases!A3",  # outside the period: checked although Trigger is wrong
        "Sales!B3",
    ]


def test_big_bom_in_memory_is_fast_enough() -> None:
    n = 50_000
    std = [["Item", "Type", "Material", "Conversion"]] + [
        [f"I{i}", "Raw" if i >= 100 else "Finished", 1.0, 0.0] for i in range(n)
    ]
    bom = [["Parent", "Component", "Qty Per"]] + [
        [f"I{i % 100}", f"I{100 + i}", 1.0] for i in range(n - 100)
    ]
    sheets = {
        "Settings": SheetRows.from_values("Settings", tidy()["Settings"]),
        "Standard Costs": SheetRows.from_values("Standard Costs", std),
        "BOM": SheetRows.from_values("BOM", bom),
    }
    inputs, findings = parse_inputs(sheets)
    assert findings == [] and len(inputs.bom) == n - 100


def test_far_out_effectivity_dates_mean_no_limit(tmp_path: Path) -> None:
    """SAP's 9999-12-31 "valid to" (beyond what datetime64[ns] holds) reads as a blank date."""
    sheets = tidy()
    sheets["BOM"] = [
        ["Parent", "Component", "Qty Per", "Effective From", "Effective To"],
        ["KB", "DM", 19, "0001-01-01", dt.datetime(9999, 12, 31)],
    ]
    inputs, findings = run(tmp_path, sheets)
    assert errors(findings) == []
    assert inputs.bom[["effective_from", "effective_to"]].isna().all().all()


# --- issue 10: no Settings row is lost; every problem in one pass; text limits ----------------


def test_setting_name_that_cannot_be_read_is_an_error_not_a_dropped_setting(
    tmp_path: Path,
) -> None:
    """#N/A beside Prorate used to be skipped: the run went on with COGS and exit 0."""
    sheets = tidy()
    sheets["Settings"] += [
        ["#N/A", "Prorate"],  # openpyxl writes it as an Excel error cell
        [42, "Prorate"],
        [D(2026, 1, 1), 0.5],
        [True, "x"],
        [None, "Prorate"],
        ["Conversion Varience", "Prorate"],
        ["Notes", None],  # a label with no value loses nothing: a warning
    ]
    inputs, findings = run(tmp_path, sheets)
    assert inputs is None
    known = (
        "use one of: Period Start, Period End, Trigger, Currency, Conversion Variance, "
        "Count Tolerance %, Conversion Tolerance %, Price Tolerance %, Company, Materiality"
    )
    assert texts(findings) == [
        "Settings!A5: setting name is #N/A (an Excel error); type the setting's name, e.g. "
        '"Conversion Variance"',
        f'Settings!A6: setting "42" is not known, so its value (B6) would be lost; {known}',
        f'Settings!A7: setting "2026-01-01" is not known, so its value (B7) would be lost; {known}',
        f'Settings!A8: setting "TRUE" is not known, so its value (B8) would be lost; {known}',
        "Settings!A9: setting name is blank but its Value is filled; type the setting's name, "
        'e.g. "Conversion Variance", or clear the value',
        'Settings!A10: setting "Conversion Varience" is not known, so its value (B10) would be '
        'lost; did you mean "Conversion Variance"? Correct the name',
        'Settings!A11: setting "Notes" is not known and has no value; it is ignored',
    ]
    assert [f.severity for f in findings].count(Severity.ERROR) == 6


def test_setting_name_typed_as_error_text_via_excel(tmp_path: Path) -> None:
    """The same through the Excel (xlwings) path, where an error may arrive as its text."""
    rows = tidy()["Settings"] + [["#N/A", "Prorate"]]
    sheets = {n: SheetRows.from_values(n, r) for n, r in tidy().items()}
    sheets["Settings"] = SheetRows.from_values("Settings", rows)
    inputs, findings = parse_inputs(sheets)
    assert inputs is None
    assert errors(findings) == [
        "Settings!A5: setting name is #N/A (an Excel error); type the setting's name, e.g. "
        '"Conversion Variance"'
    ]


def test_error_values_in_role_and_header_cells_are_located(tmp_path: Path) -> None:
    sheets = tidy()
    sheets["Accounts"] = [["Role", "Account"], ["#REF!", "1300"], ["MIP", "1301"]]
    sheets["Sales"][0][1] = "#VALUE!"
    inputs, findings = run(tmp_path, sheets)
    assert inputs is None
    assert errors(findings) == [
        "Sales!B1: the header cell is #VALUE! (an Excel error); type the column name there",
        'Sales: column "Item" is missing; add a header "Item" in row 1',
        "Accounts!A2: Role is #REF! (an Excel error); fix the formula or type the role",
    ]


def test_bad_setting_does_not_hide_dates_outside_the_period(tmp_path: Path) -> None:
    """Count Tolerance % typed as 2 used to hide the out-of-period dates: one pass lists both."""
    sheets = tidy()
    sheets["Settings"].append(["Count Tolerance %", 2])
    sheets["Standard Costs"][1][2] = "Finishd"  # Standard Costs unreadable as well
    sheets = with_rows("Purchases", [D(2026, 11, 3), "DM", 5, 1], base=sheets)
    sheets = with_rows("Sales", [D(2026, 9, 30), "KB", 1], base=sheets)
    inputs, findings = run(tmp_path, sheets)
    assert inputs is None
    outside = "is outside the period 2026-10-01 to 2026-10-31; correct the date, or the period"
    assert errors(findings) == [
        "Settings!B5: Count Tolerance % is 2; did you mean 2%? Type 2% (Excel stores 0.02)",
        'Standard Costs!C2: Type is "Finishd"; use one of: Raw, Subassembly, Finished, Phantom',
        f"Purchases!A3: Date 2026-11-03 {outside} on Settings",
        f"Sales!A3: Date 2026-09-30 {outside} on Settings",
    ]


def test_unreadable_period_says_the_dates_were_not_checked(tmp_path: Path) -> None:
    sheets = tidy()
    sheets["Settings"][1] = ["Period Start", "first of October"]
    sheets = with_rows("Sales", [D(2030, 1, 1), "KB", 1])
    sheets["Settings"] = tidy()["Settings"]
    sheets["Settings"][1] = ["Period Start", "first of October"]
    inputs, findings = run(tmp_path, sheets)
    assert inputs is None
    assert errors(findings) == [
        'Settings!B2: Period Start is "first of October", not a date; type a date such as '
        "2026-10-31 (or as an Excel date); until the period can be read, the dates on the other "
        "sheets are not checked against it"
    ]


def _replace_text(path: Path, placeholder: str, text: str) -> Path:
    """Put ``text`` where ``placeholder`` is in the file's XML (openpyxl and xlsxwriter both
    cut text at 32,767 characters, as other tools that write .xlsx files do not)."""
    import zipfile

    parts = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            parts[info.filename] = zf.read(info)
    hits = [n for n, data in parts.items() if placeholder.encode() in data]
    assert len(hits) == 1
    parts[hits[0]] = parts[hits[0]].decode().replace(placeholder, text).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def test_text_longer_than_a_cell_holds_is_refused(tmp_path: Path) -> None:
    """Excel cannot type it, other tools can write it; the results would have cut it."""
    sheets = with_rows(
        "Purchases",
        [D(2026, 10, 3), "DM", 1, 1, "LONG_REFERENCE"],
        [D(2026, 10, 4), "DM", 1, 1, "x" * 32_767],  # exactly the limit: accepted
        [D(2026, 10, 5), "DM", 1, 1, "EMOJI_REFERENCE"],
    )
    sheets["Purchases"][0].append("Reference")
    book = save(tmp_path / "long.xlsx", sheets)
    _replace_text(book, "LONG_REFERENCE", "R" * 32_768)
    # 16,384 characters, 32,768 UTF-16 units as Excel counts them
    _replace_text(book, "EMOJI_REFERENCE", "\U0001f600" * 16_384)
    sheet_rows, _ = read_workbook(book)
    inputs, findings = parse_inputs(sheet_rows)
    assert inputs is None
    assert errors(findings) == [
        "Purchases!E3: Reference is 32,768 characters long, more than the 32,767 an Excel "
        "cell holds; shorten it",
        "Purchases!E5: Reference is 32,768 characters long, more than the 32,767 an Excel "
        "cell holds; shorten it",
    ]


def test_company_longer_than_the_page_header_holds_is_refused(tmp_path: Path) -> None:
    sheets = tidy()
    sheets["Settings"].append(["Company", "A" * 201])
    _, findings = run(tmp_path, sheets)
    assert errors(findings) == [
        "Settings!B5: Company is 201 characters long; it is printed in the page header of "
        "every result tab, which Excel limits to 255 characters with the period: shorten it to "
        "at most 200"
    ]
    sheets["Settings"][-1] = ["Company", "B&" * 67]  # 134 characters, 201 as written
    _, findings = run(tmp_path, sheets)
    assert errors(findings) == [
        "Settings!B5: Company is 201 characters long (an & counts twice); it is printed in the "
        "page header of every result tab, which Excel limits to 255 characters with the "
        "period: shorten it to at most 200"
    ]
    sheets["Settings"][-1] = ["Company", "C" * 200]
    inputs, findings = run(tmp_path, sheets)
    assert errors(findings) == [] and inputs.settings.company == "C" * 200
