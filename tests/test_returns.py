"""Returns and reversals (negative quantities) and purchase charges, worked by hand.

The plant: R (raw, material 1.50) and S (raw, 0.25); F (finished) <- R x2 + S x4, conversion
3.00. F's standard: material 2 x 1.50 + 4 x 0.25 = 4.00, total 4.00 + 3.00 = 7.00. Every
figure below is that arithmetic, written out in the test; nothing is read back from the run.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from builders import make_inputs

from addin.costing.engine import run_month_end
from addin.costing.model import Severity
from tests.workbooks import errors, run, tidy

TRIGGERS = ["purchase+completion", "purchase+sale", "completion", "sale"]
ITEMS = [
    {"item": "R", "item_type": "Raw", "material": 1.50},
    {"item": "S", "item_type": "Raw", "material": 0.25},
    {"item": "F", "item_type": "Finished", "conversion": 3.00},
]
BOM = [
    {"parent": "F", "component": "R", "qty_per": 2},
    {"parent": "F", "component": "S", "qty_per": 4},
]
STOCK = [  # bought at standard: no price variance, no stock below zero
    {"item": "R", "quantity": 100, "unit_price": 1.50, "date": dt.date(2026, 10, 1)},
    {"item": "S", "quantity": 100, "unit_price": 0.25, "date": dt.date(2026, 10, 1)},
]


def day(d: int) -> dt.date:
    return dt.date(2026, 10, d)


def pd_day(d: int) -> pd.Timestamp:
    return pd.Timestamp(day(d))


def entry(result, event: str) -> dict[str, int]:
    """The lines of ``event``'s entries per role, in cents, debit positive."""
    j = result.journal[result.journal["event"] == event]
    net = (j["debit_cents"] - j["credit_cents"]).groupby(j["role"].astype(str)).sum()
    return {role: int(c) for role, c in net.items() if c}


def ending(result, role: str, item: str) -> tuple[float, int]:
    inv = result.inventory
    row = inv[(inv["role"] == role) & (inv["item"] == item)].iloc[0]
    return float(row["ending_qty"]), int(row["ending_cents"])


def info(result, check: str) -> list[str]:
    return [f"{f.location}: {f.message}" for f in result.findings if f.check == check]


# ---- customer returns (negative Sales quantity) -------------------------------------------

# Sell 10 F on Oct 10, 3 come back on Oct 20. Sale: COGS 10 x 7.00 = 70.00. Return: COGS
# credited 3 x 7.00 = 21.00, so COGS nets 7 x 7.00 = 49.00.
SALE_AND_RETURN = {
    # F carried in FG at 7.00: the stock relieved and given back at full standard
    "purchase+completion": ({"COGS": 7000, "FG": -7000}, {"FG": 2100, "COGS": -2100}),
    # F carried in MIP at its material 4.00; its conversion 3.00 applied at the sale (CCA)
    "purchase+sale": (
        {"COGS": 7000, "MIP": -4000, "CCA": -3000},
        {"MIP": 3 * 400, "CCA": 3 * 300, "COGS": -2100},
    ),
    "completion": ({"COGS": 7000, "FG": -7000}, {"FG": 2100, "COGS": -2100}),
    # carried nowhere: the sale flushes R 20 x 1.50 + S 40 x 0.25 = 40.00 from AP; the return
    # gives back R 6 x 1.50 = 9.00 + S 12 x 0.25 = 3.00 = 12.00 to AP, and CCA 3 x 3.00
    "sale": (
        {"COGS": 7000, "AP": -4000, "CCA": -3000},
        {"AP": 1200, "CCA": 900, "COGS": -2100},
    ),
}


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_a_customer_return_reverses_the_sale_at_standard(trigger: str) -> None:
    r = run_month_end(
        make_inputs(
            trigger,
            items=ITEMS,
            bom=BOM,
            purchases=STOCK,
            completions=[{"item": "F", "quantity": 10, "date": day(5)}],
            sales=[
                {"item": "F", "quantity": 10, "date": day(10)},
                {"item": "F", "quantity": -3, "date": day(20)},
            ],
        )
    )
    sale, back = SALE_AND_RETURN[trigger]
    assert entry(r, "Sale") == sale
    assert entry(r, "Customer return") == back
    memo = r.journal.loc[r.journal["event"] == "Customer return", "memo"].iloc[0]
    assert memo.startswith("Customer return:")
    if trigger in ("purchase+completion", "completion"):
        assert ending(r, "FG", "F") == (3.0, 2100)  # 10 - 10 + 3 back, at 7.00
    if trigger == "purchase+sale":
        assert ending(r, "MIP", "F") == (3.0, 1200)  # at its material 4.00
    assert info(r, "returns and reversals") == [
        "Sales!3:3: 1 customer return (Sales row 3) posted as a reversal of the sale: goods "
        "back at standard, cost of goods sold credited."
    ]


