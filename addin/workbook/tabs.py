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

from addin.costing.by_product import ATTRIBUTED, NOT_ATTRIBUTED, ByProduct, variances_by_product
from addin.costing.controls import materiality_grade
from addin.costing.engine import MonthEndResult
from addin.costing.model import Finding, Severity
from addin.costing.postings import STOCK_ROLES
from addin.costing.reports import inventory_entries
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
    values (every column but the first; e.g. a count among money figures).
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
    # "side": stacked beside the blocks (column H); "below": under its block, at column A
    place: str = "side"
    # a chart of one row across columns: the block's data row ``value_row`` over its header
    # (categories); None: a chart of column ``value_column`` down the rows
    value_row: int | None = None
    # a stacked chart: one series per column listed (named by its header), e.g. a standard
    # and the variances on top of it; on a table tab the columns are the table's and the
    # chart sits right of the table, over its first ``max_rows`` rows
    series: tuple[int, ...] = ()
    max_rows: int | None = None


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
    tabs.insert(2, by_product_tab(result, company, sub, tabs[1]))
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
        Col("Entries", width=30),
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
        "Entries": v["entries"],
    }
    return _table("Variances", f"{company}: variances (positive = unfavourable)", sub, cols, data)


BY_PRODUCT_CHART_ROWS = 15  # products the By Product charts show (the largest variances)
BY_PRODUCT_LABEL_WIDTH = 48


def by_product_tab(r: MonthEndResult, company: str, sub: str, vt: Tab) -> Tab:
    """Usage, scrap and conversion variances attributed to each finished good (costing/
    by_product.py), from standard to actual cost of goods sold; under the table the totals
    tie to the Variances tab ``vt`` (a consistency check) and the price variance is shown
    where it stays (the purchase)."""
    bp = variances_by_product(r)
    cols = [
        Col("Product", width=BY_PRODUCT_LABEL_WIDTH),  # wide enough for the check labels under it
        Col("Standard COGS", "money", total=True),
        Col("Usage", "money", total=True),
        Col("Scrap", "money", total=True),
        Col("Conversion", "money", total=True),
        Col(
            "Actual COGS",
            "money",
            total=True,
            formula="={Standard COGS}+{Usage}+{Scrap}+{Conversion}",
        ),
        Col("Total Variance", "money", total=True, formula="={Usage}+{Scrap}+{Conversion}"),
        Col(
            "Variance %",
            "percent",
            formula="={Total Variance}/({Units Completed}*{Standard per Unit})",
            formula_rows="_made",
        ),
        Col("Units Completed", "qty"),
        Col("Units Sold", "qty"),
        Col("Standard per Unit", "price"),
        Col(
            "Actual per Unit",
            "price",
            formula="={Standard per Unit}+{Total Variance}/{Units Completed}",
            formula_rows="_made",
        ),
        Col("Description", width=30),
    ]
    tab = _table(
        "By Product",
        f"{company}: variances by product (positive = unfavourable)",
        sub,
        cols,
        _by_product_data(bp),
    )
    largest = f"largest {BY_PRODUCT_CHART_ROWS}"
    charts = (
        Chart(f"Standard to actual COGS by product ({largest})", 0, 1, kind="bar",
              series=(1, 2, 3, 4), max_rows=BY_PRODUCT_CHART_ROWS),
        Chart(f"Variances by product, + unfavourable ({largest})", 0, 2, kind="bar",
              series=(2, 3, 4), max_rows=BY_PRODUCT_CHART_ROWS),
    )  # fmt: skip
    return replace(tab, checks=_by_product_checks(r, bp, vt), charts=charts)


