"""Reading a workbook file into neutral rows: the first step of the input boundary.

The reader only turns a file into :class:`SheetRows` (plain Python cell values plus what the
values alone cannot say: error cells, formulas without a saved value, the Excel table's range,
merged ranges). It never evaluates anything and never raises for a bad file: every problem comes
back as a :class:`~addin.costing.model.Finding` with severity ERROR, with sheet "" for the file
as a whole and with the sheet (and cell, where the file says) for a damaged sheet or cell.

Its work is bounded by what the contract needs: only the input sheets are read, and each is
scanned before python-calamine builds it (calamine allocates the whole rectangle from A1 to the
farthest cell, and memory for the shared strings a file claims), so a stray far cell, a row
number beyond Excel's grid or a damaged count is a message, never an abort.

Conventions:
- Worksheet coordinates are 1-based (row 1 / column 1 is A1), like Excel's.
- Values: str, float (calamine reads every number as float), bool, datetime.date/datetime,
  datetime.time/timedelta for time-formatted cells, and None for a blank cell.
"""

from __future__ import annotations

import gc
import io
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
from addin.workbook.cells import cell_ref as cell_ref
from addin.workbook.cells import column_letters as column_letters
from addin.workbook.contract import is_input_sheet

# Limits that stop a hostile or broken file before it is decompressed.
MAX_UNCOMPRESSED_BYTES = 2 * 1024**3  # total declared size of all parts
MAX_RATIO = 200  # compressed:uncompressed ratio allowed for a large part
RATIO_CHECK_FROM_BYTES = 10 * 1024**2  # parts smaller than this are not ratio-checked
MAX_PARTS = 20_000

# Excel's grid: a cell beyond it is damage, not data.
EXCEL_ROWS = 1_048_576
EXCEL_COLUMNS = 16_384
# rows x columns of an input sheet's used area (from A1) read into memory; python-calamine
# builds the whole rectangle, so one stray cell far from the data would cost gigabytes.
MAX_SHEET_CELLS = 2**25
MAX_DAMAGED_CELLS_LISTED = 20  # per sheet; the rest are counted

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
    ``table_ref`` is the A1 range of the sheet's Excel table (header row included, totals row
    left out), if any; ``table_name`` its name and ``table_totals`` how many totals rows the
    table has below ``table_ref`` (they belong to the table but are not data).
    """

    name: str
    rows: list[list[object]]
    first_row: int = 1
    first_col: int = 1
    error_cells: dict[tuple[int, int], str] = field(default_factory=dict)
    uncached_formulas: frozenset[tuple[int, int]] = frozenset()
    table_ref: str | None = None
    merged: tuple[str, ...] = ()
    table_name: str | None = None
    table_totals: int = 0

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


# Zip compression methods by number: Excel writes only 0 (stored) and 8 (deflate).
_METHODS = {9: "Deflate64", 12: "bzip2", 14: "LZMA", 93: "Zstandard", 95: "xz", 98: "PPMd"}
_AES = 99  # WinZip AES encryption


def _check_entries(path: str | None, infos: list[zipfile.ZipInfo], name: str) -> list[Finding]:
    """Encrypted entries and compression methods Excel does not write, from the central
    directory and each entry's local header (a reader may trust either)."""
    heads: list[tuple[int, int]] = [(i.flag_bits, i.compress_type) for i in infos]
    if path is not None:
        with open(path, "rb") as fh:
            for i in infos:
                fh.seek(i.header_offset)
                head = fh.read(10)
                if len(head) == 10 and head[:4] == _ZIP_MAGIC:
                    heads.append((int.from_bytes(head[6:8], "little"),
                                  int.from_bytes(head[8:10], "little")))  # fmt: skip
    for flags, method in heads:
        if flags & 0x1 or method == _AES:
            return [
                _file_error(
                    "encrypted workbook",
                    f"{name} is encrypted with a password (zip encryption); remove the password "
                    "(open it with the password and save it again as .xlsx without one), and "
                    "run again",
                )
            ]
    for _, method in heads:
        if method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            what = _METHODS.get(method, f"method {method}")
            return [
                _file_error(
                    "wrong file format",
                    f"{name} uses a compression Excel does not write ({what}); open it in "
                    "Excel and save it again as .xlsx (or zip it again with ordinary Deflate "
                    "compression), and run again",
                )
            ]
    return []