# ---- returns to the vendor (negative Purchases quantity) ------------------------------------


@pytest.mark.parametrize("trigger", ["purchase+completion", "purchase+sale"])
def test_a_return_to_the_vendor_reverses_its_price_variance_at_the_return_price(
    trigger: str,
) -> None:
    """Buy 100 R at 1.60 (standard 1.50), return 30 at 1.70 (the vendor credits 1.70).
    Purchase: MIP 100 x 1.50 = 150.00, PPV 100 x 0.10 = 10.00, AP 160.00.
    Return: AP debited 30 x 1.70 = 51.00, MIP credited 30 x 1.50 = 45.00, PPV credited
    51.00 - 45.00 = 6.00 (30 x (1.70 - 1.50)). PPV nets 10.00 - 6.00 = 4.00."""
    r = run_month_end(
        make_inputs(
            trigger,
            items=ITEMS,
            bom=BOM,
            purchases=[
                {"item": "R", "quantity": 100, "unit_price": 1.60, "date": day(2)},
                {"item": "R", "quantity": -30, "unit_price": 1.70, "date": day(9)},
            ],
        )
    )
    assert entry(r, "Purchase") == {"MIP": 15000, "PPV": 1000, "AP": -16000}
    assert entry(r, "Purchase return") == {"AP": 5100, "MIP": -4500, "PPV": -600}
    assert ending(r, "MIP", "R") == (70.0, 10500)  # 70 x 1.50
    tb = r.trial_balance.set_index("role")
    assert tb.loc["PPV", "closing_cents"] == 400
    v = r.variances[r.variances["type"] == "price"].set_index("memo")
    back = v.loc["Returns to the vendor: price variance reversed at the return price"]
    assert (back["item"], back["quantity"], back["amount_cents"], back["fu"]) == (
        "R",
        -30.0,
        -600,
        "F",
    )
    assert v.loc["Actual price vs standard on purchases", "amount_cents"] == 1000
    assert info(r, "returns and reversals") == [
        "Purchases!3:3: 1 purchase return (Purchases row 3) posted as a reversal: materials "
        "out of MIP at standard, AP debited at the return price, the price variance reversed "
        "(PPV)."
    ]


@pytest.mark.parametrize("trigger", ["completion", "sale"])
def test_returns_and_charges_are_not_posted_when_purchases_are_not(trigger: str) -> None:
    r = run_month_end(
        make_inputs(
            trigger,
            items=ITEMS,
            bom=BOM,
            purchases=[
                {"item": "R", "quantity": 100, "unit_price": 1.60, "date": day(2)},
                {"item": "R", "quantity": -30, "unit_price": 1.70, "date": day(9), "charges": 2},
                {"item": "R", "quantity": 0, "unit_price": None, "charges": 40, "date": day(9)},
            ],
        )
    )
    assert not r.journal["event"].astype(str).str.startswith("Purchase").any()
    (note,) = info(r, "purchases not posted")
    assert note.endswith(
        "(1 of them returns to the vendor; charges of 42.00 on 2 rows)."
    )  # 2.00 + 40.00


# ---- completion reversals (negative Completions quantity) ----------------------------------

