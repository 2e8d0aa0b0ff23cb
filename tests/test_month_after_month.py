"""Issue 12, the engine's month after month (backflush-domain.md section 7): the opening at the
value given, standard cost revaluation, the standard in force at Period Start, no value without
quantity, and the tie-out to the general ledger. Every figure is worked by hand in the test."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from builders import frame, make_inputs

from addin.cli import _summary
from addin.costing import model as m
from addin.costing.engine import run_month_end

TRIGGERS = ["purchase+completion", "purchase+sale", "completion", "sale"]


def day(d: int) -> dt.date:
    return dt.date(2026, 10, d)


def entries(r, event):
    """{entry: {account role: net cents}} of ``event``'s journal entries."""
    j = r.journal[r.journal["event"] == event]
    out: dict[str, dict[str, int]] = {}
    lines = zip(j["entry"], j["role"], j["debit_cents"], j["credit_cents"], strict=True)
    for e, role, dr, cr in lines:
        out.setdefault(e, {})[str(role)] = int(dr - cr)
    return out


def on_hand(r, role, item):
    """(ending quantity, ending value in cents) of ``item`` in ``role``; None when not carried."""
    inv = r.inventory
    row = inv[(inv["role"] == role) & (inv["item"] == item)]
    if len(row) == 0:
        return None
    return float(row["ending_qty"].iloc[0]), int(row["ending_cents"].iloc[0])


def balance(r, role, column="closing_cents"):
    return int(r.trial_balance.set_index("role").loc[role, column])


def revaluations(r):
    """{item: cents posted to REVALUATION} (credit negative)."""
    p = r.postings[(r.postings["event"] == "Revaluation") & (r.postings["role"] == "REVALUATION")]
    return {str(i): int(c) for i, c in zip(p["item"], p["cents"], strict=True)}


def consistent(r):
    return all(c.passed for c in r.checks if c.kind == "consistency")


# ---- standard cost revaluation ----------------------------------------------------------------
@pytest.mark.parametrize("trigger", ["purchase+completion", "purchase+sale"])
def test_erpnext_example_ten_units_at_100_revalued_to_130(trigger):
    """ERPNext Item Standard Cost: 10 on hand at 100, new standard 130 -> 1,300 (+300)."""
    inputs = make_inputs(
        trigger,
        items=[{"item": "X", "item_type": "Raw", "material": 130.0}],
        opening=[{"item": "X", "account": "MIP", "quantity": 10, "value": 1_000.00}],
    )
    r = run_month_end(inputs)
    assert balance(r, "MIP", "opening_cents") == 100_000  # the value given, not 10 x 130
    (entry,) = entries(r, "Revaluation").values()
    assert entry == {"MIP": 30_000, "REVALUATION": -30_000}  # (130 - 100) x 10
    assert on_hand(r, "MIP", "X") == (10.0, 130_000)
    j = r.journal[r.journal["event"] == "Revaluation"]
    assert set(j["date"]) == {pd.Timestamp(day(1))}  # dated Period Start
    assert j["account"].tolist() == ["1300", "5600"]
    memo = j["memo"].iloc[0]
    assert "X" in memo and "10" in memo and "100.0000" in memo and "130.0000" in memo
    v = r.variances[r.variances["type"] == "revaluation"]
    assert v[["item", "amount_cents", "fu", "account"]].values.tolist() == [
        ["X", -30_000, "F", "5600"]
    ]
    assert v["memo"].iloc[0] == memo
    assert consistent(r)


def test_a_decrease_is_credited_to_inventory():
    """10 on hand at 100, new standard 95.5 -> 955.00 (-45.00: Dr REVALUATION / Cr MIP)."""
    inputs = make_inputs(
        items=[{"item": "X", "item_type": "Raw", "material": 95.5}],
        opening=[{"item": "X", "account": "MIP", "quantity": 10, "value": 1_000.00}],
    )
    r = run_month_end(inputs)
    assert list(entries(r, "Revaluation").values()) == [{"REVALUATION": 4_500, "MIP": -4_500}]
    assert on_hand(r, "MIP", "X") == (10.0, 95_500)


