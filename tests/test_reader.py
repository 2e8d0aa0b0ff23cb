"""read_workbook: values, error cells, uncached formulas, tables, merges, and bad files."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from addin.costing.model import Severity
from addin.workbook import reader
from addin.workbook.contract import EXCEL_ERRORS
from addin.workbook.reader import SheetRows, every_sheet, read_workbook
from addin.workbook.validate import parse_inputs
from tests.damaged import patch_zip_headers, rewrite, sheet_part, string_cell, tidy_book
from tests.workbooks import save, tidy


def only_error(findings: list) -> str:
    assert len(findings) == 1, findings
    assert findings[0].severity is Severity.ERROR
    assert findings[0].sheet == ""
    return findings[0].message


def test_values_errors_formulas_tables_and_merges(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "BOM"
    ws["A1"] = "Title"
    ws.merge_cells("A1:C1")
    ws.append(["Parent", "Component", "Qty Per"])
    ws.append(["A", "B", 2])
    ws.append(["A", "C", "=A1*2"])  # openpyxl saves no cached value
    ws["D3"] = dt.date(2026, 10, 31)
    ws["E3"] = "#N/A"  # openpyxl writes this as an error cell (t="e")
    path = tmp_path / "b.xlsx"
    wb.save(path)
    sheets, findings = read_workbook(path)
    assert findings == []
    bom = sheets["BOM"]
    assert (bom.first_row, bom.first_col) == (1, 1)
    assert bom.rows[2][:4] == ["A", "B", 2.0, dt.date(2026, 10, 31)]
    assert bom.rows[0][1] is None  # blanks are None, not ""
    assert bom.error_cells == {(3, 5): "#N/A"}
    assert bom.uncached_formulas == frozenset({(4, 3)})
    assert bom.merged == ("A1:C1",)
    assert bom.table_ref is None


def test_table_ref_is_read(tmp_path: Path) -> None:
    sheets = tidy()
    path = save(tmp_path / "t.xlsx", sheets, origin={"BOM": "B3"}, tables={"BOM": "BomTable"})
    rows, findings = read_workbook(path)
    assert findings == []
    assert rows["BOM"].table_ref == "B3:E4"
    assert rows["BOM"].rows[1][1] == "BOM for October"
    assert rows["Settings"].table_ref is None


def test_from_values_wraps_single_row_and_value() -> None:
    s = SheetRows.from_values("X", [["a", 1.0]], first_row=3, first_col=2)
    assert (s.rows, s.first_row, s.first_col, s.error_cells) == ([["a", 1.0]], 3, 2, {})
    assert SheetRows.from_values("X", ["a", "b"]).rows == [["a", "b"]]
    assert SheetRows.from_values("X", 5.0).rows == [[5.0]]


def test_missing_file(tmp_path: Path) -> None:
    assert "file not found" in only_error(read_workbook(tmp_path / "nope.xlsx")[1])


def test_xlsm_is_accepted(tmp_path: Path) -> None:
    path = save(tmp_path / "macro.xlsm", tidy())
    sheets, findings = read_workbook(path)
    assert findings == []
    assert "Standard Costs" in sheets


def test_csv_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_text("Parent,Component\nA,B\n")
    msg = only_error(read_workbook(path)[1])
    assert "save it as .xlsx (Excel Workbook) and run again" in msg


def test_old_xls_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1000 + "Workbook".encode("utf-16-le")
    )
    msg = only_error(read_workbook(path)[1])
    assert ".xls" in msg and "save it as .xlsx" in msg


def test_encrypted_workbook_asks_to_remove_password(tmp_path: Path) -> None:
    path = tmp_path / "locked.xlsx"
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2000
    path.write_bytes(ole + "EncryptedPackage".encode("utf-16-le") + b"\0" * 100)
    assert "remove the password" in only_error(read_workbook(path)[1])


def test_xlsb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "b.xlsb"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.bin", b"\0\1")
    msg = only_error(read_workbook(path)[1])
    assert "binary workbook" in msg and "save it as .xlsx" in msg


def test_corrupt_zip(tmp_path: Path) -> None:
    good = save(tmp_path / "good.xlsx", tidy()).read_bytes()
    path = tmp_path / "broken.xlsx"
    path.write_bytes(good[: len(good) // 2])  # truncated download
    findings = read_workbook(path)[1]
    assert findings[0].check == "corrupt workbook"
    assert "damaged" in only_error(findings) or "cannot be read" in findings[0].message


def test_text_file_named_xlsx_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "notes.xlsx"
    path.write_text("hello, this is not a spreadsheet")
    assert "is not an Excel workbook" in only_error(read_workbook(path)[1])


def test_word_document_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "memo.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("word/document.xml", "<document/>")
    assert "zip file but not an Excel workbook" in only_error(read_workbook(path)[1])


def test_zip_bomb_ratio_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (24 * 1024**2))
    msg = only_error(read_workbook(path)[1])
    assert "zip bomb" in msg and "sheet1.xml" in msg


def test_zip_bomb_total_size_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "MAX_UNCOMPRESSED_BYTES", 1000)
    path = save(tmp_path / "big.xlsx", tidy())
    msg = only_error(read_workbook(path)[1])
    assert "refused as unsafe" in msg


def test_scan_finds_cells_across_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "_CHUNK", 64)  # force many chunk boundaries
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in range(1, 40):
        ws.append([f"x{r}", r, f"=B{r}*2" if r % 7 == 0 else r, "#REF!" if r % 11 == 0 else 1])
    path = tmp_path / "c.xlsx"
    wb.save(path)
    sheet = read_workbook(path, wanted=every_sheet)[0]["Sheet"]
    assert sheet.uncached_formulas == frozenset((r, 3) for r in (7, 14, 21, 28, 35))
    assert sheet.error_cells == {(11, 4): "#REF!", (22, 4): "#REF!", (33, 4): "#REF!"}


def test_scan_single_quotes_and_prefixed_elements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scan's quick byte checks (memchr for ' and f, then a byte search) let through error
    cells written with single quotes and formulas with a namespace prefix, in any chunk."""
    monkeypatch.setattr(reader, "_CHUNK", 200)
    filler = "".join(
        f"<x:row r='{r}'><x:c r='A{r}'><x:v>{r}</x:v></x:c></x:row>" for r in range(2, 40)
    )
    sheet = (
        "<?xml version='1.0'?><x:worksheet xmlns:x='http://schemas.openxmlformats.org/"
        "spreadsheetml/2006/main'><x:sheetData>" + filler
        + "<x:row r='40'><x:c r='B40' t = 'e'><x:v>#DIV/0!</x:v></x:c>"
        "<x:c r='C40'><x:f>A1/0</x:f></x:c><x:c r='D40'><x:f t='shared' si='0'/><x:v/></x:c>"
        "</x:row></x:sheetData></x:worksheet>"
    )  # fmt: skip
    path = tmp_path / "q.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
        with zf.open("xl/worksheets/sheet1.xml") as fh:
            assert b"#DIV/0!" in fh.read()
    with zipfile.ZipFile(path) as zf:
        errors, uncached, complete = reader.scan_sheet_xml(zf, "xl/worksheets/sheet1.xml")
    assert errors == {(40, 2): "#DIV/0!"}
    assert uncached == frozenset({(40, 3), (40, 4)})
    assert complete


