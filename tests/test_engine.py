"""The engine against the spec's worked example and small cases worked by hand.

Every expected figure is computed in the test from the case's own numbers (or copied from the
spec's table), never read back from the engine.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from builders import horngren, make_inputs

from addin.costing.engine import InputError, run_month_end
from addin.costing.model import Severity
from addin.costing.money import allocate_cents, to_cents


def lines(result, event):
    """{role: signed amount} for one event's entry (debit +, credit -), in currency units."""
    j = result.journal[result.journal["event"] == event]
    out = {}
    for r in j.itertuples():
        out[r.role] = out.get(r.role, 0) + (r.debit_cents - r.credit_cents) / 100
    return out


def balance(result, role):
    tb = result.trial_balance.set_index("role")
    return tb.loc[role, "closing_cents"] / 100


# ---- the worked example (backflush-domain.md section 5) ---------------------------------


def test_horngren_v1_purchase_and_completion():
    r = run_month_end(horngren("purchase+completion"))
    assert lines(r, "Purchase") == {"MIP": 1_950_000, "AP": -1_950_000}
    assert lines(r, "Conversion incurred") == {"CCC": 1_260_000, "CONV_OFFSET": -1_260_000}
    assert lines(r, "Completion") == {"FG": 3_100_000, "MIP": -1_900_000, "CCA": -1_200_000}
    assert lines(r, "Sale") == {"COGS": 3_069_000, "FG": -3_069_000}
    assert lines(r, "Period-end close") == {"CCA": 1_200_000, "COGS": 60_000, "CCC": -1_260_000}
    assert balance(r, "MIP") == 50_000
    assert balance(r, "FG") == 31_000
    assert all(c.passed for c in r.checks if c.checked)


def test_horngren_v2_purchase_and_sale():
    r = run_month_end(horngren("purchase+sale"))
    assert lines(r, "Purchase") == {"MIP": 1_950_000, "AP": -1_950_000}
    assert "Completion" not in set(r.journal["event"])
    assert lines(r, "Sale") == {"COGS": 3_069_000, "MIP": -1_881_000, "CCA": -1_188_000}
    assert lines(r, "Period-end close") == {"CCA": 1_188_000, "COGS": 72_000, "CCC": -1_260_000}
    # MIP 69,000 = 50,000 DM on hand + 19,000 DM in 1,000 finished units
    assert balance(r, "MIP") == 69_000
    inv = r.inventory.set_index("item")
    assert inv.loc["DM", "ending_cents"] / 100 == 50_000
    assert inv.loc["KB", "ending_cents"] / 100 == 19_000
    assert all(c.passed for c in r.checks if c.checked)


def test_horngren_v3_completion_only():
    r = run_month_end(horngren("completion"))
    assert "Purchase" not in set(r.journal["event"])
    assert lines(r, "Completion") == {"FG": 3_100_000, "AP": -1_900_000, "CCA": -1_200_000}
    assert lines(r, "Sale") == {"COGS": 3_069_000, "FG": -3_069_000}
    assert lines(r, "Period-end close") == {"CCA": 1_200_000, "COGS": 60_000, "CCC": -1_260_000}
    assert balance(r, "FG") == 31_000
    assert balance(r, "MIP") == 0  # DM on hand unrecorded
    assert any(f.check == "purchases not posted" for f in r.findings)


def test_v4_sale_only_follows_the_same_rules():
    r = run_month_end(horngren("sale"))
    sold = 99_000
    assert lines(r, "Sale") == {"COGS": sold * 31, "AP": -sold * 19, "CCA": -sold * 12}
    assert lines(r, "Period-end close") == {
        "CCA": sold * 12,
        "COGS": 1_260_000 - sold * 12,
        "CCC": -1_260_000,
    }
    assert balance(r, "MIP") == 0 and balance(r, "FG") == 0


def test_all_four_variants_agree_on_cogs_when_everything_is_sold():
    totals = []
    for trigger in ("purchase+completion", "purchase+sale", "completion", "sale"):
        inputs = make_inputs(
            trigger,
            items=[
                {"item": "DM", "item_type": "Raw", "material": 1.0},
                {"item": "KB", "item_type": "Finished", "conversion": 12.0},
            ],
            bom=[{"parent": "KB", "component": "DM", "qty_per": 19}],
            purchases=[{"item": "DM", "quantity": 1_900, "unit_price": 1.0}],
            completions=[{"item": "KB", "quantity": 100}],
            sales=[{"item": "KB", "quantity": 100}],
            conversion=[{"amount": 1_300}],
        )
        totals.append(balance(run_month_end(inputs), "COGS"))
    assert totals == [100 * 31 + (1_300 - 1_200)] * 4