def _by_product_data(bp: ByProduct) -> dict[str, object]:
    """The By Product table's columns: one row per product, then what no product consumed."""
    p = bp.products
    rest = bp.not_attributed
    cents = {c: [*p[f"{c}_cents"].astype(int), rest[c]] for c in ("usage", "scrap", "conversion")}
    if not any(rest.values()):
        cents = {c: v[:-1] for c, v in cents.items()}
    n = len(cents["usage"])
    std = np.zeros(n, np.int64)
    std[: len(p)] = p["standard_cogs_cents"].to_numpy(np.int64)
    u, s, c = (np.asarray(cents[k], np.int64) for k in ("usage", "scrap", "conversion"))
    total = u + s + c
    completed = _padded(p["completed"], n)
    standard = np.round(_padded(p["standard"], n), 6)  # no float noise in the formula bar
    made = (completed != 0) & (standard != 0)
    base = np.where(made, completed * standard, 1.0)
    other = "Used by no finished good made this month (not attributed)"
    return {
        "_made": made,
        "Product": [*p["item"], *(["(not attributed)"] * (n - len(p)))],
        "Standard COGS": _money(std),
        "Usage": _money(u),
        "Scrap": _money(s),
        "Conversion": _money(c),
        "Actual COGS": _money(std + total),
        "Total Variance": _money(total),
        "Variance %": np.where(made, _money(total) / base, np.nan),
        "Units Completed": completed,
        "Units Sold": _padded(p["sold"], n),
        "Standard per Unit": standard,
        "Actual per Unit": np.where(
            made, standard + _money(total) / np.where(made, completed, 1), np.nan
        ),
        "Description": [*p["description"], *([other] * (n - len(p)))],
    }


def _padded(column: pd.Series, n: int) -> np.ndarray:
    """A product column's values, NaN on the rows after the products."""
    out = np.full(n, np.nan)
    out[: len(column)] = column.to_numpy(np.float64)
    return out


def _by_product_checks(
    r: MonthEndResult, bp: ByProduct, vt: Tab
) -> tuple[tuple[str, str, object], ...]:
    """Under the By Product table: each attributed column's total less the Variances tab's
    (a consistency check: both come from this run), then the variances left where they
    arise."""
    amount, vtype = vt.ref("Amount"), vt.ref("Type")

    def of(*types: str) -> str:
        return "+".join(f'SUMIFS({amount},{vtype},"{t}")' for t in types)

    kinds = {c: tuple(t for t, to in ATTRIBUTED.items() if to == c) for c in bp.not_attributed}
    rows: list[tuple[str, str, object]] = [
        (
            f"Consistency: {c} less Variances tab (0.00)",
            f"=ROUND({{{c.title()}:total}}-({of(*kinds[c])}),2)",
            0.0,
        )
        for c in ("usage", "scrap", "conversion")
    ]
    v = r.variances
    for t in NOT_ATTRIBUTED:
        cents = int(v.loc[v["type"] == t, "amount_cents"].sum()) if len(v) else 0
        where = "stays at purchase" if t == "price" else "stays on the stock"
        rows.append((f"Not attributed: {t} ({where})", f"={of(t)}", cents / 100))
    return tuple(rows)


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
    """The flush's journal entries per source row: filter Entry (and Account) to see the lines
    behind a journal line; their Debit and Credit foot to it."""
    b = r.backflush_detail
    assert b is not None
    src = "Sales" if r.inputs.settings.trigger.value == "sale" else "Completions"
    cols = [
        Col("Entry"),
        Col("Trigger Event"),
        Col("Date", "date"),
        Col("Source Row", "int"),
        Col("Reference"),
        Col("Line"),
        Col("Parent"),
        Col("Parent Qty", "qty"),
        Col("Component"),
        Col("Quantity", "qty", total=True),
        Col("Standard Cost", "price"),
        Col("Amount", "money", total=True),
        Col("Flushed"),
        Col("Account"),
        Col("Debit", "money", total=True),
        Col("Credit", "money", total=True),
        Col("Memo", width=50),
    ]
    is_component = b["component"].astype(str).to_numpy(object) != ""
    data = {
        "Entry": b["entry"],
        "Trigger Event": b["event"],
        "Date": b["date"],
        "Source Row": b["source_row"],
        "Reference": b["reference"],
        "Line": b["line"],
        "Parent": b["parent"],
        "Parent Qty": b["parent_quantity"],
        "Component": b["component"],
        "Quantity": b["quantity"],
        "Standard Cost": b["standard"],
        "Amount": np.where(is_component, _money(b["amount_cents"]), np.nan),
        "Flushed": np.where(is_component, np.where(b["flushed"].astype(bool), "Yes", "No"), ""),
        "Account": b["account"],
        "Debit": np.where(b["debit_cents"] > 0, _money(b["debit_cents"]), np.nan),
        "Credit": np.where(b["credit_cents"] > 0, _money(b["credit_cents"]), np.nan),
        "Memo": b["memo"],
    }
    title = f"{company}: the flush's journal entries per {src} row (detail)"
    tab = _table("Backflush", title, sub, cols, data)
    return replace(
        tab,
        checks=(
            ("Debits less credits (must be 0.00)", "=ROUND({Debit:total}-{Credit:total},2)", 0.0),
        ),
    )


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
        Col("Entries", width=30),
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
        "Entries": inventory_entries(i, r.postings),
    }
    return _table("Inventory", f"{company}: inventory roll-forward at standard", sub, cols, data)


