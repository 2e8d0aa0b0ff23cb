"""The month's movements and balances: Purchases, Completions, Sales, Conversion Costs, Counts,
Opening Balances. Each row's item must be on Standard Costs and of a type that can move that
way; dated rows must fall in the period."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pandas as pd

from addin.costing.model import Severity
from addin.workbook import contract as C
from addin.workbook.reader import column_letters
from addin.workbook.validation.columns import Frame
from addin.workbook.validation.frames import empty, engine_frame, num
from addin.workbook.validation.items import Items, check_period, map_item_ids, type_rule
from addin.workbook.validation.report import MAX_FINDINGS_PER_RULE, Report
from addin.workbook.validation.settings import Period

_NEVER_STOCKED = "phantoms are never stocked; use its parent or its components instead"

Builder = Callable[[Frame, Items, Period | None, Report], pd.DataFrame]


def _purchases(f: Frame, items: Items, period: Period | None, report: Report) -> pd.DataFrame:
    item, item_id = map_item_ids(f, "Item", items, report)
    type_rule(
        f, "Item", item, items, ("Subassembly", "Finished", "Phantom"),
        "only Raw items are purchased; record it on Completions, or change its Type on "
        "Standard Costs", report,
    )  # fmt: skip
    check_period(f, period, report)
    _charge_rows(f, item, report)
    _unread_costs(f, report)
    return engine_frame(f, {"item": items.column(item_id)})


class _Rule(NamedTuple):
    """A row rule of one column: the rows it flags and the message after the column name."""

    column: str
    check: str
    severity: Severity
    rows: np.ndarray
    tail: str


def _charge_rows(f: Frame, item: np.ndarray, report: Report) -> None:
    """A row without Quantity must carry Charges (a later charge on the item); a row with
    Quantity needs its Unit Price; a Unit Price on a charge row is not used (a warning).
    Cells already reported (unreadable, or blank where no Charges excuse them) are left."""
    none = np.zeros(len(f), dtype=bool)
    bad_q, bad_p, bad_c = (f.bad.get(c, none) for c in ("Quantity", "Unit Price", "Charges"))
    qty, price, charges = num(f, "Quantity"), num(f, "Unit Price"), num(f, "Charges")
    has_qty = ~np.isnan(qty) & (qty != 0)
    has_charges = ~np.isnan(charges) & (charges != 0)
    excused = ~np.isnan(charges) & ~bad_c  # a Charges cell filled: blanks not yet reported
    nothing = ~has_qty & ~has_charges & ~bad_q & ~bad_c
    hint = (
        "it posts nothing; type the units received (below 0 for a return to the vendor), the "
        "Charges of a later charge on the item, or delete the row"
    )
    rules = (
        _Rule("Quantity", "zero quantity", Severity.ERROR, nothing & (qty == 0),
              f"is 0 and the row has no Charges: {hint}"),
        _Rule("Quantity", "blank", Severity.ERROR, nothing & np.isnan(qty) & excused,
              f"is blank and Charges is 0: {hint}"),
        _Rule("Unit Price", "blank", Severity.ERROR,
              np.isnan(price) & ~bad_p & has_qty & excused,
              "is blank; type the actual price per unit (only a charge row, without Quantity, "
              "may leave it blank)"),
        _Rule("Unit Price", "unit price not used", Severity.WARNING,
              ~has_qty & has_charges & ~np.isnan(price) & (price != 0),
              "is not used on a charge row (no Quantity): only its Charges are posted, to the "
              "price variance; clear it, or type the Quantity if goods were received"),
    )  # fmt: skip
    for rule in rules:
        _emit(f, item, rule, report)


def _emit(f: Frame, item: np.ndarray, rule: _Rule, report: Report) -> None:
    """The findings of ``rule`` at their cells, capped per rule and column."""
    group = f.table.letter(rule.column)
    for k in np.flatnonzero(rule.rows)[:MAX_FINDINGS_PER_RULE].tolist():
        report.add(
            rule.severity, rule.check, f"{rule.column} {rule.tail}", f.table.sheet,
            f.cell(rule.column, k), item=str(item[k] or ""), group=group,
        )  # fmt: skip
    extra = int(rule.rows.sum()) - MAX_FINDINGS_PER_RULE
    report.skipped(rule.severity, rule.check, f.table.sheet, group, extra)


def _unread_costs(f: Frame, report: Report) -> None:
    """An info finding per column whose header looks like a cost of the purchase but which
    the run does not read (only Charges is): nothing is left out of the price variance in
    silence."""
    for ws_col, header in f.table.watched:
        letter = column_letters(ws_col)
        report.add(
            Severity.INFO,
            "cost column not read",
            f'column "{header}" ({letter}) is not read: put {header.lower()} in Charges to '
            "include it in the price variance (materials stay at standard)",
            f.table.sheet,
            f"{letter}{f.table.header_row}",
        )


def _zero_completions(f: Frame, item: np.ndarray, report: Report) -> None:
    """A completion row with Quantity and Scrap Quantity both 0 posts nothing: a warning."""
    zero = (num(f, "Quantity") == 0) & (num(f, "Scrap Quantity", 0.0) == 0)
    for k in np.flatnonzero(zero)[:MAX_FINDINGS_PER_RULE].tolist():
        report.add(
            Severity.WARNING,
            "zero completion",
            "Quantity and Scrap Quantity are both 0; the row posts nothing. Delete it or "
            "fill in the quantity",
            f.table.sheet,
            f.cell("Quantity", k),
            item=str(item[k]),
        )


def _completions(f: Frame, items: Items, period: Period | None, report: Report) -> pd.DataFrame:
    item, item_id = map_item_ids(f, "Item", items, report)
    type_rule(
        f, "Item", item, items, ("Raw", "Phantom"),
        "only Subassembly and Finished items are completed; correct the item or its Type "
        "on Standard Costs", report,
    )  # fmt: skip
    check_period(f, period, report)
    _zero_completions(f, item, report)
    return engine_frame(f, {"item": items.column(item_id)})


def _sales(f: Frame, items: Items, period: Period | None, report: Report) -> pd.DataFrame:
    item, item_id = map_item_ids(f, "Item", items, report)
    type_rule(f, "Item", item, items, ("Phantom",), _NEVER_STOCKED, report)
    check_period(f, period, report)
    zero = _Rule(
        "Quantity", "zero quantity", Severity.ERROR, num(f, "Quantity") == 0,
        "is 0; type the units sold (below 0 for a customer return), or delete the row",
    )  # fmt: skip
    _emit(f, item, zero, report)
    return engine_frame(f, {"item": items.column(item_id)})


def _opening(f: Frame, items: Items, period: Period | None, report: Report) -> pd.DataFrame:
    item, item_id = map_item_ids(f, "Item", items, report)
    type_rule(f, "Item", item, items, ("Phantom",), _NEVER_STOCKED, report)
    _negative_opening(f, item, report)
    return engine_frame(f, {"item": items.column(item_id)})


def _negative_opening(f: Frame, item: np.ndarray, report: Report) -> None:
    """An opening quantity below zero is carried (last month closed below zero), with a
    warning: the receipt or count that explains it has not been entered yet."""
    below = num(f, "Quantity") < 0
    for k in np.flatnonzero(below)[:MAX_FINDINGS_PER_RULE].tolist():
        qty = float(f.values["Quantity"][k])
        report.add(
            Severity.WARNING,
            "negative opening",
            f"Quantity is {qty:,.10g}: the stock was below zero at last close. It is carried "
            "as it is; an unreported receipt or a count should explain it: find it and enter "
            "it on this month's sheets",
            f.table.sheet,
            f.cell("Quantity", k),
            item=str(item[k] or ""),
            group=f.table.letter("Quantity"),
        )
    report.skipped(
        Severity.WARNING, "negative opening", f.table.sheet, f.table.letter("Quantity"),
        int(below.sum()) - MAX_FINDINGS_PER_RULE,
    )  # fmt: skip


def _counts(f: Frame, items: Items, period: Period | None, report: Report) -> pd.DataFrame:
    item, item_id = map_item_ids(f, "Item", items, report)
    type_rule(f, "Item", item, items, ("Phantom",), _NEVER_STOCKED, report)
    check_period(f, period, report)
    _duplicate_counts(f, item, report)
    return engine_frame(f, {"item": items.column(item_id)})


def _duplicate_counts(f: Frame, item: np.ndarray, report: Report) -> None:
    first: dict[str, int] = {}
    for k, code in enumerate(item.tolist()):
        if code is None:
            continue
        if code in first:
            report.error(
                "duplicate count",
                f'item "{code}" is counted twice (also row {int(f.rows[first[code]])}); keep '
                "one row with the total counted quantity",
                f.table.sheet,
                f.cell("Item", k),
                item=code,
            )
        else:
            first[code] = k


_BUILDERS: dict[str, Builder] = {
    C.PURCHASES: _purchases,
    C.COMPLETIONS: _completions,
    C.SALES: _sales,
    C.COUNTS: _counts,
    C.OPENING_BALANCES: _opening,
}


def parse_movements(
    name: str, f: Frame | None, items: Items | None, period: Period | None, report: Report
) -> pd.DataFrame:
    """The frame of sheet ``name``; empty when the sheet (or, for item sheets, Standard Costs)
    could not be read, the dates still checked against the period where there are any."""
    spec = C.SHEETS_BY_NAME[name]
    build = _BUILDERS.get(name)
    if f is None:
        return empty(spec)
    if build is None:  # Conversion Costs: no item
        check_period(f, period, report)
        return engine_frame(f, {})
    if items is None:  # Standard Costs could not be read: the dates are still checked
        if name != C.OPENING_BALANCES:
            check_period(f, period, report)
        return empty(spec)
    return build(f, items, period, report)
