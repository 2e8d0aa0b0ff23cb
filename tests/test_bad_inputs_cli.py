"""Bad input through the real command line: one small workbook per case, table-driven.

Every case must give exit code 1, no traceback, every expected ``Sheet!Cell: ... fix`` line
in one pass, the input file byte-for-byte unchanged, and nothing written (no results file and
no temporary file). The reader- and validation-level tests (test_reader.py, test_validate.py)
pin the exact wording; this table checks what the user of ``backflush run`` actually sees.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.table import Table

from addin.cli import main
from addin.workbook.reader import read_workbook
from addin.workbook.validate import parse_inputs
from tests.damaged import patch_zip_headers, rewrite, sheet_part, tidy_book
from tests.workbooks import Rows, save, tidy

D = dt.date
Sheets = dict[str, Rows]


@dataclass(frozen=True)
class Bad:
    """One bad input: how to make it, and the lines stderr must hold.

    ``expect`` pairs a location (``"BOM!C3"``, a whole sheet ``"BOM"``, or None for a
    file-level problem) with a phrase of the message; both must be on the same error line.
    ``absent`` are fragments that must not appear (e.g. a cell that is fine).
    """

    id: str
    make: Callable[[Path], Path]
    expect: tuple[tuple[str | None, str], ...]
    absent: tuple[str, ...] = ()


def book(mutate: Callable[[Sheets], object], name: str = "book.xlsx", **kw: object):
    """A maker: the tidy Horngren workbook, changed by ``mutate``, saved with openpyxl."""

    def make(folder: Path) -> Path:
        sheets = tidy()
        mutate(sheets)
        return save(folder / name, sheets, **kw)  # type: ignore[arg-type]

    return make


def add(sheet: str, *rows: list[object]) -> Callable[[Sheets], None]:
    """Append rows to a tidy sheet (the first appended row is worksheet row 3)."""

    def mutate(sheets: Sheets) -> None:
        sheets[sheet] = sheets[sheet] + [list(r) for r in rows]

    return mutate


def setting(name: str, value: object) -> Callable[[Sheets], None]:
    """Replace (or add) one Settings row."""

    def mutate(sheets: Sheets) -> None:
        rows = sheets["Settings"]
        for r in rows:
            if r[0] == name:
                r[1] = value
                return
        rows.append([name, value])

    return mutate


def raw(name: str, data: bytes | Callable[[Path], None]):
    """A maker for a file that is not a good .xlsx: its bytes, or a function writing it."""

    def make(folder: Path) -> Path:
        path = folder / name
        if callable(data):
            data(path)
        else:
            path.write_bytes(data)
        return path

    return make


def zipped(parts: dict[str, bytes | str]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for part, content in parts.items():
                zf.writestr(part, content)

    return write


def truncated(path: Path) -> None:
    save(path, tidy())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def damaged(sheet: str, change: Callable[[bytes], bytes]) -> Callable[[Path], Path]:
    """A maker: the tidy workbook as Excel writes it (shared strings), one sheet's XML changed."""

    def make(folder: Path) -> Path:
        path = tidy_book(folder)
        return rewrite(path, sheet_part(path, sheet), change)

    return make


def zip_headers(part: str, method: int | None = None, flags: int | None = None):
    def make(folder: Path) -> Path:
        path = tidy_book(folder)
        patch_zip_headers(path, part, method=method, flags=flags)
        return path

    return make


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
STD = "Standard Costs"


def _std_rows(*rows: list[object]) -> Callable[[Sheets], None]:
    return add(STD, *rows)


def _cycle(*edges: tuple[str, str]) -> Callable[[Sheets], None]:
    def mutate(sheets: Sheets) -> None:
        codes = sorted({c for e in edges for c in e})
        sheets[STD] += [[c, c, "Subassembly", 0, 1] for c in codes]
        sheets["BOM"] += [[p, c, 1, 0] for p, c in edges]

    return mutate


def _replace(sheet: str, rows: Rows) -> Callable[[Sheets], None]:
    def mutate(sheets: Sheets) -> None:
        sheets[sheet] = rows

    return mutate


def _delete(*names: str) -> Callable[[Sheets], None]:
    def mutate(sheets: Sheets) -> None:
        for n in names:
            del sheets[n]

    return mutate


