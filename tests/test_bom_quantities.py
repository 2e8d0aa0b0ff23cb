"""How much a BOM line consumes: base quantity, unit conversion, planned yield, per-order lines.

Each figure is worked out by hand in the comment beside it, or is the peer's published figure
(Odoo's per-dozen BoM, SAP's assembly scrap, ERPNext's process loss, Business Central's fixed
quantity), never the engine's own output.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from builders import make_inputs

from addin.costing.detail import backflush_detail
from addin.costing.engine import run_month_end
from addin.costing.results import InputError
from tests.workbooks import errors, run, tidy

TRIGGERS = ["purchase+completion", "purchase+sale", "completion", "sale"]


def rolled(r, item: str, column: str = "rolled_material") -> float:
    return float(r.rollup.set_index("item").loc[item, column])


def flushed(r, component: str) -> float:
    b = r.backflush
    return float(b.loc[b["component"] == component, "quantity"].sum())


def net(r, role: str, event: str | None = None) -> int:
    """Debits - credits on the journal, cents (of one event when given)."""
    j = r.journal if event is None else r.journal[r.journal["event"] == event]
    rows = j[j["role"] == role]
    return int(rows["debit_cents"].sum() - rows["credit_cents"].sum())


# ---- base quantity, units, yield -------------------------------------------------------------


def test_odoo_per_dozen_bom_is_468_75_per_unit():
    """Odoo's per-dozen BoM: 5,625 of material per 12 units -> 468.75 per unit. Completing 24
    units flushes 2 x 5,625 = 11,250."""
    r = run_month_end(
        make_inputs(
            items=[
                {"item": "RM", "item_type": "Raw", "material": 1.00},
                {"item": "DOZ", "item_type": "Finished"},
            ],
            bom=[{"parent": "DOZ", "component": "RM", "qty_per": 5625, "base_quantity": 12}],
            completions=[{"item": "DOZ", "quantity": 24}],
        )
    )
    assert rolled(r, "DOZ") == pytest.approx(468.75)
    assert flushed(r, "RM") == pytest.approx(11_250)
    assert net(r, "FG", "Completion") == 1_125_000  # 24 x 468.75 = 11,250.00


def test_sap_assembly_and_component_scrap_require_242():
    """SAP: 200 good units, 10 % assembly scrap on the parent (a yield of 1 / 1.1) and 10 %
    component scrap on the line -> 200 x 1.1 x 1.1 = 242 of the component."""
    r = run_month_end(
        make_inputs(
            items=[
                {"item": "C", "item_type": "Raw", "material": 1.00},
                {"item": "A", "item_type": "Finished", "yield_pct": 1 / 1.1},
            ],
            bom=[{"parent": "A", "component": "C", "qty_per": 1, "scrap_pct": 0.10}],
            completions=[{"item": "A", "quantity": 200}],
        )
    )
    assert flushed(r, "C") == pytest.approx(242)
    assert rolled(r, "A") == pytest.approx(1.21)  # 1 x 1.1 x 1.1 per good unit
    assert net(r, "FG", "Completion") == 24_200  # 200 x 1.21 = 242.00


def test_erpnext_process_loss_ten_in_nine_out_and_usage_only_from_counts():
    """ERPNext: a BOM for 10 units of FG takes 10 of RM with 10 % process loss (yield 90 %):
    10 in, 9 out. RM at 9.00 -> standard 10 x 9.00 / 10 / 0.9 = 10.00 per good FG. Completing 9
    flushes 10 RM (90.00) and debits FG 9 x 10.00 = 90.00: no variance from the loss itself.
    A count of RM 1 below book (11 really used) is the only usage variance: 1 x 9.00."""
    r = run_month_end(
        make_inputs(
            items=[
                {"item": "RM", "item_type": "Raw", "material": 9.00},
                {"item": "FG", "item_type": "Finished", "yield_pct": 0.90},
            ],
            bom=[{"parent": "FG", "component": "RM", "qty_per": 10, "base_quantity": 10}],
            purchases=[{"item": "RM", "quantity": 20, "unit_price": 9.00}],
            completions=[{"item": "FG", "quantity": 9}],
            counts=[{"item": "RM", "counted_quantity": 9}],  # 20 - 11
        )
    )
    assert rolled(r, "FG") == pytest.approx(10.00)
    assert flushed(r, "RM") == pytest.approx(10)
    assert net(r, "FG", "Completion") == 9_000 and net(r, "MIP", "Completion") == -9_000
    v = r.variances
    assert v.loc[v["type"] == "usage", "amount_cents"].sum() == 900  # 1 x 9.00, U


def test_unit_conversion_grams_on_the_bom_kilograms_in_stock():
    """The line says 250 g; the component is stocked in kg (factor 0.001 kg per g): 0.25 kg per
    unit at 8.00/kg = 2.00 per unit. 40 completed: 10 kg flushed, 80.00."""
    r = run_month_end(
        make_inputs(
            items=[
                {"item": "FLOUR", "item_type": "Raw", "material": 8.00},
                {"item": "CAKE", "item_type": "Finished"},
            ],
            bom=[
                {
                    "parent": "CAKE",
                    "component": "FLOUR",
                    "qty_per": 250,
                    "unit": "g",
                    "conversion_factor": 0.001,
                }
            ],
            completions=[{"item": "CAKE", "quantity": 40}],
        )
    )
    assert rolled(r, "CAKE") == pytest.approx(2.00)
    assert flushed(r, "FLOUR") == pytest.approx(10)
    assert net(r, "MIP", "Completion") == -8_000


# ---- per-order lines and the lot-size variance ----------------------------------------------


def fixture_plant(trigger: str, completions: list[dict] | None = None, **more):
    """FG takes 1 RM (2.00) per unit and a fixture FIX (4.00) 5 per production order; lot size
    100; conversion 1.00 per unit. Standard: 2.00 + 5 / 100 x 4.00 = 2.20 material, 3.20 total.
    Orders WO-1 of 100 and WO-2 of 50, all sold."""
    return make_inputs(
        trigger,
        items=[
            {"item": "FIX", "item_type": "Raw", "material": 4.00},
            {"item": "RM", "item_type": "Raw", "material": 2.00},
            {"item": "FG", "item_type": "Finished", "conversion": 1.00, "lot_size": 100},
        ],
        bom=[
            {"parent": "FG", "component": "RM", "qty_per": 1},
            {"parent": "FG", "component": "FIX", "qty_per": 5, "per": "Order"},
        ],
        purchases=[
            {"item": "FIX", "quantity": 20, "unit_price": 4.00},
            {"item": "RM", "quantity": 200, "unit_price": 2.00},
        ],
        completions=completions
        or [
            {"item": "FG", "quantity": 100, "reference": "WO-1"},
            {"item": "FG", "quantity": 50, "reference": "WO-2"},
        ],
        sales=[{"item": "FG", "quantity": 150}],
        conversion=[{"amount": 150}],
        **more,
    )


def lot_size(r) -> tuple[int, float]:
    v = r.variances[r.variances["type"] == "lot size"]
    return int(v["amount_cents"].sum()), float(v["quantity"].sum())


def test_per_order_standard_is_quantity_over_lot_size():
    r = run_month_end(fixture_plant("purchase+completion"))
    assert rolled(r, "FG") == pytest.approx(2.20)  # 2.00 + 5 / 100 x 4.00
    assert rolled(r, "FG", "rolled_total") == pytest.approx(3.20)


@pytest.mark.parametrize("trigger", ["purchase+completion", "completion"])
def test_orders_of_100_and_50_consume_10_and_give_a_lot_size_variance_v1_v3(trigger):
    """Two orders consume 2 x 5 = 10 FIX (40.00); the 150 units carry 150 x 0.05 = 7.5 FIX at
    standard (30.00): lot-size variance 2.5 x 4.00 = 10.00 U, to USAGE. FG gets 150 x 3.20 =
    480.00; materials credited 10 x 4.00 + 150 x 2.00 = 340.00 (MIP in V1, AP in V3); CCA
    150.00."""
    r = run_month_end(fixture_plant(trigger))
    assert flushed(r, "FIX") == pytest.approx(10) and flushed(r, "RM") == pytest.approx(150)
    material = "MIP" if trigger == "purchase+completion" else "AP"
    assert net(r, "FG", "Completion") == 48_000
    assert net(r, material, "Completion") == -34_000
    assert net(r, "CCA", "Completion") == -15_000
    assert net(r, "USAGE", "Completion") == 1_000
    # the variance row: 50 units short of two lots (2 x 100 - 150) x 0.20 per unit
    assert lot_size(r) == (1_000, 50.0)
    row = r.variances[r.variances["type"] == "lot size"].iloc[0]
    assert row["item"] == "FG" and row["role"] == "USAGE" and row["fu"] == "U"
    assert "WO-1 100" in row["memo"] and "WO-2 50" in row["memo"]
    assert net(r, "COGS", "Sale") == 48_000  # 150 x 3.20


def test_orders_under_purchase_sale_trigger():
    """V2: completions go to MIP at material standard 150 x 2.20 = 330.00 while 340.00 of
    material leaves MIP: the 10.00 is the lot-size variance; the sale then moves 330.00."""
    r = run_month_end(fixture_plant("purchase+sale"))
    assert flushed(r, "FIX") == pytest.approx(10)
    assert net(r, "MIP", "Completion") == 33_000 - 34_000
    assert net(r, "USAGE", "Completion") == 1_000
    assert lot_size(r) == (1_000, 50.0)
    assert net(r, "MIP", "Sale") == -33_000 and net(r, "COGS", "Sale") == 48_000


def test_sale_trigger_spreads_per_order_lines_by_the_lot_size():
    """V4: nothing is flushed at completion, so the 150 sold flush 150 x 5 / 100 = 7.5 FIX
    (30.00) and 150 RM (300.00) to AP; COGS 480.00; no lot-size variance, and a note says so."""
    r = run_month_end(fixture_plant("sale"))
    assert flushed(r, "FIX") == pytest.approx(7.5)
    assert net(r, "AP", "Sale") == -33_000 and net(r, "COGS", "Sale") == 48_000
    assert lot_size(r) == (0, 0.0)
    assert any(f.check == "per-order lines flushed at sale" and f.item == "FG" for f in r.findings)


def test_scrap_units_take_their_share_of_the_order():
    """WO-2 makes 40 good + 10 scrap: still 2 orders, 10 FIX. Good units carry 140 x 0.20 =
    28.00, scrap 10 x 0.20 = 2.00 of it: the variance is 40.00 - 30.00 = 10.00, as with 150 good
    (12.00 U at completion, 2.00 F with the scrap). SCRAP gets 10 x 3.20 = 32.00."""
    r = run_month_end(
        fixture_plant(
            "purchase+completion",
            [
                {"item": "FG", "quantity": 100, "reference": "WO-1"},
                {"item": "FG", "quantity": 40, "scrap_quantity": 10, "reference": "WO-2"},
            ],
        )
    )
    assert flushed(r, "FIX") == pytest.approx(10)
    assert net(r, "USAGE", "Completion") == 1_200 and net(r, "USAGE", "Scrap") == -200
    assert net(r, "SCRAP", "Scrap") == 3_200
    assert lot_size(r) == (1_000, 50.0)  # 200 - 140 - 10 units


def test_one_order_over_two_days_and_rows_without_reference():
    """WO-1 reported on two days (60 + 40) is one order: 5 FIX once, on its first day. Two rows
    without Reference are two orders (each its own), with a note: 3 orders, 15 FIX; 150 units
    absorb 7.5: variance 7.5 x 4.00 = 30.00 U."""
    day = dt.date(2026, 10, 5)
    r = run_month_end(
        fixture_plant(
            "purchase+completion",
            [
                {"item": "FG", "quantity": 60, "reference": "WO-1", "date": day},
                {"item": "FG", "quantity": 40, "reference": "WO-1"},
                {"item": "FG", "quantity": 25},
                {"item": "FG", "quantity": 25},
            ],
        )
    )
    assert flushed(r, "FIX") == pytest.approx(15)
    assert lot_size(r) == (3_000, 150.0)  # 3 x 100 - 150 units short, x 0.20
    fix_day = r.postings[(r.postings["item"] == "FIX") & (r.postings["event"] == "Completion")]
    assert fix_day.groupby("date")["quantity"].sum().to_dict() == {
        pd.Timestamp(day): -5.0,  # WO-1, on its first day
        pd.Timestamp(2026, 10, 31): -10.0,  # the two rows without Reference
    }
    note = [f for f in r.findings if f.check == "completions without order reference"]
    assert len(note) == 1 and "2 completion rows" in note[0].message


def test_per_order_line_without_lot_size_is_refused_by_the_engine():
    inputs = fixture_plant("purchase+completion")
    sc = inputs.standard_costs.assign(lot_size=float("nan"))
    with pytest.raises(InputError) as e:
        run_month_end(replace(inputs, standard_costs=sc))
    assert "no Lot Size" in str(e.value)


# ---- located errors from the workbook --------------------------------------------------------


def book_with(bom_header: list, bom_row: list, lot: object = 100) -> dict:
    sheets = tidy()
    sheets["Standard Costs"] = [
        ["Item", "Description", "Type", "Material", "Conversion", "Lot Size"],
        ["KB", "Keyboard", "Finished", 0, 12, lot],
        ["DM", "Direct materials", "Raw", 1, 0, None],
    ]
    sheets["BOM"] = [bom_header, bom_row]
    return sheets


@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        (
            ["Parent", "Component", "Qty Per", "Conversion Factor"],
            ["KB", "DM", 19, 0],
            "BOM!D2: Conversion Factor is 0; it must be more than 0",
        ),
        (
            ["Parent", "Component", "Qty Per", "Base Quantity"],
            ["KB", "DM", 19, 0],
            "BOM!D2: Base Quantity is 0; it must be more than 0",
        ),
        (["Parent", "Component", "Qty Per", "Per"], ["KB", "DM", 19, "Week"], "BOM!D2: Per "),
        (
            ["Parent", "Component", "Qty Per", "Per", "Base Quantity"],
            ["KB", "DM", 5, "Order", 12],
            "BOM!E2: Base Quantity is 12 on a line consumed once per order",
        ),
    ],
)
def test_bad_quantity_columns_are_located_errors(tmp_path: Path, header, row, expected):
    _, findings = run(tmp_path, book_with(header, row))
    assert any(e.startswith(expected) for e in errors(findings)), errors(findings)


def test_per_order_line_without_lot_size_is_a_located_error(tmp_path: Path):
    sheets = book_with(["Parent", "Component", "Qty Per", "Per"], ["KB", "DM", 5, "Order"], None)
    _, findings = run(tmp_path, sheets)
    assert any(
        e.startswith("BOM!D2: Per is Order: KB -> DM") and "Lot Size" in e for e in errors(findings)
    ), errors(findings)


def test_yield_above_100_percent_or_zero_is_refused(tmp_path: Path):
    for value, text in ((0, "it must be more than 0"), (1.5, "did you mean")):
        sheets = tidy()
        sheets["Standard Costs"] = [
            ["Item", "Type", "Material", "Conversion", "Yield %"],
            ["KB", "Finished", 0, 12, value],
            ["DM", "Raw", 1, 0, None],
        ]
        _, findings = run(tmp_path, sheets)
        assert any(
            e.startswith("Standard Costs!E2: Yield %") and text in e for e in errors(findings)
        )


def test_a_workbook_with_the_new_columns_runs(tmp_path: Path):
    """Through validation: Per = Order with a Lot Size, a base quantity and a factor parse into
    the engine's frame (blank cells take their defaults)."""
    sheets = book_with(
        ["Parent", "Component", "Qty Per", "Per", "Base Quantity", "Conversion Factor"],
        ["KB", "DM", 38, None, 2, None],
    )
    sheets["BOM"].append(["KB", "DM", 5, "Order", None, 0.5])  # set-up material per order
    sheets["Standard Costs"][0].append("Yield %")
    sheets["Standard Costs"][1].append(None)
    inputs, findings = run(tmp_path, sheets)
    assert errors(findings) == []
    bom = inputs.bom
    assert bom["per"].tolist() == ["Unit", "Order"]
    assert bom["base_quantity"].tolist() == [2.0, 1.0]
    assert bom["conversion_factor"].tolist() == [1.0, 0.5]
    assert inputs.standard_costs["yield_pct"].tolist() == [1.0, 1.0]
    r = run_month_end(inputs)
    # KB: 38 / 2 = 19 DM per unit + 5 x 0.5 / 100 = 0.025 per unit -> 19.025 x 1.00
    assert rolled(r, "KB") == pytest.approx(19.025)