def _check_package(zf: zipfile.ZipFile, name: str, suffix: str) -> list[Finding]:
    """Zip-bomb limits, encryption and compression, and the parts an .xlsx must have."""
    infos = zf.infolist()
    found = _check_entries(zf.filename, infos, name) or _unsafe_size(infos, name)
    found = found or _unsafe_xml(zf, infos, name)
    return found or _package_kind({i.filename for i in infos}, name, suffix)


def _unsafe(text: str) -> list[Finding]:
    return [_file_error("unsafe file", text)]


def _unsafe_size(infos: list[zipfile.ZipInfo], name: str) -> list[Finding]:
    """Too many parts, too much expanded data, or a part that expands like a zip bomb."""
    if len(infos) > MAX_PARTS:
        return _unsafe(f"{name} has {len(infos):,} parts; refused as unsafe to open")
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        return _unsafe(
            f"{name} would expand to {total / 1024**3:,.1f} GiB (limit "
            f"{MAX_UNCOMPRESSED_BYTES / 1024**3:,.0f} GiB); refused as unsafe to open. "
            "Remove unused sheets or data, save, and run again"
        )
    for i in infos:
        ratio = i.file_size / max(i.compress_size, 1)
        if i.file_size > RATIO_CHECK_FROM_BYTES and ratio > MAX_RATIO:
            return _unsafe(
                f"{name}: part {i.filename} expands {ratio:,.0f}"
                f" times (limit {MAX_RATIO}); refused as a possible zip bomb"
            )
    return []


def _unsafe_xml(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], name: str) -> list[Finding]:
    """An XML part declaring a DOCTYPE (entities), which Excel never writes."""
    for i in infos:
        if i.filename.lower().endswith(_XML_SUFFIXES) and not _safe_prolog(zf, i):
            return _unsafe(
                f"{name}: part {i.filename} declares a DOCTYPE (XML entities), which Excel "
                "never writes; refused as unsafe to open. Open the file in Excel, save it "
                "as .xlsx, and run again"
            )
    return []


def _package_kind(names: set[str], name: str, suffix: str) -> list[Finding]:
    """Nothing when the zip is an .xlsx workbook; else what it is and what to do."""
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


_UNIQUE_COUNT = re.compile(rb"""<(?:[\w.-]+:)?sst\b[^>]*?\buniqueCount\s*=\s*["']\s*([0-9]+)""")


def _shared_strings_part(zf: zipfile.ZipFile) -> str | None:
    """The shared strings part named by the workbook's relationships (or the usual name)."""
    for kind, target in _rels(zf, "xl/workbook.xml").values():
        if kind == "sharedStrings" and target in zf.NameToInfo:
            return target
    return "xl/sharedStrings.xml" if "xl/sharedStrings.xml" in zf.NameToInfo else None


def _check_shared_strings(zf: zipfile.ZipFile, name: str) -> list[Finding]:
    """A shared strings part claiming more strings than its bytes can hold: calamine sets
    memory aside for the claimed number before reading one, and a damaged count of 2^31
    strings aborts the process."""
    part = _shared_strings_part(zf)
    if part is None:
        return []
    info = zf.NameToInfo[part]
    with zf.open(info) as fh:
        head = fh.read(_PROLOG_BYTES)
    m = _UNIQUE_COUNT.search(head)
    claimed = int(m.group(1)) if m else 0
    if claimed <= info.file_size // len(b"<si/>") + 1:
        return []
    return [
        _file_error(
            "corrupt workbook",
            f"{name} is damaged (its shared strings claim {claimed:,} strings, more than the "
            f"file holds); {_REPAIR}",
        )
    ]


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
    except (KeyError, ET.ParseError, zipfile.BadZipFile, OSError, LookupError, ValueError):
        return None  # (LookupError: an XML declaration naming an encoding that does not exist)


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


@dataclass(frozen=True)
class _TableInfo:
    name: str
    ref: str  # header and data rows
    totals: int  # totals rows below ``ref``


