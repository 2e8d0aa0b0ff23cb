"""Build ``backflush.xlam`` from xlwings' ribbon add-in template.

    python -m addin.excel.build_addin [OUT_DIR]      (default: workbook_templates)

Steps: run ``xlwings quickstart backflush --addin --ribbon`` in a temporary directory,
then change four things in the .xlam it writes and nothing else:

* ``customUI/customUI.xml``: the Backflush tab from ``addin.excel.ribbon.ribbon_xml()``;
* ``xl/vbaProject.bin``: project ``MyAddin`` -> ``Backflush``, module ``RibbonMyAddin`` ->
  ``BackflushRibbon`` holding the one ribbon callback and the ``BF_*`` worksheet-function
  wrappers (``addin.excel.vba_source``), xlwings' ``PROJECT_NAME`` -> ``backflush``; both
  changed modules are stored as source only (no stale compiled code: no "VBA Stomping");
* the config sheet: renamed from ``_myaddin.conf`` to ``backflush.conf`` (xlwings only
  reads a sheet named ``PROJECT_NAME & ".conf"``), holding ``UDF Modules`` only, so that
  the interpreter and PYTHONPATH fall through to the user's ``backflush.conf`` file;
* zip entries get a fixed timestamp, so the same template gives the same members.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from addin.excel.ribbon import STOCK_VBA_MODULE, VBA_MODULE, ribbon_xml
from addin.excel.udfs import UDFS
from addin.excel.vba import module_source, rewrite_project
from addin.excel.vba_source import ribbon_module_source

ADDIN_NAME = "backflush"
DEFAULT_OUT_DIR = Path("workbook_templates")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

STOCK_PROJECT_NAME = "myaddin"
"""``PROJECT_NAME`` in the template's xlwings VBA module; names the config sheet and files."""
PROJECT_NAME = ADDIN_NAME
"""Ours: the config sheet ``backflush.conf`` and the settings file ``backflush.conf``."""
VBA_PROJECT_NAME = "Backflush"
"""The VBA project's name (the template's is ``MyAddin``)."""
STOCK_CONF_SHEET = f"_{STOCK_PROJECT_NAME}.conf"
CONF_SHEET = f"{PROJECT_NAME}.conf"
XLWINGS_MODULE = "xlwings"

UDF_MODULES = "addin.excel.udfs"

CONFIG_ROWS: tuple[tuple[str, str], ...] = (("UDF Modules", UDF_MODULES),)
"""Key/value rows from A1 down. xlwings reads A1 to the first empty cell in column A; a key
present here with an empty value would hide the same key in the user's config file."""

CONFIG_NOTES: tuple[str, ...] = (
    "Backflush add-in settings. xlwings reads keys from column A and values from column B, "
    "from A1 down to the first empty row.",
    "Interpreter_Win, Interpreter_Mac, PYTHONPATH, Conda Path and Conda Env are left out on "
    "purpose so that each user's own settings apply (backflush excel install writes them).",
    f"Windows: %USERPROFILE%\\.{PROJECT_NAME}\\{PROJECT_NAME}.conf  -  macOS: "
    f"~/Library/Containers/com.microsoft.Excel/Data/{PROJECT_NAME}.conf",
    'One setting per line, e.g. "INTERPRETER_WIN","C:\\path\\to\\python.exe"  '
    "(see docs/excel-addin.md).",
)

STOCK_MODULE_MARKER = "Sub RunMain(control As IRibbonControl)"


class BuildError(RuntimeError):
    """The xlwings template does not look like the one this build was written for."""


def quickstart_template(work_dir: Path) -> bytes:
    """Run xlwings' quickstart in ``work_dir`` and return the .xlam it wrote."""
    subprocess.run(
        [sys.executable, "-m", "xlwings.cli", "quickstart", ADDIN_NAME, "--addin", "--ribbon"],
        cwd=work_dir,
        check=True,
        capture_output=True,
    )
    return (work_dir / ADDIN_NAME / f"{ADDIN_NAME}.xlam").read_bytes()


def _replace_once(text: str, old: str, new: str, part: str) -> str:
    if text.count(old) != 1:
        raise BuildError(f"{part}: expected exactly one {old!r} in the xlwings template")
    return text.replace(old, new)


def _between(text: str, start: str, end: str, part: str) -> tuple[int, int]:
    i = text.find(start)
    j = text.find(end, i)
    if i < 0 or j < 0:
        raise BuildError(f"{part}: no {start}...{end} in the xlwings template")
    return i, j + len(end)


