"""The month's journal as a CSV file a general ledger can import.

One row per journal line (``journal_rows``), or with ``summary`` one entry for the month with
one line per account, its net of the month (``summary_rows``). Amounts are text with two
decimals made from whole cents (the engine's cents are already rounded half-up, so no
rounding happens here); the side not used is blank. UTF-8, comma-separated, a header row.
The file is written atomically (a temporary file beside it, then renamed).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from addin.costing.model import Settings
from addin.workbook.writer import atomic_write

CSV_HEADER = ("Entry", "Date", "Account", "Description", "Debit", "Credit", "Memo", "Reference")


def amount_text(cents: int) -> str:
    """Whole cents as text with two decimals (12345 -> "123.45", -5 -> "-0.05"); "" for 0."""
    if cents == 0:
        return ""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}{whole}.{part:02d}"


def amount_texts(cents: npt.ArrayLike) -> list[str]:
    """``amount_text`` of each of many cents, vectorised."""
    c = np.asarray(cents, dtype=np.int64)
    size = np.abs(c)
    whole = (size // 100).astype(str)
    part = np.char.zfill((size % 100).astype(str), 2)
    text = np.char.add(np.char.add(np.where(c < 0, "-", ""), whole), np.char.add(".", part))
    return np.where(c == 0, "", text).tolist()


def _date_text(d: object) -> str:
    return pd.Timestamp(d).strftime("%Y-%m-%d")  # type: ignore[arg-type]


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""Text starting so could run as a formula when the CSV is opened in a spreadsheet: it is
written with a leading apostrophe (amounts are never text of this kind)."""


def _texts(column: pd.Series) -> list[str]:
    texts = column.astype(object).fillna("").astype(str)
    return texts.where(~texts.str.startswith(FORMULA_START), "'" + texts).tolist()


def journal_rows(journal: pd.DataFrame) -> list[list[str]]:
    """One CSV row per journal line (results.JOURNAL), in journal order: the entry, its date,
    the account, its name as the description, debit or credit, the entry's memo and
    references."""
    dates = pd.to_datetime(journal["date"]).dt.strftime("%Y-%m-%d")
    columns = [
        _texts(journal["entry"]),
        dates.tolist(),
        _texts(journal["account"]),
        _texts(journal["account_name"]),
        amount_texts(journal["debit_cents"]),
        amount_texts(journal["credit_cents"]),
        _texts(journal["memo"]),
        _texts(journal["reference"]),
    ]
    return [list(row) for row in zip(*columns, strict=True)]


def summary_entry_id(settings: Settings) -> str:
    """The month's summary entry: BF-M-<period start>, e.g. BF-M-2026-10-01."""
    return f"BF-M-{settings.period_start:%Y-%m-%d}"


def summary_rows(journal: pd.DataFrame, settings: Settings) -> list[list[str]]:
    """One entry dated Period End: per account (in journal order of first use) the month's
    debits less credits, on the debit side when positive, the credit side when negative;
    accounts whose month nets to zero are left out. Balances when the journal does."""
    if not len(journal):
        return []
    net = journal["debit_cents"].to_numpy(np.int64) - journal["credit_cents"].to_numpy(np.int64)
    lines = journal.assign(net=net).groupby("account", sort=False)
    by_account = lines.agg(net=("net", "sum"), title=("account_name", "first"))
    entries = journal["entry"].nunique()
    memo = (
        f"Backflush month-end {settings.period_start:%Y-%m-%d} to "
        f"{settings.period_end:%Y-%m-%d}: net of {len(journal)} lines in {entries} entries "
        f"({journal['entry'].iloc[0]} to {journal['entry'].iloc[-1]})"
    )
    entry, day = summary_entry_id(settings), _date_text(settings.period_end)
    return [
        [entry, day, *_texts(pd.Series([account, r.title]))]
        + [amount_text(max(c, 0)), amount_text(max(-c, 0)), memo, ""]
        for account, r in by_account.iterrows()
        if (c := int(r.net)) != 0
    ]


def write_journal_csv(rows: list[list[str]], path: Path) -> None:
    """Write the header and ``rows`` to ``path`` atomically (OutputError when it cannot)."""

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(CSV_HEADER)
            out.writerows(rows)

    atomic_write(path, write)


def default_csv(input_path: Path, summary: bool) -> Path:
    """Beside the input: '<input> - journal.csv' (or '- journal summary.csv')."""
    return input_path.with_name(f"{input_path.stem} - journal{' summary' if summary else ''}.csv")


__all__ = [
    "CSV_HEADER",
    "amount_text",
    "amount_texts",
    "default_csv",
    "journal_rows",
    "summary_entry_id",
    "summary_rows",
    "write_journal_csv",
]
