"""Drill-down from a journal line (backflush-domain.md section 9): every journal entry's id is on
the Backflush detail, the Variances and the Inventory rows behind it, and the detail of a line
foots to it to the cent; scrap is flushed apart; a component issued by hand says what its
credit to the usage variance account is."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from builders import make_inputs
from hypothesis import given
from hypothesis import strategies as st
from test_properties import DAYS, FAST, TRIGGERS, explode, orders_of, plants, stocked_items

from addin.costing.detail import backflush_detail
from addin.costing.engine import run_month_end

OCT5 = dt.date(2026, 10, 5)


def hand_month(trigger: str = "purchase+completion"):
    """R1 (material 0.125, flushed) and GLUE (0.50, Backflush = No) make FG (conversion 1.00):
    FG <- R1 x1 + GLUE x2. On Oct 5: WO-1 completes 1 FG and scraps 1, WO-2 completes 1 FG."""
    return make_inputs(
        trigger,
        items=[
            {"item": "R1", "item_type": "Raw", "material": 0.125},
            {"item": "GLUE", "item_type": "Raw", "material": 0.5, "backflush": False},
            {"item": "FG", "item_type": "Finished", "conversion": 1.0},
        ],
        bom=[
            {"parent": "FG", "component": "R1", "qty_per": 1},
            {"parent": "FG", "component": "GLUE", "qty_per": 2},
        ],
        purchases=[
            {"item": "R1", "quantity": 10, "unit_price": 0.125, "date": OCT5},
            {"item": "GLUE", "quantity": 10, "unit_price": 0.5, "date": OCT5},
        ],
        completions=[
            {"item": "FG", "quantity": 1, "scrap_quantity": 1, "reference": "WO-1", "date": OCT5},
            {"item": "FG", "quantity": 1, "scrap_quantity": 0, "reference": "WO-2", "date": OCT5},
        ],
    )


def lines_of(d, event, account):
    """(line, parent or component, reference, debit, credit) of the detail's lines of one
    event's entry on one account, in cents."""
    rows = d[(d["event"] == event) & (d["account"] == account)]
    return sorted(
        (line, comp or parent, ref, int(dr), int(cr))
        for line, comp, parent, ref, dr, cr in zip(
            rows["line"],
            rows["component"],
            rows["parent"],
            rows["reference"],
            rows["debit_cents"],
            rows["credit_cents"],
            strict=True,
        )
    )


def test_completion_detail_rounds_per_row_and_says_where_the_cent_goes():
    """The completion entry of Oct 5 (2 good FG): MIP is credited with R1 2 x 0.125 = 0.25 (one
    line per day and component). Per row, each WO's 1 x 0.125 = 0.125 rounds half up to 0.13:
    0.26, so a per-row rounding line gives 0.01 back (debit) and the three foot to 0.25."""
    inputs = hand_month()
    r = run_month_end(inputs)
    d = backflush_detail(r)
    mip = inputs.account("MIP").code
    assert lines_of(d, "Completion", mip) == [
        ("component", "R1", "WO-1", 0, 13),
        ("component", "R1", "WO-2", 0, 13),
        ("per-row rounding", "", "", 1, 0),
    ]
    j = r.journal
    (entry,) = set(d.loc[d["event"] == "Completion", "entry"])
    line = j[(j["entry"] == entry) & (j["account"] == mip)]
    assert line["credit_cents"].sum() - line["debit_cents"].sum() == 25


def test_scrap_is_flushed_apart_and_ties_to_the_scrap_entry():
    """WO-1's 1 scrapped FG: scrap Dr 0.125 + 1.00 + 1.00 = 2.125 -> 2.13 (half up); MIP Cr R1
    0.13; usage Cr GLUE 2 x 0.50 = 1.00 (Backflush = No); CCA Cr 1.00. 2.13 = 0.13 + 1.00 +
    1.00. The completion entry's R1 lines are for the 2 good units only (WO-1 1, WO-2 1)."""
    inputs = hand_month()
    r = run_month_end(inputs)
    d = backflush_detail(r)
    code = {role: inputs.account(role).code for role in ("MIP", "USAGE", "CCA", "SCRAP")}
    assert lines_of(d, "Scrap", code["SCRAP"]) == [("output", "FG", "", 213, 0)]
    assert lines_of(d, "Scrap", code["MIP"]) == [("component", "R1", "WO-1", 0, 13)]
    assert lines_of(d, "Scrap", code["USAGE"]) == [("manual issue", "GLUE", "WO-1", 0, 100)]
    assert lines_of(d, "Scrap", code["CCA"]) == [("conversion allocated", "FG", "", 0, 100)]
    good = d[(d["event"] == "Completion") & (d["component"] == "R1")]
    assert good["quantity"].tolist() == [1.0, 1.0]
    (scrap_entry,) = set(d.loc[d["event"] == "Scrap", "entry"])
    j = r.journal[r.journal["entry"] == scrap_entry]
    assert set(j["event"]) == {"Scrap"}
    assert j.set_index("account")["debit_cents"].to_dict()[code["SCRAP"]] == 213


