"""Damaged workbooks for the reader tests: a part rewritten, zip headers patched, and the CLI
run in a child process whose memory is capped (a regression then fails the test instead of
exhausting the machine)."""

from __future__ import annotations

import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

from tests.workbooks import tidy

MEMORY_CAP = 3 * 1024**3  # address space of the child process


def sheet_part(path: Path, sheet: str) -> str:
    """The worksheet part of ``sheet`` in a workbook written by :func:`tests.workbooks.save`."""
    import openpyxl

    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    return f"xl/worksheets/sheet{names.index(sheet) + 1}.xml"


def rewrite(
    path: Path, part: str, change: Callable[[bytes], bytes], out: Path | None = None
) -> Path:
    """Copy ``path`` (to ``out``, or in place) with ``part`` replaced by ``change(part)``;
    a part that is not there is added with ``change(b"")``."""
    out = out or path
    with zipfile.ZipFile(path) as zin:
        entries = [(i.filename, zin.read(i)) for i in zin.infolist()]
    names = [n for n, _ in entries]
    if part not in names:
        entries.append((part, b""))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in entries:
            zout.writestr(name, change(data) if name == part else data)
    return out


def tidy_book(folder: Path, name: str = "book.xlsx", sheets: dict | None = None) -> Path:
    """The tidy workbook written by xlsxwriter, as Excel writes it: text in shared strings."""
    import xlsxwriter

    path = folder / name
    wb = xlsxwriter.Workbook(str(path), {"default_date_format": "yyyy-mm-dd"})
    for sheet, rows in (sheets or tidy()).items():
        ws = wb.add_worksheet(sheet)
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if v is not None:
                    ws.write(i, j, v)
    wb.close()
    return path


def string_cell(path: Path, part: str, text: str) -> str:
    """The reference of the first cell of ``part`` holding the shared string ``text``."""
    import re

    with zipfile.ZipFile(path) as zf:
        strings = re.findall(rb"<si><t[^>]*>([^<]*)</t></si>", zf.read("xl/sharedStrings.xml"))
        index = strings.index(text.encode())
        m = re.search(rb'<c r="([A-Z]+[0-9]+)"[^>]*t="s"[^>]*><v>%d</v>' % index, zf.read(part))
    assert m, (part, text)
    return m.group(1).decode()


def patch_zip_headers(
    path: Path, part: str, method: int | None = None, flags: int | None = None
) -> None:
    """Set the compression method and/or general-purpose flags of ``part`` in both its local
    header and its central directory entry (the data itself is left as it is)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(part)
    local = info.header_offset
    assert data[local : local + 4] == b"PK\x03\x04"
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        n = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46 : central + 46 + n].decode() == part:
            break
        central = data.find(b"PK\x01\x02", central + 4)
    assert central >= 0
    if flags is not None:
        struct.pack_into("<H", data, local + 6, flags)
        struct.pack_into("<H", data, central + 8, flags)
    if method is not None:
        struct.pack_into("<H", data, local + 8, method)
        struct.pack_into("<H", data, central + 10, method)
    path.write_bytes(bytes(data))


CLI_CAPPED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))
from addin.cli import main
sys.exit(main(sys.argv[1:]))
"""


def run_capped(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``backflush ARGS`` in a child process with its memory capped at MEMORY_CAP."""
    code = CLI_CAPPED.format(cap=MEMORY_CAP)
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=Path(__file__).resolve().parent.parent,
    )
