"""The use cases shared by the command line and Excel: check inputs, run the month-end, write.

Data flows one way: sheets -> validated inputs -> engine -> result tabs -> a workbook.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pandas as pd

from addin.costing.engine import InputError, MonthEndResult, run_month_end
from addin.costing.model import Finding, MonthEndInputs, Severity
from addin.workbook.tabs import RunInfo, Tab, result_tabs

Progress = Callable[[str, float], None]

# a sheet holds 1,048,576 rows; the tab's title rows, header and totals take the rest
DETAIL_ROW_LIMIT = 1_048_576 - 10

FRAME_NAMES = {
    "standard_costs": "Standard Costs",
    "bom": "BOM",
    "purchases": "Purchases",
    "completions": "Completions",
    "sales": "Sales",
    "conversion_costs": "Conversion Costs",
    "counts": "Counts",
    "opening_balances": "Opening Balances",
}


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


def check_workbook(path: Path, progress: Progress | None = None) -> Checked:
    """Read and validate an input workbook file; every problem found in one pass."""
    from addin.workbook.reader import read_workbook
    from addin.workbook.validate import parse_inputs

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
        lines = backflush_detail(inputs, max_rows=DETAIL_ROW_LIMIT)
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
    "month_end",
    "write_result_workbook",
]
