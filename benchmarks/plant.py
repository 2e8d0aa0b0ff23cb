"""A deterministic synthetic plant for the month-end benchmarks.

``generate_plant(size, seed)`` builds a ``MonthEndInputs`` shaped like a real plant's October
month-end; ``write_workbook(inputs, path)`` writes it as the .xlsx an accountant would hand the
add-in (sheet names and headers from ``addin.workbook.contract``).

Shape of the plant (all sizes):
- Items are Raw (level 0), Subassembly and Phantom (levels 1 .. D-2) and Finished (levels
  2 .. D-1, mostly at the top). Finished items are never components.
- Every BOM line of a parent at level k takes its component from a strictly lower level, so the
  BOM is a DAG. Each parent at level k >= 2 has one component from level k-1 (so the full depth
  is reached), a Poisson(0.5) number of further made components from lower levels, and the rest
  raw materials. No (parent, component) pair is repeated among the lines in force on a day.
- About 1 % of lines changed on 2026-07-01 (an expired old version plus the current one) and
  about 1 % change on 2027-01-01 (the current version ends 2026-12-31, a future one starts):
  exactly one version of every line is in force on every day of the period, and the other lines
  carry NaT effectivity.
- A few raw materials and about 2 % of subassemblies have Backflush = No; those subassemblies
  are built on their own orders, so they appear on Completions next to the finished goods, and
  are stocked. The other subassemblies are never completed on their own: they are Phantoms
  (their parents blow them through), as a plant that does not report them declares them.
- Standard material of a made item is its rolled-up material cost (so standards are not stale);
  conversion is one element per item (labor/overhead are NaN).
- Purchases cover roughly what the month's completions consume; counts, sales, opening balances
  and conversion costs are in proportion.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from addin.costing.bom import LINE_TYPES
from addin.costing.model import (
    BOM_COLUMNS,
    COMPLETION_COLUMNS,
    CONVERSION_COST_COLUMNS,
    COUNT_COLUMNS,
    OPENING_COLUMNS,
    PURCHASE_COLUMNS,
    SALE_COLUMNS,
    STANDARD_COST_COLUMNS,
    MonthEndInputs,
    Settings,
    Trigger,
)
from addin.workbook import contract

PERIOD_START = dt.date(2026, 10, 1)
PERIOD_END = dt.date(2026, 10, 31)
FIRST_DATA_ROW = 2  # header on worksheet row 1


@dataclass(frozen=True)
class PlantSize:
    items: int
    bom_lines: int
    levels: int  # including the raw level 0
    completions: int
    purchases: int
    sales: int


SIZES: dict[str, PlantSize] = {
    "S": PlantSize(
        items=300, bom_lines=3_000, levels=4, completions=2_000, purchases=500, sales=1_000
    ),
    "M": PlantSize(
        items=3_000, bom_lines=100_000, levels=6, completions=20_000, purchases=5_000, sales=10_000
    ),
    "L": PlantSize(
        items=20_000,
        bom_lines=1_000_000,
        levels=8,
        completions=200_000,
        purchases=50_000,
        sales=100_000,
    ),
}


def _codes(prefix: str, n: int) -> np.ndarray:
    width = max(5, len(str(n)))
    return np.array([f"{prefix}-{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def _dates(rng: np.random.Generator, n: int) -> np.ndarray:
    days = (PERIOD_END - PERIOD_START).days + 1
    start = np.datetime64(PERIOD_START, "ns")
    return start + rng.integers(0, days, n).astype("timedelta64[D]")


def _items(spec: PlantSize, rng: np.random.Generator) -> pd.DataFrame:
    """Item master: codes, types, levels, backflush flags. Raws first, then made items."""
    n = spec.items
    top = spec.levels - 1
    n_raw = int(round(n * 0.40))
    n_ph = max(3, int(round(n * 0.005)))
    n_fin = int(round(n * 0.20))
    n_sub = n - n_raw - n_ph - n_fin
    # Subassemblies and phantoms spread over levels 1 .. top-1; finished goods over 2 .. top,
    # half of them at the top level, and at least one on every level so the depth is reached.
    sub_lv = np.concatenate([np.arange(1, top), rng.integers(1, top, n_sub - (top - 1))])
    ph_lv = rng.integers(1, max(2, top - 1), n_ph)
    fin_lv = np.where(rng.random(n_fin) < 0.5, top, rng.integers(2, top + 1, n_fin))
    fin_lv[0] = top
    items = pd.DataFrame(
        {
            "item": np.concatenate(
                [
                    _codes("RM", n_raw),
                    _codes("SA", n_sub),
                    _codes("PH", n_ph),
                    _codes("FG", n_fin),
                ]
            ),
            "item_type": np.repeat(
                ["Raw", "Subassembly", "Phantom", "Finished"], [n_raw, n_sub, n_ph, n_fin]
            ),
            "level": np.concatenate([np.zeros(n_raw, dtype=np.int64), sub_lv, ph_lv, fin_lv]),
        }
    )
    backflush = np.ones(n, dtype=bool)
    raw_off = rng.choice(n_raw, size=max(1, n_raw // 200), replace=False)
    sub_off = n_raw + rng.choice(n_sub, size=max(1, n_sub // 50), replace=False)
    backflush[raw_off] = False
    backflush[sub_off] = False
    items["backflush"] = backflush
    # The plant reports completions only of the Backflush = No subassemblies; the others are
    # blown through by their parents, so they are declared Phantoms (backflush-domain.md
    # section 8: a subassembly that is never completed on its own is not stocked).
    items.loc[(items["item_type"] == "Subassembly") & backflush, "item_type"] = "Phantom"
    return items


def _bom_lines(
    spec: PlantSize, items: pd.DataFrame, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(parent index, component index) pairs of the lines in force, no pair repeated."""
    level = items["level"].to_numpy()
    itype = items["item_type"].to_numpy()
    n = len(items)
    n_raw = int((level == 0).sum())
    parents = np.flatnonzero(level > 0)
    # Made components (Subassembly/Phantom), sorted by level: those below level k are a prefix.
    cand = np.flatnonzero(np.isin(itype, ["Subassembly", "Phantom"]))
    cand = cand[np.argsort(level[cand], kind="stable")]
    cand_lv = level[cand]
    below = np.searchsorted(cand_lv, level[parents], side="left")  # count with level < k
    lv_start = np.searchsorted(cand_lv, level[parents] - 1, side="left")  # first at level k-1
    # One mandatory component from level k-1 (k >= 2).
    has_prev = level[parents] >= 2
    p1 = parents[has_prev]
    lo, hi = lv_start[has_prev], below[has_prev]
    c1 = cand[lo + (rng.random(len(p1)) * (hi - lo)).astype(np.int64)]
    # Extra made components from any lower made level.
    extra = rng.poisson(0.5, len(parents)) * (below > 0)
    p2 = np.repeat(parents, extra)
    c2 = cand[(rng.random(len(p2)) * np.repeat(below, extra)).astype(np.int64)]
    made = np.unique(np.concatenate([p1, p2]) * n + np.concatenate([c1, c2]))
    # Raw lines: the rest of the target, spread unevenly over parents; popular raws skewed.
    # ~2 % more lines are added later as other versions of changed lines.
    target_raw = int(round(spec.bom_lines / 1.02)) - len(made)
    weights = rng.lognormal(0.0, 0.5, len(parents))
    keys = np.empty(0, dtype=np.int64)
    need = target_raw
    while need > 0:
        per = rng.multinomial(int(need * 1.05) + 10, weights / weights.sum())
        pr = np.repeat(parents, per)
        cr = (n_raw * rng.random(len(pr)) ** 1.5).astype(np.int64)
        keys = np.unique(np.concatenate([keys, pr * n + cr]))
        need = target_raw - len(keys)
    if need < 0:
        keys = np.sort(rng.choice(keys, size=target_raw, replace=False))
    allkeys = np.concatenate([made, keys])
    return allkeys // n, allkeys % n