def _rename(old: str, new: str) -> Callable[[Sheets], None]:
    def mutate(sheets: Sheets) -> None:
        sheets[new] = sheets.pop(old)

    return mutate


def _header(sheet: str, col: int, text: object) -> Callable[[Sheets], None]:
    def mutate(sheets: Sheets) -> None:
        sheets[sheet][0][col] = text

    return mutate


def _all(*mutations: Callable[[Sheets], object]) -> Callable[[Sheets], None]:
    def mutate(sheets: Sheets) -> None:
        for m in mutations:
            m(sheets)

    return mutate


OCT3 = D(2026, 10, 3)
NOT_A_NUMBER = "not a number; type a number"

CASES: list[Bad] = [
    # --- numbers ---------------------------------------------------------------------------
    Bad(
        "text-in-number",
        book(add("Purchases", [OCT3, "DM", "lots", 1])),
        (("Purchases!C3", f'"lots", {NOT_A_NUMBER}'),),
    ),
    Bad(
        "boolean-in-number",
        book(add("Purchases", [OCT3, "DM", True, 1])),
        (("Purchases!C3", f"TRUE, {NOT_A_NUMBER}"),),
    ),
    Bad(
        "date-in-number",
        book(add("Sales", [OCT3, "KB", D(2026, 10, 5)])),
        (("Sales!C3", "is a date (2026-10-05), not a number"),),
    ),
    Bad(
        "percent-text-in-number",
        book(add("Completions", [OCT3, "KB", "12%"])),
        (("Completions!C3", "a percentage; type a plain number"),),
    ),
    Bad(
        "comma-decimal-text",
        book(add("Purchases", [OCT3, "DM", "1,5", 1])),
        (("Purchases!C3", f'"1,5", {NOT_A_NUMBER}'),),
    ),
    Bad(
        # "1,234.50" and " 7 " are numbers stored as text and accepted; "(12.00)" is -12.
        "numbers-as-text-negative-in-parentheses",
        book(add("Purchases", [OCT3, "DM", "1,234.50", "(12.00)"], [OCT3, "DM", " 7 ", 1])),
        (("Purchases!D3", "Unit Price is -12; it cannot be negative"),),
        absent=("Purchases!C3", "Purchases!C4"),
    ),
    Bad(
        "huge-number",
        book(add("Purchases", [OCT3, "DM", 5e13, 1])),
        (("Purchases!C3", "implausibly large"),),
    ),
    Bad(
        "text-in-standard-cost",
        book(_std_rows(["RM", "x", "Raw", "one dollar", 0])),
        (("Standard Costs!D4", f'Material is "one dollar", {NOT_A_NUMBER}'),),
    ),
    # --- Excel error values -----------------------------------------------------------------
    Bad(
        "excel-error-NA-in-price",
        book(add("Purchases", [OCT3, "DM", 5, "#N/A"])),
        (("Purchases!D3", "#N/A (an Excel error); fix the formula or type the unit price"),),
    ),
    Bad(
        "excel-error-REF-in-item",
        book(add("Purchases", [OCT3, "#REF!", 5, 1])),
        (("Purchases!B3", "#REF! (an Excel error)"),),
    ),
    Bad(
        "excel-error-DIV0-in-standard",
        book(_std_rows(["RM", "x", "Raw", "#DIV/0!", 0])),
        (("Standard Costs!D4", "#DIV/0! (an Excel error)"),),
    ),
    Bad(
        "excel-error-in-date",
        book(add("Sales", ["#VALUE!", "KB", 1])),
        (("Sales!A3", "#VALUE! (an Excel error)"),),
    ),
    Bad(
        "excel-error-in-setting",
        book(setting("Period End", "#NAME?")),
        (("Settings!B3", "#NAME? (an Excel error)"),),
    ),
    # --- formulas without a saved value -------------------------------------------------------
    Bad(
        "formula-without-value",
        book(add("Purchases", [OCT3, "DM", "=C2*2", 1])),
        (("Purchases!C3", "formula with no saved value; open the file in Excel"),),
    ),
    Bad(
        "formula-without-value-in-setting",
        book(setting("Trigger", '=IF(1,"sale","completion")')),
        (("Settings!B4", "formula with no saved value"),),
    ),
    # --- item codes ---------------------------------------------------------------------------
    Bad(
        "blank-item-code",
        book(_std_rows([None, "Nothing", "Raw", 1, 0])),
        (("Standard Costs!A4", "Item is blank; type it"),),
    ),
    Bad(
        "duplicate-item-code",
        book(_std_rows(["DM", "again", "Raw", 2, 0])),
        (("Standard Costs!A4", 'is already on row 3 ("DM")'),),
    ),
    Bad(
        "case-and-space-variant-duplicate",
        book(_std_rows(["  kb ", "again", "Finished", 0, 1])),
        (("Standard Costs!A4", 'item "kb" is already on row 2 ("KB")'),),
    ),
    Bad(
        "item-not-defined-in-transactions",
        book(add("Completions", [OCT3, "X12", 1])),
        (("Completions!B3", 'item "X12" is not on Standard Costs; add it there'),),
    ),
    Bad(
        "component-not-defined",
        book(add("BOM", ["KB", "SCREW", 4, 0])),
        (("BOM!B3", 'item "SCREW" is not on Standard Costs'),),
    ),
    Bad(
        "count-of-undefined-item",
        book(_replace("Counts", [["Item", "Counted Quantity"], ["GHOST", 3]])),
        (("Counts!A2", 'item "GHOST" is not on Standard Costs'),),
    ),
    Bad(
        "duplicate-count",
        book(_replace("Counts", [["Item", "Counted Quantity"], ["DM", 5], [" dm", 6]])),
        (("Counts!A3", 'item "DM" is counted twice (also row 2)'),),
    ),
    Bad(
        "wrong-item-type-purchased",
        book(add("Purchases", [OCT3, "KB", 1, 1])),
        (("Purchases!B3", "only Raw items are purchased"),),
    ),
    Bad(
        "unknown-item-type",
        book(_std_rows(["RM", "x", "Material", 1, 0])),
        (("Standard Costs!C4", 'Type is "Material"; use one of: Raw, Subassembly'),),
    ),
    # --- quantities where negative or zero make no sense (below 0 on Purchases, Completions
    # and Sales is a return or reversal: tests/test_returns.py) -------------------------------
    Bad(
        "zero-purchase-quantity",
        book(add("Purchases", [OCT3, "DM", 0, 1])),
        (("Purchases!C3", "Quantity is 0 and the row has no Charges: it posts nothing"),),
    ),
    Bad(
        "zero-sale-quantity",
        book(add("Sales", [OCT3, "KB", 0])),
        (("Sales!C3", "Quantity is 0; type the units sold (below 0 for a customer return)"),),
    ),
    Bad(
        "zero-qty-per",
        book(add("BOM", ["KB", "DM", 0, 0])),
        (("BOM!C3", "Qty Per is 0; it must be more than 0"),),
    ),
    Bad(
        "negative-scrap",
        book(
            _replace(
                "Completions",
                [["Date", "Item", "Quantity", "Scrap Quantity"], [OCT3, "KB", -5, -1]],
            )
        ),
        (("Completions!D2", "Scrap Quantity is -1; it cannot be negative"),),
    ),
    Bad(
        "negative-counted-quantity",
        book(_replace("Counts", [["Item", "Counted Quantity"], ["DM", -1]])),
        (("Counts!B2", "Counted Quantity is -1; it cannot be negative"),),
    ),
    Bad(
        "negative-standard-cost",
        book(_std_rows(["RM", "x", "Raw", -2, 0])),
        (("Standard Costs!D4", "Material is -2; it cannot be negative"),),
    ),
    Bad(
        "scrap-percent-typed-as-whole-number",
        book(_replace("BOM", [["Parent", "Component", "Qty Per", "Scrap %"], ["KB", "DM", 19, 5]])),
        (("BOM!D2", "did you mean 5%?"),),
    ),
    # --- BOM structure --------------------------------------------------------------------------
    Bad(
        "bom-direct-cycle",
        book(_cycle(("A", "B"), ("B", "A"))),
        (("BOM", "cycle A -> B -> A; remove one of these lines: BOM!A3, BOM!A4"),),
    ),
    Bad(
        "bom-deep-cycle",
        book(_cycle(("A", "B"), ("B", "C"), ("C", "D"), ("D", "E"), ("E", "A"))),
        (("BOM", "cycle A -> B -> C -> D -> E -> A; remove one of these lines"),),
    ),
    Bad(
        "parent-is-its-own-component",
        book(add("BOM", ["KB", " kb", 1, 0])),
        (("BOM!B3", 'item "KB" is its own component; delete this line'),),
    ),
    Bad(
        "phantom-without-bom",
        book(_std_rows(["PH", "phantom", "Phantom", 0, 0])),
        (("Standard Costs!C4", 'phantom item "PH" has no BOM lines'),),
    ),
    Bad(
        "duplicate-bom-line",
        book(add("BOM", ["KB", "DM", 20, 0])),
        (("BOM!A3", "KB -> DM repeats row 2 with overlapping effective dates"),),
    ),
    Bad(
        "effectivity-backwards",
        book(
            _replace(
                "BOM",
                [
                    ["Parent", "Component", "Qty Per", "Effective From", "Effective To"],
                    ["KB", "DM", 19, D(2026, 10, 20), D(2026, 10, 1)],
                ],
            )
        ),
        (("BOM!E2", "Effective To is before Effective From"),),
    ),
    # --- dates and the period -------------------------------------------------------------------
    Bad(
        "date-outside-period",
        book(add("Sales", [D(2026, 11, 1), "KB", 1])),
        (("Sales!A3", "Date 2026-11-01 is outside the period 2026-10-01 to 2026-10-31"),),
    ),
    Bad(
        "date-as-ambiguous-text",
        book(add("Sales", ["31/10/2026", "KB", 1])),
        (("Sales!A3", '"31/10/2026", not a date; type a date such as 2026-10-31'),),
    ),
    Bad(
        "small-number-as-date",
        book(add("Conversion Costs", [5, 100])),
        (("Conversion Costs!A3", "is 5, not a date"),),
    ),
    Bad(
        "boolean-as-date",
        book(add("Purchases", [False, "DM", 1, 1])),
        (("Purchases!A3", "is FALSE, not a date"),),
    ),
    Bad(
        "period-end-before-start",
        book(setting("Period End", D(2026, 9, 30))),
        (("Settings!B3", "Period End 2026-09-30 is before Period Start 2026-10-01"),),
    ),
    Bad(
        "period-start-not-a-date",
        book(setting("Period Start", "October")),
        (("Settings!B2", 'Period Start is "October", not a date'),),
    ),
    Bad(
        "far-future-date",  # would overflow pandas' datetime64[ns]: was an internal error
        book(add("Sales", [dt.datetime(9999, 12, 31), "KB", 1])),
        (("Sales!A3", "is 9999-12-31, a date outside 1900 to 2261"),),
    ),
    Bad(
        "year-one-iso-text-date",
        book(_replace("Counts", [["Item", "Counted Quantity", "Date"], ["DM", 1, "0001-01-01"]])),
        (("Counts!C2", "is 0001-01-01, a date outside 1900 to 2261"),),
    ),
    Bad(
        "time-without-date",
        book(add("Sales", [dt.time(10, 30), "KB", 1])),
        (("Sales!A3", "is a time (10:30) with no date"),),
    ),
    # --- settings -------------------------------------------------------------------------------
    Bad(
        "unknown-trigger",
        book(setting("Trigger", "monthly")),
        (("Settings!B4", 'Trigger is "monthly"; use one of: purchase+completion'),),
    ),
    Bad(
        "missing-required-setting",
        book(lambda s: s["Settings"].pop(3)),
        (("Settings", 'setting "Trigger" is missing; add a row'),),
    ),
    Bad(
        "duplicate-setting",
        book(add("Settings", ["trigger", "sale"])),
        (("Settings!A5", '"Trigger" is set twice (also A4); keep one row'),),
    ),
    Bad(
        "tolerance-typed-as-whole-number",
        book(setting("Price Tolerance %", 10)),
        (("Settings!B5", "did you mean 10%?"),),
    ),
    # --- sheets and columns ---------------------------------------------------------------------
    Bad(
        "missing-standard-costs-sheet",
        book(_delete(STD)),
        (("Standard Costs", 'the workbook has no "Standard Costs" sheet; add it'),),
    ),
    Bad(
        "missing-settings-sheet",
        book(_delete("Settings")),
        (("Settings", 'the workbook has no "Settings" sheet; add it'),),
    ),
    Bad(
        "misspelled-sheet-name",
        book(_rename("Purchases", "Purchase")),
        (("Purchase", 'did you mean "Purchases"? Rename the sheet'),),
    ),
    Bad(
        "missing-required-column",
        book(_replace("Sales", [["Date", "Item"], [OCT3, "KB"]])),
        (("Sales", 'column "Quantity" is missing; add a header "Quantity" in row 1'),),
    ),
    Bad(
        "misspelled-header-suggests-closest",
        book(_header("BOM", 2, "Qty Pr")),
        (
            ("BOM!C1", 'column "Qty Pr" is not known; did you mean "Qty Per"? Rename the header'),
            ("BOM", 'column "Qty Per" is missing'),
        ),
    ),
    Bad(
        "merged-header-cells",
        book(_header("Sales", 2, None), merged={"Sales": "B1:C1"}),
        (
            ("Sales!B1", "header cells B1:C1 are merged; unmerge them"),
            ("Sales", 'column "Quantity" is missing'),
        ),
    ),
    Bad(
        "merged-data-cells",
        book(add("Sales", [OCT3, "KB", 1]), merged={"Sales": "B2:B3"}),
        (("Sales!B2", "cells B2:B3 are merged; unmerge them"),),
    ),
    Bad(
        "excel-error-in-header",
        book(_header("Sales", 2, "#REF!")),
        (
            ("Sales!C1", "the header cell is #REF! (an Excel error); type the column name"),
            ("Sales", 'column "Quantity" is missing'),
        ),
    ),
    Bad(
        "formula-without-value-in-header",
        book(_header("Purchases", 3, '="Unit "&"Price"')),
        (("Purchases!D1", "the header cell is a formula with no saved value"),),
    ),
    Bad(
        "duplicate-column",
        book(_replace("Sales", [["Date", "Item", "Quantity", "quantity "], [OCT3, "KB", 1, 2]])),
        (("Sales!D1", 'column "Quantity" appears twice (also column C)'),),
    ),
    Bad(
        "conversion-or-labor-overhead-missing",
        book(_replace(STD, [["Item", "Type", "Material"], ["KB", "Finished", 0]])),
        (("Standard Costs", 'needs "Conversion" or "Labor" and "Overhead" columns'),),
    ),
    Bad(
        "empty-standard-costs-sheet",
        book(_replace(STD, [[None]])),
        (("Standard Costs", "sheet is empty; add a header row"),),
    ),
    Bad(
        "blank-required-cell",
        book(add("Purchases", [OCT3, "DM", None, 1])),
        (("Purchases!C3", "Quantity is blank; type a number"),),
    ),
    Bad(
        "bad-yes-no",
        book(
            _replace(
                STD,
                [
                    ["Item", "Type", "Material", "Conversion", "Backflush"],
                    ["KB", "Finished", 0, 12, "maybe"],
                    ["DM", "Raw", 1, 0, "Yes"],
                ],
            )
        ),  # fmt: skip
        (("Standard Costs!E2", 'Backflush is "maybe"; type Yes or No'),),
    ),
    Bad(
        "bad-account-role",
        book(_replace("Accounts", [["Role", "Account"], ["Bank", "1000"]])),
        (("Accounts!A2", 'Role is "Bank"; use one of: MIP'),),
    ),
    # --- not an .xlsx workbook ------------------------------------------------------------------
    Bad(
        "xls-old-format",
        raw("old.xls", OLE + b"\0" * 1000 + "Workbook".encode("utf-16-le")),
        ((None, "old.xls is an old-format Excel file (.xls); save it as .xlsx"),),
    ),
    Bad(
        "xlsb-binary-workbook",
        raw("b.xlsb", zipped({"[Content_Types].xml": "<Types/>", "xl/workbook.bin": b"\0"})),
        ((None, "b.xlsb is an Excel binary workbook; save it as .xlsx"),),
    ),
    Bad(
        "csv-instead-of-xlsx",
        raw("bom.csv", b"Parent,Component,Qty Per\nKB,DM,19\n"),
        ((None, "bom.csv is a text/CSV file; save it as .xlsx"),),
    ),
    Bad(
        "ods-spreadsheet",
        raw("calc.ods", zipped({"mimetype": "application/vnd.oasis", "content.xml": "<x/>"})),
        ((None, "calc.ods is an OpenDocument spreadsheet; save it as .xlsx"),),
    ),
    Bad(
        "encrypted-workbook",
        raw("locked.xlsx", OLE + b"\0" * 2000 + "EncryptedPackage".encode("utf-16-le")),
        ((None, "locked.xlsx is password-protected; remove the password"),),
    ),
    Bad(
        "corrupt-truncated-workbook",
        raw("broken.xlsx", truncated),
        ((None, "broken.xlsx is damaged and cannot be read"),),
    ),
    Bad(
        "text-file-named-xlsx",
        raw("notes.xlsx", b"hello, this is not a spreadsheet"),
        ((None, "notes.xlsx is not an Excel workbook"),),
    ),
    Bad(
        "empty-file",
        raw("empty.xlsx", b""),
        ((None, "empty.xlsx is not an Excel workbook"),),
    ),
    Bad(
        "word-document-renamed",
        raw("memo.xlsx", zipped({"word/document.xml": "<document/>"})),
        ((None, "memo.xlsx is a zip file but not an Excel workbook"),),
    ),
    Bad(
        "pdf-renamed",
        raw("scan.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"),
        ((None, "scan.xlsx is not an Excel workbook"),),
    ),
    # --- damaged files (exit 1 with a message, never an internal error) ---------------------------
    Bad(
        "damaged-shared-string-index",
        damaged("Purchases", lambda b: re.sub(rb'(<c r="B2"[^>]*><v>)[0-9]+', rb"\g<1>abc", b)),
        (("Purchases!B2", 'the file is damaged (shared string index "abc"); open it in Excel'),),
    ),
    Bad(
        "spill-error-in-qty-per",
        damaged(
            "BOM",
            lambda b: re.sub(
                rb'<c r="C2"[^>]*><v>[^<]*</v></c>', b'<c r="C2" t="e"><v>#SPILL!</v></c>', b
            ),
        ),  # fmt: skip
        (("BOM!C2", "Qty Per is #SPILL! (an Excel error); fix the formula or type the qty per"),),
    ),
    Bad(
        "deflate64-compression",
        zip_headers("xl/worksheets/sheet2.xml", method=9),
        (
            (
                None,
                "book.xlsx uses a compression Excel does not write (Deflate64); open it in Excel "
                "and save it again as .xlsx",
            ),
        ),  # fmt: skip
    ),
    Bad(
        "zip-encryption-flag",
        zip_headers("xl/workbook.xml", flags=1),
        ((None, "book.xlsx is encrypted with a password (zip encryption); remove the password"),),
    ),
    # --- several problems on several sheets, all in one run ---------------------------------
    Bad(
        "many-problems-in-one-pass",
        book(
            _all(
                setting("Trigger", "daily"),
                _std_rows([None, "no code", "Raw", "abc", 0]),
                _header("BOM", 2, "Qty Pr"),
                add("Purchases", [D(2026, 12, 1), "DM", "#N/A", 1]),
                add("Sales", [OCT3, "ZZ", 1]),
                add("Completions", [OCT3, "KB", "=1/0"]),
            )
        ),
        (
            ("Settings!B4", 'Trigger is "daily"'),
            ("Standard Costs!A4", "Item is blank"),
            ("Standard Costs!D4", '"abc", not a number'),
            ("BOM!C1", 'did you mean "Qty Per"?'),
            ("Purchases!C3", "#N/A (an Excel error)"),
            ("Sales!B3", 'item "ZZ" is not on Standard Costs'),
            ("Completions!C3", "formula with no saved value"),
        ),
    ),
]


