"""Result tabs as neutral descriptions: headers, column kinds, values, totals, formulas.

Both writers (xlsxwriter for result files, xlwings for the open workbook in Excel) render these
same descriptions, so a tab looks the same whichever face produced it. No file or Excel here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from addin.costing.engine import MonthEndResult
from addin.costing.model import Severity

ColumnKind = Literal["text", "date", "money", "qty", "price", "int", "percent"]

# Excel number formats, one per kind. Accounting format for money: negatives in parentheses,
# zero as a dash, aligned on the decimal point.
NUMBER_FORMATS: dict[str, str] = {
    "money": '_(* #,##0.00_);_(* (#,##0.00);_(* "-"??_);_(@_)',
    "qty": "#,##0.####;-#,##0.####;0",
    "price": "#,##0.00##;-#,##0.00##;0.00",
    "int": "#,##0",
    "percent": "0.0%",
    "date": "yyyy-mm-dd",
    "text": "@",
}


@dataclass(frozen=True)
class Col:
    """One column of a result table."""

    header: str
    kind: ColumnKind = "text"
    total: bool = False  # a SUBTOTAL(109, ...) in the totals row
    width: float | None = None  # characters; None = fit the contents
    # Formula for each data row, naming other columns of the same row in braces, e.g.
    # "={Opening Qty}+{In Qty}"; writers turn the names into cell addresses (E5+F5). Cached
    # values still come from ``Tab.data`` so every reader sees the engine's figure.
    formula: str | None = None


@dataclass(frozen=True)
class Block:
    """A free-form block on a tab (the Summary): a caption, a header and rows.

    ``kinds`` gives each column's kind; a row may carry one extra element, the kind of its
    last value (e.g. a count among money figures).
    """

    caption: str
    header: tuple[str, ...]
    rows: list[tuple[object, ...]]
    kinds: tuple[ColumnKind, ...]


@dataclass(frozen=True)
class Chart:
    """A bar chart of one block's column (categories from its first column)."""

    title: str
    block: int  # index into Tab.blocks
    value_column: int


@dataclass(frozen=True)
class Tab:
    """One result tab: a title, then either one Excel table (``columns``/``data``) or blocks."""

    name: str
    title: str
    subtitle: str = ""
    columns: tuple[Col, ...] = ()
    data: pd.DataFrame = field(default_factory=pd.DataFrame)  # one column per Col, same order
    blocks: tuple[Block, ...] = ()
    charts: tuple[Chart, ...] = ()
    table_name: str = ""

    HEADER_ROW = 3  # 0-based worksheet row of the table header (title, subtitle, blank above)


def _money(cents: pd.Series | np.ndarray) -> np.ndarray:
    return np.asarray(cents, dtype=np.int64) / 100.0


def _table(name: str, title: str, subtitle: str, cols: list[Col], data: dict[str, object]) -> Tab:
    frame = pd.DataFrame({c.header: data[c.header] for c in cols})
    return Tab(name, title, subtitle, tuple(cols), frame, table_name=name.replace(" ", ""))


@dataclass(frozen=True)
class RunInfo:
    """Facts about a run that are not accounting: where the inputs came from and when."""

    input_name: str = ""
    run_at: dt.datetime = field(default_factory=lambda: dt.datetime.now().replace(microsecond=0))
    fingerprint: str = ""
    row_counts: dict[str, int] = field(default_factory=dict)
    version: str = ""


def result_tabs(result: MonthEndResult, info: RunInfo | None = None) -> list[Tab]:
    """All result tabs of a run, in workbook order (contract.RESULT_TABS)."""
    info = info or RunInfo()
    s = result.inputs.settings
    company = s.company or "Backflush month-end"
    period = f"{s.period_start:%d %b %Y} to {s.period_end:%d %b %Y}"
    sub = f"{period} · trigger: {s.trigger.value} · {s.currency} · run {info.run_at:%Y-%m-%d %H:%M}"
    return [
        summary_tab(result, info, company, sub),
        journal_tab(result, company, sub),
        variances_tab(result, company, sub),
        backflush_tab(result, company, sub),
        inventory_tab(result, company, sub),
        rollup_tab(result, company, sub),
        exceptions_tab(result, company, sub),
        run_log_tab(result, info, company, sub),
    ]


def journal_tab(r: MonthEndResult, company: str, sub: str) -> Tab:
    j = r.journal
    cols = [
        Col("Entry"),
        Col("Date", "date"),
        Col("Account"),
        Col("Account Name"),
        Col("Debit", "money", total=True),
        Col("Credit", "money", total=True),
        Col("Memo", width=60),
        Col("Reference", width=30),
    ]
    data = {
        "Entry": j["entry"],
        "Date": j["date"],
        "Account": j["account"],
        "Account Name": j["account_name"],
        "Debit": np.where(j["debit_cents"] > 0, _money(j["debit_cents"]), np.nan),
        "Credit": np.where(j["credit_cents"] > 0, _money(j["credit_cents"]), np.nan),
        "Memo": j["memo"],
        "Reference": j["reference"],
    }
    return _table("Journal", f"{company}: journal entries", sub, cols, data)


