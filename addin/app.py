"""The use cases shared by the command line and Excel: check inputs, run the month-end, write,
roll forward to the next month.

Data flows one way: sheets -> validated inputs -> engine -> result tabs -> a workbook.
"""

from __future__ import annotations

import calendar
import datetime as dt
import errno
import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from dataclasses import replace as dataclasses_replace
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from addin.costing.engine import InputError, MonthEndResult, run_month_end
from addin.costing.model import (
    OPENING_COLUMNS,
    Finding,
    MonthEndInputs,
    Settings,
    Severity,
    empty_frame,
)
from addin.workbook import contract
from addin.workbook.history import history_after
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
        lines = backflush_detail(result, max_rows=DETAIL_ROW_LIMIT)
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


class ExportedJournal(NamedTuple):
    """What export_journal wrote: CSV lines (header not counted), their debits and credits
    (cents)."""

    lines: int
    debit_cents: int
    credit_cents: int


def export_journal(result: MonthEndResult, path: Path, summary: bool = False) -> ExportedJournal:
    """Write the month's journal as CSV for the general ledger (workbook/journal_csv.py): one
    row per line, or with ``summary`` one entry of the month's net per account. Atomic."""
    from addin.workbook import journal_csv

    j = result.journal
    s = result.inputs.settings
    rows = journal_csv.summary_rows(j, s) if summary else journal_csv.journal_rows(j)
    journal_csv.write_journal_csv(rows, path)

    def cents(k: int) -> int:  # "123.45" -> 12345 exactly; "" -> 0
        return sum(int(r[k].replace(".", "") or 0) for r in rows)

    return ExportedJournal(len(rows), cents(4), cents(5))


# ---------------------------------------------------------------------------------------------
# Month after month: the next period's input workbook from this one and its month-end

QUANTITY_DECIMALS = 9  # closing quantities are written rounded to this (float sums leave noise)


@dataclass(frozen=True)
class Origin:
    """Where a next month's opening came from: the input file, when it was run, and the
    fingerprint of its inputs (the one the Run Log shows)."""

    input_name: str
    period_start: dt.date
    period_end: dt.date
    run_at: dt.datetime
    fingerprint: str

    def lines(self) -> list[str]:
        """The note the next workbook's Read Me carries."""
        return [
            f"Opening Balances are the closing of {self.period_start:%Y-%m-%d} to "
            f"{self.period_end:%Y-%m-%d}, as run on {self.input_name or 'the workbook'} "
            f"on {self.run_at:%Y-%m-%d %H:%M}.",
            f"Input fingerprint {self.fingerprint} (the Run Log of a run on that workbook "
            "shows the same).",
        ]


@dataclass(frozen=True)
class NextMonth:
    """The next period's inputs made from a month-end: ``findings`` say what could not be
    carried (value not backed by an item)."""

    inputs: MonthEndInputs
    origin: Origin
    findings: list[Finding] = field(default_factory=list)

    def opening_totals(self) -> list[tuple[str, str, int, float]]:
        """(role, account code, rows, value) of Opening Balances per inventory account."""
        ob = self.inputs.opening_balances
        out = []
        for role in contract.ACCOUNT_CODES_FOR_OPENING:
            rows = ob[ob["account"] == role]
            cents = int((rows["value"].to_numpy(float) * 100).round().sum())
            out.append((role, self.inputs.account(role).code, len(rows), cents / 100))
        return out