def _multi_level(trigger: str) -> m.MonthEndInputs:
    """SUB <- R x2 (+ conversion 1.00), FG <- SUB x1 (+ conversion 3.00). Last month R was 2.00,
    this month 2.20; the opening is last month's closing at last month's standards."""
    old_r = 2.00
    old_sub_material, old_fg_material = 2 * old_r, 2 * old_r
    old_sub_total, old_fg_total = old_sub_material + 1.00, old_fg_material + 1.00 + 3.00
    made_account = "MIP" if trigger == "purchase+sale" else "FG"
    sub_value = 10 * (old_sub_material if made_account == "MIP" else old_sub_total)
    fg_value = 5 * (old_fg_material if made_account == "MIP" else old_fg_total)
    return make_inputs(
        trigger,
        items=[
            {"item": "R", "item_type": "Raw", "material": 2.20},
            {"item": "SUB", "item_type": "Subassembly", "conversion": 1.00},
            {"item": "FG", "item_type": "Finished", "conversion": 3.00},
        ],
        bom=[
            {"parent": "SUB", "component": "R", "qty_per": 2},
            {"parent": "FG", "component": "SUB", "qty_per": 1},
        ],
        opening=[
            {"item": "R", "account": "MIP", "quantity": 100, "value": 100 * old_r},
            {"item": "SUB", "account": made_account, "quantity": 10, "value": sub_value},
            {"item": "FG", "account": made_account, "quantity": 5, "value": fg_value},
        ],
    )


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_raised_raw_standard_revalues_the_items_carried_at_its_roll_up(trigger):
    """Raising R by 0.20 moves SUB's and FG's rolled-up standard by 2 x 0.20 = 0.40: each item
    carried in stock is revalued by its quantity x its own change."""
    r = run_month_end(_multi_level(trigger))
    change = {"R": 100 * 20, "SUB": 10 * 2 * 20, "FG": 5 * 2 * 20}  # cents: qty x change
    carried = {
        "purchase+completion": ["R", "SUB", "FG"],  # R in MIP; SUB, FG in FG at full standard
        "purchase+sale": ["R", "SUB", "FG"],  # all in MIP at material standard
        "completion": ["SUB", "FG"],  # raw materials are not carried
        "sale": [],  # nothing is carried
    }[trigger]
    assert revaluations(r) == {i: -change[i] for i in carried}
    made_account = "MIP" if trigger == "purchase+sale" else "FG"
    new_unit = {  # cents per unit this period, where carried
        "R": 220,
        "SUB": 2 * 220 + (0 if made_account == "MIP" else 100),
        "FG": 2 * 220 + (0 if made_account == "MIP" else 100 + 300),
    }
    quantity = {"R": 100, "SUB": 10, "FG": 5}
    for item in carried:
        role = "MIP" if item == "R" else made_account
        assert on_hand(r, role, item) == (quantity[item], quantity[item] * new_unit[item])
    total = r.variances.loc[r.variances["type"] == "revaluation", "amount_cents"].sum()
    assert total == -sum(change[i] for i in carried)
    assert consistent(r)


def test_an_opening_at_standard_needs_no_revaluation():
    r = run_month_end(
        make_inputs(
            items=[{"item": "X", "item_type": "Raw", "material": 1.25}],
            opening=[{"item": "X", "account": "MIP", "quantity": 3, "value": 3.75}],
        )
    )
    assert entries(r, "Revaluation") == {} and revaluations(r) == {}
    assert not [f for f in r.findings if f.check == "opening without value"]


def test_opening_without_value_is_valued_at_standard_with_one_note():
    inputs = make_inputs(
        items=[
            {"item": "X", "item_type": "Raw", "material": 1.25},
            {"item": "Y", "item_type": "Raw", "material": 2.00},
        ],
        opening=[
            {"item": "X", "account": "MIP", "quantity": 4},
            {"item": "Y", "account": "MIP", "quantity": 1, "value": 2.00},
            {"item": "X", "account": "MIP", "quantity": 2},
        ],
    )
    r = run_month_end(inputs)
    assert balance(r, "MIP", "opening_cents") == 6 * 125 + 200
    notes = [f for f in r.findings if f.check == "opening without value"]
    assert len(notes) == 1 and notes[0].severity is m.Severity.INFO
    assert "(2, 4)" in notes[0].message and "backflush next" in notes[0].message
    assert notes[0].sheet == "Opening Balances"
    assert revaluations(r) == {}


def test_negative_opening_flows_through_and_fails_the_closing_control():
    """-5 at 2.00 (value -10.00), standard 2.20: opens at -10.00, revalued by -5 x 0.20."""
    inputs = make_inputs(
        items=[{"item": "R", "item_type": "Raw", "material": 2.20}],
        opening=[{"item": "R", "account": "MIP", "quantity": -5, "value": -10.00}],
    )
    r = run_month_end(inputs)
    assert balance(r, "MIP", "opening_cents") == -1_000
    assert revaluations(r) == {"R": 100}  # Dr REVALUATION 1.00 / Cr MIP 1.00
    assert on_hand(r, "MIP", "R") == (-5.0, -1_100)
    negative = next(c for c in r.checks if c.name == "No stock below zero at period end")
    assert not negative.passed and "-11.00" in negative.detail


