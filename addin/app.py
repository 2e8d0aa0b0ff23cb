"""The use cases shared by the command line and Excel: check inputs, run the month-end, write.

Data flows one way: sheets -> validated inputs -> engine -> result tabs -> a workbook.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pandas as pd

from addin.costing.engine import InputError, MonthEndResult, run_month_end
from addin.costing.model import Finding, MonthEndInputs, Severity
from addin.workbook import contract
from addin.workbook.tabs import RunInfo, Tab, result_tabs

Progress = Callable[[str, float], None]

# a sheet holds 1,048,576 rows; the tab's title rows, header and totals take the rest
DETAIL_ROW_LIMIT = 1_048_576 - 10

FRAME_NAMES = contract.FRAME_SHEETS  # MonthEndInputs attribute -> input sheet


def version() -> str:
    try:
        return metadata.version("backflush-addin")
    except metadata.PackageNotFoundError:
        return "dev"


def row_counts(inputs: MonthEndInputs) -> dict[str, int]:
    return {sheet: len(getattr(inputs, attr)) for attr, sheet in FRAME_NAMES.items()}


def fingerprint(inputs: MonthEndInputs) -> str:
    """SHA-256 over every input value (not over the file): same inputs, same fingerprint."""
    h = hashlib.sha256(repr(inputs.settings).encode())
    for attr in FRAME_NAMES:
        frame = getattr(inputs, attr).drop(columns=["source_row"], errors="ignore")
        h.update(attr.encode())
        h.update(",".join(map(str, frame.columns)).encode())
        if len(frame):
            h.update(
                pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy().tobytes()
            )
    for role, acc in sorted(inputs.accounts.items()):
        h.update(f"{role}={acc.code}".encode())
    return h.hexdigest()


@dataclass
class Checked:
    """What reading and validating a workbook gave: inputs (None if errors) and findings."""

    inputs: MonthEndInputs | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]


# ---------------------------------------------------------------------------------------------
# Files: what is refused before anything is opened or written


def kind_of(path: Path) -> str:
    """What is at ``path``, in words: "a file", "a folder", "a device", ..."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return "not readable"
    return "a file" if stat.S_ISREG(mode) else _kind_of(mode)


def _kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def path_error(path: Path, e: OSError) -> str:
    """An OSError on ``path`` in the user's words: what is wrong and what to do."""
    code = e.errno
    if code == errno.ENOENT:
        return f"file not found: {path}; check the path"
    if code == errno.ELOOP:
        return (
            f"{path} is a symbolic link that loops back on itself; point it at the workbook "
            "file, or give the file's own path"
        )
    if code == errno.ENAMETOOLONG:
        return f"{path}: the path or a name in it is too long for the file system; shorten it"
    if code == errno.ENOTDIR:
        return f"{path}: a part of the path is a file, not a folder; check the path"
    if code in (errno.EACCES, errno.EPERM):
        return f"{path}: permission denied; check that you may use this file and its folder"
    return f"cannot use {path} ({e.strerror or e}); check the path and try again"


def input_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as an input workbook, found before it is opened; None for
    a regular file. A named pipe would block the read forever and a device never ends, so
    only regular files (or links to them) are read."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError) as e:  # ValueError: a NUL character in the path
        if isinstance(e, OSError):
            return path_error(path, e)
        return f"{path!r} is not a valid path; check it"
    if stat.S_ISREG(mode):
        return None
    return f"{path} is {_kind_of(mode)}, not a workbook file; give the path of the .xlsx file"


def _name_max(folder: Path) -> int:
    """The longest file name (bytes) the file system of ``folder`` (or its nearest existing
    parent) takes; 255 where it cannot be asked."""
    for f in (folder, *folder.parents):
        try:
            if f.is_dir():
                return int(os.pathconf(f, "PC_NAME_MAX"))
        except (OSError, ValueError):
            continue
    return 255


def output_problem(out: Path, what: str = "results") -> str | None:
    """Why the file ``out`` cannot be written (None when it can): it exists and is not a
    regular file (a folder, a device such as /dev/null, a pipe), a link loop, a name too long
    for the file system. Checked before any work, so that a device is never replaced."""
    limit = _name_max(out.parent)
    size = len(os.fsencode(out.name))
    if size > limit:
        return (
            f"the file name {out.name} is {size} bytes long, more than the {limit} the file "
            "system allows; choose a shorter name"
        )
    try:
        mode = os.stat(out).st_mode
    except FileNotFoundError:
        return None
    except OSError as e:
        return path_error(out, e)
    except ValueError:
        return f"{out!r} is not a valid path; check it"
    if not stat.S_ISREG(mode):
        return (
            f"{out} is {_kind_of(mode)}; the {what} can only be written to a file: choose "
            "another name"
        )
    return None


def same_file(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` are the same file, however spelled (links, "..", case)."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def check_workbook(path: Path, progress: Progress | None = None) -> Checked:
    """Read and validate an input workbook file; every problem found in one pass."""
    from addin.workbook.reader import read_workbook
    from addin.workbook.validation import parse_inputs

    problem = input_problem(path)
    if problem is not None:
        return Checked(None, [Finding(Severity.ERROR, "input file", problem)])

    def reading(step: str, fraction: float) -> None:
        if progress is not None:
            progress(step, 0.04 * fraction)

    sheets, findings = read_workbook(path, reading)
    if any(f.severity is Severity.ERROR for f in findings):
        return Checked(None, findings)
    if progress is not None:
        progress("Checking the inputs", 0.04)
    inputs, more = parse_inputs(sheets)
    return Checked(inputs, findings + more)


def month_end(
    inputs: MonthEndInputs,
    input_name: str = "",
    progress: Progress | None = None,
    warnings: list[Finding] | None = None,
    detail: bool = False,
) -> tuple[MonthEndResult, list[Tab]]:
    """Run the engine and build the result tabs. Raises InputError when the BOM has a cycle.

    With ``detail`` the Backflush tab lists every source row's components; raises
    DetailTooLarge (before any work is written) when that would not fit on a sheet.
    """
    result = run_month_end(inputs, progress)
    if detail:
        from dataclasses import replace

        from addin.costing.detail import backflush_detail

        if progress:
            progress("Backflush detail per source row", 0.86)
        lines = backflush_detail(result.plant or inputs, max_rows=DETAIL_ROW_LIMIT)
        result = replace(result, backflush_detail=lines)
    if warnings:
        result.findings[:0] = [w for w in warnings if w.severity is not Severity.ERROR]
    info = RunInfo(
        input_name=input_name,
        fingerprint=fingerprint(inputs),
        row_counts=row_counts(inputs),
        version=version(),
    )
    return result, result_tabs(result, info)


def default_output(input_path: Path) -> Path:
    """Where results go when no --out is given: beside the input, never over it."""
    return input_path.with_name(f"{input_path.stem} - results.xlsx")


def write_result_workbook(result: MonthEndResult, tabs: list[Tab], path: Path) -> None:
    from addin.workbook.writer import write_tabs

    s = result.inputs.settings
    period = f"{s.period_start:%d %b %Y} - {s.period_end:%d %b %Y}"
    run_note = tabs[-1].blocks[0].rows[0][1] if tabs and tabs[-1].blocks else ""
    write_tabs(tabs, path, company=s.company, period=period, run_note=f"Run {run_note}")


__all__ = [
    "Checked",
    "InputError",
    "check_workbook",
    "default_output",
    "input_problem",
    "output_problem",
    "path_error",
    "same_file",
    "month_end",
    "write_result_workbook",
]