# ---- multi-level BOM, phantom, scrap -------------------------------------------------------

PLANT = dict(
    items=[
        {"item": "R1", "item_type": "Raw", "material": 2.00},
        {"item": "R2", "item_type": "Raw", "material": 0.50},
        # SA's completions are not reported in these months, so it is declared a phantom: its
        # components are flushed through it (stocked subassemblies: test_subassemblies.py)
        {"item": "SA", "item_type": "Phantom", "conversion": 1.50},
        {"item": "PH", "item_type": "Phantom"},
        {"item": "FG", "item_type": "Finished", "labor": 3.00, "overhead": 1.00},
    ],
    bom=[
        {"parent": "FG", "component": "SA", "qty_per": 2},
        {"parent": "FG", "component": "PH", "qty_per": 1},
        {"parent": "SA", "component": "R1", "qty_per": 3, "scrap_pct": 0.10},
        {"parent": "PH", "component": "R2", "qty_per": 4},
    ],
)
# By hand: FG material = 2 x (3 x 1.1 x 2.00) + 1 x (4 x 0.50) = 13.20 + 2.00 = 15.20
#          FG conversion = 3.00 + 1.00 + 2 x 1.50 = 7.00; total 22.20
FG_MATERIAL, FG_CONVERSION = 2 * 3 * 1.1 * 2.00 + 4 * 0.50, 4.00 + 2 * 1.50


def test_rollup_multi_level_with_phantom_and_component_scrap():
    r = run_month_end(make_inputs(**PLANT))
    roll = r.rollup.set_index("item")
    assert roll.loc["FG", "rolled_material"] == pytest.approx(FG_MATERIAL)
    assert roll.loc["FG", "rolled_conversion"] == pytest.approx(FG_CONVERSION)
    assert roll.loc["FG", "rolled_labor"] == pytest.approx(3.00)  # SA has no labour split
    assert roll.loc["SA", "rolled_material"] == pytest.approx(3 * 1.1 * 2.00)
    # low-level codes as ERPs number them: FG is the top (0); SA and PH are used by FG (1);
    # R1 and R2 are used by SA and PH (2)
    assert (
        roll.loc["FG", "level"] == 0
        and roll.loc["PH", "level"] == 1
        and roll.loc["SA", "level"] == 1
        and roll.loc["R1", "level"] == 2
        and roll.loc["R2", "level"] == 2
    )
    assert list(r.rollup["level"]) == sorted(r.rollup["level"])  # the top first


def test_completion_with_parent_scrap_flushes_through_all_levels():
    inputs = make_inputs(
        **PLANT,
        purchases=[
            {"item": "R1", "quantity": 100, "unit_price": 2.00},
            {"item": "R2", "quantity": 50, "unit_price": 0.50},
        ],
        completions=[{"item": "FG", "quantity": 10, "scrap_quantity": 1}],
    )
    r = run_month_end(inputs)
    assert lines(r, "Completion") == pytest.approx(
        {
            "FG": 10 * (FG_MATERIAL + FG_CONVERSION),
            "MIP": -10 * FG_MATERIAL,
            "CCA": -10 * FG_CONVERSION,
        }
    )
    assert lines(r, "Scrap") == pytest.approx(
        {
            "SCRAP": 1 * (FG_MATERIAL + FG_CONVERSION),
            "MIP": -1 * FG_MATERIAL,
            "CCA": -1 * FG_CONVERSION,
        }
    )
    bf = r.backflush.groupby("component")["quantity"].sum()
    assert bf["R1"] == pytest.approx(11 * 2 * 3 * 1.1)  # good + scrap units, component scrap
    assert bf["R2"] == pytest.approx(11 * 1 * 4)  # phantom blown through
    assert "PH" not in bf and "SA" not in bf
    inv = r.inventory.set_index("item")
    assert inv.loc["R1", "book_qty"] == pytest.approx(100 - 72.6)
    assert inv.loc["R2", "book_qty"] == pytest.approx(50 - 44)
    assert all(c.passed for c in r.checks if c.checked)