def test_read_without_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where threads cannot start (Pyodide), the scan runs in line with the same result."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["a", "=B9*2", "#N/A"])
    path = tmp_path / "n.xlsx"
    wb.save(path)
    expected = read_workbook(path, wanted=every_sheet)

    def refuse(self: object) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(reader.threading.Thread, "start", refuse)
    got = read_workbook(path, wanted=every_sheet)
    assert got == expected
    assert got[0]["Sheet"].uncached_formulas == frozenset({(1, 2)})
    assert got[0]["Sheet"].error_cells == {(1, 3): "#N/A"}


# --- damaged cells and parts: refused as damaged, located where the file says ---------------------


def _string_cell_set_to(value: str) -> Callable[[bytes], bytes]:
    """Purchases!B2 (the shared string "DM") given the index ``value``."""
    return lambda b: re.sub(rb'(<c r="B2"[^>]*t="s"[^>]*><v>)[0-9]+', rb"\g<1>" + value.encode(), b)


@pytest.mark.parametrize(
    "index", ["abc", "-1", "1.5", "+1", " 1", "1e0", "18446744073709551616", ""]
)
def test_damaged_shared_string_index_is_refused_at_its_cell(tmp_path: Path, index: str) -> None:
    """python-calamine reads all of these as string 0 (here "Setting"), the empty one as blank,
    without a word."""
    path = tidy_book(tmp_path)
    assert string_cell(path, sheet_part(path, "Purchases"), "DM") == "B2"
    rewrite(path, sheet_part(path, "Purchases"), _string_cell_set_to(index))
    sheets, findings = read_workbook(path)
    (finding,) = findings
    assert finding.severity is Severity.ERROR
    assert str(finding) == (
        f'Purchases!B2: the file is damaged (shared string index "{index}"); open it in Excel, '
        "let Excel repair it, save it again as .xlsx, and run again"
    )
    assert "Purchases" not in sheets or "Setting" not in repr(sheets["Purchases"].rows)