def test_manual_issue_memo_says_what_the_usage_credit_is():
    """GLUE (Backflush = No) on the completion entry: 2 good FG x 2 x 0.50 = 2.00 credited to the
    usage variance account, one line per row (1.00 each), each saying why."""
    inputs = hand_month()
    d = backflush_detail(run_month_end(inputs))
    usage = inputs.account("USAGE").code
    rows = d[(d["event"] == "Completion") & (d["line"] == "manual issue")]
    assert rows["credit_cents"].tolist() == [100, 100]
    assert set(rows["account"]) == {usage}
    for memo in rows["memo"]:
        assert "Backflush = No" in memo and "issued by hand" in memo
        assert f"usage variance account {usage}" in memo and "count of GLUE" in memo


def test_variances_and_inventory_carry_the_entries_behind_them():
    """The GLUE usage credits are posted in the completion and scrap entries of Oct 5; R1 in
    MIP moved in the purchase, completion and scrap entries, and in the rounding sweep: 10 x
    0.125 = 1.25 in, 0.25 + 0.13 out leaves 0.87 on 7 units, which are 7 x 0.125 = 0.875 ->
    0.88 at standard (0.01 swept in)."""
    inputs = hand_month()
    r = run_month_end(inputs)
    from addin.costing.reports import inventory_entries

    j = r.journal
    events = ("Purchase", "Completion", "Scrap", "Rounding sweep")
    entry = {e: str(j.loc[j["event"] == e, "entry"].iloc[0]) for e in events}
    v = r.variances
    glue = v[(v["item"] == "GLUE") & (v["type"] == "usage")]
    assert glue["entries"].tolist() == [f"{entry['Completion']}, {entry['Scrap']}"]
    listed = dict(zip(r.inventory["item"], inventory_entries(r.inventory, r.postings), strict=True))
    assert listed["R1"] == ", ".join(entry[e] for e in events)


def expected_components(plant, trigger):
    """(event, component) -> units, by an independent recursive explosion: good units at
    completion (per-order lines once per order) or the sales (sale-only trigger), and the
    scrap units apart."""
    stocked = stocked_items(plant["items"], trigger)
    out = defaultdict(lambda: defaultdict(float))
    if trigger == "sale":
        for s in plant["sales"]:
            explode(plant, s["item"], s["quantity"], out["Sale"], None, stocked)
    else:
        for c in plant["completions"]:
            explode(plant, c["item"], c["quantity"], out["Completion"], 0, stocked)
        for item, n in orders_of(plant).items():
            explode(plant, item, 0.0, out["Completion"], n, stocked)
    orders = None if trigger == "sale" else 0
    for c in plant["completions"]:
        explode(plant, c["item"], c["scrap_quantity"], out["Scrap"], orders, stocked)
    return out


@FAST
@given(plant=plants(), trigger=st.sampled_from(TRIGGERS))
def test_detail_foots_to_the_journal_line_by_line(plant, trigger):
    """On random months: per entry and account, the detail's debits less credits are the
    journal line; every entry of the flush is in the detail; the per-row rounding of an entry
    and account is at most a cent per component line (each row and each day rounds by half a
    cent at most); the components are an independent explosion, scrap apart. Lines of an
    entry that nets to nothing on every account (no journal lines) carry no entry id."""
    sales = [
        {"item": c["item"], "quantity": c["quantity"], "date": DAYS[-1]}
        for c in plant["completions"]
    ]
    plant = {**plant, "sales": sales}
    r = run_month_end(make_inputs(trigger, **plant))
    d = backflush_detail(r)
    j = r.journal
    flush_events = {"Sale", "Scrap"} if trigger == "sale" else {"Completion", "Scrap"}
    in_journal = set(j.loc[j["event"].astype(str).isin(flush_events), "entry"])
    # an entry whose lines net to nothing on every account has no journal lines
    unposted = d[d["entry"] == ""]
    net = unposted["debit_cents"] - unposted["credit_cents"]
    assert (
        net.groupby([unposted["date"], unposted["event"], unposted["account"]]).sum() == 0
    ).all()
    assert set(d["entry"]) - {""} == in_journal
    journal_net = (j["debit_cents"] - j["credit_cents"]).groupby([j["entry"], j["account"]]).sum()
    detail_net = (d["debit_cents"] - d["credit_cents"]).groupby([d["entry"], d["account"]]).sum()
    journal_net = journal_net[journal_net.index.get_level_values(0).isin(in_journal)]
    assert detail_net[detail_net != 0].to_dict() == journal_net[journal_net != 0].to_dict()
    parts = d[d["component"] != ""]
    n_parts = parts.groupby(["entry", "account"]).size()
    rounding = d[d["line"] == "per-row rounding"]
    for (entry, account), cents in zip(
        zip(rounding["entry"], rounding["account"], strict=True),
        rounding["debit_cents"] - rounding["credit_cents"],
        strict=True,
    ):
        assert abs(cents) <= n_parts.get((entry, account), 0)
    expected = expected_components(plant, trigger)
    got = parts.groupby(["event", "component"])["quantity"].sum()
    for (event, comp), q in got.items():
        assert q == pytest.approx(expected[event][comp], rel=1e-9, abs=1e-9)
    for event, comps in expected.items():
        for comp, q in comps.items():
            assert abs(q) < 1e-9 or (event, comp) in got.index
