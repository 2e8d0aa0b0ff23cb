"""Per-order BOM lines: consumed once per production order, spread by the costing lot size.

A BOM line with Per = Order (Business Central's Fixed Quantity, SAP's fixed quantity) is used
once per production order of its parent, whatever the order's size. The standard per unit
spreads it over the parent's costing Lot Size (qty / lot size per unit, in the roll-up). When
completions are flushed (V1-V3), an order is the completions with the same item and Reference
(a blank Reference: each row is its own order); its per-order quantities are consumed once, on
the date of its first row, and its good units are debited at the standard per unit. The
difference, per-order material consumed - units x its share in the standard, is the lot-size
variance (USAGE, kind "lot size"): unfavourable when orders are smaller than the lot size.
Scrap units are debited at standard too, so their share comes off the variance. Where nothing
is flushed at completion (the sale trigger), per-order lines are flushed at the sale spread by
the lot size, like the standard, and no lot-size variance arises.

Below the completed item (phantoms and subassemblies blown through) a per-order line has no
order of its own: it is spread by its parent's lot size, as in the standard.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from addin.costing import bom as bomlib
from addin.costing.model import Finding, MonthEndInputs, Severity


class PerOrder(NamedTuple):
    """One BOM window's lines split by how they are consumed (item x item matrices)."""

    unit_matrix: sp.csr_matrix  # per-unit lines: component units per parent unit (yield etc.)
    order_matrix: sp.csr_matrix  # per-order lines: component units per production order
    lot: npt.NDArray[np.float64]  # costing lot size per item (NaN: none)

    def order_material(self, leaf_material: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Per item: its per-order lines' material per order, at ``leaf_material``."""
        return np.asarray(self.order_matrix @ leaf_material, dtype=np.float64)

    def share(self, per_order: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Per item: ``per_order`` spread over its lot size (0 where it has no per-order lines)."""
        return np.divide(per_order, self.lot, out=np.zeros(len(per_order)), where=per_order != 0)


def window_orders(
    bom: pd.DataFrame,
    parents: npt.NDArray[np.intp],
    components: npt.NDArray[np.intp],
    quantities: npt.NDArray[np.float64],
    lots: npt.NDArray[np.float64],
    keep: npt.NDArray[np.bool_],
) -> PerOrder | None:
    """The per-order split of the BOM lines ``keep`` (in effect in one window); ``quantities``:
    line_quantities of every line. None when none of them is per order."""
    order = bomlib.per_order(bom) & keep
    if not order.any():
        return None
    n = len(lots)
    unit = keep & ~order
    per = bomlib.stock_quantities(bom)
    return PerOrder(
        bomlib.matrix_of(parents[unit], components[unit], quantities[unit], n),
        bomlib.matrix_of(parents[order], components[order], per[order], n),
        lots,
    )


def order_starts(completions: pd.DataFrame) -> npt.NDArray[np.float64]:
    """1.0 for the completion row that starts each production order, else 0.0. An order is the
    rows with the same item and Reference (a blank Reference: the row alone); it starts on its
    earliest row (date, then sheet order)."""
    n = len(completions)
    ref = (
        completions["reference"].fillna("").astype(str).str.strip().to_numpy(object)
        if "reference" in completions
        else np.full(n, "", dtype=object)
    )
    item_code = pd.factorize(completions["item"].astype(str).to_numpy(object))[0]
    ref_code, refs = pd.factorize(ref)
    key = item_code.astype(np.int64) * (len(refs) + 1) + ref_code
    blank = ref == ""
    key[blank] = -1 - np.arange(int(blank.sum()))  # each its own order
    dates = completions["date"].to_numpy("datetime64[ns]")
    order = np.lexsort((np.arange(n), dates))
    _, first = np.unique(key[order], return_index=True)
    starts = np.zeros(n)
    starts[order[first]] = 1.0
    return starts


def items_with_orders(windows_orders: list[PerOrder | None], n: int) -> npt.NDArray[np.bool_]:
    """Items with per-order lines in any window."""
    has = np.zeros(n, dtype=bool)
    for per in windows_orders:
        if per is not None:
            has |= np.diff(per.order_matrix.indptr) > 0
    return has


def lot_size_errors(inputs: MonthEndInputs) -> list[Finding]:
    """Per-order BOM lines whose parent has no Lot Size on Standard Costs (the standard could
    not spread them): one located error each."""
    bom = inputs.bom
    order = bomlib.per_order(bom)
    if not order.any():
        return []
    sc = inputs.standard_costs
    lots = pd.Series(bomlib.item_lot_sizes(sc), index=sc["item"].astype(str).to_numpy())
    lot = lots.reindex(bom["parent"].astype(str).to_numpy()).to_numpy(np.float64)
    missing = order & ~(lot > 0)
    return [
        Finding(
            Severity.ERROR,
            "per-order line without lot size",
            f"{parent} -> {component} is consumed once per order (Per = Order), but {parent} "
            "has no Lot Size on Standard Costs to spread it over; enter its costing lot size",
            "BOM",
            inputs.cell("BOM", "Per", int(row)),
            str(parent),
        )
        for parent, component, row in zip(
            bom["parent"][missing],
            bom["component"][missing],
            bom["source_row"][missing],
            strict=True,
        )
    ]


def order_sizes(
    completions: pd.DataFrame, items: npt.NDArray[np.bool_], codes: pd.Index
) -> pd.DataFrame:
    """The production orders of the items ``items`` (mask over ``codes``): item, reference
    (blank: "row N"), units (good + scrap), first date; in item then date order."""
    pos = codes.get_indexer(completions["item"].astype(str).to_numpy(object))
    take = items[pos]
    c = completions[take]
    if not len(c):
        return pd.DataFrame(columns=["item", "reference", "units"])
    ref = c["reference"].fillna("").astype(str).str.strip()
    ref = ref.where(ref != "", "row " + c["source_row"].astype(str))
    units = c["quantity"].to_numpy(np.float64) + c["scrap_quantity"].fillna(0.0).to_numpy(
        np.float64
    )
    frame = pd.DataFrame({"item": c["item"].astype(str), "reference": ref, "units": units})
    frame["date"] = c["date"].to_numpy()
    g = frame.groupby(["item", "reference"], as_index=False, sort=False).agg(
        units=("units", "sum"), date=("date", "min")
    )
    return g.sort_values(["item", "date"], kind="stable").reset_index(drop=True)
