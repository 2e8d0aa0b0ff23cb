"""Write small input workbooks the way a user would (openpyxl, plain ranges), and read results."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl


def write_book(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    """Each sheet: a header row then data rows, starting at A1."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def horngren_book(path: Path, trigger: str) -> Path:
    """The spec's worked example, entered as section 5 suggests."""
    d = dt.datetime(2026, 10, 31)
    return write_book(
        path,
        {
            "Settings": [
                ["Setting", "Value"],
                ["Period Start", dt.datetime(2026, 10, 1)],
                ["Period End", d],
                ["Trigger", trigger],
            ],
            "Standard Costs": [
                ["Item", "Description", "Type", "Material", "Conversion"],
                ["DM", "Direct materials", "Raw", 1.00, 0],
                ["KB", "Keyboard", "Finished", 0, 12.00],
            ],
            "BOM": [["Parent", "Component", "Qty Per"], ["KB", "DM", 19]],
            "Purchases": [["Date", "Item", "Quantity", "Unit Price"], [d, "DM", 1_950_000, 1.00]],
            "Completions": [["Date", "Item", "Quantity"], [d, "KB", 100_000]],
            "Sales": [["Date", "Item", "Quantity"], [d, "KB", 99_000]],
            "Conversion Costs": [["Date", "Amount"], [d, 1_260_000]],
        },
    )


def read_table(path: Path, sheet: str) -> list[dict[str, Any]]:
    """The rows of the Excel table on a result tab, as dicts keyed by header (no totals row)."""
    wb = openpyxl.load_workbook(path, data_only=True)
    ws = wb[sheet]
    (table,) = ws.tables.values()
    cells = list(ws[table.ref])
    header = [c.value for c in cells[0]]
    body = cells[1:-1] if table.totalsRowCount else cells[1:]
    return [dict(zip(header, (c.value for c in row), strict=True)) for row in body]