def _table(zf: zipfile.ZipFile, sheet_part: str) -> _TableInfo | str | None:
    """The first Excel table on the sheet; a text saying what is wrong when its definition is
    damaged (Excel itself would refuse it: the data it covers cannot be known)."""
    for kind, target in _rels(zf, sheet_part).values():
        if kind != "table":
            continue
        if target not in zf.NameToInfo:
            return f"its table definition ({target}) is missing"
        root = _read_xml(zf, target)
        if root is None:
            return f"its table definition ({target}) is not readable XML"
        ref = root.attrib.get("ref", "")
        box = parse_range_ref(ref)
        if box is None or box[2] > EXCEL_ROWS or box[3] > EXCEL_COLUMNS or min(box) < 1:
            return f'its table has a range "{ref[:40]}" that is not a range of cells'
        name = root.attrib.get("displayName") or root.attrib.get("name") or ""
        totals = root.attrib.get("totalsRowCount", "0").strip() or "0"
        n = int(totals) if totals.isdigit() else 0
        if n and box[2] - n > box[0]:  # the data region stops above the totals rows
            ref = f"{cell_ref(box[0], box[1])}:{cell_ref(box[2] - n, box[3])}"
        else:
            n = 0
            ref = f"{cell_ref(box[0], box[1])}:{cell_ref(box[2], box[3])}"
        return _TableInfo(name, ref, n)
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


@dataclass
class SheetScan:
    """What the byte-level scan of one worksheet part found.

    ``errors``/``uncached``/``complete`` as for :func:`scan_sheet_xml`. The extent: ``last_row``
    and ``last_col`` are the cells (row, col) with the largest row and column seen exactly;
    ``bounded`` says that some chunks were only proven to hold cells within A1:Z999999 (their
    cells are not looked at one by one). ``unplaced`` is set when a cell has no ``r``
    attribute (its place follows from the cells before it: see :func:`_place_cells`).
    ``bad_refs`` are cell references that are not cells; ``bad_strings`` shared-string cells
    whose index is not a number (python-calamine reads them as string 0).
    """

    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    uncached: set[tuple[int, int]] = field(default_factory=set)
    complete: bool = True
    last_row: tuple[int, int] = (0, 0)
    last_col: tuple[int, int] = (0, 0)
    bounded: bool = False
    unplaced: bool = False
    bad_refs: list[str] = field(default_factory=list)
    bad_strings: dict[tuple[int, int] | None, str] = field(default_factory=dict)

    def see(self, rc: tuple[int, int]) -> None:
        if rc[0] > self.last_row[0]:
            self.last_row = rc
        if rc[1] > self.last_col[1]:
            self.last_col = rc


# The extent check works on a translated copy of a chunk: capital letters -> "A", digits -> "0",
# ">", "/" and white space -> " ", ":" -> "<". Then plain byte searches prove that every cell
# has an r="A0.." reference (one capital column letter, below row 1,000,000): there are as many
# "<c " as '<c r="A0' (a prefixed "<x:c" becomes "<x<c"), and '0000000"' (seven digits before a
# quote) does not occur. (calamine takes lower-case column letters too: r="xfd1" is column XFD.)
_EXTENT_TABLE = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789>/ \t\n\r:",
    b"A" * 26 + b"0" * 10 + b"      <",
)
_FAST_ROWS, _FAST_COLS = 999_999, 26
_CELL_REFS = re.compile(
    rb"""<(?:[\w.-]+:)?c\b[^<>]*?\br\s*=\s*["']([A-Za-z]*)([0-9]*)([^"']*)["']"""
)
_ANY_R = re.compile(rb"""\br\s*=\s*["']([^"']*)["']""")
_ROW_OR_CELL = re.compile(rb"<(?:[\w.-]+:)?(row|c)\b([^<>]*)>")
_STRING_CELL = re.compile(
    rb"""<(?:[\w.-]+:)?c\b([^<>]*\bt\s*=\s*["']s["'][^<>]*)>\s*<(?:[\w.-]+:)?v>([^<]*)</"""
)
_MAX_INDEX = 2**64  # python-calamine reads a larger shared-string index as 0
_SUSPECT_STRING = re.compile(rb't="s"(?!><v>[0-9]{1,19}</v>)')


