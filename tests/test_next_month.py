"""Month after month: ``backflush next`` and Start Next Month write next period's workbook.

The worked month (a fan plant, trigger purchase+completion), computed by hand:

    standards: A steel 2.00 (Raw), B motor 5.00 (Raw), F fan = 2 A + 1 B + 3.00 conversion
               = 4.00 + 5.00 + 3.00 = 12.00
    opening:   A 10 in MIP (value 20.00), F 4 in FG (value 48.00)
    Oct 5  buy A 100 at 2.10      -> MIP + 200.00, price variance 100 x 0.10 = 10.00 U
    Oct 6  buy B 25 at 5.00       -> MIP + 125.00
    Oct 20 complete F 30          -> MIP - (60 A x 2 + 30 B x 5) = - 270.00; FG + 360.00
    Oct 25 sell F 25              -> FG - 300.00, COGS 300.00
    Oct 31 conversion 90.00 = allocated 30 x 3.00 (no conversion variance)
    closing:   A 10 + 100 - 60 = 50 -> 100.00;  B 0 + 25 - 30 = -5 -> -25.00 (below zero)
               F 4 + 30 - 25 = 9 -> 108.00
               MIP 20 + 325 - 270 = 75.00 (= 100.00 - 25.00);  FG 48 + 360 - 300 = 108.00
    journal entries: 2 purchase dates + completion + sale + conversion incurred + close = 6
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import openpyxl
import pytest
from test_lite_build import lite_output

from addin import app
from addin.cli import main
from addin.costing.engine import run_month_end
from addin.costing.model import Severity
from addin.excel import build_lite, macros
from addin.excel.sheets import read_input_sheets
from addin.workbook.reader import read_workbook
from addin.workbook.validation import parse_inputs
from tests.fake_xlwings import book_from_sheet_rows
from tests.workbooks import errors, run, save, tidy

D = dt.date
TESTS = Path(__file__).resolve().parent
DEMO = TESTS.parent / "workbook_templates" / "demo-plant.xlsx"

OCTOBER = {
    "Settings": [
        ["Setting", "Value"],
        ["Period Start", D(2026, 10, 1)],
        ["Period End", D(2026, 10, 31)],
        ["Trigger", "purchase+completion"],
        ["Company", "Fan Works"],
    ],
    "Standard Costs": [
        ["Item", "Description", "Type", "Material", "Conversion"],
        ["A", "Steel", "Raw", 2, 0],
        ["B", "Motor", "Raw", 5, 0],
        ["F", "Fan", "Finished", 0, 3],
    ],
    "BOM": [["Parent", "Component", "Qty Per"], ["F", "A", 2], ["F", "B", 1]],
    "Purchases": [
        ["Date", "Item", "Quantity", "Unit Price", "Reference"],
        [D(2026, 10, 5), "A", 100, 2.10, "PO-1"],
        [D(2026, 10, 6), "B", 25, 5, "PO-2"],
    ],
    "Completions": [["Date", "Item", "Quantity"], [D(2026, 10, 20), "F", 30]],
    "Sales": [["Date", "Item", "Quantity"], [D(2026, 10, 25), "F", 25]],
    "Conversion Costs": [["Date", "Amount"], [D(2026, 10, 31), 90]],
    "Opening Balances": [
        ["Item", "Account", "Quantity", "Value"],
        ["A", "MIP", 10, 20],
        ["F", "FG", 4, 48],
    ],
    "Accounts": [["Role", "Account"], ["MIP", "1310"]],
}

# (item, account, quantity, value) closing, by hand (module docstring)
OCTOBER_CLOSING = [("A", "MIP", 50.0, 100.00), ("B", "MIP", -5.0, -25.00), ("F", "FG", 9.0, 108.00)]
OCTOBER_FIGURES = [
    ("Price variance", 10.00),
    ("Usage variance", 0.0),
    ("Scrap variance", 0.0),
    ("Conversion variance", 0.0),
    ("Revaluation", 0.0),
    ("Closing MIP", 75.00),
    ("Closing FG", 108.00),
    ("Cost of goods sold", 300.00),
    ("Journal entries", 6),
]
TRANSACTION_SHEETS = ("Purchases", "Completions", "Sales", "Conversion Costs", "Counts")


def october(folder: Path, name: str = "fans 2026-10.xlsx") -> Path:
    return save(folder / name, OCTOBER)


def rows(path: Path, sheet: str) -> list[tuple[object, ...]]:
    """The sheet's data rows (header left out), blank rows dropped."""
    ws = openpyxl.load_workbook(path)[sheet]
    return [r for r in ws.iter_rows(min_row=2, values_only=True) if any(v is not None for v in r)]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---- the period ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (D(2026, 10, 1), D(2026, 10, 31), (D(2026, 11, 1), D(2026, 11, 30))),
        (D(2026, 12, 1), D(2026, 12, 31), (D(2027, 1, 1), D(2027, 1, 31))),
        (D(2027, 1, 1), D(2027, 1, 31), (D(2027, 2, 1), D(2027, 2, 28))),
        (D(2028, 1, 1), D(2028, 1, 31), (D(2028, 2, 1), D(2028, 2, 29))),  # leap year
        (D(2028, 2, 1), D(2028, 2, 29), (D(2028, 3, 1), D(2028, 3, 31))),
        # not one calendar month: the same length (28 days), from the day after Period End
        (D(2026, 10, 4), D(2026, 10, 31), (D(2026, 11, 1), D(2026, 11, 28))),
        # a month from the 15th (31 days): 15 Nov to 15 Dec, 31 days again
        (D(2026, 10, 15), D(2026, 11, 14), (D(2026, 11, 15), D(2026, 12, 15))),
        # two calendar months are not one: the same length, 61 days
        (D(2026, 9, 1), D(2026, 10, 31), (D(2026, 11, 1), D(2026, 12, 31))),
    ],
)
def test_the_next_period(start: D, end: D, expected: tuple[D, D]) -> None:
    assert app.next_period(start, end) == expected


