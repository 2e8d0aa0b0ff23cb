"""Result tabs as neutral descriptions: headers, column kinds, values, totals, formulas.

What a tab holds, built from the engine's MonthEndResult. ``layout.sheet_layout`` places it on
a worksheet once; both writers (xlsxwriter for result files, xlwings for the open workbook in
Excel) only translate that layout, so a tab looks the same whichever face produced it. The
placement rules that formulas depend on live here: the table header row (``Tab.HEADER_ROW``)
and the spacing of blocks (``block_row``). No file or Excel here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd

from addin.costing.engine import MonthEndResult
from addin.costing.model import Severity
from addin.workbook.cells import column_letters

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
    # Name of a boolean column of ``Tab.data`` saying on which rows the formula applies
    # (None: every row). Rows without it get the plain value.
    formula_rows: str | None = None
    wrap: bool = False  # long text wraps inside the column width (the row grows)


@dataclass(frozen=True)
class Formula:
    """A cell formula (A1 references) with the engine's figure as its cached value."""

    text: str
    value: object


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
    kind: str = "column"  # Excel chart type: "column" or "bar"
    category_column: int = 0


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
    # Rows under the table: (label, formula with {Column:total} placeholders, cached value).
    checks: tuple[tuple[str, str, object], ...] = ()

    @property
    def n_rows(self) -> int:
        """Data rows the writers use (an empty table still gets one blank row)."""
        return max(len(self.data), 1)

    def _letter(self, header: str) -> str:
        j = [c.header for c in self.columns].index(header)
        return column_letter(j)

    def ref(self, header: str) -> str:
        """Absolute reference to a column's data cells, e.g. 'Journal'!$E$5:$E$60."""
        col = self._letter(header)
        first = self.HEADER_ROW + 2
        return f"{_sheet(self.name)}!${col}${first}:${col}${first + self.n_rows - 1}"

    def total_ref(self, header: str) -> str:
        """Absolute reference to a column's totals-row cell."""
        return f"{_sheet(self.name)}!${self._letter(header)}${self.HEADER_ROW + 2 + self.n_rows}"


def column_letter(j: int) -> str:
    """Excel's letters of the 0-based column ``j``: 0 -> A, 26 -> AA."""
    return column_letters(j + 1)


def _sheet(name: str) -> str:
    return f"'{name}'" if " " in name else name


def _money(cents: pd.Series | np.ndarray) -> np.ndarray:
    return np.asarray(cents, dtype=np.int64) / 100.0


def _table(name: str, title: str, subtitle: str, cols: list[Col], data: dict[str, object]) -> Tab:
    extra = [k for k in data if k.startswith("_")]  # row masks for formula_rows, not written
    frame = pd.DataFrame(
        {**{c.header: data[c.header] for c in cols}, **{k: data[k] for k in extra}}
    )
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
    tabs = [
        journal_tab(result, company, sub),
        variances_tab(result, company, sub),
        backflush_tab(result, company, sub),
        inventory_tab(result, company, sub),
        rollup_tab(result, company, sub),
        exceptions_tab(result, company, sub),
        run_log_tab(result, info, company, sub),
    ]
    summary = summary_tab(result, info, company, sub, {t.name: t for t in tabs})
    return [summary, *tabs]


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
    tab = _table("Journal", f"{company}: journal entries", sub, cols, data)
    return replace(
        tab,
        checks=(
            ("Debits less credits (must be 0.00)", "=ROUND({Debit:total}-{Credit:total},2)", 0.0),
        ),
    )


def variances_tab(r: MonthEndResult, company: str, sub: str) -> Tab:
    v = r.variances
    cols = [
        Col("Type"),
        Col("Item"),
        Col("Description", width=30),
        Col("Quantity", "qty"),
        Col("Standard", "price"),
        Col(
            "Amount",
            "money",
            total=True,
            formula="=ROUND({Quantity}*{Standard},2)",
            formula_rows="_product",
        ),
        Col("F/U"),
        Col("Account"),
        Col("Memo", width=50),
    ]
    data = {
        "_product": v["product"].astype(bool) if "product" in v else np.zeros(len(v), bool),
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
    if r.backflush_detail is not None:
        return backflush_detail_tab(r, company, sub)
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


def backflush_detail_tab(r: MonthEndResult, company: str, sub: str) -> Tab:
    b = r.backflush_detail
    assert b is not None
    src = "Sales" if r.inputs.settings.trigger.value == "sale" else "Completions"
    cols = [
        Col("Trigger Event"),
        Col("Date", "date"),
        Col("Source Row", "int"),
        Col("Reference"),
        Col("Parent"),
        Col("Parent Qty", "qty"),
        Col("Component"),
        Col("Quantity", "qty", total=True),
        Col("Standard Cost", "price"),
        Col("Amount", "money", total=True),
        Col("Flushed"),
    ]
    data = {
        "Trigger Event": b["event"],
        "Date": b["date"],
        "Source Row": b["source_row"],
        "Reference": b["reference"],
        "Parent": b["parent"],
        "Parent Qty": b["parent_quantity"],
        "Component": b["component"],
        "Quantity": b["quantity"],
        "Standard Cost": b["standard"],
        "Amount": _money(b["amount_cents"]),
        "Flushed": np.where(b["flushed"].astype(bool), "Yes", "No"),
    }
    title = f"{company}: components flushed per {src} row (detail)"
    return _table("Backflush", title, sub, cols, data)


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
        Col("Difference", "qty", formula="={Book at Count}-{Counted Qty}", formula_rows="_counted"),
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
        "_counted": i["counted_qty"].notna(),
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
        Col("Message", width=100, wrap=True),
    ]
    data: dict[str, object] = {
        "Severity": [f.severity.value for f in found],
        "Check": [f.check for f in found],
        "Item": [f.item for f in found],
        "Location": [f.location for f in found],
        "Message": [f.message for f in found],
    }
    return _table("Exceptions", f"{company}: exceptions to review", sub, cols, data)