def _extent(buf: bytes, t: bytes | None, scan: SheetScan) -> None:
    """Bound the cells of one chunk (``t``: translated, None when the chunk has single
    quotes): four byte searches, or the references of all its cells."""
    if t is not None and b'0000000"' not in t:
        tags = t.count(b"<c ")
        if tags == t.count(b'<c r="A0'):
            scan.bounded = True
            return
    else:
        tags = len(_CELL_START.findall(buf))
    refs = _CELL_REFS.findall(buf)
    if len(refs) < tags:
        scan.unplaced = True
    if not refs:
        return
    letters, digits, rest = zip(*refs, strict=True)
    columns, rows = set(letters), set(digits)
    bad = [
        (lt + d + x).decode("ascii", "replace")[:20]
        for lt, d, x in refs
        if x or not lt or not d or len(lt) > 3 or not d.strip(b"0")
    ] if any(rest) or b"" in columns or b"" in rows or max(map(len, columns)) > 3 or (
        min(map(int, rows)) < 1
    ) else []  # fmt: skip
    if bad:
        scan.bad_refs += bad[:5]
        return
    last = max(columns, key=lambda c: (len(c), c.upper()))
    scan.see((int(digits[letters.index(last)]), _column_number(last)))
    deepest = max(rows, key=int)
    scan.see((int(deepest), _column_number(letters[digits.index(deepest)])))


def _column_number(letters: bytes) -> int:
    col = 0
    for ch in letters.upper():
        col = col * 26 + ch - 64
    return col


def _strings(buf: bytes, scan: SheetScan) -> None:
    """Shared-string cells (t="s") whose value is not an index. One regex search finds a
    ``t="s"`` not followed by ``><v>`` and 1 to 19 digits (an index python-calamine reads as
    such); only then is each string cell of the chunk looked at (another attribute order, a
    prefix or single quotes land there too, and are fine)."""
    if b"'" in buf:
        if b"'s'" not in buf and b'"s"' not in buf:
            return
    elif b't="s"' not in buf or not _SUSPECT_STRING.search(buf):
        return
    for m in _STRING_CELL.finditer(buf):
        value = m.group(2)
        if value.isdigit() and (len(value) < 20 or int(value) < _MAX_INDEX):
            continue  # an empty <v></v> is no index either: calamine reads it as blank
        r = _R_ATTR.search(m.group(1))
        rc = parse_cell_ref(r.group(1).decode()) if r else None
        scan.bad_strings[rc] = value.decode("utf-8", "replace")[:40]


def _place_cells(zf: zipfile.ZipFile, part: str, scan: SheetScan) -> None:
    """The exact extent, placing cells without an ``r`` as Excel readers do: after the cell
    before them in the row, on the row after the one before when the row has no ``r``."""
    scan.last_row = scan.last_col = (0, 0)
    scan.bounded = scan.unplaced = False
    row = col = 0
    for buf in _chunks(zf, part):
        for m in _ROW_OR_CELL.finditer(buf):
            r = _ANY_R.search(m.group(2))
            text = r.group(1).decode("ascii", "replace") if r else ""
            if m.group(1) == b"row":
                row = int(text) if text.isdigit() else row + 1
                col = 0
                continue
            rc = parse_cell_ref(text) if r else (row, col + 1)
            if rc is None or rc[0] < 1 or rc[1] < 1:
                continue  # listed in bad_refs already
            row, col = rc
            scan.see(rc)


def scan_sheet(zf: zipfile.ZipFile, part: str) -> SheetScan:
    """Error cells (``t="e"``), formula cells without a saved value, how far the cells reach
    and damaged shared-string indexes of one worksheet part.

    Run before calamine reads the sheet (calamine builds the whole rectangle from A1 to the
    farthest cell). A streaming byte-level scan (1 MiB chunks), never a full XML parse: a
    chunk costs a translate and a few byte searches; it is only searched with regexes when
    they find a quoted ``e``, a formula element, a reference beyond A1:Z999999, a cell
    without ``r`` or a string cell that is not ``t="s"><v>digits</v>``.
    """
    scan = SheetScan()
    patterns: tuple[re.Pattern[bytes], ...] = ()
    formula = b"<f"
    for buf in _chunks(zf, part):
        if not patterns:
            m = _SHEETDATA.search(buf)
            prefix = (m.group(1) or b"") if m else b""
            patterns = _no_value_patterns(prefix)
            formula = b"<" + prefix + b"f"
        t = None if b"'" in buf else buf.translate(_EXTENT_TABLE)
        _extent(buf, t, scan)
        _strings(buf, scan)
        # ("'" in buf is a memchr: far quicker than looking for 'e' in every chunk.)
        if b'"e"' in buf or (b"'" in buf and b"'e'" in buf):
            for m in _ERROR_ATTR.finditer(buf):
                rc = _cell_at(buf, m.start())
                if rc is None:
                    scan.complete = False
                    continue
                end = buf.find(b"c>", m.end())
                v = _V_TEXT.search(buf, m.end(), end if end > 0 else len(buf))
                scan.errors[rc] = v.group(1).decode("utf-8", "replace").strip() if v else "#ERROR"
        if b"f" not in buf or formula not in buf:
            continue  # no formula in the chunk (a memchr, then a byte search): nothing uncached
        for pattern in patterns:
            for m in pattern.finditer(buf):
                rc = _cell_at(buf, m.start())
                if rc is None:
                    scan.complete = False
                else:
                    scan.uncached.add(rc)
    if scan.unplaced or (scan.bounded and _area(scan) > MAX_SHEET_CELLS):
        _place_cells(zf, part, scan)
    return scan