def next_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The period after [start, end]: the next calendar month when the period is exactly one;
    else a period of the same length in days, starting the day after ``end``."""
    nxt = end + dt.timedelta(days=1)
    if is_calendar_month(start, end):
        return nxt, nxt.replace(day=calendar.monthrange(nxt.year, nxt.month)[1])
    return nxt, nxt + (end - start)


def is_calendar_month(start: dt.date, end: dt.date) -> bool:
    """True when [start, end] is exactly one calendar month (the 1st to its last day)."""
    last_day = calendar.monthrange(start.year, start.month)[1]
    return start.day == 1 and end == start.replace(day=last_day)


def closing_as_opening(result: MonthEndResult) -> tuple[pd.DataFrame, list[Finding]]:
    """This month's closing per item and inventory account (the Inventory frame's ending
    quantity and value) as next month's Opening Balances: every row with a quantity or a
    value (below zero kept). Value not backed by an item cannot be carried: a finding."""
    inv = result.inventory
    items = set(result.inputs.standard_costs["item"].astype(str))
    real = inv["item"].astype(str).isin(items).to_numpy()
    qty = inv["ending_qty"].to_numpy(float).round(QUANTITY_DECIMALS)
    cents = inv["ending_cents"].to_numpy(np.int64)
    keep = real & ((qty != 0) | (cents != 0))
    opening = pd.DataFrame(
        {
            "item": inv["item"].astype(str).to_numpy(object)[keep],
            "account": inv["role"].astype(str).to_numpy(object)[keep],
            "quantity": qty[keep] + 0.0,  # + 0.0: no -0 on the sheet
            "value": cents[keep] / 100,
            "source_row": np.arange(2, int(keep.sum()) + 2),
        }
    )
    lost = [
        Finding(
            Severity.WARNING,
            "value not carried",
            f"{role} closes with {c / 100:,.2f} not backed by any item (material of "
            "completions without BOM lines); Opening Balances are per item, so it is not "
            "carried: post it in the general ledger, or give the items their BOM lines",
        )
        for role, c in inv[~real].groupby("role", observed=True)["ending_cents"].sum().items()
        if c != 0
    ]
    return (opening if len(opening) else empty_frame(OPENING_COLUMNS)), lost


def standards_carried(inputs: MonthEndInputs, start: dt.date) -> pd.DataFrame:
    """Standard Costs for a month starting on ``start``: each item's standard in force that day
    (this month's, with the dated changes up to ``start`` applied, Effective From blank), then
    the changes dated after it as rows of their own."""
    sc, ch = inputs.standard_costs, inputs.standard_changes
    if not len(ch):
        return sc
    when = pd.to_datetime(ch["effective_from"])
    due = ch[when <= pd.Timestamp(start)].sort_values("effective_from", kind="stable")
    latest = due.drop_duplicates("item", keep="last").set_index("item")
    costs = ["material", "labor", "overhead", "conversion"]
    now = sc.set_index("item", drop=False)
    now.loc[latest.index, costs] = latest[costs]
    now["effective_from"] = pd.NaT
    return pd.concat(
        [now.reset_index(drop=True), ch[when > pd.Timestamp(start)]], ignore_index=True
    )


def next_month(result: MonthEndResult, origin: Origin) -> NextMonth:
    """Next period's inputs: Settings with the period advanced, master data carried, Opening
    Balances = this month's closing, movements, Counts and GL Balances empty (the GL's own
    opening is typed from the GL, never copied from the run), History with this month's."""
    inputs = result.inputs
    start, end = next_period(inputs.settings.period_start, inputs.settings.period_end)
    settings: Settings = dataclasses_replace(inputs.settings, period_start=start, period_end=end)
    opening, lost = closing_as_opening(result)
    nxt = MonthEndInputs(
        settings=settings,
        standard_costs=standards_carried(inputs, start),
        bom=inputs.bom,
        opening_balances=opening,
        history=history_after(result),
        accounts=inputs.accounts,
    )
    return NextMonth(nxt, origin, lost)


def roll_forward(
    inputs: MonthEndInputs,
    input_name: str,
    progress: Progress | None = None,
    warnings: list[Finding] | None = None,
) -> NextMonth:
    """Run the month-end on ``inputs`` and make the next period's inputs from it. Raises
    InputError when the inputs cannot be posted."""
    result = run_month_end(inputs, progress)
    origin = Origin(
        input_name,
        inputs.settings.period_start,
        inputs.settings.period_end,
        dt.datetime.now().replace(microsecond=0),
        fingerprint(inputs),
    )
    nm = next_month(result, origin)
    nm.findings[:0] = [w for w in warnings or [] if w.severity is Severity.WARNING]
    return nm


def next_output(input_path: Path, period_start: dt.date, period_end: dt.date) -> Path:
    """Where the next month's workbook goes when no --out is given: beside the input, named
    for the month it holds (``period_*``: this month's). "plant 2026-10.xlsx" -> "plant
    2026-11.xlsx"; a name without this period in it gets the next one added: "plant.xlsx" ->
    "plant 2026-11.xlsx" (periods that are not calendar months by their first day)."""
    start, end = next_period(period_start, period_end)
    fmt = "%Y-%m" if is_calendar_month(start, end) else "%Y-%m-%d"
    stem, old, new = input_path.stem, f"{period_start:{fmt}}", f"{start:{fmt}}"
    name = stem.replace(old, new) if old in stem else f"{stem} {new}"
    return input_path.with_name(f"{name}.xlsx")


def write_next_month(nm: NextMonth, path: Path) -> None:
    """Write the next month's input workbook (atomically; the Read Me says where its
    opening came from)."""
    from addin.workbook.inputs_writer import write_input_workbook

    write_input_workbook(nm.inputs, path, origin=nm.origin.lines())


__all__ = [
    "NextMonth",
    "Origin",
    "next_month",
    "next_output",
    "next_period",
    "roll_forward",
    "write_next_month",
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
