"""What the Backflush ribbon buttons run (through ``addin.excel.ribbon.on_button``).

Each entry point takes the workbook to work on (default: ``xw.Book.caller()``, the workbook
that was active when the button was clicked), reads the input sheets through the same contract
as the command line, runs the same engine and writes the same result tabs. Progress goes to
Excel's status bar, which is handed back to Excel at the end. Problems are shown in a message
box naming sheet and cell; no traceback ever reaches the user.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import xlwings as xw

from addin import app
from addin.costing.controls import check_counts
from addin.costing.engine import InputError, MonthEndResult
from addin.costing.model import Finding, Severity
from addin.costing.money import to_cents
from addin.excel import sheets
from addin.workbook import contract as C
from addin.workbook import input_sheets
from addin.workbook.tabs import Tab

TITLE = "Backflush"
MAX_LISTED = 12
CSV_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


class Problems(Exception):
    """The inputs have errors: nothing is written; ``findings`` say where and what to do."""

    def __init__(self, findings: list[Finding], action: str) -> None:
        self.findings = findings
        self.action = action
        super().__init__(action)


class Stop(Exception):
    """A plain message for the user (e.g. run the month-end first)."""


class StatusBar:
    """``Progress`` for the engine: writes ``Backflush: step (40%)`` to the status bar."""

    def __init__(self, excel: xw.App) -> None:
        self.excel = excel

    def __call__(self, step: str, fraction: float) -> None:
        text = f"{TITLE}: {step} ({fraction:.0%})"
        try:
            self.excel.status_bar = text
        except NotImplementedError:  # xlwings Lite has no status bar: its output pane
            print(text)

    def close(self) -> None:
        with sheets.unsupported_skipped():
            self.excel.status_bar = False  # False hands the status bar back to Excel


def _alert(excel: xw.App, prompt: str, critical: bool = False) -> None:
    try:
        excel.alert(prompt, title=TITLE, mode="critical" if critical else "info")
    except Exception:  # noqa: BLE001 - no message box (e.g. no Excel): the console
        print(prompt, file=sys.stderr)


def _listing(findings: list[Finding]) -> str:
    errors = [f for f in findings if f.severity is Severity.ERROR] or findings
    lines = [f"- {f}" for f in errors[:MAX_LISTED]]
    if len(errors) > MAX_LISTED:
        lines.append(f"... and {len(errors) - MAX_LISTED} more")
    return "\n".join(lines)


def _entry(action: str, work: Callable[[xw.Book, StatusBar], str | None], book: xw.Book | None):
    """Run ``work`` on the book; show its message, or the problems, in a message box."""
    book = book if book is not None else xw.Book.caller()
    excel = book.app
    bar = StatusBar(excel)
    with sheets.unsupported_skipped():
        excel.screen_updating = False
    try:
        message = work(book, bar)
    except Problems as e:
        n = sum(f.severity is Severity.ERROR for f in e.findings)
        _alert(
            excel,
            f"{action}: {n} problem(s) in the input sheets; {e.action}.\n\n{_listing(e.findings)}",
            critical=True,
        )
        return None
    except Stop as e:
        _alert(excel, f"{action}: {e}", critical=True)
        return None
    except Exception as e:  # noqa: BLE001 - the last line of defence: no tracebacks for users
        traceback.print_exc(file=sys.stderr)
        _alert(
            excel,
            f"{action} stopped on an internal error: {type(e).__name__}: {e}\n"
            "Nothing was changed in the input sheets. Please report this message.",
            critical=True,
        )
        return None
    finally:
        bar.close()
        with sheets.unsupported_skipped():
            excel.screen_updating = True
    if message:
        _alert(excel, message)
    return message


# ---- the steps shared by the buttons -----------------------------------------------------


def _checked(book: xw.Book, bar: StatusBar, action: str) -> tuple[app.Checked, str]:
    from addin.workbook.validation import parse_inputs

    bar("Reading the input sheets", 0.02)
    found = sheets.read_input_sheets(book)
    inputs, findings = parse_inputs(found)
    if inputs is None or any(f.severity is Severity.ERROR for f in findings):
        raise Problems(findings, action)
    return app.Checked(inputs, findings), book.name


def _month_end(
    book: xw.Book, bar: StatusBar, action: str
) -> tuple[MonthEndResult, list[Tab], app.Checked]:
    checked, name = _checked(book, bar, action)
    assert checked.inputs is not None
    try:
        result, tabs = app.month_end(checked.inputs, name, bar, checked.findings)
    except InputError as e:
        raise Problems(e.findings, action) from e
    return result, tabs, checked


def _write(book: xw.Book, bar: StatusBar, tabs: list[Tab]) -> None:
    for k, tab in enumerate(tabs):
        bar(f"Writing the {tab.name} tab", 0.9 + 0.1 * k / max(len(tabs), 1))
        sheets.write_tab(book, tab)


def _notes(findings: list[Finding]) -> str:
    warn = sum(f.severity is Severity.WARNING for f in findings)
    info = sum(f.severity is Severity.INFO for f in findings)
    return f"{warn} warning(s) and {info} note(s) to review"


# ---- the buttons ------------------------------------------------------------------------


def validate_inputs(book: xw.Book | None = None) -> str | None:
    """Check the input sheets (and the BOM for loops); nothing is written."""

    def work(book: xw.Book, bar: StatusBar) -> str:
        result, _tabs, checked = _month_end(book, bar, "nothing was changed")
        return (
            f"The input sheets have no errors: ready to run the month-end.\n"
            f"{_notes(result.findings)} (they will be on the Exceptions tab)."
        )

    return _entry("Validate Inputs", work, book)


def roll_up_standards(book: xw.Book | None = None) -> str | None:
    """Roll standard costs up the BOM; writes the Cost Rollup tab only."""

    def work(book: xw.Book, bar: StatusBar) -> str:
        _result, tabs, _checked = _month_end(book, bar, "nothing was written")
        rollup = [t for t in tabs if t.name == C.COST_ROLLUP_TAB]
        _write(book, bar, rollup)
        n = len(rollup[0].data)
        return f"Standard costs rolled up for {n} items: see the {C.COST_ROLLUP_TAB} tab."

    return _entry("Roll Up Standards", work, book)


def run_month_end(book: xw.Book | None = None) -> str | None:
    """Run the month-end and write every result tab (a re-run replaces them)."""

    def work(book: xw.Book, bar: StatusBar) -> str:
        result, tabs, _checked = _month_end(book, bar, "nothing was written")
        sheets.delete_result_sheets(book)  # all tabs are rewritten, in the contract's order
        _write(book, bar, tabs)
        with sheets.unsupported_skipped():
            first = sheets.find_sheet(book, C.RESULT_TABS[0])
            if first is not None:
                first.activate()
        j = result.journal
        failed = [c.name for c in result.checks if c.status == "FAIL"]
        lines = [
            f"Month-end posted: {result.entries} journal entries, debits "
            f"{j['debit_cents'].sum() / 100:,.2f} = credits {j['credit_cents'].sum() / 100:,.2f}.",
            f"{_notes(result.findings)} on the Exceptions tab.",
            *(
                f"{line}."
                for line in check_counts([c for c in result.checks if c.kind == "tie-out"])
            ),
        ]
        if failed:
            lines.append(f"Checks FAILED: {', '.join(failed)} (see the Summary tab).")
        return "\n".join(lines)

    return _entry("Run Month-End", work, book)


def clear_results(book: xw.Book | None = None) -> str | None:
    """Delete the result tabs written by a run; input sheets are never touched."""

    def work(book: xw.Book, bar: StatusBar) -> str:
        bar("Removing the result tabs", 0.5)
        names = sheets.delete_result_sheets(book)
        if not names:
            return "There were no result tabs to remove."
        return f"Removed {len(names)} result tab(s): {', '.join(names)}."

    return _entry("Clear Results", work, book)


def export_journal(book: xw.Book | None = None) -> str | None:
    """Save the Journal tab as CSV next to the workbook, for import into the general ledger."""

    def work(book: xw.Book, bar: StatusBar) -> str:
        bar(f"Reading the {C.JOURNAL_TAB} tab", 0.3)
        sheet = sheets.find_sheet(book, C.JOURNAL_TAB)
        if sheet is None:
            raise Stop(f"the workbook has no {C.JOURNAL_TAB} tab; click Run Month-End first.")
        header, rows = journal_rows(sheet.used_range.options(ndim=2).value)
        folder = Path(book.fullname).parent
        if not str(folder) or str(folder) == "." or not folder.is_dir():
            raise Stop("save the workbook first: the CSV file is written next to it.")
        path = folder / f"{Path(book.name).stem} - journal.csv"
        bar(f"Writing {path.name}", 0.7)
        from addin.workbook.journal_csv import write_journal_csv

        write_journal_csv(ledger_rows(header, rows), path)
        return f"{len(rows)} journal lines saved to\n{path}"

    return _entry("Export Journal", work, book)


def new_template(book: xw.Book | None = None, close_blank: bool = False) -> str | None:
    """Open a new, empty input workbook (the contract's sheets, headers and drop-downs).

    ``close_blank``: ``book`` is the blank workbook the ribbon opened because Excel had none
    open; it is closed (unsaved) once the template is open."""
    from addin.workbook.inputs_writer import write_input_workbook

    def work(book: xw.Book, bar: StatusBar) -> None:
        bar("Writing a new input workbook", 0.5)
        folder = Path(tempfile.mkdtemp(prefix="backflush-"))
        path = folder / f"Backflush inputs {dt.date.today():%Y-%m-%d}.xlsx"
        write_input_workbook(None, path)
        book.app.books.open(str(path))
        if close_blank:
            book.close()
        return None

    return _entry("New Template", work, book)


# ---- month after month ----------------------------------------------------------------------


def _roll_forward(book: xw.Book, bar: StatusBar) -> app.NextMonth:
    checked, name = _checked(book, bar, "nothing was written")
    assert checked.inputs is not None
    try:
        return app.roll_forward(checked.inputs, name, bar, checked.findings)
    except InputError as e:
        raise Problems(e.findings, "nothing was written") from e


def _next_message(nm: app.NextMonth, where: str) -> str:
    s = nm.inputs.settings
    lines = [f"Next month ({s.period_start:%Y-%m-%d} to {s.period_end:%Y-%m-%d}) {where}."]
    lines += [
        f"Opening {role} {code}: {value:,.2f} ({rows} items)"
        for role, code, rows, value in nm.opening_totals()
    ]
    lines += [f"Warning: {f}" for f in nm.findings[:MAX_LISTED]]
    lines.append("Enter the month's movements and counts, and GL Balances from your ledger.")
    return "\n".join(lines)


def start_next_month(book: xw.Book | None = None) -> str | None:
    """Run the month-end and write next month's input workbook beside this one (opening =
    this month's closing), then open it; this workbook is not changed."""

    def work(book: xw.Book, bar: StatusBar) -> str:
        here = Path(book.fullname)
        if not str(here.parent) or str(here.parent) == "." or not here.parent.is_dir():
            raise Stop("save the workbook first: next month's workbook is written next to it.")
        nm = _roll_forward(book, bar)
        out = app.next_output(here, nm.origin.period_start, nm.origin.period_end)
        if out.exists() or app.same_file(out, here):
            raise Stop(
                f"{out.name} already exists next to this workbook (it may hold next month's "
                "entries); rename or move it, then click Start Next Month again."
            )
        bar(f"Writing {out.name}", 0.95)
        app.write_next_month(nm, out)
        book.app.books.open(str(out))
        return _next_message(nm, f"written to\n{out}")

    return _entry("Start Next Month", work, book)


def start_next_month_in_book(book: xw.Book | None = None) -> str | None:
    """Run the month-end and turn this workbook into next month's (xlwings Lite, which cannot
    write files): this month's movement sheets and result tabs are kept, renamed with the
    month ("Purchases 2026-10"); Settings, Opening Balances, GL Balances and History hold
    next month's; Standard Costs, BOM and Accounts stay as they are."""

    def work(book: xw.Book, bar: StatusBar) -> str:
        nm = _roll_forward(book, bar)
        tag = f"{nm.origin.period_start:%Y-%m}"
        _archive(book, MONTHLY_SHEETS + C.RESULT_TABS, tag)
        bar("Writing next month's sheets", 0.95)
        _write_in_book(book, nm)
        return _next_message(nm, f"is now in this workbook; {tag}'s sheets are kept as '... {tag}'")

    return _entry("Start Next Month", work, book)


# The sheets that change from month to month (master data is carried as it is).
MONTHLY_SHEETS: tuple[str, ...] = tuple(
    s.name for s in C.INPUT_SHEETS if s.name not in (C.STANDARD_COSTS, C.BOM, C.ACCOUNTS)
)
README_SHEET = "Read Me"


def _archive_name(name: str, tag: str) -> str:
    """ "Purchases" -> "Purchases 2026-10" (cut to Excel's 31 characters)."""
    return f"{name[: 30 - len(tag)]} {tag}"


def _archive(book: xw.Book, names: tuple[str, ...], tag: str) -> None:
    """Rename the sheets ``names`` that the book has to "<name> <tag>"; refused (nothing
    renamed) when one of those names is taken already."""
    found = [s for n in names if (s := sheets.find_sheet(book, n)) is not None]
    for sheet in found:
        if sheets.find_sheet(book, _archive_name(sheet.name, tag)) is not None:
            raise Stop(
                f'the workbook already has a sheet "{_archive_name(sheet.name, tag)}": '
                f"{tag} was rolled forward before. Nothing was changed."
            )
    for sheet in found:
        sheet.name = _archive_name(sheet.name, tag)


def _cell(v: object) -> object:
    """A frame's value as Excel takes it: blanks None, days as datetime, Yes/No, text safe."""
    if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, (bool, np.bool_)):
        return "Yes" if v else "No"
    if isinstance(v, (np.integer, np.floating)):
        return v.item()
    if isinstance(v, str) and v.startswith(sheets.FORMULA_START):
        return "'" + v  # Excel's text prefix: typed text, never a formula
    return v


