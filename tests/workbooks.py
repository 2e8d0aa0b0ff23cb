"""Small inline workbooks for the reader and validation tests (openpyxl, written to tmp_path)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
from openpyxl.worksheet.table import Table

from addin.costing.model import Finding, MonthEndInputs, Severity
from addin.workbook.reader import read_workbook
from addin.workbook.validate import parse_inputs

Rows = list[list[object]]


def tidy() -> dict[str, Rows]:
    """Horngren's keyboard example (domain spec, section 5) as sheets of rows from A1."""
    return {
        "Settings": [
            ["Setting", "Value"],
            ["Period Start", dt.date(2026, 10, 1)],
            ["Period End", dt.date(2026, 10, 31)],
            ["Trigger", "purchase+completion"],
        ],
        "Standard Costs": [
            ["Item", "Description", "Type", "Material", "Conversion"],
            ["KB", "Keyboard", "Finished", 0, 12],
            ["DM", "Direct materials", "Raw", 1, 0],
        ],
        "BOM": [["Parent", "Component", "Qty Per", "Scrap %"], ["KB", "DM", 19, 0]],
        "Purchases": [
            ["Date", "Item", "Quantity", "Unit Price"],
            [dt.date(2026, 10, 2), "DM", 1_950_000, 1],
        ],
        "Completions": [["Date", "Item", "Quantity"], [dt.date(2026, 10, 30), "KB", 100_000]],
        "Sales": [["Date", "Item", "Quantity"], [dt.date(2026, 10, 31), "KB", 99_000]],
        "Conversion Costs": [["Date", "Amount"], [dt.date(2026, 10, 31), 1_260_000]],
    }


def save(
    path: Path,
    sheets: dict[str, Rows],
    origin: dict[str, str] | None = None,
    tables: dict[str, str] | None = None,
    merged: dict[str, str] | None = None,
) -> Path:
    """Write ``sheets`` with openpyxl. ``origin`` puts a sheet's first row at e.g. "B3";
    ``tables`` makes the written range an Excel table with a title in the row above it."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        r0, c0 = 1, 1
        if origin and name in origin:
            cell = ws[origin[name]]
            r0, c0 = cell.row, cell.column
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if v is not None:
                    ws.cell(r0 + i, c0 + j, v)
        if tables and name in tables:
            ws.cell(r0 - 1, c0, f"{name} for October")
            last = openpyxl.utils.get_column_letter(c0 + len(rows[0]) - 1)
            ref = f"{openpyxl.utils.get_column_letter(c0)}{r0}:{last}{r0 + len(rows) - 1}"
            ws.add_table(Table(displayName=tables[name], ref=ref))
        if merged and name in merged:
            ws.merge_cells(merged[name])
    wb.save(path)
    return path


def run(
    tmp_path: Path, sheets: dict[str, Rows], **kwargs: object
) -> tuple[MonthEndInputs | None, list[Finding]]:
    """Write, read and validate; file-level findings come first."""
    sheet_rows, findings = read_workbook(save(tmp_path / "book.xlsx", sheets, **kwargs))
    inputs, more = parse_inputs(sheet_rows)
    return inputs, findings + more


def errors(findings: list[Finding]) -> list[str]:
    return [str(f) for f in findings if f.severity is Severity.ERROR]


def texts(findings: list[Finding]) -> list[str]:
    return [str(f) for f in findings]