def rollup_tab(r: MonthEndResult, company: str, sub: str) -> Tab:
    c = r.rollup
    cols = [
        Col("Item"),
        Col("Description", width=30),
        Col("Type"),
        Col("UoM"),
        Col("Low-Level Code", "int"),
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
        Col("Used by Parents", width=14),
    ]
    data = {
        "Item": c["item"],
        "Description": c["description"],
        "Type": c["item_type"],
        "UoM": c["uom"],
        "Low-Level Code": c["level"],
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
        "Used by Parents": c["used_by_parents"],
    }
    _byproduct_credit(c, cols, data)
    return _table("Cost Rollup", f"{company}: standard cost roll-up (per unit)", sub, cols, data)


def _byproduct_credit(c: pd.DataFrame, cols: list[Col], data: dict[str, object]) -> None:
    """The By-product Credit column after Rolled Total, shown only where a BOM obtains
    by-products or co-products (what each parent's cost is lowered by, per unit)."""
    if (c["byproduct_credit"] != 0).any():
        cols.insert(cols.index(next(x for x in cols if x.header == "Rolled Total")) + 1,
                    Col("By-product Credit", "price"))  # fmt: skip
        data["By-product Credit"] = c["byproduct_credit"]


SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def exceptions_tab(r: MonthEndResult, company: str, sub: str) -> Tab:
    """Findings by severity, then by amount (largest first; those without one last), each
    graded against Settings' Materiality (controls.materiality_grade)."""
    found = sorted(r.findings, key=_exception_order)
    threshold = r.inputs.settings.materiality
    cols = [
        Col("Severity"),
        Col("Check", width=26),
        Col("Item"),
        Col("Location", width=22),
        Col("Amount", "money"),
        Col("Materiality", width=18),
        Col("Message", width=100, wrap=True),
    ]
    data: dict[str, object] = {
        "Severity": [f.severity.value for f in found],
        "Check": [f.check for f in found],
        "Item": [f.item for f in found],
        "Location": [f.location for f in found],
        "Amount": [np.nan if f.amount is None else round(f.amount, 2) for f in found],
        "Materiality": [materiality_grade(f, threshold) for f in found],
        "Message": [f.message for f in found],
    }
    return _table("Exceptions", f"{company}: exceptions to review", sub, cols, data)


def _exception_order(f: Finding) -> tuple[int, float, str, str]:
    """Severity, then the amount largest first (no amount last), then check and item."""
    amount = -abs(f.amount) if f.amount is not None else np.inf
    return (SEVERITY_ORDER[f.severity], amount, f.check, f.item)


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