def _area(scan: SheetScan) -> int:
    """rows x columns from A1 to the farthest cell (an upper bound while ``bounded``)."""
    rows = max(scan.last_row[0], _FAST_ROWS if scan.bounded else 0)
    cols = max(scan.last_col[1], _FAST_COLS if scan.bounded else 0)
    return rows * cols


def scan_sheet_xml(
    zf: zipfile.ZipFile, part: str
) -> tuple[dict[tuple[int, int], str], frozenset[tuple[int, int]], bool]:
    """(errors, uncached, complete) of :func:`scan_sheet`: error cells (``t="e"``) and formula
    cells without a saved value; ``complete`` is False when such a cell had no ``r``
    attribute, so its place is unknown."""
    scan = scan_sheet(zf, part)
    return scan.errors, frozenset(scan.uncached), scan.complete


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


def every_sheet(name: str) -> bool:
    """For ``read_workbook(..., wanted=every_sheet)``: read all worksheets."""
    return True


def read_workbook(
    path: str | Path,
    progress: Callable[[str, float], None] | None = None,
    wanted: Callable[[str], bool] = is_input_sheet,
) -> tuple[dict[str, SheetRows], list[Finding]]:
    """The worksheets of an .xlsx/.xlsm file as :class:`SheetRows`, plus findings.

    Only the sheets ``wanted`` says yes to (by default the contract's input sheets) are read;
    every other worksheet comes back by name with no rows, so that a stray cell on a sheet the
    run does not use costs nothing. ``progress(step, fraction)`` is told before each sheet is
    read (fraction 0..1 of the reading). Chart sheets are skipped. Sheets are keyed by their
    name as spelled in the workbook, in workbook order. A damaged file or sheet comes back as
    ERROR findings (file-level ones with sheet "", damaged cells located); when one is
    returned the dict may be empty or lack sheets. The function never raises for a bad file.
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
            findings = _check_shared_strings(zf, path.name)
            if findings:
                return {}, findings
            parts = _sheet_parts(zf)
            present = {n: p for n, p in parts.items() if wanted(n) and p in zf.NameToInfo}
            tables = {name: _table(zf, part) for name, part in present.items()}
            sizes = {name: zf.NameToInfo[part].file_size for name, part in present.items()}
    except _ZIP_ERRORS as exc:
        return {}, [_damaged(path, exc)]
    # Small sheets first: while calamine reads them, the scan (which must see a sheet before
    # calamine reads it: a stray far cell would make calamine build a rectangle of gigabytes)
    # gets ahead on the big ones. Its inflating runs without the GIL.
    order = sorted(present, key=sizes.__getitem__)
    ahead = _ScanAhead(path, [(name, present[name]) for name in order])
    try:
        return _read_sheets(path, present, order, ahead, tables, progress, wanted)
    finally:
        ahead.stop()


_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    ValueError,
    zlib.error,
    NotImplementedError,
    RuntimeError,
)


def _damaged(path: Path, exc: BaseException) -> Finding:
    return _file_error(
        "corrupt workbook",
        f"{path.name} is damaged and cannot be read ({exc}); open it in Excel, "
        "let Excel repair it, save, and run again",
    )


_REPAIR = "open it in Excel, let Excel repair it, save it again as .xlsx, and run again"


def _damaged_cell(sheet: str, cell: str, what: str) -> Finding:
    return Finding(
        Severity.ERROR, "corrupt workbook", f"the file is damaged ({what}); {_REPAIR}", sheet, cell
    )


SheetValues = tuple[list[list[object]], tuple[str, ...]]


def _read_sheets(
    path: Path,
    parts: dict[str, str],
    order: list[str],
    ahead: _ScanAhead,
    tables: dict[str, _TableInfo | str | None],
    progress: Callable[[str, float], None] | None,
    wanted: Callable[[str], bool],
) -> tuple[dict[str, SheetRows], list[Finding]]:
    """calamine's values of the sheets in ``order``, each after its scan has checked it;
    ``parts`` are the wanted worksheets whose part is in the file."""
    from python_calamine import SheetTypeEnum

    wb = _open_values(path)
    if isinstance(wb, Finding):
        return {}, [wb]
    findings: list[Finding] = []
    read: dict[str, tuple[SheetValues, SheetScan]] = {}
    with wb, _no_cyclic_gc():
        names = [m.name for m in wb.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
        findings += [
            _damaged_cell(name, "", "the sheet's data is missing")
            for name in names
            if wanted(name) and name not in parts
        ]
        for k, name in enumerate(order):
            if progress is not None:
                progress(f"Reading sheet {name}", k / max(len(order), 1))
            try:
                scan = ahead.result(name)
            except _ZIP_ERRORS as exc:
                return {}, [_damaged(path, exc)]
            problems = _extent_problems(name, scan) + _table_problems(name, tables.get(name))
            got = problems or _sheet_values(wb, path, name, parts[name])
            if isinstance(got, list):
                findings += got
            else:
                read[name] = (got, scan)
    sheets: dict[str, SheetRows] = {}
    for name in names:
        if name in read:
            one = _sheet_rows(name, *read[name], tables.get(name))
            if isinstance(one, SheetRows):
                sheets[name] = one
            findings += one.findings if isinstance(one, _Refused) else _incomplete(name, read)
        elif not wanted(name):
            sheets[name] = SheetRows(name=name, rows=[])
    return sheets, findings


def _open_values(path: Path) -> Any:
    """calamine's workbook of ``path``, or the finding that says it cannot be read."""
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_path(str(path), load_tables=False)
    except _CALAMINE_ERRORS as exc:  # calamine raises its own error types for damaged files
        if isinstance(exc, _FATAL):
            raise
        return _file_error(
            "corrupt workbook",
            f"{path.name} cannot be read ({type(exc).__name__}: {exc}); {_REPAIR}",
        )


