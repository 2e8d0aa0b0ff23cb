"""What the Summary says month after month: the ledger in Dr/(Cr), checks that were not made,
and the months so far.

One tiny month, computed by hand. Standards: RM 2.50 (material); FG = 2 RM = 5.00. Opening:
10 RM in MIP (25.00). Oct 5: 100 RM bought at 2.60 -> Dr MIP 250.00, Dr PPV 10.00, Cr AP
260.00. Oct 12: 20 FG completed -> Cr MIP 40 x 2.50 = 100.00, Dr FG 100.00. Oct 20: 5 FG sold
-> Dr COGS 5 x 5.00 = 25.00, Cr FG 25.00. Three entries (one per event).
MIP: 25.00 + 250.00 - 100.00 = 175.00 (70 RM x 2.50); FG: 0 + 100.00 - 25.00 = 75.00 (15 FG x
5.00). Both writers' grids are read back (file: openpyxl; xlwings: the recording fake).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from builders import make_inputs
from spreadsheet_app import read_values, recalculate, require_soffice
from test_layout import assert_same_grids, file_grid, xlwings_grid

from addin.costing.engine import MonthEndResult, run_month_end
from addin.costing.model import Check, MonthEndInputs
from addin.workbook.tabs import MONTH_FIGURES, Tab, result_tabs
from addin.workbook.writer import write_tabs

MONEY = '_(* #,##0.00_);_(* (#,##0.00);_(* "-"??_);_(@_)'
OCT = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))


def tiny_month(history: pd.DataFrame | None = None) -> MonthEndInputs:
    inputs = make_inputs(
        items=[
            {"item": "RM", "item_type": "Raw", "material": 2.50},
            {"item": "FG", "item_type": "Finished"},
        ],
        bom=[{"parent": "FG", "component": "RM", "qty_per": 2}],
        purchases=[
            {"date": dt.date(2026, 10, 5), "item": "RM", "quantity": 100, "unit_price": 2.6}
        ],
        completions=[{"date": dt.date(2026, 10, 12), "item": "FG", "quantity": 20}],
        sales=[{"date": dt.date(2026, 10, 20), "item": "FG", "quantity": 5}],
        opening=[{"item": "RM", "account": "MIP", "quantity": 10}],
    )
    return inputs if history is None else dataclasses.replace(inputs, history=history)


def grids(tabs: list[Tab], tmp_path: Path) -> list[dict[tuple[int, int], tuple[object, str]]]:
    """The Summary's cells (value or formula text, number format) by the file writer and by
    the xlwings writer; the two must be the same grid."""
    assert_same_grids(tabs, tmp_path / "same")
    f = file_grid(tabs, tmp_path / "r.xlsx")["Summary"]["cells"]
    x = xlwings_grid(tabs, tmp_path)["Summary"]["cells"]
    return [f, x]


def cached(tabs: list[Tab], path: Path) -> dict[tuple[int, int], Any]:
    """The Summary's cached values (formulas as the engine's figure), as Excel first shows them."""
    write_tabs(tabs, path)
    ws = openpyxl.load_workbook(path, data_only=True)["Summary"]
    return {(c.row, c.column): c.value for row in ws.iter_rows() for c in row}


def row_of(grid: dict[tuple[int, int], tuple[object, str]], label: str) -> int:
    rows = [r for (r, c), (v, _) in grid.items() if c == 1 and v == label]
    assert len(rows) == 1, (label, rows)
    return rows[0]


# ---- the ledger in Dr/(Cr) ----------------------------------------------------------------


def test_the_ledger_says_dr_cr_and_parts_balances_from_the_months_activity(tmp_path: Path) -> None:
    tabs = result_tabs(run_month_end(tiny_month()))
    values = cached(tabs, tmp_path / "v.xlsx")
    for grid in grids(tabs, tmp_path):
        top = row_of(grid, "Balance sheet: inventory accounts, Dr/(Cr)")
        header = [grid[(top + 1, c)][0] for c in range(1, 7)]
        assert header == ["Account", "Account Name", "Opening Dr/(Cr)", "Debits", "Credits",
                          "Closing Dr/(Cr)"]  # fmt: skip
        # opening, debits, credits (in parentheses: negative), closing; MIP then FG
        expected = {"1300": [25.00, 250.00, -100.00, 175.00], "1400": [0.0, 100.00, -25.00, 75.00]}
        for i, (account, figures) in enumerate(expected.items()):
            n = top + 2 + i
            assert grid[(n, 1)][0] == account
            assert [values[(n, c)] for c in range(3, 7)] == figures
            assert all(grid[(n, c)][1] == MONEY for c in range(3, 7))
            assert grid[(n, 6)][0] == f"=C{n}+D{n}+E{n}"  # closing = opening + Dr + (Cr)
            assert str(grid[(n, 5)][0]).startswith("=-SUMIFS(Journal!")
        assert (top + 4, 1) not in grid  # only the two inventory accounts are balances

        act = top + 5
        assert str(grid[(act, 1)][0]).startswith("This month's activity: other accounts")
        assert [grid[(act + 1, c)][0] for c in (4, 5, 6)] == [
            "Debits",
            "Credits",
            "Net this month Dr/(Cr)",
        ]
        # AP, COGS, PPV in the chart's order: debits, credits, the month's net (no opening)
        activity = {"2000": [0.0, -260.00, -260.00], "5000": [25.00, 0.0, 25.00]}
        activity["5300"] = [10.00, 0.0, 10.00]
        for i, (account, figures) in enumerate(activity.items()):
            n = act + 2 + i
            assert grid[(n, 1)][0] == account
            assert values.get((n, 3)) is None
            assert [values[(n, c)] for c in (4, 5, 6)] == figures
        assert (act + 5, 1) not in grid


def test_the_roll_forward_check_reads_the_closing_on_the_balance_sheet_line(
    tmp_path: Path,
) -> None:
    """The check, under either name, compares the items' ending values with column F of its
    account's balance-sheet line (MIP 175.00 on the first line, FG 75.00 on the second)."""
    r = run_month_end(tiny_month())
    old, new = "Inventory ties to the ledger", "Item roll-forward equals the journal"
    renamed = [c._replace(name=c.name.replace(old, new)) for c in r.checks]
    for result in (r, dataclasses.replace(r, checks=renamed)):
        tabs = result_tabs(result)
        for grid in grids(tabs, tmp_path):
            top = row_of(grid, "Balance sheet: inventory accounts, Dr/(Cr)")
            mip, fg = top + 2, top + 3
            checks = row_of(grid, "Checks")
            formulas = [str(grid[(n, 3)][0]) for n in range(checks + 2, checks + 9)]
            assert sum(f"-F{mip},2)=0" in f for f in formulas) == 1
            assert sum(f"-F{fg},2)=0" in f for f in formulas) == 1


