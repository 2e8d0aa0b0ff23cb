"""Reading a workbook file into neutral rows: the first step of the input boundary.

The reader only turns a file into :class:`SheetRows` (plain Python cell values plus what the
values alone cannot say: error cells, formulas without a saved value, the Excel table's range,
merged ranges). It never evaluates anything and never raises for a bad file: every file-level
problem comes back as a :class:`~addin.costing.model.Finding` with severity ERROR and sheet "".

Conventions:
- Worksheet coordinates are 1-based (row 1 / column 1 is A1), like Excel's.
- Values: str, float (calamine reads every number as float), bool, datetime.date/datetime,
  datetime.time/timedelta for time-formatted cells, and None for a blank cell.
"""

from __future__ import annotations

import gc
import posixpath
import re
import threading
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from addin.costing.model import Finding, Severity

# Limits that stop a hostile or broken file before it is decompressed.
MAX_UNCOMPRESSED_BYTES = 2 * 1024**3  # total declared size of all parts
MAX_RATIO = 200  # compressed:uncompressed ratio allowed for a large part
RATIO_CHECK_FROM_BYTES = 10 * 1024**2  # parts smaller than this are not ratio-checked
MAX_PARTS = 20_000

ACCEPTED_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm")
SAVE_AS_XLSX = "save it as .xlsx (Excel Workbook) and run again"

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_CHUNK = 1024**2  # small enough to stay in the CPU cache across the scan's byte searches
_READ_BLOCK = 32 * 1024**2  # inflated at once by the scan


@dataclass(frozen=True)
class SheetRows:
    """One worksheet as rows of plain cell values, with its worksheet coordinates.

    ``rows[i][j]`` is the cell at worksheet row ``first_row + i``, column ``first_col + j``.
    ``error_cells`` and ``uncached_formulas`` use 1-based (row, column) worksheet coordinates.
    ``table_ref`` is the A1 range of the sheet's Excel table (header row included), if any.
    """

    name: str
    rows: list[list[object]]
    first_row: int = 1
    first_col: int = 1
    error_cells: dict[tuple[int, int], str] = field(default_factory=dict)
    uncached_formulas: frozenset[tuple[int, int]] = frozenset()
    table_ref: str | None = None
    merged: tuple[str, ...] = ()

    @classmethod
    def from_values(
        cls,
        name: str,
        rows: list[list[object]],
        first_row: int = 1,
        first_col: int = 1,
    ) -> SheetRows:
        """Rows as xlwings gives them (``used_range.value``); a lone row or value is wrapped."""
        if not isinstance(rows, list):
            rows = [[rows]]
        elif rows and not isinstance(rows[0], list):
            rows = [rows]
        return cls(name=name, rows=rows, first_row=first_row, first_col=first_col)


# ---------------------------------------------------------------------------------------------
# Cell references


def column_letters(col: int) -> str:
    """1 -> "A", 27 -> "AA"."""
    letters = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_ref(row: int, col: int) -> str:
    """1-based (row, column) -> "C14"."""
    return f"{column_letters(col)}{row}"


_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")


def parse_cell_ref(ref: str) -> tuple[int, int] | None:
    """ "C14" -> (14, 3); None when it is not a cell reference."""
    m = _REF.match(ref.strip())
    if not m:
        return None
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


def parse_range_ref(ref: str) -> tuple[int, int, int, int] | None:
    """ "B3:F40" -> (3, 2, 40, 6) as (first row, first col, last row, last col); "B3" works too."""
    parts = ref.split(":")
    if len(parts) not in (1, 2):
        return None
    a = parse_cell_ref(parts[0])
    b = parse_cell_ref(parts[-1])
    if a is None or b is None:
        return None
    return min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1])


# ---------------------------------------------------------------------------------------------
# File checks


def _file_error(check: str, message: str) -> Finding:
    return Finding(Severity.ERROR, check, message)


