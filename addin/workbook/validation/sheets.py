"""Matching the workbook's sheets to the contract's, and reading one into a parsed frame."""

from __future__ import annotations

from addin.workbook import contract as C
from addin.workbook.cells import normalize_name
from addin.workbook.reader import SheetRows
from addin.workbook.validation.columns import Frame, missing_columns, parse_table
from addin.workbook.validation.report import Report
from addin.workbook.validation.table import closest, locate


def _report_unknown(unmatched: list[str], absent: list[str], report: Report) -> None:
    """Sheets that are neither input sheets nor result tabs but look like a missing one."""
    results = {normalize_name(r) for r in C.RESULT_TABS}
    for name in unmatched:
        if normalize_name(name) in results:
            continue
        guess = closest(name, absent, cutoff=0.8)
        if guess:
            report.error(
                "unknown sheet",
                f'sheet "{name}" is not known; did you mean "{guess}"? Rename the sheet',
                name,
            )


def find_sheets(sheets: dict[str, SheetRows], report: Report) -> dict[str, SheetRows]:
    """Contract sheet name -> the workbook's sheet, matched by normalised name."""
    by_key = {normalize_name(s.name): s for s in C.INPUT_SHEETS}
    out: dict[str, SheetRows] = {}
    unmatched: list[str] = []
    for name, sr in sheets.items():
        spec = by_key.get(normalize_name(name))
        if spec is None:
            unmatched.append(name)
        elif spec.name in out:
            report.error(
                "duplicate sheet",
                f'sheets "{out[spec.name].name}" and "{name}" both look like "{spec.name}"; '
                "delete or rename one of them",
                name,
            )
        else:
            out[spec.name] = sr
    _report_unknown(unmatched, [s.name for s in C.INPUT_SHEETS if s.name not in out], report)
    for spec in C.INPUT_SHEETS:
        if spec.required and spec.name not in out:
            report.error(
                "missing sheet",
                f'the workbook has no "{spec.name}" sheet; add it (see the template)',
                spec.name,
            )
    return out


def load(
    found: dict[str, SheetRows], name: str, report: Report, required: bool = False
) -> Frame | None:
    """The contract sheet ``name`` parsed, or None when it is absent, empty or unusable."""
    sr = found.get(name)
    if sr is None:
        return None
    spec = C.SHEETS_BY_NAME[name]
    t = locate(sr, spec, report)
    if t is None:
        if required:
            report.error(
                "empty sheet",
                f"sheet is empty; add a header row ({', '.join(c.name for c in spec.columns)})"
                " and the data",
                sr.name,
            )
        return None
    if missing_columns(t, report):
        return None
    return parse_table(t, report)