def block_row(blocks: tuple[Block, ...] | list[Block], k: int, i: int) -> int:
    """0-based worksheet row of data row ``i`` of block ``k`` (caption, header, rows, blank)."""
    row = Tab.HEADER_ROW
    for b in list(blocks)[:k]:
        row += len(b.rows) + 3
    return row + 2 + i


CHECK_KINDS = {
    "consistency": "Consistency (the run against itself)",
    "control": "Control",
    "tie-out": "Tie-out (against the general ledger)",
}


def summary_tab(
    r: MonthEndResult, info: RunInfo, company: str, sub: str, tabs: dict[str, Tab]
) -> Tab:
    """Key figures, ledger, variances and checks: live formulas over the other tabs.

    Each formula's cached value is the engine's figure; recalculating in Excel or LibreOffice
    must give the same number (the test suite checks it in LibreOffice).
    """
    tb = r.trial_balance
    tb = tb[(tb["opening_cents"] != 0) | (tb["debit_cents"] != 0) | (tb["credit_cents"] != 0)]
    key = key_figures_block(r, tabs)
    first_ledger = block_row([key], 1, 0) + 1  # 1-based row of the first ledger line
    ledger = ledger_block(tb, first_ledger, tabs)
    variances = variances_by_type_block(r, block_row([key, ledger], 2, 0) + 1, tabs["Variances"])
    closing = {row.role: first_ledger + i for i, row in enumerate(tb.itertuples())}
    return Tab(
        "Summary",
        f"{company}: backflush month-end summary",
        sub,
        blocks=(key, ledger, variances, checks_block(r, closing, tabs), top_items_block(r, tabs)),
        charts=(
            Chart("Variances by type (positive = unfavourable)", 2, 1),
            Chart("Largest variances by item", 4, 1, kind="bar"),
        ),
    )


def key_figures_block(r: MonthEndResult, tabs: dict[str, Tab]) -> Block:
    """Entries, debits and credits (money), units (quantities), exceptions (counts)."""
    j, inputs = r.journal, r.inputs
    jt, sev = tabs["Journal"], tabs["Exceptions"].ref("Severity")
    debits, credits = int(j["debit_cents"].sum()) / 100, int(j["credit_cents"].sum()) / 100
    n_warn = sum(f.severity is Severity.WARNING for f in r.findings)
    n_info = sum(f.severity is Severity.INFO for f in r.findings)
    entries: object = 0
    if len(j):
        entries = Formula(f"=SUMPRODUCT(1/COUNTIF({jt.ref('Entry')},{jt.ref('Entry')}))", r.entries)
    rows: list[tuple[object, ...]] = [
        ("Journal entries posted", entries, "int"),
        ("Total debits", Formula(f"={jt.total_ref('Debit')}", debits)),
        ("Total credits", Formula(f"={jt.total_ref('Credit')}", credits)),
        ("Units completed", float(inputs.completions["quantity"].sum()), "qty"),
        ("Units scrapped", float(inputs.completions["scrap_quantity"].fillna(0).sum()), "qty"),
        ("Units sold", float(inputs.sales["quantity"].sum()), "qty"),
        ("Exceptions: warnings", Formula(f'=COUNTIF({sev},"Warning")', n_warn), "int"),
        ("Exceptions: information", Formula(f'=COUNTIF({sev},"Info")', n_info), "int"),
    ]
    return Block("Key figures", ("Figure", "Value"), rows, ("text", "money"))


def ledger_block(tb: pd.DataFrame, first: int, tabs: dict[str, Tab]) -> Block:
    """One line per account with a balance or a movement; ``first`` is the worksheet row
    (1-based) of its first line. Debits, credits and MIP/FG openings are SUMIFS over the
    Journal and Inventory tabs; closing = opening + debits - credits."""
    jt, it = tabs["Journal"], tabs["Inventory"]
    rows: list[tuple[object, ...]] = []
    for n, row in enumerate(tb.itertuples(), start=first):
        opening: object = row.opening_cents / 100
        if row.role in ("MIP", "FG"):
            opening = Formula(
                f"=SUMIFS({it.ref('Opening Value')},{it.ref('Account')},A{n})", opening
            )
        debit = f"=SUMIFS({jt.ref('Debit')},{jt.ref('Account')},A{n})"
        credit = f"=SUMIFS({jt.ref('Credit')},{jt.ref('Account')},A{n})"
        rows.append(
            (
                row.account,
                row.account_name,
                opening,
                Formula(debit, row.debit_cents / 100),
                Formula(credit, row.credit_cents / 100),
                Formula(f"=C{n}+D{n}-E{n}", row.closing_cents / 100),
            )
        )
    header = ("Account", "Account Name", "Opening", "Debits", "Credits", "Closing")
    return Block("Ledger balances", header, rows, ("text", "text") + ("money",) * 4)


