"""Turn item-level postings into the journal, trial balance, inventory, variances, backflush and
roll-up frames (their columns: results.py). Each report reads the prepared Plant and the stage
outputs it needs, nothing else."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from addin.costing import bom as bomlib
from addin.costing import byproducts
from addin.costing.bom import item_lot_sizes
from addin.costing.elements import ELEMENT_ROLES
from addin.costing.keys import day_numbers, sum_cents
from addin.costing.model import ROLES, MonthEndInputs
from addin.costing.money import to_cents
from addin.costing.orders import order_sizes
from addin.costing.plant import Plant
from addin.costing.postings import (
    CLOSE,
    COMPLETION,
    COMPLETION_REVERSAL,
    CONVERSION,
    COUNT,
    CUSTOMER_RETURN,
    EVENT_DTYPE,
    EVENT_MEMO,
    ITEMIZED_EVENTS,
    KIND_DTYPE,
    PURCHASE,
    PURCHASE_CHARGE,
    PURCHASE_RETURN,
    REVALUATION,
    REVERSAL_OF,
    ROLE_DTYPE,
    SALE,
    SCRAP,
    STANDARD_CHANGE,
    STOCK_ROLES,
    Ledger,
    code_of,
)
from addin.costing.precision import MAX_DECIMALS, item_decimals, noisy
from addin.costing.results import (
    BACKFLUSH,
    INVENTORY,
    JOURNAL,
    ROLLUP,
    TRIAL_BALANCE,
    VARIANCES,
    Consumption,
    ConversionSummary,
    Memo,
)

BYPRODUCT_MEMO = "By-product received: into stock at its standard, lowering the output's cost"
References = dict[tuple[str, pd.Timestamp], tuple[int, str]]


# ---- journal and trial balance ----------------------------------------------------------------
def _references(inputs: MonthEndInputs) -> References:
    """(event, date) -> (number of source records, their references joined: the first three
    non-blank ones in sheet order, then "+N more")."""
    out: References = {}
    sources = [*_by_sign(inputs), (CONVERSION, inputs.conversion_costs)]
    completions = inputs.completions
    if len(completions):
        scrapped = completions["scrap_quantity"].fillna(0).to_numpy() > 0
        sources.append((SCRAP, completions[scrapped]))
    for event, frame in sources:
        if len(frame) == 0:
            continue
        day, days = day_numbers(frame["date"].to_numpy("datetime64[ns]"))
        records = np.bincount(day, minlength=len(days))
        first, given = _first_references(frame, day, len(days))
        for k, day_value in enumerate(days):
            text = ", ".join(first[k]) + (f" +{given[k] - 3} more" if given[k] > 3 else "")
            out[(event, pd.Timestamp(day_value))] = (int(records[k]), text)
    return out


def _by_sign(inputs: MonthEndInputs) -> list[tuple[str, pd.DataFrame]]:
    """The movement rows behind each event, by the sign of their quantity: a return or
    reversal below 0; a Purchases row without quantity is a charge (else 0 is the kind's)."""
    out = []
    for frame, (event, below, zero) in (
        (inputs.purchases, (PURCHASE, PURCHASE_RETURN, PURCHASE_CHARGE)),
        (inputs.completions, (COMPLETION, COMPLETION_REVERSAL, COMPLETION)),
        (inputs.sales, (SALE, CUSTOMER_RETURN, SALE)),
    ):
        qty = frame["quantity"].fillna(0.0).to_numpy(np.float64)
        rows = {event: qty > 0, below: qty < 0}
        rows[zero] = rows.get(zero, np.zeros(len(qty), dtype=bool)) | (qty == 0)
        out += [(e, frame if mask.all() else frame[mask]) for e, mask in rows.items() if mask.any()]
    return out


def _first_references(
    frame: pd.DataFrame, day: npt.NDArray[np.int64], n_days: int
) -> tuple[list[list[str]], npt.NDArray[np.int64]]:
    """Per day: the first three non-blank references in sheet order, and how many there are."""
    first: list[list[str]] = [[] for _ in range(n_days)]
    if "reference" not in frame:
        return first, np.zeros(n_days, dtype=np.int64)
    refs = frame["reference"].to_numpy(object)
    nonblank = np.flatnonzero(pd.notna(refs) & (refs != ""))
    d = day[nonblank]
    given = np.bincount(d, minlength=n_days)
    order = np.argsort(d, kind="stable")  # sheet order within each day
    d_sorted = d[order]
    rank = np.arange(len(d_sorted)) - np.searchsorted(d_sorted, d_sorted)
    for k in order[rank < 3].tolist():
        first[d[k]].append(str(refs[nonblank[k]]))
    return first, given


def journal(
    inputs: MonthEndInputs,
    postings: pd.DataFrame,
    ledger: Ledger | None = None,
    memos: tuple[Memo, ...] = (),
) -> pd.DataFrame:
    """One compressed entry per event and date (per item too for ITEMIZED_EVENTS, each with
    its memo from ``memos``); one line per account, net of that entry. Entries in date and
    event order; in an entry, debits first, then accounts in ROLES."""
    if len(postings) == 0:
        return JOURNAL.empty()
    led = ledger or Ledger.of(postings)
    lines, flag = _journal_lines(led)
    cents, role, event, day, item = lines
    order = np.lexsort((flag, role, cents <= 0, item, event, day))  # debits first in an entry
    cents, role, event, day, item, flag = (a[order] for a in (*lines, flag))
    new_entry = np.ones(len(cents), dtype=bool)
    new_entry[1:] = (day[1:] != day[:-1]) | (event[1:] != event[:-1]) | (item[1:] != item[:-1])
    dates = pd.DatetimeIndex(led.days[day])
    memo, ref = _memos(inputs, event, dates)
    _itemized_memos(memo, event, item, memos)
    for k in np.flatnonzero(flag).tolist():
        memo[k] = BYPRODUCT_MEMO
    accounts = [inputs.account(r) for r in ROLE_DTYPE.categories]
    return pd.DataFrame(
        {
            "entry": [entry_id(i) for i in np.cumsum(new_entry).tolist()],
            "date": dates,
            "event": pd.Categorical.from_codes(event, dtype=EVENT_DTYPE),
            "role": pd.Categorical.from_codes(role, dtype=ROLE_DTYPE),
            "account": [accounts[r].code for r in role.tolist()],
            "account_name": [accounts[r].name for r in role.tolist()],
            "debit_cents": np.clip(cents, 0, None).astype(np.int64),
            "credit_cents": np.clip(-cents, 0, None).astype(np.int64),
            "memo": memo,
            "reference": ref,
        }
    )[JOURNAL.names]


def _journal_lines(led: Ledger) -> tuple[tuple[np.ndarray, ...], npt.NDArray[np.bool_]]:
    """The journal lines (see _entry_lines) of every entry, and which are by-product lines:
    an entry's by-products received get lines of their own (own memo), beside its others."""
    by_item = np.isin(led.event, [code_of(EVENT_DTYPE, e) for e in ITEMIZED_EVENTS])
    received = led.kind == code_of(KIND_DTYPE, "by-product")
    parts = [(~by_item & ~received, False), (by_item, True), (received, False)]
    chosen = [(_entry_lines(led, mask, itemized), mask) for mask, itemized in parts if mask.any()]
    if not chosen:
        chosen = [(_entry_lines(led, ~by_item, False), ~by_item)]
    lines = tuple(np.concatenate(c) for c in zip(*(x for x, _ in chosen), strict=True))
    flag = np.concatenate([np.full(len(x[0]), m is received) for x, m in chosen])
    return lines, flag


def entry_id(number: int) -> str:
    """The journal's name of entry ``number`` (1 -> BF-0001)."""
    return f"BF-{number:04d}"


def entry_numbers(
    led: Ledger, mask: npt.NDArray[np.bool_] | None = None, journal: pd.DataFrame | None = None
) -> npt.NDArray[np.int64]:
    """Per ledger line (in ``mask`` only, when given), the number of the journal entry it is
    part of (1 = BF-0001), as the journal numbers them: one entry per date and event (and item
    for ITEMIZED_EVENTS), in that order, entries whose lines all net to zero left out (0 for
    their lines). The ``journal`` of ``led``, when given, says which entries are posted."""
    n_event, n_role = len(EVENT_DTYPE.categories), len(ROLE_DTYPE.categories)
    by_item = [code_of(EVENT_DTYPE, e) for e in ITEMIZED_EVENTS]
    itemized = np.isin(led.event, by_item)
    sel = np.ones(len(led.cents), dtype=bool) if mask is None else mask
    both = sel | itemized
    n_item = int(led.item[both].max()) + 2 if both.any() else 1
    live = _posted_days_and_events(led, itemized, journal) * n_item
    # entries per item: (day, event, item + 1), posted when a line of theirs is not zero
    keyed = (led.day[itemized] * n_event + led.event[itemized]) * n_item + led.item[itemized] + 1
    lines, inverse = np.unique(keyed * n_role + led.role[itemized], return_inverse=True)
    own = sum_cents(inverse.reshape(-1), led.cents[itemized], len(lines))
    keys = np.union1d(live, np.unique(lines[own != 0] // n_role))
    full = (led.day[sel] * n_event + led.event[sel]) * n_item
    full += np.where(itemized[sel], led.item[sel] + 1, 0)
    if len(keys) == 0:
        return np.zeros(len(full), dtype=np.int64)
    at = np.minimum(np.searchsorted(keys, full), len(keys) - 1)
    return np.where(keys[at] == full, at + 1, 0).astype(np.int64)


def _posted_days_and_events(
    led: Ledger, itemized: npt.NDArray[np.bool_], journal: pd.DataFrame | None
) -> npt.NDArray[np.int64]:
    """The (day x events + event) of the entries per day and event that are posted (a line
    not zero): read off the journal when given, else summed from the ledger."""
    n_event, n_role = len(EVENT_DTYPE.categories), len(ROLE_DTYPE.categories)
    if journal is not None:
        if len(journal) == 0:
            return np.zeros(0, dtype=np.int64)
        day = np.searchsorted(led.days, journal["date"].to_numpy("datetime64[ns]"))
        event = EVENT_DTYPE.categories.get_indexer(journal["event"].astype(str)).astype(np.int64)
        keep = ~np.isin(event, [code_of(EVENT_DTYPE, e) for e in ITEMIZED_EVENTS])
        return np.unique((day * n_event + event)[keep])
    day_event = led.day * n_event + led.event
    size = max(len(led.days), 1) * n_event
    own_cents = np.where(itemized, 0, led.cents)
    plain = sum_cents(day_event * n_role + led.role, own_cents, size * n_role)
    return np.flatnonzero(plain.reshape(size, n_role).any(axis=1)).astype(np.int64)


def entry_lists(
    group: npt.NDArray[np.int64], number: npt.NDArray[np.int64], n_groups: int
) -> npt.NDArray[np.object_]:
    """Per group (0 <= group < n_groups), the entries of its lines ("BF-0003, BF-0007", in
    entry order; "" when none), so a filter on an entry id finds the group's row."""
    take = number > 0
    if not take.any():
        return np.full(n_groups, "", dtype=object)
    top = int(number.max()) + 1
    pair = group[take] * top + number[take]
    if n_groups * top <= 1 << 26:  # presence flags: no sort
        pairs = np.flatnonzero(np.bincount(pair, minlength=n_groups * top))
    else:
        pairs = np.unique(pair)
    names = np.array([entry_id(i) for i in range(top)], dtype=object)[pairs % top]
    bounds = np.searchsorted(pairs // top, np.arange(n_groups + 1))
    count = np.diff(bounds)
    out = np.full(n_groups, "", dtype=object)
    out[count == 1] = names[bounds[:-1][count == 1]]  # one entry: no join
    listed = names.tolist()
    for g in np.flatnonzero(count > 1).tolist():
        out[g] = ", ".join(listed[bounds[g] : bounds[g + 1]])
    return out


def _entry_lines(led: Ledger, mask: npt.NDArray[np.bool_], by_item: bool) -> tuple[np.ndarray, ...]:
    """(cents, role, event, day, item) of the journal lines of the ledger lines in ``mask``:
    summed per day, event and role (and item when ``by_item``; else item -1), zeros dropped."""
    n_event, n_role = len(EVENT_DTYPE.categories), len(ROLE_DTYPE.categories)
    if not by_item:
        key = (led.day * n_event + led.event) * n_role + led.role
        sums = sum_cents(key, np.where(mask, led.cents, 0), len(led.days) * n_event * n_role)
        line = np.flatnonzero(sums)
        cents, item = sums[line], np.full(len(line), -1, dtype=np.int64)
    else:
        n_item = int(led.item.max()) + 1
        full = ((led.day * n_event + led.event) * n_item + led.item) * n_role + led.role
        keys, inverse = np.unique(full[mask], return_inverse=True)
        sums = sum_cents(inverse.reshape(-1), led.cents[mask], len(keys))
        keep = sums != 0
        line, cents = keys[keep], sums[keep]
        item = (line // n_role) % n_item
        line = (line // (n_role * n_item)) * n_role + line % n_role
    role = line % n_role
    event = (line // n_role) % n_event
    day = line // (n_role * n_event)
    return cents, role, event, day, item


def _memos(
    inputs: MonthEndInputs, event: npt.NDArray[np.int64], dates: pd.DatetimeIndex
) -> tuple[list[str], list[str]]:
    """Each journal line's memo (with the number of source records) and references."""
    refs = _references(inputs)
    memo, ref = [], []
    for ev, when in zip(EVENT_DTYPE.categories[event], dates, strict=True):
        n, text = refs.get((ev, when), (0, ""))
        memo.append(EVENT_MEMO[ev] + (f" ({n} records)" if n > 1 else ""))
        ref.append(text)
    return memo, ref


def _itemized_memos(
    memo: list[str],
    event: npt.NDArray[np.int64],
    item: npt.NDArray[np.int64],
    memos: tuple[Memo, ...],
) -> None:
    """Put each itemized entry's own memo on its lines (several memos of one item joined)."""
    texts: dict[tuple[int, int], str] = {}
    for m in memos:
        key = (code_of(EVENT_DTYPE, m.event), m.item)
        texts[key] = f"{texts[key]}; {m.text}" if key in texts else m.text
    for k in np.flatnonzero(item >= 0).tolist():
        memo[k] = texts.get((int(event[k]), int(item[k])), memo[k])


def trial_balance(inputs: MonthEndInputs, opening: pd.DataFrame, jnl: pd.DataFrame) -> pd.DataFrame:
    """Per account role: opening, the period's debits and credits, closing (cents). An optional
    role that posts to its fallback (model.ROLE_FALLBACK) is not listed."""
    roles = [r for r in ROLES if inputs.posting_role(r) == r]
    op = opening.groupby("role")["cents"].sum().reindex(roles, fill_value=0)
    dr = jnl.groupby("role")["debit_cents"].sum().reindex(roles, fill_value=0)
    cr = jnl.groupby("role")["credit_cents"].sum().reindex(roles, fill_value=0)
    tb = pd.DataFrame(
        {
            "role": roles,
            "account": [inputs.account(r).code for r in roles],
            "account_name": [inputs.account(r).name for r in roles],
            "opening_cents": op.to_numpy(np.int64),
            "debit_cents": dr.to_numpy(np.int64),
            "credit_cents": cr.to_numpy(np.int64),
        }
    )
    tb["closing_cents"] = tb["opening_cents"] + tb["debit_cents"] - tb["credit_cents"]
    return tb[TRIAL_BALANCE.names]


# ---- inventory --------------------------------------------------------------------------------
class _Slots:
    """One slot per (stock account, item) pair that moved or opened: bincounts over category
    codes, no string grouping."""

    def __init__(self, opening: pd.DataFrame, postings: pd.DataFrame, led: Ledger) -> None:
        self.categories = postings["item"].cat.categories.to_numpy()
        self.n_items = len(self.categories)
        self.roles = list(postings["role"].cat.categories)
        self.size = len(self.roles) * self.n_items
        self.slot = led.role * self.n_items + led.item
        self.stock = np.isin(led.role, [self.roles.index(r) for r in STOCK_ROLES])
        self.opening = opening[opening["role"].isin(STOCK_ROLES)]
        op = self.opening
        op_slot = op["role"].cat.codes.to_numpy().astype(np.int64) * self.n_items
        self.op_slot = op_slot + op["item"].cat.codes.to_numpy().astype(np.int64)
        used = np.zeros(self.size, dtype=bool)
        used[self.op_slot] = True
        used[self.slot[self.stock]] = True
        self.at = np.flatnonzero(used)
        self.item_code = self.at % self.n_items

    def quantity(self, led: Ledger, mask: npt.NDArray[np.bool_]) -> np.ndarray:
        """Units per slot (int zeros when no line is selected: np.bincount of nothing)."""
        q = np.bincount(self.slot[mask], weights=led.quantity[mask], minlength=self.size)
        return q[self.at]

    def cents(self, led: Ledger, mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
        return sum_cents(self.slot[mask], led.cents[mask], self.size)[self.at]


def inventory(
    plant: Plant,
    opening: pd.DataFrame,
    postings: pd.DataFrame,
    ledger: Ledger | None,
    counts: pd.DataFrame | None,
) -> pd.DataFrame:
    """Roll-forward per stocked item and account: quantities and values (cents).
    ``counts``: the count stage's table (results.COUNT_TABLE), None when nothing was counted.
    Its rows' journal entries: inventory_entries (listed when the tab is written)."""
    led = ledger or Ledger.of(postings)
    s = _Slots(opening, postings, led)
    count, close = code_of(EVENT_DTYPE, COUNT), code_of(EVENT_DTYPE, CLOSE)
    flows = s.stock & (led.event != count) & (led.event != close)
    op = s.opening
    inv = pd.DataFrame(
        {
            "role": np.asarray(s.roles, dtype=object)[s.at // s.n_items],
            "item": s.categories[s.item_code].astype(object),
            "opening_qty": np.bincount(
                s.op_slot, weights=op["quantity"].to_numpy(np.float64), minlength=s.size
            )[s.at],
            "in_qty": s.quantity(led, flows & (led.quantity > 0)),
            "out_qty": -s.quantity(led, flows & (led.quantity < 0)),
        }
    )
    inv["book_qty"] = inv["opening_qty"] + inv["in_qty"] - inv["out_qty"]
    _add_counts(inv, s, counts)
    inv["ending_qty"] = inv["book_qty"] - inv["difference"].fillna(0.0)
    real = s.item_code < len(plant.codes)
    pos = np.where(real, s.item_code, 0)
    inv["standard"] = np.where(real, plant.closing.stock.unit_value[pos], np.nan)
    inv.loc[~real, ["opening_qty", "in_qty", "out_qty", "book_qty", "ending_qty"]] = 0.0
    _add_values(inv, s, led, flows, count)
    description = plant.sc["description"].fillna("").to_numpy(object)[pos]
    inv["description"] = np.where(real, description, "Material not backed by BOM lines")
    inv["role_no"] = inv["role"].map({"MIP": 0, "FG": 1})
    inv = inv.sort_values(["role_no", "item"]).drop(columns="role_no").reset_index(drop=True)
    return inv[INVENTORY.names]


def inventory_entries(inventory: pd.DataFrame, postings: pd.DataFrame) -> npt.NDArray[np.object_]:
    """Per row of ``inventory`` (reports.inventory of ``postings``), the journal entries that
    moved it ("BF-0003, BF-0007"; "" for an opening that did not move). Listed on demand (when
    the tab is written): on a plant-sized month the lists are long, and compute stays fast."""
    if len(postings) == 0 or len(inventory) == 0:
        return np.full(len(inventory), "", dtype=object)
    led = Ledger.of(postings)
    stock = np.isin(led.role, [code_of(ROLE_DTYPE, r) for r in STOCK_ROLES])
    items = postings["item"].cat.categories
    slot = led.role * len(items) + led.item
    row_slot = ROLE_DTYPE.categories.get_indexer(inventory["role"].astype(str)) * len(items)
    row_slot = row_slot + items.get_indexer(inventory["item"].astype(str))
    order = np.argsort(row_slot)
    at = np.searchsorted(row_slot[order], slot[stock])
    at = np.minimum(at, len(order) - 1)
    group = order[at]
    hit = row_slot[group] == slot[stock]
    numbers = np.where(hit, entry_numbers(led, stock), 0)
    return entry_lists(group, numbers, len(inventory))


def _add_values(
    inv: pd.DataFrame, s: _Slots, led: Ledger, flows: npt.NDArray[np.bool_], count: int
) -> None:
    """The value columns of the inventory (cents): opening, in, out, count, other, ending."""
    op_cents = s.opening["cents"].to_numpy(np.int64)
    inv["opening_cents"] = sum_cents(s.op_slot, op_cents, s.size)[s.at]
    inv["in_cents"] = s.cents(led, flows & (led.quantity > 0))
    inv["out_cents"] = -s.cents(led, flows & (led.quantity < 0))
    inv["count_cents"] = s.cents(led, s.stock & (led.event == count))
    inv["other_cents"] = s.cents(led, s.stock & (led.quantity == 0) & (led.event != count))
    inv["ending_cents"] = (
        inv["opening_cents"]
        + inv["in_cents"]
        - inv["out_cents"]
        + inv["count_cents"]
        + inv["other_cents"]
    )


def _add_counts(inv: pd.DataFrame, s: _Slots, ct: pd.DataFrame | None) -> None:
    """The count columns of the inventory: NaT/NaN where the item was not counted."""
    inv["count_date"] = pd.Series(np.full(len(inv), np.datetime64("NaT"), "datetime64[ns]"))
    inv["book_at_count"] = np.nan
    inv["counted_qty"] = np.nan
    inv["difference"] = np.nan
    if ct is None or not len(ct):
        return
    ct_slot = pd.Index(
        np.array([s.roles.index(r) for r in ct["role"]], dtype=np.int64) * s.n_items
        + ct["pos"].to_numpy().astype(np.int64)
    )
    row = ct_slot.get_indexer(s.at)
    hit = row >= 0
    for col, src in (
        ("count_date", "date"),
        ("book_at_count", "book"),
        ("counted_qty", "counted_quantity"),
        ("difference", "difference"),
    ):
        values = inv[col].to_numpy().copy()
        values[hit] = ct[src].to_numpy()[row[hit]]
        inv[col] = values


# ---- variances --------------------------------------------------------------------------------
class _VarianceKind(NamedTuple):
    """One kind of item variance: which postings, the standard shown, where it is posted."""

    type: str
    memo: str
    mask: npt.NDArray[np.bool_]  # the ledger lines it sums
    standard: npt.NDArray[np.float64] | None  # per unit, by item position; None: not shown
    role: str
    product: bool = False  # amount = ROUND(quantity x standard, 2) exactly
    memos_of: str = ""  # the itemized event whose memos the rows carry
    counted: bool = True  # quantity shown (False: value-only lines, such as charges)


def variances(
    plant: Plant,
    postings: pd.DataFrame,
    ledger: Ledger | None,
    conversion: ConversionSummary,
    memos: tuple[Memo, ...] = (),
    journal: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Price, usage, scrap, revaluation and conversion variances; amount > 0 is unfavourable
    (a debit to the variance account: a revaluation gain is F). One row per item and variance
    type, items in Standard Costs order; a revaluation row carries its entry's memo. With the
    run's ``journal``, each row lists the journal entries it was posted in."""
    led = ledger or Ledger.of(postings)
    categories = postings["item"].cat.categories.to_numpy().astype(object)
    kinds = [k for k in _item_variance_kinds(plant, led) if k.mask.any()]
    close = (led.event == code_of(EVENT_DTYPE, CLOSE)) & (
        led.kind == code_of(KIND_DTYPE, "conversion")
    )
    masks = [close, *(k.mask for k in kinds)]
    entries = None if journal is None else _numbers_of(led, masks, journal)
    rows = [_per_item(len(plant.codes), led, categories, kind, entries) for kind in kinds]
    for kind, r in zip(kinds, rows, strict=True):
        if kind.memos_of:
            texts = {plant.codes[m.item]: m.text for m in memos if m.event == kind.memos_of}
            r["memo"] = r["item"].map(texts).fillna(r["memo"])
        elif r["type"].iloc[0] == "lot size" and plant.has_orders:
            r["memo"] = r["item"].map(_order_memos(plant)).fillna(r["memo"])
    if conversion.actual or conversion.allocated:
        rows.append(_conversion_variance(plant, postings, conversion))
        if entries is not None:  # every conversion row: the close entry
            listed = entry_lists(np.zeros(int(close.sum()), np.int64), entries[close], 1)
            rows[-1]["entries"] = listed[0]
    if not rows:
        return VARIANCES.empty()
    return _tidy(plant, _finish_variances(plant, pd.concat(rows, ignore_index=True)))


def _tidy(plant: Plant, v: pd.DataFrame) -> pd.DataFrame:
    """No zero rows; quantities rounded to the item's precision (precision.py: no float noise
    in the formula bar); a scrap row whose amount is exactly ROUND(quantity x standard, 2) is
    shown as that product."""
    v = v[v["amount_cents"] != 0].reset_index(drop=True)
    v["quantity"] = _at_precision(plant, v)
    exact = (
        to_cents(np.nan_to_num(v["quantity"].to_numpy() * v["standard"].to_numpy()))
        == v["amount_cents"].to_numpy()
    )
    scrap = (v["type"] == "scrap").to_numpy()
    v["product"] = np.where(scrap, exact, v["product"] & exact)
    summed = scrap & ~exact & v["quantity"].notna().to_numpy()
    v.loc[summed, "memo"] = v.loc[summed, "memo"] + SCRAP_SUMMED
    return v


def _at_precision(plant: Plant, v: pd.DataFrame) -> npt.NDArray[np.float64]:
    """The rows' quantities, those with float noise rounded to their item's precision (rows
    without an item: to MAX_DECIMALS)."""
    q = v["quantity"].to_numpy(np.float64).copy()
    rough = np.flatnonzero(noisy(q))
    if not len(rough):
        return q
    pos = plant.index.codes.get_indexer(pd.Index(v["item"].iloc[rough].astype(object)))
    places = np.full(len(rough), MAX_DECIMALS)
    known = pos >= 0  # -1: no item
    n = len(plant.codes)
    component = np.zeros(n, dtype=bool)
    for w in plant.windows:  # consumed by some BOM line in effect in the period
        component |= np.bincount(w.matrix.indices, minlength=n)[:n] > 0
    places[known] = item_decimals(plant.inputs, plant.index, pos[known], component)
    q[rough] = np.round(q[rough] * 10.0**places) / 10.0**places
    return q


SCRAP_SUMMED = (
    ": the sum of its flushed lines, each rounded (or flushed with the BOM of its day), "
    "not ROUND(quantity x standard)"
)


def _numbers_of(
    led: Ledger, masks: list[npt.NDArray[np.bool_]], journal: pd.DataFrame
) -> npt.NDArray[np.int64]:
    """Entry numbers of the ledger lines in any of ``masks`` (0 elsewhere, and for lines of
    0.00: no journal line is made of them)."""
    need = np.logical_or.reduce(masks)
    numbers = np.zeros(len(need), dtype=np.int64)
    numbers[need] = np.where(led.cents[need] != 0, entry_numbers(led, need, journal), 0)
    return numbers


def _item_variance_kinds(plant: Plant, led: Ledger) -> list[_VarianceKind]:
    """Price (PPV; purchases, returns to the vendor, charges), usage from counts, manual
    issues, BOM changes and the reversals' usage, scrap, and standard cost revaluation, in
    that order."""
    usage = led.role == code_of(ROLE_DTYPE, "USAGE")
    scrap = led.event == code_of(EVENT_DTYPE, SCRAP)
    revaluation = led.role == code_of(ROLE_DTYPE, "REVALUATION")
    back = np.isin(led.event, [code_of(EVENT_DTYPE, e) for e in REVERSAL_OF])
    return [
        *_price_kinds(plant, led, back),
        _VarianceKind(
            "usage",
            "Count below (U) or above (F) book",
            usage & (led.event == code_of(EVENT_DTYPE, COUNT)),
            plant.closing.stock.unit_value,
            "USAGE",
            product=True,
        ),
        *_flush_usage_kinds(plant, led, usage, back),
        _VarianceKind(
            "lot size",
            "Per-order lines: orders of another size than the lot size",
            usage & (led.kind == code_of(KIND_DTYPE, "lot size")),
            _lot_share(plant),
            "USAGE",
        ),
        _VarianceKind(
            "scrap",
            "Reported scrap at standard",
            scrap & (led.role == code_of(ROLE_DTYPE, "SCRAP")),
            plant.total,
            "SCRAP",
        ),
        _VarianceKind(
            "revaluation",
            "Opening value restated to this period's standard",
            revaluation & (led.event == code_of(EVENT_DTYPE, REVALUATION)),
            plant.stock.unit_value,
            "REVALUATION",
            memos_of=REVALUATION,
        ),
        _VarianceKind(
            "revaluation",
            "Stock on hand revalued on a dated standard change",
            revaluation & (led.event == code_of(EVENT_DTYPE, STANDARD_CHANGE)),
            plant.closing.stock.unit_value,
            "REVALUATION",
            memos_of=STANDARD_CHANGE,
        ),
    ]


def _lot_share(plant: Plant) -> npt.NDArray[np.float64] | None:
    """Per item: its per-order lines' material per unit in the period standard (per order /
    lot size); None when the BOM on Period Start has no per-order lines."""
    per = plant.windows[0].orders
    if per is None:
        return None
    return per.share(per.order_material(plant.windows[0].standards.leaf_material))


def _order_memos(plant: Plant, shown: int = 5) -> dict[str, str]:
    """Per item with per-order lines: its lot size and its production orders (reference and
    units, good + scrap), the first ``shown`` then "+N more"."""
    orders = order_sizes(plant.inputs.completions, plant.orders_of, plant.index.codes)
    lots = item_lot_sizes(plant.sc)
    memos = {}
    for item, g in orders.groupby("item", sort=False):
        listed = ", ".join(f"{r} {u:,.6g}" for r, u in zip(g["reference"], g["units"], strict=True))
        if len(g) > shown:
            head = g.iloc[:shown]
            listed = (
                ", ".join(
                    f"{r} {u:,.6g}" for r, u in zip(head["reference"], head["units"], strict=True)
                )
                + f" +{len(g) - shown} more"
            )
        lot = lots[plant.index.codes.get_loc(item)]
        memos[str(item)] = f"Orders vs lot size {lot:,.6g}: {listed}"
    return memos


def _flush_usage_kinds(
    plant: Plant, led: Ledger, usage: npt.NDArray[np.bool_], back: npt.NDArray[np.bool_]
) -> list[_VarianceKind]:
    """The usage variance the flush posts: Backflush = No components, BOM changes, and the
    same undone by completion reversals and customer returns (``back``)."""
    return [
        _VarianceKind(
            "usage",
            "Backflush = No component at standard, not flushed",
            usage & ~back & (led.kind == code_of(KIND_DTYPE, "manual issue")),
            plant.material,
            "USAGE",
        ),
        _VarianceKind(
            "usage",
            "BOM in effect on the day differs from the period standard",
            usage & ~back & (led.kind == code_of(KIND_DTYPE, "BOM change")),
            None,
            "USAGE",
        ),
        _VarianceKind(
            "usage",
            "Completion reversals and customer returns: the usage variance of their flush "
            "reversed (Backflush = No components, BOM change)",
            usage & back & (led.kind != code_of(KIND_DTYPE, "lot size")),  # its own row
            None,
            "USAGE",
        ),
    ]


def _price_kinds(plant: Plant, led: Ledger, back: npt.NDArray[np.bool_]) -> list[_VarianceKind]:
    """The price variance (PPV) of purchases, of returns to the vendor (reversed at the return
    price) and of charges (freight, duty: value only, no quantity)."""
    ppv = led.role == code_of(ROLE_DTYPE, "PPV")
    charges = led.kind == code_of(KIND_DTYPE, "charges")
    return [
        _VarianceKind(
            "price",
            "Actual price vs standard on purchases",
            ppv & ~back & ~charges,
            plant.material,
            "PPV",
        ),
        _VarianceKind(
            "price",
            "Returns to the vendor: price variance reversed at the return price",
            ppv & back & ~charges,
            plant.material,
            "PPV",
        ),
        _VarianceKind(
            "price",
            "Freight, duty and other charges on purchases",
            ppv & charges,
            None,
            "PPV",
            counted=False,
        ),
    ]


def _per_item(
    n: int,
    led: Ledger,
    categories: npt.NDArray[np.object_],
    kind: _VarianceKind,
    entries: npt.NDArray[np.int64] | None = None,
) -> pd.DataFrame:
    """One variance row per item among the ledger lines of ``kind`` (with the entries they
    were posted in, when ``entries`` is given)."""
    item = led.item[kind.mask]
    n_cat = len(categories)
    seen = np.flatnonzero(np.bincount(item, minlength=n_cat))
    qty = np.bincount(item, weights=led.quantity[kind.mask], minlength=n_cat)[seen]
    amount = sum_cents(item, led.cents[kind.mask], n_cat)[seen]
    std = np.nan if kind.standard is None else kind.standard[np.where(seen < n, seen, 0)]
    listed: object = ""
    if entries is not None:
        listed = entry_lists(np.searchsorted(seen, item), entries[kind.mask], len(seen))
    frame = pd.DataFrame(
        {
            "type": kind.type,
            "item": categories[seen],
            "quantity": qty if kind.counted else np.nan,
            "standard": std,
            "amount_cents": amount,
            "role": kind.role,
            "memo": kind.memo,
            "entries": listed,
        }
    )
    return frame.assign(product=True) if kind.product else frame


def _conversion_variance(
    plant: Plant, postings: pd.DataFrame, conversion: ConversionSummary
) -> pd.DataFrame:
    """The period's conversion variance: one row, to where the close posted it; by element
    (and by cause when hours are given) when labour and overhead are kept apart."""
    actual, allocated, diff = conversion.actual, conversion.allocated, conversion.difference
    close = postings[(postings["event"] == CLOSE) & (postings["kind"] == "conversion")]
    target = ", ".join(sorted(set(close["role"]))) or "COGS"
    if conversion.elements:
        return _element_rows(plant, conversion, target)
    outcome = "under-allocated" if diff > 0 else "over-allocated" if diff < 0 else "no difference"
    return pd.DataFrame(
        {
            "type": ["conversion"],
            "item": [""],
            "quantity": [np.nan],
            "standard": [allocated / 100],
            "amount_cents": [np.int64(diff)],
            "role": ["COGS" if target == "COGS" else target],
            "memo": [f"Actual {actual / 100:,.2f} vs allocated {allocated / 100:,.2f}: {outcome}"],
        }
    )


def _element_rows(plant: Plant, conversion: ConversionSummary, target: str) -> pd.DataFrame:
    """One conversion row per element (Labor, Overhead), or per element and cause (rate or
    spending, efficiency) when hours split them; ``description`` names it, ``standard`` is
    what the actual is compared with (allocated, or the flexible budget AH x rate)."""
    parts = [e for e in conversion.elements if e.cause]
    rows = parts or [e for e in conversion.elements if not e.cause]
    prorated = plant.inputs.settings.conversion_variance == "Prorate" and conversion.difference
    roles = [
        target if prorated else plant.inputs.posting_role(ELEMENT_ROLES[e.element]) for e in rows
    ]
    return pd.DataFrame(
        {
            "type": "conversion",
            "item": "",
            "description": [e.label for e in rows],
            "quantity": np.nan,
            "standard": [e.standard / 100 for e in rows],
            "amount_cents": np.array([e.amount for e in rows], dtype=np.int64),
            "role": roles,
            "memo": [e.memo for e in rows],
        }
    )


def _finish_variances(plant: Plant, v: pd.DataFrame) -> pd.DataFrame:
    """Add description, U/F, account code and the product flag; columns as VARIANCES."""
    v["product"] = (
        v["product"].astype("boolean").fillna(False).astype(bool) if "product" in v else False
    )
    desc = pd.Series(plant.sc["description"].fillna("").to_numpy(object), index=plant.codes)
    given = v["description"] if "description" in v else pd.Series("", index=v.index)
    v["description"] = v["item"].map(desc).fillna(given.fillna(""))
    v["fu"] = np.where(v["amount_cents"] > 0, "U", np.where(v["amount_cents"] < 0, "F", ""))
    codes = {r: plant.inputs.account(r).code for r in ROLES}  # other roles are codes already
    role = v["role"].astype(object)
    v["account"] = role.map(codes).where(role.isin(list(codes)), role)
    v["entries"] = v["entries"].fillna("") if "entries" in v else ""
    return v[VARIANCES.names]


# ---- backflush and roll-up --------------------------------------------------------------------
def backflush(plant: Plant, consumption: tuple[Consumption, ...]) -> pd.DataFrame:
    """Components flushed per event: quantity and standard amount (sum of the flushed lines'
    cents). Events in name order, components in Standard Costs order."""
    if not consumption:
        return BACKFLUSH.empty()
    n = len(plant.codes)
    parts = []
    for event in sorted({c.event for c in consumption}):
        used = [c for c in consumption if c.event == event]
        comp = np.concatenate([c.component for c in used]).astype(np.int64)
        seen = np.flatnonzero(np.bincount(comp, minlength=n))
        quantity = np.bincount(
            comp, weights=np.concatenate([c.quantity for c in used]), minlength=n
        )
        cents = sum_cents(comp, np.concatenate([c.cents for c in used]), n)
        parts.append(
            pd.DataFrame(
                {
                    "event": event,
                    "pos": seen,
                    "quantity": quantity[seen],
                    "amount_cents": cents[seen],
                }
            )
        )
    g = pd.concat(parts, ignore_index=True)
    pos = g["pos"].to_numpy()
    g["component"] = plant.codes[pos]
    g["description"] = plant.sc["description"].to_numpy(object)[pos]
    g["uom"] = plant.sc["uom"].to_numpy(object)[pos]
    stocked = plant.windows[0].carried[pos]  # made items taken from stock (not blown through)
    g["standard"] = np.where(stocked, plant.stock.unit_value[pos], plant.material[pos])
    g["flushed"] = plant.flushed[pos]
    mat = plant.trigger.material_credit_role
    g["credited_to"] = np.where(g["flushed"] | (mat == "AP"), mat, "USAGE")
    g.loc[stocked & g["flushed"].to_numpy(), "credited_to"] = plant.stock.role[pos][
        stocked & g["flushed"].to_numpy()
    ]
    return g[BACKFLUSH.names]


def rollup_frame(plant: Plant) -> pd.DataFrame:
    """Per item: this level's and the rolled-up standard by element (the period standard: BOM
    in effect on Period Start), by low-level code: the top (0) first."""
    r = plant.period
    sc = plant.sc
    own = {f"own_{e}": r.own[e] for e in ("material", "labor", "overhead", "conversion")}
    rolled = {f"rolled_{e}": r.rolled[e] for e in ("material", "labor", "overhead", "conversion")}
    df = pd.DataFrame(
        {
            "item": sc["item"],
            "description": sc["description"],
            "item_type": sc["item_type"],
            "uom": sc["uom"],
            "level": bomlib.low_level_codes(plant.windows[0].matrix),
            **own,
            **rolled,
            "rolled_total": r.total,
            "byproduct_credit": byproducts.credit_per_unit(plant.windows[0].matrix, r.total)
            if plant.obtained.any()
            else np.zeros(len(sc)),
            "has_bom": r.has_bom,
            "backflush": sc["backflush"].astype(bool),
            "used_by_parents": used_by_parents(plant),
        }
    )
    df = df.sort_values(["level", "item"], kind="stable")  # the top (0) first
    return df.reset_index(drop=True)[ROLLUP.names]


def used_by_parents(plant: Plant) -> npt.NDArray[np.object_]:
    """Per item, how a parent's flush uses it under the trigger (backflush-domain.md section
    8): "from stock" (a stocked subassembly or finished item, completed on its own), "blown
    through" (a phantom, or any made item with BOM lines when nothing is carried: its
    components are flushed), "" for raw materials, items no parent uses, and made items with
    neither."""
    window = plant.windows[0]
    used = np.zeros(len(plant.codes), dtype=bool)  # a component on some BOM line
    for w in plant.windows:
        used |= np.diff(w.matrix.tocsc().indptr) > 0
    made = ~plant.raw & used
    out = np.full(len(plant.codes), "", dtype=object)
    out[made & window.explosion.exploded] = "blown through"
    out[made & window.carried] = "from stock"
    return out
