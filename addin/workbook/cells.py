"""One reading of a cell: numbers, money text, percentages, dates, yes/no words, Excel errors.

Validation (:mod:`addin.workbook.validation`), the worksheet functions
(:mod:`addin.workbook.ranges`) and the xlwings reader (:mod:`addin.excel.sheets`) read cells
through this module, so a cell means the same wherever it is read:

- numbers: Excel numbers; text "1,234.50", "(12.00)" (negative), "$5", " 7 "; "12%" only in a
  percent column (0.12). Commas are thousands separators only ("1,5" is refused, not 15);
- dates: Excel dates (a time of day is dropped), ISO text "2026-10-31", Excel serials from
  1990 to 2100; dates Excel cannot hold as datetime64 are refused, except where a far date
  means "open-ended" (effectivity), where they read as blank;
- yes/no: Yes/Y/True/1/x and No/N/False/0, any case;
- Excel's error values (#N/A, #REF!, ...), in any case with spaces around: a bad cell.

:func:`read_cell` returns ``(value, problem)``; ``problem`` completes the sentence
"<Column> ..." and says what to type, e.g. ``is "abc", not a number; type a number``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from enum import Enum
from typing import Protocol

import pandas as pd


class Kind(str, Enum):
    """What a column holds, which decides how a cell is parsed and what the error says."""

    TEXT = "text"  # a code or a description; numbers are turned into text ("1001")
    NUMBER = "number"  # a finite number; numbers stored as text ("1,234.50", "(12.00)") accepted
    DATE = "date"  # an Excel date (or ISO text "2026-10-31")
    PERCENT = "percent"  # what Excel stores for a % cell: 10% is 0.10; > 1 is an error
    CHOICE = "choice"  # one of a fixed set of words, case-insensitive
    YESNO = "yesno"  # Yes/No, Y/N, True/False, 1/0


YES_WORDS = frozenset({"yes", "y", "true", "1", "x"})  # Backflush = Yes (an "x" ticks it)
NO_WORDS = frozenset({"no", "n", "false", "0"})

# Every error value Excel shows in a cell (the classic seven and the dynamic-array,
# data-type and connection errors of Excel 365). A cell holding one is a bad cell.
EXCEL_ERRORS: frozenset[str] = frozenset(
    {
        "#NULL!",
        "#DIV/0!",
        "#VALUE!",
        "#REF!",
        "#NAME?",
        "#NUM!",
        "#N/A",
        "#GETTING_DATA",
        "#SPILL!",
        "#CALC!",
        "#FIELD!",
        "#BLOCKED!",
        "#CONNECT!",
        "#BUSY!",
        "#UNKNOWN!",
        "#EXTERNAL!",
        "#PYTHON!",
        "#TIMEOUT!",
    }
)

FIRST_SERIAL = 32874  # Excel serial of 1990-01-01: smaller numbers are not taken as dates
LAST_SERIAL = 73415  # Excel serial of 2100-12-31
EXCEL_EPOCH = dt.datetime(1899, 12, 30)  # serial 0 in Excel's 1900 date system
FIRST_DATE = dt.date(1900, 1, 1)  # typed dates outside these are refused (or, for effectivity,
LAST_DATE = dt.date(2261, 12, 31)  # read as blank): beyond them no datetime64[ns] holds them
DATE_HINT = "type a date such as 2026-10-31"

_NUM = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?")
_CURRENCY = "$€£¥"


def normalize_name(name: object) -> str:
    """How sheet names, headers, item codes and choices are compared: trimmed, case-folded."""
    return " ".join(str(name).split()).casefold()


def is_blank(v: object) -> bool:
    """None, NaN, or text of spaces only."""
    if v is None:
        return True
    if isinstance(v, float):
        return math.isnan(v)
    return isinstance(v, str) and not v.strip()


def excel_error(v: object) -> str | None:
    """The Excel error value a cell holds ("#N/A"), in Excel's spelling; None for any other."""
    if isinstance(v, str) and (e := v.strip().upper()) in EXCEL_ERRORS:
        return e
    return None


def text(v: object) -> str:
    """A cell as text: numbers without a trailing ".0" (1001.0 -> "1001"), dates as ISO."""
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return str(v).strip()


def number_text(x: float) -> str:
    """A number as an accountant would type it: 5, 0.05, 1234.5."""
    return f"{x:,.10g}" if abs(x) >= 1e6 else f"{x:.10g}"


def number_from_text(t: str, percent: bool = False) -> float | None:
    """ "1,234.50" -> 1234.5, "(12.00)" -> -12, " 7 " -> 7, "$5" -> 5; "12%" -> 0.12 only when
    ``percent``; None when the text is not a number. Commas are thousands separators only."""
    t = t.strip().replace("\u00a0", "")
    neg = False
    if t.startswith("(") and t.endswith(")"):
        neg, t = True, t[1:-1].strip()
    if t[:1] in ("-", "+"):
        neg, t = neg != (t[0] == "-"), t[1:].strip()
    if t and t[0] in _CURRENCY:
        t = t[1:].strip()
        if t[:1] == "-":
            neg, t = not neg, t[1:].strip()
    scale = 1.0
    if t.endswith("%"):
        if not percent:
            return None
        scale, t = 0.01, t[:-1].strip()
    if not _NUM.fullmatch(t):
        return None
    x = float(t.replace(",", "")) * scale
    return -x if neg else x