VARIANCE_TYPES = ("price", "usage", "scrap", "conversion")


def variances_by_type_block(r: MonthEndResult, first: int, vt: Tab) -> Block:
    """Each variance type's total (positive = unfavourable) and F/U; ``first`` is the
    worksheet row (1-based) of the first type."""
    by_type = r.variances.groupby("type", sort=False)["amount_cents"].sum()
    rows: list[tuple[object, ...]] = []
    for n, t in enumerate(VARIANCE_TYPES, start=first):
        cents = int(by_type.get(t, 0))
        amount = f'=SUMIFS({vt.ref("Amount")},{vt.ref("Type")},"{t}")'
        fu = f'=IF(ROUND(B{n},2)>0,"U",IF(ROUND(B{n},2)<0,"F",""))'
        rows.append(
            (
                t,
                Formula(amount, cents / 100),
                Formula(fu, "U" if cents > 0 else "F" if cents < 0 else ""),
            )
        )
    return Block("Variances by type", ("Type", "Amount", "F/U"), rows, ("text", "money", "text"))


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def checks_block(r: MonthEndResult, closing: dict[str, int], tabs: dict[str, Tab]) -> Block:
    """The checks: formulas where a spreadsheet can re-check them, the engine's verdict
    elsewhere. ``closing`` gives the worksheet row (1-based) of each role's ledger line."""
    rows: list[tuple[object, ...]] = []
    for name, ok, detail, kind, *_checked in r.checks:
        formula = _check_formula(r, name, closing, tabs)
        cell = Formula(formula, _verdict(ok)) if formula else _verdict(ok)
        rows.append((name, CHECK_KINDS.get(kind, kind), cell, detail))
    return Block("Checks", ("Check", "Kind", "Result", "Detail"), rows, ("text",) * 4)


def _check_formula(
    r: MonthEndResult, name: str, closing: dict[str, int], tabs: dict[str, Tab]
) -> str | None:
    """The formula that re-checks ``name`` in the spreadsheet (PASS/FAIL), if there is one."""
    jt, it = tabs["Journal"], tabs["Inventory"]
    accounts = {role: r.inputs.account(role).code for role in ("MIP", "FG", "CCA", "CCC")}
    if name == "Total debits equal total credits":
        return f'=IF(ROUND({jt.total_ref("Debit")}-{jt.total_ref("Credit")},2)=0,"PASS","FAIL")'
    if name.startswith("Inventory ties to the ledger"):
        role = name[name.index("(") + 1 : -1]
        inv = f'SUMIFS({it.ref("Ending Value")},{it.ref("Account")},"{accounts[role]}")'
        ledger_cell = f"F{closing[role]}" if role in closing else "0"
        return f'=IF(ROUND({inv}-{ledger_cell},2)=0,"PASS","FAIL")'
    if name == "Conversion cost accounts closed" and len(r.journal) > 0:
        parts = [
            f'ROUND(SUMIFS({jt.ref("Debit")},{jt.ref("Account")},"{accounts[x]}")'
            f'-SUMIFS({jt.ref("Credit")},{jt.ref("Account")},"{accounts[x]}"),2)=0'
            for x in ("CCA", "CCC")
        ]
        return f'=IF(AND({parts[0]},{parts[1]}),"PASS","FAIL")'
    if name == "No blocking exceptions":
        return f'=IF(COUNTIF({tabs["Exceptions"].ref("Severity")},"Error")=0,"PASS","FAIL")'
    return None


def top_items_block(r: MonthEndResult, tabs: dict[str, Tab], n: int = 10) -> Block:
    """The items with the largest variances (absolute), each a SUMIFS over the Variances tab."""
    vt = tabs["Variances"]
    v = r.variances[r.variances["item"] != ""]
    g = v.groupby(["item", "type"], as_index=False)["amount_cents"].sum()
    g = g[g["amount_cents"] != 0]
    g = g.reindex(g["amount_cents"].abs().sort_values(ascending=False).index).head(n)
    rows: list[tuple[object, ...]] = []
    for item, vtype, cents in zip(g["item"], g["type"], g["amount_cents"], strict=True):
        label = f"{item} ({vtype})"
        formula = (
            f'=SUMIFS({vt.ref("Amount")},{vt.ref("Item")},"{item}",{vt.ref("Type")},"{vtype}")'
        )
        rows.append((label, Formula(formula, int(cents) / 100), item, vtype))
    return Block(
        "Largest variances by item",
        ("Item and type", "Amount", "Item", "Type"),
        rows,
        ("text", "money", "text", "text"),
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
