"""Variances by product (backflush-domain.md section 9), worked by hand.

Two finished goods share a stocked subassembly; one of them also uses a raw material alone:
  P1 <- SA x1 + R2 x1        SA <- R1 x3         P2 <- SA x2
Standards: R1 1.00, R2 2.00 (material); SA conversion 1.00, P1 2.00, P2 3.00.
  SA: 3 x 1.00 + 1.00 = 4.00; P1: 4.00 + 2.00 + 2.00 = 8.00; P2: 2 x 4.00 + 3.00 = 11.00.
The month (purchase+completion): buy R1 400, R2 100 at standard; complete SA 100, P1 20,
P2 29 good + 1 scrap; sell P1 10; conversion incurred 253.00; counts R1 90, R2 81, SA 19.
Standard consumption this month (units made = good + scrap):
  SA: P1 20 x 1 = 20, P2 30 x 2 = 60 (total 80); R1 through SA: P1 60, P2 180 (total 240);
  R2: P1 20 only.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from builders import make_inputs
from hypothesis import given
from hypothesis import strategies as st
from test_properties import FAST, TRIGGERS, with_returns

from addin.costing.by_product import allocate_by_row, variances_by_product
from addin.costing.engine import run_month_end


def shared_subassembly(**over):
    return make_inputs(
        over.pop("trigger", "purchase+completion"),
        items=[
            {"item": "P1", "item_type": "Finished", "conversion": 2.00},
            {"item": "P2", "item_type": "Finished", "conversion": 3.00},
            {"item": "SA", "item_type": "Subassembly", "conversion": 1.00},
            {"item": "R1", "item_type": "Raw", "material": 1.00},
            {"item": "R2", "item_type": "Raw", "material": 2.00},
        ],
        bom=[
            {"parent": "P1", "component": "SA", "qty_per": 1},
            {"parent": "P1", "component": "R2", "qty_per": 1},
            {"parent": "P2", "component": "SA", "qty_per": 2},
            {"parent": "SA", "component": "R1", "qty_per": 3},
        ],
        purchases=[
            {"item": "R1", "quantity": 400, "unit_price": 1.00},
            {"item": "R2", "quantity": 100, "unit_price": 2.00},
        ],
        completions=[
            {"item": "SA", "quantity": 100},
            {"item": "P1", "quantity": 20},
            {"item": "P2", "quantity": 29, "scrap_quantity": 1},
        ],
        sales=[{"item": "P1", "quantity": 10}],
        conversion=[{"amount": 253.00}],
        counts=over.pop(
            "counts",
            [
                {"item": "R1", "counted_quantity": 90},
                {"item": "R2", "counted_quantity": 81},
                {"item": "SA", "counted_quantity": 19},
            ],
        ),
        **over,
    )


def by_item(frame, column):
    return dict(zip(frame["item"], frame[column].astype(int), strict=True))


def test_two_products_share_a_subassembly_and_its_component():
    bp = variances_by_product(run_month_end(shared_subassembly()))
    p = bp.products
    # Usage. R1: book 400 - 300 (SA's flush) = 100, counted 90: 10 x 1.00 = 10.00 U, shared
    #   60/240 and 180/240: P1 2.50, P2 7.50.
    # R2: book 100 - 20 = 80, counted 81: -1 x 2.00 = 2.00 F, all P1 (only P1 uses it).
    # SA: book 100 - 80 = 20, counted 19: 1 x 4.00 = 4.00 U, shared 20/80, 60/80: 1.00, 3.00.
    #   P1: 2.50 - 2.00 + 1.00 = 1.50; P2: 7.50 + 3.00 = 10.50.
    assert by_item(p, "usage_cents") == {"P1": 150, "P2": 1050}
    # Scrap: P2's 1 unit at its standard 11.00, all P2's own.
    assert by_item(p, "scrap_cents") == {"P1": 0, "P2": 1100}
    # Conversion: allocated SA 100 x 1.00 + P1 20 x 2.00 + P2 30 x 3.00 = 230.00; actual 253.00:
    #   23.00 U, shared by conversion absorbed: SA 100/230 = 10.00, P1 40/230 = 4.00,
    #   P2 90/230 = 9.00; SA's 10.00 passes on 20/80, 60/80: P1 2.50, P2 7.50.
    #   P1: 4.00 + 2.50 = 6.50; P2: 9.00 + 7.50 = 16.50.
    assert by_item(p, "conversion_cents") == {"P1": 650, "P2": 1650}
    assert bp.not_attributed == {"usage": 0, "scrap": 0, "conversion": 0}
    # Units: good completions and sales; standard per unit 8.00 and 11.00; P1's COGS 10 x 8.00.
    assert by_item(p, "completed") == {"P1": 20, "P2": 29}
    assert by_item(p, "sold") == {"P1": 10, "P2": 0}
    assert dict(zip(p["item"], p["standard"], strict=True)) == {"P1": 8.0, "P2": 11.0}
    assert by_item(p, "standard_cogs_cents") == {"P1": 8000, "P2": 0}
    # Sorted by amount: P2 (10.50 + 11.00 + 16.50 = 38.00) before P1 (8.00).
    assert list(p["item"]) == ["P2", "P1"]


def test_a_component_nobody_consumed_stays_not_attributed():
    # R2 counted short by 5 (2.00 each = 10.00 U) and nobody completes P1: no product used R2.
    # R1 and SA are not counted; P2's scrap and the conversion are as above but P1 made none:
    # conversion allocated SA 100 + P2 90 = 190.00, actual 253.00: 63.00 U.
    inputs = shared_subassembly(counts=[{"item": "R2", "counted_quantity": 95}])
    inputs = replace(
        inputs,
        completions=inputs.completions[inputs.completions["item"] != "P1"],
        sales=inputs.sales.iloc[0:0],
    )
    bp = variances_by_product(run_month_end(inputs))
    # R2's 10.00 U: not attributed. SA's share of conversion: 63.00 x 100/190 = 33.157...
    #   -> 33.16 (largest remainder), all to P2 (the only consumer of SA); P2's own 90/190 =
    #   29.842... -> 29.84; P2: 33.16 + 29.84 = 63.00.
    assert bp.not_attributed == {"usage": 1000, "scrap": 0, "conversion": 0}
    assert by_item(bp.products, "conversion_cents") == {"P2": 6300}
    assert by_item(bp.products, "usage_cents") == {"P2": 0}


def test_largest_remainder_adds_up_per_row():
    # Row 0: 1.00 over three equal weights: 33.33... each -> 34, 33, 33 (the first tie first).
    # Row 1: -0.07 over weights 2 and 1: -4.67, -2.33 -> -5, -2.
    amount = np.array([100, -7], np.int64)
    rows = np.array([0, 0, 0, 1, 1])
    parts = allocate_by_row(amount, rows, np.array([1.0, 1.0, 1.0, 2.0, 1.0]))
    assert parts.tolist() == [34, 33, 33, -5, -2]


@st.composite
def counted_months(draw):
    """A random month (test_properties' plants, with returns and reversals) and counts of
    some items, above or below book."""
    plant = draw(with_returns())
    items = [it["item"] for it in plant["items"] if it["item_type"] != "Phantom"]
    counted = draw(st.lists(st.sampled_from(items), max_size=4, unique=True))
    counts = [{"item": i, "counted_quantity": float(draw(st.integers(0, 60))) / 4} for i in counted]
    return {**plant, "counts": counts}


@FAST
@given(month=counted_months(), trigger=st.sampled_from(TRIGGERS))
def test_attributed_variances_add_up_to_the_variances_to_the_cent(month, trigger):
    r = run_month_end(make_inputs(trigger, **month))
    bp = variances_by_product(r)
    v = r.variances
    # Variances tab sums per column: usage (with lot size), scrap, conversion.
    expected = {
        "usage": int(v.loc[v["type"].isin(["usage", "lot size"]), "amount_cents"].sum()),
        "scrap": int(v.loc[v["type"] == "scrap", "amount_cents"].sum()),
        "conversion": int(v.loc[v["type"] == "conversion", "amount_cents"].sum()),
    }
    for column, cents in expected.items():
        got = int(bp.products[f"{column}_cents"].sum()) + bp.not_attributed[column]
        assert got == cents, (column, got, cents)
    assert set(bp.products["item"]) <= {
        it["item"] for it in month["items"] if it["item_type"] == "Finished"
    }
