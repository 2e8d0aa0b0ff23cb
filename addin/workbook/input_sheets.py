"""The input sheets' contents for a set of inputs, in the contract's layout: what the file
writer (:mod:`addin.workbook.inputs_writer`) and the xlwings layer write for a template, the
demo, or next month's workbook. No file format here: plain frames and values."""

from __future__ import annotations

import pandas as pd

from addin.costing.model import (
    DEFAULT_ACCOUNTS,
    ROLE_FALLBACK,
    Account,
    MonthEndInputs,
    Settings,
    Trigger,
)
from addin.workbook import contract as c

# engine field -> contract column header, per sheet
_FIELD_HEADERS = {
    spec.name: {col.field: col.name for col in spec.columns} for spec in c.INPUT_SHEETS
}


def sheet_frame(spec: c.SheetSpec, frame: pd.DataFrame | None) -> pd.DataFrame:
    """One input sheet's table: contract headers over the engine frame's values (None: every
    column of the contract, no rows)."""
    headers = _FIELD_HEADERS[spec.name]
    if frame is None:  # the empty template: every column of the contract
        return pd.DataFrame({col.name: pd.Series(dtype=object) for col in spec.columns})
    cols = [col for col in spec.columns if col.required or col.field in frame]
    if spec.name == c.STANDARD_COSTS:
        split = "labor" in frame and frame["labor"].notna().any()
        drop = {"Conversion"} if split else {"Labor", "Overhead"}
        if "effective_from" not in frame or frame["effective_from"].isna().all():
            drop.add("Effective From")  # no dated standards: the column stays out of the way
        cols = [col for col in spec.columns if col.name not in drop]
    cols = [col for col in cols if not (col.omit_when_default and _all_default(frame, col))]
    return pd.DataFrame(
        {
            headers[col.field]: (
                frame[col.field] if col.field in frame else pd.Series(dtype=object)
            )
            for col in cols
        }
    )


def _all_default(frame: pd.DataFrame, col: c.Column) -> bool:
    """Every row of ``col`` is blank or its default (True when the frame lacks it)."""
    if col.field not in frame:
        return True
    values = frame[col.field]
    return bool((values.isna() | (values == col.default) | (values == "")).all())


def setting_value(col: c.Column, settings: Settings | None) -> object:
    """What a setting's Value cell holds: the inputs' value, else the default (the template)."""
    if settings is not None:
        v = getattr(settings, col.key)
        return v.value if isinstance(v, Trigger) else v
    if col.kind is c.Kind.CHOICE and col.default is None:
        return col.choices[0]  # e.g. Trigger: the most common choice, as a starting point
    return col.default


def accounts_frame(accounts: dict[str, Account]) -> pd.DataFrame:
    """The Accounts sheet: every role, with the inputs' code and name or the default chart's
    (an optional role only when the inputs name it)."""
    roles = [r for r in DEFAULT_ACCOUNTS if r not in ROLE_FALLBACK or r in accounts]
    return pd.DataFrame(
        {
            "Role": roles,
            "Account": [
                accounts[r].code if r in accounts else DEFAULT_ACCOUNTS[r][0] for r in roles
            ],
            "Name": [accounts[r].name if r in accounts else DEFAULT_ACCOUNTS[r][1] for r in roles],
        }
    )


def table_frames(inputs: MonthEndInputs | None) -> dict[str, pd.DataFrame]:
    """Every input sheet but Settings, in workbook order: the frames' sheets, then Accounts."""
    out = {
        name: sheet_frame(c.SHEETS_BY_NAME[name], getattr(inputs, attr) if inputs else None)
        for attr, name in c.FRAME_SHEETS.items()
    }
    out[c.ACCOUNTS] = accounts_frame(inputs.accounts if inputs else {})
    return out
