"""``backflush excel install | check | uninstall``: put the add-in where Excel finds it.

install   writes the add-in's settings file from the Python running this command (its
          interpreter, or its conda env on Windows, as ``xlwings config create`` does), copies
          ``backflush.xlam`` to the user's add-ins folder (or ``--folder``), clears Windows'
          downloaded-file mark on the copy, on macOS copies xlwings' RunPython helper script
          where Excel's sandbox lets it run (as ``xlwings runpython install`` does), and says
          what to tick in Excel.
check     the Python, package and xlwings versions, the paths Excel will use, and an import of
          every entry point the installed add-in's ribbon and BF_* functions name.
uninstall removes the add-in file and the settings file.

Both platforms' layouts are plain paths under a home folder, so they are tested on Linux with
a fake home and ``--platform``. Nothing here imports xlwings' Excel side.
"""

from __future__ import annotations

import csv
import importlib
import io
import os
import re
import shutil
import sys
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from addin.excel.build_addin import ADDIN_NAME, CONF_SHEET, PROJECT_NAME, UDF_MODULES
from addin.excel.ribbon import BUTTONS, MACROS_MODULE, VBA_MODULE
from addin.excel.vba import module_source

PLATFORMS = ("windows", "macos")
XLAM = f"{ADDIN_NAME}.xlam"
SETTINGS_FILE = CONF_SHEET  # backflush.conf: xlwings' PROJECT_NAME & ".conf"
PACKAGE = "backflush-addin"
REPO_XLAM = Path(__file__).resolve().parents[2] / "workbook_templates" / XLAM
MAC_OFFICE = Path("Library/Group Containers/UBF8T346G9.Office/User Content.localized")


class InstallError(RuntimeError):
    """Something the user fixes (a missing file, Excel holding the add-in open)."""


@dataclass(frozen=True)
class Layout:
    """Where one platform's Excel looks for the add-in and its settings."""

    platform: str
    addins_folder: Path
    """Excel's own add-ins folder: the Add-ins dialog lists what is in it."""
    settings_file: Path
    """xlwings' user config file for PROJECT_NAME ``backflush`` (GetConfigFilePath)."""
    runpython_folder: Path | None
    """macOS: the one folder sandboxed Excel may run AppleScripts from; None on Windows."""


def current_platform() -> str | None:
    """``windows``, ``macos``, or None (Excel's add-ins run on neither Linux nor others)."""
    if sys.platform.startswith("win"):
        return "windows"
    return "macos" if sys.platform == "darwin" else None


def layout(platform: str, env: Mapping[str, str], home: Path) -> Layout:
    """The folders for ``platform`` under ``home`` (Windows: %APPDATA%, %USERPROFILE%)."""
    if platform == "windows":
        profile = Path(env.get("USERPROFILE") or home)
        appdata = Path(env.get("APPDATA") or profile / "AppData" / "Roaming")
        return Layout(
            platform,
            appdata / "Microsoft" / "AddIns",
            profile / f".{PROJECT_NAME}" / SETTINGS_FILE,
            None,
        )
    if platform == "macos":
        return Layout(
            platform,
            home / MAC_OFFICE / "Add-Ins.localized",
            home / "Library/Containers/com.microsoft.Excel/Data" / SETTINGS_FILE,
            home / "Library/Application Scripts/com.microsoft.Excel",
        )
    raise InstallError(f"unknown platform {platform!r}; choose one of {', '.join(PLATFORMS)}")


# ---- settings ---------------------------------------------------------------------------


def python_settings(platform: str, executable: str, env: Mapping[str, str]) -> dict[str, str]:
    """The settings that point the add-in at this Python: on Windows a conda env as CONDA PATH
    and CONDA ENV (xlwings activates it), else the interpreter itself."""
    conda_env, conda_exe = env.get("CONDA_DEFAULT_ENV"), env.get("CONDA_EXE")
    if platform == "windows" and conda_env and conda_exe:
        parts = re.split(r"[\\/]", conda_exe)[:-2]  # ...\Scripts\conda.exe -> the conda folder
        return {"CONDA PATH": "\\".join(parts), "CONDA ENV": conda_env}
    key = "INTERPRETER_WIN" if platform == "windows" else "INTERPRETER_MAC"
    return {key: executable}