def test_component_marked_backflush_no_is_not_flushed_but_credited_to_usage():
    items = [dict(i) for i in PLANT["items"]]
    items[1]["backflush"] = False  # R2 issued by hand
    inputs = make_inputs(
        items=items, bom=PLANT["bom"], completions=[{"item": "FG", "quantity": 10}]
    )
    r = run_month_end(inputs)
    entry = lines(r, "Completion")
    assert entry["MIP"] == pytest.approx(-10 * 2 * 3 * 1.1 * 2.00)
    assert entry["USAGE"] == pytest.approx(-10 * 4 * 0.50)
    assert any(f.check == "not backflushed" and f.item == "R2" for f in r.findings)
    assert "R2" not in set(r.inventory["item"])  # its book quantity was not touched


# ---- variances -------------------------------------------------------------------------------


def test_purchase_price_variance_unfavourable_and_favourable():
    inputs = make_inputs(
        items=[
            {"item": "R1", "item_type": "Raw", "material": 2.00},
            {"item": "R2", "item_type": "Raw", "material": 0.50},
        ],
        purchases=[
            {"item": "R1", "quantity": 100, "unit_price": 2.10},
            {"item": "R2", "quantity": 40, "unit_price": 0.375},
        ],
    )
    r = run_month_end(inputs)
    assert lines(r, "Purchase") == pytest.approx(
        {
            "MIP": 100 * 2.00 + 40 * 0.50,
            "PPV": 100 * 0.10 - 40 * 0.125,
            "AP": -(100 * 2.10 + 40 * 0.375),
        }
    )
    v = r.variances.set_index("item")
    assert v.loc["R1", "amount_cents"] == 1000 and v.loc["R1", "fu"] == "U"
    assert v.loc["R2", "amount_cents"] == -500 and v.loc["R2", "fu"] == "F"
    # 0.125 off standard on R2 is 25 %: beyond the 10 % price tolerance
    assert {f.item for f in r.findings if f.check == "stale standard"} == {"R2"}


def test_count_adjusts_book_to_count_and_flags_beyond_tolerance():
    inputs = make_inputs(
        **PLANT,
        purchases=[
            {"item": "R1", "quantity": 100, "unit_price": 2.00},
            {"item": "R2", "quantity": 50, "unit_price": 0.5},
        ],
        completions=[{"item": "FG", "quantity": 10, "scrap_quantity": 1}],
        counts=[{"item": "R1", "counted_quantity": 25}, {"item": "R2", "counted_quantity": 6.05}],
    )
    r = run_month_end(inputs)
    # book R1 = 100 - 11 x 6.6 = 27.4, counted 25: 2.4 x 2.00 = 4.80 short (U)
    # book R2 = 50 - 44 = 6, counted 6.05: 0.05 x 0.50 = 0.025 over, rounds half-up to 0.03 (F)
    assert lines(r, "Count adjustment") == pytest.approx(
        {"USAGE": 4.80 - 0.03, "MIP": -(4.80 - 0.03)}
    )
    inv = r.inventory.set_index("item")
    assert inv.loc["R1", "ending_qty"] == pytest.approx(25)
    assert inv.loc["R1", "ending_cents"] == 25 * 200
    flagged = {f.item for f in r.findings if f.check == "count beyond tolerance"}
    assert flagged == {"R1"}  # 2.4 of 27.4 is 8.8 %; R2's 0.05 of 6 is 0.8 %, under 2 %
    v = r.variances[r.variances["type"] == "usage"].set_index("item")
    assert v.loc["R1", "fu"] == "U" and v.loc["R2", "fu"] == "F"


def test_prorated_conversion_variance_over_cogs_and_ending_fg():
    inputs = horngren("purchase+completion")
    from dataclasses import replace

    inputs = replace(inputs, settings=replace(inputs.settings, conversion_variance="Prorate"))
    r = run_month_end(inputs)
    # 60,000 under-allocated, in proportion to conversion in COGS (99,000 x 12) and FG (1,000 x 12)
    assert lines(r, "Period-end close") == {
        "CCA": 1_200_000,
        "COGS": 60_000 * 99 / 100,
        "FG": 60_000 * 1 / 100,
        "CCC": -1_260_000,
    }
    assert balance(r, "FG") == 31_000 + 600
    assert all(c.passed for c in r.checks if c.checked)


