"""Check result workbooks with a real spreadsheet application (headless LibreOffice Calc).

Test helper, not part of the add-in. Typical use in a test::

    from spreadsheet_app import error_cells, read_values, recalculate, require_soffice

    def test_book(tmp_path):
        require_soffice()
        out = recalculate(book_path, tmp_path)
        values = read_values(out)
        assert error_cells(values) == []

Why the private profile matters: LibreOffice (7.4 at least) does NOT recalculate formulas when it
loads an .xlsx by default (Tools > Options > Calc > Formula > "Recalculation on file load",
Excel 2007 and newer = "Never recalculate"). It ignores the ``<calcPr fullCalcOnLoad="1"/>`` that
xlsxwriter writes and keeps xlsxwriter's cached ``<v>0</v>`` for every formula. Every call here
therefore starts LibreOffice with a throw-away profile whose ``registrymodifications.xcu`` sets
``/org.openoffice.Office.Calc/Formula/Load/OOXMLRecalcMode`` (and ``ODFRecalcMode``) to 0 =
"Always recalculate". The private profile also lets parallel test workers and root run soffice.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import unescape

import pytest

from addin.workbook.contract import EXCEL_ERRORS

INSTALL_HINT = (
    "LibreOffice Calc (soffice) is needed to recalculate and render result workbooks: "
    "`sudo apt-get install libreoffice-calc-nogui poppler-utils` "
    "(or run `make test` as root on Debian/Ubuntu, which installs it via "
    "scripts/ensure-libreoffice.sh)."
)
PDFTOPPM_HINT = (
    "pdftoppm (poppler) is needed to render workbook PDFs to PNG: "
    "`sudo apt-get install poppler-utils` (or run `make test` as root)."
)

#: Seconds one soffice run may take before it is killed.
DEFAULT_TIMEOUT = 120.0

_LO_ERROR = re.compile(r"^Err:\d{3}$")

# 0 = always recalculate, 1 = never (LibreOffice's default), 2 = ask.
_RECALC_ALWAYS_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" \
xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" \
oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" \
oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


class SpreadsheetAppError(RuntimeError):
    """LibreOffice failed to convert/recalculate a workbook."""


# --------------------------------------------------------------------------- discovery / skipping


def soffice_path() -> str | None:
    """Path of the LibreOffice executable, or None. ``$SOFFICE`` overrides the PATH lookup."""
    env = os.environ.get("SOFFICE")
    if env and Path(env).is_file():
        return env
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    mac = Path("/Applications/LibreOffice.app/Contents/MacOS/soffice")
    return str(mac) if mac.is_file() else None


def soffice_version() -> str:
    """E.g. ``"LibreOffice 7.4.7.2 40(Build:2)"``; empty string if soffice is missing."""
    exe = soffice_path()
    if exe is None:
        return ""
    res = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    return res.stdout.strip()


def pdftoppm_path() -> str | None:
    return shutil.which("pdftoppm")


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _require(path: str | None, hint: str) -> str:
    if path:
        return path
    if _on_ci():
        pytest.fail(f"CI=true but the tool is missing. {hint}", pytrace=False)
    pytest.skip(hint)


def require_soffice() -> str:
    """Return the soffice path; skip the test if missing (FAIL instead when CI=true)."""
    return _require(soffice_path(), INSTALL_HINT)


def require_pdftoppm() -> str:
    """Return the pdftoppm path; skip the test if missing (FAIL instead when CI=true)."""
    return _require(pdftoppm_path(), PDFTOPPM_HINT)


@pytest.fixture
def soffice() -> str:
    """Fixture form of :func:`require_soffice` (import it into a test module or conftest)."""
    return require_soffice()


# --------------------------------------------------------------------------- running LibreOffice


def _run_soffice(args: list[str], out_dir: Path, expected: Path, timeout: float) -> Path:
    exe = soffice_path()
    if exe is None:
        raise SpreadsheetAppError(INSTALL_HINT)
    out_dir.mkdir(parents=True, exist_ok=True)
    if expected.exists():
        expected.unlink()
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_RECALC_ALWAYS_XCU, encoding="utf-8")
        cmd = [
            exe,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--invisible",
            "--norestore",
            "--nolockcheck",
            "--nodefault",
            *args,
            "--outdir",
            str(out_dir),
        ]
        env = dict(os.environ)
        env.setdefault("HOME", profile)  # soffice wants a HOME even with a private profile
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,  # own process group: a timeout kills oosplash + soffice.bin
        )
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            raise SpreadsheetAppError(
                f"LibreOffice timed out after {timeout:.0f}s: {' '.join(cmd)}\n"
                f"stdout:\n{stdout}\nstderr:\n{stderr}"
            ) from None
    # soffice often exits 0 even when it could not load the file ("Error: source file could
    # not be loaded"), so the output file is the real success criterion.
    if proc.returncode != 0 or not expected.is_file():
        raise SpreadsheetAppError(
            f"LibreOffice conversion failed (exit {proc.returncode}, expected {expected}):\n"
            f"command: {' '.join(cmd)}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        )
    return expected


def recalculate(xlsx: Path, out_dir: Path, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Open ``xlsx`` in headless LibreOffice, recalculate every formula, save as xlsx in
    ``out_dir`` (same file name) and return that path. Read the results with :func:`read_values`.
    """
    xlsx = Path(xlsx).resolve()
    out_dir = Path(out_dir).resolve()
    if not xlsx.is_file():
        raise FileNotFoundError(xlsx)
    if out_dir == xlsx.parent:
        raise ValueError(f"out_dir must differ from the source folder (would overwrite {xlsx})")
    return _run_soffice(
        ["--calc", "--convert-to", "xlsx:Calc MS Excel 2007 XML", str(xlsx)],
        out_dir,
        out_dir / xlsx.name,
        timeout,
    )