def read_settings(path: Path) -> dict[str, str]:
    """``"KEY","value"`` lines as xlwings' VBA reads them (keys compared without case)."""
    if not path.is_file():
        return {}
    rows = csv.reader(io.StringIO(path.read_text(encoding="utf-8")))
    return {row[0]: row[1] for row in rows if len(row) >= 2}


def write_settings(path: Path, settings: dict[str, str]) -> None:
    """Set ``settings`` in the file, keeping every other line the user has there."""
    kept = {k: v for k, v in read_settings(path).items() if k.upper() not in _upper(settings)}
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    for key, value in {**kept, **settings}.items():
        writer.writerow([key, value])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(out.getvalue(), encoding="utf-8")


def _upper(settings: Mapping[str, str]) -> set[str]:
    return {k.upper() for k in settings}


# ---- the steps --------------------------------------------------------------------------


def clear_download_mark(path: Path) -> str:
    """Remove the Zone.Identifier stream Windows puts on downloaded files (Excel blocks macros
    in a file that has it; copying keeps it). Only possible on Windows itself."""
    if not sys.platform.startswith("win"):
        return "not cleared (only possible on Windows itself)"
    try:
        os.remove(f"{path}:Zone.Identifier")
    except FileNotFoundError:
        return "none found"
    except OSError as e:
        return f"could not be cleared ({e.strerror}): right-click the file > Properties > Unblock"
    return "cleared"


def applescript_source() -> Path:
    """xlwings' RunPython helper for this xlwings version (``xlwings-0.37.8.applescript``)."""
    import xlwings

    return Path(xlwings.__file__).parent / f"xlwings-{xlwings.__version__}.applescript"


def addin_source(given: str | None, work_dir: Path) -> Path:
    """The add-in file to install: ``given`` (--xlam), else the repository's build
    (workbook_templates), else one built now in ``work_dir`` from the xlwings template of the
    xlwings installed here (a package installed with pip carries no .xlam)."""
    if given:
        return Path(given)
    if REPO_XLAM.is_file():
        return REPO_XLAM
    from addin.excel import build_addin

    return build_addin.build(work_dir)


def copy_addin(source: Path, folder: Path) -> Path:
    if not source.is_file():
        raise InstallError(f"no add-in at {source}; give its path with --xlam")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / XLAM
    try:
        shutil.copyfile(source, target)
    except PermissionError as e:
        raise InstallError(f"{target} is in use: quit Excel, then run this again") from e
    return target


def install(
    where: Layout,
    source: Path,
    folder: Path | None = None,
    env: Mapping[str, str] | None = None,
    unblock: Callable[[Path], str] = clear_download_mark,
) -> list[str]:
    """Do the installation; return the lines to show (what was done, then what to tick)."""
    env = os.environ if env is None else env
    settings = python_settings(where.platform, sys.executable, env)
    write_settings(where.settings_file, settings)
    lines = [
        f"Settings: {where.settings_file} ({', '.join(f'{k}={v}' for k, v in settings.items())})"
    ]
    target = copy_addin(source, folder or where.addins_folder)
    lines.append(f"Add-in: {target}")
    if where.platform == "windows":
        lines.append(f"Downloaded-file mark: {unblock(target)}")
    if where.runpython_folder is not None:
        script = applescript_source()
        where.runpython_folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(script, where.runpython_folder / script.name)
        lines.append(f"RunPython helper: {where.runpython_folder / script.name}")
    return lines + next_steps(where, target, listed=folder is None)


def next_steps(where: Layout, target: Path, listed: bool) -> list[str]:
    """What to do in Excel (menu names as Microsoft documents them; not checked here)."""
    pick = "tick Backflush" if listed else f"click Browse..., pick {target}, tick Backflush"
    if where.platform == "windows":
        return [
            "Now in Excel: File > Options > Add-ins > Manage: Excel Add-ins > Go..., "
            f"{pick}, OK. The Backflush tab appears on the ribbon.",
            "If Excel says macros are blocked: see 'Blocked add-in' in docs/excel-addin.md.",
        ]
    return [
        "Now quit Excel (Cmd-Q) and start it again; then Tools > Excel Add-ins..., "
        f"{pick}, OK, and click Enable Macros if Excel asks.",
    ]


