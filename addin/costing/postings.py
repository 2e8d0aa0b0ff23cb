"""The postings vocabulary: events, kinds, account roles as categoricals, and posting frames.

A posting frame has POSTINGS.names (results.py): one line per date, event, account role and
item, debit positive, cents int64. Its text columns are categoricals with one fixed set of
categories per run, so frames concatenate by their codes and reports group by integer codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from addin.costing.keys import day_numbers
from addin.costing.model import ROLES

UNITEMIZED = "(unitemized)"  # material of a manufactured item not backed by its BOM lines

# Event names, in the order entries of one day are posted.
REVALUATION = "Revaluation"
STANDARD_CHANGE = "Standard change"
PURCHASE = "Purchase"
PURCHASE_RETURN = "Purchase return"  # a negative Purchases quantity: back to the vendor
PURCHASE_CHARGE = "Purchase charge"  # a Purchases row with Charges and no quantity
CONVERSION = "Conversion incurred"
COMPLETION = "Completion"
COMPLETION_REVERSAL = "Completion reversal"  # a negative Completions quantity
SCRAP = "Scrap"
SALE = "Sale"
CUSTOMER_RETURN = "Customer return"  # a negative Sales quantity
COUNT = "Count adjustment"
CLOSE = "Period-end close"
SWEEP = "Rounding sweep"
OPENING = "Opening balance"
EVENT_ORDER = [
    REVALUATION,
    STANDARD_CHANGE,
    PURCHASE,
    PURCHASE_RETURN,
    PURCHASE_CHARGE,
    CONVERSION,
    COMPLETION,
    COMPLETION_REVERSAL,
    SCRAP,
    SALE,
    CUSTOMER_RETURN,
    COUNT,
    CLOSE,
    SWEEP,
]
# Returns and reversals: each posts the negation of its kind's entry, as its own entry.
REVERSAL_OF = {PURCHASE_RETURN: PURCHASE, COMPLETION_REVERSAL: COMPLETION, CUSTOMER_RETURN: SALE}
# Events the journal posts as one entry per item (each with its own memo), not per day. The
# rounding sweep is one entry on Period End (its cents per item are on the Inventory tab).
ITEMIZED_EVENTS = (REVALUATION, STANDARD_CHANGE)

STOCK_ROLES = ("MIP", "FG")

EVENT_MEMO = {
    REVALUATION: "Standard cost revaluation: opening value restated to this period's standard",
    STANDARD_CHANGE: "Standard cost change: stock on hand revalued to the new standard",
    PURCHASE: "Purchase: materials at standard, price variance to PPV",
    PURCHASE_RETURN: (
        "Purchase return: materials back to the vendor at standard, price variance reversed"
    ),
    PURCHASE_CHARGE: "Purchase charge: freight, duty and other charges to the price variance",
    CONVERSION: "Conversion incurred: actual labour and overhead",
    COMPLETION: "Completion: finished units, components backflushed at standard",
    COMPLETION_REVERSAL: ("Completion reversal: units taken back, components returned at standard"),
    SCRAP: "Scrap: reported scrap at standard",
    SALE: "Sale: goods sold at standard",
    CUSTOMER_RETURN: "Customer return: goods back at standard, the sale reversed",
    COUNT: "Count adjustment: book adjusted to count (usage variance)",
    CLOSE: "Period-end close: under/over-allocated conversion costs",
    SWEEP: "Rounding sweep: per-day rounding left in inventory beyond quantity x standard",
}

# The input sheet behind each event (where a finding about its amounts points).
EVENT_SHEET = {
    REVALUATION: "Opening Balances",
    STANDARD_CHANGE: "Standard Costs",
    PURCHASE: "Purchases",
    PURCHASE_RETURN: "Purchases",
    PURCHASE_CHARGE: "Purchases",
    CONVERSION: "Conversion Costs",
    COMPLETION: "Completions",
    COMPLETION_REVERSAL: "Completions",
    SCRAP: "Completions",
    SALE: "Sales",
    CUSTOMER_RETURN: "Sales",
    COUNT: "Counts",
    OPENING: "Opening Balances",
}

KINDS = [
    "",
    "output",
    "manual issue",
    "BOM change",
    "rounding",
    "price",
    "count",
    "conversion",
    "revaluation",
    "lot size",
    "charges",
    "by-product",
    "labor",  # conversion allocated or its variance: the labour element
    "overhead",  # ... the overhead element
]
EVENT_DTYPE = pd.CategoricalDtype([*EVENT_ORDER, OPENING])
ROLE_DTYPE = pd.CategoricalDtype(ROLES)
KIND_DTYPE = pd.CategoricalDtype(KINDS)


def code_of(dtype: pd.CategoricalDtype, value: str) -> int:
    """The category code of ``value``."""
    return int(dtype.categories.get_loc(value))


def _categorical(values: object, dtype: pd.CategoricalDtype, n: int) -> pd.Categorical:
    """Postings keep their text columns as categoricals: grouping and comparing stay fast."""
    if isinstance(values, str):
        code = dtype.categories.get_loc(values)
        return pd.Categorical.from_codes(np.full(n, code, dtype=np.int32), dtype=dtype)
    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        return pd.Categorical.from_codes(np.broadcast_to(arr, (n,)).astype(np.int32), dtype=dtype)
    codes = dtype.categories.get_indexer(np.broadcast_to(arr.astype(object), (n,)))
    return pd.Categorical.from_codes(codes.astype(np.int32), dtype=dtype)


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Posting frames end to end. Their categorical columns share one dtype per run, so the
    codes are joined directly (pd.concat would compare the 20,000-item categories each time)."""
    frames = [f for f in frames if len(f)] or frames[:1]
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    columns: dict[str, object] = {}
    for c in frames[0].columns:
        first = frames[0][c]
        if isinstance(first.dtype, pd.CategoricalDtype) and all(
            f[c].dtype is first.dtype for f in frames
        ):
            codes = np.concatenate([f[c].cat.codes.to_numpy() for f in frames])
            columns[c] = pd.Categorical.from_codes(codes, dtype=first.dtype, validate=False)
        elif isinstance(first.dtype, pd.CategoricalDtype):
            columns[c] = pd.concat([f[c] for f in frames], ignore_index=True)
        else:
            columns[c] = np.concatenate([f[c].to_numpy() for f in frames])
    return pd.DataFrame(columns)


