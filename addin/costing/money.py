"""Money: amounts in whole cents, rounded the way Excel's ROUND does (half away from zero)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def to_cents(amount: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Round currency amounts to whole cents, half away from zero, like Excel's ROUND(x, 2).

    Binary floating point stores 2.675 as 2.67499999...; Excel works to 15 significant digits
    and rounds it to 2.68. We do the same by first rounding the scaled value to 6 decimals
    (well below a cent and well above float noise for amounts under 10^9).
    """
    a = np.asarray(amount, dtype=np.float64)
    scaled = np.round(np.abs(a) * 100.0, 6)
    return (np.sign(a) * np.floor(scaled + 0.5)).astype(np.int64)


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
