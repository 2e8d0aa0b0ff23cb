"""What a month-end run produces: the schema of each result frame, the stages' typed outputs,
MonthEndResult and InputError.

Each result frame's columns are declared once here, in order, with their units and signs; the
reports build exactly these columns (tests/test_engine_layout.py checks it), so a later column
is added in one place. Money columns ending in ``_cents`` are int64 cents; a debit (or an
unfavourable variance) is positive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from addin.costing.model import Check, Finding, MonthEndInputs
from addin.costing.plant import Plant


@dataclass(frozen=True)
class Schema:
    """The columns of one result frame, in order, each with its meaning (units, signs)."""

    name: str
    columns: dict[str, str]

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    def empty(self) -> pd.DataFrame:
        return pd.DataFrame(columns=self.names)


POSTINGS = Schema(
    "postings",
    {
        "date": "day of the posting",
        "event": "event category (postings.EVENT_ORDER, then Opening balance)",
        "role": "account role category (model.ROLES)",
        "item": "item code category; '' for no item, '(unitemized)' for material without BOM lines",
        "quantity": "units moved in or out of the account (+ in, - out); 0 for value-only lines",
        "cents": "amount in cents, debit positive",
        "kind": "what the line is (postings.KINDS): output, manual issue, BOM change, ...",
    },
)
JOURNAL = Schema(
    "journal",
    {
        "entry": "entry number BF-0001, one per event and date",
        "date": "entry date",
        "event": "event category",
        "role": "account role category",
        "account": "general-ledger account code",
        "account_name": "account name",
        "debit_cents": "debit, cents >= 0",
        "credit_cents": "credit, cents >= 0",
        "memo": "what the entry records (and how many source records)",
        "reference": "first three references of the source records, then +N more",
    },
)
VARIANCES = Schema(
    "variances",
    {
        "type": "price, usage, scrap, conversion or revaluation",
        "item": "item code ('' for conversion)",
        "description": "item description",
        "quantity": "units behind the variance (NaN for conversion)",
        "standard": "standard per unit used, when one applies (conversion: allocated amount)",
        "amount_cents": "variance in cents, + unfavourable, - favourable",
        "fu": "'U', 'F' or ''",
        "role": "account role the variance is posted to",
        "account": "general-ledger account code",
        "memo": "what the variance compares",
        "product": "True when amount = ROUND(quantity x standard, 2) exactly",
        "entries": "the journal entries it was posted in (BF-0003, BF-0007; '' when none)",
    },
)
BACKFLUSH = Schema(
    "backflush",
    {
        "event": "Completion, Completion reversal, Scrap, Sale or Customer return",
        "component": "component item code",
        "description": "component description",
        "uom": "unit of measure",
        "quantity": "component units flushed",
        "standard": "period material standard per unit (a stocked item: the value it is "
        "carried at)",
        "amount_cents": "sum of the flushed lines' cents at the flushed standard",
        "flushed": "Backflush = Yes on Standard Costs",
        "credited_to": "account role credited (MIP, AP, FG for a stocked item, or USAGE for "
        "Backflush = No)",
    },
)
INVENTORY = Schema(
    "inventory",
    {
        "role": "stock account role (MIP or FG)",
        "item": "item code",
        "opening_qty": "units at period start",
        "in_qty": "units received (>= 0)",
        "out_qty": "units issued (>= 0)",
        "book_qty": "opening + in - out",
        "count_date": "date of the count (NaT when not counted)",
        "book_at_count": "book units on the count date",
        "counted_qty": "units counted",
        "difference": "book at count - counted (+ shortage)",
        "ending_qty": "book - difference",
        "standard": "unit value carried at",
        "opening_cents": "value at period start",
        "in_cents": "value received",
        "out_cents": "value issued (>= 0 for issues)",
        "count_cents": "count adjustment, debit positive",
        "other_cents": "value-only lines (rounding, unitemized material, close)",
        "ending_cents": "opening + in - out + count + other",
        "description": "item description",
    },
)
TRIAL_BALANCE = Schema(
    "trial_balance",
    {
        "role": "account role (model.ROLES order)",
        "account": "general-ledger account code",
        "account_name": "account name",
        "opening_cents": "opening balance, debit positive",
        "debit_cents": "debits of the period",
        "credit_cents": "credits of the period",
        "closing_cents": "opening + debits - credits",
    },
)
ROLLUP = Schema(
    "rollup",
    {
        "item": "item code",
        "description": "item description",
        "item_type": "Raw, Subassembly, Finished or Phantom",
        "uom": "unit of measure",
        "level": "low-level code as ERPs number it: 0 = the top (no BOM uses the item), else "
        "one below the deepest parent that uses it",
        "own_material": "this level's material per unit",
        "own_labor": "this level's labour per unit (NaN when kept as one Conversion)",
        "own_overhead": "this level's overhead per unit (NaN when kept as one Conversion)",
        "own_conversion": "this level's conversion per unit",
        "rolled_material": "rolled-up material per unit",
        "rolled_labor": "rolled-up labour per unit",
        "rolled_overhead": "rolled-up overhead per unit",
        "rolled_conversion": "rolled-up conversion per unit",
        "rolled_total": "rolled-up material + conversion per unit",
        "byproduct_credit": "by-products and co-products obtained per unit, at their standard: "
        "what the rolled-up cost is lowered by (0 when none)",
        "has_bom": "has BOM lines in effect on Period Start",
        "backflush": "Backflush = Yes",
        "used_by_parents": "'from stock' (stocked), 'blown through' (phantom) or '' (raw)",
    },
)
BACKFLUSH_DETAIL = Schema(
    "backflush_detail",
    {
        "entry": "the journal entry the line is part of (BF-0005)",
        "event": "Completion, Completion reversal or Scrap; Sale or Customer return (sale trigger)",
        "date": "the source row's date (the entry's date)",
        "source_row": "worksheet row of the completion or sale (NaN for an entry's own lines)",
        "reference": "its reference",
        "line": "component, manual issue, by-product received, output, conversion allocated, "
        "BOM change, lot size, "
        "material without BOM lines, entry rounding or per-row rounding",
        "parent": "item completed or sold (scrapped, for Scrap)",
        "parent_quantity": "its units (good, or scrap for Scrap)",
        "component": "component item code",
        "quantity": "component units",
        "standard": "material standard per unit of the BOM in effect that day",
        "amount_cents": "component: quantity x standard, rounded to cents (0 on other lines)",
        "flushed": "Backflush = Yes",
        "role": "account role of the journal line",
        "account": "general-ledger account code",
        "debit_cents": "debit, cents >= 0; per entry and account the lines foot to the journal",
        "credit_cents": "credit, cents >= 0",
        "memo": "what the line is (a manual issue: what its usage-variance credit is)",
    },
)
COUNT_TABLE = Schema(
    "count_table",
    {
        "item": "item code",
        "counted_quantity": "units counted",
        "date": "count date (Period End when blank)",
        "source_row": "worksheet row on Counts",
        "role": "stock account role the item is carried in",
        "pos": "item position on Standard Costs",
        "book": "book units on the count date",
        "difference": "book - counted (+ shortage); 0 within float noise",
    },
)


# ---- what the stages return --------------------------------------------------------------


class Consumption(NamedTuple):
    """Leaf components flushed by one event in one BOM window (arrays of equal length)."""

    event: str
    date: npt.NDArray[np.datetime64]
    component: npt.NDArray[np.intp]  # item position on Standard Costs
    quantity: npt.NDArray[np.float64]  # component units
    cents: npt.NDArray[np.int64]  # at the flushed material standard, rounded per line


class Memo(NamedTuple):
    """The memo of one itemized journal entry (postings.ITEMIZED_EVENTS): its event, the item
    (position on Standard Costs) and the text."""

    event: str
    item: int
    text: str


class Posted(NamedTuple):
    """What an event stage returns: its postings (POSTINGS), the findings it raised, for a
    flush the components it consumed, and the memos of its itemized entries."""

    postings: pd.DataFrame
    findings: tuple[Finding, ...] = ()
    consumption: tuple[Consumption, ...] = ()
    memos: tuple[Memo, ...] = ()


class Counted(NamedTuple):
    """The count stage: adjustments to count, findings, and the counts with book at their date
    (COUNT_TABLE; None when no counted item is carried)."""

    postings: pd.DataFrame
    findings: tuple[Finding, ...]
    table: pd.DataFrame | None


class ElementVariance(NamedTuple):
    """One element's conversion variance (cents, + U); ``cause`` "" for the element as a whole
    or "rate", "efficiency", "spending" for its flexible-budget parts."""

    element: str  # "Labor" or "Overhead"
    cause: str
    # the figures compared, in cents: actual cost and allocated (the element), actual cost and
    # the flexible budget AH x rate (rate, spending), the flexible budget and allocated
    # (efficiency)
    actual: int
    standard: int
    amount: int  # actual - standard
    memo: str

    @property
    def label(self) -> str:
        """ "Labor", "Labor rate", "Overhead efficiency", ..."""
        return f"{self.element} {self.cause}".strip()


class ConversionSummary(NamedTuple):
    """Conversion costs of the period, in cents: actual incurred, allocated at standard, and
    the difference (> 0: under-allocated)."""

    actual: int
    allocated: int
    difference: int
    # by element (elements.ElementVariance) when labour and overhead are kept apart, else ()
    elements: tuple[ElementVariance, ...] = ()


class Closed(NamedTuple):
    """The period-end close: postings closing CCA and CCC, findings, the conversion summary."""

    postings: pd.DataFrame
    findings: tuple[Finding, ...]
    conversion: ConversionSummary


class InputError(ValueError):
    """The inputs cannot be posted; ``findings`` lists every reason, each located."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        super().__init__("\n".join(str(f) for f in findings))


