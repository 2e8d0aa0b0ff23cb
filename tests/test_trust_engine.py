"""Issue 10's engine cases, each a small month worked by hand in the test.

Standards used below (period standard = BOM in effect on Period Start, section 7):
- SUB <- R x2 (R 2.00) from Oct 15 only: on Period Start SUB has no BOM lines, so its standard
  is its own conversion 1.00 (material 0.00)
- FG <- SUB x1: FG material 0.00 + conversion 3.00 + 1.00 = 4.00
"""

from __future__ import annotations

import datetime as dt

import pytest
from builders import make_inputs

from addin.costing.engine import run_month_end

OCT = dt.date(2026, 10, 1)


def day(d: int) -> dt.date:
    return dt.date(2026, 10, d)


def net(result, event, role):
    """Net amount of ``role`` in ``event``'s entries, debit positive, in currency units."""
    j = result.journal[(result.journal["event"] == event) & (result.journal["role"] == role)]
    return round((j["debit_cents"].sum() - j["credit_cents"].sum()) / 100, 2)


def on_hand(result, role, item):
    inv = result.inventory
    row = inv[(inv["role"] == role) & (inv["item"] == item)]
    if len(row) == 0:
        return None
    return float(row["ending_qty"].iloc[0]), round(row["ending_cents"].iloc[0] / 100, 2)


def stocked_sub(trigger):
    """SUB's own BOM starts on Oct 15; FG consumes 4 SUB from stock on Oct 5."""
    return make_inputs(
        trigger,
        items=[
            {"item": "R", "item_type": "Raw", "material": 2.0},
            {"item": "SUB", "item_type": "Subassembly", "conversion": 1.0},
            {"item": "FG", "item_type": "Finished", "conversion": 3.0},
        ],
        bom=[
            {"parent": "FG", "component": "SUB", "qty_per": 1},
            {"parent": "SUB", "component": "R", "qty_per": 2, "effective_from": day(15)},
        ],
        opening=[
            {"item": "SUB", "account": "FG", "quantity": 10},
            {"item": "R", "account": "MIP", "quantity": 100},
        ],
        completions=[{"date": day(5), "item": "FG", "quantity": 4}],
    )


@pytest.mark.parametrize("trigger", ["purchase+completion", "completion"])
def test_stocked_subassembly_consumed_before_its_bom_starts_is_relieved_from_fg(trigger):
    r = run_month_end(stocked_sub(trigger))
    # FG debit 4 x 4.00 = 16.00; SUB out of FG 4 x 1.00 = 4.00; FG's own conversion 4 x 3.00
    assert net(r, "Completion", "FG") == 16.00 - 4.00
    assert net(r, "Completion", "CCA") == -12.00
    assert net(r, "Completion", "MIP") == 0 and net(r, "Completion", "USAGE") == 0
    assert on_hand(r, "FG", "SUB") == (6.0, 6 * 1.00)
    assert on_hand(r, "FG", "FG") == (4.0, 4 * 4.00)
    assert on_hand(r, "MIP", "SUB") is None  # never carried in MIP
    assert not [f for f in r.findings if f.check == "BOM change"]
    assert all(c.passed for c in r.checks if c.checked), r.checks


def test_stocked_subassembly_under_purchase_and_sale_stays_in_mip_at_material():
    inputs = stocked_sub("purchase+sale")
    r = run_month_end(inputs)
    # V2 carries made items in MIP at material: SUB's is 0.00 on Period Start (no BOM lines
    # yet), so FG in at 4 x 0.00, SUB out at 4 x 0.00
    assert on_hand(r, "MIP", "SUB") == (6.0, 0.00)
    assert on_hand(r, "MIP", "FG") == (4.0, 0.00)
    assert net(r, "Completion", "MIP") == 0
    assert all(c.passed for c in r.checks if c.checked), r.checks