DR_CR = "Dr/(Cr)"
"""How the Summary signs money in its ledger blocks: debits positive, credits in parentheses
(the accounting number format shows a negative figure in parentheses)."""


def summary_tab(
    r: MonthEndResult, info: RunInfo, company: str, sub: str, tabs: dict[str, Tab]
) -> Tab:
    """Key figures, ledger, variances, checks and the months so far: live formulas over the
    other tabs.

    Each formula's cached value is the engine's figure; recalculating in Excel or LibreOffice
    must give the same number (the test suite checks it in LibreOffice).
    """
    tb = r.trial_balance
    balances = tb[tb["role"].isin(STOCK_ROLES) | (tb["opening_cents"] != 0)]
    moved = tb[(tb["debit_cents"] != 0) | (tb["credit_cents"] != 0)]
    activity = moved[~moved["role"].isin(balances["role"])]
    blocks = [key_figures_block(r, tabs)]
    blocks.append(balance_block(balances, block_row(blocks, 1, 0) + 1, tabs))
    blocks.append(activity_block(activity, block_row(blocks, 2, 0) + 1, tabs["Journal"]))
    first_type = block_row(blocks, 3, 0) + 1
    blocks.append(variances_by_type_block(r, first_type, tabs["Variances"]))
    closing = _rows(balances, block_row(blocks, 1, 0) + 1)
    blocks += [checks_block(r, closing, tabs), top_items_block(r, tabs)]
    charts = [
        Chart("Variances by type (positive = unfavourable)", 3, 1),
        Chart("Largest variances by item", 5, 1, kind="bar"),
    ]
    here = {("entries", ""): f"B{block_row(blocks, 0, 0) + 1}"}
    here |= {("closing", role): f"F{n}" for role, n in closing.items()}
    here |= {("net", role): f"F{n}" for role, n in _rows(activity, blocks_row(blocks, 2)).items()}
    types = [row[0] for row in blocks[3].rows]
    here |= {("variance", str(t)): f"B{first_type + i}" for i, t in enumerate(types)}
    months = month_by_month_block(r, here, blocks_row(blocks, 6))
    if months is not None:
        blocks.append(months)
        if len(months.header) - 2 >= TREND_MONTHS:
            charts.append(Chart(TREND_TITLE, 6, 1, place="below", value_row=0))
    return Tab(
        "Summary",
        f"{company}: backflush month-end summary",
        sub,
        blocks=tuple(blocks),
        charts=tuple(charts),
    )


def blocks_row(blocks: list[Block], k: int) -> int:
    """1-based worksheet row of the first data row of block ``k``."""
    return block_row(blocks, k, 0) + 1


def _rows(tb: pd.DataFrame, first: int) -> dict[str, int]:
    """Each role of ``tb`` -> its 1-based worksheet row, from ``first`` down."""
    return {str(role): first + i for i, role in enumerate(tb["role"])}


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


def _journal_sums(jt: Tab, n: int) -> tuple[str, str]:
    """Debits and credits (the latter negative, shown in parentheses) of the account in A{n}."""
    debit = f"=SUMIFS({jt.ref('Debit')},{jt.ref('Account')},A{n})"
    credit = f"=-SUMIFS({jt.ref('Credit')},{jt.ref('Account')},A{n})"
    return debit, credit


