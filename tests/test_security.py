"""Hostile files: XML entities (XXE, billion laughs), zip bombs, formula-looking text, and the
CSV journal export's formula neutralising. Each refusal is a clear finding, fast, no traceback.
"""

from __future__ import annotations

import re
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from result_books import read_table

from addin.cli import main
from addin.excel.macros import csv_cell, ledger_rows
from addin.workbook import reader
from addin.workbook.reader import read_workbook
from tests.damaged import rewrite, run_capped, sheet_part, tidy_book
from tests.workbooks import save, tidy

SECRET = "TOPSECRET-4711"
BILLION_LAUGHS = (
    '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{f"&{chr(97 + i)};" * 10}">' for i in range(9))
    + "]>"
)


def _xxe(folder: Path) -> str:
    secret = folder / "secret.txt"
    secret.write_text(SECRET)
    return f'<!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]>'


def hostile(folder: Path, name: str, doctype: str, ref: str, part: str) -> Path:
    """The tidy workbook with ``doctype`` put before the root of ``part`` and the text
    "Keyboard" (or, in workbook.xml, the sheet name "BOM") replaced by ``ref``."""
    src = save(folder / "src.xlsx", tidy())
    out = folder / name
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == part:
                text = data.decode()
                decl = re.match(r"<\?xml[^>]*\?>", text)
                cut = decl.end() if decl else 0
                text = text[:cut] + doctype + text[cut:]
                text = text.replace(">Keyboard<", f">{ref}<").replace('name="BOM"', f'name="{ref}"')
                data = text.encode()
            zout.writestr(info, data)
    return out


SHEET = "xl/worksheets/sheet2.xml"  # Standard Costs, where "Keyboard" is
CASES = [
    ("xxe-in-sheet", "xxe", SHEET),
    ("xxe-in-workbook-part", "xxe", "xl/workbook.xml"),
    ("billion-laughs-in-sheet", "lol", SHEET),
    ("billion-laughs-in-workbook-part", "lol", "xl/workbook.xml"),
]


def _doctype(kind: str, folder: Path) -> tuple[str, str]:
    return (_xxe(folder), "&e;") if kind == "xxe" else (BILLION_LAUGHS, "&j;")


