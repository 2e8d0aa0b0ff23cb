"""Stocked subassemblies vs phantoms (backflush-domain.md section 8), worked by hand.

ERPNext's test fixture: FG2 <- TI x1 + SUB x3; SUB <- SER x1 + TI2 x2. Our standards:
TI 2.00, TI2 3.00, SER 5.00 (material); SUB conversion 1.00, FG2 conversion 4.00.
  SUB: material 5 + 2 x 3 = 11.00, conversion 1.00, total 12.00
  FG2: material 2 + 3 x 11 = 35.00, conversion 4 + 3 x 1 = 7.00, total 42.00
The month: buy TI 10, TI2 10, SER 5 at standard; complete 3 SUB on Oct 5 and 1 FG2 on Oct 6;
sell 1 FG2 on Oct 7; conversion incurred 7.00 (= 3 x 1 + 1 x 4: no variance).
Completing SUB flushes SER 3 and TI2 6 once; FG2's completion takes the 3 SUB from stock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
import pytest
from builders import make_inputs

from addin.costing.engine import run_month_end

TRIGGERS = ["purchase+completion", "purchase+sale", "completion", "sale"]
OCT = {d: dt.date(2026, 10, d) for d in range(1, 32)}


def erpnext(trigger: str, sub_type: str = "Subassembly", completions=None):
    return make_inputs(
        trigger,
        items=[
            {"item": "TI", "item_type": "Raw", "material": 2.00},
            {"item": "TI2", "item_type": "Raw", "material": 3.00},
            {"item": "SER", "item_type": "Raw", "material": 5.00},
            {"item": "SUB", "item_type": sub_type, "conversion": 1.00},
            {"item": "FG2", "item_type": "Finished", "conversion": 4.00},
        ],
        bom=[
            {"parent": "FG2", "component": "TI", "qty_per": 1},
            {"parent": "FG2", "component": "SUB", "qty_per": 3},
            {"parent": "SUB", "component": "SER", "qty_per": 1},
            {"parent": "SUB", "component": "TI2", "qty_per": 2},
        ],
        purchases=[
            {"item": "TI", "quantity": 10, "unit_price": 2.00, "date": OCT[1]},
            {"item": "TI2", "quantity": 10, "unit_price": 3.00, "date": OCT[1]},
            {"item": "SER", "quantity": 5, "unit_price": 5.00, "date": OCT[1]},
        ],
        completions=completions
        if completions is not None
        else [
            {"item": "SUB", "quantity": 3, "date": OCT[5]},
            {"item": "FG2", "quantity": 1, "date": OCT[6]},
        ],
        sales=[{"item": "FG2", "quantity": 1, "date": OCT[7]}],
        conversion=[{"amount": 7.00, "date": OCT[31]}],
    )


def lines(result, event, day=None):
    """{role: signed amount} (debit +) of one event's entries, on one day when given; roles
    that net to zero are left out."""
    j = result.journal[result.journal["event"] == event]
    if day is not None:
        j = j[j["date"] == dt.datetime(2026, 10, day)]
    out: dict[str, float] = {}
    for r in j.itertuples():
        out[r.role] = round(out.get(r.role, 0) + (r.debit_cents - r.credit_cents) / 100, 2)
    return {k: v for k, v in out.items() if v != 0}


def moved(result, item):
    """(in, out, ending) units of an item in stock, or None when it is not carried."""
    inv = result.inventory.set_index("item")
    if item not in inv.index:
        return None
    row = inv.loc[item]
    return (row["in_qty"], row["out_qty"], row["ending_qty"])


def flushed(result):
    return result.backflush.groupby("component")["quantity"].sum().to_dict()


def no_warnings(result):
    return [f for f in result.findings if f.severity.value == "Warning"]


# ---- the ERPNext fixture under each trigger ------------------------------------------------


def test_purchase_completion_takes_the_subassembly_from_stock():
    r = run_month_end(erpnext("purchase+completion"))
    # Oct 5: 3 SUB into FG at 12.00 = 36.00; SER 3 x 5 + TI2 6 x 3 = 33.00 out of MIP;
    #        SUB's conversion 3 x 1.00 = 3.00 applied
    assert lines(r, "Completion", 5) == {"FG": 36.00, "MIP": -33.00, "CCA": -3.00}
    # Oct 6: FG2 into FG at 42.00, the 3 SUB out of FG at 36.00 (net FG +6.00); TI 1 x 2.00
    #        out of MIP; FG2's own conversion 4.00 only (SUB's was applied on Oct 5)
    assert lines(r, "Completion", 6) == {"FG": 42.00 - 36.00, "MIP": -2.00, "CCA": -4.00}
    assert lines(r, "Sale") == {"COGS": 42.00, "FG": -42.00}
    assert lines(r, "Period-end close") == {"CCA": 7.00, "CCC": -7.00}
    assert flushed(r) == {"SER": 3, "TI2": 6, "TI": 1, "SUB": 3}
    # stock: SER 5 - 3 = 2, TI2 10 - 6 = 4, TI 10 - 1 = 9, SUB 3 in 3 out, FG2 1 in 1 out
    assert moved(r, "SER")[2] == 2 and moved(r, "TI2")[2] == 4 and moved(r, "TI")[2] == 9
    assert moved(r, "SUB") == (3, 3, 0) and moved(r, "FG2") == (1, 1, 0)
    tb = r.trial_balance.set_index("role")["closing_cents"]
    assert tb["MIP"] == (2 * 5 + 4 * 3 + 9 * 2) * 100 and tb["FG"] == 0
    assert not no_warnings(r)


def test_purchase_sale_moves_the_subassembly_within_mip_at_material():
    r = run_month_end(erpnext("purchase+sale"))
    # Oct 5: SUB 3 x 11.00 = 33.00 into MIP, SER 15.00 + TI2 18.00 out of MIP: nets to zero
    assert lines(r, "Completion", 5) == {}
    # Oct 6: FG2 35.00 into MIP, SUB 33.00 + TI 2.00 out of MIP: nets to zero
    assert lines(r, "Completion", 6) == {}
    # the sale: FG2 out of MIP at material 35.00, the whole conversion 7.00 applied
    assert lines(r, "Sale") == {"COGS": 42.00, "MIP": -35.00, "CCA": -7.00}
    assert flushed(r) == {"SER": 3, "TI2": 6, "TI": 1, "SUB": 3}
    assert moved(r, "SUB") == (3, 3, 0) and moved(r, "FG2") == (1, 1, 0)
    assert moved(r, "SER")[2] == 2 and moved(r, "TI2")[2] == 4 and moved(r, "TI")[2] == 9
    inv = r.inventory.set_index("item")
    assert inv.loc["SUB", "in_cents"] == 3300 and inv.loc["SUB", "out_cents"] == 3300
    assert not no_warnings(r)


def test_completion_only_credits_ap_once_and_fg_for_the_subassembly():
    r = run_month_end(erpnext("completion"))
    assert lines(r, "Completion", 5) == {"FG": 36.00, "AP": -33.00, "CCA": -3.00}
    assert lines(r, "Completion", 6) == {"FG": 42.00 - 36.00, "AP": -2.00, "CCA": -4.00}
    assert lines(r, "Sale") == {"COGS": 42.00, "FG": -42.00}
    assert moved(r, "SUB") == (3, 3, 0) and moved(r, "FG2") == (1, 1, 0)
    assert r.trial_balance.set_index("role")["closing_cents"]["FG"] == 0
    # AP credited 33.00 + 2.00 = 35.00 in all: each raw material once
    assert lines(r, "Completion")["AP"] == -35.00


def test_sale_only_flushes_the_whole_tree_once_and_says_completions_move_nothing():
    r = run_month_end(erpnext("sale"))
    assert "Completion" not in set(r.journal["event"])
    # the sale of 1 FG2 flushes TI 1, SER 3, TI2 6 (35.00) and applies 7.00 conversion
    assert lines(r, "Sale") == {"COGS": 42.00, "AP": -35.00, "CCA": -7.00}
    assert flushed(r) == {"TI": 1, "SER": 3, "TI2": 6}
    assert moved(r, "SUB") is None
    note = [f for f in r.findings if f.check == "subassembly completions not posted"]
    assert len(note) == 1 and "SUB" in note[0].message


def test_cost_rollup_says_how_parents_use_each_item():
    for trigger, sub in [("purchase+completion", "from stock"), ("sale", "blown through")]:
        roll = run_month_end(erpnext(trigger)).rollup.set_index("item")
        assert roll.loc["SUB", "used_by_parents"] == sub
        assert roll.loc["SER", "used_by_parents"] == ""
        assert roll.loc["FG2", "used_by_parents"] == ""  # no parent uses it
        # the standard does not depend on it: 35.00 material + 7.00 conversion
        assert roll.loc["FG2", "rolled_total"] == pytest.approx(42.00)
    roll = run_month_end(erpnext("completion", "Phantom")).rollup.set_index("item")
    assert roll.loc["SUB", "used_by_parents"] == "blown through"


# ---- a phantom SUB: never stocked, blown through ----------------------------------------------


@pytest.mark.parametrize("trigger", ["purchase+completion", "completion"])
def test_phantom_subassembly_is_blown_through(trigger):
    only_fg2 = [{"item": "FG2", "quantity": 1, "date": OCT[6]}]
    r = run_month_end(erpnext(trigger, "Phantom", only_fg2))
    material = "MIP" if trigger == "purchase+completion" else "AP"
    # FG2 at 42.00; TI 2 + SER 15 + TI2 18 = 35.00 flushed; conversion 4 + 3 x 1 = 7.00
    assert lines(r, "Completion", 6) == {"FG": 42.00, material: -35.00, "CCA": -7.00}
    assert flushed(r) == {"TI": 1, "SER": 3, "TI2": 6}
    assert moved(r, "SUB") is None
    assert not no_warnings(r)


# ---- a stocked subassembly never completed -----------------------------------------------------


def test_stocked_subassembly_never_completed_is_a_warning():
    only_fg2 = [{"item": "FG2", "quantity": 1, "date": OCT[6]}]
    r = run_month_end(erpnext("purchase+completion", completions=only_fg2))
    found = [f for f in r.findings if f.check == "stocked item not received"]
    assert [f.item for f in found] == ["SUB"]
    # 3 SUB consumed, none opened, none completed: 3 consumed from stock it never received
    assert "took 3 from stock" in found[0].message and "3 were consumed" in found[0].message
    assert "Phantom" in found[0].message and found[0].sheet == "Standard Costs"
    assert moved(r, "SUB") == (0, 3, -3)


def test_stocked_subassembly_partly_in_stock_warns_for_the_shortfall_only():
    fewer = [
        {"item": "SUB", "quantity": 2, "date": OCT[5]},
        {"item": "FG2", "quantity": 1, "date": OCT[6]},
    ]
    inputs = erpnext("purchase+completion", completions=fewer)
    r = run_month_end(inputs)
    found = [f for f in r.findings if f.check == "stocked item not received"]
    # 3 taken, 2 completed: 1 short
    assert len(found) == 1 and "1 were consumed" in found[0].message
    enough = [
        {"item": "SUB", "quantity": 3, "date": OCT[5]},
        {"item": "FG2", "quantity": 1, "date": OCT[6]},
    ]
    r = run_month_end(erpnext("purchase+completion", completions=enough))
    assert not [f for f in r.findings if f.check == "stocked item not received"]


# ---- three levels, the middle one stocked --------------------------------------------------------
# TOP (Finished, conv 10) <- MID x2 + R3 x1 (7.00); MID (Subassembly, conv 2) <- LOW x1 + R2 x1
# (4.00); LOW (Phantom, conv 0.50) <- R1 x3 (1.00).
#   LOW: material 3.00, conversion 0.50
#   MID: material 3 + 4 = 7.00, conversion 2 + 0.50 = 2.50, total 9.50
#   TOP: material 7 + 2 x 7 = 21.00, conversion 10 + 2 x 2.50 = 15.00, total 36.00
# Complete 5 MID on Oct 3 and 2 TOP on Oct 8; sell 2 TOP on Oct 9.


def three_levels(trigger):
    return make_inputs(
        trigger,
        items=[
            {"item": "R1", "item_type": "Raw", "material": 1.00},
            {"item": "R2", "item_type": "Raw", "material": 4.00},
            {"item": "R3", "item_type": "Raw", "material": 7.00},
            {"item": "LOW", "item_type": "Phantom", "conversion": 0.50},
            {"item": "MID", "item_type": "Subassembly", "conversion": 2.00},
            {"item": "TOP", "item_type": "Finished", "conversion": 10.00},
        ],
        bom=[
            {"parent": "TOP", "component": "MID", "qty_per": 2},
            {"parent": "TOP", "component": "R3", "qty_per": 1},
            {"parent": "MID", "component": "LOW", "qty_per": 1},
            {"parent": "MID", "component": "R2", "qty_per": 1},
            {"parent": "LOW", "component": "R1", "qty_per": 3},
        ],
        purchases=[
            {"item": "R1", "quantity": 20, "unit_price": 1.00, "date": OCT[1]},
            {"item": "R2", "quantity": 10, "unit_price": 4.00, "date": OCT[1]},
            {"item": "R3", "quantity": 5, "unit_price": 7.00, "date": OCT[1]},
        ],
        completions=[
            {"item": "MID", "quantity": 5, "date": OCT[3]},
            {"item": "TOP", "quantity": 2, "date": OCT[8]},
        ],
        sales=[{"item": "TOP", "quantity": 2, "date": OCT[9]}],
        conversion=[{"amount": 5 * 2.50 + 2 * 10.00, "date": OCT[31]}],
    )


def test_three_levels_stocked_middle_purchase_completion():
    r = run_month_end(three_levels("purchase+completion"))
    # Oct 3: 5 MID at 9.50 = 47.50 into FG; R1 15 x 1 + R2 5 x 4 = 35.00 out of MIP (LOW blown
    #        through); conversion 5 x 2.50 = 12.50
    assert lines(r, "Completion", 3) == {"FG": 47.50, "MIP": -35.00, "CCA": -12.50}
    # Oct 8: 2 TOP at 36.00 = 72.00 in, 4 MID at 9.50 = 38.00 out (net 34.00); R3 2 x 7 = 14.00;
    #        TOP's own conversion 2 x 10 = 20.00
    assert lines(r, "Completion", 8) == {"FG": 72.00 - 38.00, "MIP": -14.00, "CCA": -20.00}
    assert flushed(r) == {"R1": 15, "R2": 5, "R3": 2, "MID": 4}
    assert moved(r, "MID") == (5, 4, 1)  # one MID left in stock at 9.50
    assert r.trial_balance.set_index("role")["closing_cents"]["FG"] == 950
    assert not no_warnings(r)


def test_three_levels_sale_only_blows_through_every_level():
    r = run_month_end(three_levels("sale"))
    # 2 TOP sold: R3 2, R2 2 x 2 = 4, R1 2 x 2 x 3 = 12; material 14 + 16 + 12 = 42.00 = 2 x 21
    assert lines(r, "Sale") == {"COGS": 72.00, "AP": -42.00, "CCA": -30.00}
    assert flushed(r) == {"R1": 12, "R2": 4, "R3": 2}


def test_every_trigger_gives_the_same_cogs_when_the_subassemblies_are_used_up():
    # everything completed is used or sold: COGS = 42.00 + (7.00 - 7.00) under every trigger
    for trigger in TRIGGERS:
        tb = run_month_end(erpnext(trigger)).trial_balance.set_index("role")["closing_cents"]
        assert tb["COGS"] == 4200, trigger


def test_a_bom_change_below_a_stocked_subassembly_is_its_own_usage_variance_only():
    """SUB's BOM takes 2 SER from Oct 10 (standard stays 1 SER: SUB 12.00, FG2 42.00). SUB's
    completion on Oct 12 flushes 3 x (2 x 5 + 2 x 3) = 48.00 against 3 x 11 = 33.00 standard:
    15.00 usage (BOM change) on SUB. FG2's completion on Oct 13 takes the 3 SUB at 12.00 and has
    no BOM change of its own: the change is not counted twice."""
    inputs = erpnext(
        "purchase+completion",
        completions=[
            {"item": "SUB", "quantity": 3, "date": OCT[12]},
            {"item": "FG2", "quantity": 1, "date": OCT[13]},
        ],
    )
    bom = inputs.bom.copy()
    ser = (bom["parent"] == "SUB") & (bom["component"] == "SER")
    bom.loc[ser, "effective_to"] = dt.datetime(2026, 10, 9)
    new = bom[ser].assign(qty_per=2.0, effective_from=dt.datetime(2026, 10, 10), effective_to=None)
    bom = pd.concat([bom, new.assign(source_row=99)], ignore_index=True)
    bom["effective_to"] = pd.to_datetime(bom["effective_to"])
    r = run_month_end(replace(inputs, bom=bom))
    assert lines(r, "Completion", 12) == {"FG": 36.00, "MIP": -48.00, "CCA": -3.00, "USAGE": 15.00}
    assert lines(r, "Completion", 13) == {"FG": 42.00 - 36.00, "MIP": -2.00, "CCA": -4.00}
    assert r.rollup.set_index("item").loc["FG2", "rolled_total"] == pytest.approx(42.00)