def balance_block(tb: pd.DataFrame, first: int, tabs: dict[str, Tab]) -> Block:
    """The balance-sheet accounts (inventory: MIP and FG, every month): opening, the month's
    debits and credits, closing, Dr/(Cr). ``first`` is the worksheet row (1-based) of its first
    line. Debits, credits and MIP/FG openings are SUMIFS over the Journal and Inventory tabs;
    closing = opening + debits + credits (credits negative)."""
    jt, it = tabs["Journal"], tabs["Inventory"]
    rows: list[tuple[object, ...]] = []
    for n, row in enumerate(tb.itertuples(), start=first):
        opening: object = row.opening_cents / 100
        if row.role in STOCK_ROLES:
            opening = Formula(
                f"=SUMIFS({it.ref('Opening Value')},{it.ref('Account')},A{n})", opening
            )
        debit, credit = _journal_sums(jt, n)
        rows.append(
            (
                row.account,
                row.account_name,
                opening,
                Formula(debit, row.debit_cents / 100),
                Formula(credit, -row.credit_cents / 100),
                Formula(f"=C{n}+D{n}+E{n}", row.closing_cents / 100),
            )
        )
    header = (
        "Account",
        "Account Name",
        f"Opening {DR_CR}",
        "Debits",
        "Credits",
        f"Closing {DR_CR}",
    )
    caption = f"Balance sheet: inventory accounts, {DR_CR}"
    return Block(caption, header, rows, ("text", "text") + ("money",) * 4)


def activity_block(tb: pd.DataFrame, first: int, jt: Tab) -> Block:
    """The other accounts the month posted to (payables, conversion, cost of sales, variances,
    revaluation, rounding): the month's debits, credits and net, Dr/(Cr); not their balances,
    which the run does not know. ``first`` is the worksheet row (1-based) of its first line."""
    rows: list[tuple[object, ...]] = []
    for n, row in enumerate(tb.itertuples(), start=first):
        debit, credit = _journal_sums(jt, n)
        rows.append(
            (
                row.account,
                row.account_name,
                None,  # no opening: the run knows only the month's postings
                Formula(debit, row.debit_cents / 100),
                Formula(credit, -row.credit_cents / 100),
                Formula(f"=D{n}+E{n}", (row.debit_cents - row.credit_cents) / 100),
            )
        )
    # the same columns as the balance-sheet block above, Opening left empty
    header = ("Account", "Account Name", "", "Debits", "Credits", f"Net this month {DR_CR}")
    caption = f"This month's activity: other accounts (the month's net, not a balance), {DR_CR}"
    return Block(caption, header, rows, ("text", "text") + ("money",) * 4)


VARIANCE_TYPES = ("price", "usage", "scrap", "conversion")


def variance_types(variances: pd.DataFrame) -> list[str]:
    """The four variance types, then any other type the month has (e.g. revaluation)."""
    seen = pd.unique(variances["type"].astype(str)) if len(variances) else []
    return [*VARIANCE_TYPES, *(t for t in seen if t not in VARIANCE_TYPES)]


def variances_by_type_block(r: MonthEndResult, first: int, vt: Tab) -> Block:
    """Each variance type's total (positive = unfavourable) and F/U; ``first`` is the
    worksheet row (1-based) of the first type."""
    by_type = r.variances.groupby("type", sort=False)["amount_cents"].sum()
    rows: list[tuple[object, ...]] = []
    for n, t in enumerate(variance_types(r.variances), start=first):
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


def checks_block(r: MonthEndResult, closing: dict[str, int], tabs: dict[str, Tab]) -> Block:
    """The checks and their status (Check.status: PASS, FAIL or NOT CHECKED): formulas where a
    spreadsheet can re-check them, the engine's verdict elsewhere. A check with nothing to
    compare with gets no formula: it stays NOT CHECKED whatever is recalculated. ``closing``
    gives the worksheet row (1-based) of each role's balance-sheet line."""
    rows: list[tuple[object, ...]] = []
    for c in r.checks:
        formula = _check_formula(r, c.name, closing, tabs) if c.checked else None
        cell = Formula(formula, c.status) if formula else c.status
        rows.append((c.name, CHECK_KINDS.get(c.kind, c.kind), cell, c.detail))
    return Block("Checks", ("Check", "Kind", "Result", "Detail"), rows, ("text",) * 4)