# ---- NOT CHECKED ------------------------------------------------------------------------


def not_checked(r: MonthEndResult) -> MonthEndResult:
    """The run's checks and three that were not made: a GL tie-out with no GL figures, and two
    that carry a formula when checked (marked passed, to show that passed alone is not PASS)."""
    extra = [
        Check("GL tie-out at Period Start (MIP)", False, "no GL figures given", "tie-out", False),
        Check("Total debits equal total credits", True, "not made", "consistency", False),
        Check("Item roll-forward equals the journal (FG)", True, "not made", "consistency", False),
    ]
    made = [c for c in r.checks if c.checked]  # the run's own GL tie-out is left out here
    return dataclasses.replace(r, checks=[*made, *extra])


def test_not_checked_is_never_shown_as_pass(tmp_path: Path) -> None:
    tabs = result_tabs(not_checked(run_month_end(tiny_month())))
    for grid in grids(tabs, tmp_path):
        checks = row_of(grid, "Checks")
        rows = {grid[(n, 1)][0]: n for n in range(checks + 2, checks + 12) if (n, 1) in grid}
        for name in (
            "GL tie-out at Period Start (MIP)",
            "Total debits equal total credits",
            "Item roll-forward equals the journal (FG)",
        ):
            n = max(k for k in range(checks + 2, checks + 12) if grid.get((k, 1), ("",))[0] == name)
            assert grid[(n, 3)][0] == "NOT CHECKED", name  # a value, not a PASS/FAIL formula
        assert grid[(rows["GL tie-out at Period Start (MIP)"], 2)][0] == (
            "Tie-out (against the general ledger)"
        )
    # grey, never green: the file's fill and the xlwings writer's colour
    path = tmp_path / "colours.xlsx"
    write_tabs(tabs, path)
    ws = openpyxl.load_workbook(path)["Summary"]
    cells = [c for row in ws.iter_rows() for c in row if c.value == "NOT CHECKED"]
    assert len(cells) == 3
    assert {c.fill.fgColor.rgb[-6:] for c in cells} == {"EDEDED"}
    assert {c.font.color.rgb[-6:] for c in cells} == {"595959"}
    passed = [c for row in ws.iter_rows() for c in row if c.value == "PASS"]
    assert {c.fill.fgColor.rgb[-6:] for c in passed} == {"C6EFCE"}  # green is kept for PASS