def test_shared_string_index_past_the_last_string_is_located(tmp_path: Path) -> None:
    path = tidy_book(tmp_path)
    rewrite(path, sheet_part(path, "Purchases"), _string_cell_set_to("999"))
    with zipfile.ZipFile(path) as zf:
        n = zf.read("xl/sharedStrings.xml").count(b"<si>")
    (finding,) = read_workbook(path)[1]
    assert str(finding).startswith(
        f"Purchases!B2: the file is damaged (shared string index 999; the file has {n} strings)"
    )


def test_good_shared_strings_read_as_before(tmp_path: Path) -> None:
    sheets, findings = read_workbook(tidy_book(tmp_path))
    assert findings == []
    assert sheets["Purchases"].rows[1][1:] == ["DM", 1_950_000.0, 1.0]


@pytest.mark.parametrize("error", sorted(EXCEL_ERRORS))
def test_every_excel_error_value_is_a_bad_cell_named_by_its_cell(
    tmp_path: Path, error: str
) -> None:
    """The classic seven were read; the newer ones (#SPILL!, #CALC!, ...) made python-calamine
    refuse the whole sheet. Each is now the cell's own problem."""
    path = tidy_book(tmp_path)
    rewrite(path, sheet_part(path, "BOM"), lambda b: re.sub(
        rb'<c r="C2"[^>]*><v>[^<]*</v></c>',
        b'<c r="C2" t="e"><f>SEQUENCE(3)</f><v>' + error.encode() + b"</v></c>", b))  # fmt: skip
    sheets, findings = read_workbook(path)
    assert findings == []
    assert sheets["BOM"].error_cells == {(2, 3): error}
    assert sheets["BOM"].rows[1][:2] == ["KB", "DM"] and sheets["BOM"].rows[1][2] is None
    inputs, found = parse_inputs(sheets)
    assert inputs is None
    assert [str(f) for f in found if f.severity is Severity.ERROR] == [
        f"BOM!C2: Qty Per is {error} (an Excel error); fix the formula or type the qty per"
    ]


METHODS = [(9, "Deflate64"), (93, "Zstandard"), (12, "bzip2"), (14, "LZMA"), (95, "xz"),
           (98, "PPMd"), (7, "method 7")]  # fmt: skip


@pytest.mark.parametrize(("method", "name"), METHODS, ids=[m[1] for m in METHODS])
@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/workbook.xml", "xl/styles.xml"])
def test_compression_excel_does_not_write_is_refused(
    tmp_path: Path, method: int, name: str, part: str
) -> None:
    path = tidy_book(tmp_path)
    patch_zip_headers(path, part, method=method)
    assert only_error(read_workbook(path)[1]) == (
        f"book.xlsx uses a compression Excel does not write ({name}); open it in Excel and save "
        "it again as .xlsx (or zip it again with ordinary Deflate compression), and run again"
    )


@pytest.mark.parametrize(("method", "flags"), [(8, 1), (0, 1), (99, 1), (99, 0)])
def test_zip_encryption_is_refused(tmp_path: Path, method: int, flags: int) -> None:
    """Bit 0 of the flags is zip's traditional encryption; method 99 is WinZip's AES."""
    path = tidy_book(tmp_path)
    patch_zip_headers(path, "xl/worksheets/sheet5.xml", method=method, flags=flags)
    message = only_error(read_workbook(path)[1])
    assert message.startswith("book.xlsx is encrypted with a password (zip encryption); remove")