def _only_sheet_copy(xlsx: Path, sheet: str, dest: Path) -> Path:
    """Copy of ``xlsx`` in which every sheet but ``sheet`` is hidden (so the PDF shows only it).
    Edits xl/workbook.xml only; every other part is copied byte for byte."""
    with zipfile.ZipFile(xlsx) as zin:
        wb_xml = zin.read("xl/workbook.xml").decode("utf-8")
        tags = re.findall(r"<sheet\b[^>]*?/>", wb_xml)
        names = []
        for tag in tags:
            m = re.search(r'\bname="([^"]*)"', tag)
            names.append(unescape(m.group(1), {"&quot;": '"', "&apos;": "'"}) if m else "")
        if sheet not in names:
            raise KeyError(f"sheet {sheet!r} not in {xlsx.name}: {names}")
        index = names.index(sheet)
        for i, tag in enumerate(tags):
            new = re.sub(r'\sstate="[^"]*"', "", tag)
            if i != index:
                new = new.replace("<sheet ", '<sheet state="hidden" ', 1)
            wb_xml = wb_xml.replace(tag, new, 1)

        def _view(m: re.Match[str]) -> str:
            tag = re.sub(r'\s(?:activeTab|firstSheet)="\d+"', "", m.group(0))
            return tag.replace("<workbookView", f'<workbookView activeTab="{index}"', 1)

        wb_xml = re.sub(r"<workbookView\b[^>]*>", _view, wb_xml, count=1)
        with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
            for item in zin.infolist():
                if item.filename == "xl/workbook.xml":
                    zout.writestr(item, wb_xml.encode("utf-8"))
                else:
                    zout.writestr(item, zin.read(item.filename))
    return dest


