"""Write input workbooks in the contract's layout: the empty template, the demo, test books.

Each input sheet is an Excel table with a frozen header, typed number formats and drop-down
lists where the contract has a fixed set of words.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from addin.costing.model import MonthEndInputs, Settings
from addin.workbook import contract as c
from addin.workbook.input_sheets import setting_value, table_frames
from addin.workbook.writer import OutputError, atomic_write, xl_rowcol_to_cell

_FORMATS = {
    c.Kind.NUMBER: "#,##0.00##",
    c.Kind.PERCENT: "0.0%",
    c.Kind.DATE: "yyyy-mm-dd",
}

FIXED_DATE = dt.datetime(2026, 1, 1)


def _column_note(col: c.Column) -> str:
    """A column (or setting) as the Read Me lists it: its name and what to type."""
    if col.kind is c.Kind.CHOICE:
        return f"{col.name} ({', '.join(col.choices)})"
    if col.kind is c.Kind.YESNO:
        return f"{col.name} (Yes/No)"
    if col.kind is c.Kind.PERCENT:
        return f"{col.name} (type 5%, not 5)"
    return col.name


def _sheet_line(name: str, columns: Iterable[c.Column]) -> str:
    note = c.SHEETS_BY_NAME[name].note
    return f"{name}: {', '.join(map(_column_note, columns))}" + (
        f". {note[:1].upper()}{note[1:]}" if note else ""
    )


MONTH_AFTER_MONTH = (
    "Next month: the ribbon's Start Next Month, or backflush next THIS.xlsx, writes next "
    "month's workbook: Opening Balances = this month's closing (Quantity and Value), master "
    "data carried, movements and Counts empty, History with this month's figures.",
    "GL Balances: type each inventory account's balance from your general ledger (debit "
    "positive, credit negative; (1,234.50) is read as -1,234.50).",
)


def readme_lines(origin: Sequence[str] = ()) -> list[tuple[str, str]]:
    """The Read Me sheet, its sheet and column lists taken from the contract; ``origin``:
    where the Opening Balances came from (a workbook written by ``backflush next``)."""
    lines = [
        ("Backflush month-end workbook", "title"),
        ("Fill the input sheets (or paste from your ERP), then run the month-end:", ""),
        (
            "  In Excel: the Backflush ribbon tab > Run Month-End.   "
            "Without Excel: backflush run THIS.xlsx",
            "",
        ),
        *((t, "") for t in MONTH_AFTER_MONTH),
        ("", ""),
    ]
    if origin:
        lines += [("Where the opening came from", "head"), *((t, "") for t in origin), ("", "")]
    lines += [
        ("Input sheets", "head"),
        (_sheet_line(c.SETTINGS, c.SETTING_ROWS.values()), ""),
    ]
    lines += [
        (_sheet_line(spec.name, spec.columns), "")
        for spec in c.INPUT_SHEETS
        if spec.name != c.SETTINGS
    ]
    lines += [
        ("", ""),
        ("Result tabs (written by a run, replaced on every re-run)", "head"),
        (", ".join(c.RESULT_TABS), ""),
    ]
    return lines


def _cell_text(text: str, sheet: str, row: int, col: int) -> str:
    """``text`` when a cell can hold it; OutputError otherwise (xlsxwriter would cut it)."""
    if c.excel_length(text) > c.CELL_TEXT_LIMIT:
        raise OutputError(
            f"{sheet}!{xl_rowcol_to_cell(row, col)}: the text is {c.excel_length(text):,} "
            f"characters long, more than the {c.CELL_TEXT_LIMIT:,} an Excel cell holds"
        )
    return text


def _write_sheet(
    wb: xlsxwriter.Workbook, name: str, spec: c.SheetSpec | None, df: pd.DataFrame, fmts: dict
) -> None:
    ws = wb.add_worksheet(name)
    n = len(df)
    columns = []
    for header in df.columns:
        col = spec.column(header) if spec else None
        f = fmts.get(col.kind) if col else None
        columns.append({"header": header, **({"format": f} if f else {})})
    ws.add_table(
        0,
        0,
        max(n, 1),
        len(df.columns) - 1,
        {
            "name": name.replace(" ", ""),
            "columns": columns,
            "style": "Table Style Light 9",
        },
    )
    for j, header in enumerate(df.columns):
        col = spec.column(header) if spec else None
        f = fmts.get(col.kind) if col else None
        values = df[header].tolist()
        for i, v in enumerate(values):
            if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
                continue
            if isinstance(v, pd.Timestamp):
                ws.write_datetime(i + 1, j, v.to_pydatetime(), fmts[c.Kind.DATE])
            elif isinstance(v, (bool, np.bool_)):
                ws.write_string(i + 1, j, "Yes" if v else "No")
            elif isinstance(v, (int, float, np.integer, np.floating)):
                ws.write_number(i + 1, j, float(v), f)
            else:
                ws.write_string(i + 1, j, _cell_text(str(v), name, i + 1, j))
        width = max([len(header) + 4] + [len(str(v)) + 2 for v in values[:500]])
        ws.set_column(j, j, min(width, 40))
        if col and col.kind in (c.Kind.CHOICE, c.Kind.YESNO):
            choices = list(col.choices) if col.kind == c.Kind.CHOICE else ["Yes", "No"]
            ws.data_validation(
                1,
                j,
                max(n, 1) + 500,
                j,
                {"validate": "list", "source": choices, "error_type": "warning"},
            )
    ws.freeze_panes(1, 0)


def _write_settings(wb: xlsxwriter.Workbook, settings: Settings | None, fmts: dict) -> None:
    """The Settings sheet: one row per setting of the contract, typed and with drop-downs."""
    ws = wb.add_worksheet(c.SETTINGS)
    rows = list(c.SETTING_ROWS.values())
    ws.add_table(
        0,
        0,
        len(rows),
        1,
        {
            "name": "Settings",
            "style": "Table Style Light 9",
            "columns": [{"header": "Setting"}, {"header": "Value"}],
        },
    )
    for i, col in enumerate(rows, start=1):
        ws.write_string(i, 0, col.name)
        v = setting_value(col, settings)
        if isinstance(v, (dt.date, dt.datetime)):
            ws.write_datetime(i, 1, pd.Timestamp(v).to_pydatetime(), fmts[c.Kind.DATE])
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            ws.write_number(i, 1, float(v), fmts.get(col.kind))
        elif v:
            ws.write_string(i, 1, _cell_text(str(v), c.SETTINGS, i, 1))
        elif col.kind is c.Kind.DATE:
            ws.write_blank(i, 1, None, fmts[c.Kind.DATE])
        if col.kind is c.Kind.CHOICE:
            ws.data_validation(
                i,
                1,
                i,
                1,
                {"validate": "list", "source": list(col.choices), "error_type": "warning"},
            )
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 22)
    ws.freeze_panes(1, 0)


def write_input_workbook(
    inputs: MonthEndInputs | None, path: Path, origin: Sequence[str] = ()
) -> None:
    """Write ``inputs`` (None: an empty template) as an input workbook at ``path``;
    ``origin``: the Read Me's note of where the Opening Balances came from."""

    def write(tmp: Path) -> None:
        wb = xlsxwriter.Workbook(str(tmp))
        # fixed document dates so the bundled workbooks regenerate byte for byte
        wb.set_properties({"title": "Backflush month-end inputs", "created": FIXED_DATE})
        fmts = {k: wb.add_format({"num_format": v}) for k, v in _FORMATS.items()}
        title = wb.add_format({"bold": True, "font_size": 14})
        head = wb.add_format({"bold": True, "font_color": "#1F4E78"})
        ws = wb.add_worksheet("Read Me")
        for i, (text, style) in enumerate(readme_lines(origin)):
            ws.write_string(
                i, 0, text, title if style == "title" else head if style == "head" else None
            )
        ws.set_column(0, 0, 120)
        _write_settings(wb, inputs.settings if inputs else None, fmts)
        for name, df in table_frames(inputs).items():
            _write_sheet(wb, name, c.SHEETS_BY_NAME[name], df, fmts)
        wb.close()

    atomic_write(Path(path), write)
