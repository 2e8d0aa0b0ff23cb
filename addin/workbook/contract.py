"""The workbook contract: input sheet and column names, their types, and the result tab names.

This module is the single place that says what the add-in reads and writes. The reader, the
validation, the template writer, the xlwings layer and the README all take their names from here.
Sheet and column names are matched case-insensitively with surrounding spaces ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from addin.costing.bom import COMPONENT, LINE_TYPES
from addin.costing.model import DEFAULT_ACCOUNTS, INPUT_FRAME_COLUMNS, Trigger
from addin.workbook.cells import EXCEL_ERRORS as EXCEL_ERRORS
from addin.workbook.cells import NO_WORDS as NO_WORDS
from addin.workbook.cells import YES_WORDS as YES_WORDS
from addin.workbook.cells import Kind as Kind
from addin.workbook.cells import normalize_name as normalize_name
from addin.workbook.cells import number_from_text as number_from_text


@dataclass(frozen=True)
class Column:
    """One column of an input sheet."""

    name: str  # the header an accountant types, e.g. "Qty Per"
    kind: Kind
    required: bool = True
    choices: tuple[str, ...] = ()  # for Kind.CHOICE, the accepted words (canonical spelling)
    default: object = None  # value used when the column is absent or the cell is blank
    key: str = ""  # the field name the engine uses (snake_case); derived from name if empty
    min_value: float | None = None  # smallest accepted number (inclusive) where it matters
    positive: bool = False  # number must be > 0
    blank_with: str = ""  # a required column whose cell may be blank where this one is filled
    open_ended: bool = False  # a date: a far date (9999-12-31) means the same as blank
    doc: str = ""  # what the README's contract table says about it beside its name
    # a sheet written from inputs (the demo, next month's workbook) leaves the column out when
    # every row has its default (blank), so a workbook that never used it does not gain it
    omit_when_default: bool = False

    @property
    def field(self) -> str:
        return self.key or self.name.lower().replace(" %", "_pct").replace(" ", "_")


@dataclass(frozen=True)
class SheetSpec:
    """One input sheet: its name, its columns and whether the run needs it."""

    name: str
    columns: tuple[Column, ...]
    required: bool = False
    # Column groups of which at least one must be present (e.g. Conversion or Labor+Overhead).
    one_of: tuple[tuple[str, ...], ...] = field(default=())
    frame: str = ""  # the MonthEndInputs attribute its rows fill ("" for Settings, Accounts)
    # Words of headers the run does not read but names (never taken for a misspelling)
    watched_headers: tuple[str, ...] = ()
    note: str = ""  # what the Read Me and the README say about the sheet beyond its columns

    @property
    def engine_columns(self) -> list[str]:
        """The engine's column list for the frame this sheet fills (model.INPUT_FRAME_COLUMNS)."""
        return INPUT_FRAME_COLUMNS[self.frame]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name.lower() == name.lower():
                return c
        raise KeyError(name)


ITEM_TYPES = ("Raw", "Subassembly", "Finished", "Phantom")
TRIGGERS = tuple(t.value for t in Trigger)
CONVERSION_VARIANCE_METHODS = ("COGS", "Prorate")
ELEMENTS = ("Labor", "Overhead", "Conversion")
PER_CHOICES = ("Unit", "Order")
ACCOUNT_CODES_FOR_OPENING = ("MIP", "FG")
# Words in a Purchases header that say the column holds a cost of the purchase (matched in the
# header, case-insensitively): such a column that is not read is named in an info finding.
COST_HEADER_WORDS = ("freight", "duty", "duties", "charge", "landed cost", "insurance", "customs")

# Excel's text limits, in UTF-16 code units (what Excel counts): a cell holds 32,767; a page
# header 255 including its codes. Company is printed in every result tab's page header beside
# the period ("&L<Company>&C&A&R01 Oct 2026 - 31 Oct 2026", an "&" in it written as "&&"), so
# it is held to 200, which leaves room for the codes and the period.
CELL_TEXT_LIMIT = 32_767
HEADER_TEXT_LIMIT = 255
COMPANY_TEXT_LIMIT = 200


