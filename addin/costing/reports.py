"""Turn item-level postings into the journal, variances, backflush, inventory and controls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from addin.costing.keys import QUANTITY_NOISE, day_numbers, sum_cents
from addin.costing.model import ROLES, Check, Finding, Severity

if TYPE_CHECKING:
    from addin.costing.engine import MonthEndResult, _Run


@dataclass(frozen=True)
class _Ledger:
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
    def of(cls, postings: pd.DataFrame) -> _Ledger:
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

    def select(self, mask: npt.NDArray[np.bool_]) -> _Ledger:
        return _Ledger(
            self.day[mask],
            self.days,
            self.event[mask],
            self.role[mask],
            self.item[mask],
            self.kind[mask],
            self.quantity[mask],
            self.cents[mask],
        )


def _code(dtype: pd.CategoricalDtype, value: str) -> int:
    return int(dtype.categories.get_loc(value))


def _references(run: _Run) -> dict[tuple[str, pd.Timestamp], tuple[int, str]]:
    """(event, date) -> (number of source records, their references joined: the first three
    non-blank ones in sheet order, then "+N more")."""
    from addin.costing import engine as e

    out: dict[tuple[str, pd.Timestamp], tuple[int, str]] = {}
    sources = [
        (e.PURCHASE, run.inputs.purchases),
        (e.CONVERSION, run.inputs.conversion_costs),
        (e.COMPLETION, run.inputs.completions),
        (e.SALE, run.inputs.sales),
    ]
    completions = run.inputs.completions
    if len(completions):
        scrapped = completions["scrap_quantity"].fillna(0).to_numpy() > 0
        sources.append((e.SCRAP, completions[scrapped]))
    for event, frame in sources:
        if len(frame) == 0:
            continue
        day, days = day_numbers(frame["date"].to_numpy("datetime64[ns]"))
        records = np.bincount(day, minlength=len(days))
        first: list[list[str]] = [[] for _ in days]
        given = np.zeros(len(days), dtype=np.int64)
        if "reference" in frame:
            refs = frame["reference"].to_numpy(object)
            nonblank = np.flatnonzero(pd.notna(refs) & (refs != ""))
            d = day[nonblank]
            given = np.bincount(d, minlength=len(days))
            order = np.argsort(d, kind="stable")  # sheet order within each day
            d_sorted = d[order]
            rank = np.arange(len(d_sorted)) - np.searchsorted(d_sorted, d_sorted)
            for k in order[rank < 3].tolist():
                first[d[k]].append(str(refs[nonblank[k]]))
        for k, day_value in enumerate(days):
            text = ", ".join(first[k]) + (f" +{given[k] - 3} more" if given[k] > 3 else "")
            out[(event, pd.Timestamp(day_value))] = (int(records[k]), text)
    return out


def journal(run: _Run, postings: pd.DataFrame, ledger: _Ledger | None = None) -> pd.DataFrame:
    """One compressed entry per event and date; one line per account, net of that entry.
    Entries in date and event order; in an entry, debits first, then accounts in ROLES."""
    from addin.costing.engine import EVENT_DTYPE, EVENT_MEMO, ROLE_DTYPE

    cols = [
        "entry",
        "date",
        "event",
        "role",
        "account",
        "account_name",
        "debit_cents",
        "credit_cents",
        "memo",
        "reference",
    ]
    if len(postings) == 0:
        return pd.DataFrame(columns=cols)
    led = ledger or _Ledger.of(postings)
    n_event, n_role = len(EVENT_DTYPE.categories), len(ROLE_DTYPE.categories)
    key = (led.day * n_event + led.event) * n_role + led.role
    sums = sum_cents(key, led.cents, len(led.days) * n_event * n_role)
    line = np.flatnonzero(sums)
    cents = sums[line]
    role = line % n_role
    event = (line // n_role) % n_event
    day = line // (n_role * n_event)
    order = np.lexsort((role, cents <= 0, event, day))  # debits first within an entry
    cents, role, event, day = cents[order], role[order], event[order], day[order]
    new_entry = np.ones(len(line), dtype=bool)
    new_entry[1:] = (day[1:] != day[:-1]) | (event[1:] != event[:-1])
    entry_no = np.cumsum(new_entry)
    refs = _references(run)
    dates = pd.DatetimeIndex(led.days[day])
    memo, ref = [], []
    for ev, when in zip(EVENT_DTYPE.categories[event], dates, strict=True):
        n, text = refs.get((ev, when), (0, ""))
        memo.append(EVENT_MEMO[ev] + (f" ({n} records)" if n > 1 else ""))
        ref.append(text)
    accounts = [run.inputs.account(r) for r in ROLE_DTYPE.categories]
    return pd.DataFrame(
        {
            "entry": [f"BF-{i:04d}" for i in entry_no.tolist()],
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
    )[cols]


def trial_balance(run: _Run, opening: pd.DataFrame, jnl: pd.DataFrame) -> pd.DataFrame:
    roles = ROLES
    op = opening.groupby("role")["cents"].sum().reindex(roles, fill_value=0)
    dr = jnl.groupby("role")["debit_cents"].sum().reindex(roles, fill_value=0)
    cr = jnl.groupby("role")["credit_cents"].sum().reindex(roles, fill_value=0)
    tb = pd.DataFrame(
        {
            "role": roles,
            "account": [run.inputs.account(r).code for r in roles],
            "account_name": [run.inputs.account(r).name for r in roles],
            "opening_cents": op.to_numpy(np.int64),
            "debit_cents": dr.to_numpy(np.int64),
            "credit_cents": cr.to_numpy(np.int64),
        }
    )
    tb["closing_cents"] = tb["opening_cents"] + tb["debit_cents"] - tb["credit_cents"]
    return tb


def inventory(
    run: _Run, opening: pd.DataFrame, postings: pd.DataFrame, ledger: _Ledger | None = None
) -> pd.DataFrame:
    """Roll-forward per stocked item and account: quantities and values (cents)."""
    from addin.costing.engine import CLOSE, COUNT, EVENT_DTYPE, STOCK_ROLES

    led = ledger or _Ledger.of(postings)
    # one slot per (account, item) pair: bincounts over category codes, no string grouping
    categories = postings["item"].cat.categories.to_numpy()
    n_items = len(categories)
    roles = list(postings["role"].cat.categories)
    size = len(roles) * n_items
    stock_codes = [roles.index(r) for r in STOCK_ROLES]
    count, close = _code(EVENT_DTYPE, COUNT), _code(EVENT_DTYPE, CLOSE)

    slot = led.role * n_items + led.item
    stock = np.isin(led.role, stock_codes)
    flows = stock & (led.event != count) & (led.event != close)
    masks = {
        "in": flows & (led.quantity > 0),
        "out": flows & (led.quantity < 0),
        "other": stock & (led.quantity == 0) & (led.event != count),
        "count": stock & (led.event == count),
    }
    op = opening[opening["role"].isin(STOCK_ROLES)]
    op_slot = op["role"].cat.codes.to_numpy().astype(np.int64) * n_items
    op_slot = op_slot + op["item"].cat.codes.to_numpy().astype(np.int64)

    def qty(mask: npt.NDArray[np.bool_]) -> np.ndarray:
        return np.bincount(slot[mask], weights=led.quantity[mask], minlength=size)

    def cents(mask: npt.NDArray[np.bool_]) -> np.ndarray:
        return sum_cents(slot[mask], led.cents[mask], size)

    used = np.zeros(size, dtype=bool)
    used[op_slot] = True
    used[slot[stock]] = True
    at = np.flatnonzero(used)
    item_code = at % n_items
    opening_qty = np.bincount(op_slot, weights=op["quantity"].to_numpy(np.float64), minlength=size)
    opening_cents = sum_cents(op_slot, op["cents"].to_numpy(np.int64), size)
    inv = pd.DataFrame(
        {
            "role": np.asarray(roles, dtype=object)[at // n_items],
            "item": categories[item_code].astype(object),
            "opening_qty": opening_qty[at],
            "in_qty": qty(masks["in"])[at],
            "out_qty": -qty(masks["out"])[at],
        }
    )
    inv["book_qty"] = inv["opening_qty"] + inv["in_qty"] - inv["out_qty"]
    inv["count_date"] = pd.Series(np.full(len(inv), np.datetime64("NaT"), "datetime64[ns]"))
    inv["book_at_count"] = np.nan
    inv["counted_qty"] = np.nan
    inv["difference"] = np.nan
    ct = run.count_table
    if ct is not None and len(ct):
        ct_slot = pd.Index(
            np.array([roles.index(r) for r in ct["role"]], dtype=np.int64) * n_items
            + ct["pos"].to_numpy().astype(np.int64)
        )
        row = ct_slot.get_indexer(at)
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
    inv["ending_qty"] = inv["book_qty"] - inv["difference"].fillna(0.0)
    real = item_code < len(run.codes)
    pos = np.where(real, item_code, 0)
    inv["standard"] = np.where(real, run.unit_value[pos], np.nan)
    inv.loc[~real, ["opening_qty", "in_qty", "out_qty", "book_qty", "ending_qty"]] = 0.0
    inv["opening_cents"] = opening_cents[at]
    inv["in_cents"] = cents(masks["in"])[at]
    inv["out_cents"] = -cents(masks["out"])[at]
    inv["count_cents"] = cents(masks["count"])[at]
    inv["other_cents"] = cents(masks["other"])[at]
    inv["ending_cents"] = (
        inv["opening_cents"]
        + inv["in_cents"]
        - inv["out_cents"]
        + inv["count_cents"]
        + inv["other_cents"]
    )
    description = run.sc["description"].fillna("").to_numpy(object)[pos]
    inv["description"] = np.where(real, description, "Material not backed by BOM lines")
    inv["role_no"] = inv["role"].map({"MIP": 0, "FG": 1})
    inv = inv.sort_values(["role_no", "item"]).drop(columns="role_no").reset_index(drop=True)
    return inv


def variances(run: _Run, postings: pd.DataFrame, ledger: _Ledger | None = None) -> pd.DataFrame:
    """Price, usage, scrap and conversion variances; amount > 0 is unfavourable.
    One row per item and variance type, items in Standard Costs order."""
    from addin.costing.engine import CLOSE, COUNT, EVENT_DTYPE, KIND_DTYPE, ROLE_DTYPE, SCRAP

    led = ledger or _Ledger.of(postings)
    rows: list[pd.DataFrame] = []
    categories = postings["item"].cat.categories.to_numpy().astype(object)
    n_cat = len(categories)
    n = len(run.codes)

    def frame(vtype: str, memo: str, mask: np.ndarray, std: object, role: str) -> pd.DataFrame:
        item = led.item[mask]
        seen = np.flatnonzero(np.bincount(item, minlength=n_cat))
        qty = np.bincount(item, weights=led.quantity[mask], minlength=n_cat)[seen]
        amount = sum_cents(item, led.cents[mask], n_cat)[seen]
        if callable(std):
            std = std(np.where(seen < n, seen, 0))
        return pd.DataFrame(
            {
                "type": vtype,
                "item": categories[seen],
                "quantity": qty,
                "standard": std,
                "amount_cents": amount,
                "role": role,
                "memo": memo,
            }
        )

    role = {r: _code(ROLE_DTYPE, r) for r in ("PPV", "USAGE", "SCRAP")}
    kind = {k: _code(KIND_DTYPE, k) for k in ("manual issue", "BOM change")}
    ppv = led.role == role["PPV"]
    if ppv.any():
        rows.append(
            frame(
                "price",
                "Actual price vs standard on purchases",
                ppv,
                lambda p: run.material[p],
                "PPV",
            )
        )
    usage = led.role == role["USAGE"]
    cnt = usage & (led.event == _code(EVENT_DTYPE, COUNT))
    if cnt.any():
        rows.append(
            frame(
                "usage",
                "Count below (U) or above (F) book",
                cnt,
                lambda p: run.unit_value[p],
                "USAGE",
            ).assign(product=True)  # amount = ROUND(quantity x standard, 2) exactly
        )
    man = usage & (led.kind == kind["manual issue"])
    if man.any():
        rows.append(
            frame(
                "usage",
                "Backflush = No component at standard, not flushed",
                man,
                np.nan,
                "USAGE",
            )
        )
    chg = usage & (led.kind == kind["BOM change"])
    if chg.any():
        rows.append(
            frame(
                "usage",
                "BOM in effect on the day differs from the period standard",
                chg,
                np.nan,
                "USAGE",
            )
        )
    scr = (led.event == _code(EVENT_DTYPE, SCRAP)) & (led.role == role["SCRAP"])
    if scr.any():
        rows.append(frame("scrap", "Reported scrap at standard", scr, np.nan, "SCRAP"))
    actual, allocated, diff = run.conversion_summary
    if actual or allocated:
        close = postings[(postings["event"] == CLOSE) & (postings["kind"] == "conversion")]
        target = ", ".join(sorted(set(close["role"]))) or "COGS"
        rows.append(
            pd.DataFrame(
                {
                    "type": ["conversion"],
                    "item": [""],
                    "quantity": [np.nan],
                    "standard": [allocated / 100],
                    "amount_cents": [np.int64(diff)],
                    "role": ["COGS" if target == "COGS" else target],
                    "memo": [
                        f"Actual {actual / 100:,.2f} vs allocated {allocated / 100:,.2f}: "
                        + (
                            "under-allocated"
                            if diff > 0
                            else "over-allocated"
                            if diff < 0
                            else "no difference"
                        )
                    ],
                }
            )
        )
    if not rows:
        return pd.DataFrame(
            columns=[
                "type",
                "item",
                "description",
                "quantity",
                "standard",
                "amount_cents",
                "fu",
                "role",
                "account",
                "memo",
                "product",
            ]
        )
    v = pd.concat(rows, ignore_index=True)
    v["product"] = (
        v["product"].astype("boolean").fillna(False).astype(bool) if "product" in v else False
    )
    desc = pd.Series(run.sc["description"].fillna("").to_numpy(object), index=run.codes)
    v["description"] = v["item"].map(desc).fillna("")
    v["fu"] = np.where(v["amount_cents"] > 0, "U", np.where(v["amount_cents"] < 0, "F", ""))
    v["account"] = [run.inputs.account(r).code if r in ROLES else r for r in v["role"]]
    return v[
        [
            "type",
            "item",
            "description",
            "quantity",
            "standard",
            "amount_cents",
            "fu",
            "role",
            "account",
            "memo",
            "product",
        ]
    ]


def backflush(run: _Run) -> pd.DataFrame:
    """Components flushed per event: quantity and standard amount (sum of the flushed lines'
    cents). Events in name order, components in Standard Costs order."""
    cols = [
        "event",
        "component",
        "description",
        "uom",
        "quantity",
        "standard",
        "amount_cents",
        "flushed",
        "credited_to",
    ]
    if not run.consumption:
        return pd.DataFrame(columns=cols)
    n = len(run.codes)
    parts = []
    for event in sorted({c.event for c in run.consumption}):
        used = [c for c in run.consumption if c.event == event]
        comp = np.concatenate([c.component for c in used]).astype(np.int64)
        seen = np.flatnonzero(np.bincount(comp, minlength=n))
        parts.append(
            pd.DataFrame(
                {
                    "event": event,
                    "pos": seen,
                    "quantity": np.bincount(
                        comp, weights=np.concatenate([c.quantity for c in used]), minlength=n
                    )[seen],
                    "amount_cents": sum_cents(comp, np.concatenate([c.cents for c in used]), n)[
                        seen
                    ],
                }
            )
        )
    g = pd.concat(parts, ignore_index=True)
    pos = g["pos"].to_numpy()
    g["component"] = run.codes[pos]
    g["description"] = run.sc["description"].to_numpy(object)[pos]
    g["uom"] = run.sc["uom"].to_numpy(object)[pos]
    g["standard"] = run.material[pos]
    g["flushed"] = run.flushed[pos]
    mat = run.trigger.material_credit_role
    g["credited_to"] = np.where(g["flushed"] | (mat == "AP"), mat, "USAGE")
    return g[cols]


def rollup_frame(run: _Run) -> pd.DataFrame:
    r = run.period
    sc = run.sc
    df = pd.DataFrame(
        {
            "item": sc["item"],
            "description": sc["description"],
            "item_type": sc["item_type"],
            "uom": sc["uom"],
            "level": r.level,
            "own_material": r.own["material"],
            "own_labor": r.own["labor"],
            "own_overhead": r.own["overhead"],
            "own_conversion": r.own["conversion"],
            "rolled_material": r.rolled["material"],
            "rolled_labor": r.rolled["labor"],
            "rolled_overhead": r.rolled["overhead"],
            "rolled_conversion": r.rolled["conversion"],
            "rolled_total": r.total,
            "has_bom": r.has_bom,
            "backflush": sc["backflush"].astype(bool),
        }
    )
    return df.sort_values(["level", "item"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )


def controls(
    run: _Run, opening: pd.DataFrame, postings: pd.DataFrame, ledger: _Ledger | None = None
) -> list[Finding]:
    """Section 4 of the spec: what an accountant must review (the run still posts)."""
    from addin.costing.engine import KIND_DTYPE, STOCK_ROLES, UNITEMIZED

    led = ledger or _Ledger.of(postings)
    n = len(run.codes)
    roles = list(postings["role"].cat.categories)
    stock_codes = [roles.index(r) for r in STOCK_ROLES]
    found: list[Finding] = []
    # components (or goods) driven below zero on hand
    moves = np.isin(led.role, stock_codes) & (led.item < n) & (led.quantity != 0)
    op = opening[opening["role"].isin(STOCK_ROLES)]
    item = np.concatenate([op["item"].cat.codes.to_numpy().astype(np.int64), led.item[moves]])
    dates = np.concatenate(
        [op["date"].to_numpy("datetime64[ns]"), led.days[led.day[moves]]]
    ).astype("datetime64[ns]")
    quantity = np.concatenate([op["quantity"].to_numpy(np.float64), led.quantity[moves]])
    keep = (item < n) & (quantity != 0)
    item, dates, quantity = item[keep], dates[keep], quantity[keep]
    if len(item):
        # on hand per item at the end of each day: a dense items x days grid, cumulated
        day, days = day_numbers(dates)
        grid = np.bincount(
            item * len(days) + day, weights=quantity, minlength=n * len(days)
        ).reshape(n, len(days))
        on_hand = np.cumsum(grid, axis=1)
        # below zero beyond float noise: relative to everything that moved the item so far
        moved = np.cumsum(
            np.bincount(
                item * len(days) + day, weights=np.abs(quantity), minlength=n * len(days)
            ).reshape(n, len(days)),
            axis=1,
        )
        below = on_hand < -QUANTITY_NOISE * np.maximum(moved, 1.0)
        day_text = pd.DatetimeIndex(days).strftime("%Y-%m-%d").tolist()
        rows = np.flatnonzero(below.any(axis=1))
        first_day = np.argmax(below[rows], axis=1)
        for i, d in zip(rows.tolist(), first_day.tolist(), strict=True):
            code = str(run.codes[i])
            found.append(
                Finding(
                    Severity.WARNING,
                    "below zero on hand",
                    f"{code} in {run.stock_role[i]} goes below zero on "
                    f"{day_text[d]} ({on_hand[i, d]:,.4g}). Backflushing used "
                    "more than was recorded: check the BOM, the completions reported and missing "
                    "purchases or receipts.",
                    item=code,
                )
            )
    # completed without a BOM
    comp = run.inputs.completions
    if len(comp):
        pos = run.index.positions(comp["item"])
        win = run.window_of(comp["date"])
        # BOM lines in effect on each completion's own date (windows x items), whatever the size
        has = np.stack([r.has_bom for r in run.rollups])[win, pos]
        for r in comp[~has].drop_duplicates("item").itertuples():
            found.append(
                Finding(
                    Severity.WARNING,
                    "completed without BOM",
                    f"{r.item} was completed but has no BOM lines in effect on {pd.Timestamp(r.date):%Y-%m-%d}: "
                    "no components were flushed. Add its BOM or check the item code.",
                    "Completions",
                    run.inputs.cell("Completions", "Item", int(r.source_row)),
                    r.item,
                )
            )
    # zero standards on items with activity
    active = np.bincount(led.item[led.item < n], minlength=n) > 0
    source_row = run.sc["source_row"].to_numpy()
    for i in np.flatnonzero(active & (run.total == 0)).tolist():
        code, typ = str(run.codes[i]), run.types[i]
        found.append(
            Finding(
                Severity.WARNING,
                "zero standard",
                f"{code} ({typ}) has a standard cost of zero but moved this period: its movements are "
                "posted at 0.00. Enter its standard.",
                "Standard Costs",
                run.inputs.cell("Standard Costs", "Item", int(source_row[i])),
                code,
            )
        )
    # stale standards: purchase prices far from standard
    p = run.inputs.purchases
    if len(p):
        at = run.index.positions(p["item"])
        q = p["quantity"].to_numpy(np.float64)
        bought = np.flatnonzero(np.bincount(at, minlength=n))
        qty = np.bincount(at, weights=q, minlength=n)[bought]
        value = np.bincount(at, weights=q * p["unit_price"].to_numpy(np.float64), minlength=n)[
            bought
        ]
        std = run.material[bought]
        with np.errstate(divide="ignore", invalid="ignore"):
            avg = value / qty
        tol = run.inputs.settings.price_tolerance
        drift = np.where(std > 0, np.abs(avg / np.where(std > 0, std, 1) - 1), 0)
        for i, a, s_, d in zip(bought.tolist(), avg, std, drift, strict=True):
            if d > tol:
                code = str(run.codes[i])
                found.append(
                    Finding(
                        Severity.WARNING,
                        "stale standard",
                        f"{code}: average purchase price {a:,.4f} is {d:.1%} away from standard {s_:,.4f} "
                        f"(tolerance {tol:.1%}). The standard may be out of date.",
                        "Standard Costs",
                        run.inputs.cell("Standard Costs", "Material", int(source_row[i])),
                        code,
                    )
                )
    # components not flushed
    if run.consumption:
        comp = np.concatenate([c.component for c in run.consumption]).astype(np.int64)
        by_hand = ~run.flushed[comp]
        comp = comp[by_hand]
        qty = np.concatenate([c.quantity for c in run.consumption])[by_hand]
        cents = np.concatenate([c.cents for c in run.consumption])[by_hand]
        where = (
            "the usage variance account until counted" if run.trigger.records_purchases else "AP"
        )
        seen = np.flatnonzero(np.bincount(comp, minlength=n))
        q_sum = np.bincount(comp, weights=qty, minlength=n)
        c_sum = sum_cents(comp, cents, n)
        for i in seen.tolist():
            code = str(run.codes[i])
            found.append(
                Finding(
                    Severity.INFO,
                    "not backflushed",
                    f"{code} is marked Backflush = No: {q_sum[i]:,.6g} used at standard "
                    f"({c_sum[i] / 100:,.2f}) were not flushed; credited to {where}.",
                    "Standard Costs",
                    "",
                    code,
                )
            )
    # own-level material not backed by BOM lines
    un = led.item == _code(postings["item"].dtype, UNITEMIZED)
    if un.any():
        found.append(
            Finding(
                Severity.WARNING,
                "material without BOM lines",
                f"{-led.cents[un].sum() / 100:,.2f} of material standard on manufactured items is not "
                "backed by BOM components (Material at their own level, or items without a BOM); it was "
                f"credited to {run.trigger.material_credit_role} without an item. Move that material "
                "into the BOM, or set the item's own Material to 0.",
            )
        )
    chg = led.kind == _code(KIND_DTYPE, "BOM change")
    if chg.any():
        found.append(bom_change_finding(run, led.select(chg)))
    return found


def bom_change_finding(run: _Run, led: _Ledger) -> Finding:
    """The usage variance from completions flushed with another BOM than the period standard's,
    signed as the journal posts it (a debit to usage variance is unfavourable)."""
    n = len(run.codes)
    total = int(led.cents.sum())
    by_item = sum_cents(np.where(led.item < n, led.item, n), led.cents, n + 1)[:n]
    top = np.argsort(-np.abs(by_item), kind="stable")[:3]
    items = ", ".join(
        f"{run.codes[i]} {abs(by_item[i]) / 100:,.2f} {'U' if by_item[i] > 0 else 'F'}"
        for i in top.tolist()
        if by_item[i]
    )
    side = "debited" if total > 0 else "credited"
    return Finding(
        Severity.INFO,
        "BOM change",
        f"BOM effectivity changed during the period: completions flushed with another BOM than "
        f"the period standard's; usage variance {abs(total) / 100:,.2f} "
        f"{'U' if total > 0 else 'F'} ({side} to {run.inputs.account('USAGE').code}); "
        f"by item: {items}.",
    )


def consistency_checks(jnl: pd.DataFrame, tb: pd.DataFrame, inv: pd.DataFrame) -> list[Check]:
    """The run's books against themselves: they catch a defect of the run, not a wrong input."""
    from addin.costing.engine import STOCK_ROLES

    checks: list[Check] = []
    per_entry = (jnl["debit_cents"] - jnl["credit_cents"]).groupby(jnl["entry"]).sum()
    bad = per_entry[per_entry != 0]
    detail = (
        f"{len(per_entry)} entries" if len(bad) == 0 else f"unbalanced: {', '.join(bad.index[:5])}"
    )
    checks.append(Check("Every journal entry balances", len(bad) == 0, detail))
    dr, cr = int(jnl["debit_cents"].sum()), int(jnl["credit_cents"].sum())
    checks.append(
        Check("Total debits equal total credits", dr == cr, f"{dr / 100:,.2f} = {cr / 100:,.2f}")
    )
    for role in STOCK_ROLES:
        ledger = int(tb.loc[tb["role"] == role, "closing_cents"].iloc[0])
        sub = int(inv.loc[inv["role"] == role, "ending_cents"].sum())
        checks.append(
            Check(
                f"Inventory ties to the ledger ({role})",
                ledger == sub,
                f"ledger {ledger / 100:,.2f}, items {sub / 100:,.2f}",
            )
        )
    conv_left = int(tb.loc[tb["role"].isin(["CCA", "CCC"]), "closing_cents"].abs().sum())
    checks.append(
        Check("Conversion cost accounts closed", conv_left == 0, f"{conv_left / 100:,.2f} left")
    )
    return checks


