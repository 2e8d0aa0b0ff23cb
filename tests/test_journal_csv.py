"""The journal as CSV for the general ledger: ``backflush export-journal``."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from pathlib import Path

import pandas as pd
import pytest
from result_books import horngren_book

from addin.cli import main
from addin.costing.model import Settings, Trigger
from addin.workbook.journal_csv import (
    CSV_HEADER,
    amount_text,
    journal_rows,
    summary_rows,
    write_journal_csv,
)

SETTINGS = Settings(dt.date(2026, 10, 1), dt.date(2026, 10, 31), Trigger.PURCHASE_COMPLETION)


def tiny_ledger() -> pd.DataFrame:
    """Two entries: a purchase (MIP 100.05 + PPV 0.10 = AP 100.15) and a sale (COGS 40.00 =
    FG 40.00), then a return of 0.05 from MIP to AP (its own entry)."""
    rows = [
        ("BF-0001", "2026-10-02", "1300", "MIP", 10005, 0, "Purchase", "PO-1"),
        ("BF-0001", "2026-10-02", "5300", "PPV", 10, 0, "Purchase", "PO-1"),
        ("BF-0001", "2026-10-02", "2000", "AP", 0, 10015, "Purchase", "PO-1"),
        ("BF-0002", "2026-10-09", "5000", "COGS", 4000, 0, "Sale", "SO-1"),
        ("BF-0002", "2026-10-09", "1400", "FG", 0, 4000, "Sale", "SO-1"),
        ("BF-0003", "2026-10-12", "2000", "AP", 5, 0, "Purchase return", "PO-1R"),
        ("BF-0003", "2026-10-12", "1300", "MIP", 0, 5, "Purchase return", "PO-1R"),
    ]
    cols = ["entry", "date", "account", "account_name", "debit_cents", "credit_cents", "memo"]
    frame = pd.DataFrame([r[:7] for r in rows], columns=cols)
    return frame.assign(date=pd.to_datetime(frame["date"]), reference=[r[7] for r in rows])


def test_amounts_are_text_with_two_decimals_from_cents():
    assert [amount_text(c) for c in (12345, 5, 100, 0, -5, -100010)] == [
        "123.45",
        "0.05",
        "1.00",
        "",
        "-0.05",
        "-1000.10",
    ]


def test_one_row_per_journal_line():
    rows = journal_rows(tiny_ledger())
    assert rows[0] == ["BF-0001", "2026-10-02", "1300", "MIP", "100.05", "", "Purchase", "PO-1"]
    assert rows[2] == ["BF-0001", "2026-10-02", "2000", "AP", "", "100.15", "Purchase", "PO-1"]
    assert rows[5][:6] == ["BF-0003", "2026-10-12", "2000", "AP", "0.05", ""]
    assert len(rows) == 7


def test_text_that_could_run_as_a_formula_is_quoted():
    ledger = tiny_ledger().assign(reference="=HYPERLINK(1)", memo="-5 units")
    row = journal_rows(ledger)[0]
    assert row[6:] == ["'-5 units", "'=HYPERLINK(1)"] and row[4] == "100.05"


def test_summary_is_one_entry_of_each_accounts_net():
    rows = summary_rows(tiny_ledger(), SETTINGS)
    # MIP 100.05 - 0.05 = 100.00 Dr; PPV 0.10 Dr; AP 100.15 - 0.05 = 100.10 Cr; COGS 40.00 Dr;
    # FG 40.00 Cr. Debits 100.00 + 0.10 + 40.00 = 140.10 = credits 100.10 + 40.00.
    got = {r[2]: (r[4], r[5]) for r in rows}
    assert got == {
        "1300": ("100.00", ""),
        "5300": ("0.10", ""),
        "2000": ("", "100.10"),
        "5000": ("40.00", ""),
        "1400": ("", "40.00"),
    }
    assert {r[0] for r in rows} == {"BF-M-2026-10-01"} and {r[1] for r in rows} == {"2026-10-31"}
    assert "7 lines in 3 entries (BF-0001 to BF-0003)" in rows[0][6]


def test_an_account_that_nets_to_zero_has_no_summary_line():
    ledger = tiny_ledger()
    ledger = ledger[ledger["entry"] != "BF-0001"]  # AP then has only the 0.05 Dr, MIP 0.05 Cr
    assert {r[2]: (r[4], r[5]) for r in summary_rows(ledger, SETTINGS)} == {
        "5000": ("40.00", ""),
        "1400": ("", "40.00"),
        "2000": ("0.05", ""),
        "1300": ("", "0.05"),
    }


def test_the_file_is_written_whole_with_a_header(tmp_path):
    out = tmp_path / "j.csv"
    write_journal_csv(journal_rows(tiny_ledger()), out)
    with open(out, encoding="utf-8", newline="") as fh:
        lines = list(csv.reader(fh))
    assert tuple(lines[0]) == CSV_HEADER and len(lines) == 8
    assert [p.name for p in tmp_path.iterdir()] == ["j.csv"]  # no temporary file left


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


MIP, FG, AP, COGS, CCC, CCA, VARIOUS = "1300", "1400", "2000", "5000", "5100", "5200", "2100"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_export_journal_of_the_worked_example(tmp_path):
    """backflush-domain.md section 5 (purchase+completion): the completion entry is FG
    3,100,000.00 Dr (100,000 x 31.00), MIP 1,900,000.00 Cr (100,000 x 19 x 1.00), CCA
    1,200,000.00 Cr (100,000 x 12.00)."""
    book = horngren_book(tmp_path / "keyboards.xlsx", "purchase+completion")
    before = digest(book)
    assert main(["export-journal", str(book), "--quiet"]) == 0
    assert digest(book) == before  # the input is only read
    rows = read_csv(tmp_path / "keyboards - journal.csv")
    completion = [r for r in rows if r["Memo"].startswith("Completion")]
    assert {r["Account"]: (r["Debit"], r["Credit"]) for r in completion} == {
        FG: ("3100000.00", ""),
        MIP: ("", "1900000.00"),
        CCA: ("", "1200000.00"),
    }
    assert len({r["Entry"] for r in completion}) == 1 and completion[0]["Date"] == "2026-10-31"


def test_export_journal_summary_of_the_worked_example(tmp_path):
    """Net per account for the month: MIP 1,950,000 - 1,900,000 = 50,000 Dr; FG 3,100,000 -
    3,069,000 = 31,000 Dr; COGS 3,069,000 + 60,000 = 3,129,000 Dr; AP 1,950,000 Cr; wages
    and other payables 1,260,000 Cr; CCC and CCA close to zero (no line)."""
    book = horngren_book(tmp_path / "keyboards.xlsx", "purchase+completion")
    out = tmp_path / "gl.csv"
    assert main(["export-journal", str(book), "--summary", "--out", str(out), "--quiet"]) == 0
    got = {r["Account"]: (r["Debit"], r["Credit"]) for r in read_csv(out)}
    assert got == {
        MIP: ("50000.00", ""),
        FG: ("31000.00", ""),
        COGS: ("3129000.00", ""),
        AP: ("", "1950000.00"),
        VARIOUS: ("", "1260000.00"),
    }


@pytest.mark.parametrize("name", ["keyboards.xlsx", "out.xlsx"])
def test_export_journal_refuses_an_excel_file_as_output(tmp_path, name, capsys):
    book = horngren_book(tmp_path / "keyboards.xlsx", "purchase+completion")
    before = digest(book)
    assert main(["export-journal", str(book), "--out", str(tmp_path / name)]) == 2
    assert "Nothing was written" in capsys.readouterr().err
    assert digest(book) == before and sorted(p.name for p in tmp_path.iterdir()) == [
        "keyboards.xlsx"
    ]
