"""Issue 12, a dated standard change during the period (backflush-domain.md section 7:
"Changing a standard during the period is an explicit, dated act, and revalues on-hand stock
on that date"). Standard Costs rows with an Effective From after Period Start are changes; every
figure below is worked by hand in the test."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from builders import frame, make_inputs
from test_month_after_month import consistent, on_hand
from workbooks import errors, run, tidy

from addin import app
from addin.costing import model as m
from addin.costing.engine import run_month_end

TRIGGERS = ["purchase+completion", "purchase+sale", "completion", "sale"]
CHANGE = "Standard change"


def day(d: int) -> dt.date:
    return dt.date(2026, 10, d)


def changed(inputs: m.MonthEndInputs, rows: list[dict[str, object]]) -> m.MonthEndInputs:
    """``inputs`` with dated standard changes (Standard Costs rows with an Effective From)."""
    ch = frame(
        m.STANDARD_COST_COLUMNS,
        rows,
        {"description": "", "uom": "EA", "labor": np.nan, "overhead": np.nan, "backflush": True},
    )
    ch["source_row"] = [10 + i for i in range(len(ch))]
    return dataclasses.replace(inputs, standard_changes=ch)


def entries(r, event):
    """{item or "": {account role: net cents}} of ``event``'s journal entries (one per item)."""
    j = r.journal[r.journal["event"] == event]
    p = r.postings[r.postings["event"] == event]
    items = {e: str(i) for e, i in zip(j["entry"], j["memo"], strict=True)}
    out: dict[str, dict[str, int]] = {}
    for e, role, dr, cr in zip(j["entry"], j["role"], j["debit_cents"], j["credit_cents"],
                               strict=True):  # fmt: skip
        out.setdefault(e, {})[str(role)] = int(dr - cr)
    by_item = {}
    for e, lines in out.items():
        item = next(str(i) for i in p["item"].unique() if f" {i} " in items[e])
        by_item[item] = lines
    return by_item


def lines(r, event, date):
    """{account role: net cents} of ``event`` on ``date``."""
    j = r.journal[(r.journal["event"] == event) & (r.journal["date"] == pd.Timestamp(date))]
    out: dict[str, int] = {}
    for role, dr, cr in zip(j["role"], j["debit_cents"], j["credit_cents"], strict=True):
        out[str(role)] = out.get(str(role), 0) + int(dr - cr)
    return out


def _month(trigger: str) -> m.MonthEndInputs:
    """FG <- R x2 (+ conversion 3.00). R 2.00 until Oct 14, 2.50 from Oct 15.

    Oct 1 opening R 100 at 200.00 | Oct 5 buy 50 R at 2.10 | Oct 10 make 20 FG
    Oct 15 R's standard 2.00 -> 2.50 | Oct 20 buy 10 R at 2.60 | Oct 25 make 10 FG
    Oct 28 sell 25 FG."""
    inputs = make_inputs(
        trigger,
        items=[
            {"item": "R", "item_type": "Raw", "material": 2.00},
            {"item": "FG", "item_type": "Finished", "conversion": 3.00},
        ],
        bom=[{"parent": "FG", "component": "R", "qty_per": 2}],
        opening=[{"item": "R", "account": "MIP", "quantity": 100, "value": 200.00}],
        purchases=[
            {"date": day(5), "item": "R", "quantity": 50, "unit_price": 2.10},
            {"date": day(20), "item": "R", "quantity": 10, "unit_price": 2.60},
        ],
        completions=[
            {"date": day(10), "item": "FG", "quantity": 20},
            {"date": day(25), "item": "FG", "quantity": 10},
        ],
        sales=[{"date": day(28), "item": "FG", "quantity": 25}],
    )
    return changed(
        inputs, [{"item": "R", "item_type": "Raw", "material": 2.50, "effective_from": day(15)}]
    )


# On Oct 15, before that day's postings: R 100 + 50 - 2 x 20 = 110 on hand; FG 20 made, none sold.
# R moves by 0.50; FG's rolled-up standard moves by 2 x 0.50 = 1.00 (material and total alike).
REVALUED = {  # cents per item, where the trigger carries it
    "purchase+completion": {"R": 110 * 50, "FG": 20 * 100},  # R in MIP, FG in FG at 7.00 -> 8.00
    "purchase+sale": {"R": 110 * 50, "FG": 20 * 100},  # both in MIP at material 4.00 -> 5.00
    "completion": {"FG": 20 * 100},  # raw materials are not carried
    "sale": {},  # nothing is carried
}


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_stock_on_hand_is_revalued_on_the_change_date(trigger):
    r = run_month_end(_month(trigger))
    made = "MIP" if trigger == "purchase+sale" else "FG"
    role = {"R": "MIP", "FG": made}
    got = entries(r, CHANGE)
    assert got == {i: {role[i]: c, "REVALUATION": -c} for i, c in REVALUED[trigger].items()}
    j = r.journal[r.journal["event"] == CHANGE]
    assert set(j["date"]) <= {pd.Timestamp(day(15))}
    assert consistent(r)