def test_value_without_quantity_at_opening_is_written_off():
    r = run_month_end(
        make_inputs(
            items=[{"item": "X", "item_type": "Raw", "material": 1.00}],
            opening=[{"item": "X", "account": "MIP", "quantity": 0, "value": 0.07}],
        )
    )
    assert revaluations(r) == {"X": 7}
    assert on_hand(r, "MIP", "X") == (0.0, 0)


# ---- the standard in force at Period Start ---------------------------------------------------
def test_section_7_a_new_bom_version_does_not_restate_the_standard():
    """FG <- A x1 (A 10.00) to Oct 19, FG <- B x1 (B 8.00) from Oct 20; 5 FG open at 50.00;
    10 made Oct 10 and 10 made Oct 25 (completion trigger): FG stays at 10 each, so FG ends at
    50 + 20 x 10 = 250.00, and the Oct 25 completion shows 10 x (8 - 10) = 20.00 F."""
    inputs = make_inputs(
        "completion",
        items=[
            {"item": "A", "item_type": "Raw", "material": 10.00},
            {"item": "B", "item_type": "Raw", "material": 8.00},
            {"item": "FG", "item_type": "Finished"},
        ],
        bom=[
            {"parent": "FG", "component": "A", "qty_per": 1, "effective_to": day(19)},
            {"parent": "FG", "component": "B", "qty_per": 1, "effective_from": day(20)},
        ],
        opening=[{"item": "FG", "account": "FG", "quantity": 5, "value": 50.00}],
        completions=[
            {"date": day(10), "item": "FG", "quantity": 10},
            {"date": day(25), "item": "FG", "quantity": 10},
        ],
    )
    r = run_month_end(inputs)
    assert on_hand(r, "FG", "FG") == (25.0, 25_000)
    assert balance(r, "FG", "opening_cents") == 5_000
    oct10, oct25 = entries(r, "Completion").values()
    assert oct10 == {"FG": 10_000, "AP": -10_000}
    assert oct25 == {"FG": 10_000, "AP": -8_000, "USAGE": -2_000}
    assert entries(r, "Revaluation") == {}  # nothing restated
    usage = r.variances[r.variances["type"] == "usage"]
    assert usage[["item", "amount_cents", "fu"]].values.tolist() == [["FG", -2_000, "F"]]
    finding = next(f for f in r.findings if f.check == "BOM change")
    assert "20.00 F" in finding.message and "Period Start" in finding.message


# ---- no value without quantity ----------------------------------------------------------------
def _fractions(n_days: int) -> m.MonthEndInputs:
    """1 R bought at 1.00, FG <- R x1 completed 1/n a day on n days, the 1 FG sold."""
    return make_inputs(
        items=[
            {"item": "R", "item_type": "Raw", "material": 1.00},
            {"item": "FG", "item_type": "Finished"},
        ],
        bom=[{"parent": "FG", "component": "R", "qty_per": 1}],
        purchases=[{"date": day(1), "item": "R", "quantity": 1, "unit_price": 1.00}],
        completions=[
            {"date": day(1 + k), "item": "FG", "quantity": 1 / n_days} for k in range(n_days)
        ],
        sales=[{"date": day(31), "item": "FG", "quantity": 1}],
    )


@pytest.mark.parametrize("n_days", [3, 30])
def test_value_left_on_no_quantity_is_swept_to_rounding(n_days):
    """Each day flushes ROUND(1.00 / n, 2): 0.33 x 3 = 0.99, 0.03 x 30 = 0.90. R keeps
    1.00 - that at quantity 0; FG received that and was relieved of 1.00 on the sale."""
    left = 100 - n_days * round(100 / n_days)  # cents: 1 (n = 3), 10 (n = 30)
    r = run_month_end(_fractions(n_days))
    # per item: R's left cents out of MIP to ROUNDING, FG's shortfall from ROUNDING into FG;
    # the one sweep entry of Period End nets ROUNDING to zero
    sweep = entries(r, "Rounding sweep")
    assert list(sweep.values()) == [{"FG": left, "MIP": -left}]
    j = r.journal[r.journal["event"] == "Rounding sweep"]
    assert set(j["date"]) == {pd.Timestamp(day(31))} and set(j["account"]) == {"1300", "1400"}
    assert on_hand(r, "MIP", "R") == (pytest.approx(0.0), 0)
    assert on_hand(r, "FG", "FG") == (pytest.approx(0.0), 0)
    assert balance(r, "ROUNDING") == 0  # +left on R, -left on FG
    assert consistent(r)