def test_the_next_workbook_is_named_for_the_month_it_holds() -> None:
    oct_ = (D(2026, 10, 1), D(2026, 10, 31))
    assert app.next_output(Path("/x/plant 2026-10.xlsx"), *oct_) == Path("/x/plant 2026-11.xlsx")
    assert app.next_output(Path("/x/plant.xlsx"), *oct_) == Path("/x/plant 2026-11.xlsx")
    assert app.next_output(Path("/x/p 2026-12.xlsm"), D(2026, 12, 1), D(2026, 12, 31)) == Path(
        "/x/p 2027-01.xlsx"
    )
    four_weeks = (D(2026, 10, 4), D(2026, 10, 31))
    assert app.next_output(Path("/x/plant.xlsx"), *four_weeks) == Path("/x/plant 2026-11-01.xlsx")


# ---- the contract: Value, negative openings, GL Balances, History -------------------------


def test_opening_value_any_sign_and_a_negative_quantity_is_carried_with_a_warning(
    tmp_path: Path,
) -> None:
    sheets = tidy()
    sheets["Opening Balances"] = [
        ["Item", "Account", "Quantity", "Value"],
        ["DM", "MIP", 100, "(1,234.50)"],
        ["KB", "FG", -3, -36],
        ["DM", "FG", 2, None],
    ]
    inputs, findings = run(tmp_path, sheets)
    assert inputs is not None, findings
    ob = inputs.opening_balances
    assert ob["quantity"].tolist() == [100.0, -3.0, 2.0]
    assert ob["value"].tolist()[:2] == [-1234.5, -36.0] and ob["value"].isna().tolist()[2]
    warnings = [f for f in findings if f.severity is Severity.WARNING]
    assert [(f.location, f.check, f.item) for f in warnings] == [
        ("Opening Balances!C3", "negative opening", "KB")
    ]
    assert "below zero at last close" in warnings[0].message
    assert "unreported receipt or a count" in warnings[0].message