def test_bom_change_during_the_period_is_a_usage_variance():
    inputs = make_inputs(
        items=[
            {"item": "DM", "item_type": "Raw", "material": 1.0},
            {"item": "KB", "item_type": "Finished", "conversion": 12.0},
        ],
        bom=[
            {
                "parent": "KB",
                "component": "DM",
                "qty_per": 19,
                "effective_to": dt.date(2026, 10, 15),
            },
            {
                "parent": "KB",
                "component": "DM",
                "qty_per": 20,
                "effective_from": dt.date(2026, 10, 16),
            },
        ],
        completions=[
            {"item": "KB", "quantity": 100, "date": dt.date(2026, 10, 10)},
            {"item": "KB", "quantity": 10, "date": dt.date(2026, 10, 20)},
        ],
    )
    r = run_month_end(inputs)
    # the period standard is the one in force at Period Start (section 7): DM x19
    assert r.rollup.set_index("item").loc["KB", "rolled_material"] == 19
    entry = lines(r, "Completion")
    assert entry["FG"] == 110 * 31  # 19 + 12, nothing restated
    assert entry["MIP"] == -(100 * 19 + 10 * 20)
    assert entry["USAGE"] == 10 * 1  # the late units used the new, dearer BOM: 10.00 U
    assert entry["CCA"] == -110 * 12


# ---- money and controls -----------------------------------------------------------------------


def test_rounding_is_half_up_like_excel_not_bankers():
    assert list(to_cents([0.125, 2.675, -2.345, 0.005, 1.004999])) == [13, 268, -235, 1, 100]
    assert allocate_cents(100, [1, 1, 1]).tolist() == [34, 33, 33]
    assert allocate_cents(-7, [0.5, 0.5]).sum() == -7


def test_entries_balance_to_the_cent_with_awkward_prices():
    inputs = make_inputs(
        items=[
            {"item": "A", "item_type": "Raw", "material": 0.3333},
            {"item": "B", "item_type": "Raw", "material": 0.0125},
            {"item": "P", "item_type": "Finished", "conversion": 0.0707},
        ],
        bom=[
            {"parent": "P", "component": "A", "qty_per": 1.37},
            {"parent": "P", "component": "B", "qty_per": 7.1, "scrap_pct": 0.033},
        ],
        completions=[
            {"item": "P", "quantity": q, "date": dt.date(2026, 10, d)}
            for q, d in [(3, 1), (7.5, 2), (11, 2)]
        ],
        sales=[{"item": "P", "quantity": 4.25}],
        conversion=[{"amount": 1.01}],
    )
    r = run_month_end(inputs)
    per_entry = r.journal.groupby("entry")[["debit_cents", "credit_cents"]].sum()
    assert (per_entry["debit_cents"] == per_entry["credit_cents"]).all()
    assert all(c.passed for c in r.checks if c.kind == "consistency")
    # nothing was bought, so A and B close below zero: a failed control, never a clean month
    negative = next(c for c in r.checks if c.name == "No stock below zero at period end")
    assert not negative.passed and negative.kind == "control"
    assert {f.item for f in r.findings if f.check == "negative closing stock"} == {"A", "B"}


def test_negative_on_hand_is_flagged_with_its_date():
    inputs = make_inputs(
        items=[
            {"item": "DM", "item_type": "Raw", "material": 1.0},
            {"item": "KB", "item_type": "Finished", "conversion": 1.0},
        ],
        bom=[{"parent": "KB", "component": "DM", "qty_per": 2}],
        purchases=[{"item": "DM", "quantity": 10, "unit_price": 1.0, "date": dt.date(2026, 10, 1)}],
        completions=[{"item": "KB", "quantity": 8, "date": dt.date(2026, 10, 5)}],
    )
    r = run_month_end(inputs)
    neg = [f for f in r.findings if f.check == "below zero on hand"]
    assert len(neg) == 1 and neg[0].item == "DM" and "2026-10-05" in neg[0].message
    assert neg[0].severity is Severity.WARNING


