"""Each item's quantity precision: how many decimals its quantities can really have.

A quantity summed in floating point carries noise far below what was entered (a count
difference of 18.4 arrives as 18.399999999999864); a result tab writes such a quantity rounded
to its item's precision instead:

- the most decimals among the quantities entered for the item (purchases, completions and
  their scrap, sales, counts, opening balances);
- MAX_DECIMALS (6) for an item consumed through the BOM, whose flushed quantities carry the
  decimals of the BOM's quantities per unit (quantities are never entered finer).

Only quantities that show float noise are looked at, so a month without noise costs nothing.
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
    aside: 18.399999999999864 -> 1, 0.125 -> 3, 1/3 -> 6."""
    x = np.abs(np.nan_to_num(np.asarray(values, dtype=np.float64)))
    out = np.full(x.shape, MAX_DECIMALS, dtype=np.int64)
    left = np.arange(x.size)
    for d in range(MAX_DECIMALS):  # most values settle at once (whole units)
        scaled = x[left] * 10.0**d
        exact = np.abs(scaled - np.round(scaled)) <= 1e-6 * np.maximum(scaled, 1.0)
        out[left[exact]] = d
        left = left[~exact]
        if not len(left):
            break
    return out


def noisy(quantity: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Quantities that are not exactly what MAX_DECIMALS decimals write (NaN: False)."""
    q = np.nan_to_num(quantity)
    return q != np.round(q, MAX_DECIMALS)


def item_decimals(
    inputs: MonthEndInputs,
    index: bomlib.ItemIndex,
    items: npt.NDArray[np.intp],
    component: npt.NDArray[np.bool_],
) -> npt.NDArray[np.int64]:
    """The precision (decimals) of each item at ``items`` (positions on Standard Costs);
    ``component``: per item, whether some BOM line consumes it."""
    n = len(index)
    wanted = np.zeros(n, dtype=bool)
    wanted[items] = True
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
        keep = wanted[pos]
        for c in (c for c in cols if c in frame):
            d = decimals(pd.to_numeric(frame[c]).to_numpy(np.float64)[keep])
            own = np.maximum(own, _most(pos[keep], d, n))
    return np.where(component, MAX_DECIMALS, own)[items]


def _most(pos: npt.NDArray[np.intp], d: npt.NDArray[np.int64], n: int) -> npt.NDArray[np.int64]:
    """Per item: the most decimals among its values (0 where it has none)."""
    out = np.zeros(n, dtype=np.int64)
    for k in range(1, MAX_DECIMALS + 1):
        out[np.bincount(pos[d == k], minlength=n) > 0] = k
    return out