def test_backflush_detail_puts_each_order_on_its_first_row():
    """The detail (one line per completion row) consumes WO-1's 5 FIX on its first row only and
    sums to the Backflush tab: 10 FIX, 150 RM."""
    r = run_month_end(
        fixture_plant(
            "purchase+completion",
            [
                {"item": "FG", "quantity": 60, "reference": "WO-1"},
                {"item": "FG", "quantity": 40, "reference": "WO-1"},
                {"item": "FG", "quantity": 50, "reference": "WO-2"},
            ],
        )
    )
    d = backflush_detail(r.plant)
    fix = d[d["component"] == "FIX"]
    assert fix["source_row"].tolist() == [2, 4] and fix["quantity"].tolist() == [5.0, 5.0]
    parts = d[d["component"] != ""]  # the entries' own lines (output, conversion) have none
    assert parts.groupby("component")["quantity"].sum().to_dict() == {"FIX": 10.0, "RM": 150.0}


def test_a_completion_reversal_keeps_the_orders_per_order_material_and_counts_it_once():
    """WO-1 completes 100 FG (5 FIX consumed for the order) and 4 are reversed later. The
    reversal gives back the 4 units' per-unit components (4 RM, 8.00) and conversion (4.00);
    the order's 5 FIX stay consumed, so the 4 units' share of them, 4 x 5 / 100 x 4.00 = 0.80,
    goes to USAGE: Cr FG 4 x 3.20 = 12.80 = Dr MIP 8.00 + CCA 4.00 + USAGE 0.80. The order is
    now 96 of a lot of 100: one lot-size row of 4 x 0.20 = 0.80 U, and the usage variance
    account's rows on the Variances tab add up to the journal's 0.80 (counted once)."""
    r = run_month_end(
        fixture_plant(
            "purchase+completion",
            [
                {"item": "FG", "quantity": 100, "reference": "WO-1", "date": dt.date(2026, 10, 5)},
                {"item": "FG", "quantity": -4, "reference": "WO-1", "date": dt.date(2026, 10, 9)},
            ],
        )
    )
    assert net(r, "FG", "Completion reversal") == -1_280
    assert net(r, "MIP", "Completion reversal") == 800
    assert net(r, "CCA", "Completion reversal") == 400
    assert net(r, "USAGE", "Completion reversal") == 80
    v = r.variances[r.variances["role"] == "USAGE"]
    assert v["type"].tolist() == ["lot size"]
    assert int(v["amount_cents"].sum()) == net(r, "USAGE") == 80


