"""Backflush detail: the components each source row flushed (an option; it can be large).

The default Backflush tab is aggregated per trigger event and component. This gives one line per
source row (a completion, or a sale under the sale-only trigger) and component, which is what an
auditor asks for on a small month and what no sheet can hold on a plant-sized one: the size is
estimated first and a DetailTooLarge error says how many lines it would take.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from addin.costing import bom as bomlib
from addin.costing.model import MonthEndInputs, Trigger
from addin.costing.money import to_cents


class DetailTooLarge(ValueError):
    def __init__(self, rows: int, limit: int) -> None:
        self.rows = rows
        self.limit = limit
        super().__init__(
            f"The backflush detail would need {rows:,} lines, more than the {limit:,} a sheet "
            "can hold. Run without the detail option (the Backflush tab is then aggregated per "
            "component), or split the period."
        )


def backflush_detail(inputs: MonthEndInputs, max_rows: int | None = None) -> pd.DataFrame:
    """One line per source row and component flushed, at the BOM in effect on the row's date.

    Columns: event, date, source_row, reference, parent, parent_quantity (good + scrap units),
    component, quantity (component units), standard (per unit), amount_cents, flushed.
    """
    from addin.costing.engine import _Run

    run = _Run(inputs)
    if inputs.settings.trigger is Trigger.SALE:
        src, event = inputs.sales, "Sale"
        qty = src["quantity"].to_numpy(np.float64)
    else:
        src, event = inputs.completions, "Completion"
        qty = src["quantity"].to_numpy(np.float64) + src["scrap_quantity"].fillna(0).to_numpy(
            np.float64
        )
    cols = [
        "event",
        "date",
        "source_row",
        "reference",
        "parent",
        "parent_quantity",
        "component",
        "quantity",
        "standard",
        "amount_cents",
        "flushed",
    ]
    if len(src) == 0:
        return pd.DataFrame(columns=cols)
    pos = run.index.positions(src["item"])
    win = run.window_of(src["date"])
    n = len(run.codes)
    # size first: leaves per item, per window, from one explosion of the items used
    estimate = 0
    for w in np.unique(win):
        items = np.unique(pos[win == w])
        probe = sp.csr_matrix(
            (np.ones(len(items)), (np.arange(len(items)), items)), shape=(len(items), n)
        )
        exploded = run.rollups[w].has_bom & run.flushed
        leaves = np.diff(bomlib.explode(probe, run.matrices[w], exploded).indptr)
        per_item = np.zeros(n, dtype=np.int64)
        per_item[items] = leaves
        estimate += int(per_item[pos[win == w]].sum())
    if max_rows is not None and estimate > max_rows:
        raise DetailTooLarge(estimate, max_rows)
    parts = []
    for w in np.unique(win):
        rows = np.flatnonzero(win == w)
        d = sp.csr_matrix((qty[rows], (np.arange(len(rows)), pos[rows])), shape=(len(rows), n))
        exploded = run.rollups[w].has_bom & run.flushed
        c = bomlib.explode(d, run.matrices[w], exploded).tocoo()
        std = run.rollups[w].rolled["material"][c.col]
        src_rows = rows[c.row]
        parts.append(
            pd.DataFrame(
                {
                    "event": event,
                    "date": src["date"].to_numpy()[src_rows],
                    "source_row": src["source_row"].to_numpy()[src_rows],
                    "reference": src["reference"].fillna("").astype(str).to_numpy()[src_rows],
                    "parent": run.codes[pos[src_rows]],
                    "parent_quantity": qty[src_rows],
                    "component": run.codes[c.col],
                    "quantity": c.data,
                    "standard": std,
                    "amount_cents": to_cents(c.data * std),
                    "flushed": run.flushed[c.col],
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["source_row", "component"], kind="stable").reset_index(drop=True)[cols]