def _write_table(book: xw.Book, name: str, df: pd.DataFrame, tags: tuple[str, str]) -> None:
    """A new sheet ``name`` holding ``df`` as an Excel table, placed before last month's
    (``tags``: last month's and this one's, "2026-10", "2026-11"), else at the end."""
    old, tag = tags
    before = sheets.find_sheet(book, _archive_name(name, old))
    if before is not None:
        sheet = book.sheets.add(name, before=before)
    else:
        sheet = book.sheets.add(name, after=book.sheets[len(book.sheets) - 1])
    body = [list(df.columns)] + [[_cell(v) for v in row] for row in df.itertuples(index=False)]
    if len(body) == 1:
        body.append([None] * len(df.columns))  # a table keeps one empty row to type into
    sheet.range((1, 1), (len(body), len(df.columns))).value = body
    with sheets.unsupported_skipped():
        source = sheet.range((1, 1), (len(body), len(df.columns)))
        sheet.tables.add(source=source, name=f"{name.replace(' ', '')}_{tag.replace('-', '_')}")


def _write_in_book(book: xw.Book, nm: app.NextMonth) -> None:
    """Next month's Settings and monthly sheets written as new sheets; the origin noted on
    the Read Me (added when the book has none)."""
    tags = (f"{nm.origin.period_start:%Y-%m}", f"{nm.inputs.settings.period_start:%Y-%m}")
    settings = [
        [col.name, _cell(input_sheets.setting_value(col, nm.inputs.settings))]
        for col in C.SETTING_ROWS.values()
    ]
    _write_table(book, C.SETTINGS, pd.DataFrame(settings, columns=["Setting", "Value"]), tags)
    frames = input_sheets.table_frames(nm.inputs)
    for name in MONTHLY_SHEETS:
        if name != C.SETTINGS:
            _write_table(book, name, frames[name], tags)
    readme = sheets.find_sheet(book, README_SHEET) or book.sheets.add(README_SHEET)
    used = readme.used_range
    row = used.row + used.shape[0] + 1
    lines = ["Where the opening came from", *nm.origin.lines()]
    readme.range((row, 1), (row + len(lines) - 1, 1)).value = [[t] for t in lines]


