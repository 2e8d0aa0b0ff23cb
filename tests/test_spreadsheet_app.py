"""The real-spreadsheet test harness itself: an xlsxwriter workbook recalculated by LibreOffice
must give the numbers Python computes independently, and its error cells must be found."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from spreadsheet_app import (
    error_cells,
    formula_cells,
    pdf_to_png,
    read_values,
    recalculate,
    render_pdf,
    require_pdftoppm,
    require_soffice,
    soffice_version,
)

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

# Product, cost centre, quantity, unit cost (no x.xx5 products: ROUND must be unambiguous)
LINES = [
    ("P1", "CC1", 10, 2.345),
    ("P2", "CC2", 3, 10.10),
    ("P3", "CC1", 7, 1.111),
    ("P4", "CC3", 12, 0.499),
    ("P5", "CC2", 1, 99.991),
    ("P6", "CC1", 4, 3.333),
]
FIRST, LAST = 2, 1 + len(LINES)  # data rows (1-based) of the table
TOTAL_ROW = LAST + 1


def _columns(money: Any, unit: Any, shorthand: bool) -> list[dict[str, Any]]:
    """Table columns. LibreOffice 7.4 only evaluates table-QUALIFIED structured references
    (``Lines[@[Qty]]``, ``SUBTOTAL(109,Lines[Amount])``); xlsxwriter's shorthand forms
    (``[@Qty]`` -> ``[[#This Row],Qty]`` and
    ``total_function: "sum"`` -> ``SUBTOTAL(109,[Amount])``)
    are fine in Excel but come back as #N/A / #NAME? from LibreOffice. ``shorthand=True`` builds
    the shorthand variant to prove the harness flags it."""
    if shorthand:
        amount, qty_total, amount_total = "=ROUND([@Qty]*[@UnitCost],2)", "sum", "sum"
    else:
        amount = "=ROUND(Lines[@[Qty]]*Lines[@[UnitCost]],2)"
        qty_total, amount_total = "SUBTOTAL(109,Lines[Qty])", "SUBTOTAL(109,Lines[Amount])"
    return [
        {"header": "Product", "total_string": "Total"},
        {"header": "CostCentre"},
        {"header": "Qty", "total_function": qty_total},
        {"header": "UnitCost", "format": unit},
        {"header": "Amount", "formula": amount, "total_function": amount_total, "format": money},
    ]


def _write_book(path: Path, shorthand: bool = False) -> Path:
    wb = xlsxwriter.Workbook(path)
    money = wb.add_format({"num_format": "#,##0.00"})
    unit = wb.add_format({"num_format": "#,##0.000"})
    bold = wb.add_format({"bold": True})
    ws = wb.add_worksheet("Costs")
    ws.set_landscape()
    ws.fit_to_pages(1, 0)  # one page wide, as an accountant would print it
    ws.set_column("A:B", 12)
    ws.set_column("C:C", 8)
    ws.set_column("D:D", 10, unit)
    ws.set_column("E:E", 11, money)
    ws.set_column("G:G", 24)
    ws.set_column("H:H", 12, money)
    ws.add_table(
        f"A1:E{TOTAL_ROW}",
        {
            "name": "Lines",
            "data": [list(line) for line in LINES],
            "total_row": True,
            "columns": _columns(money, unit, shorthand),
        },
    )
    rng = {c: f"${c}${FIRST}:${c}${LAST}" for c in "ABCDE"}
    rows = [
        ("Cost centre", "CC1"),
        ("SUMIFS CC1 (table refs)", "=SUMIFS(Lines[Amount],Lines[CostCentre],H1)"),
        ("SUMIFS CC2 (A1 refs)", f'=SUMIFS({rng["E"]},{rng["B"]},"CC2")'),
        ("Unit cost of P4", f'=INDEX({rng["D"]},MATCH("P4",{rng["A"]},0))'),
        ("CC1 share of total", f"=ROUND(H2/E{TOTAL_ROW},4)"),
        ("Missing product", f'=IFERROR(INDEX({rng["D"]},MATCH("P9",{rng["A"]},0)),-1)'),
        ("Guarded ratio", "=IFERROR(H2/0,0)"),
        ("Deliberate error", "=1/0"),
    ]
    for i, (label, value) in enumerate(rows):
        ws.write(i, 6, label, bold)
        if value.startswith("="):
            ws.write_formula(i, 7, value)
        else:
            ws.write(i, 7, value)
    notes = wb.add_worksheet("Notes")
    notes.write("A1", "Second sheet: must not appear in the rendered Costs PDF.")
    wb.close()
    return path


def _expected() -> dict[str, float]:
    amounts = [round(qty * unit, 2) for _, _, qty, unit in LINES]
    total = round(sum(amounts), 2)
    cc1 = round(sum(a for a, line in zip(amounts, LINES, strict=True) if line[1] == "CC1"), 2)
    cc2 = round(sum(a for a, line in zip(amounts, LINES, strict=True) if line[1] == "CC2"), 2)
    return {
        **{f"E{FIRST + i}": a for i, a in enumerate(amounts)},
        f"C{TOTAL_ROW}": sum(line[2] for line in LINES),
        f"E{TOTAL_ROW}": total,
        "H2": cc1,
        "H3": cc2,
        "H4": next(unit for p, _, _, unit in LINES if p == "P4"),
        "H5": round(cc1 / total, 4),
        "H6": -1,
        "H7": 0,
    }


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    require_soffice()
    src = _write_book(tmp_path_factory.mktemp("src") / "harness.xlsx")
    out_dir = tmp_path_factory.mktemp("recalc")
    t0 = time.perf_counter()
    out = recalculate(src, out_dir)
    elapsed = time.perf_counter() - t0
    print(f"\n{soffice_version()}: recalculation of {src.name} took {elapsed:.2f} s")
    return src, out


def test_xlsxwriter_caches_zero_so_recalculation_is_needed(tmp_path: Path) -> None:
    src = _write_book(tmp_path / "raw.xlsx")
    raw = read_values(src)["Costs"]
    assert raw["H2"] == 0 and raw[f"E{TOTAL_ROW}"] == 0  # what a non-recalculating reader sees
    formulas = formula_cells(src)["Costs"]
    assert formulas["H8"] == "=1/0"
    assert formulas[f"E{TOTAL_ROW}"] == "=SUBTOTAL(109,Lines[Amount])"
    assert formulas["H2"].startswith("=SUMIFS(")


def test_libreoffice_values_match_python(recalculated: tuple[Path, Path]) -> None:
    _, out = recalculated
    values = read_values(out)["Costs"]
    for cell, want in _expected().items():
        assert values[cell] == pytest.approx(want, abs=1e-9), cell
    assert values["H1"] == "CC1"


def test_error_cells_finds_exactly_the_deliberate_error(recalculated: tuple[Path, Path]) -> None:
    _, out = recalculated
    values = read_values(out)
    assert values["Costs"]["H8"] == "#DIV/0!"
    assert error_cells(values) == ["Costs!H8"]


def test_render_costs_sheet_to_png(recalculated: tuple[Path, Path]) -> None:
    require_pdftoppm()
    src, _ = recalculated
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = render_pdf(src, ARTIFACTS, sheet="Costs")
    assert pdf.is_file() and pdf.stat().st_size > 1000
    pages = pdf_to_png(pdf, ARTIFACTS)
    assert len(pages) == 1  # only the Costs sheet, on one page
    assert pages[0].is_file() and pages[0].stat().st_size > 5000
    print(f"\nrendered {pdf} -> {[p.name for p in pages]}")


def test_harness_flags_xlsxwriter_shorthand_table_refs(tmp_path: Path) -> None:
    """Canary for the LibreOffice gap documented in _columns(): if this starts failing, the
    installed LibreOffice learned the shorthand forms and the restriction can be relaxed."""
    require_soffice()
    out = recalculate(_write_book(tmp_path / "shorthand.xlsx", shorthand=True), tmp_path / "o")
    errors = error_cells(read_values(out))
    assert f"Costs!E{FIRST}" in errors and f"Costs!E{TOTAL_ROW}" in errors, errors