def uninstall(where: Layout, folder: Path | None = None) -> list[str]:
    """Remove the add-in file and the settings file (xlwings' shared helper script stays)."""
    lines = []
    for path in (((folder or where.addins_folder) / XLAM), where.settings_file):
        if path.exists():
            try:
                path.unlink()
            except PermissionError as e:
                raise InstallError(f"{path} is in use: quit Excel, then run this again") from e
            lines.append(f"Removed {path}")
        else:
            lines.append(f"Not there: {path}")
    own = where.settings_file.parent
    if where.platform == "windows" and own.is_dir() and not any(own.iterdir()):
        own.rmdir()  # %USERPROFILE%\.backflush, when nothing else is in it
    lines.append(
        "In Excel, untick Backflush in the Add-ins dialog "
        "(Excel offers to remove it from the list)."
    )
    return lines


# ---- check ------------------------------------------------------------------------------


def entry_points(xlam: Path) -> list[tuple[str, str]]:
    """(module, name) of every Python function the add-in's VBA and ribbon name: the ribbon
    callback's, each button's macro, and each BF_* wrapper's XLPy.CallUDF target."""
    with zipfile.ZipFile(xlam) as zf:
        vba = module_source(zf.read("xl/vbaProject.bin"), VBA_MODULE)
        ui = zf.read("customUI/customUI.xml").decode("utf-8")
    found = re.findall(r"import ([\w.]+) as r; r\.(\w+)\(", vba)
    by_id = {b.control_id: b.macro for b in BUTTONS}
    for control_id in re.findall(r'<button id="(\w+)"', ui):
        found.append((MACROS_MODULE, by_id.get(control_id, f"<unknown button {control_id}>")))
    found += re.findall(r'XLPy\.CallUDF\("([\w.]+)", "(\w+)", Array\([^)]*\)\)', vba)
    return found


def import_problem(module: str, name: str) -> str | None:
    try:
        if not callable(getattr(importlib.import_module(module), name, None)):
            return f"{module}.{name} is missing"
    except Exception as e:  # noqa: BLE001 - any import failure is the finding
        return f"import {module} failed: {type(e).__name__}: {e}"
    return None


def check(where: Layout, folder: Path | None = None) -> tuple[bool, list[str]]:
    """(everything in place?, report lines) for the add-in installed per ``where``."""
    import xlwings

    xlam = (folder or where.addins_folder) / XLAM
    lines = [
        f"Python {sys.version.split()[0]}: {sys.executable}",
        f"{PACKAGE} {_version(PACKAGE)}, xlwings {xlwings.__version__}",
    ]
    problems = _path_problems(where, xlam, xlwings.__version__)
    lines += [f"Add-in file: {xlam}", f"Settings file: {where.settings_file}"]
    points = entry_points(xlam) if xlam.is_file() else [(UDF_MODULES, "BF_STDCOST")]
    problems += [p for m, n in dict.fromkeys(points) if (p := import_problem(m, n))]
    lines.append(f"Entry points imported: {len(dict.fromkeys(points))}")
    lines += [f"PROBLEM: {p}" for p in problems] or ["OK: the add-in can run this Python."]
    return not problems, lines


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "(not installed with pip: Excel's Python will not find it)"


def _path_problems(where: Layout, xlam: Path, xlwings_version: str) -> list[str]:
    problems = []
    if not xlam.is_file():
        problems.append(f"no add-in at {xlam}: run backflush excel install")
    else:
        with zipfile.ZipFile(xlam) as zf:
            vba = module_source(zf.read("xl/vbaProject.bin"), "xlwings")
        built = re.search(r'XLWINGS_VERSION As String = "([^"]+)"', vba)
        if built and built.group(1) != xlwings_version:
            problems.append(
                f"the add-in carries xlwings {built.group(1)}'s VBA but this Python has "
                f"xlwings {xlwings_version}: pip install xlwings=={built.group(1)}"
            )
    settings = {k.upper(): v for k, v in read_settings(where.settings_file).items()}
    wanted = {
        k.upper(): v for k, v in python_settings(where.platform, sys.executable, os.environ).items()
    }
    for key, value in wanted.items():
        if settings.get(key) != value:
            problems.append(
                f"{where.settings_file} has {key}={settings.get(key)!r}, not {value!r}: "
                "run backflush excel install from this Python"
            )
    if where.runpython_folder is not None:
        script = where.runpython_folder / f"xlwings-{xlwings_version}.applescript"
        if not script.is_file():
            problems.append(f"no {script}: run backflush excel install")
    return problems
