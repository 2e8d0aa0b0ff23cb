"""Backflush detail: the journal entries of the flush, down to each source row (an option; it
can be large).

The default Backflush tab is aggregated per trigger event and component. This gives, per
journal entry of the flush (a day's completions, reversals or scrap; sales under the sale-only
trigger), one line per source row and component, then the entry's other lines (the output, the
conversion allocated, a BOM change, material without BOM lines, the entry's rounding) and one
rounding line per account for the cents between per-row and per-day rounding, so that the lines
of an entry and account foot to the journal line to the cent. Scrap is flushed apart from the
good units, in the scrap entry. What no sheet can hold on a plant-sized month is refused: the
size is estimated first and a DetailTooLarge error says how many lines it would take.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from addin.costing.flush import leaf_kinds, leaf_roles
from addin.costing.model import ROLES, MonthEndInputs, Trigger
from addin.costing.money import to_cents
from addin.costing.orders import order_starts
from addin.costing.plant import Plant
from addin.costing.postings import (
    COMPLETION,
    COMPLETION_REVERSAL,
    CUSTOMER_RETURN,
    KINDS,
    SALE,
    SCRAP,
    UNITEMIZED,
)
from addin.costing.results import BACKFLUSH_DETAIL, MonthEndResult

# What each line of the detail is (the "line" column).
COMPONENT = "component"
MANUAL = "manual issue"
BYPRODUCT = "by-product received"
OUTPUT = "output"
CONVERSION = "conversion allocated"
BOM_CHANGE = "BOM change"
LOT_SIZE = "lot size"
NO_BOM = "material without BOM lines"
ENTRY_ROUNDING = "entry rounding"
ROW_ROUNDING = "per-row rounding"

LINE_MEMO = {
    COMPONENT: "Component flushed at standard for this row's units",
    BYPRODUCT: "By-product received into stock at its standard for this row's units",
    OUTPUT: "Output at standard",
    CONVERSION: "Conversion allocated at standard",
    BOM_CHANGE: "BOM in effect on the day differs from the period standard (usage variance)",
    LOT_SIZE: "Per-order lines: orders of another size than the lot size (usage variance)",
    NO_BOM: "Material not backed by BOM lines in effect (own-level material, or a phantom "
    "with none of its lines in effect)",
    ENTRY_ROUNDING: "The entry's rounding: items rounded to cents one by one",
    ROW_ROUNDING: "Cents between the rows above (each rounded per source row) and the journal "
    "line (rounded per day and component)",
}
SCRAP_MEMO = "Scrap: component of the scrapped units, flushed apart from the good units"


class DetailTooLarge(ValueError):
    def __init__(self, rows: int, limit: int) -> None:
        self.rows = rows
        self.limit = limit
        super().__init__(
            f"The backflush detail would need {rows:,} lines, more than the {limit:,} a sheet "
            "can hold. Run without the detail option (the Backflush tab is then aggregated per "
            "component), or split the period."
        )


class Demand(NamedTuple):
    """Source rows flushed by one kind of entry: the rows, the event of each, units flushed,
    production orders each starts (None: not flushed by order) and the role credited with
    material that is not carried."""

    src: pd.DataFrame
    event: npt.NDArray[np.object_]
    quantity: npt.NDArray[np.float64]
    starts: npt.NDArray[np.float64] | None
    material_role: str


def backflush_detail(
    source: MonthEndResult | Plant | MonthEndInputs, max_rows: int | None = None
) -> pd.DataFrame:
    """The lines of the flush's journal entries, per source row (results.BACKFLUSH_DETAIL).

    ``source``: a run's result (its postings and journal are reused), the plant a run prepared,
    or the inputs (the month-end is run here). Per entry and account the lines' debits less
    credits equal the journal line."""
    result = _result_of(source)
    plant = result.plant
    assert plant is not None
    flows = _demand(plant)
    estimate = sum(_estimate(plant, f) for f in flows)
    if max_rows is not None and estimate > max_rows:
        raise DetailTooLarge(estimate, max_rows)
    if not flows:
        return BACKFLUSH_DETAIL.empty()
    parts = [_component_lines(plant, f) for f in flows]
    rows = pd.concat(parts, ignore_index=True)
    events = sorted({str(e) for f in flows for e in f.event})
    return _with_entries(result, rows, events)


def _result_of(source: MonthEndResult | Plant | MonthEndInputs) -> MonthEndResult:
    from addin.costing import engine

    if isinstance(source, MonthEndResult):
        return source
    if isinstance(source, Plant):
        return engine.assemble(source, engine.post_month(source, lambda step, frac: None))
    return engine.run_month_end(source)


def _demand(plant: Plant) -> list[Demand]:
    """What the flush posts per source row: sales (and customer returns) under the sale-only
    trigger, else completions (and reversals); scrap units under every trigger, apart."""
    inputs, t = plant.inputs, plant.trigger
    flows = []
    if t is Trigger.SALE:
        s = inputs.sales
        qty = s["quantity"].to_numpy(np.float64)
        event = np.where(qty < 0, CUSTOMER_RETURN, SALE).astype(object)
        flows.append(Demand(s, event, qty, None, "AP"))
    c = inputs.completions
    if not len(c):
        return [f for f in flows if len(f.src)]
    by_order = t is not Trigger.SALE and plant.has_orders
    if t is not Trigger.SALE:
        good = c["quantity"].to_numpy(np.float64)
        starts = np.where(good < 0, 0.0, order_starts(c)) if by_order else None
        event = np.where(good < 0, COMPLETION_REVERSAL, COMPLETION).astype(object)
        flows.append(Demand(c, event, good, starts, t.material_credit_role))
    scrap = c["scrap_quantity"].fillna(0).to_numpy(np.float64)
    scrap = np.where(scrap > 0, scrap, 0.0)
    flows.append(
        Demand(
            c,
            np.full(len(c), SCRAP, dtype=object),
            scrap,
            np.zeros(len(c)) if by_order else None,
            t.material_credit_role,
        )
    )
    return [_nonzero(f) for f in flows if (f.quantity != 0).any()]


def _nonzero(f: Demand) -> Demand:
    """The rows of ``f`` that flush something (a zero quantity posts nothing)."""
    keep = f.quantity != 0
    starts = None if f.starts is None else f.starts[keep]
    return Demand(f.src[keep], f.event[keep], f.quantity[keep], starts, f.material_role)


def _estimate(plant: Plant, f: Demand) -> int:
    """Component lines the flow would take: leaves per item, per window, from one explosion of
    the items used."""
    n = len(plant.codes)
    pos = plant.index.positions(f.src["item"])
    win = plant.window_of(f.src["date"])
    estimate = 0
    for w in np.unique(win).tolist():
        window = plant.windows[w]
        items = np.unique(pos[win == w])
        probe = sp.csr_matrix(
            (np.ones(len(items)), (np.arange(len(items)), items)), shape=(len(items), n)
        )
        leaves = np.diff(window.explosion(probe).indptr) + plant.raw[items]
        per_item = np.zeros(n, dtype=np.int64)
        per_item[items] = leaves
        estimate += int(per_item[pos[win == w]].sum())
    return estimate


def _component_lines(plant: Plant, f: Demand) -> pd.DataFrame:
    """One line per source row and component of the flow ``f``, in every BOM window."""
    pos = plant.index.positions(f.src["item"])
    win = plant.window_of(f.src["date"])
    parts = [_window_lines(plant, f, pos, win, w) for w in np.unique(win).tolist()]
    return pd.concat(parts, ignore_index=True)


def _explode(plant: Plant, f: Demand, rows: np.ndarray, pos: np.ndarray, w: int) -> sp.coo_matrix:
    """Components of the source ``rows`` (dated in window ``w``), as the flush explodes them:
    per-order lines once, on the row that starts each order; a raw item is its own component."""
    window = plant.windows[w]
    shape = (len(rows), len(plant.codes))
    d = sp.csr_matrix((f.quantity[rows], (np.arange(len(rows)), pos[rows])), shape=shape)
    per = window.orders if f.starts is not None else None
    if per is None or f.starts is None:
        c = window.explosion(d)  # stocked subassemblies are taken from stock, as flushed
    else:
        n_orders = sp.csr_matrix((f.starts[rows], (np.arange(len(rows)), pos[rows])), shape=shape)
        c = window.explosion.below(d @ per.unit_matrix + n_orders @ per.order_matrix)
    raw = plant.raw
    if raw[pos[rows]].any():
        c = c + d @ sp.diags(raw.astype(np.float64))
    return c.tocoo()


def _window_lines(
    plant: Plant, f: Demand, pos: np.ndarray, win: np.ndarray, w: int
) -> pd.DataFrame:
    """The component lines of the source rows of ``f`` dated in window ``w``. A phantom with
    nothing to flush through is left to the entry's "material without BOM lines" line."""
    rows = np.flatnonzero(win == w)
    c = _explode(plant, f, rows, pos, w)
    std = plant.flush_standards(w, c.col).leaf_material[c.col]
    role, manual, phantom = leaf_roles(plant, c.col, f.material_role)
    keep = ~phantom
    src_rows = rows[c.row][keep]
    cents = to_cents(c.data * std)[keep]
    return pd.DataFrame(
        {
            "event": f.event[src_rows],
            "date": f.src["date"].to_numpy()[src_rows],
            "source_row": f.src["source_row"].to_numpy()[src_rows].astype(np.float64),
            "reference": f.src["reference"].fillna("").astype(str).to_numpy()[src_rows],
            "line": _component_kind(plant, c, manual)[keep],
            "parent": plant.codes[pos[src_rows]],
            "parent_quantity": f.quantity[src_rows],
            "component": plant.codes[c.col[keep]],
            "quantity": c.data[keep],
            "standard": std[keep],
            "amount_cents": cents,
            "flushed": plant.flushed[c.col[keep]],
            "role_code": role[keep],
            "signed_cents": -cents,  # the component credited (a reversal: debited back)
        }
    )