def test_the_table_is_big_enough_and_ids_are_distinct() -> None:
    ids = [c.id for c in CASES]
    assert len(set(ids)) == len(ids)
    assert len(ids) >= 40


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_exits_1_with_every_problem_located(
    case: Bad, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = case.make(tmp_path)
    before = _digest(path)
    files = _files(tmp_path)
    out = tmp_path / "results" / "out.xlsx"

    code = main(["run", str(path), "--out", str(out), "--quiet"])

    err = capsys.readouterr().err
    assert code == 1, err
    assert "Traceback" not in err and "internal error" not in err, err
    lines = [ln.removeprefix("error: ") for ln in err.splitlines() if ln.startswith("error: ")]
    for loc, phrase in case.expect:
        prefix = f"{loc}: " if loc else ""
        assert any(ln.startswith(prefix) and phrase in ln for ln in lines), (loc, phrase, err)
    for fragment in case.absent:
        assert fragment not in err, err
    assert "nothing was written" in err
    assert _digest(path) == before  # the input is byte-for-byte unchanged
    assert _files(tmp_path) == files  # no results file, no temporary file, no folder


def test_validate_reports_the_same_problems(tmp_path: Path, capsys) -> None:
    case = next(c for c in CASES if c.id == "many-problems-in-one-pass")
    path = case.make(tmp_path)
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    for loc, phrase in case.expect:
        assert f"{loc}: " in err and phrase in err


def test_missing_and_folder_inputs(tmp_path: Path, capsys) -> None:
    out = tmp_path / "r.xlsx"
    assert main(["run", str(tmp_path / "nope.xlsx"), "--out", str(out)]) == 1
    assert "file not found" in capsys.readouterr().err
    assert main(["run", str(tmp_path), "--out", str(out)]) == 1
    assert "is a folder, not a workbook file" in capsys.readouterr().err
    assert not out.exists()


# --- cells the Excel table leaves out --------------------------------------------------------

DEMO = Path(__file__).resolve().parent.parent / "workbook_templates" / "demo-plant.xlsx"
PURCHASES_TABLE = "xl/tables/table4.xml"  # ref="A1:F149" in the demo (F: Charges, blank)


def _demo_with_purchases_table(folder: Path, ref: str, extra: bytes = b"") -> Path:
    path = folder / "demo.xlsx"
    shutil.copy(DEMO, path)
    new_ref = b'ref="%s"%s' % (ref.encode(), extra)
    rewrite(path, PURCHASES_TABLE, lambda b: b.replace(b'ref="A1:F149"', new_ref))
    return path


def _purchase_rows() -> list[tuple]:
    ws = openpyxl.load_workbook(DEMO, read_only=True)["Purchases"]
    return [r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] is not None]


