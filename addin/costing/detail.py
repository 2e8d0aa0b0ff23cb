"""Backflush detail: the components each source row flushed (an option; it can be large).

The default Backflush tab is aggregated per trigger event and component. This gives one line per
source row (a completion, or a sale under the sale-only trigger) and component, which is what an
auditor asks for on a small month and what no sheet can hold on a plant-sized one: the size is
estimated first and a DetailTooLarge error says how many lines it would take.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from addin.costing.model import MonthEndInputs, Trigger
from addin.costing.money import to_cents
from addin.costing.orders import order_starts
from addin.costing.plant import Plant
from addin.costing.postings import COMPLETION, COMPLETION_REVERSAL, CUSTOMER_RETURN, SALE
from addin.costing.results import BACKFLUSH_DETAIL


class DetailTooLarge(ValueError):
    def __init__(self, rows: int, limit: int) -> None:
        self.rows = rows
        self.limit = limit
        super().__init__(
            f"The backflush detail would need {rows:,} lines, more than the {limit:,} a sheet "
            "can hold. Run without the detail option (the Backflush tab is then aggregated per "
            "component), or split the period."
        )


def backflush_detail(source: Plant | MonthEndInputs, max_rows: int | None = None) -> pd.DataFrame:
    """One line per source row and component flushed, at the BOM in effect on the row's date.

    ``source``: the plant a run prepared (MonthEndResult.plant: its standards are reused), or
    the inputs (prepared here). Columns: results.BACKFLUSH_DETAIL.
    """
    plant = source if isinstance(source, Plant) else Plant.of(source)
    src, event, qty = _demand(plant)
    if len(src) == 0:
        return BACKFLUSH_DETAIL.empty()
    pos = plant.index.positions(src["item"])
    win = plant.window_of(src["date"])
    estimate = _estimate(plant, pos, win)
    if max_rows is not None and estimate > max_rows:
        raise DetailTooLarge(estimate, max_rows)
    parts = [_window_lines(plant, src, event, qty, pos, win, w) for w in np.unique(win).tolist()]
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["source_row", "component"], kind="stable").reset_index(drop=True)
    return out[BACKFLUSH_DETAIL.names]


def _demand(plant: Plant) -> tuple[pd.DataFrame, npt.NDArray[np.object_], npt.NDArray[np.float64]]:
    """The source rows flushed (sales under the sale-only trigger, else completions), the
    event of each (a row below 0 is a customer return or a completion reversal) and units
    flushed (good + scrap)."""
    inputs = plant.inputs
    if inputs.settings.trigger is Trigger.SALE:
        qty = inputs.sales["quantity"].to_numpy(np.float64)
        return inputs.sales, np.where(qty < 0, CUSTOMER_RETURN, SALE).astype(object), qty
    src = inputs.completions
    good = src["quantity"].to_numpy(np.float64)
    qty = good + src["scrap_quantity"].fillna(0).to_numpy(np.float64)
    return src, np.where(good < 0, COMPLETION_REVERSAL, COMPLETION).astype(object), qty


def _estimate(plant: Plant, pos: npt.NDArray[np.intp], win: npt.NDArray[np.intp]) -> int:
    """Lines the detail would take: leaves per item, per window, from one explosion of the
    items used."""
    n = len(plant.codes)
    estimate = 0
    for w in np.unique(win).tolist():
        window = plant.windows[w]
        items = np.unique(pos[win == w])
        probe = sp.csr_matrix(
            (np.ones(len(items)), (np.arange(len(items)), items)), shape=(len(items), n)
        )
        leaves = np.diff(window.explosion(probe).indptr)
        per_item = np.zeros(n, dtype=np.int64)
        per_item[items] = leaves
        estimate += int(per_item[pos[win == w]].sum())
    return estimate


def _window_lines(
    plant: Plant,
    src: pd.DataFrame,
    event: npt.NDArray[np.object_],
    qty: npt.NDArray[np.float64],
    pos: npt.NDArray[np.intp],
    win: npt.NDArray[np.intp],
    w: int,
) -> pd.DataFrame:
    """The detail lines of the source rows dated in window ``w``."""
    n = len(plant.codes)
    window = plant.windows[w]
    rows = np.flatnonzero(win == w)
    shape = (len(rows), n)
    d = sp.csr_matrix((qty[rows], (np.arange(len(rows)), pos[rows])), shape=shape)
    per = window.orders if plant.trigger is not Trigger.SALE else None
    if per is None:
        c = window.explosion(d).tocoo()  # stocked subassemblies are taken from stock, as flushed
    else:  # per-order lines once, on the row that starts each order (orders.py); a reversal
        # gives back its units' per-unit components only, as flushed
        starts = np.where(event[rows] == COMPLETION, order_starts(src)[rows], 0.0)
        n_orders = sp.csr_matrix((starts, (np.arange(len(rows)), pos[rows])), shape=shape)
        first = d @ per.unit_matrix + n_orders @ per.order_matrix
        c = window.explosion.below(first).tocoo()
    std = plant.flush_standards(w, c.col).leaf_material[c.col]
    src_rows = rows[c.row]
    return pd.DataFrame(
        {
            "event": event[src_rows],
            "date": src["date"].to_numpy()[src_rows],
            "source_row": src["source_row"].to_numpy()[src_rows],
            "reference": src["reference"].fillna("").astype(str).to_numpy()[src_rows],
            "parent": plant.codes[pos[src_rows]],
            "parent_quantity": qty[src_rows],
            "component": plant.codes[c.col],
            "quantity": c.data,
            "standard": std,
            "amount_cents": to_cents(c.data * std),
            "flushed": plant.flushed[c.col],
        }
    )
