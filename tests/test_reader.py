"""read_workbook: values, error cells, uncached formulas, tables, merges, and bad files."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest

from addin.costing.model import Severity
from addin.workbook import reader
from addin.workbook.reader import SheetRows, every_sheet, read_workbook
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