@pytest.mark.parametrize("trigger", ["purchase+completion", "purchase+sale"])
def test_after_the_change_the_new_standard_is_in_force(trigger):
    r = run_month_end(_month(trigger))
    # Oct 5 purchase at the old standard: 50 x 2.00 = 100.00, PPV 50 x 0.10 = 5.00
    assert lines(r, "Purchase", day(5)) == {"MIP": 10_000, "PPV": 500, "AP": -10_500}
    # Oct 20 purchase at the new: 10 x 2.50 = 25.00, PPV 10 x 0.10 = 1.00
    assert lines(r, "Purchase", day(20)) == {"MIP": 2_500, "PPV": 100, "AP": -2_600}
    # closing R: 110 + 10 - 2 x 10 = 100 at 2.50
    assert on_hand(r, "MIP", "R") == (100.0, 25_000)


def test_completions_and_sales_use_the_standard_of_their_day():
    """Purchase and completion trigger: FG 7.00 to Oct 14, 8.00 from Oct 15."""
    r = run_month_end(_month("purchase+completion"))
    done = lines(r, "Completion", day(10))
    assert done["FG"] == 20 * 700 and done["MIP"] == -40 * 200  # R at 2.00
    done = lines(r, "Completion", day(25))
    assert done["FG"] == 10 * 800 and done["MIP"] == -20 * 250  # R at 2.50
    assert "USAGE" not in done  # the flushed and the standard in force agree: no BOM change
    sold = lines(r, "Sale", day(28))
    assert sold["COGS"] == 25 * 800 and sold["FG"] == -25 * 800
    # FG: 20 x 7.00 + 20 x 1.00 (revalued) + 10 x 8.00 - 25 x 8.00 = 40.00 = 5 x 8.00
    assert on_hand(r, "FG", "FG") == (5.0, 4_000)


def test_the_memo_says_what_changed_and_the_variances_tab_shows_it():
    r = run_month_end(_month("purchase+completion"))
    j = r.journal[r.journal["event"] == CHANGE]
    memos = set(j["memo"])
    r_memo = next(t for t in memos if " R " in t)
    fg_memo = next(t for t in memos if " FG " in t)
    assert "2026-10-15" in r_memo and "110" in r_memo and "2.0000" in r_memo and "2.5000" in r_memo
    assert "its standard changed" in r_memo
    assert "rolled up" in fg_memo and "7.0000" in fg_memo and "8.0000" in fg_memo
    v = r.variances[r.variances["type"] == "revaluation"]
    assert sorted(zip(v["item"], v["amount_cents"], v["fu"], strict=True)) == [
        ("FG", -2_000, "F"),
        ("R", -5_500, "F"),
    ]
    assert set(v["memo"]) == memos
    note = [f for f in r.findings if f.check == "standard change"]
    assert len(note) == 1 and "2026-10-15" in note[0].message and "75.00" in note[0].message


def test_a_count_before_the_change_is_on_hand_at_the_change():
    """Counted 105 R on Oct 12 against a book of 110: 5 x 2.00 = 10.00 usage (at the old
    standard); on Oct 15, 105 on hand are revalued: 105 x 0.50 = 52.50."""
    inputs = _month("purchase+completion")
    counts = frame(m.COUNT_COLUMNS, [{"item": "R", "counted_quantity": 105, "date": day(12)}], {})
    r = run_month_end(dataclasses.replace(inputs, counts=counts))
    assert lines(r, "Count adjustment", day(12)) == {"USAGE": 1_000, "MIP": -1_000}
    assert entries(r, CHANGE)["R"] == {"MIP": 5_250, "REVALUATION": -5_250}
    # closing R: 105 + 10 - 20 = 95 at 2.50
    assert on_hand(r, "MIP", "R") == (95.0, 23_750)
    assert consistent(r)


def test_without_dated_rows_nothing_changes():
    """The same month with no change: no Standard change entry; R closes 100 at 2.00."""
    inputs = dataclasses.replace(
        _month("purchase+completion"),
        standard_changes=m.empty_frame(m.STANDARD_COST_COLUMNS),
    )
    r = run_month_end(inputs)
    assert not (r.journal["event"] == CHANGE).any()
    assert on_hand(r, "MIP", "R") == (100.0, 20_000)


# ---- the sheet ---------------------------------------------------------------------------------
def _dated_sheets() -> dict:
    """Horngren's keyboards with DM's standard history on Standard Costs (column F)."""
    sheets = tidy()
    sheets["Standard Costs"] = [
        ["Item", "Description", "Type", "Material", "Conversion", "Effective From"],
        ["KB", "Keyboard", "Finished", 0, 12, None],
        ["DM", "Direct materials", "Raw", 0.90, 0, None],  # superseded by row 4
        ["DM", "Direct materials", "Raw", 1.00, 0, dt.date(2026, 9, 1)],  # in force Oct 1
        ["DM", "Direct materials", "Raw", 1.10, 0, dt.date(2026, 10, 15)],  # a dated change
        ["DM", "Direct materials", "Raw", 1.20, 0, dt.date(2026, 11, 5)],  # next month's
    ]
    return sheets