def test_rows_below_a_shrunk_table_are_refused_not_dropped(tmp_path: Path, capsys) -> None:
    """The demo's Purchases table cut to rows 1-101: rows 102-149 used to be dropped in silence."""
    rows = _purchase_rows()
    dropped = sum(q * p for _, _, q, p, *_ in rows[100:])
    assert len(rows) == 148 and dropped > 12_000  # 48 purchases, 12,349.40 in the demo
    path = _demo_with_purchases_table(tmp_path, "A1:F101")
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert (
        'error: Purchases!A102: rows 102 to 149 are filled but outside the table "Purchases" '
        "(A1:F101); resize the table to A1:F149 (Table Design > Resize Table), or clear them"
    ) in err
    assert main(["run", str(path), "--out", str(tmp_path / "r.xlsx"), "--quiet"]) == 1
    assert not (tmp_path / "r.xlsx").exists()


def test_a_table_resized_as_told_reads_every_row(tmp_path: Path) -> None:
    path = _demo_with_purchases_table(tmp_path, "A1:F149")
    inputs, findings = parse_inputs(read_workbook(path)[0])
    assert inputs is not None, findings
    rows = _purchase_rows()
    assert len(inputs.purchases) == len(rows)
    amount = float((inputs.purchases["quantity"] * inputs.purchases["unit_price"]).sum())
    assert amount == pytest.approx(sum(q * p for _, _, q, p, *_ in rows), abs=1e-6)