def _sniff(path: Path) -> tuple[bytes, list[Finding]]:
    """The first bytes of the file, or findings saying why it cannot be opened."""
    if not path.exists():
        return b"", [_file_error("file missing", f"file not found: {path}; check the path")]
    if path.is_dir():
        return b"", [_file_error("not a workbook", f"{path} is a folder, not a workbook file")]
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        return b"", [
            _file_error(
                "file unreadable",
                f"cannot open {path.name}: {exc.strerror or exc}; check that you may read it "
                "and that no other program holds it locked, then run again",
            )
        ]
    return head, []


def _is_encrypted_ole(path: Path) -> bool:
    """True when an OLE compound file holds an EncryptedPackage stream (a password-protected
    .xlsx). The stream name is searched in the raw bytes, chunk by chunk."""
    overlap = len(_ENCRYPTED_PACKAGE)
    tail = b""
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            if _ENCRYPTED_PACKAGE in tail + chunk:
                return True
            tail = chunk[-overlap:]
    return False


def _check_format(path: Path, head: bytes) -> list[Finding]:
    """Findings for a file that is not an .xlsx/.xlsm zip package."""
    name = path.name
    suffix = path.suffix.lower()
    if head.startswith(_OLE_MAGIC):
        if _is_encrypted_ole(path):
            return [
                _file_error(
                    "encrypted workbook",
                    f"{name} is password-protected; remove the password (File > Info > "
                    "Protect Workbook > Encrypt with Password, clear it), save, and run again",
                )
            ]
        return [
            _file_error(
                "wrong file format",
                f"{name} is an old-format Excel file (.xls); {SAVE_AS_XLSX}",
            )
        ]
    if head.startswith(_ZIP_MAGIC):
        return []
    if suffix in (".csv", ".txt", ".tsv"):
        return [_file_error("wrong file format", f"{name} is a text/CSV file; {SAVE_AS_XLSX}")]
    if suffix in (".xls", ".xlsb", ".ods"):
        return [
            _file_error(
                "wrong file format", f"{name} is not an .xlsx workbook ({suffix}); {SAVE_AS_XLSX}"
            )
        ]
    return [
        _file_error(
            "not a workbook",
            f"{name} is not an Excel workbook (no .xlsx content found); open it in Excel, "
            f"{SAVE_AS_XLSX}",
        )
    ]


def _check_package(zf: zipfile.ZipFile, name: str, suffix: str) -> list[Finding]:
    """Zip-bomb limits and the parts an .xlsx must have."""
    infos = zf.infolist()
    if len(infos) > MAX_PARTS:
        return [
            _file_error(
                "unsafe file", f"{name} has {len(infos):,} parts; refused as unsafe to open"
            )
        ]
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        return [
            _file_error(
                "unsafe file",
                f"{name} would expand to {total / 1024**3:,.1f} GiB (limit "
                f"{MAX_UNCOMPRESSED_BYTES / 1024**3:,.0f} GiB); refused as unsafe to open. "
                "Remove unused sheets or data, save, and run again",
            )
        ]
    for i in infos:
        if i.file_size > RATIO_CHECK_FROM_BYTES and i.file_size > MAX_RATIO * max(
            i.compress_size, 1
        ):
            return [
                _file_error(
                    "unsafe file",
                    f"{name}: part {i.filename} expands {i.file_size / max(i.compress_size, 1):,.0f}"
                    f" times (limit {MAX_RATIO}); refused as a possible zip bomb",
                )
            ]
    for i in infos:
        if i.filename.lower().endswith(_XML_SUFFIXES) and not _safe_prolog(zf, i):
            return [
                _file_error(
                    "unsafe file",
                    f"{name}: part {i.filename} declares a DOCTYPE (XML entities), which Excel "
                    "never writes; refused as unsafe to open. Open the file in Excel, save it "
                    "as .xlsx, and run again",
                )
            ]
    names = {i.filename for i in infos}
    if "xl/workbook.xml" in names:
        return []
    if "xl/workbook.bin" in names:
        return [
            _file_error("wrong file format", f"{name} is an Excel binary workbook; {SAVE_AS_XLSX}")
        ]
    if "content.xml" in names or suffix == ".ods":
        return [
            _file_error(
                "wrong file format", f"{name} is an OpenDocument spreadsheet; {SAVE_AS_XLSX}"
            )
        ]
    return [
        _file_error(
            "not a workbook",
            f"{name} is a zip file but not an Excel workbook; open the workbook in Excel, "
            f"{SAVE_AS_XLSX}",
        )
    ]


