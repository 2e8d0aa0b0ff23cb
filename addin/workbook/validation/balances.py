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


def parse_history(f: Frame | None) -> pd.DataFrame:
    """The History frame as written (each row checked for its kinds only)."""
    spec = C.SHEETS_BY_NAME[C.HISTORY]
    return empty(spec) if f is None else engine_frame(f, {})
