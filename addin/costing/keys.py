"""Grouping keys without pandas' groupby: dates as day numbers, exact sums of cents."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

QUANTITY_NOISE = 1e-9  # relative: quantity sums this close to zero are float noise, not stock
EXACT_FLOAT_SUM = 2.0**53  # integer cents summed as float64 stay exact below this total


def sum_cents(key: npt.NDArray[np.int64], cents: npt.NDArray[np.int64], size: int) -> np.ndarray:
    """Exact integer sums of ``cents`` per ``key`` (0 <= key < size)."""
    if float(np.abs(cents).sum(dtype=np.float64)) < EXACT_FLOAT_SUM:
        return np.rint(np.bincount(key, weights=cents, minlength=size)).astype(np.int64)
    out = np.zeros(size, dtype=np.int64)
    np.add.at(out, key, cents)
    return out


def day_numbers(dates: npt.NDArray[np.datetime64]) -> tuple[np.ndarray, np.ndarray]:
    """(code of each date, the distinct dates sorted): factorize for dates without a time."""
    dates = np.asarray(dates, dtype="datetime64[ns]")
    if len(dates) == 0:
        return np.zeros(0, dtype=np.int64), dates[:0]
    if np.isnat(dates).any():
        days, codes = np.unique(dates, return_inverse=True)
        return codes.reshape(-1), days
    ns = dates.view(np.int64)
    day_ns = np.int64(86_400 * 10**9)
    if (ns % day_ns == 0).all():
        rel = ns // day_ns
        lo = rel.min()
        rel = rel - lo
        if rel.max() < 100_000:
            present = np.bincount(rel) > 0
            lut = np.cumsum(present) - 1
            days = ((np.flatnonzero(present) + lo) * day_ns).view("datetime64[ns]")
            return lut[rel], days
    days, codes = np.unique(dates, return_inverse=True)
    return codes.reshape(-1), days


def group_sum(
    key: npt.NDArray[np.int64], values: npt.NDArray[np.float64], size: int
) -> tuple[np.ndarray, np.ndarray]:
    """(the keys present, sorted; the sum of ``values`` for each) for 0 <= key < size."""
    if size <= 1 << 23:
        present = np.flatnonzero(np.bincount(key, minlength=size))
        return present, np.bincount(key, weights=values, minlength=size)[present]
    present, inverse = np.unique(key, return_inverse=True)
    return present, np.bincount(inverse.reshape(-1), weights=values, minlength=len(present))