@dataclass(frozen=True)
class MonthEndResult:
    """Everything a month-end run produces; each frame has the columns of its schema above."""

    inputs: MonthEndInputs
    rollup: pd.DataFrame  # ROLLUP: per item, this level's and rolled-up standard by element
    postings: pd.DataFrame  # POSTINGS: item-level postings of the period, debit positive
    journal: pd.DataFrame  # JOURNAL: one line per entry and account
    variances: pd.DataFrame  # VARIANCES: per type and item, + unfavourable
    backflush: pd.DataFrame  # BACKFLUSH: per event and component flushed
    inventory: pd.DataFrame  # INVENTORY: roll-forward per stocked item and account
    trial_balance: pd.DataFrame  # TRIAL_BALANCE: per role, opening to closing
    findings: list[Finding] = field(default_factory=list)  # controls: warnings and infos
    checks: list[Check] = field(default_factory=list)  # consistency checks and controls
    # optional: one line per source row and component (BACKFLUSH_DETAIL), else None
    backflush_detail: pd.DataFrame | None = None
    # the prepared standards the run used (detail.backflush_detail reuses them)
    plant: Plant | None = field(default=None, repr=False, compare=False)

    @property
    def entries(self) -> int:
        return int(self.journal["entry"].nunique()) if len(self.journal) else 0


# The schema of each frame of MonthEndResult, by field name.
RESULT_FRAMES = {
    "rollup": ROLLUP,
    "postings": POSTINGS,
    "journal": JOURNAL,
    "variances": VARIANCES,
    "backflush": BACKFLUSH,
    "inventory": INVENTORY,
    "trial_balance": TRIAL_BALANCE,
    "backflush_detail": BACKFLUSH_DETAIL,
}