@dataclass(frozen=True)
class _Refused:
    findings: list[Finding]


def _sheet_rows(
    name: str, values: SheetValues, scan: SheetScan, table: _TableInfo | str | None
) -> SheetRows | _Refused:
    """One sheet's rows with what its scan found, or the damage that makes its rows wrong."""
    rows, merged = values
    damaged = _string_problems(name, scan)
    if damaged:  # calamine read those cells as another string: the rows are wrong
        return _Refused(damaged)
    info = table if isinstance(table, _TableInfo) else None
    return SheetRows(
        name=name,
        rows=rows,
        error_cells=scan.errors,
        uncached_formulas=frozenset(scan.uncached),
        table_ref=info.ref if info else None,
        merged=merged,
        table_name=info.name if info else None,
        table_totals=info.totals if info else 0,
    )


def _incomplete(name: str, read: dict[str, tuple[SheetValues, SheetScan]]) -> list[Finding]:
    """The warning for a sheet whose cells the scan could not all place."""
    return [] if read[name][1].complete else [_unlocated(name)]


def _unlocated(name: str) -> Finding:
    return Finding(
        Severity.WARNING,
        "unlocated cells",
        "some error or formula cells have no cell address in the file; "
        "save the workbook in Excel and run again to have them located",
        sheet=name,
    )


def _table_problems(name: str, table: _TableInfo | str | None) -> list[Finding]:
    if isinstance(table, str):
        return [_damaged_cell(name, "", table)]
    return []


def _string_problems(name: str, scan: SheetScan) -> list[Finding]:
    """Shared-string cells whose index is not a number (calamine reads them as string 0)."""
    out: list[Finding] = []
    for rc, value in list(scan.bad_strings.items())[:MAX_DAMAGED_CELLS_LISTED]:
        where = cell_ref(*rc) if rc else ""
        out.append(_damaged_cell(name, where, f'shared string index "{value}"'))
    if len(scan.bad_strings) > MAX_DAMAGED_CELLS_LISTED:
        more = len(scan.bad_strings) - MAX_DAMAGED_CELLS_LISTED
        out.append(_damaged_cell(name, "", f"{more:,} more damaged shared string indexes"))
    return out


