"""The headless face: ``backflush template | demo | validate | run | next | export-journal``,
and ``backflush excel install | check | uninstall`` for the Excel add-in.

Exit codes: 0 success, 1 the inputs have errors (or the output could not be written), 2 usage.
Messages go to standard error as ``Sheet!Cell: what is wrong and the fix``; never a traceback
unless --debug is given.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from addin import app
from addin.costing.controls import check_counts
from addin.costing.engine import InputError, MonthEndResult
from addin.costing.model import Finding, MonthEndInputs, Settings, Severity
from addin.workbook.writer import OutputError, lock_file, remove_stale_temps


class ConsoleProgress:
    """One line per step with the elapsed time; a bar when standard error is a terminal."""

    def __init__(self, stream=None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.start = time.perf_counter()
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.last_line = -1.0  # when the last line was printed (line mode)

    def __call__(self, step: str, fraction: float) -> None:
        if self.quiet:
            return
        elapsed = time.perf_counter() - self.start
        if self.tty:
            filled = int(fraction * 20)
            bar = "#" * filled + "." * (20 - filled)
            end = "\n" if fraction >= 1 else ""
            self.stream.write(f"\r[{bar}] {fraction:4.0%} {elapsed:6.1f}s  {step:<45}{end}")
        else:
            # every step gets a line; per-sheet reading lines only when reading is slow
            substep = step.startswith("Reading sheet")
            if substep and elapsed - self.last_line < 0.5:
                return
            self.last_line = elapsed
            self.stream.write(f"[{elapsed:6.1f}s] {step}\n")
        self.stream.flush()


def _print_findings(findings: list[Finding], stream=None, limit: int = 200) -> None:
    stream = stream or sys.stderr
    errors = [f for f in findings if f.severity is Severity.ERROR]
    for f in errors[:limit]:
        stream.write(f"error: {f}\n")
    if len(errors) > limit:
        stream.write(f"... and {len(errors) - limit} more errors\n")


def _summary(result: MonthEndResult, out: Path, seconds: float) -> str:
    j = result.journal
    lines = [
        f"Month-end {result.inputs.settings.period_start} to {result.inputs.settings.period_end} "
        f"({result.inputs.settings.trigger.value}): {result.entries} journal entries, "
        f"debits {j['debit_cents'].sum() / 100:,.2f} = "
        f"credits {j['credit_cents'].sum() / 100:,.2f}",
    ]
    by_type = result.variances.groupby("type")["amount_cents"].sum()
    if len(by_type):
        parts = [
            f"{t} {c / 100:,.2f} {'U' if c > 0 else 'F' if c < 0 else ''}".strip()
            for t, c in by_type.items()
        ]
        lines.append("Variances: " + "; ".join(parts))
    lines += check_counts(result.checks)
    for c in result.checks:
        if c.status == "FAIL":
            lines.append(f"  FAILED: {c.name}: {c.detail}")
    warn = sum(f.severity is Severity.WARNING for f in result.findings)
    info = sum(f.severity is Severity.INFO for f in result.findings)
    lines.append(f"Exceptions to review: {warn} warnings, {info} notes (Exceptions tab)")
    lines.append(f"Results written to {out} in {seconds:.1f}s")
    return "\n".join(lines)


def _say(text: str) -> None:
    """A line on standard output that never fails the command: the work is done by then (a
    console that cannot show a character gets an escape, a closed pipe gets nothing)."""
    with contextlib.suppress(OSError, ValueError):
        print(text)
        sys.stdout.flush()


def _refuse(message: str, code: int = 1) -> int:
    sys.stderr.write(f"error: {message}. Nothing was written.\n")
    return code


def cmd_template(args: argparse.Namespace) -> int:
    from addin.workbook.inputs_writer import write_input_workbook

    path = Path(args.path)
    if path.name in ("", ".", ".."):
        return _refuse(
            f"{args.path!r} names a folder; give the template's file name, e.g. october.xlsx"
        )
    if path.suffix.lower() != ".xlsx":
        path = path.with_suffix(".xlsx")
    problem = app.output_problem(path, "template")
    if problem:
        return _refuse(problem)
    if path.exists():  # a template never replaces a workbook (it may be filled in)
        return _refuse(f"{path} already exists; choose another name, or delete it first")
    try:
        write_input_workbook(None, path)
    except OutputError as e:
        return _refuse(str(e))
    _say(f"Template written to {path}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from addin.demo import demo_inputs
    from addin.workbook.inputs_writer import write_input_workbook

    folder = Path(args.dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        return _refuse(
            f"{folder} is {app.kind_of(folder)}, not a folder; give a folder for the demo workbooks"
        )
    except OSError as e:
        return _refuse(f"cannot make the folder {folder}: {app.path_error(folder, e)}")
    path = folder / "demo-plant.xlsx"
    out = folder / "demo-plant - results.xlsx"
    for target in (path, out):
        problem = app.output_problem(target, "demo")
        if problem:
            return _refuse(problem)
    try:
        write_input_workbook(demo_inputs(), path)
    except OutputError as e:
        return _refuse(str(e))
    _say(f"Demo workbook written to {path}")
    return _run(path, out, args)


def _usable(checked: app.Checked, path: Path) -> MonthEndInputs | None:
    """The validated inputs; None, with every finding printed, when the workbook has errors
    (then nothing is written)."""
    if not checked.errors and checked.inputs is not None:
        return checked.inputs
    _print_findings(checked.findings)
    sys.stderr.write(
        f"{len(checked.errors)} problem(s) in {path.name or path}; nothing was written.\n"
    )
    return None


def cmd_validate(args: argparse.Namespace) -> int:
    path = Path(args.input)
    checked = app.check_workbook(path)
    inputs = _usable(checked, path)
    if inputs is None:
        return 1
    for f in checked.findings:
        sys.stderr.write(f"{f.severity.value.lower()}: {f}\n")
    try:
        app.month_end(inputs, path.name)
    except InputError as e:
        _print_findings(e.findings)
        return 1
    _say(f"{path.name}: no errors; ready to run.")
    return 0


def _locked_message(out: Path) -> str | None:
    """Why ``out`` cannot be replaced now (Excel or LibreOffice has it open, or its folder
    cannot be looked into), or None."""
    try:
        lock = lock_file(out)
    except OutputError as e:
        return f"{e}. Nothing was written."
    if lock is None:
        return None
    program = "LibreOffice" if lock.name.startswith(".~lock.") else "Excel"
    return (
        f"{out.name} is open in {program} (lock file {lock.name}); close it and run again, "
        "or use --out to write the results to another file. Nothing was written."
    )


def _run(path: Path, out: Path, args: argparse.Namespace) -> int:
    progress = ConsoleProgress(quiet=getattr(args, "quiet", False))
    start = time.perf_counter()
    started = time.time()
    locked = _locked_message(out)
    if locked:  # before any work: the user closes the file and runs again
        sys.stderr.write(f"error: {locked}\n")
        return 1
    for stale in remove_stale_temps(out, older_than=started):
        sys.stderr.write(f"Removed {stale.name}, left by an interrupted earlier run.\n")
    progress(f"Reading {path.name}", 0.0)
    checked = app.check_workbook(path, progress)
    inputs = _usable(checked, path)
    if inputs is None:
        return 1
    from addin.costing.detail import DetailTooLarge

    try:
        result, tabs = app.month_end(
            inputs, path.name, progress, checked.findings, getattr(args, "detail", False)
        )
    except DetailTooLarge as e:
        sys.stderr.write(f"error: {e}\nNothing was written.\n")
        return 1
    except InputError as e:
        _print_findings(e.findings)
        sys.stderr.write(
            f"{len(e.findings)} problem(s) in {path.name or path}; nothing was written.\n"
        )
        return 1
    if result.backflush_detail is not None and len(result.backflush_detail) > 100_000:
        sys.stderr.write(
            f"note: the detailed Backflush tab has {len(result.backflush_detail):,} lines; "
            "writing it takes a while and makes a large file.\n"
        )
    progress("Writing result tabs", 0.9)
    locked = _locked_message(out)  # opened while the month-end was computed
    if locked:
        sys.stderr.write(f"error: {locked}\n")
        return 1
    try:
        app.write_result_workbook(result, tabs, out)
    except OutputError as e:
        sys.stderr.write(f"error: {e}\n")
        return 1
    progress("Done", 1.0)
    _say(_summary(result, out, time.perf_counter() - start))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    path = Path(args.input)
    problem = app.input_problem(path)
    if problem:  # before anything else: a pipe or a device as input would never end
        sys.stderr.write(
            f"error: {problem}\n1 problem(s) in {path.name or path}; nothing was written.\n"
        )
        return 1
    out = Path(args.out) if args.out else app.default_output(path)
    if app.same_file(out, path):
        sys.stderr.write(
            "error: --out names the input workbook itself. Results go to a separate workbook so "
            "that nothing in yours (charts, pivots, macros) can be lost; choose another name.\n"
        )
        return 2
    problem = app.output_problem(out)
    if problem:
        return _refuse(problem if args.out else f"{problem} (or use --out)")
    if not args.out:
        sys.stderr.write(f"Results go to a separate workbook: {out} (your input is not changed).\n")
    return _run(path, out, args)


def _export_target(path: Path, args: argparse.Namespace) -> tuple[Path, str | None, int]:
    """Where export-journal writes, and why it cannot (None when it can), with the exit
    code: never over the input workbook, never to an Excel file name."""
    from addin.workbook.journal_csv import default_csv

    out = Path(args.out) if args.out else default_csv(path, args.summary)
    if app.same_file(out, path):
        return out, "--out names the input workbook itself; it is never changed", 2
    if out.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".xlam"):
        return out, f"{out.name}: the journal is written as CSV; give a name ending .csv", 2
    problem = app.output_problem(out, "journal")
    return out, problem, 1


def cmd_export_journal(args: argparse.Namespace) -> int:
    """Run the month-end in memory and write its journal as CSV (the input is only read)."""
    path = Path(args.input)
    problem = app.input_problem(path)
    if problem:
        return _refuse(problem)
    out, problem, code = _export_target(path, args)
    if problem:
        return _refuse(problem, code)
    progress = ConsoleProgress(quiet=args.quiet)
    checked = app.check_workbook(path, progress)
    inputs = _usable(checked, path)
    if inputs is None:
        return 1
    try:
        result, _ = app.month_end(inputs, path.name, progress, checked.findings)
    except InputError as e:
        _print_findings(e.findings)
        return _refuse(f"{len(e.findings)} problem(s) in {path.name}")
    failed = [c for c in result.checks if c.kind == "consistency" and c.status == "FAIL"]
    if failed:  # a defect in the run: never hand such figures to the ledger
        return _refuse(f"consistency check failed: {failed[0].name}: {failed[0].detail}")
    try:
        done = app.export_journal(result, out, args.summary)
    except OutputError as e:
        return _refuse(str(e))
    what = "one entry, net per account" if args.summary else f"{result.entries} entries"
    _say(
        f"Journal written to {out}: {done.lines} lines ({what}); debits "
        f"{done.debit_cents / 100:,.2f} = credits {done.credit_cents / 100:,.2f}"
    )
    return 0


def _next_summary(nm: app.NextMonth, out: Path) -> str:
    """What ``next`` wrote: the new period, the opening totals per account, History."""
    s = nm.inputs.settings
    lines = [
        f"Next month's workbook written to {out}",
        f"Period {s.period_start:%Y-%m-%d} to {s.period_end:%Y-%m-%d}; Opening Balances = the "
        f"closing of {nm.origin.period_start:%Y-%m-%d} to {nm.origin.period_end:%Y-%m-%d}:",
    ]
    for role, code, rows, value in nm.opening_totals():
        lines.append(f"  {role} {code}: {value:,.2f} ({rows} item rows)")
    months = nm.inputs.history[["period_start", "period_end"]].drop_duplicates()
    lines.append(
        f"History: {len(months)} month(s). Movements and Counts are empty; type GL Balances "
        "from your general ledger."
    )
    return "\n".join(lines)


def _next_target(path: Path, out_arg: str | None, settings: Settings) -> tuple[Path, str | None]:
    """Where ``next`` writes, and why it cannot (None when it can): never over the input,
    never over an existing workbook (next month's may already hold entries)."""
    out = (
        Path(out_arg)
        if out_arg
        else app.next_output(path, settings.period_start, settings.period_end)
    )
    if out.suffix.lower() != ".xlsx":
        return out, f"{out.name}: next month's workbook is an .xlsx file; give a name ending .xlsx"
    problem = app.output_problem(out, "next month's workbook")
    if problem:
        return out, problem
    if out.exists():
        return out, (
            f"{out} already exists (it may hold next month's entries); choose another name "
            "with --out, or delete it first"
        )
    return out, None


def cmd_next(args: argparse.Namespace) -> int:
    path = Path(args.input)
    if args.out and app.same_file(Path(args.out), path):
        sys.stderr.write(
            "error: --out names the input workbook itself; it is never changed: next month's "
            "workbook is a new file, choose another name.\n"
        )
        return 2
    progress = ConsoleProgress(quiet=getattr(args, "quiet", False))
    checked = app.check_workbook(path, progress)
    inputs = _usable(checked, path)
    if inputs is None:
        return 1
    out, problem = _next_target(path, args.out, inputs.settings)
    if problem:  # before the month-end: the user picks another name and runs again
        return _refuse(problem)
    try:
        nm = app.roll_forward(inputs, path.name, progress, checked.findings)
    except InputError as e:
        _print_findings(e.findings)
        sys.stderr.write(f"{len(e.findings)} problem(s) in {path.name}; nothing was written.\n")
        return 1
    try:
        app.write_next_month(nm, out)
    except OutputError as e:
        return _refuse(str(e))
    for f in nm.findings:
        sys.stderr.write(f"{f.severity.value.lower()}: {f}\n")
    progress("Done", 1.0)
    _say(_next_summary(nm, out))
    return 0


def cmd_excel(args: argparse.Namespace) -> int:
    """``backflush excel install | check | uninstall`` (addin/excel/install.py)."""
    from addin.excel import install as inst  # the Excel face's installer: loaded only here

    platform = args.platform or inst.current_platform()
    if platform is None:
        return _refuse(
            "Excel add-ins run on Windows and macOS; on this system give --platform windows "
            "or --platform macos to work on that layout (paths under your home folder)",
            2,
        )
    where = inst.layout(platform, os.environ, Path.home())
    folder = Path(args.folder) if args.folder else None
    try:
        if args.action == "install":
            with tempfile.TemporaryDirectory(prefix="backflush-xlam-") as tmp:
                lines = inst.install(where, inst.addin_source(args.xlam, Path(tmp)), folder)
        elif args.action == "uninstall":
            lines = inst.uninstall(where, folder)
        else:
            ok, lines = inst.check(where, folder)
            for line in lines:
                _say(line)
            return 0 if ok else 1
    except inst.InstallError as e:
        return _refuse(str(e))
    for line in lines:
        _say(line)
    return 0


def _excel_parser(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser("excel", help="the Excel add-in: install | check | uninstall")
    actions = e.add_subparsers(dest="action", required=True)
    helps = {
        "install": "settings from this Python, the add-in into Excel's add-ins folder",
        "check": "versions, paths and every entry point the add-in names",
        "uninstall": "remove the add-in file and its settings file",
    }
    for action, text in helps.items():
        a = actions.add_parser(action, help=text, description=text)
        a.add_argument(
            "--platform",
            choices=("windows", "macos"),
            help="the layout to use (default: this computer's)",
        )
        a.add_argument("--folder", help="the add-in's folder (default: Excel's add-ins folder)")
        if action == "install":
            a.add_argument("--xlam", help="the add-in file to install (default: the built one)")
        a.set_defaults(func=cmd_excel)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="backflush", description="Backflush costing month-end for Excel workbooks."
    )
    p.add_argument("--debug", action="store_true", help="show Python tracebacks on internal errors")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("template", help="write an empty input workbook")
    t.add_argument("path")
    t.set_defaults(func=cmd_template)
    d = sub.add_parser("demo", help="write the demo plant's workbook and run its month-end")
    d.add_argument("dir", nargs="?", default="demo")
    d.add_argument("--quiet", action="store_true")
    d.set_defaults(func=cmd_demo)
    v = sub.add_parser("validate", help="check an input workbook; list every problem")
    v.add_argument("input")
    v.set_defaults(func=cmd_validate)
    r = sub.add_parser("run", help="run the month-end on an input workbook")
    r.add_argument("input")
    r.add_argument("--out", help="result workbook (default: '<input> - results.xlsx' beside it)")
    r.add_argument("--quiet", action="store_true", help="no progress lines")
    r.add_argument(
        "--detail",
        action="store_true",
        help="Backflush tab: one line per source row and component (large; refused past the "
        "sheet's 1,048,576 rows) instead of one per component",
    )
    r.set_defaults(func=cmd_run)
    n = sub.add_parser(
        "next",
        help="run the month-end and write next month's input workbook (opening = this closing)",
    )
    n.add_argument("input")
    n.add_argument(
        "--out",
        help="next month's workbook (default: beside the input, named for the next period: "
        "'plant 2026-10.xlsx' -> 'plant 2026-11.xlsx', 'plant.xlsx' -> 'plant 2026-11.xlsx')",
    )
    n.add_argument("--quiet", action="store_true", help="no progress lines")
    n.set_defaults(func=cmd_next)
    _excel_parser(sub)
    x = sub.add_parser(
        "export-journal",
        help="run the month-end and write its journal as CSV for the general ledger "
        "(the workbook is only read)",
    )
    x.add_argument("input")
    x.add_argument(
        "--out",
        help="CSV file (default: beside the input, '<input> - journal.csv', or "
        "'<input> - journal summary.csv' with --summary)",
    )
    x.add_argument(
        "--summary",
        action="store_true",
        help="one entry for the month: one line per account with its net debit or credit",
    )
    x.add_argument("--quiet", action="store_true", help="no progress lines")
    x.set_defaults(func=cmd_export_journal)
    return p


def _tolerant_console() -> None:
    """Characters the console cannot show (a CJK path on an ASCII or Latin-1 console) are
    written as escapes instead of failing the command after its work is done."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(OSError, ValueError):
                reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    _tolerant_console()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        sys.stderr.write("interrupted; nothing was written\n")
        return 130
    except OSError as e:  # the file system refused something: the user's to fix, not a bug
        if args.debug:
            raise
        where = Path(e.filename) if e.filename else None
        what = app.path_error(where, e) if where else f"{e.strerror or e}"
        sys.stderr.write(f"error: {what}\n")
        return 1
    except Exception as e:  # noqa: BLE001 - the last line of defence: no tracebacks for users
        if args.debug:
            raise
        sys.stderr.write(
            f"internal error: {type(e).__name__}: {e}\n(run again with --debug for details)\n"
        )
        return 3


if __name__ == "__main__":
    raise SystemExit(main())