def test_not_checked_stays_not_checked_when_recalculated(tmp_path: Path) -> None:
    """LibreOffice recalculates the file: the three rows still say NOT CHECKED, and the seven
    checks the run made still say PASS (the tiny month is clean)."""
    require_soffice()
    tabs = result_tabs(not_checked(run_month_end(tiny_month())))
    write_tabs(tabs, tmp_path / "n.xlsx")
    summary = list(
        read_values(recalculate(tmp_path / "n.xlsx", tmp_path / "out"))["Summary"].values()
    )
    assert summary.count("NOT CHECKED") == 3
    assert summary.count("PASS") == 7 and "FAIL" not in summary


# ---- month by month ----------------------------------------------------------------------

EARLIER = {  # figure -> Jul, Aug, Sep (as `backflush next` would have carried them)
    "Price variance": (12.50, -4.25, 7.00),
    "Usage variance": (3.00, 0.0, -1.50),
    "Scrap variance": (0.0, 2.00, 0.0),
    "Conversion variance": (-6.00, 1.75, 0.50),
    "Revaluation": (0.0, 0.0, 16.40),
    "Closing MIP": (310.00, 280.40, 25.00),
    "Closing FG": (40.00, 0.0, 0.0),
    "Cost of goods sold": (500.00, 612.30, 75.00),
    "Journal entries": (4, 5, 3),
}
MONTHS = [
    (dt.date(2026, 7, 1), dt.date(2026, 7, 31)),
    (dt.date(2026, 8, 1), dt.date(2026, 8, 31)),
    (dt.date(2026, 9, 1), dt.date(2026, 9, 30)),
]


def history(months: list[tuple[dt.date, dt.date]]) -> pd.DataFrame:
    """The History rows of ``months`` (newest written first, to show the order is by date)."""
    rows: list[dict[str, object]] = []
    for start, end in reversed(months):
        k = MONTHS.index((start, end))
        rows += [
            {"period_start": start, "period_end": end, "figure": name, "amount": float(v[k])}
            for name, v in EARLIER.items()
        ]
    frame = pd.DataFrame(rows)
    frame["source_row"] = range(2, len(frame) + 2)
    return frame


THIS_MONTH = {  # Oct, by hand (module docstring)
    "Price variance": 10.00,
    "Usage variance": 0.0,
    "Scrap variance": 0.0,
    "Conversion variance": 0.0,
    "Revaluation": 0.0,
    "Closing MIP": 175.00,
    "Closing FG": 75.00,
    "Cost of goods sold": 25.00,
    "Journal entries": 3,
}


def test_month_figures_of_the_tiny_month() -> None:
    r = run_month_end(tiny_month())
    assert {name: f.of(r) for name, f in MONTH_FIGURES.items()} == THIS_MONTH