class Postings:
    """Builds posting frames with one fixed set of categories per run, so they concatenate.
    Immutable once built: the items' categories are Standard Costs' codes, then "" (no item)
    and UNITEMIZED."""

    def __init__(self, codes: npt.NDArray[np.object_]) -> None:
        self.item_dtype = pd.CategoricalDtype([*codes, "", UNITEMIZED])
        self.none = len(codes)  # category code of "" (no item)

    def empty(self) -> pd.DataFrame:
        return self(np.array([], dtype="datetime64[ns]"), PURCHASE, "MIP", "", 0.0, [])

    def __call__(
        self,
        date: npt.ArrayLike,
        event: str,
        role: str | npt.ArrayLike,
        item: npt.ArrayLike | str,
        quantity: npt.ArrayLike | float,
        cents: npt.ArrayLike,
        kind: str | npt.ArrayLike = "",
    ) -> pd.DataFrame:
        """Item is a code, an array of codes, or an array of item positions (ints)."""
        cents_arr = np.atleast_1d(np.asarray(cents, dtype=np.int64))
        n = len(cents_arr)
        return pd.DataFrame(
            {
                "date": np.broadcast_to(np.asarray(date, dtype="datetime64[ns]"), (n,)).copy(),
                "event": _categorical(event, EVENT_DTYPE, n),
                "role": _categorical(role, ROLE_DTYPE, n),
                "item": _categorical(item, self.item_dtype, n),
                "quantity": np.broadcast_to(np.asarray(quantity, dtype=np.float64), (n,)).copy(),
                "cents": cents_arr,
                "kind": _categorical(kind, KIND_DTYPE, n),
            }
        )


def in_stock(frame: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Rows of a posting frame on a stock account (MIP or FG)."""
    role = frame["role"].cat.codes.to_numpy()
    return (role == ROLES.index("MIP")) | (role == ROLES.index("FG"))


def role_cents(frame: pd.DataFrame, role: str, event: str | None = None) -> int:
    """Total cents posted to ``role`` in a posting frame (by ``event`` only, when given)."""
    take = frame["role"].cat.codes.to_numpy() == ROLES.index(role)
    if event is not None:
        take &= frame["event"].cat.codes.to_numpy() == EVENT_DTYPE.categories.get_loc(event)
    return int(frame["cents"].to_numpy()[take].sum())


@dataclass(frozen=True)
class Ledger:
    """Postings as plain arrays (category codes), taken once and shared by the reports."""

    day: npt.NDArray[np.int64]  # position in ``days``
    days: npt.NDArray[np.datetime64]
    event: npt.NDArray[np.int64]  # code in the event categories (EVENT_ORDER, then opening)
    role: npt.NDArray[np.int64]  # code in ROLES
    item: npt.NDArray[np.int64]  # item position; n = "" (no item), n + 1 = unitemized
    kind: npt.NDArray[np.int64]  # code in the kinds
    quantity: npt.NDArray[np.float64]
    cents: npt.NDArray[np.int64]

    @classmethod
    def of(cls, postings: pd.DataFrame) -> Ledger:
        day, days = day_numbers(postings["date"].to_numpy("datetime64[ns]"))

        def codes(c: str) -> np.ndarray:
            return postings[c].cat.codes.to_numpy().astype(np.int64)

        return cls(
            day,
            days,
            codes("event"),
            codes("role"),
            codes("item"),
            codes("kind"),
            postings["quantity"].to_numpy(np.float64),
            postings["cents"].to_numpy(np.int64),
        )

    def select(self, mask: npt.NDArray[np.bool_]) -> Ledger:
        return Ledger(
            self.day[mask],
            self.days,
            self.event[mask],
            self.role[mask],
            self.item[mask],
            self.kind[mask],
            self.quantity[mask],
            self.cents[mask],
        )
