"""Supported magnitudes (README, "When something is wrong"): one item's amount on one day up
to 100,000,000,000.00 and the month's amounts together up to 10,000,000,000,000.00 are kept to
the cent, in the engine and in the results file; beyond them the run is refused, located."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import openpyxl
import pytest
from builders import make_inputs
from workbooks import save, tidy

from addin.costing.engine import InputError, run_month_end
from addin.costing.money import to_cents


def test_an_amount_beyond_the_supported_line_is_refused_at_its_row():
    inputs = make_inputs(
        items=[{"item": "R", "item_type": "Raw", "material": 1000.0}],
        purchases=[
            {"item": "R", "quantity": 5, "unit_price": 1000.0},
            {"item": "R", "quantity": 1e9, "unit_price": 1000.0, "date": dt.date(2026, 10, 7)},
        ],
    )
    with pytest.raises(InputError) as e:
        run_month_end(inputs)
    located = {(f.sheet, f.cell) for f in e.value.findings}
    assert located == {("Purchases", "3:3")}  # the second purchase row, 1e12 at standard
    assert "100,000,000,000.00" in str(e.value)


def test_amounts_that_overflow_any_number_are_refused_not_wrapped():
    """A BOM of 1e12 per unit, twice nested: 1e24 units of R, beyond int64 cents."""
    inputs = make_inputs(
        items=[
            {"item": "R", "item_type": "Raw", "material": 1e12},
            {"item": "S", "item_type": "Phantom"},
            {"item": "FG", "item_type": "Finished"},
        ],
        bom=[
            {"parent": "FG", "component": "S", "qty_per": 1e12},
            {"parent": "S", "component": "R", "qty_per": 1e12},
        ],
        completions=[{"item": "FG", "quantity": 1e12}],
    )
    with pytest.raises(InputError) as e:
        run_month_end(inputs)
    assert {f.sheet for f in e.value.findings} == {"Completions"}
    assert "too large to hold" in str(e.value)


def test_the_months_total_beyond_the_supported_total_is_refused():
    """200 purchases of 99,000,000,000.00 each: every line is inside, the month is not."""
    inputs = make_inputs(
        items=[{"item": f"R{k}", "item_type": "Raw", "material": 1.0} for k in range(200)],
        purchases=[{"item": f"R{k}", "quantity": 99e9, "unit_price": 1.0} for k in range(200)],
    )
    with pytest.raises(InputError) as e:
        run_month_end(inputs)
    assert "10,000,000,000,000.00" in str(e.value)
    assert [f.sheet for f in e.value.findings] == ["Purchases"]  # where the amounts come from


def test_half_cents_round_up_at_the_top_of_the_supported_range():
    # Excel: ROUND(100000000000.005, 2) = 100000000000.01 (15 significant digits kept)
    assert to_cents([99_999_999_999.995, 12_345_678_901.125]).tolist() == [
        10_000_000_000_000,
        1_234_567_890_113,
    ]


def test_the_largest_supported_amounts_are_exact_in_the_results_file(tmp_path):
    """Quantity 1 at 99,999,999,999.99 against a standard of 99,999,999,999.98 (PPV 0.01),
    sold again at standard, through the command line: the Journal cells hold every cent."""
    sheets = {
        "Settings": tidy()["Settings"],  # October 2026, purchase+completion
        "Standard Costs": [
            ["Item", "Type", "Material", "Conversion"],
            ["R", "Raw", 99_999_999_999.98, 0],
        ],
        "Purchases": [
            ["Date", "Item", "Quantity", "Unit Price"],
            [dt.date(2026, 10, 2), "R", 1, 99_999_999_999.99],
        ],
        "Sales": [["Date", "Item", "Quantity"], [dt.date(2026, 10, 3), "R", 1]],
    }
    book = save(tmp_path / "big.xlsx", sheets)
    out = tmp_path / "out.xlsx"
    done = subprocess.run(
        [sys.executable, "-m", "addin.cli", "run", str(book), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    ws = openpyxl.load_workbook(out, data_only=True)["Journal"]
    rows = list(ws.iter_rows(values_only=True))
    top = next(i for i, r in enumerate(rows) if r and "Debit" in r)
    col = {name: rows[top].index(name) for name in ("Account", "Debit", "Credit")}
    cents = {}
    for r in rows[top + 1 :]:
        if not str(r[0]).startswith("BF-"):  # entry lines only, not the totals row
            continue
        for side in ("Debit", "Credit"):
            v = r[col[side]]
            if v:
                assert abs(v * 100 - round(v * 100)) < 1e-3  # a whole number of cents
                cents[(r[col["Account"]], side)] = cents.get((r[col["Account"]], side), 0) + round(
                    v * 100
                )
    assert cents[("1300", "Debit")] == 9_999_999_999_998  # MIP at standard
    assert cents[("2000", "Credit")] == 9_999_999_999_999  # AP at the price paid
    assert cents[("5300", "Debit")] == 1  # one cent of price variance
    assert cents[("5000", "Debit")] == 9_999_999_999_998  # COGS at standard