def test_month_by_month_puts_each_figure_in_its_months_column(tmp_path: Path) -> None:
    tabs = result_tabs(run_month_end(tiny_month(history(MONTHS))))
    values = cached(tabs, tmp_path / "v.xlsx")
    for grid in grids(tabs, tmp_path):
        top = row_of(grid, "Month by month (earlier months from History; this month right)")
        header = [grid[(top + 1, c)][0] for c in range(1, 6)]
        assert header == ["Figure", "Jul 2026", "Aug 2026", "Sep 2026", "Oct 2026"]
        assert (top + 1, 6) not in grid
        # total variance first: price + usage + scrap + conversion of each month
        total = top + 2
        assert grid[(total, 1)][0] == "Total variance (price, usage, scrap, conversion)"
        assert [values[(total, c)] for c in range(2, 6)] == [9.50, -0.50, 6.00, 10.00]
        assert grid[(total, 5)][0] == f"=SUM(E{total + 1}:E{total + 4})"
        for i, (name, past) in enumerate(EARLIER.items()):
            n = total + 1 + i
            assert grid[(n, 1)][0] == name
            assert [values[(n, c)] for c in range(2, 5)] == list(past)
            assert values[(n, 5)] == THIS_MONTH[name]
            fmt = "#,##0" if name == "Journal entries" else MONEY
            assert all(grid[(n, c)][1] == fmt for c in range(2, 6)), name
        # this month's column reads the Summary's own cells: price variance, closing MIP
        price_row = row_of(grid, "price")
        assert grid[(total + 1, 5)][0] == f"=B{price_row}"
        mip_row = row_of(grid, "Balance sheet: inventory accounts, Dr/(Cr)") + 2
        assert grid[(total + 6, 5)][0] == f"=F{mip_row}"
    # a trend chart under the block (column A), beside the two charts at H4 and H21
    charts = file_grid(tabs, tmp_path / "c.xlsx")["Summary"]["charts"]
    assert charts[:2] == [(4, 8), (21, 8)]
    assert charts[2] == (top + 2 + len(EARLIER) + 2, 1)
    assert xlwings_grid(tabs, tmp_path)["Summary"]["charts"] == charts


def test_month_by_month_recalculates_in_libreoffice(tmp_path: Path) -> None:
    """The totals and this month's column are formulas; recalculated they give the figures
    computed by hand above."""
    require_soffice()
    tabs = result_tabs(run_month_end(tiny_month(history(MONTHS))))
    book = tmp_path / "m.xlsx"
    before = cached(tabs, book)
    after = read_values(recalculate(book, tmp_path / "out"))["Summary"]
    top = next(r for (r, c), v in before.items() if c == 1 and str(v).startswith("Month by month"))
    for n in range(top + 2, top + 2 + 1 + len(EARLIER)):
        for c in range(2, 6):
            assert after[f"{'ABCDE'[c - 1]}{n}"] == pytest.approx(before[(n, c)], abs=0.001)


@pytest.mark.parametrize("earlier", [0, 1])
def test_no_trend_chart_before_two_earlier_months(tmp_path: Path, earlier: int) -> None:
    """No history: no Month by month block at all; one earlier month: the block, no chart."""
    h = history(MONTHS[:earlier]) if earlier else None
    tabs = result_tabs(run_month_end(tiny_month(h)))
    captions = [b.caption for b in tabs[0].blocks]
    assert any(c.startswith("Month by month") for c in captions) == bool(earlier)
    for grid_of in (file_grid(tabs, tmp_path / "r.xlsx"), xlwings_grid(tabs, tmp_path)):
        assert grid_of["Summary"]["charts"] == [(4, 8), (21, 8)]  # variances by type, by item


# ---- revaluation among the variance types ---------------------------------------------------


def test_variances_by_type_shows_revaluation_when_the_month_has_it(tmp_path: Path) -> None:
    """A revaluation of RM by +0.10 on 70 units (7.00, a gain: favourable, negative) is listed
    after the four types, with its SUMIFS over the Variances tab and F; this month's column of
    Month by month reads it."""
    r = run_month_end(tiny_month(history(MONTHS[:1])))
    row = r.variances.iloc[[0]].assign(type="revaluation", quantity=70.0, standard=0.10)
    row = row.assign(amount_cents=-700, product=False)
    r = dataclasses.replace(r, variances=pd.concat([r.variances, row], ignore_index=True))
    tabs = result_tabs(r)
    values = cached(tabs, tmp_path / "v.xlsx")
    for grid in grids(tabs, tmp_path):
        price = row_of(grid, "price")
        types = [grid[(price + i, 1)][0] for i in range(5)]
        assert types == ["price", "usage", "scrap", "conversion", "revaluation"]
        n = price + 4
        assert '"revaluation")' in str(grid[(n, 2)][0])
        assert values[(n, 2)] == -7.00 and values[(n, 3)] == "F"
        assert grid[(row_of(grid, "Revaluation"), 3)][0] == f"=B{n}"
    without = result_tabs(run_month_end(tiny_month()))[0].blocks[3]
    assert [b[0] for b in without.rows] == ["price", "usage", "scrap", "conversion"]