def test_a_table_narrower_and_shorter_than_its_data(tmp_path: Path, capsys) -> None:
    """A template filled through LibreOffice's API keeps its tables at A1:C2: the headers in D1
    and E1 are there, beside the table, and must not be reported missing."""
    path = _demo_with_purchases_table(tmp_path, "A1:C2")
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    resize = "resize the table to A1:F149 (Table Design > Resize Table)"
    assert (
        f'error: Purchases!D1: column "Unit Price" is beside the table "Purchases" (A1:C2), not '
        f"in it; {resize}, or move the column into the table"
    ) in err
    assert 'error: Purchases!E1: column "Reference" is beside the table' in err
    assert 'error: Purchases!F1: column "Charges" is beside the table' in err
    assert "error: Purchases!A3: rows 3 to 149 are filled but outside the table" in err
    assert "missing" not in err and "add them in row" not in err


def _purchases_book(folder: Path, rows: Rows, ref: str, totals: int = 0, above: Rows = ()) -> Path:
    """The tidy workbook with Purchases holding ``rows`` from A3 (``above`` in rows 1-2) and a
    table over ``ref``; ``totals`` totals rows at the bottom of ``ref``."""
    sheets = tidy()
    sheets["Purchases"] = [list(r) for r in above] + [[None]] * (2 - len(above)) + rows
    path = save(folder / "book.xlsx", sheets)
    wb = openpyxl.load_workbook(path)
    table = Table(displayName="Bought", ref=ref)
    table.totalsRowCount = totals or None
    wb["Purchases"].add_table(table)
    wb.save(path)
    return path


