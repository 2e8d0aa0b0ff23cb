"""Items: the item map from Standard Costs, and item columns of other sheets mapped onto it.

Item codes match ignoring case and surrounding spaces; the spelling on Standard Costs is the
one used in results (a different spelling is noted, an unknown code is an error).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from addin.costing.model import Severity
from addin.workbook.cells import normalize_name
from addin.workbook.validation.columns import Frame
from addin.workbook.validation.report import MAX_FINDINGS_PER_RULE, Report
from addin.workbook.validation.settings import Period


@dataclass
class Items:
    canonical: dict[str, str]  # normalised code -> spelling on Standard Costs
    types: dict[str, str]  # canonical code -> item type
    numbers: dict[str, int] = field(default_factory=dict)  # canonical code -> 0, 1, 2, ...
    _dtype: pd.CategoricalDtype | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.numbers:
            self.numbers = {c: i for i, c in enumerate(self.canonical.values())}

    def column(self, ids: np.ndarray) -> pd.Categorical:
        """An item column for the engine: a categorical over the Standard Costs items in their
        order, built from the item numbers (-1 = none) without hashing the codes again."""
        if self._dtype is None:
            self._dtype = pd.CategoricalDtype(list(self.canonical.values()))
        return pd.Categorical.from_codes(ids, dtype=self._dtype, validate=False)


def _keys(values: Iterable[object]) -> list[str]:
    """``normalize_name`` for many values; plain strings take a quicker route."""
    return [
        " ".join(v.split()).casefold() if isinstance(v, str) else normalize_name(v) for v in values
    ]


def _lookup(values: np.ndarray, fn: Callable[[object], object]) -> np.ndarray:
    """``fn`` applied to each distinct value (None stays None), spread back to every cell."""
    codes, uniques = pd.factorize(values)
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[:-1] = [fn(u) for u in uniques]
    mapped[-1] = None
    return mapped[codes]


def item_keys(f: Frame, col: str = "Item") -> np.ndarray:
    """The normalised code of each row of an item column (for matching)."""
    keys = np.empty(len(f), dtype=object)
    keys[:] = _keys(f.values[col])
    return keys


def canonical_items(
    f: Frame, report: Report, rows: np.ndarray | None = None
) -> tuple[Items, np.ndarray]:
    """The item map from Standard Costs (from ``rows`` only, when given: the standards in force
    at Period Start); duplicates are errors. Returns the keep mask too."""
    codes = f.values["Item"]
    keys = item_keys(f)
    usable = ~f.bad["Item"] if rows is None else ~f.bad["Item"] & rows
    idx = np.flatnonzero(usable)
    dup = pd.Series(keys[idx]).duplicated(keep="first").to_numpy()
    keep = usable.copy()
    keep[idx[dup]] = False
    firsts = idx[~dup]
    canonical = dict(zip(keys[firsts].tolist(), codes[firsts].astype(str).tolist(), strict=True))
    first_row = dict(zip(keys[firsts].tolist(), firsts.tolist(), strict=True))
    for k in idx[dup].tolist():
        j = first_row[keys[k]]
        report.error(
            "duplicate item",
            f'item "{codes[k]}" is already on row {int(f.rows[j])} ("{codes[j]}"); each item '
            "needs exactly one row: delete or merge one of them",
            f.table.sheet,
            f.cell("Item", k),
            item=str(codes[j]),
        )
    types: dict[str, str] = {}
    if "Type" in f.values:
        ok = np.flatnonzero(keep & ~f.bad["Type"])
        types = dict(
            zip(codes[ok].astype(str).tolist(), f.values["Type"][ok].tolist(), strict=True)
        )
    return Items(canonical, types), keep


def _report_spellings(
    f: Frame, col: str, idx: np.ndarray, codes: np.ndarray, found: tuple[object, np.ndarray],
    report: Report,
) -> None:  # fmt: skip
    """One finding per distinct code at ``idx`` (cells whose code is not the canonical one):
    an error for a code not on Standard Costs, a note for another spelling of one that is."""
    uniques, canon = found
    letter = f.table.letter(col)
    flagged, first, count = np.unique(codes[idx], return_index=True, return_counts=True)
    for u_code, pos, n in zip(flagged.tolist(), first.tolist(), count.tolist(), strict=True):
        u, c = uniques[u_code], canon[u_code]  # type: ignore[index]
        cell = f.cell(col, int(idx[pos]))
        more = f" (and {n - 1:,} more rows)" if n > 1 else ""
        if c is None:
            report.error(
                "unknown item",
                f'item "{u}" is not on Standard Costs; add it there or correct the code{more}',
                f.table.sheet, cell, item=str(u), group=letter,
            )  # fmt: skip
        else:
            report.add(
                Severity.INFO, "item spelling",
                f'item "{u}" is read as "{c}", its spelling on Standard Costs{more}',
                f.table.sheet, cell, item=c, group=letter,
            )  # fmt: skip


def map_item_ids(f: Frame, col: str, items: Items, report: Report) -> tuple[np.ndarray, np.ndarray]:
    """Canonical codes for an item column (unknown codes become None, reported once each),
    plus each row's item as an int (its row among the canonical items;
    -1 for none), for grouping by item without hashing the strings again."""
    values = f.values[col]
    ok = ~f.bad[col]
    codes, uniques = pd.factorize(values)
    canon = np.empty(len(uniques) + 1, dtype=object)
    get = items.canonical.get
    canon[:-1] = [get(k) for k in _keys(uniques)]
    canon[-1] = None
    out = canon[codes]
    out[~ok] = None
    number = items.numbers.get
    u_ids = np.array([number(c, -1) for c in canon[:-1].tolist()] + [-1], dtype=np.int64)
    ids = u_ids[codes]
    ids[~ok] = -1
    flag_u = np.array([c != u for c, u in zip(canon[:-1], uniques, strict=True)] + [False])
    idx = np.flatnonzero(flag_u[codes] & ok)
    if len(idx):
        _report_spellings(f, col, idx, codes, (uniques, canon), report)
    return out, ids


def type_rule(
    f: Frame,
    col: str,
    items_col: np.ndarray,
    items: Items,
    banned: tuple[str, ...],
    why: str,
    report: Report,
) -> np.ndarray:
    """Errors for rows whose item has a banned type; returns the bad mask."""
    types = _lookup(items_col, lambda c: items.types.get(str(c), ""))
    bad = pd.Series(types, dtype=object).isin(banned).to_numpy()
    for k in np.flatnonzero(bad)[:MAX_FINDINGS_PER_RULE].tolist():
        code = items_col[k]
        report.error(
            "item type",
            f'item "{code}" is {types[k]}; {why}',
            f.table.sheet,
            f.cell(col, k),
            item=str(code),
            group=f.table.letter(col),
        )
    report.skipped(
        Severity.ERROR, "item type", f.table.sheet, f.table.letter(col),
        int(bad.sum()) - MAX_FINDINGS_PER_RULE,
    )  # fmt: skip
    return bad


def check_period(f: Frame, period: Period | None, report: Report) -> np.ndarray:
    """Errors for dates outside the period; returns the mask of those rows."""
    if period is None or "Date" not in f.values:
        return np.zeros(len(f), dtype=bool)
    dates = f.values["Date"]
    start = np.datetime64(period.start, "ns")
    end = np.datetime64(period.end, "ns")
    outside = ~np.isnat(dates) & ((dates < start) | (dates > end)) & ~f.bad["Date"]
    span = f"{period.start:%Y-%m-%d} to {period.end:%Y-%m-%d}"
    idx = np.flatnonzero(outside)
    for k in idx[:MAX_FINDINGS_PER_RULE].tolist():
        d = pd.Timestamp(dates[k])
        report.error(
            "outside period",
            f"Date {d:%Y-%m-%d} is outside the period {span}; correct the date, or the "
            "period on Settings",
            f.table.sheet,
            f.cell("Date", k),
            group=f.table.letter("Date"),
        )
    report.skipped(
        Severity.ERROR, "outside period", f.table.sheet, f.table.letter("Date"),
        len(idx) - MAX_FINDINGS_PER_RULE,
    )  # fmt: skip
    return outside
