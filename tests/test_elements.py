"""Variances that explain (backflush-domain.md section 9): conversion by element, labour rate and
efficiency, overhead spending and efficiency (Horngren's flexible budget), materiality, and the
Variances and Cost Rollup tabs' hygiene. Every figure is worked by hand in the test."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from addin.costing import model as m
from addin.costing.engine import run_month_end
from addin.costing.results import MonthEndResult
from addin.workbook.tabs import exceptions_tab, result_tabs
from tests.builders import make_inputs
from tests.workbooks import run, tidy

TRIGGERS = [t.value for t in m.Trigger]
ON_SALE = ("purchase+sale", "sale")  # conversion applied when sold (V2, V4)


def keyboard(trigger: str, conversion: list[dict[str, Any]], **more: Any) -> m.MonthEndInputs:
    """Horngren's keyboard (section 5) with its 12.00 conversion kept as labour 4.00 (0.25 h
    at 16.00/h) and overhead 8.00 (0.25 labour hours at 32.00/h): 100,000 made, 99,000 sold."""
    items = more.pop("items", None) or [
        {"item": "DM", "item_type": "Raw", "material": 1.00},
        {"item": "KB", "item_type": "Finished", "labor": 4.00, "overhead": 8.00},
    ]
    return make_inputs(
        trigger,
        items=items,
        bom=[{"parent": "KB", "component": "DM", "qty_per": 19}],
        purchases=[{"item": "DM", "quantity": 1_950_000, "unit_price": 1.00}],
        completions=[{"item": "KB", "quantity": 100_000}],
        sales=[{"item": "KB", "quantity": 99_000}],
        conversion=conversion,
        **more,
    )


def conversion_rows(r: MonthEndResult) -> dict[str, int]:
    v = r.variances[r.variances["type"] == "conversion"]
    return dict(zip(v["description"], v["amount_cents"].astype(int) // 100, strict=True))


def close_lines(r: MonthEndResult) -> dict[str, int]:
    """Account -> debit - credit (currency units) of the period-end close."""
    j = r.journal[r.journal["event"] == "Period-end close"]
    net = (j["debit_cents"] - j["credit_cents"]).groupby(j["account"]).sum()
    return {str(k): int(v) // 100 for k, v in net.items()}


# ---- conversion by element ------------------------------------------------------------------
SPLIT_ACTUALS = [
    {"element": "Labor", "amount": 470_000},
    {"element": "Overhead", "amount": 790_000},
]


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_each_element_has_its_own_variance_and_they_add_up_to_the_one_line(trigger: str) -> None:
    # Allocated: 100,000 completed (V1, V3) or 99,000 sold (V2, V4) x 4.00 labour / 8.00 overhead
    #   V1, V3: labour 400,000, overhead 800,000; V2, V4: labour 396,000, overhead 792,000
    # Actual: labour 470,000, overhead 790,000 (1,260,000 in all, as in the spec)
    #   V1, V3: labour 70,000 U, overhead 10,000 F; sum 60,000 U (the spec's under-allocation)
    #   V2, V4: labour 74,000 U, overhead 2,000 F; sum 72,000 U (the spec's V2 figure)
    r = run_month_end(keyboard(trigger, SPLIT_ACTUALS))
    labour, overhead = (74_000, -2_000) if trigger in ON_SALE else (70_000, -10_000)
    assert conversion_rows(r) == {"Labor": labour, "Overhead": overhead}
    assert close_lines(r)["5000"] == labour + overhead  # COGS: today's account, same entry
    v = r.variances.set_index("description")
    allocated = 396_000 if trigger in ON_SALE else 400_000
    assert v.loc["Labor", "standard"] == allocated  # the standard: labour allocated
    assert v.loc["Overhead", "standard"] == 2 * allocated
    assert v.loc["Labor", "fu"] == "U" and v.loc["Overhead", "fu"] == "F"


def test_each_element_has_its_own_tolerance_check() -> None:
    # V1: labour 70,000 U on 400,000 allocated = 17.5 % > 5 %: a warning with its amount;
    # overhead 10,000 F on 800,000 = 1.25 %: none. The one line (60,000 on 1,200,000 = 5.0 %,
    # not beyond 5 %) raised nothing before: the labour overrun hid behind the overhead saving.
    r = run_month_end(keyboard("purchase+completion", SPLIT_ACTUALS))
    beyond = [f for f in r.findings if "beyond tolerance" in f.check]
    assert [(f.check, f.amount) for f in beyond] == [("labor variance beyond tolerance", 70_000)]
    assert "17.5% of allocated" in beyond[0].message


def test_element_accounts_are_optional_and_default_to_cogs() -> None:
    # LABOR_VARIANCE named 5110: the labour variance 70,000 U is debited there; overhead has no
    # account of its own, so its 10,000 F stays with COGS (5000).
    accounts = {"LABOR_VARIANCE": m.Account("LABOR_VARIANCE", "5110", "Labour Variance")}
    inputs = keyboard("purchase+completion", SPLIT_ACTUALS)
    named = run_month_end(
        m.MonthEndInputs(**{**inputs.__dict__, "accounts": accounts})  # type: ignore[arg-type]
    )
    assert close_lines(named) == {
        "5000": -10_000,
        "5100": -1_260_000,
        "5110": 70_000,
        "5200": 1_200_000,
    }
    v = named.variances.set_index("description")
    assert (v.loc["Labor", "account"], v.loc["Overhead", "account"]) == ("5110", "5000")
    assert "LABOR_VARIANCE" in set(named.trial_balance["role"])
    plain = run_month_end(inputs)  # not named: the trial balance lists the roles it always did
    assert not {"LABOR_VARIANCE", "OVERHEAD_VARIANCE"} & set(plain.trial_balance["role"])


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_a_stocked_subassembly_allocates_its_own_elements(trigger: str) -> None:
    # SA: labour 3.00, overhead 0.50; FG (uses 1 SA): labour 2.00, overhead 1.00.
    # 10 SA and 10 FG made, 10 FG sold. Whatever the trigger, 10 SA and 10 FG are converted:
    #   labour allocated 10 x 3.00 + 10 x 2.00 = 50.00; overhead 10 x 0.50 + 10 x 1.00 = 15.00
    # (V4 flushes SA through FG at the sale; V2 applies FG's rolled conversion at the sale.)
    # Actual labour 60.00, overhead 10.00: labour 10.00 U, overhead 5.00 F.
    inputs = make_inputs(
        trigger,
        items=[
            {"item": "RM", "item_type": "Raw", "material": 1.00},
            {"item": "SA", "item_type": "Subassembly", "labor": 3.00, "overhead": 0.50},
            {"item": "FG", "item_type": "Finished", "labor": 2.00, "overhead": 1.00},
        ],
        bom=[
            {"parent": "SA", "component": "RM", "qty_per": 2},
            {"parent": "FG", "component": "SA", "qty_per": 1},
        ],
        purchases=[{"item": "RM", "quantity": 20, "unit_price": 1.00}],
        completions=[
            {"item": "SA", "quantity": 10, "date": dt.date(2026, 10, 5)},
            {"item": "FG", "quantity": 10, "date": dt.date(2026, 10, 6)},
        ],
        sales=[{"item": "FG", "quantity": 10, "date": dt.date(2026, 10, 7)}],
        conversion=[{"element": "Labor", "amount": 60.00}, {"element": "Overhead", "amount": 10}],
    )
    r = run_month_end(inputs)
    v = r.variances[r.variances["type"] == "conversion"].set_index("description")
    assert v["standard"].to_dict() == {"Labor": 50.00, "Overhead": 15.00}
    assert v["amount_cents"].to_dict() == {"Labor": 1_000, "Overhead": -500}


def test_standards_or_actuals_in_one_line_keep_the_one_line_and_say_why() -> None:
    # Actuals as one Conversion row: the variance stays one line (60,000 U) with an info
    # finding pointing at the row.
    one = run_month_end(keyboard("purchase+completion", [{"amount": 1_260_000}]))
    assert conversion_rows(one) == {"": 60_000}
    info = [f for f in one.findings if f.check == "conversion in one line"]
    assert len(info) == 1 and info[0].location == "Conversion Costs!2:2"
    # Standards as one Conversion: same, pointing at Standard Costs.
    items = [
        {"item": "DM", "item_type": "Raw", "material": 1.00},
        {"item": "KB", "item_type": "Finished", "conversion": 12.00},
    ]
    std = run_month_end(keyboard("purchase+completion", SPLIT_ACTUALS, items=items))
    assert conversion_rows(std) == {"": 60_000}
    assert [f.sheet for f in std.findings if f.check == "conversion in one line"] == [
        "Standard Costs"
    ]
    # Neither split (the spec's own example): today's row and no finding.
    plain = run_month_end(keyboard("purchase+completion", [{"amount": 1_260_000}], items=items))
    assert conversion_rows(plain) == {"": 60_000}
    assert not [f for f in plain.findings if f.check == "conversion in one line"]


# ---- rate and efficiency (Horngren's flexible budget) ----------------------------------------
HOURS_ACTUALS = [
    {"element": "Labor", "amount": 190_000, "hours": 12_000},
    {"element": "Labor", "amount": 215_600, "hours": 14_000},
    {"element": "Overhead", "amount": 854_400},
]
HOURS_ITEMS = [
    {"item": "DM", "item_type": "Raw", "material": 1.00},
    {"item": "KB", "item_type": "Finished", "labor": 4.00, "overhead": 8.00, "labor_hours": 0.25},
]


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_labour_rate_and_efficiency_overhead_spending_and_efficiency(trigger: str) -> None:
    # AH = 12,000 + 14,000 = 26,000 h; actual labour 405,600 (15.60/h); actual overhead 854,400.
    # SH = output x 0.25 h: 100,000 -> 25,000 h (V1, V3); 99,000 sold -> 24,750 h (V2, V4).
    # SR = 4.00 / 0.25 = 16.00/h; SOR = 8.00 / 0.25 = 32.00/h.
    # labour rate       = 405,600 - 26,000 x 16 = 405,600 - 416,000 = -10,400 (F)
    # labour efficiency = (26,000 - SH) x 16: V1 1,000 x 16 = 16,000 U; V2 1,250 x 16 = 20,000 U
    # overhead spending = 854,400 - 26,000 x 32 = 854,400 - 832,000 = 22,400 U
    # overhead efficiency = (26,000 - SH) x 32: V1 32,000 U; V2 40,000 U
    # Check: V1 labour 405,600 - 400,000 = 5,600 = -10,400 + 16,000; overhead 854,400 -
    # 800,000 = 54,400 = 22,400 + 32,000; in all 60,000 U (V2: 9,600 + 62,400 = 72,000 U).
    r = run_month_end(keyboard(trigger, HOURS_ACTUALS, items=HOURS_ITEMS))
    extra = 1_250 if trigger in ON_SALE else 1_000
    assert conversion_rows(r) == {
        "Labor rate": -10_400,
        "Labor efficiency": extra * 16,
        "Overhead spending": 22_400,
        "Overhead efficiency": extra * 32,
    }
    total = 72_000 if trigger in ON_SALE else 60_000
    assert sum(conversion_rows(r).values()) == total == close_lines(r)["5000"]
    v = r.variances.set_index("description")
    assert v.loc["Labor rate", "standard"] == 416_000  # the flexible budget AH x SR
    assert "26,000.00 h" in v.loc["Labor efficiency", "memo"]


def test_hours_on_one_side_only_are_named_not_used() -> None:
    # Hours on Conversion Costs but no Labor Hours on Standard Costs: no split, an info.
    r = run_month_end(keyboard("purchase+completion", HOURS_ACTUALS))
    assert conversion_rows(r) == {"Labor": 5_600, "Overhead": 54_400}
    assert [f.sheet for f in r.findings if f.check == "hours not used"] == ["Standard Costs"]


def test_hours_on_an_overhead_row_are_named_not_read() -> None:
    # Hours on the Overhead row (the third Conversion Costs row) are not actual labour hours:
    # they are left out of AH (12,000 + 14,000 = 26,000 h, as without them), with an info
    # naming the row; the split is the same as in the rate/efficiency test (labour rate
    # 10,400 F).
    actuals = [*HOURS_ACTUALS[:2], {**HOURS_ACTUALS[2], "hours": 500}]
    r = run_month_end(keyboard("purchase+completion", actuals, items=HOURS_ITEMS))
    found = [f for f in r.findings if f.check == "hours not used"]
    assert [f.sheet for f in found] == ["Conversion Costs"]
    assert "not Labor (rows 4)" in found[0].message
    assert conversion_rows(r)["Labor rate"] == -10_400


# ---- materiality -----------------------------------------------------------------------------
def counted(materiality: float | None) -> MonthEndResult:
    """RM (std 2.50): 100 bought; counted 90 -> 10 short x 2.50 = 25.00; RM2 (std 0.50): 100
    bought, counted 90 -> 10 x 0.50 = 5.00. Both 10 % off book, beyond the 2 % tolerance."""
    return run_month_end(
        make_inputs(
            items=[
                {"item": "RM2", "item_type": "Raw", "material": 0.50},
                {"item": "RM", "item_type": "Raw", "material": 2.50},
            ],
            purchases=[
                {"item": "RM", "quantity": 100, "unit_price": 2.50},
                {"item": "RM2", "quantity": 100, "unit_price": 0.50},
            ],
            counts=[
                {"item": "RM2", "counted_quantity": 90},
                {"item": "RM", "counted_quantity": 90},
            ],
            materiality=materiality,
        )
    )


def test_exceptions_carry_amounts_graded_by_materiality_largest_first() -> None:
    tab = exceptions_tab(counted(20.0), "Co", "")
    rows = tab.data[tab.data["Check"] == "count beyond tolerance"]
    assert rows[["Item", "Amount", "Materiality"]].values.tolist() == [
        ["RM", 25.00, "review"],  # 25.00 >= 20.00
        ["RM2", 5.00, "below materiality"],  # 5.00 < 20.00
    ]
    none = exceptions_tab(counted(None), "Co", "").data  # no Materiality: not graded
    assert set(none["Materiality"]) == {""}


def test_materiality_is_read_from_settings(tmp_path: Path) -> None:
    sheets = tidy()
    sheets["Settings"] = sheets["Settings"] + [["Materiality", "1,500"]]
    inputs, findings = run(tmp_path, sheets)
    assert findings == [] and inputs is not None
    assert inputs.settings.materiality == 1_500.0
    inputs, _ = run(tmp_path, tidy())
    assert inputs is not None and inputs.settings.materiality is None


def test_labor_hours_and_hours_are_read(tmp_path: Path) -> None:
    sheets = tidy()
    sheets["Standard Costs"] = [
        ["Item", "Description", "Type", "Material", "Labor", "Overhead", "Labor Hours"],
        ["KB", "Keyboard", "Finished", 0, 4, 8, 0.25],
        ["DM", "Direct materials", "Raw", 1, 0, 0, None],
    ]
    sheets["Conversion Costs"] = [
        ["Date", "Element", "Amount", "Hours"],
        [dt.date(2026, 10, 31), "Labor", 405_600, 26_000],
        [dt.date(2026, 10, 31), "Overhead", 854_400, None],
    ]
    inputs, findings = run(tmp_path, sheets)
    assert findings == [] and inputs is not None
    assert inputs.standard_costs["labor_hours"].tolist()[0] == 0.25
    assert inputs.conversion_costs["hours"].tolist()[0] == 26_000
    r = run_month_end(inputs)
    assert conversion_rows(r)["Labor rate"] == -10_400  # as worked above (V1)


# ---- Variances tab hygiene ---------------------------------------------------------------------
def test_variances_have_no_zero_rows_and_no_float_noise() -> None:
    # RM bought at standard: no price row. Book 10.1 - 3 x 1.1 = 6.8 (float: 6.799999999999999);
    # counted 6.5: 0.3 short x 2.00 = 0.60 U, quantity written 0.3 (RM is consumed through the
    # BOM: 6 decimals at most), not 0.2999999999999998.
    # FG scrap 1 unit at its standard 1.1 x 2.00 = 2.20: the row shows the standard 2.20.
    r = run_month_end(
        make_inputs(
            items=[
                {"item": "RM", "item_type": "Raw", "material": 2.00},
                {"item": "FG", "item_type": "Finished"},
            ],
            bom=[{"parent": "FG", "component": "RM", "qty_per": 1.1}],
            purchases=[{"item": "RM", "quantity": 10.1, "unit_price": 2.00}],
            completions=[{"item": "FG", "quantity": 2, "scrap_quantity": 1}],
            counts=[{"item": "RM", "counted_quantity": 6.5}],
        )
    )
    v = r.variances
    assert (v["amount_cents"] != 0).all() and "price" not in set(v["type"])
    usage = v[v["type"] == "usage"].iloc[0]
    assert 10.1 - 3 * 1.1 - 6.5 != 0.3  # what float arithmetic leaves without the rounding
    assert float(usage["quantity"]) == 0.3 and usage["amount_cents"] == 60
    scrap = v[v["type"] == "scrap"].iloc[0]
    assert scrap["standard"] == pytest.approx(2.20) and scrap["amount_cents"] == 220
    assert bool(scrap["product"])  # 2.20 = ROUND(1 x 2.20, 2): written as the formula


def test_cost_rollup_numbers_levels_from_the_top() -> None:
    # FG <- SA <- R, and FG <- R directly: R is used at level 1 (by FG) and level 2 (by SA);
    # its low-level code is the deepest, 2, as SAP and Business Central number it.
    r = run_month_end(
        make_inputs(
            items=[
                {"item": "R", "item_type": "Raw", "material": 1.00},
                {"item": "SA", "item_type": "Phantom"},
                {"item": "FG", "item_type": "Finished"},
            ],
            bom=[
                {"parent": "FG", "component": "SA", "qty_per": 1},
                {"parent": "FG", "component": "R", "qty_per": 1},
                {"parent": "SA", "component": "R", "qty_per": 1},
            ],
        )
    )
    assert r.rollup[["item", "level"]].values.tolist() == [["FG", 0], ["SA", 1], ["R", 2]]
    tab = next(t for t in result_tabs(r) if t.name == "Cost Rollup")
    assert "Low-Level Code" in [c.header for c in tab.columns]


def test_demo_conversion_by_element() -> None:
    """The demo's October by element (README, 'Variances that explain'). Under V1 every unit
    completed or scrapped is allocated its own level's labour and overhead (subassemblies are
    stocked and completed on their own; the hardware kit phantom has none):
    labour allocated = sum of (good + scrap) x Labor, from the demo's CSV rows = 32,718.50;
    actual labour = the five payroll rows = 34,520.79: 1,802.29 U (5.5 %, beyond 5 %);
    overhead allocated 21,403.10, actual 21,387.97: 15.13 F; in all 1,787.16 U."""
    from addin.demo import DATA, demo_inputs

    c = pd.read_csv(DATA / "completions.csv")
    sc = pd.read_csv(DATA / "standard_costs.csv").set_index("item")
    units = (c["quantity"] + c["scrap_quantity"].fillna(0)).groupby(c["item"]).sum()
    labour = float((units * sc["labor"].reindex(units.index)).sum())
    overhead = float((units * sc["overhead"].reindex(units.index)).sum())
    assert (round(labour, 2), round(overhead, 2)) == (32_718.50, 21_403.10)
    paid = round(6825.83 + 6878.05 + 6976.58 + 6906.73 + 6933.60, 2)
    spent = round(11850.00 + 4412.37 + 2980.00 + 2145.60, 2)
    r = run_month_end(demo_inputs())
    v = r.variances[r.variances["type"] == "conversion"].set_index("description")
    assert v["standard"].round(2).to_dict() == {"Labor": 32_718.50, "Overhead": 21_403.10}
    assert v["amount_cents"].to_dict() == {
        "Labor": round((paid - labour) * 100),  # 180,229 cents: 1,802.29 U
        "Overhead": round((spent - overhead) * 100),  # -1,513 cents: 15.13 F
    }
    assert v["amount_cents"].sum() == 178_716  # the one line: 1,787.16 U
    assert [f.check for f in r.findings if "beyond tolerance" in f.check and not f.item] == [
        "labor variance beyond tolerance"
    ]


def test_decimals_see_through_float_noise() -> None:
    from addin.costing.precision import decimals, noisy

    # 10.1 - 3.3 - 6.5 leaves 0.2999999999999998: one decimal; 1/3 needs more than 6: capped
    assert decimals([18.399999999999864, 0.125, 1 / 3, 5.0]).tolist() == [1, 3, 6, 0]
    assert noisy(np.array([18.399999999999864, 18.4, np.nan])).tolist() == [True, False, False]