def test_gl_balances_take_the_inventory_accounts_codes_only(tmp_path: Path) -> None:
    sheets = tidy()
    sheets["Accounts"] = [["Role", "Account"], ["MIP", "1310"]]
    sheets["GL Balances"] = [
        ["Account", "Balance at Period Start", "Balance Before Month-End Entries"],
        [1310, "(1,234.50)", 99.5],
        ["1400", 200, None],
        ["1300", 5, None],  # the default MIP code, renamed to 1310 on Accounts
        ["1310", 1, None],
        ["2000", 1, None],
        ["1400 ", None, None],
    ]
    inputs, findings = run(tmp_path, sheets)
    assert inputs is None
    codes = "use 1310 (MIP), 1400 (FG) (as the Accounts sheet names them)"
    assert errors(findings) == [
        "GL Balances!B7: Balance at Period Start is blank; type a number (0 if none)",
        f'GL Balances!A4: Account "1300" is not an inventory account; the GL tie-out compares '
        f"the inventory accounts only: {codes}",
        'GL Balances!A5: Account "1310" is given twice (also row 2); keep one row per account '
        "with the GL's balance",
        f'GL Balances!A6: Account "2000" is not an inventory account; the GL tie-out compares '
        f"the inventory accounts only: {codes}",
        'GL Balances!A7: Account "1400" is given twice (also row 3); keep one row per account '
        "with the GL's balance",
    ]
    del sheets["GL Balances"][3:]
    inputs, findings = run(tmp_path, sheets)
    assert inputs is not None, errors(findings)
    gl = inputs.gl_balances
    assert gl["account"].tolist() == ["1310", "1400"]
    assert gl["opening_balance"].tolist() == [-1234.5, 200.0]
    assert gl["closing_balance"].tolist()[0] == 99.5 and gl["closing_balance"].isna().tolist()[1]


def test_history_rows_are_read(tmp_path: Path) -> None:
    sheets = tidy()
    sheets["History"] = [
        ["Period Start", "Period End", "Figure", "Amount"],
        [D(2026, 9, 1), D(2026, 9, 30), "Price variance", "(12.50)"],
        [D(2026, 9, 1), "x", "Closing MIP", 10],
    ]
    inputs, findings = run(tmp_path, sheets)
    assert errors(findings) == [
        'History!B3: Period End is "x", not a date; type a date such as 2026-10-31 (or as an '
        "Excel date)"
    ]
    sheets["History"].pop()
    inputs, findings = run(tmp_path, sheets)
    assert inputs is not None
    h = inputs.history
    assert h[["figure", "amount"]].values.tolist() == [["Price variance", -12.5]]
    assert h["period_start"].tolist() == [dt.datetime(2026, 9, 1)]


def test_history_of_this_month_or_twice_the_same_figure_is_refused(tmp_path: Path) -> None:
    """Nothing is dropped in silence: the Summary could show only one of two rows for the same
    month and figure, and this month's column comes from the run, not from History. (The tidy
    workbook's period is October 2026.)"""
    sheets = tidy()
    sheets["History"] = [
        ["Period Start", "Period End", "Figure", "Amount"],
        [D(2026, 9, 1), D(2026, 9, 30), "Price variance", 12.5],
        [D(2026, 9, 1), D(2026, 9, 30), "price variance", 13.0],
        [D(2026, 10, 1), D(2026, 10, 31), "Closing MIP", 10],
    ]
    _inputs, findings = run(tmp_path, sheets)
    assert errors(findings) == [
        'History!C3: "price variance" for 2026-09-01 to 2026-09-30 is given twice (also row 2); '
        "keep one row per month and figure",
        "History!B4: History row for 2026-10-01 to 2026-10-31 does not end before this Period "
        "Start 2026-10-01; History holds earlier months only: delete the row (the Summary shows "
        "this month from this run)",
    ]


# ---- backflush next on the worked month --------------------------------------------------