def render_pdf(
    xlsx: Path, out_dir: Path, sheet: str | None = None, timeout: float = DEFAULT_TIMEOUT
) -> Path:
    """Print ``xlsx`` (recalculated) to PDF in ``out_dir`` as LibreOffice would; with ``sheet``
    only that worksheet is printed. Returns the PDF path (``<stem>.pdf`` or ``<stem>-<sheet>.pdf``).
    """
    xlsx = Path(xlsx).resolve()
    out_dir = Path(out_dir).resolve()
    with tempfile.TemporaryDirectory(prefix="lo-pdf-") as tmp:
        src = xlsx
        if sheet is not None:
            safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", sheet)
            src = _only_sheet_copy(xlsx, sheet, Path(tmp) / f"{xlsx.stem}-{safe}.xlsx")
        return _run_soffice(
            ["--convert-to", "pdf:calc_pdf_Export", str(src)],
            out_dir,
            out_dir / f"{src.stem}.pdf",
            timeout,
        )


def pdf_to_png(pdf: Path, out_dir: Path, dpi: int = 80, timeout: float = 60.0) -> list[Path]:
    """Render every page of ``pdf`` to ``out_dir/<stem>-<n>.png`` with pdftoppm; return the
    pages in order."""
    exe = pdftoppm_path()
    if exe is None:
        raise SpreadsheetAppError(PDFTOPPM_HINT)
    pdf = Path(pdf)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob(f"{pdf.stem}-*.png"):
        old.unlink()
    res = subprocess.run(
        [exe, "-png", "-r", str(dpi), str(pdf), str(out_dir / pdf.stem)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    pages = sorted(
        out_dir.glob(f"{pdf.stem}-*.png"),
        key=lambda p: int(p.stem.rsplit("-", 1)[1]) if p.stem.rsplit("-", 1)[1].isdigit() else 0,
    )
    if res.returncode != 0 or not pages:
        raise SpreadsheetAppError(
            f"pdftoppm failed (exit {res.returncode}) on {pdf}:\n{res.stdout}\n{res.stderr}"
        )
    return pages


# --------------------------------------------------------------------------- reading results


def read_values(xlsx: Path) -> dict[str, dict[str, Any]]:
    """``{sheet: {"A1": value}}`` of the cached values (non-empty cells only). After
    :func:`recalculate` these are LibreOffice's computed results; errors come back as strings
    such as ``"#DIV/0!"``."""
    import openpyxl

    wb = openpyxl.load_workbook(xlsx, data_only=True)
    try:
        return {
            ws.title: {
                c.coordinate: c.value for row in ws.iter_rows() for c in row if c.value is not None
            }
            for ws in wb.worksheets
        }
    finally:
        wb.close()


def formula_cells(xlsx: Path) -> dict[str, dict[str, str]]:
    """``{sheet: {"A1": "=SUM(...)"}}`` for every formula cell (array formulas included)."""
    import openpyxl
    from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

    wb = openpyxl.load_workbook(xlsx, data_only=False)
    try:
        out: dict[str, dict[str, str]] = {}
        for ws in wb.worksheets:
            cells: dict[str, str] = {}
            for row in ws.iter_rows():
                for c in row:
                    v = c.value
                    if isinstance(v, ArrayFormula):
                        cells[c.coordinate] = str(v.text)
                    elif isinstance(v, DataTableFormula):
                        cells[c.coordinate] = f"=TABLE({v.r1},{v.r2})"
                    elif c.data_type == "f" or (isinstance(v, str) and v.startswith("=")):
                        cells[c.coordinate] = str(v)
            out[ws.title] = cells
        return out
    finally:
        wb.close()


def is_error_value(value: Any) -> bool:
    return isinstance(value, str) and (value in EXCEL_ERRORS or bool(_LO_ERROR.match(value)))


def error_cells(values: dict[str, dict[str, Any]]) -> list[str]:
    """``["Sheet!A1", ...]`` for every cell of :func:`read_values` output holding an Excel error
    value (#DIV/0!, #NAME?, #VALUE!, #REF!, #N/A, ...) or a LibreOffice ``Err:5xx``."""
    return [
        f"{sheet}!{coord}"
        for sheet, cells in values.items()
        for coord, value in cells.items()
        if is_error_value(value)
    ]