def _component_kind(
    plant: Plant, c: sp.coo_matrix, manual: npt.NDArray[np.bool_]
) -> npt.NDArray[np.object_]:
    """Each leaf line's kind: issued by hand, a by-product received (an obtained item coming
    out: quantity below 0), or a component flushed."""
    kind = leaf_kinds(plant, c.col, c.data, manual)
    return np.select(
        [kind == KINDS.index("manual issue"), kind == KINDS.index("by-product")],
        [MANUAL, BYPRODUCT],
        COMPONENT,
    ).astype(object)


def _with_entries(result: MonthEndResult, comp: pd.DataFrame, events: list[str]) -> pd.DataFrame:
    """The component lines with the entries' other lines (of ``events``) and the per-row
    rounding, each with its entry, account, debit, credit and memo; in entry order."""
    other = _other_lines(result, events)
    lines = pd.concat([comp, other], ignore_index=True)
    lines = pd.concat([lines, _row_rounding(result, lines, events)], ignore_index=True)
    entry = _entry_of(result.journal)
    keys = list(zip(lines["date"], lines["event"], strict=True))
    lines["entry"] = [entry.get((pd.Timestamp(d), e), "") for d, e in keys]
    role = lines["role_code"].to_numpy(np.int64)
    lines["role"] = np.asarray(ROLES, dtype=object)[role]
    codes = np.asarray([result.inputs.account(r).code for r in ROLES], dtype=object)
    lines["account"] = codes[role]
    signed = lines["signed_cents"].to_numpy(np.int64)
    lines["debit_cents"] = np.clip(signed, 0, None)
    lines["credit_cents"] = np.clip(-signed, 0, None)
    lines["memo"] = _memos(result, lines)
    order = lines["line"].map({COMPONENT: 0, MANUAL: 0, BYPRODUCT: 0, ROW_ROUNDING: 2}).fillna(1)
    lines = lines.assign(_o=order).sort_values(
        ["entry", "_o", "source_row", "component", "role_code"], kind="stable", na_position="last"
    )
    return lines.reset_index(drop=True)[BACKFLUSH_DETAIL.names]