# Complete 10 F on Oct 5, reverse 4 on Oct 12. Completion: F 10 x 7.00 = 70.00 debited, its
# components R 20 x 1.50 + S 40 x 0.25 = 40.00 credited, conversion 10 x 3.00 = 30.00 to CCA.
# Reversal: F 4 x 7.00 = 28.00 credited, R 8 x 1.50 = 12.00 + S 16 x 0.25 = 4.00 = 16.00 back,
# CCA debited 4 x 3.00 = 12.00.
COMPLETION_AND_REVERSAL = {
    "purchase+completion": (
        {"FG": 7000, "MIP": -4000, "CCA": -3000},
        {"MIP": 1600, "CCA": 1200, "FG": -2800},
    ),
    # within MIP: F at its material 4.00 in, components 4.00 out, so nothing nets in the journal
    "purchase+sale": ({}, {}),
    "completion": (
        {"FG": 7000, "AP": -4000, "CCA": -3000},
        {"AP": 1600, "CCA": 1200, "FG": -2800},
    ),
    "sale": ({}, {}),  # completions are not posted under the sale trigger
}


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_a_completion_reversal_gives_its_components_back(trigger: str) -> None:
    r = run_month_end(
        make_inputs(
            trigger,
            items=ITEMS,
            bom=BOM,
            purchases=STOCK,
            completions=[
                {"item": "F", "quantity": 10, "date": day(5)},
                {"item": "F", "quantity": -4, "date": day(12)},
            ],
        )
    )
    made, reversed_ = COMPLETION_AND_REVERSAL[trigger]
    assert entry(r, "Completion") == made
    assert entry(r, "Completion reversal") == reversed_
    if trigger == "purchase+completion":
        assert ending(r, "FG", "F") == (6.0, 4200)  # 6 x 7.00
        assert ending(r, "MIP", "R") == (88.0, 13200)  # 100 - 20 + 8, at 1.50
        assert ending(r, "MIP", "S") == (76.0, 1900)  # 100 - 40 + 16, at 0.25
    if trigger == "purchase+sale":
        assert ending(r, "MIP", "F") == (6.0, 2400)  # at material 4.00
        assert ending(r, "MIP", "R") == (88.0, 13200)
    if trigger == "completion":
        assert ending(r, "FG", "F") == (6.0, 4200)
    (note,) = info(r, "returns and reversals")
    assert note.startswith("Completions!3:3: 1 completion reversal (Completions row 3) ")
    posted = "not posted" if trigger == "sale" else "posted as a reversal"
    assert posted in note


def test_a_completion_and_its_reversal_on_the_same_day_post_two_entries() -> None:
    """Not netted: the completion of 10 and the reversal of 4 on Oct 5 each have an entry."""
    r = run_month_end(
        make_inputs(
            "purchase+completion",
            items=ITEMS,
            bom=BOM,
            purchases=STOCK,
            completions=[
                {"item": "F", "quantity": 10, "date": day(5)},
                {"item": "F", "quantity": -4, "date": day(5)},
            ],
        )
    )
    assert entry(r, "Completion") == {"FG": 7000, "MIP": -4000, "CCA": -3000}
    assert entry(r, "Completion reversal") == {"MIP": 1600, "CCA": 1200, "FG": -2800}
    assert r.journal.groupby("entry")["date"].first().value_counts()[pd_day(5)] == 2
    assert ending(r, "FG", "F") == (6.0, 4200)


# ---- charges: freight, duty and later item charges ------------------------------------------


@pytest.mark.parametrize("trigger", ["purchase+completion", "purchase+sale"])
def test_charges_on_a_purchase_land_in_the_price_variance(trigger: str) -> None:
    """100 at 2.00, standard 1.90, Charges 15.00: AP 100 x 2.00 + 15.00 = 215.00, MIP
    100 x 1.90 = 190.00, PPV 215.00 - 190.00 = 25.00 (price 10.00 + charges 15.00)."""
    items = [{"item": "R", "item_type": "Raw", "material": 1.90}]
    r = run_month_end(
        make_inputs(
            trigger,
            items=items,
            purchases=[
                {"item": "R", "quantity": 100, "unit_price": 2.00, "charges": 15, "date": day(2)}
            ],
        )
    )
    assert entry(r, "Purchase") == {"MIP": 19000, "PPV": 2500, "AP": -21500}
    assert ending(r, "MIP", "R") == (100.0, 19000)  # materials stay at standard
    v = r.variances[r.variances["type"] == "price"].set_index("memo")
    assert v.loc["Actual price vs standard on purchases", "amount_cents"] == 1000  # 100 x 0.10
    charges = v.loc["Freight, duty and other charges on purchases"]
    assert charges["amount_cents"] == 1500 and charges["fu"] == "U"


