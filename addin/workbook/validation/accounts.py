"""The Accounts sheet: the general-ledger code of each account role."""

from __future__ import annotations

import numpy as np

from addin.costing.model import DEFAULT_ACCOUNTS, ROLE_FALLBACK, Account
from addin.workbook.validation.columns import Frame
from addin.workbook.validation.report import Report


def parse_accounts(f: Frame | None, report: Report) -> dict[str, Account]:
    """Role -> account: the sheet's rows over the default chart; a role given twice is an
    error (the first row is kept). An optional role (model.ROLE_FALLBACK) is in it only when
    the sheet names it."""
    out: dict[str, Account] = {
        role: Account(role, code, name)
        for role, (code, name) in DEFAULT_ACCOUNTS.items()
        if role not in ROLE_FALLBACK  # optional roles: only when the sheet names them
    }
    if f is None:
        return out
    seen: dict[str, str] = {}
    names = f.values.get("Name", np.full(len(f), "", dtype=object))
    for k in range(len(f)):
        if f.bad["Role"][k] or f.bad["Account"][k]:
            continue
        role = str(f.values["Role"][k])
        cell = f.cell("Role", k)
        if role in seen:
            report.error(
                "duplicate role", f"role {role} is given twice (also {seen[role]}); keep one row",
                f.table.sheet, cell,
            )  # fmt: skip
            continue
        seen[role] = cell
        name = str(names[k]) or DEFAULT_ACCOUNTS[role][1]
        out[role] = Account(role, str(f.values["Account"][k]), name)
    return out