def _extent_problems(name: str, scan: SheetScan) -> list[Finding]:
    """References that are not cells or beyond Excel's grid, and a used area too large to
    read."""
    out: list[Finding] = []
    if scan.bad_refs:
        out.append(_damaged_cell(name, "", f'a cell reference "{scan.bad_refs[0]}" is not a cell'))
    (row, rc), (col, cc) = (scan.last_row[0], scan.last_row), (scan.last_col[1], scan.last_col)
    if row > EXCEL_ROWS:
        out.append(
            _damaged_cell(name, cell_ref(*rc), f"a cell on row {row:,}, below Excel's last row "
                          f"{EXCEL_ROWS:,}")
        )  # fmt: skip
    if col > EXCEL_COLUMNS:
        out.append(
            _damaged_cell(name, cell_ref(*cc), f"a cell in column {col:,}, right of Excel's "
                          f"last column XFD ({EXCEL_COLUMNS:,})")
        )  # fmt: skip
    if out:
        return out
    if _area(scan) > MAX_SHEET_CELLS:
        # the corner cell when one cell is both lowest and rightmost, else the wider reach
        far = rc if rc[1] == col else cc if cc[0] == row or col > _FAST_COLS else rc
        out.append(
            Finding(
                Severity.ERROR,
                "sheet too large",
                f"a cell far from the data is filled ({cell_ref(*far)}): the sheet's used "
                f"area runs to row {row:,} and column {column_letters(col)}, "
                f"{row:,} x {col:,} cells, too many to read; clear the cells out there (Ctrl+End "
                "goes to the last one), delete the empty rows and columns between them and the "
                "data, save, and run again",
                name,
                cell_ref(*far),
            )
        )
    return out


# A Rust panic inside python-calamine surfaces as pyo3's PanicException, a BaseException.
_CALAMINE_ERRORS = (BaseException,)
_FATAL = (KeyboardInterrupt, SystemExit, GeneratorExit)


# The error values python-calamine reads (as a blank); any other makes it refuse the sheet.
_CALAMINE_CELL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!",
                                   "#N/A"})  # fmt: skip


def _sheet_values(wb: Any, path: Path, name: str, part: str) -> SheetValues | list[Finding]:
    """The sheet's rows through calamine (blanks as None) and its merged ranges."""
    try:
        try:
            sheet = wb.get_sheet_by_name(name)
        except _CALAMINE_ERRORS as exc:
            if "error value" not in str(exc):
                raise
            # A newer error value (#SPILL!, #CALC!, ...) that calamine does not know: the scan
            # has it with its cell; calamine reads a copy where such values are #N/A.
            sheet = _with_known_errors(path, part).get_sheet_by_name(name)
        rows = _blank_to_none(sheet.to_python(skip_empty_area=False))
        return rows, _merged_refs(sheet.merged_cell_ranges)
    except _CALAMINE_ERRORS as exc:
        if isinstance(exc, _FATAL):
            raise
        return _unreadable(path, name, part, exc)


_ERROR_VALUE = re.compile(
    rb"""(<(?:[\w.-]+:)?c\b[^<>/]*\bt\s*=\s*["']e["'][^<>/]*>"""
    rb"""\s*(?:<(?:[\w.-]+:)?f\b[^<>]*(?:/>|>[^<]*</(?:[\w.-]+:)?f>)\s*)?<(?:[\w.-]+:)?v>)"""
    rb"""([^<]*)(<)"""
)


def _known_error(m: re.Match[bytes]) -> bytes:
    if m.group(2).decode("utf-8", "replace").strip() in _CALAMINE_CELL_ERRORS:
        return m.group(0)
    return m.group(1) + b"#N/A" + m.group(3)


def _with_known_errors(path: Path, part: str) -> Any:
    """A calamine workbook over an in-memory copy of the file in which the sheet ``part``
    has every error value calamine does not know written as #N/A (other sheets left out)."""
    from python_calamine import CalamineWorkbook

    buf = io.BytesIO()
    with (
        zipfile.ZipFile(path) as src,
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst,
    ):
        sheets = set(_sheet_parts(src).values())
        for info in src.infolist():
            if info.filename in sheets and info.filename != part:
                continue
            data = src.read(info)
            if info.filename == part:
                data = _ERROR_VALUE.sub(_known_error, data)
            dst.writestr(info.filename, data)
    buf.seek(0)
    return CalamineWorkbook.from_filelike(buf, load_tables=False)