# ---- the worksheet functions read the same columns ---------------------------------------------


def test_worksheet_functions_read_base_quantity_factor_yield_and_lot_size():
    """BF_STDCOST / BF_BACKFLUSH with the new columns, figures as in the month-end tests:
    Odoo's dozen: 5,625 x 1.00 / 12 = 468.75. Flour: 250 g at factor 0.001 of 2.00 a kg =
    0.50. Process loss: 10 RM at 9.00 per 10, yield 90 %: 9.00 / 0.9 = 10.00. Fixture: 1 RM at
    2.00 + 5 FIX per order at 4.00 over a lot of 100 = 2.20 material, 3.20 with 1.00
    conversion; completing 10 flushes 10 RM and 10 x 5 / 100 = 0.5 FIX."""
    from addin.excel.udfs import BF_BACKFLUSH, BF_STDCOST
    from addin.workbook import ranges

    ranges.clear_cache()
    costs = [
        ["Item", "Type", "Material", "Conversion", "Yield %", "Lot Size"],
        ["DOZ", "Finished", 0.0, 0.0, None, None],
        ["BREAD", "Finished", 0.0, 0.0, None, None],
        ["LOSS", "Finished", 0.0, 0.0, 0.9, None],
        ["FG", "Finished", 0.0, 1.0, None, 100.0],
        ["RM", "Raw", 1.0, 0.0, None, None],
        ["FLOUR", "Raw", 2.0, 0.0, None, None],
        ["RM9", "Raw", 9.0, 0.0, None, None],
        ["RM2", "Raw", 2.0, 0.0, None, None],
        ["FIX", "Raw", 4.0, 0.0, None, None],
    ]
    bom = [
        ["Parent", "Component", "Qty Per", "Base Quantity", "Unit", "Conversion Factor", "Per"],
        ["DOZ", "RM", 5625.0, 12.0, None, None, None],
        ["BREAD", "FLOUR", 250.0, None, "g", 0.001, None],
        ["LOSS", "RM9", 10.0, 10.0, None, None, None],
        ["FG", "RM2", 1.0, None, None, None, "Unit"],
        ["FG", "FIX", 5.0, None, None, None, "Order"],
    ]
    assert BF_STDCOST(costs, bom, "DOZ") == pytest.approx(468.75)
    assert BF_STDCOST(costs, bom, "BREAD") == pytest.approx(0.50)
    assert BF_STDCOST(costs, bom, "LOSS") == pytest.approx(10.00)
    assert BF_STDCOST(costs, bom, "FG", "Material") == pytest.approx(2.20)
    assert BF_STDCOST(costs, bom, "FG") == pytest.approx(3.20)
    rows = BF_BACKFLUSH(costs, bom, "FG", 10.0)
    assert [(r[0], r[1]) for r in rows[1:]] == [("RM2", 10.0), ("FIX", pytest.approx(0.5))]


def test_worksheet_functions_refuse_what_they_cannot_spread():
    """A per-order line's parent without a Lot Size, and BF_EXPLODE (BOM range only) over a
    per-order line, are refused with the row named; a Base Quantity of 0 too."""
    from addin.excel.udfs import BF_EXPLODE, BF_STDCOST
    from addin.workbook import ranges

    ranges.clear_cache()
    costs = [
        ["Item", "Type", "Material", "Conversion"],
        ["FG", "Finished", 0.0, 1.0],
        ["FIX", "Raw", 4.0, 0.0],
    ]
    bom = [
        ["Parent", "Component", "Qty Per", "Per", "Base Quantity"],
        ["FG", "FIX", 5, "Order", None],
    ]
    assert "row 2: a per-order line" in str(BF_STDCOST(costs, bom, "FG"))
    assert "Lot Size" in str(BF_STDCOST(costs, bom, "FG"))
    assert "row 2: a per-order line" in str(BF_EXPLODE(bom, "FG"))
    bom[1][3:] = [None, 0]
    assert "Base Quantity must be more than 0" in str(BF_STDCOST(costs, bom, "FG"))