def _entry_of(journal: pd.DataFrame) -> dict[tuple[pd.Timestamp, str], str]:
    """(date, event) -> the journal entry of the flush events (one entry per date and event)."""
    first = journal.drop_duplicates(["date", "event"])
    return {
        (pd.Timestamp(d), str(e)): str(x)
        for d, e, x in zip(first["date"], first["event"], first["entry"], strict=True)
    }


def _flush_postings(result: MonthEndResult, events: list[str]) -> pd.DataFrame:
    """The postings of the flush entries of ``events``."""
    p = result.postings
    return p[p["event"].astype(str).isin(events).to_numpy()]


def _other_lines(result: MonthEndResult, events: list[str]) -> pd.DataFrame:
    """The flush entries' lines that are not a component of a source row: the output, the
    conversion allocated, a BOM change, a lot size, material without BOM lines and the entry's
    rounding, per date, event, account and item."""
    p = _flush_postings(result, events)
    kind = p["kind"].astype(str).to_numpy(object)
    role = p["role"].astype(str).to_numpy(object)
    item = p["item"].astype(str).to_numpy(object)
    component = np.isin(kind, ["", "manual issue", "by-product"])
    component &= ~np.isin(role, ["CCA", "ROUNDING"])
    component &= (item != UNITEMIZED) & (item != "")
    p = p[~component]
    if not len(p):
        return pd.DataFrame()
    g = p.groupby(["date", "event", "role", "item", "kind"], observed=True, as_index=False).agg(
        quantity=("quantity", "sum"), cents=("cents", "sum")
    )
    g = g[g["cents"] != 0]
    line = np.select(
        [
            g["kind"] == "output",
            g["role"] == "CCA",
            g["kind"] == "BOM change",
            g["kind"] == "lot size",
            g["item"] == UNITEMIZED,
        ],
        [OUTPUT, CONVERSION, BOM_CHANGE, LOT_SIZE, NO_BOM],
        ENTRY_ROUNDING,
    )
    output = line == OUTPUT
    return pd.DataFrame(
        {
            "event": g["event"].astype(str).to_numpy(object),
            "date": g["date"].to_numpy(),
            "source_row": np.nan,
            "reference": "",
            "line": line,
            "parent": np.where(g["item"] == UNITEMIZED, "", g["item"].astype(str)),
            "parent_quantity": np.where(output, g["quantity"], np.nan),
            "component": "",
            "quantity": np.nan,
            "standard": np.nan,
            "amount_cents": np.zeros(len(g), dtype=np.int64),
            "flushed": False,
            "role_code": ROLES_INDEX.get_indexer(g["role"].astype(str)),
            "signed_cents": g["cents"].to_numpy(np.int64),
        }
    )


