"""The engine's data model: validated inputs in, typed results out.

Conventions used everywhere in the engine:
- Quantities are in the item's unit of measure and may be fractional.
- Standard costs are per unit, in the period's currency.
- Money in results is in whole cents (int64), rounded half-up like Excel's ROUND at the item
  level of each posting; a journal line is a sum of such cents, so entries balance exactly.
- In journal postings a debit is positive and a credit negative. Result tabs show both as
  positive numbers in their own Debit and Credit columns.
- Variance amounts are positive when unfavourable (U, a debit to the variance account) and
  negative when favourable (F, a credit).
- Every input frame carries ``source_row``: the 1-based worksheet row it came from, so that
  findings can point at ``Sheet!Row``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple

import pandas as pd


class Trigger(str, Enum):
    """The trigger-point variant (backflush-domain.md, section 2)."""

    PURCHASE_COMPLETION = "purchase+completion"  # V1
    PURCHASE_SALE = "purchase+sale"  # V2
    COMPLETION = "completion"  # V3
    SALE = "sale"  # V4

    @property
    def records_purchases(self) -> bool:
        """Materials are recorded in MIP when purchased (V1, V2)."""
        return self in (Trigger.PURCHASE_COMPLETION, Trigger.PURCHASE_SALE)

    @property
    def records_finished_goods(self) -> bool:
        """Completed units are carried in the FG account at full standard (V1, V3)."""
        return self in (Trigger.PURCHASE_COMPLETION, Trigger.COMPLETION)

    @property
    def material_credit_role(self) -> str:
        """The account credited with standard material when it is flushed."""
        return "MIP" if self.records_purchases else "AP"


class Severity(str, Enum):
    ERROR = "Error"  # the inputs cannot be posted
    WARNING = "Warning"  # posted, but an accountant must review it
    INFO = "Info"  # posted; stated so nobody is surprised


class Finding(NamedTuple):
    """A problem found in the inputs or a control that fired.

    Errors stop the posting; warnings and infos are listed on the Exceptions tab.
    """

    severity: Severity
    check: str  # short name of the rule, e.g. "negative on hand"
    message: str  # what is wrong and what to do about it
    sheet: str = ""  # input sheet the finding points at ("" when it concerns the whole run)
    cell: str = ""  # "C14", or "" when a whole row ("14") or sheet is meant
    item: str = ""
    # the money at stake in currency (absolute; None when the finding has no amount): what
    # Settings' Materiality grades and the Exceptions tab sorts by
    amount: float | None = None

    @property
    def location(self) -> str:
        if not self.sheet:
            return ""
        return f"{self.sheet}!{self.cell}" if self.cell else self.sheet

    def __str__(self) -> str:
        loc = self.location
        return f"{loc}: {self.message}" if loc else self.message


class Check(NamedTuple):
    """One check of a month-end run, shown on the Summary.

    ``kind`` says what it compares: a *consistency* check compares the run's books with
    themselves (entries balance, the inventory sub-ledger adds up to the control account), so
    it can only catch a defect in the run, never a wrong input; a *control* judges the books
    against what an accountant expects of them (no stock below zero, no blocking exceptions).
    A tie-out to something the run did not produce (the general ledger) is a third kind.
    """

    name: str
    passed: bool
    detail: str
    kind: str = "consistency"  # "consistency", "control" or "tie-out"
    # False when there was nothing to compare with (a tie-out without GL figures): shown as
    # NOT CHECKED, never as PASS, and counted neither as passed nor as failed.
    checked: bool = True

    @property
    def status(self) -> str:
        """PASS, FAIL or NOT CHECKED, as the Summary and the CLI show it."""
        return "NOT CHECKED" if not self.checked else "PASS" if self.passed else "FAIL"


@dataclass(frozen=True)
class Settings:
    """The Settings sheet, parsed."""

    period_start: dt.date
    period_end: dt.date
    trigger: Trigger
    currency: str = "USD"
    conversion_variance: str = "COGS"  # "COGS" or "Prorate"
    count_tolerance: float = 0.02  # fraction: 0.02 is 2 %
    conversion_tolerance: float = 0.05
    price_tolerance: float = 0.10
    company: str = ""
    # currency: exceptions with an amount at or above it are graded "review", below it "below
    # materiality" (None: not graded)
    materiality: float | None = None


@dataclass(frozen=True)
class Account:
    role: str  # one of ROLES
    code: str  # the general-ledger account code written on the Journal
    name: str


# Account roles and the default chart used when the Accounts sheet does not name them.
DEFAULT_ACCOUNTS: dict[str, tuple[str, str]] = {
    "MIP": ("1300", "Materials and In-Process Inventory Control"),
    "FG": ("1400", "Finished Goods Control"),
    "AP": ("2000", "Accounts Payable Control"),
    "CONV_OFFSET": ("2100", "Wages Payable, Accumulated Depreciation, Various"),
    "COGS": ("5000", "Cost of Goods Sold"),
    "CCC": ("5100", "Conversion Costs Control"),
    "CCA": ("5200", "Conversion Costs Allocated"),
    "PPV": ("5300", "Material Purchase Price Variance"),
    "USAGE": ("5400", "Material Usage Variance"),
    "SCRAP": ("5500", "Scrap at Standard"),
    "REVALUATION": ("5600", "Standard Cost Revaluation"),
    "ROUNDING": ("5900", "Rounding Differences"),
    "LABOR_VARIANCE": ("5000", "Cost of Goods Sold"),
    "OVERHEAD_VARIANCE": ("5000", "Cost of Goods Sold"),
}

# Optional roles: when the Accounts sheet does not name one (or names the same code as the
# role it falls back to), its postings go to that role, so workbooks without it post as before.
ROLE_FALLBACK: dict[str, str] = {"LABOR_VARIANCE": "COGS", "OVERHEAD_VARIANCE": "COGS"}

# Account roles in the order the journal lists an entry's lines and the ledger lists accounts.
ROLES = [
    "MIP",
    "FG",
    "AP",
    "CONV_OFFSET",
    "CCC",
    "CCA",
    "COGS",
    "PPV",
    "USAGE",
    "SCRAP",
    "REVALUATION",
    "ROUNDING",
    "LABOR_VARIANCE",
    "OVERHEAD_VARIANCE",
]

# Column layout of each input frame the engine accepts (after validation).
STANDARD_COST_COLUMNS = [
    "item",
    "description",
    "item_type",
    "uom",
    "material",
    "labor",
    "overhead",
    "conversion",
    "backflush",
    "effective_from",  # NaT: in force at Period Start; a date: a dated standard change
    # planned yield: good units out per unit of input (fraction, 0 < yield <= 1; 1 = no loss)
    "yield_pct",
    # costing lot size: the units a per-order BOM line is spread over (NaN: none)
    "lot_size",
    # standard direct labour hours per unit, this level (NaN: not given)
    "labor_hours",
    "source_row",
]
BOM_COLUMNS = [
    "parent",
    "component",
    "qty_per",
    "scrap_pct",
    "effective_from",
    "effective_to",
    # qty_per is for this many parent units (per-unit lines); 1 by default
    "base_quantity",
    "unit",  # the unit qty_per is stated in (for the reader; the factor converts)
    # component stock units per unit qty_per is stated in (stock qty = qty_per x factor)
    "conversion_factor",
    "per",  # "Unit" (qty_per per parent unit) or "Order" (once per production order)
    # "Component" (blank: the same), "By-product" or "Co-product" (bom.LINE_TYPES)
    "line_type",
    # a co-product's share of its parent's joint cost, as a fraction (0.25 is 25 %); NaN else
    "cost_share",
    "source_row",
]
# quantity < 0: a return to the vendor; charges: freight, duty and other costs of the row in
# currency, added to its actual cost (NaN = none); quantity 0 with charges: a later item charge
PURCHASE_COLUMNS = [
    "date",
    "item",
    "quantity",
    "unit_price",
    "charges",
    "reference",
    "source_row",
]
# quantity < 0: a completion reversed (components back); scrap_quantity >= 0
COMPLETION_COLUMNS = ["date", "item", "quantity", "scrap_quantity", "reference", "source_row"]
# quantity < 0: a customer return (the sale reversed)
SALE_COLUMNS = ["date", "item", "quantity", "reference", "source_row"]
# hours: actual direct labour hours of a Labor row (NaN: not given)
CONVERSION_COST_COLUMNS = ["date", "element", "amount", "hours", "reference", "source_row"]
COUNT_COLUMNS = ["item", "counted_quantity", "date", "source_row"]
# value: the opening's carrying value in currency units (last month's closing); NaN = not given
OPENING_COLUMNS = ["item", "account", "quantity", "value", "source_row"]
# The general ledger's own balances of the inventory accounts (debit +), for the GL tie-out:
# opening_balance at Period Start; closing_balance at Period End before this month-end's entries
# are posted (NaN = not given).
GL_BALANCE_COLUMNS = ["account", "opening_balance", "closing_balance", "source_row"]
# Key figures of earlier months (carried by `backflush next`), one row per month and figure;
# amount in currency units, signed as the Summary shows it.
HISTORY_COLUMNS = ["period_start", "period_end", "figure", "amount", "source_row"]

# MonthEndInputs attribute -> its column layout: the frames validation fills. Every column is
# filled by one column of the workbook contract (matched on its key) except ``source_row``,
# which the reader adds (tests/test_contract.py checks it).
INPUT_FRAME_COLUMNS: dict[str, list[str]] = {
    "standard_costs": STANDARD_COST_COLUMNS,
    "bom": BOM_COLUMNS,
    "purchases": PURCHASE_COLUMNS,
    "completions": COMPLETION_COLUMNS,
    "sales": SALE_COLUMNS,
    "conversion_costs": CONVERSION_COST_COLUMNS,
    "counts": COUNT_COLUMNS,
    "opening_balances": OPENING_COLUMNS,
    "gl_balances": GL_BALANCE_COLUMNS,
    "history": HISTORY_COLUMNS,
}
DERIVED_FRAME_COLUMNS = ("source_row",)  # filled by the reader, not from a contract column


def empty_frame(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


@dataclass(frozen=True)
class MonthEndInputs:
    """Everything a month-end run needs, already validated.

    Item codes in every frame are canonical (the spelling used on Standard Costs). Dates are
    ``datetime64[ns]`` columns; the BOM's missing effectivity dates are NaT (open-ended).
    ``labor``/``overhead`` are NaN when the standard is kept as one Conversion element;
    ``conversion`` is always filled (labor + overhead when split). ``standard_costs`` has one
    row per item: the standard in force at Period Start; ``standard_changes`` the dated changes
    after it (backflush-domain.md section 7: an explicit, dated act that revalues stock on hand).
    """

    settings: Settings
    standard_costs: pd.DataFrame
    bom: pd.DataFrame = field(default_factory=lambda: empty_frame(BOM_COLUMNS))
    purchases: pd.DataFrame = field(default_factory=lambda: empty_frame(PURCHASE_COLUMNS))
    completions: pd.DataFrame = field(default_factory=lambda: empty_frame(COMPLETION_COLUMNS))
    sales: pd.DataFrame = field(default_factory=lambda: empty_frame(SALE_COLUMNS))
    conversion_costs: pd.DataFrame = field(
        default_factory=lambda: empty_frame(CONVERSION_COST_COLUMNS)
    )
    counts: pd.DataFrame = field(default_factory=lambda: empty_frame(COUNT_COLUMNS))
    opening_balances: pd.DataFrame = field(default_factory=lambda: empty_frame(OPENING_COLUMNS))
    gl_balances: pd.DataFrame = field(default_factory=lambda: empty_frame(GL_BALANCE_COLUMNS))
    history: pd.DataFrame = field(default_factory=lambda: empty_frame(HISTORY_COLUMNS))
    # dated standard changes: Standard Costs rows whose Effective From is after Period Start
    # (STANDARD_COST_COLUMNS; rows after Period End are kept for the next month, not used)
    standard_changes: pd.DataFrame = field(
        default_factory=lambda: empty_frame(STANDARD_COST_COLUMNS)
    )
    accounts: dict[str, Account] = field(default_factory=dict)
    # where each column was read: sheet -> column header -> column letter ("Counts" ->
    # {"Counted Quantity": "B"}); empty for inputs built in code
    columns: dict[str, dict[str, str]] = field(default_factory=dict)

    def cell(self, sheet: str, column: str, row: int) -> str:
        """The cell a finding points at: "B14" where the column's letter is known, else the
        whole row ("14:14")."""
        letter = self.columns.get(sheet, {}).get(column)
        return f"{letter}{row}" if letter else f"{row}:{row}"

    def posting_role(self, role: str) -> str:
        """The role postings for ``role`` go to: an optional role (ROLE_FALLBACK) that the
        Accounts sheet does not name with a code of its own posts to its fallback role."""
        fallback = ROLE_FALLBACK.get(role)
        if fallback is None:
            return role
        given = self.accounts.get(role)
        return role if given and given.code != self.account(fallback).code else fallback

    def account(self, role: str) -> Account:
        """The account for a role: the Accounts sheet's, else the default chart's (an optional
        role not on the sheet: its fallback role's)."""
        if role not in self.accounts and role in ROLE_FALLBACK:
            return self.account(ROLE_FALLBACK[role])
        if role in self.accounts:
            return self.accounts[role]
        code, name = DEFAULT_ACCOUNTS[role]
        return Account(role, code, name)
