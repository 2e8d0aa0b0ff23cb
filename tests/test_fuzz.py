"""Bounded fuzzing through the real command line (issue 10); the long mode is scripts/fuzz.py.

A fixed set of seeds (each a workbook built from the seed alone, see tests/fuzz/cases.py) runs
``python -m addin.cli run`` in a subprocess with a timeout and a 3 GiB memory limit. Every case
must end in exit 0 with results that re-verify from the file itself (entries balance, debits =
credits, Inventory ties to the ledger, whole cents, PASS means it holds) or in exit 1 with
located messages and nothing written; never exit 2/3, a signal or a hang.

Replay a seed: ``python scripts/fuzz.py --replay SEED --out DIR`` (writes DIR/case-SEED.xlsx).
Deselect with ``-m "not fuzz"``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openpyxl
import pytest

from addin.cli import main
from tests.fuzz.cases import Verdict, run_case
from tests.fuzz.months import DEFAULT_ACCOUNTS
from tests.fuzz.runner import unlocated
from tests.fuzz.verify import Facts, verify_results
from tests.result_books import horngren_book

pytestmark = pytest.mark.fuzz


# seed -> marks; seed % 4: 0, 1 valid months; 2 zip/XML damage; 3 invalid values
SEEDS: dict[int, tuple[pytest.MarkDecorator, ...]] = {
    1: (),  # valid months that re-verify
    5: (),
    9: (),
    2: (),  # damaged: refused with a located message
    6: (),
    3: (),  # invalid values: refused
    7: (),
    0: (),  # negative stock at period end: a failed control
    2161: (),  # a stocked item consumed before its BOM is in effect
    1052: (),  # a phantom with no BOM lines in effect
    14: (),  # a stray cell at XFD1048576 on an unused sheet: ignored, no abort
    42: (),  # a damaged shared-string index: refused at its cell
    113: (),  # amounts beyond int64: refused, located
    116: (),  # amounts beyond the supported magnitude: refused
    386: (),  # rows below a shrunk table: refused with the table's fix
    138: (),  # a row moved to 1,048,576 below a table: refused
    582: (),  # a Settings name that is a formula with no value
    234: (),  # a zip compression Excel does not write: exit 1
}


@pytest.fixture(scope="module")
def verdicts() -> dict[int, Verdict]:
    """Run every seed once, two at a time (the machine has two cores)."""
    with ThreadPoolExecutor(2) as pool:
        return dict(zip(SEEDS, pool.map(lambda s: run_case(s, timeout=90.0), SEEDS), strict=True))


@pytest.mark.parametrize(
    "seed", [pytest.param(s, marks=m, id=f"seed{s}") for s, m in SEEDS.items()]
)
def test_seed(seed: int, verdicts: dict[int, Verdict]) -> None:
    v = verdicts[seed]
    assert v.ok, f"seed {seed} ({v.what}): exit {v.exit}: {v.cls}; {v.detail}"
    assert not v.also


# --- the harness itself can fail: a tampered results file and unlocated messages -------------


def _horngren_results(tmp_path: Path) -> Path:
    book = horngren_book(tmp_path / "h.xlsx", "purchase+completion")
    out = tmp_path / "h - results.xlsx"
    assert main(["run", str(book), "--out", str(out), "--quiet"]) == 0
    return out


def _facts() -> Facts:
    # Horngren: 1,950,000 of DM at 1.00; 1,260,000 of actual conversion
    return Facts(
        accounts=dict(DEFAULT_ACCOUNTS),
        trigger="purchase+completion",
        rows={"Purchases": 1, "Completions": 1, "Sales": 1},
        purchases=[(1_950_000.0, 1.0)],
        conversion=[1_260_000.0],
    )


def _set(path: Path, sheet: str, header: str, row: int, value: object) -> None:
    """Change one data cell of a result table (row 0 = first data row); other cells keep
    their values (formulas are replaced by their cached values)."""
    wb = openpyxl.load_workbook(path, data_only=True)
    ws = wb[sheet]
    (table,) = ws.tables.values()
    cells = list(ws[table.ref])
    j = [c.value for c in cells[0]].index(header)
    cells[1 + row][j].value = value
    wb.save(path)


def test_verifier_passes_the_worked_example(tmp_path: Path) -> None:
    assert verify_results(_horngren_results(tmp_path), _facts()) == []


def test_verifier_catches_a_cent_off_entry(tmp_path: Path) -> None:
    out = _horngren_results(tmp_path)
    # first line: BF-0001 Dr 1300 1,950,000.00 (the purchase); make it 1,950,000.01
    _set(out, "Journal", "Debit", 0, 1_950_000.01)
    found = verify_results(out, _facts())
    assert any("do not balance" in p and "0.01" in p for p in found), found
    assert any("total debits" in p for p in found), found


def test_verifier_catches_inventory_off_the_ledger_and_half_cents(tmp_path: Path) -> None:
    out = _horngren_results(tmp_path)
    _set(out, "Inventory", "Ending Value", 0, 1234.565)
    found = verify_results(out, _facts())
    assert any("not a whole number of cents" in p for p in found), found
    assert any("Inventory ending" in p and "ledger closing" in p for p in found), found
    assert any('says "Item roll-forward equals the journal' in p for p in found), found


def test_verifier_catches_a_dropped_purchase(tmp_path: Path) -> None:
    out = _horngren_results(tmp_path)
    facts = _facts()
    facts.rows["Purchases"] = 2
    facts.purchases.append((10.0, 2.5))  # a row the run would not have read
    found = verify_results(out, facts)
    assert any("1 rows read on Purchases; the workbook has 2" in p for p in found), found
    assert any("the purchases add up to 1950025" in p for p in found), found


def test_verifier_catches_negative_stock_behind_a_green_summary(tmp_path: Path) -> None:
    out = _horngren_results(tmp_path)
    wb = openpyxl.load_workbook(out, data_only=True)
    (table,) = wb["Inventory"].tables.values()
    rows = list(wb["Inventory"][table.ref])[1:]
    k = next(i for i, r in enumerate(rows) if r[1].value == "DM")
    _set(out, "Inventory", "Ending Qty", k, -27.0)
    found = verify_results(out, _facts())
    assert any("end below zero on hand (e.g. DM at -27)" in p for p in found), found


def test_unlocated_messages_are_flagged() -> None:
    assert unlocated("error: BOM!C14: Qty Per is not a number; type a number\n", "b.xlsx") == []
    assert unlocated("error: Standard Costs!A3: x\n", "b.xlsx") == []
    assert unlocated("error: b.xlsx is damaged; save it again\n", "b.xlsx") == []
    assert unlocated("error: Counts: column missing\n", "b.xlsx") == []
    assert unlocated("error: list index out of range\n", "b.xlsx") != []
    assert unlocated("nothing\n", "b.xlsx") == ["exit 1 without an error line"]


def test_seeds_replay_to_the_same_workbook(tmp_path: Path) -> None:
    from tests.fuzz.cases import build_case

    for seed in (0, 1, 3):  # valid months and invalid values: same cells, same story
        a, b = tmp_path / f"a{seed}.xlsx", tmp_path / f"b{seed}.xlsx"
        ca, cb = build_case(seed, a), build_case(seed, b)
        assert ca.what == cb.what
        assert _cells(a) == _cells(b)


def _cells(path: Path) -> list[tuple[str, tuple[object, ...]]]:
    wb = openpyxl.load_workbook(path)
    return [(ws.title, r) for ws in wb for r in ws.iter_rows(values_only=True)]