ROLL_FORWARD_CHECKS = ("Inventory ties to the ledger", "Item roll-forward equals the journal")
"""Names of the per-account check that the items' ending values add up to the ledger's closing
(the second is the name issue 12 gives it)."""


def _check_formula(
    r: MonthEndResult, name: str, closing: dict[str, int], tabs: dict[str, Tab]
) -> str | None:
    """The formula that re-checks ``name`` in the spreadsheet (PASS/FAIL), if there is one."""
    jt, it = tabs["Journal"], tabs["Inventory"]
    accounts = {role: r.inputs.account(role).code for role in ("MIP", "FG", "CCA", "CCC")}
    if name == "Total debits equal total credits":
        return f'=IF(ROUND({jt.total_ref("Debit")}-{jt.total_ref("Credit")},2)=0,"PASS","FAIL")'
    if name.startswith(ROLL_FORWARD_CHECKS) and name.endswith(("(MIP)", "(FG)")):
        role = name[name.rindex("(") + 1 : -1]
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


# ---- month by month ------------------------------------------------------------------------

FigureSource = Literal["variance", "closing", "net", "entries"]


@dataclass(frozen=True)
class MonthFigure:
    """A key figure of a month: the Summary's "Month by month" block shows it for this month
    and the earlier ones, and ``backflush next`` carries it into the next month's History.

    ``source`` says what it is: a variance type's total (``key`` = type; positive =
    unfavourable), an account's closing balance (``key`` = role; Dr/(Cr)), an account's net
    posting this month (``key`` = role; debits - credits, Dr/(Cr)), or the journal entries
    posted (a count). Money in currency units, rounded to the cent."""

    source: FigureSource
    key: str = ""
    kind: ColumnKind = "money"

    def of(self, r: MonthEndResult) -> float:
        """This figure of the month ``r``."""
        if self.source == "entries":
            return float(r.entries)
        if self.source == "variance":
            v = r.variances
            return int(v.loc[v["type"] == self.key, "amount_cents"].sum()) / 100
        line = r.trial_balance[r.trial_balance["role"] == self.key]
        if self.source == "closing":
            return int(line["closing_cents"].sum()) / 100
        return int(line["debit_cents"].sum() - line["credit_cents"].sum()) / 100


MONTH_FIGURES: dict[str, MonthFigure] = {
    "Price variance": MonthFigure("variance", "price"),
    "Usage variance": MonthFigure("variance", "usage"),
    "Scrap variance": MonthFigure("variance", "scrap"),
    "Conversion variance": MonthFigure("variance", "conversion"),
    "Revaluation": MonthFigure("variance", "revaluation"),
    "Closing MIP": MonthFigure("closing", "MIP"),
    "Closing FG": MonthFigure("closing", "FG"),
    "Cost of goods sold": MonthFigure("net", "COGS"),
    "Journal entries": MonthFigure("entries", kind="int"),
}
"""The key figures of a month, by the name the History sheet gives them (figure column), in
the order the Summary lists them."""

_MONEY: tuple[ColumnKind, ...] = ("money",)
TOTAL_VARIANCE = "Total variance (price, usage, scrap, conversion)"
TREND_MONTHS = 2  # earlier months needed before the Summary draws the trend chart
TREND_TITLE = "Total variance by month (positive = unfavourable)"


def month_figures(r: MonthEndResult) -> dict[str, float]:
    """Every MONTH_FIGURES figure of the month ``r`` (what ``backflush next`` carries)."""
    return {name: f.of(r) for name, f in MONTH_FIGURES.items()}


def month_label(start: dt.date, end: dt.date) -> str:
    """ "Oct 2026" for a calendar month, else "16 Oct - 15 Nov 2026"."""
    calendar = start.day == 1 and (end + dt.timedelta(days=1)).day == 1
    if calendar and (start.year, start.month) == (end.year, end.month):
        return f"{start:%b %Y}"
    return f"{start:%d %b} - {end:%d %b %Y}"


