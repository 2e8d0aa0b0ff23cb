"""The engine's input frames built from parsed sheets: columns and dtypes from the contract.

Each frame has the engine's column layout (``SheetSpec.engine_columns``, declared in
:data:`addin.costing.model.INPUT_FRAME_COLUMNS`); a column is filled from the contract column
whose ``field`` it is, typed by that column's kind, unless the sheet's builder gives it
(canonical item codes, the standard split into labor and overhead); ``source_row`` is the
worksheet row.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pandas as pd

from addin.workbook.cells import Kind
from addin.workbook.contract import SheetSpec
from addin.workbook.validation.columns import Frame

_KIND_DTYPES = {
    Kind.DATE: "datetime64[ns]",
    Kind.NUMBER: "float64",
    Kind.PERCENT: "float64",
    Kind.YESNO: "bool",
}


@cache
def dtypes(spec: SheetSpec) -> dict[str, str]:
    """Engine column -> dtype of an empty frame (text and item columns stay object)."""
    kinds = {c.field: _KIND_DTYPES[c.kind] for c in spec.columns if c.kind in _KIND_DTYPES}
    return {**kinds, "source_row": "int64"}


def num(f: Frame, col: str, default: float = np.nan) -> np.ndarray:
    if col not in f.values:
        return np.full(len(f), default, dtype=np.float64)
    v = f.values[col].astype(np.float64, copy=True)
    if not math.isnan(default):
        v[np.isnan(v)] = default
    return v


def txt(f: Frame, col: str, default: str = "") -> np.ndarray:
    if col not in f.values:
        return np.full(len(f), default, dtype=object)
    return f.values[col].astype(object)


def date(f: Frame, col: str) -> np.ndarray:
    if col not in f.values:
        return np.full(len(f), np.datetime64("NaT"), dtype="datetime64[ns]")
    return f.values[col].astype("datetime64[ns]")


def _column(f: Frame, spec: SheetSpec, field: str) -> np.ndarray:
    """The engine column ``field`` from its contract column, blanks taking its default."""
    if field == "source_row":
        return f.rows
    col = next(c for c in spec.columns if c.field == field)
    if col.kind in (Kind.NUMBER, Kind.PERCENT):
        return num(f, col.name, np.nan if col.default is None else float(col.default))  # type: ignore[arg-type]
    if col.kind is Kind.DATE:
        return date(f, col.name)
    return txt(f, col.name, "" if col.default is None else str(col.default))


def empty(spec: SheetSpec) -> pd.DataFrame:
    """The sheet's engine frame with no rows."""
    kinds = dtypes(spec)
    return pd.DataFrame({c: pd.Series(dtype=kinds.get(c, object)) for c in spec.engine_columns})


def engine_frame(
    f: Frame, given: dict[str, np.ndarray | pd.Categorical], keep: np.ndarray | None = None
) -> pd.DataFrame:
    """The engine frame of ``f``: ``given`` columns as they are, the others from the contract;
    only the rows ``keep`` (all rows when None)."""
    spec = f.table.spec
    data = {c: given[c] if c in given else _column(f, spec, c) for c in spec.engine_columns}
    if keep is None:
        keep = np.arange(len(f))
    if not len(keep):
        return empty(spec)
    if len(keep) == len(f) and keep[-1] == len(keep) - 1:  # every row, in order
        return pd.DataFrame(data)
    return pd.DataFrame({c: v[keep] for c, v in data.items()}).reset_index(drop=True)
