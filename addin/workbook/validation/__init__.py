"""Validation: neutral sheet rows in, :class:`MonthEndInputs` (or every problem) out.

``parse_inputs`` reads every input sheet named in :mod:`addin.workbook.contract`, converts cells
by the column's :class:`~addin.workbook.cells.Kind`, checks the cross-sheet rules (items,
phantoms, BOM cycles, the period) and returns all findings of one pass. Each finding names the
sheet as spelled in the workbook, the cell ("C14"; "" for a whole sheet) and the item where one
is concerned, and ends with what to do.

One module per concern:

- :mod:`.report`: findings, capped per rule and column;
- :mod:`.table`: locating a sheet's header, columns and data rows (and cells outside its table);
- :mod:`.columns`: whole columns parsed into typed arrays (cells read by
  :mod:`addin.workbook.cells`), blanks in required columns;
- :mod:`.sheets`: matching the workbook's sheets to the contract's;
- :mod:`.settings`, :mod:`.accounts`, :mod:`.standard_costs`, :mod:`.bom`, :mod:`.movements`,
  :mod:`.balances` (GL Balances, History): the sheets and their rules; :mod:`.items`: item
  codes and types across sheets;
- :mod:`.frames`: the engine's frames, their columns and dtypes from the contract.

Conventions:
- Sheet, column and setting names, item codes and choices match case-insensitively with
  surrounding spaces ignored (``cells.normalize_name``).
- Dates are day precision: a time of day is dropped. Frames carry ``source_row``, the 1-based
  worksheet row.
- A rule that fires on very many cells of one column reports the first
  ``MAX_FINDINGS_PER_RULE`` cells and one summary finding for the rest.
"""

from __future__ import annotations

from collections.abc import Iterable

from addin.costing.model import Finding, MonthEndInputs
from addin.workbook import contract as C
from addin.workbook.reader import SheetRows
from addin.workbook.validation.accounts import parse_accounts
from addin.workbook.validation.balances import parse_gl_balances, parse_history
from addin.workbook.validation.bom import parse_bom, per_order_lines, phantoms_without_bom
from addin.workbook.validation.byproducts import check_obtained_lines
from addin.workbook.validation.columns import Frame
from addin.workbook.validation.movements import parse_movements
from addin.workbook.validation.report import MAX_FINDINGS_PER_RULE, Report
from addin.workbook.validation.settings import parse_settings
from addin.workbook.validation.sheets import find_sheets, load
from addin.workbook.validation.standard_costs import parse_standard_costs

_OPTIONAL = [s.name for s in C.INPUT_SHEETS if s.name not in (C.SETTINGS, C.STANDARD_COSTS)]
_MOVEMENTS = (C.PURCHASES, C.COMPLETIONS, C.SALES, C.CONVERSION_COSTS, C.COUNTS,
              C.OPENING_BALANCES)  # fmt: skip


def _column_letters(frames: Iterable[Frame | None]) -> dict[str, dict[str, str]]:
    """Sheet -> contract column -> the letter it was read from (the user's column order)."""
    return {
        f.table.spec.name: {col: f.table.letter(col) for col in f.table.columns}
        for f in frames
        if f is not None
    }


def parse_inputs(
    sheets: dict[str, SheetRows],
) -> tuple[MonthEndInputs | None, list[Finding]]:
    """Validate the input sheets into :class:`MonthEndInputs`.

    Returns (None, findings) when any finding is an ERROR; otherwise the inputs and the
    warnings/infos. Every rule runs on every sheet that could be read, so one pass lists all
    problems.
    """
    report = Report()
    found = find_sheets(sheets, report)
    settings, period = parse_settings(found, report)
    std = load(found, C.STANDARD_COSTS, report, required=True)
    frames = {name: load(found, name, report) for name in _OPTIONAL}
    accounts = parse_accounts(frames[C.ACCOUNTS], report)
    parsed = parse_standard_costs(std, report, period)
    standard_costs, items = (parsed.in_force, parsed.items) if parsed else (None, None)
    bom = parse_bom(frames[C.BOM], items, report)
    if std is not None and items is not None:
        phantoms_without_bom(std, items, bom, report)
    per_order_lines(frames[C.BOM], standard_costs, bom, report)
    check_obtained_lines(frames[C.BOM], bom, standard_costs, report)
    moves = {n: parse_movements(n, frames[n], items, period, report) for n in _MOVEMENTS}
    gl = parse_gl_balances(frames[C.GL_BALANCES], accounts, report)
    history = parse_history(frames[C.HISTORY], period, report)
    findings = report.finish()
    if report.has_errors or settings is None or standard_costs is None:
        return None, findings
    by_attr = {"standard_costs": standard_costs, "bom": bom, "gl_balances": gl, "history": history}
    by_attr["standard_changes"] = parsed.changes if parsed else None
    by_attr |= {C.SHEETS_BY_NAME[n].frame: frame for n, frame in moves.items()}
    return (
        MonthEndInputs(
            settings=settings,
            accounts=accounts,
            columns=_column_letters([std, *frames.values()]),
            **by_attr,  # type: ignore[arg-type]
        ),
        findings,
    )


__all__ = ["MAX_FINDINGS_PER_RULE", "parse_inputs"]
