"""Money: amounts in whole cents, rounded the way Excel's ROUND does (half away from zero)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

MAX_LINE_CENTS = 10**13  # one item's amount on one day: 100,000,000,000.00 (10^11)
MAX_TOTAL_CENTS = 10**15  # the month's amounts together: 10,000,000,000,000.00 (10^13)
# Inside these every cent is exact: int64 cents in the engine, and in the results file at most
# 15 significant digits (Excel's precision) with the cents. Beyond them a run is refused.
_CEILING = 9.0e18  # cents; amounts beyond int64 are held here (and refused) instead of wrapping


def to_cents(amount: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Round currency amounts to whole cents, half away from zero, like Excel's ROUND(x, 2).

    Binary floating point stores 2.675 as 2.67499999...; Excel works to 15 significant digits
    and rounds it to 2.68. We do the same: the scaled value is first rounded to 15 significant
    digits (to 6 decimals below a million; fewer above, where float noise is larger), then half
    away from zero. Amounts that are not finite or beyond int64 come back as +-9.0e18 cents, far
    beyond MAX_LINE_CENTS, so that a magnitude check refuses them instead of letting them wrap.
    """
    a = np.asarray(amount, dtype=np.float64)
    scaled = np.abs(a) * 100.0
    if not np.isfinite(scaled).all() or (scaled > _CEILING).any():
        scaled = np.where(np.isfinite(scaled), np.minimum(scaled, _CEILING), _CEILING)
        a = np.where(np.isnan(a), 1.0, a)
    rounded = np.round(scaled, 6)
    big = scaled >= 1e8
    if big.any():  # 15 significant digits: 14 - exponent decimals (down to none)
        exponent = np.floor(np.log10(scaled[big])).astype(np.int64)
        values = scaled[big]
        out = np.empty_like(values)
        for e in np.unique(exponent).tolist():
            at = exponent == e
            out[at] = np.round(values[at], max(14 - e, 0))
        rounded[big] = out
    return (np.sign(a) * np.floor(rounded + 0.5)).astype(np.int64)


def round_money(amount: float) -> float:
    """One amount rounded half-up to cents, as a float (Excel's ROUND(x, 2))."""
    return int(to_cents(amount)) / 100.0


def cents_to_amount(cents: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Whole cents back to currency units for display (exact to the cent)."""
    return np.asarray(cents, dtype=np.int64) / 100.0


def allocate_cents(total: int, weights: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Split ``total`` cents over ``weights`` so the parts add up exactly (largest remainder).

    Used to prorate the conversion variance. Weights need not sum to 1; all-zero weights put
    everything on the first part.
    """
    w = np.asarray(weights, dtype=np.float64)
    if len(w) == 0:
        return np.zeros(0, dtype=np.int64)
    if w.sum() <= 0:
        out = np.zeros(len(w), dtype=np.int64)
        out[0] = total
        return out
    exact = total * w / w.sum()
    base = np.trunc(exact).astype(np.int64)
    rest = int(total - base.sum())
    order = np.argsort(-(np.abs(exact - base)), kind="stable")
    step = 1 if rest >= 0 else -1
    for i in order[: abs(rest)]:
        base[i] += step
    return base