def test_phantom_with_no_bom_lines_in_effect_is_not_stocked():
    """PH's lines start Oct 15: the Oct 5 completion has nothing to flush through PH."""
    inputs = make_inputs(
        "purchase+completion",
        items=[
            {"item": "R", "item_type": "Raw", "material": 2.0},
            {"item": "PH", "item_type": "Phantom"},
            {"item": "FG", "item_type": "Finished", "conversion": 3.0},
        ],
        bom=[
            {"parent": "FG", "component": "PH", "qty_per": 1},
            {"parent": "PH", "component": "R", "qty_per": 2, "effective_from": day(15)},
        ],
        opening=[{"item": "R", "account": "MIP", "quantity": 100}],
        completions=[
            {"date": day(5), "item": "FG", "quantity": 4},
            {"date": day(20), "item": "FG", "quantity": 1},
        ],
    )
    r = run_month_end(inputs)
    assert on_hand(r, "MIP", "PH") is None
    assert on_hand(r, "MIP", "R") == (98.0, 196.00)  # only the Oct 20 unit flushed R x2
    # period standard 3.00 (on Period Start PH has no lines: no material), nothing restated
    assert on_hand(r, "FG", "FG") == (5.0, 5 * 3.00)
    # Oct 20: FG 3.00 = R 4.00 + CCA 3.00 - usage variance 4.00 U (the new BOM costs more)
    assert net(r, "Completion", "USAGE") == 4.00
    warned = [f for f in r.findings if f.check == "phantom without BOM lines in effect"]
    assert [f.item for f in warned] == ["PH"] and "2026-10-05" in warned[0].message
    bom_change = next(f for f in r.findings if f.check == "BOM change")
    assert "4.00 U" in bom_change.message and "debited" in bom_change.message
    assert all(c.passed for c in r.checks if c.checked), r.checks


@pytest.mark.parametrize("a_material", [0.005, 0.006])
def test_rounding_has_its_own_account_and_never_moves_the_conversion_variance(a_material):
    """FG <- A + B (half a cent each), conversion 1.00; actual conversion 1.00 exactly.

    FG debit ROUND(1.00 + material, 2); A and B each ROUND(material, 2) = 0.01; CCA exactly
    1.00: the cent left over goes to Rounding Differences, so conversion variance is nil
    whatever the material standard is."""
    inputs = make_inputs(
        items=[
            {"item": "A", "item_type": "Raw", "material": a_material},
            {"item": "B", "item_type": "Raw", "material": 0.005},
            {"item": "FG", "item_type": "Finished", "conversion": 1.00},
        ],
        bom=[
            {"parent": "FG", "component": "A", "qty_per": 1},
            {"parent": "FG", "component": "B", "qty_per": 1},
        ],
        opening=[
            {"item": "A", "account": "MIP", "quantity": 5},
            {"item": "B", "account": "MIP", "quantity": 5},
        ],
        completions=[{"date": day(2), "item": "FG", "quantity": 1}],
        conversion=[{"amount": 1.00}],
    )
    r = run_month_end(inputs)
    fg = round(1.00 + a_material + 0.005 + 1e-9, 2)  # 1.01 both times
    assert net(r, "Completion", "FG") == fg
    assert net(r, "Completion", "MIP") == -0.02
    assert net(r, "Completion", "CCA") == -1.00
    assert net(r, "Completion", "ROUNDING") == round(0.02 + 1.00 - fg, 2)  # 0.01 debit
    assert net(r, "Period-end close", "COGS") == 0
    conversion = r.variances[r.variances["type"] == "conversion"]["amount_cents"].sum()
    assert conversion == 0
    tb = r.trial_balance.set_index("role")
    assert tb.loc["ROUNDING", "account"] == "5900"