HEAD = ["Date", "Item", "Quantity", "Unit Price"]


def test_totals_row_of_the_table_is_neither_data_nor_outside(tmp_path: Path) -> None:
    rows = [
        HEAD,
        [OCT3, "DM", 1_000_000, 1],
        [OCT3, "DM", 950_000, 1],
        ["Total", None, 1_950_000, None],
    ]
    path = _purchases_book(tmp_path, rows, "A3:D6", totals=1)
    inputs, findings = parse_inputs(read_workbook(path)[0])
    assert inputs is not None, findings
    assert inputs.purchases["quantity"].tolist() == [1_000_000, 950_000]


def test_a_row_after_the_totals_row_is_outside(tmp_path: Path) -> None:
    rows = [HEAD, [OCT3, "DM", 1_000_000, 1], ["Total", None, 1_000_000, None],
            [OCT3, "DM", 950_000, 1]]  # fmt: skip
    path = _purchases_book(tmp_path, rows, "A3:D5", totals=1)
    _, findings = parse_inputs(read_workbook(path)[0])
    assert [str(f) for f in findings if f.severity.name == "ERROR"] == [
        'Purchases!A6: row 6 is filled but outside the table "Bought" (A3:D4); resize the table '
        "to A3:D6 (Table Design > Resize Table), or clear it"
    ]