def test_residue_on_stock_left_is_swept_so_it_closes_at_quantity_x_standard():
    """No sale: FG keeps quantity 1 at 3 x 0.33 = 0.99 while its standard is 1.00, and R keeps
    0.01 at quantity 0. The sweep moves R's cent to ROUNDING and one cent from ROUNDING into FG,
    so FG closes at 1.00 = 1 x 1.00 and next month's opening at this value needs no revaluation."""
    inputs = _fractions(3)
    r = run_month_end(dataclasses.replace(inputs, sales=inputs.sales.iloc[0:0]))
    assert on_hand(r, "FG", "FG") == (pytest.approx(1.0), 100)
    assert on_hand(r, "MIP", "R") == (pytest.approx(0.0), 0)
    assert list(entries(r, "Rounding sweep").values()) == [{"FG": 1, "MIP": -1}]
    assert balance(r, "ROUNDING") == 0
    assert consistent(r)


def test_no_sweep_when_stock_is_left():
    r = run_month_end(
        make_inputs(
            items=[{"item": "R", "item_type": "Raw", "material": 1.00}],
            purchases=[{"item": "R", "quantity": 1 / 3, "unit_price": 1.00}],
        )
    )
    assert entries(r, "Rounding sweep") == {}
    assert on_hand(r, "MIP", "R") == (pytest.approx(1 / 3), 33)


# ---- checks: what they compare --------------------------------------------------------------
def _with_gl(inputs: m.MonthEndInputs, rows: list[dict]) -> m.MonthEndInputs:
    gl = frame(m.GL_BALANCE_COLUMNS, rows, {"closing_balance": np.nan})
    return dataclasses.replace(inputs, gl_balances=gl)


def _erpnext() -> m.MonthEndInputs:
    return make_inputs(
        items=[{"item": "X", "item_type": "Raw", "material": 130.0}],
        opening=[{"item": "X", "account": "MIP", "quantity": 10, "value": 1_000.00}],
    )


def test_roll_forward_checks_say_what_they_compare():
    r = run_month_end(_erpnext())
    names = {c.name: c.kind for c in r.checks}
    assert names["Item roll-forward equals the journal (MIP)"] == "consistency"
    assert names["Item roll-forward equals the journal (FG)"] == "consistency"
    assert not any("ties to the ledger" in n for n in names)


def test_without_gl_balances_the_tie_out_is_not_checked_never_pass():
    r = run_month_end(_erpnext())
    (tie,) = [c for c in r.checks if c.kind == "tie-out"]
    assert tie.status == "NOT CHECKED" and not tie.checked
    assert "no GL Balances" in tie.detail
    text = _summary(r, Path("out.xlsx"), 0.1)
    assert "Tie-outs: not checked (no GL Balances sheet)" in text
    assert "FAILED" not in text


def test_gl_opening_and_closing_tie_out_per_account():
    """GL 1300 opens at 1,000.00 (= the run's); before the month-end it closes at 1,000.00, and
    this month-end adds the 300.00 revaluation: 1,300.00 = the run's closing."""
    r = run_month_end(
        _with_gl(
            _erpnext(),
            [{"account": "1300", "opening_balance": 1_000.00, "closing_balance": 1_000.00}],
        )
    )
    ties = {c.name: c for c in r.checks if c.kind == "tie-out"}
    assert ties["Opening ties to the GL (1300)"].status == "PASS"
    assert ties["Closing ties to the GL (1300)"].status == "PASS"
    assert ties["Opening ties to the GL (1400)"].status == "NOT CHECKED"  # no row for FG
    assert "Tie-outs passed: 2 of 2; 1 not checked" in _summary(r, Path("o.xlsx"), 0.1)


def test_gl_difference_is_a_failed_check_with_its_amount():
    """GL says 1,012.34 at Period Start and 990.00 before the month-end: the run's opening
    1,000.00 is 12.34 short; its closing 1,300.00 is 10.00 above 990.00 + 300.00."""
    r = run_month_end(
        _with_gl(
            _erpnext(), [{"account": 1300, "opening_balance": 1_012.34, "closing_balance": 990.00}]
        )
    )
    ties = {c.name: c for c in r.checks if c.kind == "tie-out"}
    opening, closing = ties["Opening ties to the GL (1300)"], ties["Closing ties to the GL (1300)"]
    assert opening.status == "FAIL" and "difference -12.34" in opening.detail
    assert closing.status == "FAIL" and "difference 10.00" in closing.detail
    warned = [f for f in r.findings if f.check == "GL tie-out difference"]
    assert len(warned) == 2 and all(f.sheet == "GL Balances" for f in warned)
    text = _summary(r, Path("o.xlsx"), 0.1)
    assert "FAILED: Opening ties to the GL (1300)" in text
