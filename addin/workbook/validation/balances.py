"""GL Balances and History: the general ledger's own inventory balances (for the tie-out) and
the key figures of earlier months (carried by ``backflush next``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from addin.costing.model import Account
from addin.workbook import contract as C
from addin.workbook.cells import normalize_name
from addin.workbook.validation.columns import Frame
from addin.workbook.validation.frames import empty, engine_frame
from addin.workbook.validation.report import Report
from addin.workbook.validation.settings import Period

GL_ROLES = C.ACCOUNT_CODES_FOR_OPENING  # the inventory roles the GL tie-out compares: MIP, FG


def _gl_codes(accounts: dict[str, Account]) -> dict[str, str]:
    """Normalised GL code -> the code as the chart spells it, for the inventory roles."""
    return {normalize_name(accounts[r].code): accounts[r].code for r in GL_ROLES if r in accounts}


def parse_gl_balances(
    f: Frame | None, accounts: dict[str, Account], report: Report
) -> pd.DataFrame:
    """The GL Balances frame: one row per inventory account (its code as on Accounts, or the
    default chart); any other code, or a code given twice, is a located error."""
    spec = C.SHEETS_BY_NAME[C.GL_BALANCES]
    if f is None:
        return empty(spec)
    codes = _gl_codes(accounts)
    roles = ", ".join(f"{accounts[r].code} ({r})" for r in GL_ROLES if r in accounts)
    account = np.array(f.values["Account"], dtype=object)
    first: dict[str, int] = {}
    for k, code in enumerate(account.tolist()):
        if f.bad["Account"][k]:
            continue
        key = normalize_name(code)
        if key not in codes:
            report.error(
                "unknown GL account",
                f'Account "{code}" is not an inventory account; the GL tie-out compares the '
                f"inventory accounts only: use {roles} (as the Accounts sheet names them)",
                f.table.sheet, f.cell("Account", k),
            )  # fmt: skip
        elif key in first:
            report.error(
                "duplicate GL account",
                f'Account "{code}" is given twice (also row {int(f.rows[first[key]])}); keep one '
                "row per account with the GL's balance",
                f.table.sheet, f.cell("Account", k),
            )  # fmt: skip
        else:
            first[key] = k
            account[k] = codes[key]
    return engine_frame(f, {"account": account})


def parse_history(f: Frame | None, period: Period | None, report: Report) -> pd.DataFrame:
    """The History frame: earlier months' key figures. A month that does not end before this
    Period Start, or a (month, figure) given twice, is a located error: the Summary would
    otherwise have to pick one row and drop the other in silence."""
    spec = C.SHEETS_BY_NAME[C.HISTORY]
    if f is None:
        return empty(spec)
    start, end = f.values["Period Start"], f.values["Period End"]
    figure = f.values["Figure"]
    readable = ~(f.bad["Period Start"] | f.bad["Period End"] | f.bad["Figure"])
    first: dict[tuple[object, object, str], int] = {}
    for k in np.flatnonzero(readable & ~np.isnat(start) & ~np.isnat(end)).tolist():
        s, e = pd.Timestamp(start[k]), pd.Timestamp(end[k])
        if period is not None and e.date() >= period.start:
            report.error(
                "history not earlier",
                f"History row for {s:%Y-%m-%d} to {e:%Y-%m-%d} does not end before this Period "
                f"Start {period.start:%Y-%m-%d}; History holds earlier months only: delete the "
                "row (the Summary shows this month from this run)",
                f.table.sheet, f.cell("Period End", k),
            )  # fmt: skip
            continue
        key = (s, e, normalize_name(figure[k]))
        if key in first:
            report.error(
                "duplicate history figure",
                f'"{figure[k]}" for {s:%Y-%m-%d} to {e:%Y-%m-%d} is given twice (also row '
                f"{int(f.rows[first[key]])}); keep one row per month and figure",
                f.table.sheet, f.cell("Figure", k),
            )  # fmt: skip
        else:
            first[key] = k
    return engine_frame(f, {})