def _bom_frame(
    parent: np.ndarray, comp: np.ndarray, items: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    n_lines = len(parent)
    is_raw = (items["level"].to_numpy() == 0)[comp]
    qty = np.where(
        rng.random(n_lines) < 0.6,
        rng.integers(1, 11, n_lines).astype(float),
        np.round(rng.uniform(0.05, 5.0, n_lines), 3),
    )
    qty = np.where(is_raw, qty, rng.choice([1.0, 1.0, 1.0, 2.0, 3.0], n_lines))
    scrap = np.where(rng.random(n_lines) < 0.2, rng.choice([0.01, 0.02, 0.05, 0.10], n_lines), 0.0)
    nat = np.datetime64("NaT", "ns")
    eff_from = np.full(n_lines, nat)
    eff_to = np.full(n_lines, nat)
    # Changeovers: ~1 % changed on 2026-07-01, ~1 % change on 2027-01-01.
    u = rng.random(n_lines)
    past = np.flatnonzero(u < 0.01)
    future = np.flatnonzero((u >= 0.01) & (u < 0.02))
    eff_from[past] = np.datetime64("2026-07-01", "ns")
    eff_to[future] = np.datetime64("2026-12-31", "ns")
    old = pd.DataFrame(
        {
            "parent": parent[past],
            "component": comp[past],
            "qty_per": np.round(qty[past] * 1.1, 3),
            "scrap_pct": scrap[past],
            "effective_from": np.datetime64("2025-01-01", "ns"),
            "effective_to": np.datetime64("2026-06-30", "ns"),
        }
    )
    new = pd.DataFrame(
        {
            "parent": parent[future],
            "component": comp[future],
            "qty_per": np.round(qty[future] * 0.9, 3) + 0.001,
            "scrap_pct": scrap[future],
            "effective_from": np.datetime64("2027-01-01", "ns"),
            "effective_to": nat,
        }
    )
    current = pd.DataFrame(
        {
            "parent": parent,
            "component": comp,
            "qty_per": qty,
            "scrap_pct": scrap,
            "effective_from": eff_from,
            "effective_to": eff_to,
        }
    )
    bom = pd.concat([current, old, new], ignore_index=True)
    bom = bom.sort_values(["parent", "component", "effective_from"], kind="stable")
    codes = items["item"].to_numpy()
    bom["parent"] = codes[bom["parent"].to_numpy()]
    bom["component"] = codes[bom["component"].to_numpy()]
    bom["source_row"] = np.arange(FIRST_DATA_ROW, FIRST_DATA_ROW + len(bom), dtype=np.int64)
    bom = bom.assign(base_quantity=1.0, unit="", conversion_factor=1.0, per="Unit")
    bom["line_type"] = pd.Categorical.from_codes(
        np.zeros(len(bom), dtype=np.int8), categories=list(LINE_TYPES)
    )  # every line a component, as validation gives a BOM without a Line Type column
    bom["cost_share"] = np.nan
    return bom.reset_index(drop=True)[BOM_COLUMNS]


def _matrix(parent: np.ndarray, comp: np.ndarray, factor: np.ndarray, n: int) -> sp.csr_matrix:
    return sp.csr_matrix((factor, (parent, comp)), shape=(n, n))


def generate_plant(size: str, seed: int = 7) -> MonthEndInputs:
    """A synthetic plant's month-end inputs. Same size and seed give the same frames."""
    spec = SIZES[size.upper()]
    rng = np.random.default_rng(seed)
    items = _items(spec, rng)
    n = len(items)
    codes = items["item"].to_numpy()
    level = items["level"].to_numpy()
    pidx, cidx = _bom_lines(spec, items, rng)
    bom = _bom_frame(pidx, cidx, items, rng)

    # The lines in force in the period, as a matrix A[parent, component] = qty * (1 + scrap).
    pos = {c: i for i, c in enumerate(codes)}
    in_force = bom["effective_to"].isna() | (bom["effective_to"] >= pd.Timestamp(PERIOD_END))
    in_force &= bom["effective_from"].isna() | (bom["effective_from"] <= pd.Timestamp(PERIOD_START))
    live = bom[in_force]
    a = _matrix(
        live["parent"].map(pos).to_numpy(),
        live["component"].map(pos).to_numpy(),
        (live["qty_per"] * (1.0 + live["scrap_pct"])).to_numpy(),
        n,
    )

    is_raw = level == 0
    # Raw prices; made items carry no material of their own (it all comes from the BOM).
    material = np.where(is_raw, np.round(rng.lognormal(1.0, 1.0, n), 4), 0.0)
    conversion = np.where(is_raw, 0.0, np.round(rng.uniform(0.5, 20.0, n), 2))
    standard_costs = pd.DataFrame(
        {
            "item": codes,
            "description": [f"{t} {c}" for t, c in zip(items["item_type"], codes, strict=True)],
            "item_type": items["item_type"].to_numpy(),
            "uom": np.where(rng.random(n) < 0.8, "EA", "KG"),
            "material": material,
            "labor": np.nan,
            "overhead": np.nan,
            "conversion": conversion,
            "backflush": items["backflush"].to_numpy(),
            "yield_pct": 1.0,
            "lot_size": np.nan,
            "labor_hours": np.nan,
            "effective_from": pd.NaT,
            "source_row": np.arange(FIRST_DATA_ROW, FIRST_DATA_ROW + n, dtype=np.int64),
        }
    )[STANDARD_COST_COLUMNS]

    # Completions: finished goods (Zipf-like popularity) and Backflush=No subassemblies.
    fin = np.flatnonzero(items["item_type"].to_numpy() == "Finished")
    sub_off = np.flatnonzero((items["item_type"].to_numpy() == "Subassembly") & ~items["backflush"])
    pop = 1.0 / np.arange(1, len(fin) + 1) ** 0.8
    nc = spec.completions
    which = np.where(
        rng.random(nc) < 0.9,
        fin[rng.choice(len(fin), nc, p=pop / pop.sum())],
        sub_off[rng.integers(0, len(sub_off), nc)],
    )
    cqty = np.maximum(1.0, np.round(rng.lognormal(3.0, 1.0, nc)))
    cscrap = np.where(rng.random(nc) < 0.08, np.ceil(cqty * rng.uniform(0.01, 0.05, nc)), 0.0)
    cdate = np.sort(_dates(rng, nc))
    completions = pd.DataFrame(
        {
            "date": cdate,
            "item": codes[which],
            "quantity": cqty,
            "scrap_quantity": cscrap,
            "reference": [f"WO-{i:07d}" for i in range(1, nc + 1)],
            "source_row": np.arange(FIRST_DATA_ROW, FIRST_DATA_ROW + nc, dtype=np.int64),
        }
    )[COMPLETION_COLUMNS]

    # What the month consumes (same semantics as benchmarks.peers), to size purchases and counts.
    made_demand = np.bincount(which, weights=cqty + cscrap, minlength=n)
    explodes = (np.diff(a.indptr) > 0) & items["backflush"].to_numpy()
    at = a.T.tocsr()
    v, used = made_demand, np.zeros(n)
    while v.any():
        w = at @ v
        used += np.where(explodes, 0.0, w)
        v = np.where(explodes, w, 0.0)
    raw_used = np.where(is_raw, used, 0.0)

    # Purchases: rows spread over consumed raws in proportion to use.
    consumed = np.flatnonzero(raw_used > 0)
    npch = spec.purchases
    # every consumed raw is bought at least once; the other rows go in proportion to use
    extra_rows = max(0, npch - len(consumed))
    share_of_use = raw_used[consumed] / raw_used[consumed].sum()
    prow = np.concatenate(
        [
            consumed[: min(npch, len(consumed))],
            consumed[rng.choice(len(consumed), extra_rows, p=share_of_use)],
        ]
    )
    # Deliveries are front-loaded (day = 31 * u^2); a raw bought once is delivered on day 1.
    pday = (31 * rng.random(npch) ** 2).astype(np.int64)
    pday[: min(npch, len(consumed))] = 0
    order = rng.permutation(npch)
    order = order[np.argsort(pday[order], kind="stable")]
    prow, pday = prow[order], pday[order]
    pdate = np.datetime64(PERIOD_START, "ns") + pday.astype("timedelta64[D]")
    rows_per = np.bincount(prow, minlength=n)
    pqty = np.maximum(
        1.0, np.round(raw_used[prow] * rng.uniform(0.9, 1.15, npch) / rows_per[prow], 2)
    )
    purchases = pd.DataFrame(
        {
            "date": pdate,
            "item": codes[prow],
            "quantity": pqty,
            "unit_price": np.round(material[prow] * (1.0 + rng.normal(0.0, 0.02, npch)), 4),
            "charges": np.nan,  # no freight or duty charges: the column is left blank
            "reference": [f"PO-{i:07d}" for i in range(1, npch + 1)],
            "source_row": np.arange(FIRST_DATA_ROW, FIRST_DATA_ROW + npch, dtype=np.int64),
        }
    )[PURCHASE_COLUMNS]
    purchases["unit_price"] = purchases["unit_price"].clip(lower=0.0)

    # Sales: finished goods, drawn from completed rows, a bit less than was made.
    ns = spec.sales
    fin_rows = np.flatnonzero(np.isin(which, fin))
    srows = rng.choice(fin_rows, ns, replace=ns > len(fin_rows))
    share = min(1.0, 0.95 * len(fin_rows) / ns)
    sqty = np.maximum(1.0, np.floor(cqty[srows] * share * rng.uniform(0.8, 1.0, ns)))
    # sold 0-3 days after it was completed, within the period
    sdate = np.minimum(
        cdate[srows] + rng.integers(0, 4, ns).astype("timedelta64[D]"),
        np.datetime64(PERIOD_END, "ns"),
    )
    by_date = np.argsort(sdate, kind="stable")
    srows, sdate, sqty = srows[by_date], sdate[by_date], sqty[by_date]
    sales = pd.DataFrame(
        {
            "date": sdate,
            "item": codes[which[srows]],
            "quantity": sqty,
            "reference": [f"SO-{i:07d}" for i in range(1, ns + 1)],
            "source_row": np.arange(FIRST_DATA_ROW, FIRST_DATA_ROW + ns, dtype=np.int64),
        }
    )[SALE_COLUMNS]

    # Conversion costs actually incurred: ~3 % over standard, two postings a day.
    rolled_conv = conversion.copy()
    for k in range(1, int(level.max()) + 1):
        rows = np.flatnonzero(level == k)
        rolled_conv[rows] = conversion[rows] + a[rows] @ rolled_conv
    std_conv = float(np.sum(rolled_conv[which] * cqty))
    days = pd.date_range(PERIOD_START, PERIOD_END, freq="D").to_numpy().astype("datetime64[ns]")
    ncc = 2 * len(days)
    split = rng.dirichlet(np.ones(ncc))
    conversion_costs = pd.DataFrame(
        {
            "date": np.repeat(days, 2),
            "element": "Conversion",
            "amount": np.round(std_conv * 1.03 * split, 2),
            "hours": np.nan,
            "reference": [f"GL-{i:05d}" for i in range(1, ncc + 1)],
            "source_row": np.arange(FIRST_DATA_ROW, FIRST_DATA_ROW + ncc, dtype=np.int64),
        }
    )[CONVERSION_COST_COLUMNS]

    # Opening balances: ~30 % of raws (MIP) and of finished goods (FG).
    raw_idx = np.flatnonzero(is_raw)
    o_raw = np.sort(rng.choice(raw_idx, len(raw_idx) * 3 // 10, replace=False))
    o_fin = np.sort(rng.choice(fin, len(fin) * 3 // 10, replace=False))
    opening_raw_qty = np.round(
        np.maximum(raw_used[o_raw], 10.0) * rng.uniform(0.05, 0.2, len(o_raw)), 2
    )
    opening = pd.DataFrame(
        {
            "item": np.concatenate([codes[o_raw], codes[o_fin]]),
            "account": np.repeat(["MIP", "FG"], [len(o_raw), len(o_fin)]),
            "quantity": np.concatenate(
                [opening_raw_qty, np.round(rng.uniform(0, 200, len(o_fin)))]
            ),
        }
    )
    opening["value"] = np.nan  # not given: valued at standard
    opening["source_row"] = np.arange(FIRST_DATA_ROW, FIRST_DATA_ROW + len(opening), dtype=np.int64)
    opening = opening[OPENING_COLUMNS]

    # Counts: ~10 % of raws, close to book.
    opening_by_item = np.zeros(n)
    opening_by_item[o_raw] = opening_raw_qty
    bought = np.bincount(prow, weights=pqty, minlength=n)
    c_idx = np.sort(rng.choice(raw_idx, max(1, len(raw_idx) // 10), replace=False))
    book = np.maximum(0.0, opening_by_item[c_idx] + bought[c_idx] - raw_used[c_idx])
    # most counts within 1 % of book, one in ten 3-5 % short (shrinkage the run must flag)
    count_ratio = np.where(
        rng.random(len(c_idx)) < 0.9,
        rng.uniform(0.99, 1.01, len(c_idx)),
        rng.uniform(0.95, 0.97, len(c_idx)),
    )
    counts = pd.DataFrame(
        {
            "item": codes[c_idx],
            "counted_quantity": np.round(book * count_ratio, 2),
            "date": np.datetime64(PERIOD_END, "ns"),
            "source_row": np.arange(FIRST_DATA_ROW, FIRST_DATA_ROW + len(c_idx), dtype=np.int64),
        }
    )[COUNT_COLUMNS]

    settings = Settings(
        period_start=PERIOD_START, period_end=PERIOD_END, trigger=Trigger.PURCHASE_COMPLETION
    )
    return MonthEndInputs(
        settings=settings,
        standard_costs=standard_costs,
        bom=bom,
        purchases=purchases,
        completions=completions,
        sales=sales,
        conversion_costs=conversion_costs,
        counts=counts,
        opening_balances=opening,
    )


# --- writing the workbook --------------------------------------------------------------------

_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")

# Input sheet -> (MonthEndInputs attribute, [(header, frame column)]). Labor and Overhead are
# left out: the plant keeps conversion as one element.
_LAYOUT: dict[str, tuple[str, list[tuple[str, str]]]] = {}
# Optional columns the plant leaves at their defaults are not written, as in a plant's own
# workbook without them (and so the L figures stay comparable from session to session).
_UNUSED = {
    contract.STANDARD_COSTS: ("Yield %", "Lot Size", "Effective From"),
    contract.BOM: (
        *("Base Quantity", "Unit", "Conversion Factor", "Per"),
        *("Line Type", "Cost Share %"),
    ),
    contract.PURCHASES: ("Charges",),
}
for _spec in contract.INPUT_SHEETS:
    _attr = {
        contract.STANDARD_COSTS: "standard_costs",
        contract.BOM: "bom",
        contract.PURCHASES: "purchases",
        contract.COMPLETIONS: "completions",
        contract.SALES: "sales",
        contract.CONVERSION_COSTS: "conversion_costs",
        contract.COUNTS: "counts",
        contract.OPENING_BALANCES: "opening_balances",
    }.get(_spec.name)
    if _attr is None:
        continue
    _unused = _UNUSED.get(_spec.name, ())
    _cols = [
        (c.name, c.field)
        for c in _spec.columns
        if c.name not in ("Labor", "Overhead") and c.name not in _unused
    ]
    _LAYOUT[_spec.name] = (_attr, _cols)


def _excel_serial(values: pd.Series) -> np.ndarray:
    """datetime64 -> Excel serial day numbers (NaN for NaT)."""
    arr = values.to_numpy(dtype="datetime64[ns]")
    days = (arr.astype("datetime64[D]") - _EXCEL_EPOCH).astype(np.float64)
    days[np.isnat(arr)] = np.nan
    return days


def write_workbook(inputs: MonthEndInputs, path: str | Path) -> Path:
    """Write the plant as an input workbook in the contract's layout (xlsxwriter, constant_memory).

    Dates are real Excel dates (serial numbers with a date format); blank cells for NaT/NaN.
    """
    import xlsxwriter

    path = Path(path)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    pct_fmt = wb.add_format({"num_format": "0.00%"})
    bold = wb.add_format({"bold": True})

    ws = wb.add_worksheet(contract.SETTINGS)
    ws.write_row(0, 0, ["Setting", "Value"], bold)
    s = inputs.settings
    for r, (name, value) in enumerate(
        [("Period Start", s.period_start), ("Period End", s.period_end)], start=1
    ):
        ws.write_string(r, 0, name)
        ws.write_number(
            r, 1, float((np.datetime64(value, "D") - _EXCEL_EPOCH).astype(int)), date_fmt
        )
    ws.write_string(3, 0, "Trigger")
    ws.write_string(3, 1, s.trigger.value)

    for sheet, (attr, cols) in _LAYOUT.items():
        frame: pd.DataFrame = getattr(inputs, attr)
        ws = wb.add_worksheet(sheet)
        ws.write_row(0, 0, [h for h, _ in cols], bold)
        writers = []
        for c, (header, fieldname) in enumerate(cols):
            kind = contract.SHEETS_BY_NAME[sheet].column(header).kind
            series = frame[fieldname]
            if kind is contract.Kind.DATE:
                values = _excel_serial(series).tolist()
                writers.append((c, values, ws.write_number, date_fmt))
            elif kind is contract.Kind.YESNO:
                values = np.where(series.to_numpy(dtype=bool), "Yes", "No").tolist()
                writers.append((c, values, ws.write_string, None))
            elif kind in (contract.Kind.NUMBER, contract.Kind.PERCENT):
                values = series.to_numpy(dtype=np.float64).tolist()
                fmt = pct_fmt if kind is contract.Kind.PERCENT else None
                writers.append((c, values, ws.write_number, fmt))
            else:
                values = series.astype(object).tolist()
                writers.append((c, values, ws.write_string, None))
        for i in range(len(frame)):
            r = i + 1
            for c, values, write, fmt in writers:
                v = values[i]
                if v is None or v != v or v == "":  # blank for NaN/NaT/empty text
                    continue
                write(r, c, v, fmt)
    wb.close()
    return path