ROLES_INDEX = pd.Index(ROLES)


def _row_rounding(result: MonthEndResult, lines: pd.DataFrame, events: list[str]) -> pd.DataFrame:
    """One line per entry and account where the lines so far differ from the journal line:
    the component lines are rounded per source row, the journal's per day and component."""
    p = _flush_postings(result, events)
    posted = p.groupby(["date", "event", "role"], observed=True)["cents"].sum()
    posted.index = posted.index.set_levels(
        [ROLES_INDEX.get_indexer(posted.index.levels[2].astype(str))], level=[2]
    )
    keys = ["date", "event", "role_code"]
    listed = lines.groupby(keys)["signed_cents"].sum()
    posted.index.names = keys
    gap = posted.astype(np.int64).sub(listed, fill_value=0).astype(np.int64)
    gap = gap[gap != 0].reset_index(name="signed_cents")
    n = len(gap)
    return pd.DataFrame(
        {
            "event": gap["event"].astype(str).to_numpy(object),
            "date": gap["date"].to_numpy(),
            "source_row": np.full(n, np.nan),
            "reference": "",
            "line": ROW_ROUNDING,
            "parent": "",
            "parent_quantity": np.nan,
            "component": "",
            "quantity": np.nan,
            "standard": np.nan,
            "amount_cents": np.zeros(n, dtype=np.int64),
            "flushed": False,
            "role_code": gap["role_code"].to_numpy(np.int64),
            "signed_cents": gap["signed_cents"].to_numpy(np.int64),
        }
    )


def _memos(result: MonthEndResult, lines: pd.DataFrame) -> npt.NDArray[np.object_]:
    """Each line's memo; a component issued by hand says what its credit to the usage
    variance account on the completion entry is."""
    memo = lines["line"].map(LINE_MEMO).fillna("").to_numpy(object)
    memo[(lines["event"] == SCRAP).to_numpy() & (lines["line"] == COMPONENT).to_numpy()] = (
        SCRAP_MEMO
    )
    usage = result.inputs.account("USAGE").code
    manual = np.flatnonzero((lines["line"] == MANUAL).to_numpy())
    comp = lines["component"].to_numpy(object)
    for k in manual.tolist():
        memo[k] = (
            f"Backflush = No: {comp[k]} is issued by hand, not flushed, so its stock is not "
            f"relieved here. Its standard for these units (the Amount) is credited to the usage "
            f"variance account {usage} on this entry: the standard the output absorbed. The "
            f"count of {comp[k]} relieves what was really used (Dr {usage} / Cr stock on the "
            "count entry); the two net to its real usage variance. Without a count the credit "
            "stays a favourable variance."
        )
    return memo


__all__ = ["DetailTooLarge", "backflush_detail"]
