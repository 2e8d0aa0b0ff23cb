"""Write input workbooks in the contract's layout: the empty template, the demo, test books.

Each input sheet is an Excel table with a frozen header, typed number formats and drop-down
lists where the contract has a fixed set of words.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from addin.costing.model import DEFAULT_ACCOUNTS, MonthEndInputs
from addin.workbook import contract as c
from addin.workbook.writer import atomic_write

# engine field -> contract column header, per sheet
_FIELD_HEADERS = {
    spec.name: {col.field: col.name for col in spec.columns} for spec in c.INPUT_SHEETS
}
_FORMATS = {
    c.Kind.NUMBER: "#,##0.00##",
    c.Kind.PERCENT: "0.0%",
    c.Kind.DATE: "yyyy-mm-dd",
}

FIXED_DATE = dt.datetime(2026, 1, 1)

README_LINES = [
    ("Backflush month-end workbook", "title"),
    ("Fill the input sheets (or paste from your ERP), then run the month-end:", ""),
    (
        "  In Excel: the Backflush ribbon tab > Run Month-End.   Without Excel: backflush run THIS.xlsx",
        "",
    ),
    ("", ""),
    ("Input sheets", "head"),
    (
        "Settings: Period Start, Period End, Trigger (purchase+completion, purchase+sale, completion, sale), "
        "Currency, Conversion Variance (COGS or Prorate), Count Tolerance %",
        "",
    ),
    (
        "Standard Costs: Item, Description, Type (Raw, Subassembly, Finished, Phantom), UoM, Material, "
        "Conversion or Labor + Overhead (this level's standard per unit), Backflush (Yes/No)",
        "",
    ),
    (
        "BOM: Parent, Component, Qty Per (per parent unit), Scrap % (type 5%, not 5), Effective From, Effective To",
        "",
    ),
    ("Purchases: Date, Item, Quantity, Unit Price (actual), Reference", ""),
    ("Completions: Date, Item, Quantity (good units), Scrap Quantity, Reference", ""),
    ("Sales: Date, Item, Quantity, Reference", ""),
    (
        "Conversion Costs: Date, Element (Labor, Overhead, Conversion), Amount (actual), Reference",
        "",
    ),
    ("Counts: Item, Counted Quantity, Date (blank = Period End)", ""),
    ("Opening Balances: Item, Account (MIP or FG), Quantity", ""),
    ("Accounts: Role, Account (your GL code), Name. Missing roles use the defaults shown.", ""),
    ("", ""),
    ("Result tabs (written by a run, replaced on every re-run)", "head"),
    ("Summary, Journal, Variances, Backflush, Inventory, Cost Rollup, Exceptions, Run Log", ""),
]


def _sheet_frame(spec: c.SheetSpec, frame: pd.DataFrame | None) -> pd.DataFrame:
    headers = _FIELD_HEADERS[spec.name]
    cols = [
        col for col in spec.columns if col.required or (frame is not None and col.field in frame)
    ]
    if spec.name == c.STANDARD_COSTS and frame is not None:
        split = "labor" in frame and frame["labor"].notna().any()
        drop = {"Conversion"} if split else {"Labor", "Overhead"}
        cols = [col for col in spec.columns if col.name not in drop]
    out = pd.DataFrame(
        {
            headers[col.field]: (
                frame[col.field]
                if frame is not None and col.field in frame
                else pd.Series(dtype=object)
            )
            for col in cols
        }
    )
    return out


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
                ws.write_string(i + 1, j, str(v))
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


def write_input_workbook(inputs: MonthEndInputs | None, path: Path) -> None:
    """Write ``inputs`` (None: an empty template) as an input workbook at ``path``."""

    def write(tmp: Path) -> None:
        wb = xlsxwriter.Workbook(str(tmp))
        # fixed document dates so the bundled workbooks regenerate byte for byte
        wb.set_properties({"title": "Backflush month-end inputs", "created": FIXED_DATE})
        fmts = {k: wb.add_format({"num_format": v}) for k, v in _FORMATS.items()}
        title = wb.add_format({"bold": True, "font_size": 14})
        head = wb.add_format({"bold": True, "font_color": "#1F4E78"})
        ws = wb.add_worksheet("Read Me")
        for i, (text, style) in enumerate(README_LINES):
            ws.write_string(
                i, 0, text, title if style == "title" else head if style == "head" else None
            )
        ws.set_column(0, 0, 120)
        # Settings
        s = inputs.settings if inputs else None
        settings_rows = [
            ("Period Start", pd.Timestamp(s.period_start) if s else None),
            ("Period End", pd.Timestamp(s.period_end) if s else None),
            ("Trigger", s.trigger.value if s else "purchase+completion"),
            ("Currency", s.currency if s else "USD"),
            ("Conversion Variance", s.conversion_variance if s else "COGS"),
            ("Count Tolerance %", s.count_tolerance if s else 0.02),
            ("Company", s.company if s else ""),
        ]
        ws = wb.add_worksheet(c.SETTINGS)
        ws.add_table(
            0,
            0,
            len(settings_rows),
            1,
            {
                "name": "Settings",
                "style": "Table Style Light 9",
                "columns": [{"header": "Setting"}, {"header": "Value"}],
            },
        )
        for i, (k, v) in enumerate(settings_rows, start=1):
            ws.write_string(i, 0, k)
            if isinstance(v, pd.Timestamp):
                ws.write_datetime(i, 1, v.to_pydatetime(), fmts[c.Kind.DATE])
            elif isinstance(v, float):
                ws.write_number(i, 1, v, fmts[c.Kind.PERCENT] if k.endswith("%") else None)
            elif v:
                ws.write_string(i, 1, v)
        ws.data_validation(
            3, 1, 3, 1, {"validate": "list", "source": list(c.TRIGGERS), "error_type": "warning"}
        )
        ws.set_column(0, 0, 24)
        ws.set_column(1, 1, 22)
        ws.freeze_panes(1, 0)
        frames = {
            c.STANDARD_COSTS: inputs.standard_costs if inputs else None,
            c.BOM: inputs.bom if inputs else None,
            c.PURCHASES: inputs.purchases if inputs else None,
            c.COMPLETIONS: inputs.completions if inputs else None,
            c.SALES: inputs.sales if inputs else None,
            c.CONVERSION_COSTS: inputs.conversion_costs if inputs else None,
            c.COUNTS: inputs.counts if inputs else None,
            c.OPENING_BALANCES: inputs.opening_balances if inputs else None,
        }
        for name, frame in frames.items():
            spec = c.SHEETS_BY_NAME[name]
            df = _sheet_frame(spec, frame)
            _write_sheet(wb, name, spec, df, fmts)
        accounts = inputs.accounts if inputs and inputs.accounts else {}
        acc = pd.DataFrame(
            {
                "Role": list(DEFAULT_ACCOUNTS),
                "Account": [
                    accounts[r].code if r in accounts else DEFAULT_ACCOUNTS[r][0]
                    for r in DEFAULT_ACCOUNTS
                ],
                "Name": [
                    accounts[r].name if r in accounts else DEFAULT_ACCOUNTS[r][1]
                    for r in DEFAULT_ACCOUNTS
                ],
            }
        )
        _write_sheet(wb, c.ACCOUNTS, c.SHEETS_BY_NAME[c.ACCOUNTS], acc, fmts)
        wb.close()

    atomic_write(Path(path), write)