def test_next_writes_november_from_the_hand_checked_october(tmp_path: Path, capsys) -> None:
    book = october(tmp_path)
    before = digest(book)
    assert main(["next", str(book), "--quiet"]) == 0, capsys.readouterr().err
    said = capsys.readouterr().out
    nov = tmp_path / "fans 2026-11.xlsx"
    assert f"written to {nov}" in said
    assert "MIP 1310: 75.00 (2 item rows)" in said and "FG 1400: 108.00 (1 item rows)" in said
    assert digest(book) == before  # the input is never changed

    assert rows(nov, "Opening Balances") == OCTOBER_CLOSING
    settings = dict(rows(nov, "Settings"))
    assert settings["Period Start"] == dt.datetime(2026, 11, 1)
    assert settings["Period End"] == dt.datetime(2026, 11, 30)
    assert (settings["Trigger"], settings["Company"]) == ("purchase+completion", "Fan Works")
    wb = openpyxl.load_workbook(nov)
    for sheet in (*TRANSACTION_SHEETS, "GL Balances"):
        ws = wb[sheet]
        assert rows(nov, sheet) == [], sheet  # empty, headers and table kept
        assert len(ws.tables) == 1 and ws["A1"].value is not None, sheet
    assert [c.value for c in wb["GL Balances"][1]] == [
        "Account", "Balance at Period Start", "Balance Before Month-End Entries",
    ]  # fmt: skip
    assert rows(nov, "Standard Costs") == [  # Item, Description, Type, UoM, Material,
        ("A", "Steel", "Raw", "", 2, 0, "Yes"),  # Conversion, Backflush (its default)
        ("B", "Motor", "Raw", "", 5, 0, "Yes"),
        ("F", "Fan", "Finished", "", 0, 3, "Yes"),
    ]
    assert rows(nov, "BOM")[:2] == [("F", "A", 2, 0, None, None), ("F", "B", 1, 0, None, None)]
    assert ("MIP", "1310", "Materials and In-Process Inventory Control") in rows(nov, "Accounts")
    history = rows(nov, "History")
    oct_start, oct_end = dt.datetime(2026, 10, 1), dt.datetime(2026, 10, 31)
    assert history == [(oct_start, oct_end, f, a) for f, a in OCTOBER_FIGURES]
    readme = [r[0] for r in rows(nov, "Read Me")]
    fingerprint = app.fingerprint(app.check_workbook(book).inputs)  # type: ignore[arg-type]
    origin = readme[readme.index("Where the opening came from") + 1 :][:2]
    assert origin[0].startswith(
        "Opening Balances are the closing of 2026-10-01 to 2026-10-31, as run on "
        "fans 2026-10.xlsx on "
    )
    assert origin[1] == (
        f"Input fingerprint {fingerprint} (the Run Log of a run on that workbook shows the same)."
    )


def test_the_next_workbook_validates_and_runs(tmp_path: Path, capsys) -> None:
    book = october(tmp_path)
    assert main(["next", str(book), "--quiet"]) == 0
    nov = tmp_path / "fans 2026-11.xlsx"
    checked = app.check_workbook(nov)
    assert checked.errors == []
    # the negative opening of B is carried, with its warning at its cell
    assert [(f.location, f.item) for f in checked.findings] == [("Opening Balances!C3", "B")]
    ob = checked.inputs.opening_balances  # type: ignore[union-attr]
    assert ob[["item", "account", "quantity", "value"]].values.tolist() == [
        list(r) for r in OCTOBER_CLOSING
    ]
    capsys.readouterr()
    out = tmp_path / "nov results.xlsx"
    assert main(["run", str(nov), "--out", str(out), "--quiet"]) == 0, capsys.readouterr().err