_XML_SUFFIXES = (".xml", ".rels", ".vml")
_PROLOG_BYTES = 64 * 1024
_PROLOG_SKIP = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->)", re.S)


def _safe_prolog(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """False when the XML part's prolog holds a DOCTYPE (the door to external entities and
    "billion laughs" expansion) or does not reach the root element within 64 KiB. Only the
    prolog is read: a DOCTYPE can appear nowhere else."""
    try:
        with zf.open(info) as fh:
            head = fh.read(_PROLOG_BYTES)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return True  # damaged parts are reported when the workbook is read
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with a byte order mark
        head = head.decode("utf-16", "replace").encode("utf-8", "replace")
    elif head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    pos = 0
    while m := _PROLOG_SKIP.match(head, pos):
        if m.end() == pos:
            break
        pos = m.end()
    rest = head[pos:].lstrip()
    if not rest:
        return len(head) < _PROLOG_BYTES  # an empty part is harmless; an endless prolog is not
    return not rest[:9].upper().startswith(b"<!DOCTYPE")


# ---------------------------------------------------------------------------------------------
# Package structure: sheet name -> worksheet part, table ranges


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _rel_id(attrib: dict[str, str]) -> str:
    for k, v in attrib.items():
        if _local(k) == "id" and k != "id":
            return v
    return attrib.get("id", "")


def _read_xml(zf: zipfile.ZipFile, part: str) -> ET.Element | None:
    """A small XML part (workbook, rels, table) parsed; None when absent or malformed.
    ElementTree does not resolve external entities; expat limits entity expansion."""
    try:
        return ET.fromstring(zf.read(part))
    except (KeyError, ET.ParseError, zipfile.BadZipFile, OSError):
        return None


def _rels(zf: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationships of ``part``: id -> (type suffix, target part path)."""
    folder, base = posixpath.split(part)
    root = _read_xml(zf, posixpath.join(folder, "_rels", base + ".rels"))
    out: dict[str, tuple[str, str]] = {}
    if root is None:
        return out
    for rel in root:
        target = rel.attrib.get("Target", "")
        if rel.attrib.get("TargetMode") == "External" or not target:
            continue
        if target.startswith("/"):
            path = target.lstrip("/")
        else:
            path = posixpath.normpath(posixpath.join(folder, target))
        out[rel.attrib.get("Id", "")] = (rel.attrib.get("Type", "").rsplit("/", 1)[-1], path)
    return out


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet name -> its XML part (e.g. "xl/worksheets/sheet1.xml")."""
    root = _read_xml(zf, "xl/workbook.xml")
    if root is None:
        return {}
    rels = _rels(zf, "xl/workbook.xml")
    out: dict[str, str] = {}
    for el in root.iter():
        if _local(el.tag) == "sheet":
            rel = rels.get(_rel_id(el.attrib))
            if rel and rel[0] == "worksheet":
                out[el.attrib.get("name", "")] = rel[1]
    return out


def _table_ref(zf: zipfile.ZipFile, sheet_part: str) -> str | None:
    """The ``ref`` of the first Excel table on the sheet (header row included)."""
    for kind, target in _rels(zf, sheet_part).values():
        if kind != "table":
            continue
        root = _read_xml(zf, target)
        if root is None or not root.attrib.get("ref"):
            continue
        ref = root.attrib["ref"]
        totals = root.attrib.get("totalsRowCount", "0")
        box = parse_range_ref(ref)
        if box and totals.isdigit() and int(totals) > 0 and box[2] - int(totals) > box[0]:
            # The data region stops above a totals row.
            ref = f"{cell_ref(box[0], box[1])}:{cell_ref(box[2] - int(totals), box[3])}"
        return ref
    return None


# ---------------------------------------------------------------------------------------------
# Worksheet XML scan: error cells and formulas without a saved value


_ERROR_ATTR = re.compile(rb"""\bt\s*=\s*["']e["']""")
_CELL_START = re.compile(rb"<(?:[\w.-]+:)?c\b[^<>]*>")
_R_ATTR = re.compile(rb"""\br\s*=\s*["']([A-Za-z]{1,3}[0-9]+)["']""")
_V_TEXT = re.compile(rb"<(?:[\w.-]+:)?v>([^<]*)</(?:[\w.-]+:)?v>")
_SHEETDATA = re.compile(rb"<([\w.-]+:)?sheetData\b")


def _no_value_patterns(prefix: bytes) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """Formula elements followed directly by the end of the cell or an empty <v>.

    Built with the part's namespace prefix (usually none) so that each pattern starts with a
    literal, which lets the regex engine skip quickly over the bytes between formulas.
    """
    p = re.escape(prefix)
    empty = rb"\s*(?:</" + p + rb"c>|<" + p + rb"v\s*/>|<" + p + rb"v>\s*</" + p + rb"v>)"
    closed = re.compile(rb"</" + p + rb"f>" + empty)
    self_closing = re.compile(rb"<" + p + rb"f\b[^<>]*/>" + empty)
    return closed, self_closing


def _chunks(zf: zipfile.ZipFile, part: str) -> Iterator[bytes]:
    """The part's bytes in chunks of about ``_CHUNK`` that each end at a row tag boundary
    (``row>``; a longer row is one chunk). The part is inflated ``_READ_BLOCK`` at a time: one
    zlib call each, which runs without the GIL (see :func:`read_workbook`)."""
    carry = b""
    with zf.open(part) as fh:
        while True:
            data = fh.read(max(_READ_BLOCK, _CHUNK))
            if not data:
                if carry:
                    yield carry
                return
            buf = carry + data
            start = 0
            while len(buf) - start > _CHUNK:
                cut = buf.rfind(b"row>", start, start + _CHUNK)
                if cut < 0:
                    cut = buf.find(b"row>", start + _CHUNK)
                    if cut < 0:
                        break
                cut += 4
                yield buf[start:cut]
                start = cut
            carry = buf[start:]


def _cell_at(buf: bytes, pos: int) -> tuple[int, int] | None:
    """The (row, col) of the cell whose start tag precedes ``pos``; None without an r=."""
    start = buf.rfind(b"<", 0, pos + 1)
    while start >= 0 and not _CELL_START.match(buf, start):
        start = buf.rfind(b"<", 0, start)
    if start < 0:
        return None
    tag = _CELL_START.match(buf, start)
    m = _R_ATTR.search(tag.group(0)) if tag else None
    return parse_cell_ref(m.group(1).decode()) if m else None


def scan_sheet_xml(
    zf: zipfile.ZipFile, part: str
) -> tuple[dict[tuple[int, int], str], frozenset[tuple[int, int]], bool]:
    """Error cells (``t="e"``) and formula cells without a saved value in one worksheet part.

    A streaming byte-level scan (1 MiB chunks), never a full XML parse: a chunk is only
    searched with the regexes when a plain byte search finds a quoted ``e`` or a formula
    element in it, so on a sheet of constants the scan costs little more than decompressing
    the part (on a 1M-row sheet, under a tenth of calamine's own read). Returns
    (errors, uncached, complete);
    ``complete`` is False when such a cell had no ``r`` attribute, so its place is unknown.
    """
    errors: dict[tuple[int, int], str] = {}
    uncached: set[tuple[int, int]] = set()
    complete = True
    patterns: tuple[re.Pattern[bytes], ...] = ()
    formula = b"<f"
    for buf in _chunks(zf, part):
        if not patterns:
            m = _SHEETDATA.search(buf)
            prefix = (m.group(1) or b"") if m else b""
            patterns = _no_value_patterns(prefix)
            formula = b"<" + prefix + b"f"
        # ("'" in buf is a memchr: far quicker than looking for 'e' in every chunk.)
        if b'"e"' in buf or (b"'" in buf and b"'e'" in buf):
            for m in _ERROR_ATTR.finditer(buf):
                rc = _cell_at(buf, m.start())
                if rc is None:
                    complete = False
                    continue
                end = buf.find(b"c>", m.end())
                v = _V_TEXT.search(buf, m.end(), end if end > 0 else len(buf))
                errors[rc] = v.group(1).decode("utf-8", "replace").strip() if v else "#ERROR"
        if b"f" not in buf or formula not in buf:
            continue  # no formula in the chunk (a memchr, then a byte search): nothing uncached
        for pattern in patterns:
            for m in pattern.finditer(buf):
                rc = _cell_at(buf, m.start())
                if rc is None:
                    complete = False
                else:
                    uncached.add(rc)
    return errors, frozenset(uncached), complete


# ---------------------------------------------------------------------------------------------
# Reading


def _merged_refs(ranges: object) -> tuple[str, ...]:
    """calamine's 0-based ((r0, c0), (r1, c1)) pairs -> ("A1:C1", ...)."""
    out: list[str] = []
    for rng in ranges or ():  # type: ignore[attr-defined]
        (r0, c0), (r1, c1) = rng
        out.append(f"{cell_ref(r0 + 1, c0 + 1)}:{cell_ref(r1 + 1, c1 + 1)}")
    return tuple(out)


def _blank_to_none(rows: list[list[object]]) -> list[list[object]]:
    """calamine's "" for a blank (or error) cell -> None, in place; full rows are only scanned.
    calamine's rows are new lists nobody else holds, so they are changed where they are."""
    for row in rows:
        if "" in row:
            for j in range(row.index(""), len(row)):
                if row[j] == "":
                    row[j] = None
    return rows


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """The cyclic garbage collector paused while millions of row lists are built.

    Every new list counts towards a collection, and each full collection walks every row
    already read: on a 1M-row sheet that is two thirds of calamine's ``to_python`` time. The
    rows hold only str/float/date/None, so no reference cycle is left for it to find.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_workbook(
    path: str | Path, progress: Callable[[str, float], None] | None = None
) -> tuple[dict[str, SheetRows], list[Finding]]:
    """Every worksheet of an .xlsx/.xlsm file as :class:`SheetRows`, plus file-level findings.

    ``progress(step, fraction)`` is told before each sheet is read (fraction 0..1 of the
    reading). Chart sheets are skipped. Sheets are keyed by their name as spelled in the workbook. When a
    finding is returned the dict may be empty; the function never raises for a bad file.
    """
    path = Path(path)
    head, findings = _sniff(path)
    if findings:
        return {}, findings
    findings = _check_format(path, head)
    if findings:
        return {}, findings
    try:
        with zipfile.ZipFile(path) as zf:
            findings = _check_package(zf, path.name, path.suffix.lower())
            if findings:
                return {}, findings
            parts = {n: p for n, p in _sheet_parts(zf).items() if p in zf.NameToInfo}
            tables = {name: _table_ref(zf, part) for name, part in parts.items()}
    except _ZIP_ERRORS as exc:
        return {}, [_damaged(path, exc)]
    # The XML scan runs in a thread while calamine reads the values: calamine holds the GIL
    # while it parses, but the scan's inflating does not need it, so on two cores the
    # decompression is (mostly) hidden behind calamine's parse.
    scan = _Background(_scan_parts, path, parts)
    values, more = _read_values(path, progress)
    try:
        scanned = scan.result()
    except _ZIP_ERRORS as exc:
        return {}, [_damaged(path, exc)]
    sheets: dict[str, SheetRows] = {}
    for name, (_, _, complete) in scanned.items():
        if not complete:
            findings.append(
                Finding(
                    Severity.WARNING,
                    "unlocated cells",
                    "some error or formula cells have no cell address in the file; "
                    "save the workbook in Excel and run again to have them located",
                    sheet=name,
                )
            )
    for name, rows, merged in values:
        errors, uncached, _ = scanned.get(name, ({}, frozenset(), True))
        sheets[name] = SheetRows(
            name=name,
            rows=rows,
            error_cells=errors,
            uncached_formulas=uncached,
            table_ref=tables.get(name),
            merged=merged,
        )
    return sheets, findings + more


_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, zlib.error)


def _damaged(path: Path, exc: BaseException) -> Finding:
    return _file_error(
        "corrupt workbook",
        f"{path.name} is damaged and cannot be read ({exc}); open it in Excel, "
        "let Excel repair it, save, and run again",
    )


def _scan_parts(
    path: Path, parts: dict[str, str]
) -> dict[str, tuple[dict[tuple[int, int], str], frozenset[tuple[int, int]], bool]]:
    """:func:`scan_sheet_xml` of every worksheet part, on its own handle of the file."""
    with zipfile.ZipFile(path) as zf:
        return {name: scan_sheet_xml(zf, part) for name, part in parts.items()}


class _Background:
    """``fn(*args)`` in a daemon thread; :meth:`result` waits and returns it or re-raises."""

    def __init__(self, fn: Callable[..., Any], *args: object) -> None:
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = threading.Thread(
            target=self._run, args=(fn, args), daemon=True
        )
        try:
            self._thread.start()
        except RuntimeError:  # no threads here (e.g. Pyodide in xlwings Lite): run it now
            self._thread = None
            self._run(fn, args)

    def _run(self, fn: Callable[..., Any], args: tuple[object, ...]) -> None:
        try:
            self._value = fn(*args)
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def result(self) -> Any:
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _read_values(
    path: Path, progress: Callable[[str, float], None] | None = None
) -> tuple[list[tuple[str, list[list[object]], tuple[str, ...]]], list[Finding]]:
    """Cell values through python-calamine: (sheet name, rows, merged ranges) per worksheet."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    try:
        wb = CalamineWorkbook.from_path(str(path), load_tables=False)
    except Exception as exc:  # calamine raises its own error types for damaged files
        return [], [
            _file_error(
                "corrupt workbook",
                f"{path.name} cannot be read ({type(exc).__name__}: {exc}); open it in Excel, "
                "save it as .xlsx, and run again",
            )
        ]
    sheets: list[tuple[str, list[list[object]], tuple[str, ...]]] = []
    findings: list[Finding] = []
    with wb, _no_cyclic_gc():
        metas = [m for m in wb.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
        for k, meta in enumerate(metas):
            if progress is not None:
                progress(f"Reading sheet {meta.name}", k / max(len(metas), 1))
            try:
                sheet = wb.get_sheet_by_name(meta.name)
                rows = _blank_to_none(sheet.to_python(skip_empty_area=False))
                merged = _merged_refs(sheet.merged_cell_ranges)
            except Exception as exc:
                findings.append(
                    Finding(
                        Severity.ERROR,
                        "unreadable sheet",
                        f"sheet cannot be read ({type(exc).__name__}: {exc}); open the file in "
                        "Excel, save, and run again",
                        sheet=meta.name,
                    )
                )
                continue
            sheets.append((meta.name, rows, merged))
    return sheets, findings


__all__ = [
    "SheetRows",
    "read_workbook",
    "scan_sheet_xml",
    "cell_ref",
    "column_letters",
    "parse_cell_ref",
    "parse_range_ref",
]
