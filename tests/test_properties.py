"""Invariants under random plants: random multi-level BOMs without cycles, random months.

Each property is checked against arithmetic done independently in the test (a per-record
recursive explosion, sums of inputs), not against the engine's own intermediate figures.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from builders import make_inputs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from addin.costing.engine import run_month_end

TRIGGERS = ["purchase+completion", "purchase+sale", "completion", "sale"]
DAYS = [dt.date(2026, 10, d) for d in (1, 2, 9, 15, 30, 31)]


@st.composite
def plants(draw, whole_cents: bool = False):
    """A random plant and month. With whole_cents, every posting is an exact number of cents."""
    n_raw = draw(st.integers(1, 5))
    n_made = draw(st.integers(1, 5))
    price = (
        st.integers(1, 500).map(lambda c: c / 100)
        if whole_cents
        else st.decimals("0.0001", "50", places=4).map(float)
    )
    qty = (
        st.integers(1, 4).map(float) if whole_cents else st.sampled_from([0.5, 1, 1.25, 2, 3, 7.5])
    )
    items = [
        {
            "item": f"R{i}",
            "item_type": "Raw",
            "material": draw(price),
            "backflush": whole_cents or draw(st.booleans()),
        }
        for i in range(n_raw)
    ]
    bom = []
    for k in range(n_made):
        name = f"M{k}"
        is_top = k == n_made - 1 or draw(st.booleans())
        kind = "Finished" if is_top else draw(st.sampled_from(["Subassembly", "Phantom"]))
        items.append({"item": name, "item_type": kind, "conversion": draw(price)})
        lower = [it["item"] for it in items[:-1]]
        for comp in draw(st.lists(st.sampled_from(lower), min_size=1, max_size=4, unique=True)):
            scrap = 0.0 if whole_cents else draw(st.sampled_from([0.0, 0.0, 0.05, 0.1]))
            bom.append(
                {"parent": name, "component": comp, "qty_per": draw(qty), "scrap_pct": scrap}
            )
    _draw_byproducts(draw, items, bom, whole_cents)
    finished = [it["item"] for it in items if it["item_type"] == "Finished"]
    completions = [
        {
            "item": draw(st.sampled_from(finished)),
            "quantity": float(draw(st.integers(1, 40))),
            "scrap_quantity": 0.0 if whole_cents else float(draw(st.integers(0, 2))),
            "date": draw(st.sampled_from(DAYS)),
        }
        for _ in range(draw(st.integers(1, 6)))
    ]
    raws = [it["item"] for it in items if it["item_type"] == "Raw"]
    purchases = [
        {
            "item": draw(st.sampled_from(raws)),
            "quantity": float(draw(st.integers(1, 500))),
            "unit_price": draw(price),
            "date": draw(st.sampled_from(DAYS)),
        }
        for _ in range(draw(st.integers(0, 5)))
    ]
    conversion = [
        {"amount": float(draw(st.integers(0, 100_000))) / 100, "date": dt.date(2026, 10, 31)}
    ]
    return {
        "items": items,
        "bom": bom,
        "completions": completions,
        "purchases": purchases,
        "conversion": conversion,
    }


def material_of(items, bom, item):
    """An item's rolled-up material, recursively: components less by-products (independent
    arithmetic: qty x (1 + scrap) x standard, by-product lines counted negative)."""
    own = next(it.get("material", 0.0) for it in items if it["item"] == item)
    return own + sum(
        sign(b) * b["qty_per"] * (1 + b["scrap_pct"]) * material_of(items, bom, b["component"])
        for b in bom
        if b["parent"] == item
    )


def sign(line) -> int:
    return -1 if line.get("line_type") == "By-product" else 1


def _draw_byproducts(draw, items, bom, whole_cents: bool) -> None:
    """Some made items yield a by-product: a Raw item of its own ("B<k>"), worth at most half
    the parent's material, so no parent's cost goes below zero."""
    for it in [x for x in items if x["item_type"] != "Raw"]:
        if not draw(st.booleans()):
            continue
        value = material_of(items, bom, it["item"]) * draw(st.sampled_from([0.1, 0.25, 0.5]))
        qty = draw(st.sampled_from([1.0, 2.0] if whole_cents else [0.5, 1.0, 3.0]))
        unit = int(value / qty * 100) / 100 if whole_cents else int(value / qty * 1e4) / 1e4
        if unit <= 0:
            continue
        name = f"B{len(items)}"
        items.append({"item": name, "item_type": "Raw", "material": unit, "backflush": True})
        bom.append(
            {
                "parent": it["item"],
                "component": name,
                "qty_per": qty,
                "scrap_pct": 0.0,
                "line_type": "By-product",
            }
        )


def explode(bom, item, qty, out):
    """Per-record recursive explosion (independent of the engine's sparse one); a by-product
    line gives a negative quantity (received, not consumed)."""
    lines = [b for b in bom if b["parent"] == item]
    for b in lines:
        q = sign(b) * qty * b["qty_per"] * (1 + b["scrap_pct"])
        if any(x["parent"] == b["component"] for x in bom):
            explode(bom, b["component"], q, out)
        else:
            out[b["component"]] += q
    return out


def cents(x: float) -> int:
    """Excel's ROUND(x, 2): the value as Excel sees it (15 significant digits), half up."""
    return int(Decimal(f"{x:.15g}").quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100)


FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# each example runs the month under all four triggers: fewer examples, the same time
ACROSS_TRIGGERS = settings(FAST, max_examples=12)


@FAST
@given(plant=plants(), trigger=st.sampled_from(TRIGGERS))
def test_entries_balance_and_inventory_ties(plant, trigger):
    r = run_month_end(make_inputs(trigger, **plant))
    per_entry = r.journal.groupby("entry")[["debit_cents", "credit_cents"]].sum()
    assert (per_entry["debit_cents"] == per_entry["credit_cents"]).all()
    tb = r.trial_balance.set_index("role")["closing_cents"]
    for role in ("MIP", "FG"):
        items = r.inventory.loc[r.inventory["role"] == role, "ending_cents"].sum()
        assert items == tb[role]
    assert tb["CCA"] == 0 and tb["CCC"] == 0
    assert all(c.passed for c in r.checks if c.kind == "consistency"), r.checks


@FAST
@given(plant=plants())
def test_stock_below_zero_at_period_end_fails_the_control(plant):
    """Raw closing = purchased - flushed (components issued by hand are not relieved); the
    control fails exactly when one of them is below zero, with the item named."""
    r = run_month_end(make_inputs("purchase+completion", **plant))
    flushed = defaultdict(float)
    for c in plant["completions"]:
        explode(plant["bom"], c["item"], c["quantity"] + c["scrap_quantity"], flushed)
    closing = defaultdict(float)
    for p in plant["purchases"]:
        closing[p["item"]] += p["quantity"]
    by_hand = {it["item"] for it in plant["items"] if it.get("backflush") is False}
    for k, q in flushed.items():
        if k not in by_hand:
            closing[k] -= q
    below = {k for k, q in closing.items() if q < -1e-6}
    control = next(c for c in r.checks if c.name == "No stock below zero at period end")
    assert control.passed == (not below)
    assert {f.item for f in r.findings if f.check == "negative closing stock"} == below


@FAST
@given(plant=plants())
def test_flushed_quantities_match_a_recursive_explosion(plant):
    r = run_month_end(make_inputs("purchase+completion", **plant))
    expected: dict[str, float] = defaultdict(float)
    for c in plant["completions"]:
        explode(plant["bom"], c["item"], c["quantity"] + c["scrap_quantity"], expected)
    got = r.backflush.groupby("component")["quantity"].sum().to_dict()
    assert set(got) == {k for k, v in expected.items() if v}
    for k, v in expected.items():
        assert abs(got[k] - v) <= 1e-9 * max(1.0, v)


def rolled_conversion(plant, item):
    """An item's conversion standard rolled up its BOM, recursively (independent arithmetic)."""
    own = next(it.get("conversion", 0.0) for it in plant["items"] if it["item"] == item)
    lines = [b for b in plant["bom"] if b["parent"] == item]
    return own + sum(
        b["qty_per"] * (1 + b["scrap_pct"]) * rolled_conversion(plant, b["component"])
        for b in lines
    )


@FAST
@given(plant=plants())
def test_completion_entry_is_material_plus_conversion_plus_rounding(plant):
    """For each completion: FG debit = material credited (MIP, or USAGE for components issued
    by hand) + conversion allocated + rounding; CCA is exactly units x standard conversion,
    rounded per item and day, so rounding never shows as a conversion variance."""
    r = run_month_end(make_inputs("purchase+completion", **plant))
    raws = {it["item"]: it for it in plant["items"] if it["item_type"] == "Raw"}
    flushed = defaultdict(float)
    for c in plant["completions"]:
        explode(plant["bom"], c["item"], c["quantity"], flushed)
    material = sum(q * raws[k]["material"] for k, q in flushed.items())
    by_item_day = defaultdict(float)
    for c in plant["completions"]:
        by_item_day[(c["item"], c["date"])] += c["quantity"]
    conversion = sum(
        cents(q * rolled_conversion(plant, item)) for (item, _), q in by_item_day.items()
    )
    j = r.journal[r.journal["event"] == "Completion"]

    def net(role):  # debit positive, in cents
        rows = j[j["role"] == role]
        return int(rows["debit_cents"].sum() - rows["credit_cents"].sum())

    fg, mip, usage, cca, rnd = (net(x) for x in ("FG", "MIP", "USAGE", "CCA", "ROUNDING"))
    assert fg + mip + usage + cca + rnd == 0
    assert -cca == conversion
    n_lines = len(r.postings)
    assert abs(-(mip + usage) / 100 - material) <= 0.005 * n_lines + 1e-9  # item rounding only
    assert abs(rnd) <= n_lines  # a rounding line holds at most half a cent per item line


@ACROSS_TRIGGERS
@given(plant=plants(whole_cents=True))
def test_all_sold_the_four_triggers_give_the_same_cogs(plant):
    """No opening stock, everything completed is sold: COGS does not depend on the trigger."""
    sales = [
        {"item": c["item"], "quantity": c["quantity"], "date": dt.date(2026, 10, 31)}
        for c in plant["completions"]
    ]
    totals = set()
    for trigger in TRIGGERS:
        r = run_month_end(make_inputs(trigger, sales=sales, **plant))
        totals.add(int(r.trial_balance.set_index("role").loc["COGS", "closing_cents"]))
    assert len(totals) == 1


@ACROSS_TRIGGERS
@given(plant=plants())
def test_all_sold_cogs_agrees_across_triggers_within_rounding(plant):
    sales = [
        {"item": c["item"], "quantity": c["quantity"], "date": dt.date(2026, 10, 31)}
        for c in plant["completions"]
    ]
    totals = []
    for trigger in TRIGGERS:
        r = run_month_end(make_inputs(trigger, sales=sales, **plant))
        totals.append(int(r.trial_balance.set_index("role").loc["COGS", "closing_cents"]))
    # each trigger rounds at different postings; at most a cent per completion/sale line
    assert max(totals) - min(totals) <= 2 * (len(plant["completions"]) + len(sales))
