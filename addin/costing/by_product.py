"""Variances by product: the month's usage, scrap and conversion variances attributed to the
finished goods that caused them (backflush-domain.md section 9).

How each variance is attributed (amounts in cents, + unfavourable, - favourable):
- A finished good's own variance (its count, its scrap, its lot-size variance) is its own.
- Any other item's usage or scrap variance (a component's count shortage, a Backflush = No
  component's standard, a BOM change) is shared over the finished goods that consumed it this
  month, in proportion to their standard consumption of it: units made (good + scrap, net of
  reversals; sold + scrapped under the sale trigger, which flushes at sale) x the quantity
  per unit of the BOM in effect on Period Start, through every subassembly level.
- The conversion variance is shared over the items that absorbed conversion at standard (the
  credits to Conversion Costs Allocated by item), and each item's share passes on to the
  finished goods as above.
- What no finished good consumed this month stays "not attributed", so the products plus
  that line add up to the Variances tab to the cent. Every split is by largest remainder.
- Price variances stay with the purchase (not attributed); revaluations restate stock, not
  production, and are not attributed either.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from addin.costing.keys import sum_cents
from addin.costing.model import Trigger
from addin.costing.plant import Plant
from addin.costing.postings import (
    COMPLETION,
    COMPLETION_REVERSAL,
    CUSTOMER_RETURN,
    SALE,
    SCRAP,
)
from addin.costing.results import MonthEndResult, Schema

BY_PRODUCT = Schema(
    "by_product",
    {
        "item": "finished good (item code)",
        "description": "item description",
        "completed": "good units completed, net of reversals",
        "sold": "units sold, net of customer returns",
        "standard": "standard cost per unit (material + conversion, in force at Period Start)",
        "standard_cogs_cents": "standard cost of goods sold booked for it (COGS debits, cents)",
        "usage_cents": "usage variance attributed (incl. lot size), + unfavourable",
        "scrap_cents": "scrap variance attributed, + unfavourable",
        "conversion_cents": "conversion variance attributed, + unfavourable",
    },
)

# Variance types (VARIANCES "type") attributed, by the column they go to.
ATTRIBUTED = {"usage": "usage", "lot size": "usage", "scrap": "scrap", "conversion": "conversion"}
NOT_ATTRIBUTED = ("price", "revaluation")


class ByProduct(NamedTuple):
    """The attribution: one row per finished good (BY_PRODUCT), sorted by the absolute total
    variance, and the cents left unattributed per column (usage, scrap, conversion)."""

    products: pd.DataFrame
    not_attributed: dict[str, int]


def allocate_by_row(
    amount: npt.NDArray[np.int64],
    rows: npt.NDArray[np.intp],
    weights: npt.NDArray[np.float64],
) -> npt.NDArray[np.int64]:
    """Split each row's ``amount`` (cents) over its entries (``rows`` gives each entry's row)
    in proportion to ``weights`` (> 0), by largest remainder: each row's parts add up to its
    amount exactly. Ties go to the earlier entry."""
    n = len(amount)
    total = np.bincount(rows, weights=weights, minlength=n)
    size = np.abs(amount)
    exact = size[rows] * (weights / total[rows])
    base = np.floor(exact).astype(np.int64)
    left = size - np.bincount(rows, weights=base, minlength=n).astype(np.int64)
    frac = exact - base
    down = np.lexsort((-frac, rows))  # per row, largest remainder first (stable: ties in order)
    starts = np.searchsorted(rows[down], np.arange(n))
    rank = np.empty(len(rows), np.int64)
    rank[down] = np.arange(len(rows)) - starts[rows[down]]
    per_row = np.bincount(rows, minlength=n)
    base += (rank < left[rows]).astype(np.int64)  # the largest remainders get a cent more
    base -= (per_row[rows] - 1 - rank < -left[rows]).astype(np.int64)  # or the smallest less
    return base * np.sign(amount)[rows]


def product_demand(plant: Plant) -> npt.NDArray[np.float64]:
    """Units of each item whose flush consumed components this month (made: good + scrap, net
    of reversals; under the sale trigger, which flushes at sale: sold + scrapped)."""
    n = len(plant.codes)
    c, s = plant.inputs.completions, plant.inputs.sales
    scrap = c["scrap_quantity"].fillna(0.0).to_numpy(np.float64)
    good = c["quantity"].to_numpy(np.float64)
    at = plant.index.positions(c["item"])
    if plant.trigger is Trigger.SALE:
        sold = _sums(plant.index.positions(s["item"]), s["quantity"].to_numpy(np.float64), n)
        return sold + _sums(at, scrap, n)
    return _sums(at, good + scrap, n)


def _sums(
    at: npt.NDArray[np.intp], values: npt.NDArray[np.float64], n: int
) -> npt.NDArray[np.float64]:
    """Sums of ``values`` per position ``at`` (0 <= at < n)."""
    return np.asarray(np.bincount(at, weights=values, minlength=n), dtype=np.float64)


def consumption_shares(plant: Plant) -> sp.csr_matrix:
    """S[item, column]: how an item's variance is shared. Columns 0..n-1 are finished goods,
    column n is "not attributed". A finished good's row is itself; another item's row is each
    finished good's standard consumption of it this month (product_demand x quantity per unit
    through every level); a row nobody consumed goes to column n."""
    n = len(plant.codes)
    finished = plant.types == "Finished"
    item, product, weight = _consumed(plant, finished)
    keep = ~finished[item]  # a finished good's own variance stays its own
    own = np.flatnonzero(finished)
    item = np.concatenate([item[keep], own])
    product = np.concatenate([product[keep], own])
    weight = np.concatenate([weight[keep], np.ones(len(own))])
    nobody = np.flatnonzero(_sums(item, weight, n) <= 0)
    item = np.concatenate([item, nobody])
    product = np.concatenate([product, np.full(len(nobody), n, np.intp)])
    weight = np.concatenate([weight, np.ones(len(nobody))])
    return sp.csr_matrix((weight, (item, product)), shape=(n, n + 1))  # duplicates summed


def _consumed(
    plant: Plant, finished: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """(item, finished good, units) of every item the month's finished goods consumed at
    standard, level by level down the BOM in effect on Period Start (one triple per level)."""
    demand = np.where(finished, np.maximum(product_demand(plant), 0.0), 0.0)
    a = plant.windows[0].matrix.tocsr()
    level = sp.diags(demand).tocsr()
    items, products, weights = [], [], []
    while level.nnz:
        level = level @ a
        level.data = np.maximum(level.data, 0.0)
        level.eliminate_zeros()
        coo = level.tocoo()
        items.append(coo.col.astype(np.intp))
        products.append(coo.row.astype(np.intp))
        weights.append(coo.data)
    if not items:
        return np.zeros(0, np.intp), np.zeros(0, np.intp), np.zeros(0)
    return np.concatenate(items), np.concatenate(products), np.concatenate(weights)


def _attribute(
    plant: Plant, item_cents: npt.NDArray[np.int64], shares: sp.csr_matrix
) -> npt.NDArray[np.int64]:
    """Cents per column (finished goods, then not attributed) of per-item cents (length n + 1:
    the last is cents of no item, not attributed)."""
    n = len(plant.codes)
    out = np.zeros(n + 1, np.int64)
    out[n] += item_cents[n]
    coo = shares[np.flatnonzero(item_cents[:n])].tocoo()
    if coo.nnz:
        rows = coo.row.astype(np.intp)
        parts = allocate_by_row(item_cents[:n][item_cents[:n] != 0], rows, coo.data)
        out += sum_cents(coo.col.astype(np.int64), parts, n + 1)
    return out


def _item_cents(plant: Plant, v: pd.DataFrame) -> npt.NDArray[np.int64]:
    """Variance cents per item position (the last slot: rows of no item on Standard Costs)."""
    n = len(plant.codes)
    at = plant.index.codes.get_indexer(pd.Index(v["item"].astype(str).to_numpy(object)))
    at = np.where(at < 0, n, at)
    return sum_cents(at.astype(np.int64), v["amount_cents"].to_numpy(np.int64), n + 1)


def _absorbed(plant: Plant, postings: pd.DataFrame) -> npt.NDArray[np.float64]:
    """Conversion absorbed at standard per item (cents credited to Conversion Costs Allocated
    by completions, scrap and sales), the last slot: lines of no item (rounding)."""
    n = len(plant.codes)
    events = [COMPLETION, COMPLETION_REVERSAL, SCRAP, SALE, CUSTOMER_RETURN]
    cca = postings[(postings["role"] == "CCA") & postings["event"].isin(events)]
    at = cca["item"].cat.codes.to_numpy().astype(np.int64)
    at = np.where(at < n, at, n)
    return -_sums(at, cca["cents"].to_numpy(np.float64), n + 1)


def _conversion_by_item(plant: Plant, postings: pd.DataFrame, total: int) -> npt.NDArray[np.int64]:
    """The conversion variance split over the items that absorbed conversion (largest
    remainder); all to "no item" when nothing was absorbed."""
    n = len(plant.codes)
    out = np.zeros(n + 1, np.int64)
    weights = np.maximum(_absorbed(plant, postings)[:n], 0.0)
    if total == 0 or weights.sum() <= 0:
        out[n] = total
        return out
    at = np.flatnonzero(weights)
    parts = allocate_by_row(np.array([total]), np.zeros(len(at), np.intp), weights[at])
    out[at] = parts
    return out


def variances_by_product(result: MonthEndResult) -> ByProduct:
    """Usage, scrap and conversion variances attributed to finished goods (see module)."""
    plant = result.plant if result.plant is not None else Plant.of(result.inputs)
    n = len(plant.codes)
    shares = consumption_shares(plant)
    v = result.variances
    column_cents = {}
    for column in ("usage", "scrap", "conversion"):
        rows = v[v["type"].map(ATTRIBUTED) == column]
        if column == "conversion":
            per_item = _conversion_by_item(plant, result.postings, int(rows["amount_cents"].sum()))
        else:
            per_item = _item_cents(plant, rows)
        column_cents[column] = _attribute(plant, per_item, shares)
    frame = _product_frame(plant, result, column_cents)
    rest = {c: int(column_cents[c][n]) for c in column_cents}
    return ByProduct(frame, rest)


def _units(plant: Plant, frame: pd.DataFrame, column: str) -> npt.NDArray[np.float64]:
    at = plant.index.positions(frame["item"])
    return _sums(at, frame[column].to_numpy(np.float64), len(plant.codes))


def _standard_cogs(plant: Plant, postings: pd.DataFrame) -> npt.NDArray[np.int64]:
    """COGS debits (credits for customer returns) of sales, per item position."""
    n = len(plant.codes)
    sold = postings[(postings["role"] == "COGS") & postings["event"].isin([SALE, CUSTOMER_RETURN])]
    at = sold["item"].cat.codes.to_numpy().astype(np.int64)
    return sum_cents(np.where(at < n, at, n), sold["cents"].to_numpy(np.int64), n + 1)[:n]


def _product_frame(
    plant: Plant, result: MonthEndResult, cents: dict[str, npt.NDArray[np.int64]]
) -> pd.DataFrame:
    """One row per finished good that was made, sold or given a variance."""
    n = len(plant.codes)
    completed = _units(plant, plant.inputs.completions, "quantity")
    sold = _units(plant, plant.inputs.sales, "quantity")
    cogs = _standard_cogs(plant, result.postings)
    usage, scrap, conv = (cents[c][:n] for c in ("usage", "scrap", "conversion"))
    shown = (plant.types == "Finished") & (
        (completed != 0) | (sold != 0) | (usage != 0) | (scrap != 0) | (conv != 0)
    )
    frame = pd.DataFrame(
        {
            "item": plant.codes,
            "description": plant.sc["description"].fillna("").astype(str).to_numpy(object),
            "completed": completed,
            "sold": sold,
            "standard": plant.total,
            "standard_cogs_cents": cogs,
            "usage_cents": usage,
            "scrap_cents": scrap,
            "conversion_cents": conv,
        }
    )[shown]
    total = frame["usage_cents"] + frame["scrap_cents"] + frame["conversion_cents"]
    order = np.lexsort((frame["item"].to_numpy(str), -np.abs(total.to_numpy())))
    return frame.iloc[order].reset_index(drop=True)[BY_PRODUCT.names]


__all__ = [
    "ATTRIBUTED",
    "BY_PRODUCT",
    "NOT_ATTRIBUTED",
    "ByProduct",
    "allocate_by_row",
    "consumption_shares",
    "product_demand",
    "variances_by_product",
]