def choice_key(v: object) -> str:
    """How a choice is matched: case, spaces, "_" and "-" do not count."""
    return normalize_name(v).replace(" ", "").replace("_", "").replace("-", "")


def time_text(v: object) -> str:
    if isinstance(v, dt.timedelta):
        minutes = int(v.total_seconds() // 60)
        return f"{minutes // 60}:{minutes % 60:02d}"
    return f"{v:%H:%M}" if isinstance(v, dt.time) else str(v)


Read = tuple[object, str | None]


class ColumnRule(Protocol):
    """What reading a cell needs of a contract column (addin.workbook.contract.Column)."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> Kind: ...
    @property
    def choices(self) -> tuple[str, ...]: ...
    @property
    def open_ended(self) -> bool: ...


def read_cell(v: object, col: ColumnRule) -> Read:
    """(value, problem) for one non-blank cell of ``col``; ``problem`` completes "<Column> ..."."""
    error = excel_error(v)
    if error is not None:
        return None, f"is {error} (an Excel error); fix the formula or type the {col.name.lower()}"
    kind = col.kind
    if kind is Kind.TEXT:
        return text(v), None
    if kind is Kind.CHOICE:
        return read_choice(v, col.choices)
    if kind is Kind.YESNO:
        return read_yes_no(v)
    if kind in (Kind.NUMBER, Kind.PERCENT):
        return read_number(v, percent=kind is Kind.PERCENT)
    return read_date(v, open_ended=col.open_ended)


def read_choice(v: object, choices: tuple[str, ...]) -> Read:
    for c in choices:
        if choice_key(c) == choice_key(v):
            return c, None
    return None, f'is "{text(v)}"; use one of: {", ".join(choices)}'


def read_yes_no(v: object) -> Read:
    if isinstance(v, bool):
        return v, None
    key = normalize_name(text(v))
    if key in YES_WORDS:
        return True, None
    if key in NO_WORDS:
        return False, None
    return None, f'is "{text(v)}"; type Yes or No'


def read_number(v: object, percent: bool = False) -> Read:
    """A number (a float); "12%" is 0.12 when ``percent`` and refused otherwise."""
    what = "a percentage such as 5%" if percent else "a number"
    if isinstance(v, bool):
        return None, f"is {'TRUE' if v else 'FALSE'}, not a number; type {what}"
    if isinstance(v, (int, float)):
        return float(v), None
    if isinstance(v, (dt.date, dt.datetime)):
        return None, f"is a date ({v:%Y-%m-%d}), not a number; type {what}"
    if isinstance(v, (dt.time, dt.timedelta)):
        return None, f"is a time ({time_text(v)}), not a number; type {what}"
    if isinstance(v, str):
        x = number_from_text(v, percent=percent)
        if x is not None:
            return x, None
        if not percent and number_from_text(v, percent=True) is not None:
            return None, f'is "{v.strip()}", a percentage; type a plain number'
        return None, f'is "{v.strip()}", not a number; type {what}'
    return None, f"is {v!r}, not a number; type {what}"


def _date_in_range(d: dt.date, open_ended: bool) -> Read:
    """A calendar date as a day Timestamp, or why it is refused (outside FIRST_DATE..LAST_DATE).

    An effectivity date far out (SAP's 9999-12-31 "no end", or 0001-01-01 "always") means the
    same as a blank cell and is read as blank (None, no problem); elsewhere it is a typing
    mistake."""
    if isinstance(d, dt.datetime):
        d = d.date()
    if FIRST_DATE <= d <= LAST_DATE:
        return pd.Timestamp(d.year, d.month, d.day), None
    if open_ended:
        return None, None
    return None, (
        f"is {d.isoformat()}, a date outside {FIRST_DATE.year} to {LAST_DATE.year}; {DATE_HINT}"
    )


def read_date(v: object, open_ended: bool = False) -> Read:
    """A day (Timestamp at midnight) from a date, an Excel serial or ISO text."""
    if isinstance(v, (dt.date, dt.datetime)):  # a datetime's time of day is dropped
        return _date_in_range(v, open_ended)
    if isinstance(v, bool):
        return None, f"is {'TRUE' if v else 'FALSE'}, not a date; {DATE_HINT}"
    if isinstance(v, (int, float)):
        if FIRST_SERIAL <= v <= LAST_SERIAL:
            return pd.Timestamp(EXCEL_EPOCH + dt.timedelta(days=int(v))), None
        return None, f"is {number_text(float(v))}, not a date; {DATE_HINT}"
    if isinstance(v, str):
        s = v.strip()
        try:
            parsed = dt.datetime.fromisoformat(s)
        except ValueError:
            return None, f'is "{s}", not a date; {DATE_HINT} (or as an Excel date)'
        return _date_in_range(parsed, open_ended)
    if isinstance(v, (dt.time, dt.timedelta)):
        return None, f"is a time ({time_text(v)}) with no date; {DATE_HINT}"
    return None, f"is {v!r}, not a date; {DATE_HINT}"


def column_letters(col: int) -> str:
    """1 -> "A", 27 -> "AA"."""
    letters = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_ref(row: int, col: int) -> str:
    """1-based (row, column) -> "C14"."""
    return f"{column_letters(col)}{row}"