def variances_tab(r: MonthEndResult, company: str, sub: str) -> Tab:
    v = r.variances
    cols = [
        Col("Type"),
        Col("Item"),
        Col("Description", width=30),
        Col("Quantity", "qty"),
        Col("Standard", "price"),
        Col("Amount", "money", total=True),
        Col("F/U"),
        Col("Account"),
        Col("Memo", width=50),
    ]
    data = {
        "Type": v["type"],
        "Item": v["item"],
        "Description": v["description"],
        "Quantity": v["quantity"],
        "Standard": v["standard"],
        "Amount": _money(v["amount_cents"]),
        "F/U": v["fu"],
        "Account": v["account"],
        "Memo": v["memo"],
    }
    return _table("Variances", f"{company}: variances (positive = unfavourable)", sub, cols, data)


def backflush_tab(r: MonthEndResult, company: str, sub: str) -> Tab:
    b = r.backflush
    cols = [
        Col("Trigger Event"),
        Col("Component"),
        Col("Description", width=30),
        Col("UoM"),
        Col("Quantity", "qty", total=True),
        Col("Standard Cost", "price"),
        Col("Amount", "money", total=True),
        Col("Flushed"),
        Col("Credited To"),
    ]
    data = {
        "Trigger Event": b["event"],
        "Component": b["component"],
        "Description": b["description"],
        "UoM": b["uom"],
        "Quantity": b["quantity"],
        "Standard Cost": b["standard"],
        "Amount": _money(b["amount_cents"]),
        "Flushed": np.where(b["flushed"].astype(bool), "Yes", "No"),
        "Credited To": [r.inputs.account(x).code for x in b["credited_to"]],
    }
    return _table("Backflush", f"{company}: components consumed at standard", sub, cols, data)


def inventory_tab(r: MonthEndResult, company: str, sub: str) -> Tab:
    i = r.inventory
    cols = [
        Col("Account"),
        Col("Item"),
        Col("Description", width=28),
        Col("Standard", "price"),
        Col("Opening Qty", "qty"),
        Col("In Qty", "qty"),
        Col("Out Qty", "qty"),
        Col("Book Qty", "qty", formula="={Opening Qty}+{In Qty}-{Out Qty}"),
        Col("Count Date", "date"),
        Col("Book at Count", "qty"),
        Col("Counted Qty", "qty"),
        Col("Difference", "qty"),
        Col("Ending Qty", "qty", formula="={Book Qty}-N({Difference})"),
        Col("Opening Value", "money", total=True),
        Col("In Value", "money", total=True),
        Col("Out Value", "money", total=True),
        Col("Count Adjustment", "money", total=True),
        Col("Other Adjustments", "money", total=True),
        Col(
            "Ending Value",
            "money",
            total=True,
            formula="={Opening Value}+{In Value}-{Out Value}+{Count Adjustment}"
            "+{Other Adjustments}",
        ),
    ]
    data = {
        "Account": [r.inputs.account(x).code for x in i["role"]],
        "Item": i["item"],
        "Description": i["description"],
        "Standard": i["standard"],
        "Opening Qty": i["opening_qty"],
        "In Qty": i["in_qty"],
        "Out Qty": i["out_qty"],
        "Book Qty": i["book_qty"],
        "Count Date": i["count_date"],
        "Book at Count": i["book_at_count"],
        "Counted Qty": i["counted_qty"],
        "Difference": i["difference"],
        "Ending Qty": i["ending_qty"],
        "Opening Value": _money(i["opening_cents"]),
        "In Value": _money(i["in_cents"]),
        "Out Value": _money(i["out_cents"]),
        "Count Adjustment": _money(i["count_cents"]),
        "Other Adjustments": _money(i["other_cents"]),
        "Ending Value": _money(i["ending_cents"]),
    }
    return _table("Inventory", f"{company}: inventory roll-forward at standard", sub, cols, data)


def rollup_tab(r: MonthEndResult, company: str, sub: str) -> Tab:
    c = r.rollup
    cols = [
        Col("Item"),
        Col("Description", width=30),
        Col("Type"),
        Col("UoM"),
        Col("Level", "int"),
        Col("Material (this level)", "price"),
        Col("Labor (this level)", "price"),
        Col("Overhead (this level)", "price"),
        Col("Conversion (this level)", "price"),
        Col("Rolled Material", "price"),
        Col("Rolled Labor", "price"),
        Col("Rolled Overhead", "price"),
        Col("Rolled Conversion", "price"),
        Col("Rolled Total", "price", formula="={Rolled Material}+{Rolled Conversion}"),
        Col("Has BOM"),
        Col("Backflush"),
    ]
    data = {
        "Item": c["item"],
        "Description": c["description"],
        "Type": c["item_type"],
        "UoM": c["uom"],
        "Level": c["level"],
        "Material (this level)": c["own_material"],
        "Labor (this level)": c["own_labor"],
        "Overhead (this level)": c["own_overhead"],
        "Conversion (this level)": c["own_conversion"],
        "Rolled Material": c["rolled_material"],
        "Rolled Labor": c["rolled_labor"],
        "Rolled Overhead": c["rolled_overhead"],
        "Rolled Conversion": c["rolled_conversion"],
        "Rolled Total": c["rolled_total"],
        "Has BOM": np.where(c["has_bom"], "Yes", "No"),
        "Backflush": np.where(c["backflush"], "Yes", "No"),
    }
    return _table("Cost Rollup", f"{company}: standard cost roll-up (per unit)", sub, cols, data)


SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def exceptions_tab(r: MonthEndResult, company: str, sub: str) -> Tab:
    found = sorted(r.findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.check, f.item))
    cols = [
        Col("Severity"),
        Col("Check", width=26),
        Col("Item"),
        Col("Location", width=22),
        Col("Message", width=100),
    ]
    data = {
        "Severity": [f.severity.value for f in found],
        "Check": [f.check for f in found],
        "Item": [f.item for f in found],
        "Location": [f.location for f in found],
        "Message": [f.message for f in found],
    }
    return _table("Exceptions", f"{company}: exceptions to review", sub, cols, data)


def summary_tab(r: MonthEndResult, info: RunInfo, company: str, sub: str) -> Tab:
    j = r.journal
    tb = r.trial_balance
    tb = tb[(tb["opening_cents"] != 0) | (tb["debit_cents"] != 0) | (tb["credit_cents"] != 0)]
    inputs = r.inputs
    key = Block(
        "Key figures",
        ("Figure", "Value"),
        [
            ("Journal entries posted", r.entries, "int"),
            ("Total debits", int(j["debit_cents"].sum()) / 100),
            ("Total credits", int(j["credit_cents"].sum()) / 100),
            ("Units completed", float(inputs.completions["quantity"].sum()), "qty"),
            ("Units scrapped", float(inputs.completions["scrap_quantity"].fillna(0).sum()), "qty"),
            ("Units sold", float(inputs.sales["quantity"].sum()), "qty"),
            (
                "Exceptions: warnings",
                sum(f.severity is Severity.WARNING for f in r.findings),
                "int",
            ),
            (
                "Exceptions: information",
                sum(f.severity is Severity.INFO for f in r.findings),
                "int",
            ),
        ],
        ("text", "money"),
    )
    ledger = Block(
        "Ledger balances",
        ("Account", "Account Name", "Opening", "Debits", "Credits", "Closing"),
        [
            (
                row.account,
                row.account_name,
                row.opening_cents / 100,
                row.debit_cents / 100,
                row.credit_cents / 100,
                row.closing_cents / 100,
            )
            for row in tb.itertuples()
        ],
        ("text", "text", "money", "money", "money", "money"),
    )
    v = r.variances
    by_type = v.groupby("type", sort=False)["amount_cents"].sum()
    var_rows = []
    for t in ("price", "usage", "scrap", "conversion"):
        cents = int(by_type.get(t, 0))
        var_rows.append((t, cents / 100, "U" if cents > 0 else "F" if cents < 0 else ""))
    variances = Block(
        "Variances by type", ("Type", "Amount", "F/U"), var_rows, ("text", "money", "text")
    )
    checks = Block(
        "Checks",
        ("Check", "Result", "Detail"),
        [(name, "PASS" if ok else "FAIL", detail) for name, ok, detail in r.checks],
        ("text", "text", "text"),
    )
    return Tab(
        "Summary",
        f"{company}: backflush month-end summary",
        sub,
        blocks=(key, ledger, variances, checks),
        charts=(Chart("Variances by type (positive = unfavourable)", 2, 1),),
    )


def run_log_tab(r: MonthEndResult, info: RunInfo, company: str, sub: str) -> Tab:
    s = r.inputs.settings
    rows: list[tuple[object, ...]] = [
        ("Run at", info.run_at.strftime("%Y-%m-%d %H:%M:%S")),
        ("Input", info.input_name),
        ("Inputs fingerprint (SHA-256)", info.fingerprint),
        ("Add-in version", info.version),
        ("Period Start", s.period_start.isoformat()),
        ("Period End", s.period_end.isoformat()),
        ("Trigger", s.trigger.value),
        ("Currency", s.currency),
        ("Conversion Variance", s.conversion_variance),
        ("Count Tolerance %", f"{s.count_tolerance:.2%}"),
        ("Conversion Tolerance %", f"{s.conversion_tolerance:.2%}"),
        ("Price Tolerance %", f"{s.price_tolerance:.2%}"),
    ]
    rows += [(f"Rows read: {k}", v) for k, v in info.row_counts.items()]
    return Tab(
        "Run Log",
        f"{company}: run log",
        sub,
        blocks=(Block("Run", ("Key", "Value"), rows, ("text", "text")),),
    )
