"""End to end through the command line: workbook in, result workbook out, read back."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from pathlib import Path

import openpyxl
import pytest
from result_books import horngren_book, read_table, write_book

from addin.cli import main
from addin.workbook.contract import INPUT_SHEETS, RESULT_TABS


def entries(path: Path) -> dict[str, dict[str, float]]:
    """Journal tab -> {event: {account: signed amount}} (debit +), summed over dates."""
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for row in read_table(path, "Journal"):
        event = row["Memo"].split(":")[0]
        amount = (row["Debit"] or 0) - (row["Credit"] or 0)
        out[event][row["Account"]] = round(out[event].get(row["Account"], 0) + amount, 2)
    return dict(out)


MIP, FG, AP, COGS, CCC, CCA, VARIOUS = "1300", "1400", "2000", "5000", "5100", "5200", "2100"

# backflush-domain.md section 5, column by column
SPEC = {
    "purchase+completion": {
        "Purchase": {MIP: 1_950_000, AP: -1_950_000},
        "Conversion incurred": {CCC: 1_260_000, VARIOUS: -1_260_000},
        "Completion": {FG: 3_100_000, MIP: -1_900_000, CCA: -1_200_000},
        "Sale": {COGS: 3_069_000, FG: -3_069_000},
        "Period-end close": {CCA: 1_200_000, COGS: 60_000, CCC: -1_260_000},
    },
    "purchase+sale": {
        "Purchase": {MIP: 1_950_000, AP: -1_950_000},
        "Conversion incurred": {CCC: 1_260_000, VARIOUS: -1_260_000},
        "Sale": {COGS: 3_069_000, MIP: -1_881_000, CCA: -1_188_000},
        "Period-end close": {CCA: 1_188_000, COGS: 72_000, CCC: -1_260_000},
    },
    "completion": {
        "Conversion incurred": {CCC: 1_260_000, VARIOUS: -1_260_000},
        "Completion": {FG: 3_100_000, AP: -1_900_000, CCA: -1_200_000},
        "Sale": {COGS: 3_069_000, FG: -3_069_000},
        "Period-end close": {CCA: 1_200_000, COGS: 60_000, CCC: -1_260_000},
    },
}
ENDING = {
    "purchase+completion": {MIP: 50_000, FG: 31_000},
    "purchase+sale": {MIP: 69_000},
    "completion": {FG: 31_000},
}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("trigger", list(SPEC))
def test_worked_example_through_the_cli(tmp_path, trigger):
    book = horngren_book(tmp_path / "keyboards.xlsx", trigger)
    before = digest(book)
    out = tmp_path / "results.xlsx"
    assert main(["run", str(book), "--out", str(out), "--quiet"]) == 0
    assert digest(book) == before  # the input is left byte-for-byte untouched
    assert entries(out) == SPEC[trigger]
    inventory = read_table(out, "Inventory")
    for account, value in ENDING[trigger].items():
        assert sum(r["Ending Value"] for r in inventory if r["Account"] == account) == value


def test_rerun_replaces_the_results(tmp_path):
    book = horngren_book(tmp_path / "k.xlsx", "purchase+completion")
    out = tmp_path / "r.xlsx"
    assert main(["run", str(book), "--out", str(out), "--quiet"]) == 0
    first = read_table(out, "Journal")
    assert main(["run", str(book), "--out", str(out), "--quiet"]) == 0
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == list(RESULT_TABS)
    assert read_table(out, "Journal") == first
    assert not list(tmp_path.glob(".*.tmp.xlsx"))  # no temporary files left behind


def test_default_output_goes_beside_the_input(tmp_path, capsys):
    book = horngren_book(tmp_path / "oct.xlsx", "completion")
    assert main(["run", str(book), "--quiet"]) == 0
    assert (tmp_path / "oct - results.xlsx").exists()
    assert "separate workbook" in capsys.readouterr().err


def test_errors_are_listed_with_their_cells_and_nothing_is_written(tmp_path, capsys):
    book = write_book(
        tmp_path / "bad.xlsx",
        {
            "Settings": [
                ["Setting", "Value"],
                ["Period Start", "2026-10-01"],
                ["Period End", "2026-10-31"],
                ["Trigger", "completion"],
            ],
            "Standard Costs": [
                ["Item", "Type", "Material", "Conversion"],
                ["DM", "Raw", 1, 0],
                ["KB", "Finished", 0, 12],
            ],
            "BOM": [["Parent", "Component", "Qty Per"], ["KB", "DM", "abc"], ["KB", "X12", 2]],
        },
    )
    out = tmp_path / "r.xlsx"
    assert main(["run", str(book), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "BOM!C2" in err and "abc" in err
    assert "BOM!B3" in err and "X12" in err
    assert "Traceback" not in err
    assert not out.exists()
    assert main(["validate", str(book)]) == 1


def test_validate_passes_a_clean_book(tmp_path, capsys):
    book = horngren_book(tmp_path / "k.xlsx", "sale")
    assert main(["validate", str(book)]) == 0
    assert "no errors" in capsys.readouterr().out


def test_template_has_every_input_sheet_and_header(tmp_path):
    path = tmp_path / "t.xlsx"
    assert main(["template", str(path)]) == 0
    wb = openpyxl.load_workbook(path)
    for spec in INPUT_SHEETS:
        ws = wb[spec.name]
        header = [c.value for c in ws[1] if c.value]
        required = [c.name for c in spec.columns if c.required]
        assert set(required) <= set(header), spec.name


def test_usage_errors_exit_2(tmp_path):
    with pytest.raises(SystemExit) as e:
        main(["run"])
    assert e.value.code == 2
    book = horngren_book(tmp_path / "k.xlsx", "sale")
    assert main(["run", str(book), "--out", str(book)]) == 2


def test_demo_balances_and_ties(tmp_path):
    assert main(["demo", str(tmp_path), "--quiet"]) == 0
    out = tmp_path / "demo-plant - results.xlsx"
    journal = read_table(out, "Journal")
    by_entry: dict[str, float] = defaultdict(float)
    for r in journal:
        by_entry[r["Entry"]] += round((r["Debit"] or 0) * 100) - round((r["Credit"] or 0) * 100)
    assert by_entry and all(v == 0 for v in by_entry.values())
    # Inventory tab ties to the ledger balances on the Summary
    ledger: dict[str, float] = defaultdict(float)
    for r in journal:
        ledger[r["Account"]] += (r["Debit"] or 0) - (r["Credit"] or 0)
    inventory = read_table(out, "Inventory")
    for account in (MIP, FG):
        opening = sum(r["Opening Value"] for r in inventory if r["Account"] == account)
        ending = sum(r["Ending Value"] for r in inventory if r["Account"] == account)
        assert ending == pytest.approx(opening + ledger[account], abs=0.005)
    assert len(inventory) > 30


def test_backflush_detail_lists_each_source_row(tmp_path):
    from result_books import write_book

    book = write_book(
        tmp_path / "two.xlsx",
        {
            "Settings": [
                ["Setting", "Value"],
                ["Period Start", "2026-10-01"],
                ["Period End", "2026-10-31"],
                ["Trigger", "purchase+completion"],
            ],
            "Standard Costs": [
                ["Item", "Type", "Material", "Conversion"],
                ["R1", "Raw", 2, 0],
                ["R2", "Raw", 0.5, 0],
                ["SA", "Phantom", 0, 1],  # completions of SA not reported: blown through
                ["FG", "Finished", 0, 3],
            ],
            "BOM": [
                ["Parent", "Component", "Qty Per", "Scrap %"],
                ["FG", "SA", 2, 0],
                ["FG", "R2", 4, 0],
                ["SA", "R1", 3, 0.1],
            ],
            "Completions": [
                ["Date", "Item", "Quantity", "Scrap Quantity", "Reference"],
                ["2026-10-05", "FG", 10, 1, "WO-1"],
                ["2026-10-06", "FG", 5, 0, "WO-2"],
            ],
        },
    )
    out = tmp_path / "r.xlsx"
    assert main(["run", str(book), "--out", str(out), "--quiet", "--detail"]) == 0
    rows = read_table(out, "Backflush")
    got = {
        (r["Trigger Event"], r["Reference"], r["Component"]): r["Quantity"]
        for r in rows
        if r["Component"]
    }
    # WO-1's 10 good units and its 1 scrap unit are flushed apart (per FG: R1 = 2 x 3 x 1.1 =
    # 6.6, R2 = 4): Completion R1 66, R2 40; Scrap R1 6.6, R2 4; WO-2's 5 units R1 33, R2 20
    assert got == pytest.approx(
        {
            ("Completion", "WO-1", "R1"): 66,
            ("Completion", "WO-1", "R2"): 40,
            ("Scrap", "WO-1", "R1"): 6.6,
            ("Scrap", "WO-1", "R2"): 4,
            ("Completion", "WO-2", "R1"): 33,
            ("Completion", "WO-2", "R2"): 20,
        }
    )
    assert {r["Source Row"] for r in rows if r["Component"]} == {2, 3}
    # the scrap entry of Oct 5, line by line: 1 FG at 13.20 + 2.00 material + 5.00 conversion
    # (3 own + 2 SA x 1) = 20.20 to scrap; MIP credited R1 6.6 x 2 = 13.20, R2 4 x 0.5 = 2.00
    scrap = [r for r in rows if r["Trigger Event"] == "Scrap"]
    lines = {(r["Line"], r["Component"] or r["Parent"]): (r["Debit"], r["Credit"]) for r in scrap}
    assert lines == {
        ("component", "R1"): (None, 13.2),
        ("component", "R2"): (None, 2.0),
        ("output", "FG"): (20.2, None),
        ("conversion allocated", "FG"): (None, 5.0),
    }


def test_backflush_detail_too_large_is_refused_before_writing(tmp_path, monkeypatch, capsys):
    from addin import app

    monkeypatch.setattr(app, "DETAIL_ROW_LIMIT", 1)
    book = horngren_book(tmp_path / "k.xlsx", "purchase+completion")
    out = tmp_path / "r.xlsx"
    assert main(["run", str(book), "--out", str(out), "--detail"]) == 0  # 1 line fits
    monkeypatch.setattr(app, "DETAIL_ROW_LIMIT", 0)
    out2 = tmp_path / "r2.xlsx"
    assert main(["run", str(book), "--out", str(out2), "--detail"]) == 1
    assert "more than the" in capsys.readouterr().err
    assert not out2.exists()


def test_composed_text_over_the_cell_limit_is_cut_with_a_note_never_silently(tmp_path):
    """An item code of 20,000 characters is valid; the note that it was read in another
    spelling quotes it twice (40,000+ characters), more than a cell holds."""
    code = "K" * 20_000
    book = horngren_book(tmp_path / "k.xlsx", "purchase+completion")
    wb = openpyxl.load_workbook(book)
    wb["Standard Costs"]["A3"] = code
    wb["BOM"]["A2"] = code
    wb["Completions"]["B2"] = code
    wb["Sales"]["B2"] = code.lower()  # read as the Standard Costs spelling, with a note
    wb.save(book)
    out = tmp_path / "r.xlsx"
    assert main(["run", str(book), "--out", str(out), "--quiet"]) == 0
    notes = [r["Message"] for r in read_table(out, "Exceptions") if r["Check"] == "item spelling"]
    (note,) = notes
    total = len(f'item "{code.lower()}" is read as "{code}", its spelling on Standard Costs')
    tail = f" [... cut here: {total:,} characters in all, more than the 32,767 an Excel cell holds]"
    assert len(note) == 32_767 and note.endswith(tail)
    assert note.startswith(f'item "{code.lower()}" is read as "KKK')


def test_page_header_over_excels_limit_is_refused_not_dropped(tmp_path):
    from addin.workbook.writer import OutputError, write_tabs

    with pytest.raises(OutputError, match="more than the 255 Excel holds"):
        write_tabs([], tmp_path / "r.xlsx", company="C" * 240, period="01 Oct 2026 - 31 Oct 2026")
    assert not (tmp_path / "r.xlsx").exists()