def config_sheet_parts(stock_sheet: str) -> tuple[str, str]:
    """The config sheet's XML and the matching sharedStrings.xml."""
    strings: list[str] = []

    def cell(ref: str, text: str) -> str:
        strings.append(text)
        return f'<c r="{ref}" s="1" t="s"><v>{len(strings) - 1}</v></c>'

    n_rows = max(len(CONFIG_ROWS), len(CONFIG_NOTES))
    rows = []
    for r in range(n_rows):
        cells = []
        if r < len(CONFIG_ROWS):
            key, value = CONFIG_ROWS[r]
            cells += [cell(f"A{r + 1}", key), cell(f"B{r + 1}", value)]
        if r < len(CONFIG_NOTES):
            cells.append(cell(f"D{r + 1}", CONFIG_NOTES[r]))
        rows.append(f'<row r="{r + 1}" ht="15.75">{"".join(cells)}</row>')

    sheet = stock_sheet
    i, j = _between(sheet, "<sheetData>", "</sheetData>", "config sheet")
    sheet = sheet[:i] + "<sheetData>" + "".join(rows) + "</sheetData>" + sheet[j:]
    i, j = _between(sheet, "<cols>", "</cols>", "config sheet")
    cols = (
        '<cols><col min="1" max="1" width="16" style="1" customWidth="1" />'
        '<col min="2" max="2" width="20" style="1" customWidth="1" />'
        '<col min="3" max="3" width="4" style="1" customWidth="1" />'
        '<col min="4" max="16384" width="8.875" style="1" /></cols>'
    )
    sheet = sheet[:i] + cols + sheet[j:]
    i, j = _between(sheet, "<dimension ", "/>", "config sheet")
    sheet = sheet[:i] + f'<dimension ref="A1:D{n_rows}" />' + sheet[j:]

    items = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    shared = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        f' count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>'
    )
    return sheet, shared


def sheet_path(members: dict[str, bytes], sheet_name: str) -> str:
    """Zip path of the worksheet called ``sheet_name`` (via workbook.xml and its rels)."""
    ns = {
        "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        "p": "http://schemas.openxmlformats.org/package/2006/relationships",
    }
    wb = ET.fromstring(members["xl/workbook.xml"])
    rels = ET.fromstring(members["xl/_rels/workbook.xml.rels"])
    for sheet in wb.iterfind("m:sheets/m:sheet", ns):
        if sheet.get("name") == sheet_name:
            rid = sheet.get(f"{{{ns['r']}}}id")
            for rel in rels.iterfind("p:Relationship", ns):
                if rel.get("Id") == rid:
                    return "xl/" + rel.get("Target", "").lstrip("/").removeprefix("xl/")
    raise BuildError(f"no sheet {sheet_name!r} in the xlwings template")


def vba_project(stock: bytes) -> bytes:
    """The template's VBA project renamed to ours, with two modules rewritten: the ribbon
    module (callback and BF_* wrappers) and xlwings' (its PROJECT_NAME), both stored as
    source only, without the template's compiled code."""
    if STOCK_MODULE_MARKER not in module_source(stock, STOCK_VBA_MODULE):
        raise BuildError(f"VBA module {STOCK_VBA_MODULE} does not hold the template's RunMain")
    xlwings_source = _replace_once(
        module_source(stock, XLWINGS_MODULE),
        f'PROJECT_NAME As String = "{STOCK_PROJECT_NAME}"',
        f'PROJECT_NAME As String = "{PROJECT_NAME}"',
        "VBA module xlwings",
    )
    return rewrite_project(
        stock,
        VBA_PROJECT_NAME,
        {STOCK_VBA_MODULE: VBA_MODULE},
        {VBA_MODULE: ribbon_module_source(UDFS), XLWINGS_MODULE: xlwings_source},
    )


def build_members(template: bytes) -> list[tuple[str, bytes]]:
    """The add-in's zip members, in the template's order."""
    with zipfile.ZipFile(io.BytesIO(template)) as zf:
        order = [info.filename for info in zf.infolist()]
        members = {name: zf.read(name) for name in order}

    conf_path = sheet_path(members, STOCK_CONF_SHEET)
    members["customUI/customUI.xml"] = ribbon_xml().encode("utf-8")

    members["xl/vbaProject.bin"] = vba_project(members["xl/vbaProject.bin"])
    workbook = members["xl/workbook.xml"].decode("utf-8")
    workbook = _replace_once(
        workbook, f'name="{STOCK_CONF_SHEET}"', f'name="{CONF_SHEET}"', "xl/workbook.xml"
    )
    members["xl/workbook.xml"] = workbook.encode("utf-8")

    sheet, shared = config_sheet_parts(members[conf_path].decode("utf-8"))
    members[conf_path] = sheet.encode("utf-8")
    members["xl/sharedStrings.xml"] = shared.encode("utf-8")
    return [(name, members[name]) for name in order]


def write_xlam(members: list[tuple[str, bytes]], path: Path) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            zf.writestr(info, data, compresslevel=9)


def build(out_dir: Path = DEFAULT_OUT_DIR) -> Path:
    """Build ``out_dir/backflush.xlam`` and return its path."""
    with tempfile.TemporaryDirectory(prefix="backflush-addin-") as tmp:
        template = quickstart_template(Path(tmp))
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{ADDIN_NAME}.xlam"
    write_xlam(build_members(template), target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m addin.excel.build_addin",
        description="Build the Backflush Excel add-in (backflush.xlam) from xlwings' template.",
    )
    parser.add_argument(
        "out_dir",
        nargs="?",
        type=Path,
        default=DEFAULT_OUT_DIR,
        help=f"folder to write {ADDIN_NAME}.xlam into (default: {DEFAULT_OUT_DIR})",
    )
    args = parser.parse_args(argv)
    try:
        target = build(args.out_dir)
    except subprocess.CalledProcessError as exc:
        stderr = exc.stderr.decode(errors="replace") if exc.stderr else ""
        print(f"xlwings quickstart failed: {stderr.strip()}", file=sys.stderr)
        return 1
    except BuildError as exc:
        print(f"Cannot build the add-in: {exc}", file=sys.stderr)
        return 1
    print(f"Wrote {target} ({target.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
