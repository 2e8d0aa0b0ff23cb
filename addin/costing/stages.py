"""The month's events posted at standard, one stage per input sheet; each returns its postings
and findings (results.Posted) and reads only the prepared Plant.

- The opening is the value given on Opening Balances (last month's closing), else quantity x
  this period's standard; where the value differs from quantity x the standard in force, a
  revaluation at Period Start restates it (backflush-domain.md section 7).

- Purchases are posted at standard to MIP with the price variance to PPV (V1, V2 only).
- Completions are flushed with the BOM in effect on their own date (flush.py); scrap is
  flushed to SCRAP at the flushed standard.
- Sales relieve the stock account the item is carried in, at standard to COGS; items carried
  nowhere are flushed at the sale (V4, and raw items in V3).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from addin.costing import bom as bomlib
from addin.costing.flush import FlushRule, allocated, balance, flush
from addin.costing.model import Finding, Severity, Trigger
from addin.costing.money import to_cents
from addin.costing.orders import order_starts
from addin.costing.plant import Epoch, Plant
from addin.costing.postings import (
    COMPLETION,
    COMPLETION_REVERSAL,
    CONVERSION,
    CUSTOMER_RETURN,
    OPENING,
    PURCHASE,
    PURCHASE_CHARGE,
    PURCHASE_RETURN,
    REVALUATION,
    SALE,
    SCRAP,
    STANDARD_CHANGE,
    concat,
)
from addin.costing.results import Memo, Posted


class Opening(NamedTuple):
    """Opening Balances per item and account, placed where the trigger carries each item."""

    rows: pd.DataFrame  # item, account, quantity, value (NaN: not given), first source_row
    pos: np.ndarray  # item position on Standard Costs
    role: np.ndarray  # "MIP", "FG" or "" (not carried under the trigger)
    carried: np.ndarray  # role != ""


def _opening(plant: Plant) -> Opening:
    """The opening rows summed per item and account. A group's value is given only when every
    row of it has one (else NaN: valued at standard, as before values were given)."""
    ob = plant.inputs.opening_balances
    value = (
        pd.to_numeric(ob["value"], errors="coerce").astype(np.float64)
        if "value" in ob
        else pd.Series(np.nan, index=ob.index)
    )
    ob = ob.assign(value=value.fillna(0.0), unvalued=value.isna())
    g = ob.groupby(["item", "account"], as_index=False, sort=True).agg(
        quantity=("quantity", "sum"),
        value=("value", "sum"),
        unvalued=("unvalued", "any"),
        source_row=("source_row", "min"),
    )
    g["value"] = g["value"].where(~g["unvalued"], np.nan)
    pos = plant.index.positions(g["item"])
    role = plant.stock.role[pos]
    return Opening(g.drop(columns="unvalued"), pos, role, role != "")


def _opening_cents(plant: Plant, op: Opening) -> tuple[np.ndarray, np.ndarray]:
    """Per carried group: (the opening as given: its value, else quantity x standard; the
    value at this period's standard), in cents."""
    q = op.rows["quantity"].to_numpy(np.float64)[op.carried]
    at_standard = to_cents(q * plant.stock.unit_value[op.pos[op.carried]])
    value = op.rows["value"].to_numpy(np.float64)[op.carried]
    given = to_cents(np.nan_to_num(value))
    return np.where(np.isnan(value), at_standard, given), at_standard


def opening(plant: Plant) -> Posted:
    """Opening balances in the account each item is carried in: at the value given
    (last month's closing), else at quantity x this period's standard."""
    if len(plant.inputs.opening_balances) == 0:
        return Posted(plant.post.empty())
    op = _opening(plant)
    findings = _opening_findings(plant, op.rows, op.role, op.carried)
    findings += _continuity_finding(plant, op.rows)
    cents, _ = _opening_cents(plant, op)
    postings = plant.post(
        plant.start,
        OPENING,
        op.role[op.carried],
        op.pos[op.carried],
        op.rows["quantity"].to_numpy(np.float64)[op.carried],
        cents,
    )
    return Posted(postings, tuple(findings))


def _continuity_finding(plant: Plant, rows: pd.DataFrame) -> list[Finding]:
    """One note when opening rows have no Value: their continuity with last month's closing
    was not checked (they are valued at this period's standard)."""
    ob = plant.inputs.opening_balances
    value = pd.to_numeric(ob["value"], errors="coerce") if "value" in ob else None
    missing = ob if value is None else ob[value.isna().to_numpy()]
    if not len(missing):
        return []
    src = sorted(int(r) for r in missing["source_row"])
    shown = ", ".join(str(r) for r in src[:5]) + (
        f" and {len(src) - 5} more" if len(src) > 5 else ""
    )
    return [
        Finding(
            Severity.INFO,
            "opening without value",
            f"{len(src)} opening balance row{'s' if len(src) > 1 else ''} ({shown}) have no "
            "Value: they are valued at quantity x this period's standard, so continuity with "
            "last month's closing was not checked. Give last month's closing Value (e.g. start "
            "the month with `backflush next`).",
            "Opening Balances",
            plant.inputs.cell("Opening Balances", "Value", src[0]),
        )
    ]


def revaluation(plant: Plant) -> Posted:
    """Standard cost revaluation at Period Start: per item and account whose opening value
    differs from quantity x the standard it is carried at this period, Dr inventory /
    Cr REVALUATION for an increase (reverse for a decrease), with a memo naming the change."""
    if len(plant.inputs.opening_balances) == 0:
        return Posted(plant.post.empty())
    op = _opening(plant)
    given, at_standard = _opening_cents(plant, op)
    change = at_standard - given
    hit = change != 0
    if not hit.any():
        return Posted(plant.post.empty())
    rows = op.rows[op.carried][hit]
    pos, role = op.pos[op.carried][hit], op.role[op.carried][hit]
    q, rev = rows["quantity"].to_numpy(np.float64), change[hit]
    post = plant.post
    postings = concat(
        [
            post(plant.start, REVALUATION, role, pos, 0.0, rev, "revaluation"),
            post(plant.start, REVALUATION, "REVALUATION", pos, q, -rev, "revaluation"),
        ]
    )
    memos = [
        Memo(REVALUATION, int(p), _revaluation_memo(plant, str(r.item), r.quantity, r.value, p, ro))
        for r, p, ro in zip(rows.itertuples(), pos.tolist(), role, strict=True)
    ]
    return Posted(postings, memos=tuple(memos))


def _revaluation_memo(
    plant: Plant, item: str, quantity: float, value: float, p: int, role: str
) -> str:
    """What one revaluation changes: the item, its quantity, old unit value, new standard."""
    new = plant.stock.unit_value[p]
    if quantity == 0:
        return (
            f"Standard cost revaluation: {item} opens with value {value:,.2f} and no quantity "
            f"in {role}; written off"
        )
    return (
        f"Standard cost revaluation: {item} {quantity:,.6g} on hand in {role} at "
        f"{value / quantity:,.4f} revalued to standard {new:,.4f}"
    )


def standard_changes(plant: Plant, frames: list[pd.DataFrame]) -> Posted:
    """On each dated standard change, the stock on hand that morning (every posting dated
    before it, the opening included) revalued per item and account: ROUND(quantity x (new
    unit value - old), 2), Dr inventory / Cr REVALUATION for an increase (reverse for a
    decrease), an entry per item with a memo naming the change. Items carried at full standard
    are revalued when a component's change moves their rolled-up standard."""
    if len(plant.epochs) == 1:
        return Posted(plant.post.empty())
    every = concat(frames)
    parts, memos, found = [], [], []
    for old, new in zip(plant.epochs[:-1], plant.epochs[1:], strict=True):
        q = _on_hand(plant, every, new.start)
        step = new.stock.unit_value - old.stock.unit_value
        cents = to_cents(q * step)
        hit = np.flatnonzero((cents != 0) & (new.stock.code >= 0))
        role = new.stock.role[hit]
        parts += [
            plant.post(new.start, STANDARD_CHANGE, role, hit, 0.0, cents[hit], "revaluation"),
            plant.post(new.start, STANDARD_CHANGE, "REVALUATION", hit, q[hit], -cents[hit],
                       "revaluation"),
        ]  # fmt: skip
        memos += [
            Memo(STANDARD_CHANGE, p, _change_memo(plant, p, q[p], old, new)) for p in hit.tolist()
        ]
        found.append(_change_finding(plant, new, hit, int(cents[hit].sum())))
    return Posted(concat(parts), tuple(found), memos=tuple(memos))


def _on_hand(plant: Plant, postings: pd.DataFrame, day: np.datetime64) -> np.ndarray:
    """Quantity of each item in the account it is carried in, from postings dated before
    ``day``."""
    n = len(plant.codes)
    item = postings["item"].cat.codes.to_numpy().astype(np.int64)
    role = postings["role"].cat.codes.to_numpy().astype(np.int64)
    real = item < n
    take = real & (postings["date"].to_numpy("datetime64[ns]") < day)
    take &= role == plant.stock.code[np.where(real, item, 0)]
    qty = postings["quantity"].to_numpy(np.float64)
    return np.bincount(item[take], weights=qty[take], minlength=n)


def _change_memo(plant: Plant, p: int, quantity: float, old: Epoch, new: Epoch) -> str:
    """What one dated change revalues: the item, its quantity, old and new unit value."""
    code, role = str(plant.codes[p]), new.stock.role[p]
    changed = plant.inputs.standard_changes
    own = changed[changed["item"].astype(str) == code]
    why = "its standard changed" if len(own) else "rolled up: a component's standard changed"
    return (
        f"Standard cost change on {pd.Timestamp(new.start):%Y-%m-%d} ({why}): {code} "
        f"{quantity:,.6g} on hand in {role} revalued from {old.stock.unit_value[p]:,.4f} to "
        f"{new.stock.unit_value[p]:,.4f}"
    )


def _change_finding(plant: Plant, new: Epoch, hit: np.ndarray, cents: int) -> Finding:
    """One note per change date: which Standard Costs rows changed, and the revaluation."""
    changed = plant.inputs.standard_changes
    on = pd.to_datetime(changed["effective_from"]).to_numpy("datetime64[ns]") == new.start
    rows = sorted(int(r) for r in changed["source_row"][on])
    items = ", ".join(sorted({str(i) for i in changed["item"][on]})[:5])
    day = pd.Timestamp(new.start)
    return Finding(
        Severity.INFO,
        "standard change",
        f"Standards changed on {day:%Y-%m-%d} for {items} (Standard Costs rows "
        f"{', '.join(str(r) for r in rows[:5])}): from that day they are the standards in "
        f"force; stock on hand of {len(hit)} items was revalued by {cents / 100:,.2f} "
        "(Dr inventory for an increase; REVALUATION the other side).",
        "Standard Costs",
        plant.inputs.cell("Standard Costs", "Effective From", rows[0]) if rows else "",
    )


def _opening_findings(
    plant: Plant, ob: pd.DataFrame, role: np.ndarray, carried: np.ndarray
) -> list[Finding]:
    """Opening rows not carried under the trigger, and rows opened in another account."""
    trigger = plant.trigger.value
    found = []
    if (~carried).any():
        found.append(
            Finding(
                Severity.INFO,
                "opening balances not carried",
                f"{int((~carried).sum())} opening balance rows are not carried: under the "
                f"'{trigger}' trigger those items are not kept in inventory accounts.",
                "Opening Balances",
            )
        )
    moved = carried & (ob["account"].to_numpy() != role)
    for item, given, used in zip(
        ob["item"].to_numpy()[moved], ob["account"].to_numpy()[moved], role[moved], strict=True
    ):
        basis = "material standard" if used == "MIP" and given == "FG" else "standard"
        found.append(
            Finding(
                Severity.WARNING,
                "opening balance account",
                f"{item}: opening balance given in {given}, but under the "
                f"'{trigger}' trigger it is carried in {used} at its {basis}; "
                f"it was opened in {used}. Check the account on Opening Balances.",
                "Opening Balances",
                "",
                str(item),
            )
        )
    return found


def _both(text: str) -> tuple[str, str]:
    """``text`` said of one row and of several: "{a reversal|reversals}" picks the form."""
    if "{" not in text:
        return text, text
    head, rest = text.split("{", 1)
    forms, tail = rest.split("}", 1)
    one, many = forms.split("|")
    return head + one + tail, head + many + tail


def purchases(plant: Plant) -> Posted:
    """Materials to MIP at standard, the price difference and the charges to PPV, the actual
    cost to AP. A negative quantity (a return to the vendor) posts the reversal as its own
    entry (MIP credited at standard, AP debited at the return price, PPV the difference); a row
    with charges and no quantity is a later charge on the item (Dr PPV / Cr AP)."""
    p = plant.inputs.purchases
    if len(p) == 0:
        return Posted(plant.post.empty())
    if not plant.trigger.records_purchases:
        not_posted = Finding(
            Severity.INFO,
            "purchases not posted",
            f"{len(p)} purchase rows are not posted: under the '{plant.trigger.value}' "
            "trigger materials are recorded when they are flushed, at standard (AP)"
            + _returns_and_charges_not_posted(p),
            "Purchases",
        )
        return Posted(plant.post.empty(), (not_posted,))
    g = _purchase_lines(plant, p)
    sign = g["sign"].to_numpy()
    postings = concat([_purchase_entry(plant, g[sign == s], event) for event, s in PURCHASE_EVENTS])
    qty = p["quantity"].fillna(0.0).to_numpy(np.float64)
    findings = _rows_finding(plant, "Purchases", qty < 0, "purchase return", RETURN_NOTES[0])
    findings += _rows_finding(plant, "Purchases", qty == 0, "charge row", RETURN_NOTES[1])
    return Posted(postings, tuple(findings))


PURCHASE_EVENTS = ((PURCHASE, 1), (PURCHASE_RETURN, -1), (PURCHASE_CHARGE, 0))
"""Each Purchases row's event by the sign of its quantity."""

RETURN_NOTES = (
    _both(
        "posted as {a reversal|reversals}: materials out of MIP at standard, AP debited at the "
        "return price, the price variance reversed (PPV)"
    ),
    _both(
        "without quantity posted as {a later charge on its item|later charges on their "
        "items}: Dr price variance (PPV), Cr AP"
    ),
)


def _returns_and_charges_not_posted(p: pd.DataFrame) -> str:
    """What the not-posted note adds about returns and charge rows (the actual cost, charges
    included, is not recorded under these triggers)."""
    qty = p["quantity"].fillna(0.0).to_numpy(np.float64)
    charges = _charges(p)
    extra = []
    if (qty < 0).any():
        extra.append(f"{int((qty < 0).sum())} of them returns to the vendor")
    if (charges != 0).any():
        extra.append(f"charges of {charges.sum():,.2f} on {int((charges != 0).sum())} rows")
    return f" ({'; '.join(extra)})." if extra else "."


def _charges(p: pd.DataFrame) -> np.ndarray:
    """Each Purchases row's charges in currency (0 when none, or no Charges column)."""
    if "charges" not in p:
        return np.zeros(len(p))
    return p["charges"].fillna(0.0).to_numpy(np.float64)


def _purchase_lines(plant: Plant, p: pd.DataFrame) -> pd.DataFrame:
    """Purchases per date, item and sign of the quantity (+1 purchase, -1 return, 0 charge),
    in cents: the material at standard, the actual price, the charges. Without returns or
    charges (the usual month) the grouping is by date and item only, as it always was."""
    pos = plant.index.positions(p["item"])
    qty = p["quantity"].fillna(0.0).to_numpy(np.float64)
    charges = _charges(p)
    frame = pd.DataFrame(
        {
            "date": p["date"].to_numpy(),
            "item": pos,
            "quantity": qty,
            "std": to_cents(qty * plant.standard_on(p["date"], pos, "material")),
            "actual": to_cents(qty * p["unit_price"].fillna(0.0).to_numpy(np.float64)),
        }
    )
    if charges.any():
        frame["charges"] = to_cents(charges)
    if (qty <= 0).any():
        frame["sign"] = np.sign(qty).astype(np.int64)
        g = frame.groupby(["date", "item", "sign"], as_index=False, sort=True).sum()
    else:
        g = frame.groupby(["date", "item"], as_index=False, sort=True).sum().assign(sign=1)
    return g if "charges" in g else g.assign(charges=np.int64(0))


def _purchase_entry(plant: Plant, g: pd.DataFrame, event: str) -> pd.DataFrame:
    """One event's purchase lines: MIP at standard, PPV the price difference (kind price) and
    the charges (kind charges), AP the actual cost with the charges."""
    post = plant.post
    moved = g[g["quantity"] != 0]
    parts = [
        post(moved["date"], event, "MIP", moved["item"], moved["quantity"], moved["std"]),
        post(
            moved["date"],
            event,
            "PPV",
            moved["item"],
            moved["quantity"],
            moved["actual"] - moved["std"],
            "price",
        ),
    ]
    charged = g[g["charges"] != 0]
    parts.append(
        post(charged["date"], event, "PPV", charged["item"], 0.0, charged["charges"], "charges")
    )
    parts.append(post(g["date"], event, "AP", g["item"], 0.0, -(g["actual"] + g["charges"])))
    return concat(parts)


def _rows_finding(
    plant: Plant, sheet: str, mask: np.ndarray, what: str, posted: tuple[str, str]
) -> list[Finding]:
    """One info finding naming the rows in ``mask``: "3 customer returns (Sales rows 12, 18,
    40) posted as reversals ...", so no return, reversal or charge goes by in silence.
    ``posted``: how they were posted, said of one row and of several."""
    if not mask.any():
        return []
    frame = getattr(plant.inputs, EVENT_FRAMES[sheet])
    src = sorted(int(r) for r in frame["source_row"].to_numpy()[mask])
    n, many = len(src), len(src) > 1
    return [
        Finding(
            Severity.INFO,
            "purchase charges" if what == "charge row" else "returns and reversals",
            f"{n} {what}{'s' if many else ''} ({sheet} row{'s' if many else ''} "
            f"{_row_list(src)}) {posted[many]}.",
            sheet,
            plant.inputs.cell(sheet, "Quantity", src[0]),
        )
    ]


EVENT_FRAMES = {"Purchases": "purchases", "Completions": "completions", "Sales": "sales"}


def _row_list(rows: list[int]) -> str:
    """The first five worksheet rows, then "and N more"."""
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    return ", ".join(str(r) for r in rows[:5]) + more


def conversion_incurred(plant: Plant) -> Posted:
    """Actual conversion costs to CCC, per day, against their offset account."""
    cc = plant.inputs.conversion_costs
    if len(cc) == 0:
        return Posted(plant.post.empty())
    cents = to_cents(cc["amount"].to_numpy(np.float64))
    g = (
        pd.DataFrame({"date": cc["date"].to_numpy(), "cents": cents})
        .groupby("date", as_index=False)
        .sum()
    )
    return Posted(
        concat(
            [
                plant.post(g["date"], CONVERSION, "CCC", "", 0.0, g["cents"]),
                plant.post(g["date"], CONVERSION, "CONV_OFFSET", "", 0.0, -g["cents"]),
            ]
        )
    )


COMPLETION_RULES = {
    Trigger.PURCHASE_COMPLETION: FlushRule(COMPLETION, "FG", "total", "MIP", True, True),
    Trigger.PURCHASE_SALE: FlushRule(COMPLETION, "MIP", "material", "MIP", False, True),
    Trigger.COMPLETION: FlushRule(COMPLETION, "FG", "total", "AP", True, True),
}
"""How good units completed are flushed, per trigger (none under the sale-only trigger)."""


def completions(plant: Plant) -> Posted:
    """Good units flushed under the trigger's rule; scrap flushed to SCRAP. A negative quantity
    (a completion reversed) is flushed negated as its own entry: the output credited, its
    components given back, the conversion allocated debited back to CCA."""
    c = plant.inputs.completions
    if len(c) == 0:
        return Posted(plant.post.empty())
    t = plant.trigger
    parts = []
    by_order = t in COMPLETION_RULES and plant.has_orders
    qty = c["quantity"].to_numpy(np.float64)
    good = c[["date", "item", "quantity"]]
    if by_order:  # per-order lines: consumed once per production order (orders.py)
        # a reversal gives back its units' per-unit components, not the per-order quantities
        good = good.assign(orders=np.where(qty < 0, 0.0, order_starts(c)))
        parts.append(Posted(plant.post.empty(), tuple(_blank_references(plant, c))))
    if t in COMPLETION_RULES:
        rule = COMPLETION_RULES[t]
        parts.append(flush(plant, good[qty > 0], rule))
        parts.append(flush(plant, good[qty < 0], rule._replace(event=COMPLETION_REVERSAL)))
    else:
        parts.append(Posted(plant.post.empty(), _subassemblies_not_posted(plant)))
    scrap = c[["date", "item"]].assign(
        quantity=c["scrap_quantity"].fillna(0.0).to_numpy(np.float64)
    )
    scrap = scrap[scrap["quantity"] > 0]
    if by_order:  # scrap units take their share of the per-order lines at standard
        scrap = scrap.assign(orders=0.0)
    if len(scrap):
        rule = FlushRule(SCRAP, "SCRAP", "total", t.material_credit_role, True, False)
        parts.append(flush(plant, scrap, rule))
    note = REVERSAL_NOTES.get(t, COMPLETION_NOT_POSTED)
    found = _rows_finding(plant, "Completions", qty < 0, "completion reversal", note)
    done = _joined(parts) if parts else Posted(plant.post.empty())
    return done._replace(findings=done.findings + tuple(found))


REVERSAL_NOTES = {
    Trigger.PURCHASE_COMPLETION: _both(
        "posted as {a reversal|reversals}: finished goods (FG) credited at standard, "
        "components back to MIP, conversion allocated debited back (CCA)"
    ),
    Trigger.PURCHASE_SALE: _both(
        "posted as {a reversal|reversals} within MIP: the output credited at its material "
        "standard, components back to MIP"
    ),
    Trigger.COMPLETION: _both(
        "posted as {a reversal|reversals}: finished goods (FG) credited at standard, "
        "components' cost debited back to AP, conversion allocated debited back (CCA)"
    ),
}
COMPLETION_NOT_POSTED = _both(
    "not posted, as completions are not under the 'sale' trigger (the sale flushes)"
)


def _subassemblies_not_posted(plant: Plant) -> tuple[Finding, ...]:
    """Under the sale-only trigger nothing is carried: completions of subassemblies move
    nothing, and each sale flushes its whole BOM once, subassemblies included."""
    c = plant.inputs.completions
    subs = c["item"][plant.types[plant.index.positions(c["item"])] == "Subassembly"]
    if not len(subs):
        return ()
    names = sorted({str(x) for x in subs})
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return (
        Finding(
            Severity.INFO,
            "subassembly completions not posted",
            f"{len(subs)} completion rows of subassemblies ({shown}) move nothing: under the "
            f"'{plant.trigger.value}' trigger nothing is carried in stock, so each sale flushes "
            "its whole BOM once, through its subassemblies.",
            "Completions",
        ),
    )


def _blank_references(plant: Plant, c: pd.DataFrame) -> list[Finding]:
    """One note when completions of items with per-order lines have no Reference: each such
    row is taken as its own production order."""
    pos = plant.index.positions(c["item"])
    ref = c["reference"].fillna("").astype(str).str.strip().to_numpy(object)
    blank = plant.orders_of[pos] & (ref == "")
    if not blank.any():
        return []
    rows = c["source_row"].to_numpy()[blank]
    items = sorted({str(x) for x in c["item"].to_numpy(object)[blank]})
    return [
        Finding(
            Severity.INFO,
            "completions without order reference",
            f"{int(blank.sum())} completion rows of items with per-order BOM lines "
            f"({', '.join(items[:5])}{', ...' if len(items) > 5 else ''}) have no Reference: "
            "each is taken as its own production order, so its per-order quantities are "
            "consumed once for that row. Give the rows of one order the same Reference.",
            "Completions",
            plant.inputs.cell("Completions", "Reference", int(rows.min())),
        )
    ]


def _joined(parts: list[Posted]) -> Posted:
    """Stage outputs end to end."""
    return Posted(
        concat([p.postings for p in parts]),
        tuple(f for p in parts for f in p.findings),
        tuple(c for p in parts for c in p.consumption),
        tuple(m for p in parts for m in p.memos),
    )


def sales(plant: Plant) -> Posted:
    """Goods sold: stock relieved at carried value, COGS at full standard, conversion not yet
    applied credited to CCA; items carried nowhere are flushed at the sale. A negative quantity
    (a customer return) posts the sale's entry negated as its own entry: goods back in stock at
    carried value (or their components back to AP), COGS credited at full standard."""
    s = plant.inputs.sales
    if len(s) == 0:
        return Posted(plant.post.empty())
    qty = s["quantity"].to_numpy(np.float64)
    sold = s if (qty > 0).all() else s[qty > 0]
    done = _joined([_sales(plant, sold, SALE), _sales(plant, s[qty < 0], CUSTOMER_RETURN)])
    found = _rows_finding(plant, "Sales", qty < 0, "customer return", CUSTOMER_RETURN_NOTE)
    return done._replace(findings=done.findings + tuple(found))


CUSTOMER_RETURN_NOTE = _both(
    "posted as {a reversal|reversals} of the sale: goods back at standard, cost of goods sold "
    "credited"
)


def _sales(plant: Plant, s: pd.DataFrame, event: str) -> Posted:
    """The sales (or customer returns) ``s`` posted as ``event``."""
    if len(s) == 0:
        return Posted(plant.post.empty())
    s = s.groupby(["date", "item"], as_index=False, sort=True)["quantity"].sum()
    pos = plant.index.positions(s["item"])
    role = plant.stock.role[pos]
    stocked = role != ""
    parts = []
    if stocked.any():
        stock = _sales_from_stock(plant, s[stocked], pos[stocked], role[stocked], event)
        parts.append(Posted(stock))
    if (~stocked).any():
        # Nothing is carried for these items: flush at the sale (V4, and raw items in V3).
        rule = FlushRule(event, "COGS", "total", "AP", True, True)
        parts.append(flush(plant, s[~stocked], rule))
        parts.append(Posted(plant.post.empty(), tuple(_orders_at_sale(plant, pos[~stocked]))))
    return _joined(parts)


def _orders_at_sale(plant: Plant, sold: np.ndarray) -> list[Finding]:
    """A note per item sold with per-order lines when it is flushed at the sale: nothing was
    flushed per order at completion, so they are spread by its lot size."""
    if not plant.has_orders:
        return []
    lots = bomlib.item_lot_sizes(plant.sc)
    return [
        Finding(
            Severity.INFO,
            "per-order lines flushed at sale",
            f"{plant.codes[p]} has per-order BOM lines: under the '{plant.trigger.value}' "
            "trigger nothing is flushed at completion, so they are flushed at the sale spread "
            f"over its Lot Size ({lots[p]:,.6g}): quantity / lot size per unit sold. No "
            "lot-size variance arises; a count shows any difference.",
            "BOM",
            "",
            str(plant.codes[p]),
        )
        for p in np.unique(sold[plant.orders_of[sold]]).tolist()
    ]


def _sales_from_stock(
    plant: Plant, s: pd.DataFrame, p: np.ndarray, role: np.ndarray, event: str
) -> pd.DataFrame:
    """Sales of items carried in stock (rows of ``s``, item positions ``p``), balanced."""
    q = s["quantity"].to_numpy(np.float64)
    unit_value = plant.standard_on(s["date"], p, "unit_value")
    total = plant.standard_on(s["date"], p, "total")
    relief = to_cents(q * unit_value)
    cogs = to_cents(q * total)
    part = [
        plant.post(s["date"], event, "COGS", p, q, cogs),
        plant.post(s["date"], event, role, p, -q, -relief),
    ]
    carried_conv = np.isclose(unit_value, total)
    conv = np.where(carried_conv, 0, to_cents(q * plant.standard_on(s["date"], p, "conversion")))
    if (conv != 0).any():
        labor = np.where(carried_conv, 0.0, q * plant.standard_on(s["date"], p, "labor"))
        part += allocated(plant, s["date"], event, p, conv, labor)
    return balance(plant, concat(part), event)