def excel_length(text: str) -> int:
    """The length Excel counts: UTF-16 code units (a character beyond U+FFFF counts 2)."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def fit_cell_text(text: str) -> str:
    """``text`` as it can go into one cell: past CELL_TEXT_LIMIT it is cut with a visible note
    of how much was cut (never silently). Inputs longer than that are refused by validation;
    this is for text the add-in composes (a message quoting two long item codes)."""
    if len(text) <= CELL_TEXT_LIMIT // 2 or excel_length(text) <= CELL_TEXT_LIMIT:
        return text
    total = excel_length(text)
    note = (
        f" [... cut here: {total:,} characters in all, "
        f"more than the {CELL_TEXT_LIMIT:,} an Excel cell holds]"
    )
    keep = CELL_TEXT_LIMIT - len(note)
    head = text[:keep]
    while excel_length(head) > keep:  # characters beyond U+FFFF count twice
        head = head[: keep - (excel_length(head) - keep)]
    return head + note


# Account roles and their default codes live with the engine.
ACCOUNT_ROLES = DEFAULT_ACCOUNTS

SETTINGS = "Settings"
STANDARD_COSTS = "Standard Costs"
BOM = "BOM"
PURCHASES = "Purchases"
COMPLETIONS = "Completions"
SALES = "Sales"
CONVERSION_COSTS = "Conversion Costs"
COUNTS = "Counts"
OPENING_BALANCES = "Opening Balances"
GL_BALANCES = "GL Balances"
ACCOUNTS = "Accounts"
HISTORY = "History"

# Settings rows (Setting, Value). Name -> (kind, required, default, choices)
SETTING_ROWS: dict[str, Column] = {
    "Period Start": Column("Period Start", Kind.DATE, key="period_start"),
    "Period End": Column("Period End", Kind.DATE, key="period_end"),
    "Trigger": Column("Trigger", Kind.CHOICE, choices=TRIGGERS, key="trigger"),
    "Currency": Column(
        "Currency", Kind.TEXT, required=False, default="USD", key="currency", doc="default USD"
    ),
    "Conversion Variance": Column(
        "Conversion Variance",
        Kind.CHOICE,
        required=False,
        choices=CONVERSION_VARIANCE_METHODS,
        default="COGS",
        key="conversion_variance",
    ),
    "Count Tolerance %": Column(
        "Count Tolerance %", Kind.PERCENT, required=False, default=0.02, key="count_tolerance"
    ),
    "Conversion Tolerance %": Column(
        "Conversion Tolerance %",
        Kind.PERCENT,
        required=False,
        default=0.05,
        key="conversion_tolerance",
    ),
    "Price Tolerance %": Column(
        "Price Tolerance %", Kind.PERCENT, required=False, default=0.10, key="price_tolerance"
    ),
    "Company": Column("Company", Kind.TEXT, required=False, default="", key="company"),
    "Materiality": Column(
        "Materiality",
        Kind.NUMBER,
        required=False,
        min_value=0.0,
        key="materiality",
        doc="currency; exceptions with an amount at or above it are graded review, below it "
        "below materiality; blank = not graded",
    ),
}

INPUT_SHEETS: tuple[SheetSpec, ...] = (
    SheetSpec(
        SETTINGS,
        (Column("Setting", Kind.TEXT), Column("Value", Kind.TEXT, required=False)),
        required=True,
        note="One row per setting; blank optional settings take the defaults shown",
    ),
    SheetSpec(
        STANDARD_COSTS,
        (
            Column("Item", Kind.TEXT),
            Column("Description", Kind.TEXT, required=False, default=""),
            Column("Type", Kind.CHOICE, choices=ITEM_TYPES, key="item_type"),
            Column("UoM", Kind.TEXT, required=False, default="", key="uom"),
            Column("Material", Kind.NUMBER, min_value=0.0),
            Column("Conversion", Kind.NUMBER, required=False, min_value=0.0),
            Column("Labor", Kind.NUMBER, required=False, min_value=0.0),
            Column("Overhead", Kind.NUMBER, required=False, min_value=0.0),
            Column("Backflush", Kind.YESNO, required=False, default=True, doc="default Yes"),
            Column(
                "Yield %",
                Kind.PERCENT,
                required=False,
                omit_when_default=True,
                default=1.0,
                positive=True,
                doc="planned yield: good units out per unit put in. Assembly scrap a % is a "
                "yield of 1 / (1 + a); process loss l % a yield of 1 - l",
            ),
            Column(
                "Lot Size",
                Kind.NUMBER,
                required=False,
                omit_when_default=True,
                positive=True,
                doc="costing lot size: the units its per-order BOM lines are spread over; "
                "needed when it has any",
            ),
            Column(
                "Labor Hours",
                Kind.NUMBER,
                required=False,
                omit_when_default=True,
                min_value=0.0,
                key="labor_hours",
                doc="standard direct labour hours per unit, this level; with Hours on Conversion "
                "Costs, labour splits into rate and efficiency, overhead into spending and "
                "efficiency",
            ),
            Column(
                "Effective From",
                Kind.DATE,
                required=False,
                key="effective_from",
                doc="blank = in force at Period Start; a later date = a dated standard change "
                "(a second row for the item)",
            ),
        ),
        required=True,
        one_of=(("Conversion",), ("Labor", "Overhead")),
        frame="standard_costs",
        note="Fill Conversion, or Labor and Overhead (this level's standard per unit)",
    ),
    SheetSpec(
        BOM,
        (
            Column("Parent", Kind.TEXT),
            Column("Component", Kind.TEXT),
            Column("Qty Per", Kind.NUMBER, positive=True, key="qty_per"),
            Column("Scrap %", Kind.PERCENT, required=False, default=0.0, key="scrap_pct"),
            Column(
                "Effective From",
                Kind.DATE,
                required=False,
                key="effective_from",
                open_ended=True,
                doc="blank = always",
            ),
            Column(
                "Effective To",
                Kind.DATE,
                required=False,
                key="effective_to",
                open_ended=True,
                doc="blank = no end",
            ),
            Column(
                "Base Quantity",
                Kind.NUMBER,
                required=False,
                omit_when_default=True,
                default=1.0,
                positive=True,
                doc="Qty Per is for this many parent units",
            ),
            Column(
                "Unit",
                Kind.TEXT,
                required=False,
                omit_when_default=True,
                default="",
                doc="the unit Qty Per is stated in, for the reader (the factor converts)",
            ),
            Column(
                "Conversion Factor",
                Kind.NUMBER,
                required=False,
                omit_when_default=True,
                default=1.0,
                positive=True,
                doc="component UoM per Unit: consumed = Qty Per x factor",
            ),
            Column(
                "Per",
                Kind.CHOICE,
                required=False,
                omit_when_default=True,
                choices=PER_CHOICES,
                default="Unit",
                doc="Unit: per parent unit; Order: once per production order",
            ),
            Column(
                "Line Type",
                Kind.CHOICE,
                required=False,
                omit_when_default=True,
                choices=LINE_TYPES,
                default=COMPONENT,
                key="line_type",
                doc="By-product / Co-product: Qty Per is obtained per parent unit (see "
                "By-products and co-products)",
            ),
            Column(
                "Cost Share %",
                Kind.PERCENT,
                required=False,
                omit_when_default=True,
                key="cost_share",
                doc="co-product lines only: share of the parent's cost; a parent's shares "
                "total at most 100 %",
            ),
        ),
        frame="bom",
        note="Qty Per is per parent unit (per Base Quantity units; once per order when Per "
        "is Order), in the component's UoM times the Conversion Factor; on a By-product or "
        "Co-product line it is obtained, not consumed",
    ),
    SheetSpec(
        PURCHASES,
        (
            Column("Date", Kind.DATE),
            Column("Item", Kind.TEXT),
            Column(
                "Quantity",
                Kind.NUMBER,
                blank_with="Charges",
                doc="below 0: a return to the vendor; blank or 0 only on a charge row",
            ),
            Column(
                "Unit Price",
                Kind.NUMBER,
                min_value=0.0,
                key="unit_price",
                blank_with="Charges",
                doc="actual; blank on a charge row",
            ),
            Column("Reference", Kind.TEXT, required=False, default=""),
            Column(
                "Charges",
                Kind.NUMBER,
                required=False,
                default=0.0,
                doc="freight, duty and other costs of the row in currency, added to its actual "
                "cost and so to the price variance; with no Quantity, a later charge on the item",
            ),
        ),
        frame="purchases",
        watched_headers=COST_HEADER_WORDS,
        note="A column whose header looks like a cost (Freight, Duty, Insurance, Customs, "
        "Landed Cost) is not read: put its amount in Charges",
    ),
    SheetSpec(
        COMPLETIONS,
        (
            Column("Date", Kind.DATE),
            Column("Item", Kind.TEXT),
            Column("Quantity", Kind.NUMBER, doc="good units; below 0: a completion reversed"),
            Column(
                "Scrap Quantity",
                Kind.NUMBER,
                required=False,
                default=0.0,
                min_value=0.0,
                doc="not below 0, also on a reversal",
            ),
            Column("Reference", Kind.TEXT, required=False, default=""),
        ),
        frame="completions",
    ),
    SheetSpec(
        SALES,
        (
            Column("Date", Kind.DATE),
            Column("Item", Kind.TEXT),
            Column("Quantity", Kind.NUMBER, doc="below 0: a customer return; not 0"),
            Column("Reference", Kind.TEXT, required=False, default=""),
        ),
        frame="sales",
    ),
    SheetSpec(
        CONVERSION_COSTS,
        (
            Column("Date", Kind.DATE),
            Column("Element", Kind.CHOICE, required=False, choices=ELEMENTS, default="Conversion"),
            Column("Amount", Kind.NUMBER, doc="actual"),
            Column("Reference", Kind.TEXT, required=False, default=""),
            Column(
                "Hours",
                Kind.NUMBER,
                required=False,
                omit_when_default=True,
                min_value=0.0,
                doc="actual direct labour hours, on Labor rows",
            ),
        ),
        frame="conversion_costs",
    ),
    SheetSpec(
        COUNTS,
        (
            Column("Item", Kind.TEXT),
            Column("Counted Quantity", Kind.NUMBER, min_value=0.0, key="counted_quantity"),
            Column("Date", Kind.DATE, required=False),
        ),
        frame="counts",
        note="A blank Date means Period End",
    ),
    SheetSpec(
        OPENING_BALANCES,
        (
            Column("Item", Kind.TEXT),
            Column("Account", Kind.CHOICE, choices=ACCOUNT_CODES_FOR_OPENING),
            Column("Quantity", Kind.NUMBER, doc="below 0 is carried, with a warning"),
            Column(
                "Value",
                Kind.NUMBER,
                required=False,
                doc="last month's closing value in currency, Dr +; blank = not given",
            ),
        ),
        frame="opening_balances",
        note="What was on hand at Period Start: last month's closing per item and account "
        "(backflush next writes it)",
    ),
    SheetSpec(
        GL_BALANCES,
        (
            Column("Account", Kind.TEXT, doc="the GL code of the MIP or FG role"),
            Column(
                "Balance at Period Start",
                Kind.NUMBER,
                key="opening_balance",
                doc="from your general ledger; debit +, credit -",
            ),
            Column(
                "Balance Before Month-End Entries",
                Kind.NUMBER,
                required=False,
                key="closing_balance",
                doc="at Period End, before this month-end's entries are posted",
            ),
        ),
        frame="gl_balances",
        note="Your general ledger's own balances of the inventory accounts, for the tie-out; "
        "type them from the GL each month (the add-in never fills them)",
    ),
    SheetSpec(
        ACCOUNTS,
        (
            Column("Role", Kind.CHOICE, choices=tuple(ACCOUNT_ROLES)),
            Column("Account", Kind.TEXT),
            Column("Name", Kind.TEXT, required=False, default=""),
        ),
        note="Your GL codes; missing roles use the defaults shown",
    ),
    SheetSpec(
        HISTORY,
        (
            Column("Period Start", Kind.DATE, key="period_start"),
            Column("Period End", Kind.DATE, key="period_end"),
            Column("Figure", Kind.TEXT),
            Column("Amount", Kind.NUMBER, doc="as the Summary shows it"),
        ),
        frame="history",
        note="Key figures of earlier months, one row per month and figure; backflush next "
        "adds each month's",
    ),
)

# MonthEndInputs attribute -> the sheet that fills it, in contract order
FRAME_SHEETS: dict[str, str] = {s.frame: s.name for s in INPUT_SHEETS if s.frame}

SHEETS_BY_NAME: dict[str, SheetSpec] = {s.name: s for s in INPUT_SHEETS}

# Result tabs written by a run, in workbook order. A re-run replaces exactly these.
SUMMARY_TAB = "Summary"
JOURNAL_TAB = "Journal"
COST_ROLLUP_TAB = "Cost Rollup"
EXCEPTIONS_TAB = "Exceptions"
BY_PRODUCT_TAB = "By Product"
RESULT_TABS: tuple[str, ...] = (
    SUMMARY_TAB,
    JOURNAL_TAB,
    "Variances",
    BY_PRODUCT_TAB,
    "Backflush",
    "Inventory",
    COST_ROLLUP_TAB,
    EXCEPTIONS_TAB,
    "Run Log",
)


_INPUT_KEYS = frozenset(normalize_name(s.name) for s in INPUT_SHEETS)


def is_input_sheet(name: str) -> bool:
    """True for a sheet the run reads (matched like every sheet name: trimmed, any case)."""
    return normalize_name(name) in _INPUT_KEYS