@pytest.mark.parametrize("trigger", ["purchase+completion", "purchase+sale", "completion", "sale"])
def test_raw_items_sold_directly_are_relieved_per_item_under_every_trigger(trigger):
    """R1 and R2 (0.333 each) sold one unit each on Oct 3: COGS 0.33 + 0.33 = 0.66 under every
    trigger, and the credit is item by item (not one rounded day total of 0.67)."""
    inputs = make_inputs(
        trigger,
        items=[
            {"item": "R1", "item_type": "Raw", "material": 0.333},
            {"item": "R2", "item_type": "Raw", "material": 0.333},
        ],
        opening=[
            {"item": "R1", "account": "MIP", "quantity": 10},
            {"item": "R2", "account": "MIP", "quantity": 10},
        ],
        sales=[
            {"item": "R1", "quantity": 1, "date": day(3)},
            {"item": "R2", "quantity": 1, "date": day(3)},
        ],
    )
    r = run_month_end(inputs)
    assert net(r, "Sale", "COGS") == 0.66
    credit = "MIP" if trigger.startswith("purchase") else "AP"
    assert net(r, "Sale", credit) == -0.66
    assert net(r, "Sale", "ROUNDING") == 0 and net(r, "Sale", "CCA") == 0
    assert "(unitemized)" not in set(r.postings["item"].astype(str))


def test_count_message_states_the_difference_as_a_share_of_book():
    """M is issued by hand: book 154.2, counted 60, difference 94.2 (61.1 % of book); the
    standard use 10 x 8.88 = 88.8 explains all but 5.4 (3.5 % of book, beyond 2 %)."""
    inputs = make_inputs(
        items=[
            {"item": "M", "item_type": "Raw", "material": 1.0, "backflush": False},
            {"item": "FG", "item_type": "Finished", "conversion": 1.0},
        ],
        bom=[{"parent": "FG", "component": "M", "qty_per": 8.88}],
        opening=[{"item": "M", "account": "MIP", "quantity": 154.2}],
        completions=[{"date": day(2), "item": "FG", "quantity": 10}],
        counts=[{"item": "M", "counted_quantity": 60}],
    )
    r = run_month_end(inputs)
    msg = next(f.message for f in r.findings if f.check == "count beyond tolerance")
    assert "difference 94.2, 61.1% of book" in msg
    assert "5.4 (3.5% of book) is unexplained" in msg


def test_findings_point_at_the_columns_where_they_were_read(tmp_path):
    """Columns in the user's own order: Material in column B of Standard Costs, Counted
    Quantity in column C of Counts. The findings name those cells, not the template's."""
    from workbooks import run, tidy

    sheets = tidy()
    sheets["Standard Costs"] = [
        ["Item", "Material", "Description", "Type", "Conversion"],
        ["KB", 0, "Keyboard", "Finished", 12],
        ["DM", 1, "Direct materials", "Raw", 0],
    ]
    sheets["Purchases"] = [
        ["Date", "Item", "Quantity", "Unit Price"],
        [day(2), "DM", 2_000_000, 1.5],
    ]
    sheets["Counts"] = [["Item", "Date", "Counted Quantity"], ["DM", None, 90_000]]
    inputs, findings = run(tmp_path, sheets)
    assert inputs is not None, findings
    r = run_month_end(inputs)
    located = {f.check: f.location for f in r.findings}
    # 1.50 paid against a standard of 1.00: 50 % off, beyond the 10 % price tolerance
    assert located["stale standard"] == "Standard Costs!B3"
    # book 2,000,000 - 1,900,000 flushed = 100,000; counted 90,000: 10 %, beyond 2 %
    assert located["count beyond tolerance"] == "Counts!C2"


def test_completed_before_its_bom_starts_is_flagged_whatever_the_month_size():
    """FG's only BOM line starts Oct 15. One completion on Oct 5 has no BOM in effect; 50,000
    more on Oct 20 do. The control looks at each completion's own date, however many rows."""
    inputs = make_inputs(
        items=[
            {"item": "R", "item_type": "Raw", "material": 1.0},
            {"item": "FG", "item_type": "Finished", "conversion": 1.0},
        ],
        bom=[{"parent": "FG", "component": "R", "qty_per": 1, "effective_from": day(15)}],
        opening=[{"item": "R", "account": "MIP", "quantity": 60_000}],
        completions=[{"date": day(5), "item": "FG", "quantity": 1}]
        + [{"date": day(20), "item": "FG", "quantity": 1}] * 50_000,
    )
    r = run_month_end(inputs)
    flagged = [f for f in r.findings if f.check == "completed without BOM"]
    assert [(f.item, f.location) for f in flagged] == [("FG", "Completions!2:2")]
    assert "2026-10-05" in flagged[0].message