@pytest.mark.parametrize(("kind", "part"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_entity_attacks_are_refused_through_the_cli(tmp_path: Path, capsys, kind, part) -> None:
    doctype, ref = _doctype(kind, tmp_path)
    path = hostile(tmp_path, "evil.xlsx", doctype, ref, part)
    before = path.read_bytes()
    t0 = time.perf_counter()
    assert main(["run", str(path), "--out", str(tmp_path / "r.xlsx"), "--quiet"]) == 1
    assert time.perf_counter() - t0 < 10
    err = capsys.readouterr().err
    assert f"evil.xlsx: part {part} declares a DOCTYPE (XML entities)" in err
    assert "refused as unsafe to open" in err and "Traceback" not in err
    assert SECRET not in err
    assert path.read_bytes() == before and not (tmp_path / "r.xlsx").exists()


@pytest.mark.parametrize(("kind", "part"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_without_the_doctype_rule_nothing_is_resolved_either(
    tmp_path: Path, monkeypatch, kind, part
) -> None:
    """Defence in depth: python-calamine (quick-xml) and ElementTree (expat) do not resolve
    external entities nor expand billions of them; the read fails or drops the text, fast."""
    monkeypatch.setattr(reader, "_safe_prolog", lambda zf, info: True)
    doctype, ref = _doctype(kind, tmp_path)
    path = hostile(tmp_path, "evil.xlsx", doctype, ref, part)
    t0 = time.perf_counter()
    sheets, findings = read_workbook(path)
    assert time.perf_counter() - t0 < 10
    values = repr([s.rows for s in sheets.values()]) + repr(findings)
    assert SECRET not in values
    assert "a" * 1000 not in values


def test_doctype_after_a_long_comment_is_still_found(tmp_path: Path) -> None:
    doctype = "<!-- " + "padding " * 2000 + "-->" + BILLION_LAUGHS
    path = hostile(tmp_path, "evil.xlsx", doctype, "&j;", SHEET)
    (finding,) = read_workbook(path)[1]
    assert "declares a DOCTYPE" in finding.message


def test_ordinary_xml_declarations_and_comments_are_fine(tmp_path: Path) -> None:
    path = hostile(tmp_path, "ok.xlsx", "<!-- written by a tool --><?pi x?>", "Keyboard", SHEET)
    sheets, findings = read_workbook(path)
    assert findings == [] and sheets["Standard Costs"].rows[1][1] == "Keyboard"


# --- zip bombs ----------------------------------------------------------------------------------


def test_zip_bomb_is_refused_through_the_cli(tmp_path: Path, capsys) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (24 * 1024**2))  # 24 MiB in ~24 KiB
    assert main(["run", str(path), "--out", str(tmp_path / "r.xlsx"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "part xl/worksheets/sheet1.xml expands" in err and "possible zip bomb" in err
    assert "Traceback" not in err


def test_declared_total_size_and_part_count_limits(tmp_path: Path, monkeypatch) -> None:
    path = save(tmp_path / "book.xlsx", tidy())
    monkeypatch.setattr(reader, "MAX_PARTS", 5)
    (finding,) = read_workbook(path)[1]
    assert "parts; refused as unsafe to open" in finding.message
    monkeypatch.setattr(reader, "MAX_PARTS", 20_000)
    monkeypatch.setattr(reader, "MAX_UNCOMPRESSED_BYTES", 10_000)
    (finding,) = read_workbook(path)[1]
    assert "would expand to" in finding.message and "refused as unsafe" in finding.message


# --- cell contents are never evaluated -----------------------------------------------------------

FORMULA_TEXTS = ["=cmd|' /C calc'!A0", "=1+1", "+SUM(1,2)", "@SUM(1)", '=HYPERLINK("http://x")']


def _text_cells_book(path: Path) -> Path:
    """Formula-looking text stored as TEXT (what a ' prefix in Excel gives)."""
    save(path, tidy())
    wb = openpyxl.load_workbook(path)
    ws = wb["Standard Costs"]
    ws["B2"] = FORMULA_TEXTS[0]
    ws["B2"].data_type = "s"
    ws = wb["Purchases"]
    ws["E1"] = "Reference"
    ws["E2"] = FORMULA_TEXTS[1]
    ws["E2"].data_type = "s"
    wb.save(path)
    return path


def test_formula_looking_text_is_read_as_text(tmp_path: Path) -> None:
    path = _text_cells_book(tmp_path / "b.xlsx")
    sheets, findings = read_workbook(path)
    assert findings == []
    assert sheets["Standard Costs"].rows[1][1] == "=cmd|' /C calc'!A0"
    assert sheets["Purchases"].rows[1][4] == "=1+1"
    assert not sheets["Purchases"].uncached_formulas  # a text cell, not a formula


def test_formula_looking_text_goes_to_the_results_as_text(tmp_path: Path) -> None:
    path = _text_cells_book(tmp_path / "b.xlsx")
    out = tmp_path / "r.xlsx"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    with zipfile.ZipFile(out) as zf:
        xml = b"".join(zf.read(n) for n in zf.namelist() if n.endswith(".xml"))
    assert not re.search(rb"<f>[^<]*cmd\|", xml) and not re.search(rb"<f>1\+1</f>", xml)
    purchases = [r for r in read_table(out, "Journal") if r["Reference"]]
    assert any("=1+1" in str(r["Reference"]) for r in purchases)
    rollup = openpyxl.load_workbook(out)["Cost Rollup"]
    texts = [c.value for row in rollup.iter_rows() for c in row if isinstance(c.value, str)]
    assert "=cmd|' /C calc'!A0" in texts  # a string cell (openpyxl would show a formula too)
    cell = next(c for row in rollup.iter_rows() for c in row if c.value == FORMULA_TEXTS[0])
    assert cell.data_type == "s"


def test_formula_text_in_a_number_cell_is_not_evaluated(tmp_path: Path, capsys) -> None:
    path = save(tmp_path / "b.xlsx", tidy())
    wb = openpyxl.load_workbook(path)
    wb["Purchases"]["C2"] = "=1+1"
    wb["Purchases"]["C2"].data_type = "s"
    wb.save(path)
    assert main(["run", str(path), "--out", str(tmp_path / "r.xlsx"), "--quiet"]) == 1
    assert 'Purchases!C2: Quantity is "=1+1", not a number' in capsys.readouterr().err


# --- the CSV journal export ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [*FORMULA_TEXTS, "-2+3", "\t=1+1", "\r=1+1", "-", "@", "=", "+"],
    ids=lambda t: repr(t)[1:-1] or "empty",
)
def test_csv_neutralises_text_a_spreadsheet_would_run(text: str) -> None:
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize(
    ("value", "money", "expected"),
    [
        (-12.5, True, "-12.50"),  # a negative amount stays a number
        (1234.0, True, "1234.00"),
        (-3.0, False, "-3"),
        ("Purchase: 2026-10-02", False, "Purchase: 2026-10-02"),
        ("1300", False, "1300"),
        (" =1+1", False, " =1+1"),  # a leading space: no spreadsheet runs it
        (None, False, ""),
    ],
)
def test_csv_leaves_ordinary_values_alone(value, money, expected) -> None:
    if not money:
        assert csv_cell(value) == expected
        return
    header = ["Entry", "Date", "Account", "Account Name", "Debit", "Credit", "Memo", "Reference"]
    line: list[object] = [None] * len(header)
    line[4] = value  # the Debit column: written from whole cents, two decimals
    assert ledger_rows(header, [line])[0][4] == expected


# --- sizes that would make the reader allocate without bound ------------------------------------
# Each runs the CLI in a child process with its memory capped (tests/damaged.py): before the
# reader bounded its work these aborted the process (python-calamine builds the whole rectangle
# from A1 to the farthest cell, or sets memory aside for the strings a file claims).


def _row(xml: str, row: int) -> Callable[[bytes], bytes]:
    """Add ``<row r=row>xml</row>`` at the end of a worksheet's data."""
    return lambda b: b.replace(b"</sheetData>", f'<row r="{row}">{xml}</row></sheetData>'.encode())


def _capped_validate(path: Path) -> tuple[int, str]:
    got = run_capped("validate", str(path))
    assert "Traceback" not in got.stderr, got.stderr
    return got.returncode, got.stdout + got.stderr


def test_stray_far_cell_on_a_sheet_the_run_does_not_use_is_ignored(tmp_path: Path) -> None:
    path = tidy_book(tmp_path, sheets={**tidy(), "Notes": [["checked by JS"]]})
    rewrite(path, sheet_part(path, "Notes"), _row('<c r="XFD1048576"><v>1</v></c>', 1048576))
    code, out = _capped_validate(path)
    assert code == 0, out
    assert "no errors" in out


def test_stray_far_cell_on_an_input_sheet_is_refused_where_it_is(tmp_path: Path) -> None:
    path = tidy_book(tmp_path)
    rewrite(path, sheet_part(path, "BOM"), _row('<c r="XFD1048576"><v>1</v></c>', 1048576))
    code, out = _capped_validate(path)
    assert code == 1, out
    assert "error: BOM!XFD1048576: a cell far from the data is filled (XFD1048576)" in out
    assert "1,048,576 x 16,384 cells, too many to read; clear the cells out there" in out


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("A99999999999", "Sales!A99999999999: the file is damaged (a cell on row 99,999,999,999, "
                         "below Excel's last row 1,048,576)"),
        ("A1048577", "Sales!A1048577: the file is damaged (a cell on row 1,048,577, below"),
        ("XFE2", "Sales!XFE2: the file is damaged (a cell in column 16,385, right of Excel's "
                 "last column XFD"),
    ],
)  # fmt: skip
def test_cell_beyond_excels_grid_is_damage(tmp_path: Path, cell: str, expected: str) -> None:
    path = tidy_book(tmp_path)
    row = int(cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    rewrite(path, sheet_part(path, "Sales"), _row(f'<c r="{cell}"><v>1</v></c>', row))
    code, out = _capped_validate(path)
    assert code == 1, out
    assert f"error: {expected}" in out
    assert "open it in Excel, let Excel repair it, save it again as .xlsx" in out


def test_cells_without_references_are_placed_before_the_size_is_judged(tmp_path: Path) -> None:
    """40 cells with no r= on row 1,048,576 reach column AN: 1,048,576 x 40 cells > 2^25."""
    path = tidy_book(tmp_path)
    cells = "<c><v>1</v></c>" * 40
    rewrite(path, sheet_part(path, "Sales"), lambda b: b.replace(
        b"</sheetData>", f'<row r="1048576">{cells}</row></sheetData>'.encode()))  # fmt: skip
    code, out = _capped_validate(path)
    assert code == 1, out
    assert "error: Sales!AN1048576: a cell far from the data is filled (AN1048576)" in out


def test_full_grid_dimension_with_few_cells_is_read(tmp_path: Path) -> None:
    """A <dimension> of the whole grid is only a claim: the cells decide what is read."""
    path = tidy_book(tmp_path)
    for sheet in ("Purchases", "BOM"):
        rewrite(path, sheet_part(path, sheet), lambda b: re.sub(
            rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', b))  # fmt: skip
    code, out = _capped_validate(path)
    assert code == 0, out


@pytest.mark.parametrize("attribute", ["uniqueCount", "count"])
def test_shared_strings_claiming_two_to_the_31_strings(tmp_path: Path, attribute: str) -> None:
    path = tidy_book(tmp_path)
    claim = rb'\b%s="[0-9]+"' % attribute.encode()
    huge = b'%s="2147483648"' % attribute.encode()
    rewrite(path, "xl/sharedStrings.xml", lambda b: re.sub(claim, huge, b))
    code, out = _capped_validate(path)
    if attribute == "count":  # the total of references: calamine does not size by it
        assert code == 0, out
        return
    assert code == 1, out
    assert "book.xlsx is damaged (its shared strings claim 2,147,483,648 strings" in out


def test_lower_case_column_letters_count_too(tmp_path: Path) -> None:
    """python-calamine reads r="xfd5000" as column XFD: the quick extent check must see it."""
    path = tidy_book(tmp_path)
    rewrite(path, sheet_part(path, "Sales"), _row('<c r="xfd5000"><v>1</v></c>', 5000))
    code, out = _capped_validate(path)
    assert code == 1, out
    assert "error: Sales!XFD5000: a cell far from the data is filled (XFD5000)" in out