def negative_closing(run: _Run, inv: pd.DataFrame) -> tuple[Check, list[Finding]]:
    """Stock below zero at period end: a failed control with each item's quantity and value
    (the run still posts; the unreported receipt or count that explains it is found later)."""
    from addin.costing.engine import UNITEMIZED

    real = inv["item"] != UNITEMIZED
    moved = inv["opening_qty"].abs() + inv["in_qty"].abs() + inv["out_qty"].abs()
    below = real & (inv["ending_qty"] < -QUANTITY_NOISE * np.maximum(moved, 1.0))
    rows = inv[below]
    findings = [
        Finding(
            Severity.WARNING,
            "negative closing stock",
            f"{r.item} closes the period at {r.ending_qty:,.6g} in {r.role} "
            f"({r.ending_cents / 100:,.2f}): more was flushed, sold or counted out than was "
            "received. Find the missing purchase, completion or count; the balance stays "
            "negative until it is posted.",
            item=str(r.item),
        )
        for r in rows.itertuples()
    ]
    shown = ", ".join(
        f"{r.item} {r.ending_qty:,.6g} ({r.ending_cents / 100:,.2f})"
        for r in rows.head(5).itertuples()
    )
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    detail = (
        "none"
        if len(rows) == 0
        else f"{len(rows)} item{'s' if len(rows) > 1 else ''}, "
        f"{int(rows['ending_cents'].sum()) / 100:,.2f}: {shown}{more}"
    )
    return Check("No stock below zero at period end", len(rows) == 0, detail, "control"), findings


def assemble(run: _Run, opening: pd.DataFrame, postings: pd.DataFrame) -> MonthEndResult:
    from addin.costing.engine import MonthEndResult

    led = _Ledger.of(postings)
    jnl = journal(run, postings, led)
    tb = trial_balance(run, opening, jnl)
    inv = inventory(run, opening, postings, led)
    findings = run.findings + controls(run, opening, postings, led)
    checks = consistency_checks(jnl, tb, inv)
    findings += [
        Finding(Severity.ERROR, "check failed", f"{c.name}: {c.detail}")
        for c in checks
        if not c.passed
    ]
    negative, negative_findings = negative_closing(run, inv)
    findings += negative_findings
    checks.append(negative)
    errors = [f for f in findings if f.severity is Severity.ERROR]
    checks.append(Check("No blocking exceptions", not errors, f"{len(errors)} errors", "control"))
    return MonthEndResult(
        inputs=run.inputs,
        rollup=rollup_frame(run),
        postings=postings,
        journal=jnl,
        variances=variances(run, postings, led),
        backflush=backflush(run),
        inventory=inv,
        trial_balance=tb,
        findings=findings,
        checks=checks,
    )