def test_damage_in_one_header_only_is_found(tmp_path: Path) -> None:
    """A reader may trust either the central directory or the local header: both are read."""
    path = tidy_book(tmp_path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        offset = zf.getinfo("xl/workbook.xml").header_offset
    data[offset + 8 : offset + 10] = (9).to_bytes(2, "little")  # the local header only
    path.write_bytes(bytes(data))
    assert "(Deflate64)" in only_error(read_workbook(path)[1])


def test_missing_worksheet_part_is_damage(tmp_path: Path) -> None:
    path = tidy_book(tmp_path)
    part = sheet_part(path, "Sales")
    with zipfile.ZipFile(path) as zin:
        entries = [(i.filename, zin.read(i)) for i in zin.infolist() if i.filename != part]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in entries:
            zout.writestr(name, data)
    sheets, findings = read_workbook(path)
    assert [str(f) for f in findings] == [
        "Sales: the file is damaged (the sheet's data is missing); open it in Excel, let Excel "
        "repair it, save it again as .xlsx, and run again"
    ]
    assert "Sales" not in sheets


@pytest.mark.parametrize(
    ("table_xml", "expected"),
    [
        (b"<table", "is not readable XML"),
        (b'<table xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" id="1" '
         b'name="T" displayName="T" ref="garbage"/>', 'a range "garbage" that is not a range'),
        (b'<table xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" id="1" '
         b'name="T" displayName="T" ref="A1:D99999999"/>', 'a range "A1:D99999999" that is not'),
    ],
)  # fmt: skip
def test_damaged_table_definition_is_refused(
    tmp_path: Path, table_xml: bytes, expected: str
) -> None:
    path = save(tmp_path / "t.xlsx", tidy(), origin={"Purchases": "A3"}, tables={"Purchases": "T"})
    with zipfile.ZipFile(path) as zf:
        (table,) = [n for n in zf.namelist() if n.startswith("xl/tables/")]
    rewrite(path, table, lambda b: table_xml)
    (finding,) = read_workbook(path)[1]
    assert finding.sheet == "Purchases" and finding.severity is Severity.ERROR
    assert finding.message.startswith("the file is damaged (its table ")
    assert (
        expected in finding.message and "open it in Excel, let Excel repair it" in finding.message
    )


def test_cell_reference_that_is_not_a_cell_is_damage(tmp_path: Path) -> None:
    path = tidy_book(tmp_path)
    rewrite(path, sheet_part(path, "Sales"), lambda b: b.replace(b'r="C2"', b'r="2C"'))
    (finding,) = read_workbook(path)[1]
    assert str(finding).startswith('Sales: the file is damaged (a cell reference "2C" is not')


def test_extent_is_proven_quickly_and_exactly_when_it_matters(tmp_path: Path) -> None:
    """scan_sheet: chunks within A1:Z999999 are only bounded; wider or deeper ones are exact,
    across chunk boundaries, with or without r= attributes."""
    body = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 200))
    body += '<row r="700"><c r="AB700"><v>1</v></c></row><row><c><v>1</v></c><c><v>2</v></c></row>'
    xml = f"<worksheet><sheetData>{body}</sheetData></worksheet>"
    path = tmp_path / "s.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("s.xml", xml)
    with zipfile.ZipFile(path) as zf:
        scan = reader.scan_sheet(zf, "s.xml")
    assert (scan.last_row, scan.last_col) == ((701, 1), (700, 28))
    assert not scan.bad_refs and not scan.bad_strings


def test_xml_declaring_an_unknown_encoding_is_damage_not_a_crash(tmp_path: Path) -> None:
    """Found by fuzzing: ElementTree raised LookupError (exit 3) for encoding="A0"."""
    path = tidy_book(tmp_path)
    rewrite(path, "xl/_rels/workbook.xml.rels", lambda b: b.replace(b'"UTF-8"', b'"A0"'))
    sheets, findings = read_workbook(path)
    assert findings and all(f.severity is Severity.ERROR for f in findings)
    assert str(findings[0]).startswith(
        "Settings: the file is damaged (the sheet's data is missing)"
    )