def test_a_charge_row_without_quantity_is_a_later_charge_on_the_item() -> None:
    """Oct 2: 100 R at 1.90 = standard (no variance). Oct 20: a freight invoice of 40.00 on R,
    no quantity, no price: Dr PPV 40.00 / Cr AP 40.00 on Oct 20; MIP untouched."""
    items = [{"item": "R", "item_type": "Raw", "material": 1.90}]
    r = run_month_end(
        make_inputs(
            items=items,
            purchases=[
                {"item": "R", "quantity": 100, "unit_price": 1.90, "date": day(2)},
                {"item": "R", "quantity": None, "unit_price": None, "charges": 40, "date": day(20)},
            ],
        )
    )
    assert entry(r, "Purchase") == {"MIP": 19000, "AP": -19000}
    assert entry(r, "Purchase charge") == {"PPV": 4000, "AP": -4000}
    j = r.journal[r.journal["event"] == "Purchase charge"]
    assert set(j["date"]) == {pd_day(20)}
    assert j["memo"].iloc[0].startswith("Purchase charge: freight, duty")
    assert ending(r, "MIP", "R") == (100.0, 19000)
    assert info(r, "purchase charges") == [
        "Purchases!3:3: 1 charge row (Purchases row 3) without quantity posted as a later "
        "charge on its item: Dr price variance (PPV), Cr AP."
    ]


# ---- the workbook: columns and cells ---------------------------------------------------------


def test_a_freight_column_that_is_not_read_is_named(tmp_path: Path) -> None:
    sheets = tidy()
    sheets["Purchases"] = [
        ["Date", "Item", "Quantity", "Unit Price", "Freight", "Charge", "Notes"],
        [day(2), "DM", 1_950_000, 1, 120, 5, "by truck"],
    ]
    inputs, findings = run(tmp_path, sheets)
    assert inputs is not None  # still valid, as before: the columns are not read
    named = [f"{f.location}: {f.message}" for f in findings if f.check == "cost column not read"]
    assert named == [
        'Purchases!E1: column "Freight" (E) is not read: put freight in Charges to include it '
        "in the price variance (materials stay at standard)",
        'Purchases!F1: column "Charge" (F) is not read: put charge in Charges to include it '
        "in the price variance (materials stay at standard)",
    ]  # "Notes" is not a cost: ignored as before
    assert all(f.severity is Severity.INFO for f in findings)


def test_charges_and_charge_rows_are_read(tmp_path: Path) -> None:
    sheets = tidy()
    sheets["Purchases"] = [
        ["Date", "Item", "Quantity", "Unit Price", "Charges"],
        [day(2), "DM", 1000, 1.1, 15],
        [day(3), "DM", -10, 1.2, None],  # a return to the vendor
        [day(9), "DM", None, None, 40],  # a later charge: Quantity and Unit Price blank
        [day(9), "DM", 0, None, 7.5],  # the same with Quantity 0
    ]
    inputs, findings = run(tmp_path, sheets)
    assert findings == []
    p = inputs.purchases
    assert p["charges"].tolist() == [15.0, 0.0, 40.0, 7.5]
    assert p["quantity"].fillna(0).tolist() == [1000.0, -10.0, 0.0, 0.0]


def test_rows_without_quantity_need_charges_and_rows_with_quantity_a_price(
    tmp_path: Path,
) -> None:
    sheets = tidy()
    sheets["Purchases"] = [
        ["Date", "Item", "Quantity", "Unit Price", "Charges"],
        [day(2), "DM", 0, 1, None],  # nothing to post
        [day(2), "DM", None, 1, 0],  # nothing to post
        [day(2), "DM", 5, None, 3],  # a quantity without its price
        [day(2), "DM", None, None, None],  # blank quantity and price, no charges
        [day(2), "DM", None, 2, 3],  # a price on a charge row: not used (warning)
    ]
    inputs, findings = run(tmp_path, sheets)
    assert inputs is None
    hint = (
        "it posts nothing; type the units received (below 0 for a return to the vendor), the "
        "Charges of a later charge on the item, or delete the row"
    )
    assert sorted(errors(findings)) == sorted(
        [
            f"Purchases!C2: Quantity is 0 and the row has no Charges: {hint}",
            f"Purchases!C3: Quantity is blank and Charges is 0: {hint}",
            "Purchases!D4: Unit Price is blank; type the actual price per unit (only a charge "
            "row, without Quantity, may leave it blank)",
            "Purchases!C5: Quantity is blank; type a number (0 if none)",
            "Purchases!D5: Unit Price is blank; type a number (0 if none)",
        ]
    )
    warned = [f"{f.location}" for f in findings if f.check == "unit price not used"]
    assert warned == ["Purchases!D6"]