def test_the_sheet_gives_the_standard_in_force_and_the_changes(tmp_path: Path):
    inputs, findings = run(tmp_path, _dated_sheets())
    assert inputs is not None, errors(findings)
    sc = inputs.standard_costs.set_index("item")
    assert sc.loc["DM", "material"] == 1.00 and sc.loc["KB", "conversion"] == 12
    ch = inputs.standard_changes
    assert list(zip(ch["item"], ch["material"], ch["source_row"], strict=True)) == [
        ("DM", 1.10, 5),
        ("DM", 1.20, 6),
    ]
    notes = {f.check: f for f in findings}
    assert notes["superseded standard"].location == "Standard Costs!F3"
    assert notes["standard after the period"].location == "Standard Costs!F6"
    assert "(6)" in notes["standard after the period"].message


def test_horngren_with_a_mid_month_change(tmp_path: Path):
    """1,950,000 DM bought Oct 2 at 1.00 (standard 1.00); on Oct 15 DM goes to 1.10: DM on hand
    1,950,000 x 0.10 = 195,000.00 revalued. Oct 30: 100,000 KB at 19 x 1.10 + 12 = 32.90."""
    inputs, findings = run(tmp_path, _dated_sheets())
    assert inputs is not None
    r = run_month_end(inputs)
    assert entries(r, CHANGE) == {"DM": {"MIP": 19_500_000, "REVALUATION": -19_500_000}}
    done = lines(r, "Completion", day(30))
    assert done["FG"] == 100_000 * 3_290 and done["MIP"] == -1_900_000 * 110
    assert consistent(r)


def test_two_rows_of_one_item_on_one_date_are_refused(tmp_path: Path):
    sheets = _dated_sheets()
    sheets["Standard Costs"].append(
        ["DM", "Direct materials", "Raw", 1.15, 0, dt.date(2026, 10, 15)]
    )
    inputs, findings = run(tmp_path, sheets)
    assert inputs is None
    assert any(e.startswith("Standard Costs!F7: ") and "2026-10-15" in e for e in errors(findings))


def test_a_change_cannot_change_the_type(tmp_path: Path):
    sheets = _dated_sheets()
    sheets["Standard Costs"][4][2] = "Finished"
    inputs, findings = run(tmp_path, sheets)
    assert inputs is None
    assert any(e.startswith("Standard Costs!C5: ") and "same Type" in e for e in errors(findings))


def test_next_month_starts_from_the_standard_in_force_at_its_start(tmp_path: Path):
    """November's Standard Costs: DM at 1.10 (October's change applied, no date) and the
    Nov 5 change kept as a dated row; the opening at 1.10 needs no revaluation."""
    inputs, _ = run(tmp_path, _dated_sheets())
    assert inputs is not None
    nov = app.standards_carried(inputs, dt.date(2026, 11, 1))
    current = nov[nov["effective_from"].isna()].set_index("item")
    assert current.loc["DM", "material"] == pytest.approx(1.10)
    dated = nov[nov["effective_from"].notna()]
    assert list(zip(dated["item"], dated["material"], strict=True)) == [("DM", 1.20)]
    assert pd.Timestamp(dated["effective_from"].iloc[0]) == pd.Timestamp(2026, 11, 5)


def test_the_stdcost_function_takes_the_row_in_force_on_its_date():
    """=BF_STDCOST over a range with dated rows: R 2.00, then 2.50 from 2026-10-15; FG <- R x2
    (+ 3.00) is 7.00 on Oct 14 and 8.00 on Oct 15; the same item twice on one date is refused."""
    from addin.workbook import ranges

    costs = [
        ["Item", "Material", "Conversion", "Effective From"],
        ["R", 2.00, 0, None],
        ["R", 2.50, 0, dt.date(2026, 10, 15)],
        ["FG", 0, 3.00, None],
    ]
    bom = [["Parent", "Component", "Qty Per"], ["FG", "R", 2]]
    assert ranges.standard_cost(costs, bom, "FG", on=day(14)) == pytest.approx(7.00)
    assert ranges.standard_cost(costs, bom, "FG", on=day(15)) == pytest.approx(8.00)
    assert ranges.standard_cost(costs, bom, "R", "Material", on=day(20)) == pytest.approx(2.50)
    twice = [*costs, ["R", 2.60, 0, dt.date(2026, 10, 15)]]
    with pytest.raises(ranges.LookupProblem, match="appears twice"):
        ranges.standard_cost(twice, bom, "FG", on=day(20))
