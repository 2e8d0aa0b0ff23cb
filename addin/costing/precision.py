"""Each item's quantity precision: how many decimals its quantities can really have.

A quantity summed in floating point carries noise far below what was entered (18.4 arrives as
18.35999999999956); a result tab writes it rounded to the item's precision instead:

- the decimals of the quantities entered for the item (purchases, completions and their scrap,
  sales, counts, opening balances), and
- for a BOM component, the decimals of its quantity per parent unit as flushed
  (Qty Per x (1 + Scrap %) x Conversion Factor / Base Quantity / the parent's Yield) plus
  those of its parents,
  level by level,

at most MAX_DECIMALS (6; quantities are never entered finer).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from addin.costing import bom as bomlib
from addin.costing.model import MonthEndInputs

MAX_DECIMALS = 6


def decimals(values: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """The fewest decimals (0 to MAX_DECIMALS) that write each value exactly, float noise
    aside: 18.35999999999956 -> 2, 0.125 -> 3, 1/3 -> 6."""
    x = np.abs(np.nan_to_num(np.asarray(values, dtype=np.float64)))
    out = np.full(x.shape, MAX_DECIMALS, dtype=np.int64)
    for d in range(MAX_DECIMALS, -1, -1):
        scaled = x * 10.0**d
        exact = np.abs(scaled - np.round(scaled)) <= 1e-6 * np.maximum(scaled, 1.0)
        out = np.where(exact, d, out)
    return out


def item_decimals(inputs: MonthEndInputs, index: bomlib.ItemIndex) -> npt.NDArray[np.int64]:
    """Per item (Standard Costs order): the decimals its quantities can have."""
    n = len(index)
    own = np.zeros(n, dtype=np.int64)
    for frame, cols in (
        (inputs.purchases, ("quantity",)),
        (inputs.completions, ("quantity", "scrap_quantity")),
        (inputs.sales, ("quantity",)),
        (inputs.counts, ("counted_quantity",)),
        (inputs.opening_balances, ("quantity",)),
    ):
        if not len(frame):
            continue
        pos = index.positions(frame["item"])
        for c in cols:
            if c in frame:
                np.maximum.at(own, pos, decimals(pd.to_numeric(frame[c]).to_numpy(np.float64)))
    yields = bomlib.item_yields(inputs.standard_costs.reset_index(drop=True))
    return _through_bom(inputs.bom, index, own, yields)


def _through_bom(
    bom: pd.DataFrame,
    index: bomlib.ItemIndex,
    own: npt.NDArray[np.int64],
    yields: npt.NDArray[np.float64],
) -> npt.NDArray[np.int64]:
    """``own`` raised, for each component, to its BOM lines' decimals plus its parents'."""
    if not len(bom):
        return np.minimum(own, MAX_DECIMALS)
    parent, component = index.positions(bom["parent"]), index.positions(bom["component"])
    per = (
        _column(bom, "qty_per", 1.0)
        * (1 + _column(bom, "scrap_pct", 0.0))
        * _column(bom, "conversion_factor", 1.0)
        / _column(bom, "base_quantity", 1.0)
        / yields[parent]
    )
    line = decimals(per)
    out = np.minimum(own, MAX_DECIMALS)
    for _ in range(len(np.unique(parent)) + 1):  # at most one pass per level
        raised = out.copy()
        np.maximum.at(raised, component, np.minimum(line + out[parent], MAX_DECIMALS))
        if np.array_equal(raised, out):
            break
        out = raised
    return out


def _column(frame: pd.DataFrame, name: str, blank: float) -> npt.NDArray[np.float64]:
    """A numeric column of ``frame``, ``blank`` where it is absent or empty."""
    if name not in frame:
        return np.full(len(frame), blank)
    v = pd.to_numeric(frame[name]).to_numpy(np.float64)
    return np.where(np.isnan(v), blank, v)