def _unreadable(path: Path, name: str, part: str, exc: BaseException) -> list[Finding]:
    """Why calamine refused a sheet, located where the scan can tell."""
    text = str(exc)
    if "string index" in text.lower():
        located = _strings_beyond(path, name, part)
        if located:
            return located
    bad_refs = _bad_refs(path, part)
    if bad_refs:
        return [_damaged_cell(name, "", f'a cell reference "{bad_refs[0]}" is not a cell')]
    return [
        Finding(
            Severity.ERROR,
            "unreadable sheet",
            f"sheet cannot be read ({type(exc).__name__}: {text[:200]}); the file is damaged; "
            f"{_REPAIR}",
            sheet=name,
        )
    ]


def _bad_refs(path: Path, part: str) -> list[str]:
    """Cell references of the part that are not cells, each cell looked at."""
    scan = SheetScan()
    try:
        with zipfile.ZipFile(path) as zf:
            for buf in _chunks(zf, part):
                _extent(buf, None, scan)
    except _ZIP_ERRORS:
        return []
    return scan.bad_refs


_SI = re.compile(rb"<(?:[\w.-]+:)?si\b")


def _strings_beyond(path: Path, name: str, part: str) -> list[Finding]:
    """String cells whose index is past the end of the shared strings (calamine refuses)."""
    try:
        with zipfile.ZipFile(path) as zf:
            sst = _shared_strings_part(zf)
            n = sum(len(_SI.findall(buf)) for buf in _chunks(zf, sst)) if sst else 0
            out: list[Finding] = []
            for buf in _chunks(zf, part):
                for m in _STRING_CELL.finditer(buf):
                    value = m.group(2)
                    if value.isdigit() and int(value) >= n:
                        r = _R_ATTR.search(m.group(1))
                        where = (
                            cell_ref(*rc)
                            if r and (rc := parse_cell_ref(r.group(1).decode()))
                            else ""
                        )
                        what = f"shared string index {int(value):,}; the file has {n:,} strings"
                        out.append(_damaged_cell(name, where, what))
                        if len(out) >= MAX_DAMAGED_CELLS_LISTED:
                            return out
            return out
    except _ZIP_ERRORS:
        return []


class _ScanAhead:
    """:func:`scan_sheet` of each part in turn in a daemon thread, ahead of calamine (which
    waits for a sheet's scan before reading it); its inflating runs without the GIL, and so
    does calamine's parse. Where threads cannot start (Pyodide in xlwings Lite) each scan runs
    when its result is asked for."""

    def __init__(self, path: Path, parts: list[tuple[str, str]]) -> None:
        self._path = path
        self._parts = dict(parts)
        self._done: dict[str, tuple[SheetScan | None, BaseException | None]] = {}
        self._ready = {name: threading.Event() for name, _ in parts}
        self._stopped = False
        self._thread: threading.Thread | None = threading.Thread(
            target=self._run, args=(parts,), daemon=True
        )
        try:
            self._thread.start()
        except RuntimeError:
            self._thread = None

    def _run(self, parts: list[tuple[str, str]]) -> None:
        try:
            zf = zipfile.ZipFile(self._path)
        except BaseException as exc:  # handed to the caller by result()
            for name, _ in parts:
                self._done[name] = (None, exc)
                self._ready[name].set()
            return
        with zf:
            for name, part in parts:
                if self._stopped:
                    return
                try:
                    self._done[name] = (scan_sheet(zf, part), None)
                except BaseException as exc:
                    self._done[name] = (None, exc)
                self._ready[name].set()

    def result(self, name: str) -> SheetScan:
        if self._thread is None:
            with zipfile.ZipFile(self._path) as zf:
                return scan_sheet(zf, self._parts[name])
        self._ready[name].wait()
        scan, error = self._done[name]
        if error is not None:
            raise error
        assert scan is not None
        return scan

    def stop(self) -> None:
        """Let the thread end after its current sheet (when the reading stopped early)."""
        self._stopped = True


__all__ = [
    "SheetRows",
    "SheetScan",
    "every_sheet",
    "read_workbook",
    "scan_sheet",
    "scan_sheet_xml",
    "cell_ref",
    "column_letters",
    "parse_cell_ref",
    "parse_range_ref",
]