def earlier_months(r: MonthEndResult) -> pd.DataFrame:
    """History of the months before this one: one row per month (oldest first), one column per
    figure (currency units; a figure a month lacks is NaN); index (period_start, period_end)."""
    h = r.inputs.history
    if not len(h):
        return pd.DataFrame()
    h = h.assign(
        period_start=pd.to_datetime(h["period_start"]).dt.date,
        period_end=pd.to_datetime(h["period_end"]).dt.date,
        amount=pd.to_numeric(h["amount"], errors="coerce"),
        figure=h["figure"].astype(str),
    )
    h = h[h["period_start"] < r.inputs.settings.period_start]
    if not len(h):
        return pd.DataFrame()
    table = h.pivot_table(
        index=["period_start", "period_end"], columns="figure", values="amount", aggfunc="last"
    )
    return table.sort_index()


def month_by_month_block(
    r: MonthEndResult, here: dict[tuple[str, str], str], first: int
) -> Block | None:
    """One column per month (earlier months from History, oldest left; this month right, as
    formulas over the cells ``here`` of this Summary), one row per key figure, the total
    variance first (on worksheet row ``first``, 1-based). None when there is no earlier
    month."""
    earlier = earlier_months(r)
    if not len(earlier):
        return None
    s = r.inputs.settings
    names = [*MONTH_FIGURES, *(f for f in earlier.columns if f not in MONTH_FIGURES)]
    rows: list[tuple[object, ...]] = [(TOTAL_VARIANCE, *([None] * (len(earlier) + 1)))]
    for name in names:
        past = [_amount(earlier, name, i) for i in range(len(earlier))]
        rows.append((name, *past, _this_month(r, name, here), _figure_kind(name)))
    labels = [month_label(a, b) for a, b in earlier.index]
    header = ("Figure", *labels, month_label(s.period_start, s.period_end))
    rows[0] = _total_row(rows, first)
    return Block(
        "Month by month (earlier months from History; this month right)",
        header,
        rows,
        ("text", *_MONEY * (len(header) - 1)),
    )


def _amount(earlier: pd.DataFrame, name: str, i: int) -> float | None:
    if name not in earlier.columns:
        return None
    v = float(earlier[name].iloc[i])
    return None if np.isnan(v) else v


def _figure_kind(name: str) -> ColumnKind:
    figure = MONTH_FIGURES.get(name)
    return figure.kind if figure else "money"


def _this_month(r: MonthEndResult, name: str, here: dict[tuple[str, str], str]) -> object:
    """This month's figure: a formula over the Summary cell that shows it, else the figure."""
    figure = MONTH_FIGURES.get(name)
    if figure is None:
        return None  # a figure only earlier months have
    cell = here.get((figure.source, figure.key))
    value = figure.of(r)
    return Formula(f"={cell}", value) if cell else value


def _total_row(rows: list[tuple[object, ...]], first: int) -> tuple[object, ...]:
    """The total variance of each month: a SUM over the four variance rows under it (rows[0]
    is the total itself, on worksheet row ``first``; the variance rows follow in
    VARIANCE_TYPES order)."""
    total: list[object] = [TOTAL_VARIANCE]
    last = first + len(VARIANCE_TYPES)
    for j in range(1, len(rows[1]) - 1):  # each month's column (rows[1] ends with its kind)
        cents = sum(round(_figure_value(rows[1 + i][j]) * 100) for i in range(len(VARIANCE_TYPES)))
        col = column_letter(j)
        total.append(Formula(f"=SUM({col}{first + 1}:{col}{last})", cents / 100))
    return tuple(total)


def _figure_value(v: object) -> float:
    """The figure of a month cell: a formula's cached value, a number, or 0 for a blank."""
    v = v.value if isinstance(v, Formula) else v
    return 0.0 if v is None else float(v)  # type: ignore[arg-type]


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