def test_next_refuses_and_writes_nothing(tmp_path: Path, capsys) -> None:
    book = october(tmp_path)
    before = digest(book)
    assert main(["next", str(book), "--out", str(book), "--quiet"]) == 2
    assert "names the input workbook itself" in capsys.readouterr().err
    same = tmp_path / "." / book.name
    assert main(["next", str(same), "--out", str(book), "--quiet"]) == 2
    assert digest(book) == before and sorted(p.name for p in tmp_path.iterdir()) == [book.name]

    nov = tmp_path / "fans 2026-11.xlsx"
    nov.write_bytes(b"November's entries")
    assert main(["next", str(book), "--quiet"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert nov.read_bytes() == b"November's entries"

    assert main(["next", str(book), "--out", str(tmp_path / "n.csv"), "--quiet"]) == 1
    assert not (tmp_path / "n.csv").exists()

    bad = dict(OCTOBER, Sales=[["Date", "Item", "Quantity"], [D(2026, 11, 2), "F", 1]])
    wrong = save(tmp_path / "wrong 2026-10.xlsx", bad)
    assert main(["next", str(wrong), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "error: Sales!A2: Date 2026-11-02 is outside the period" in err
    assert not (tmp_path / "wrong 2026-11.xlsx").exists()


# ---- two months, three months ------------------------------------------------------------


def _fill(ws, values: list[list[object]]) -> None:
    """Type rows into the sheet's table from row 2 and resize the table to hold them."""
    for i, row in enumerate(values, start=2):
        for j, v in enumerate(row, start=1):
            ws.cell(i, j, v)
    table = next(iter(ws.tables.values()))
    first, last = table.ref.split(":")
    table.ref = f"{first}:{last.rstrip('0123456789')}{max(len(values) + 1, 2)}"


def november(tmp_path: Path) -> Path:
    """November made by next: standards raised on A (2.00 -> 2.20) and on F's conversion
    (3.00 -> 3.50), a purchase and a sale typed in."""
    book = october(tmp_path)
    assert main(["next", str(book), "--quiet"]) == 0
    nov = tmp_path / "fans 2026-11.xlsx"
    wb = openpyxl.load_workbook(nov)
    std = wb["Standard Costs"]
    header = [c.value for c in std[1]]
    for row in std.iter_rows(min_row=2):
        if row[0].value == "A":
            row[header.index("Material")].value = 2.20
        if row[0].value == "F":
            row[header.index("Conversion")].value = 3.50
    _fill(wb["Purchases"], [[dt.datetime(2026, 11, 3), "B", 10, 5.0, "PO-3"]])
    _fill(wb["Sales"], [[dt.datetime(2026, 11, 20), "F", 4, "SO-9"]])
    wb.save(nov)
    return nov


def test_the_opening_of_november_is_octobers_closing_to_the_cent(tmp_path: Path) -> None:
    """What next writes, independent of how the engine values an opening: November's Opening
    Balances add up per account to October's closing computed by hand (MIP 75.00, FG 108.00),
    and October's key figures travel on to December's workbook unchanged."""
    nov = november(tmp_path)
    by_account: dict[str, int] = {}
    for _item, account, _qty, value in rows(nov, "Opening Balances"):
        by_account[str(account)] = by_account.get(str(account), 0) + round(float(value) * 100)
    assert by_account == {"MIP": 7500, "FG": 10800}

    assert main(["next", str(nov), "--quiet"]) == 0
    dec = tmp_path / "fans 2026-12.xlsx"
    history = rows(dec, "History")
    oct_start, oct_end = dt.datetime(2026, 10, 1), dt.datetime(2026, 10, 31)
    assert history[:9] == [(oct_start, oct_end, f, a) for f, a in OCTOBER_FIGURES]
    nov_rows = history[9:]
    assert [r[:3] for r in nov_rows] == [
        (dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 30), f) for f, _ in OCTOBER_FIGURES
    ]
    # November's own movements: B 10 bought at standard (no price variance) and 4 fans sold
    assert dict((f, a) for _s, _e, f, a in nov_rows)["Price variance"] == 0
    assert dict((f, a) for _s, _e, f, a in nov_rows)["Journal entries"] >= 2
    settings = dict(rows(dec, "Settings"))
    assert (settings["Period Start"], settings["Period End"]) == (
        dt.datetime(2026, 12, 1),
        dt.datetime(2026, 12, 31),
    )


def test_novembers_run_opens_at_octobers_closing_and_revalues_the_change(tmp_path: Path) -> None:
    """Revaluation by hand: A 50 x (2.20 - 2.00) = 10.00 (MIP); F's standard 2 x 2.20 + 5.00
    + 3.50 = 4.40 + 5.00 + 3.50 = 12.90, so 9 x 12.90 - 108.00 = 116.10 - 108.00 = 8.10 (FG);
    B unchanged (0). Dr inventory 18.10, Cr 5600 Standard Cost Revaluation 18.10."""
    nov = november(tmp_path)
    checked = app.check_workbook(nov)
    assert checked.inputs is not None
    tb = run_month_end(checked.inputs).trial_balance.set_index("role")
    assert int(tb.at["MIP", "opening_cents"]) == 7500
    assert int(tb.at["FG", "opening_cents"]) == 10800
    assert int(tb.at["REVALUATION", "closing_cents"]) == -1810


# ---- Start Next Month in Excel (strict fake) and in xlwings Lite --------------------------


@pytest.fixture(scope="module")
def demo_rows():
    found, findings = read_workbook(DEMO)
    assert not findings
    return found


def test_start_next_month_writes_the_next_workbook_beside_this_one(
    demo_rows, tmp_path: Path
) -> None:
    book = book_from_sheet_rows(str(tmp_path / "demo-plant.xlsx"), demo_rows)
    before = book._snapshot()
    message = macros.start_next_month(book)
    nov = tmp_path / "demo-plant 2026-11.xlsx"
    assert message and message.startswith("Next month (2026-11-01 to 2026-11-30) written to")
    assert book._snapshot() == before  # this workbook is not changed
    assert book.app._books._books[-1].fullname == str(nov)
    checked = app.check_workbook(nov)
    assert checked.errors == [] and checked.inputs is not None
    assert checked.inputs.settings.period_start == D(2026, 11, 1)
    macros.start_next_month(book)  # again: refused, the file is kept
    assert "already exists" in book.app._alerts[-1][0] and book.app._alerts[-1][3] == "critical"


def test_start_next_month_in_book_keeps_this_months_sheets_under_dated_names(
    demo_rows, tmp_path: Path
) -> None:
    book = book_from_sheet_rows(str(tmp_path / "demo-plant.xlsx"), demo_rows)
    macros.run_month_end(book)
    closing = app.check_workbook(DEMO)
    assert closing.inputs is not None
    expected = app.closing_as_opening(run_month_end(closing.inputs))[0]
    message = macros.start_next_month_in_book(book)
    assert message and "is now in this workbook" in message
    names = [s.name for s in book.sheets]
    assert names.index("Purchases") + 1 == names.index("Purchases 2026-10")
    assert "Summary 2026-10" in names and "Summary" not in names
    assert "Where the opening came from" in str(book.sheets["Read Me"].used_range.value)
    inputs, findings = parse_inputs(read_input_sheets(book))
    assert inputs is not None, [str(f) for f in findings if f.severity is Severity.ERROR]
    assert (inputs.settings.period_start, inputs.settings.period_end) == (
        D(2026, 11, 1),
        D(2026, 11, 30),
    )
    got = inputs.opening_balances[["item", "account", "quantity", "value"]]
    assert got.astype(object).values.tolist() == expected.drop(columns="source_row").values.tolist()
    assert inputs.purchases.empty and inputs.counts.empty and inputs.gl_balances.empty
    assert len(inputs.history) == 9
    macros.start_next_month_in_book(book)  # November rolls on to December
    names = [s.name for s in book.sheets]
    assert "Purchases 2026-11" in names and "Purchases 2026-10" in names
    book.sheets.add("Counts 2026-12")  # December's name taken: refused, nothing renamed
    macros.start_next_month_in_book(book)
    assert "Nothing was changed" in book.app._alerts[-1][0]
    assert [s.name for s in book.sheets if s.name != "Counts 2026-12"] == names


LITE = r"""
import runpy, sys
sys.path[:] = [p for p in sys.path if p not in ("", ".", {repo!r})]
sys.path.insert(0, {tests!r})
ns = runpy.run_path({main!r}, run_name="main")
from addin.workbook.reader import read_workbook
from fake_xlwings import book_from_sheet_rows
rows, findings = read_workbook({demo!r})
book = book_from_sheet_rows("demo-plant.xlsx", rows)
ns["start_next_month_in_book"](book)
from addin.excel.sheets import read_input_sheets
from addin.workbook.validation import parse_inputs
inputs, findings = parse_inputs(read_input_sheets(book))
print("PERIOD", inputs.settings.period_start)
print("OPENING", round(float(inputs.opening_balances["value"].sum()), 2))
"""


def test_lite_start_next_month(tmp_path: Path) -> None:
    main_py = build_lite.build(tmp_path / "lite")
    assert "def start_next_month_in_book(book: xw.Book):" in main_py.read_text(encoding="utf-8")
    out = lite_output(LITE, main_py, tmp_path)
    assert out["PERIOD"] == "2026-11-01"
    # Lite agrees with the CLI (a cross-face check): the demo's October closes, as `backflush
    # demo` states it, MIP 47,707.86 with stocked subassemblies, less 22 orders x 2.5 m x 3.85 =
    # 211.75 for ST-300's per-order tube = 47,496.11; FG 38,316.74 + 82 stools on hand x 2.5 /
    # 25 x 3.85 = 31.57 = 38,348.31; in all 85,844.42. The stool's offcuts (by-product RM-SCRAPST,
    # 0.04 M a stool at 0.60): 478 stools made (468 good + 10 scrapped) x 0.04 = 19.12 M in MIP
    # = 11.47 more; each stool 0.04 x 0.60 = 0.024 lower, x 82 on hand = 1.97 less in FG:
    # 85,844.42 + 11.47 - 1.97 = 85,853.92
    assert out["OPENING"] == "85853.92"