def test_float_noise_at_plant_scale_is_not_below_zero():
    """Three lots of 100,000,000.1 bought, 300,000,000.3 used: in binary floating point the
    purchases add up to 300,000,000.29999995, 6e-8 short. That is noise, not a shortage."""
    lot = 100_000_000.1
    assert lot + lot + lot - 300_000_000.3 < -1e-9  # the noise the old absolute test tripped on
    inputs = make_inputs(
        items=[
            {"item": "DM", "item_type": "Raw", "material": 1.0},
            {"item": "KB", "item_type": "Finished", "conversion": 1.0},
        ],
        bom=[{"parent": "KB", "component": "DM", "qty_per": 1}],
        purchases=[
            {"item": "DM", "quantity": lot, "unit_price": 1.0, "date": dt.date(2026, 10, d)}
            for d in (1, 2, 3)
        ],
        completions=[{"item": "KB", "quantity": 300_000_000.3, "date": dt.date(2026, 10, 5)}],
    )
    r = run_month_end(inputs)
    assert [f for f in r.findings if f.check == "below zero on hand"] == []
    short = make_inputs(
        items=[
            {"item": "DM", "item_type": "Raw", "material": 1.0},
            {"item": "KB", "item_type": "Finished", "conversion": 1.0},
        ],
        bom=[{"parent": "KB", "component": "DM", "qty_per": 1}],
        purchases=[
            {"item": "DM", "quantity": lot, "unit_price": 1.0, "date": dt.date(2026, 10, 1)}
        ],
        completions=[{"item": "KB", "quantity": lot + 0.5, "date": dt.date(2026, 10, 5)}],
    )
    neg = [f for f in run_month_end(short).findings if f.check == "below zero on hand"]
    assert len(neg) == 1 and "(-0.5)" in neg[0].message  # half a unit short is a real shortage


def test_completed_item_without_bom_is_an_exception():
    inputs = make_inputs(
        items=[{"item": "KB", "item_type": "Finished", "material": 5.0, "conversion": 1.0}],
        completions=[{"item": "KB", "quantity": 3}],
    )
    r = run_month_end(inputs)
    assert [f.item for f in r.findings if f.check == "completed without BOM"] == ["KB"]
    assert lines(r, "Completion") == {"FG": 18.0, "MIP": -15.0, "CCA": -3.0}
    assert all(c.passed for c in r.checks if c.checked)  # the unitemized material still ties


def test_bom_cycle_names_the_items_in_the_loop():
    inputs = make_inputs(
        items=[{"item": x, "item_type": "Subassembly"} for x in ("A", "B", "C")],
        bom=[
            {"parent": "A", "component": "B", "qty_per": 1},
            {"parent": "B", "component": "C", "qty_per": 1},
            {"parent": "C", "component": "A", "qty_per": 1},
        ],
    )
    with pytest.raises(InputError) as e:
        run_month_end(inputs)
    msg = str(e.value)
    assert "A -> B -> C -> A" in msg or "B -> C -> A -> B" in msg or "C -> A -> B -> C" in msg


def test_opening_balances_roll_forward():
    inputs = make_inputs(
        items=[
            {"item": "DM", "item_type": "Raw", "material": 1.0},
            {"item": "KB", "item_type": "Finished", "conversion": 12.0},
        ],
        bom=[{"parent": "KB", "component": "DM", "qty_per": 19}],
        opening=[
            {"item": "DM", "account": "MIP", "quantity": 500},
            {"item": "KB", "account": "FG", "quantity": 10},
        ],
        sales=[{"item": "KB", "quantity": 4}],
    )
    r = run_month_end(inputs)
    tb = r.trial_balance.set_index("role")
    assert tb.loc["FG", "opening_cents"] == 10 * 31 * 100
    assert tb.loc["FG", "closing_cents"] == 6 * 31 * 100
    assert tb.loc["MIP", "closing_cents"] == 500 * 100
    assert np.isclose(r.inventory.set_index("item").loc["KB", "ending_qty"], 6)


def test_opening_balance_in_the_wrong_account_is_carried_where_the_trigger_keeps_it():
    inputs = make_inputs(
        "purchase+sale",
        items=[
            {"item": "DM", "item_type": "Raw", "material": 1.0},
            {"item": "KB", "item_type": "Finished", "conversion": 12.0},
        ],
        bom=[{"parent": "KB", "component": "DM", "qty_per": 19}],
        opening=[{"item": "KB", "account": "FG", "quantity": 10}],
    )
    r = run_month_end(inputs)
    tb = r.trial_balance.set_index("role")
    assert tb.loc["MIP", "opening_cents"] == 10 * 19 * 100  # V2 carries finished units in MIP at DM
    assert tb.loc["FG", "opening_cents"] == 0
    assert [f.item for f in r.findings if f.check == "opening balance account"] == ["KB"]