# ---- the journal as CSV -------------------------------------------------------------------

JOURNAL_HEADER = "Entry"
MONEY_COLUMNS = ("Debit", "Credit")


def journal_rows(values: list[list[object]]) -> tuple[list[str], list[list[object]]]:
    """The Journal table out of the tab's used range: its header and lines, totals left out."""
    for i, row in enumerate(values):
        if row and row[0] == JOURNAL_HEADER:
            header = [str(h) for h in row if h is not None]
            lines = []
            for line in values[i + 1 :]:
                if not line or line[0] in (None, "", "Total"):
                    break
                lines.append(list(line[: len(header)]))
            return header, lines
    raise Stop(
        f"the {C.JOURNAL_TAB} tab has no table with an {JOURNAL_HEADER} column; run the "
        "month-end again."
    )


def ledger_rows(header: list[str], lines: list[list[object]]) -> list[list[str]]:
    """The Journal tab's lines as ``backflush export-journal`` writes them (journal_csv):
    its columns, amounts with two decimals from whole cents, dates ISO, text that could run as
    a formula quoted; so the ribbon's file and the command line's are the same file."""
    from addin.workbook import journal_csv  # not in the Lite bundle (no Export Journal there)

    at = {h: k for k, h in enumerate(header)}
    tab_names = dict(zip(journal_csv.CSV_HEADER, journal_csv.CSV_HEADER, strict=True))
    tab_names["Description"] = "Account Name"  # the tab's header for the account's name
    missing = [tab_names[c] for c in journal_csv.CSV_HEADER if tab_names[c] not in at]
    if missing:
        raise Stop(f"the {C.JOURNAL_TAB} tab has no {', '.join(missing)} column; run again.")
    out = []
    for line in lines:
        row = []
        for column in journal_csv.CSV_HEADER:
            k = at[tab_names[column]]
            value = line[k] if k < len(line) else None
            if column in MONEY_COLUMNS and isinstance(value, (int, float)):
                row.append(journal_csv.amount_text(int(to_cents(float(value)))))
            else:
                row.append(csv_cell(value))
        out.append(row)
    return out


def csv_cell(value: object) -> str:
    """One CSV field: dates ISO, whole numbers without ".0", text that could run as a formula
    quoted."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return "'" + text if text.startswith(CSV_DANGEROUS) else text


__all__ = [
    "clear_results",
    "export_journal",
    "new_template",
    "roll_up_standards",
    "run_month_end",
    "start_next_month",
    "start_next_month_in_book",
    "validate_inputs",
]