def test_data_row_above_the_table_is_refused_and_a_title_is_not(tmp_path: Path) -> None:
    rows = [HEAD, [OCT3, "DM", 1_950_000, 1]]
    above = [["Purchases for October"], [OCT3, "DM", 5, 2]]
    path = _purchases_book(tmp_path, rows, "A3:D4", above=above)
    _, findings = parse_inputs(read_workbook(path)[0])
    assert [str(f) for f in findings if f.severity.name == "ERROR"] == [
        'Purchases!A2: row 2 above the table "Bought" (A3:D4) holds data; move it into the '
        "table, or clear it"
    ]


def test_blank_rows_inside_the_table_are_skipped_and_the_rest_read(tmp_path: Path) -> None:
    rows = [HEAD, [OCT3, "DM", 1_000_000, 1], [None] * 4, [OCT3, "DM", 950_000, 1]]
    path = _purchases_book(tmp_path, rows, "A3:D6")
    inputs, findings = parse_inputs(read_workbook(path)[0])
    assert inputs is not None, findings
    assert inputs.purchases["quantity"].tolist() == [1_000_000, 950_000]
    assert inputs.purchases["source_row"].tolist() == [4, 6]


def test_notes_beside_the_table_under_no_contract_header_are_not_data(tmp_path: Path) -> None:
    rows = [HEAD + [None, "Notes"], [OCT3, "DM", 1_950_000, 1, None, "checked"]]
    path = _purchases_book(tmp_path, rows, "A3:D4")
    inputs, findings = parse_inputs(read_workbook(path)[0])
    assert inputs is not None, findings