def test_negative_quantities_are_accepted_and_negative_scrap_is_refused(tmp_path: Path) -> None:
    sheets = tidy()
    sheets["Completions"] = [
        ["Date", "Item", "Quantity", "Scrap Quantity"],
        [day(30), "KB", 100_000, 0],
        [day(30), "KB", -5, 0],  # a reversal: accepted
        [day(30), "KB", -5, -1],  # scrap cannot be reversed
    ]
    sheets["Sales"] = [
        ["Date", "Item", "Quantity"],
        [day(31), "KB", 99_000],
        [day(31), "KB", -3],  # a customer return: accepted
        [day(31), "KB", 0],  # 0 stays refused
    ]
    _, findings = run(tmp_path, sheets)
    assert errors(findings) == [
        "Completions!D4: Scrap Quantity is -1; it cannot be negative",
        "Sales!C4: Quantity is 0; type the units sold (below 0 for a customer return), or "
        "delete the row",
    ]


# ---- the README's worked example -------------------------------------------------------------

README_MONTH = {
    "purchases": [
        {"item": "R", "quantity": 100, "unit_price": 1.60, "date": day(2)},
        {"item": "R", "quantity": -30, "unit_price": 1.70, "date": day(9)},
        {"item": "S", "quantity": 100, "unit_price": 0.25, "date": day(1)},
    ],
    "completions": [
        {"item": "F", "quantity": 10, "date": day(5)},
        {"item": "F", "quantity": -4, "date": day(12)},
    ],
    "sales": [
        {"item": "F", "quantity": 6, "date": day(15)},
        {"item": "F", "quantity": -3, "date": day(20)},
    ],
}


def test_the_readme_example_of_returns_and_reversals() -> None:
    """README "Returns and reversals": each entry as the README states it (V1), and V4's sale
    and customer return. S is bought at standard (not in the README's table: no variance)."""
    r = run_month_end(make_inputs("purchase+completion", items=ITEMS, bom=BOM, **README_MONTH))
    j = r.journal
    dated: dict[tuple[str, int], dict[str, int]] = {}
    for row in j.itertuples():
        lines = dated.setdefault((str(row.event), row.date.day), {})
        lines[str(row.role)] = int(row.debit_cents - row.credit_cents)
    assert dated[("Purchase", 2)] == {"MIP": 15000, "PPV": 1000, "AP": -16000}
    assert dated[("Completion", 5)] == {"FG": 7000, "MIP": -4000, "CCA": -3000}
    assert dated[("Purchase return", 9)] == {"AP": 5100, "MIP": -4500, "PPV": -600}
    assert dated[("Completion reversal", 12)] == {"MIP": 1600, "CCA": 1200, "FG": -2800}
    assert dated[("Sale", 15)] == {"COGS": 4200, "FG": -4200}
    assert dated[("Customer return", 20)] == {"FG": 2100, "COGS": -2100}
    assert ending(r, "FG", "F") == (3.0, 2100)  # 10 - 4 - 6 + 3 at 7.00
    assert r.trial_balance.set_index("role").loc["PPV", "closing_cents"] == 400  # 10.00 - 6.00
    v4 = run_month_end(make_inputs("sale", items=ITEMS, bom=BOM, **README_MONTH))
    assert entry(v4, "Sale") == {"COGS": 4200, "AP": -2400, "CCA": -1800}
    assert entry(v4, "Customer return") == {"AP": 1200, "CCA": 900, "COGS": -2100}


def test_the_readme_example_of_charges() -> None:
    """README "Freight, duty and other purchase charges": price 10.00 U, charges 55.00 U."""
    items = [{"item": "R", "item_type": "Raw", "material": 1.90}]
    r = run_month_end(
        make_inputs(
            items=items,
            purchases=[
                {"item": "R", "quantity": 100, "unit_price": 2.00, "charges": 15, "date": day(2)},
                {"item": "R", "quantity": None, "unit_price": None, "charges": 40, "date": day(20)},
            ],
        )
    )
    assert entry(r, "Purchase") == {"MIP": 19000, "PPV": 2500, "AP": -21500}
    assert entry(r, "Purchase charge") == {"PPV": 4000, "AP": -4000}
    v = r.variances.set_index("memo")
    assert v.loc["Actual price vs standard on purchases", "amount_cents"] == 1000
    charges = v.loc["Freight, duty and other charges on purchases"]
    assert (charges["amount_cents"], charges["fu"]) == (5500, "U")  # 15.00 + 40.00
    assert pd.isna(charges["quantity"])
    assert ending(r, "MIP", "R") == (100.0, 19000)
