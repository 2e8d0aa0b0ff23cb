"""The demo plant month after month, through the command line as a user runs it.

October is the demo; November is made by ``backflush next``, with the aluminium casting's
standard raised 10 % (RM-CAST material 18.40 -> 20.24) and the task chair's labor raised
(CH-100 labor 9.50 -> 10.00), and one purchase typed in; December is made by ``next`` again.
The revaluation is computed here from the November workbook's own cells: a roll-up written in
this test (material + labor + overhead + qty per x (1 + scrap) x the component's standard,
phantoms blown through), never the engine's.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl
import pytest
from result_books import read_table

from addin.cli import main

CENT = Decimal("0.01")


def _rows(book: openpyxl.Workbook, sheet: str) -> list[dict[str, object]]:
    ws = book[sheet]
    header = [c.value for c in ws[1]]
    return [
        dict(zip(header, r, strict=False))
        for r in ws.iter_rows(min_row=2, values_only=True)
        if any(v is not None for v in r)
    ]


def _set_standard(book: openpyxl.Workbook, item: str, column: str, value: float) -> None:
    ws = book["Standard Costs"]
    col = [c.value for c in ws[1]].index(column)
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == item)
    row[col].value = value


def _type_purchase(book: openpyxl.Workbook, row: list[object]) -> None:
    ws = book["Purchases"]
    for j, v in enumerate(row, start=1):
        ws.cell(2, j, v)
    (table,) = ws.tables.values()
    first, last = table.ref.split(":")
    table.ref = f"{first}:{last.rstrip('0123456789')}2"


def _standards(book: openpyxl.Workbook) -> dict[str, Decimal]:
    """Full standard per unit by hand: own material + labor + overhead, plus each BOM line's
    quantity x (1 + scrap) x the component's full standard; a per-order line's (Per = Order)
    over its parent's Lot Size."""
    own = {
        str(r["Item"]): sum(Decimal(str(r[k] or 0)) for k in ("Material", "Labor", "Overhead"))
        for r in _rows(book, "Standard Costs")
    }
    lot = {str(r["Item"]): r.get("Lot Size") for r in _rows(book, "Standard Costs")}
    lines: dict[str, list[tuple[str, Decimal]]] = {}
    for r in _rows(book, "BOM"):
        per = Decimal(str(r["Qty Per"])) * (1 + Decimal(str(r["Scrap %"] or 0)))
        if r.get("Per") == "Order":
            per /= Decimal(str(lot[str(r["Parent"])]))
        if r.get("Line Type") == "By-product":  # obtained: lowers the parent at its standard
            per = -per
        lines.setdefault(str(r["Parent"]), []).append((str(r["Component"]), per))

    def full(item: str) -> Decimal:
        return own[item] + sum((per * full(c) for c, per in lines.get(item, [])), Decimal(0))

    return {item: full(item) for item in own}


@pytest.fixture(scope="module")
def months(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("demo-months")
    assert main(["demo", str(folder), "--quiet"]) == 0
    october = folder / "demo-plant.xlsx"
    assert main(["next", str(october), "--quiet"]) == 0
    november = folder / "demo-plant 2026-11.xlsx"
    book = openpyxl.load_workbook(november)
    _set_standard(book, "RM-CAST", "Material", 20.24)
    _set_standard(book, "CH-100", "Labor", 10.00)
    _type_purchase(book, [dt.datetime(2026, 11, 2), "RM-CAST", 50, 20.24, "PO-5001"])
    book.save(november)
    assert main(["run", str(november), "--quiet"]) == 0
    assert main(["next", str(november), "--quiet"]) == 0
    december = folder / "demo-plant 2026-12.xlsx"
    assert main(["run", str(december), "--quiet"]) == 0
    return {
        "october": folder / "demo-plant - results.xlsx",
        "november_input": november,
        "november": folder / "demo-plant 2026-11 - results.xlsx",
        "december": folder / "demo-plant 2026-12 - results.xlsx",
    }


def _by_account(results: Path, column: str) -> dict[str, Decimal]:
    """The Inventory tab's ``column`` (a value) summed per account code, to the cent."""
    out: dict[str, Decimal] = {}
    for r in read_table(results, "Inventory"):
        key = str(r["Account"])
        out[key] = out.get(key, Decimal(0)) + Decimal(str(r[column])).quantize(CENT)
    return out


def test_novembers_opening_is_octobers_closing_to_the_cent(months: dict[str, Path]) -> None:
    october = _by_account(months["october"], "Ending Value")
    november = _by_account(months["november"], "Opening Value")
    assert set(october) == {"1300", "1400"}  # MIP and FG of the default chart
    for account, closing in october.items():
        assert november[account] == closing, account


def test_the_revaluation_is_quantity_times_the_change_per_item(months: dict[str, Path]) -> None:
    book = openpyxl.load_workbook(months["november_input"])
    new = _standards(book)
    carried_at = {  # purchase+completion: raw in MIP at material, finished in FG at full
        "MIP": lambda item: Decimal(
            str(next(r["Material"] for r in _rows(book, "Standard Costs") if r["Item"] == item))
        ),
        "FG": lambda item: new[item],
    }
    expected: dict[str, Decimal] = {}
    for r in _rows(book, "Opening Balances"):
        item, account = str(r["Item"]), str(r["Account"])
        quantity, value = Decimal(str(r["Quantity"])), Decimal(str(r["Value"]))
        at_new = (quantity * carried_at[account](item)).quantize(CENT, ROUND_HALF_UP)
        if at_new != value:
            expected[item] = at_new - value  # Dr inventory for an increase
    # only the casting, the base assembly built on it (stocked in FG) and the chairs built on
    # the base (and CH-100's labor) move
    assert set(expected) == {"RM-CAST", "SA-BASE", "CH-100", "CH-200", "ST-300"}
    got = {
        str(r["Item"]): -Decimal(str(r["Amount"])).quantize(CENT)  # a gain is shown (F)
        for r in read_table(months["november"], "Variances")
        if r["Type"] == "revaluation"
    }
    assert got == expected


def test_three_months_show_the_trend_on_the_summary(months: dict[str, Path]) -> None:
    summary = openpyxl.load_workbook(months["december"], data_only=True)["Summary"]
    cells = [c.value for row in summary.iter_rows() for c in row if c.value is not None]
    assert any(str(v).startswith("Month by month") for v in cells)
    assert {"Oct 2026", "Nov 2026", "Dec 2026"} <= set(cells)
    with zipfile.ZipFile(months["december"]) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert any("Total variance by month" in c for c in charts)
