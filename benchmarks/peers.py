"""Independent ways to explode demand through a multi-level BOM: the product's yardsticks.

Every method takes ``bom`` (model.BOM_COLUMNS; only parent, component, qty_per, scrap_pct are
used), ``standard_costs`` (model.STANDARD_COST_COLUMNS; item and backflush are used) and
``demand`` (a frame [item, quantity], rows may repeat an item) and returns the total leaf
consumption as a frame [component, quantity], sorted by component, zero rows dropped.

Semantics (the same as the product's engine):
- demand of an item = completed quantity + scrap quantity (``demand_from_completions``);
- the demanded item's own BOM is always exploded;
- a component is exploded further when it has BOM lines and its Backflush flag is True
  (subassemblies and phantoms alike); otherwise it is a leaf: an item with no BOM lines, or one
  with Backflush = False, is consumed as it is and counted;
- consumption of a component = parent quantity x qty_per x (1 + scrap_pct).

Effectivity is not looked at here: pass ``effective_bom(bom, on)`` to use the lines in force
on a day. Items missing from Standard Costs are treated as Backflush = True.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
import pandas as pd
import scipy.sparse as sp

RESULT_COLUMNS = ["component", "quantity"]


# --- shared preparation ----------------------------------------------------------------------


def effective_bom(bom: pd.DataFrame, on: dt.date | pd.Timestamp) -> pd.DataFrame:
    """The BOM lines in force on a day (NaT = open-ended)."""
    day = pd.Timestamp(on)
    ok = bom["effective_from"].isna() | (bom["effective_from"] <= day)
    ok &= bom["effective_to"].isna() | (bom["effective_to"] >= day)
    return bom[ok]


def demand_from_completions(completions: pd.DataFrame) -> pd.DataFrame:
    """One demand row per completion row: quantity + scrap quantity."""
    return pd.DataFrame(
        {
            "item": completions["item"].to_numpy(),
            "quantity": completions["quantity"].to_numpy(dtype=np.float64)
            + completions["scrap_quantity"].fillna(0.0).to_numpy(dtype=np.float64),
        }
    )


def _edges(bom: pd.DataFrame, standard_costs: pd.DataFrame) -> pd.DataFrame:
    """BOM lines as [parent, component, factor, explodes]; explodes is about the component."""
    no_flush = set(standard_costs.loc[~standard_costs["backflush"].astype(bool), "item"])
    parents = set(bom["parent"])
    comp = bom["component"]
    return pd.DataFrame(
        {
            "parent": bom["parent"].to_numpy(),
            "component": comp.to_numpy(),
            "factor": (bom["qty_per"] * (1.0 + bom["scrap_pct"].fillna(0.0))).to_numpy(
                dtype=np.float64
            ),
            "explodes": (comp.isin(parents) & ~comp.isin(no_flush)).to_numpy(),
        }
    )


def _result(components, quantities) -> pd.DataFrame:
    out = pd.DataFrame({"component": np.asarray(components, dtype=object), "quantity": quantities})
    out = out[out["quantity"] != 0.0]
    out = out.sort_values("component", kind="stable").reset_index(drop=True)
    out["component"] = out["component"].astype(object)
    out["quantity"] = out["quantity"].astype(np.float64)
    return out


# --- the methods -----------------------------------------------------------------------------


def explode_recursive(
    bom: pd.DataFrame, standard_costs: pd.DataFrame, demand: pd.DataFrame
) -> pd.DataFrame:
    """The naive approach: for every demand row, recurse through the BOM path by path."""
    edges = _edges(bom, standard_costs)
    children: dict[str, list[tuple[str, float, bool]]] = defaultdict(list)
    for p, c, f, e in zip(
        edges["parent"], edges["component"], edges["factor"], edges["explodes"], strict=True
    ):
        children[p].append((c, float(f), bool(e)))
    acc: dict[str, float] = defaultdict(float)

    def walk(item: str, qty: float) -> None:
        for comp, factor, explodes in children.get(item, ()):
            q = qty * factor
            if explodes:
                walk(comp, q)
            else:
                acc[comp] += q

    for item, qty in zip(demand["item"], demand["quantity"], strict=True):
        walk(item, float(qty))
    return _result(list(acc), np.fromiter(acc.values(), dtype=np.float64, count=len(acc)))


def explode_pandas_levels(
    bom: pd.DataFrame, standard_costs: pd.DataFrame, demand: pd.DataFrame
) -> pd.DataFrame:
    """Aggregate demand per item, then merge it with the BOM one level at a time."""
    edges = _edges(bom, standard_costs)
    frontier = demand.groupby("item", as_index=False, sort=False)["quantity"].sum()
    leaves = []
    while len(frontier):
        m = frontier.merge(edges, left_on="item", right_on="parent", how="inner")
        m["quantity"] = m["quantity"] * m["factor"]
        step = m.groupby(["component", "explodes"], as_index=False, sort=False)["quantity"].sum()
        leaves.append(step.loc[~step["explodes"], ["component", "quantity"]])
        frontier = step.loc[step["explodes"], ["component", "quantity"]].rename(
            columns={"component": "item"}
        )
    if not leaves:
        return _result([], np.empty(0))
    total = pd.concat(leaves).groupby("component", sort=False)["quantity"].sum()
    return _result(total.index.to_numpy(), total.to_numpy())


_DUCKDB_SQL = """
WITH RECURSIVE frontier(item, qty, is_leaf) AS (
    SELECT item, SUM(quantity)::DOUBLE, FALSE
    FROM demand
    GROUP BY item
  UNION ALL
    SELECT e.component, SUM(f.qty * e.factor), NOT e.explodes
    FROM frontier AS f
    JOIN edges AS e ON e.parent = f.item
    WHERE NOT f.is_leaf
    GROUP BY e.component, e.explodes
)
SELECT item AS component, SUM(qty) AS quantity
FROM frontier
WHERE is_leaf
GROUP BY item
"""


def explode_duckdb(
    bom: pd.DataFrame, standard_costs: pd.DataFrame, demand: pd.DataFrame
) -> pd.DataFrame:
    """A DuckDB recursive CTE; each step aggregates the frontier per item (the strong form:
    enumerating every BOM path instead grows exponentially with depth)."""
    import duckdb

    edges = _edges(bom, standard_costs)
    dem = pd.DataFrame(
        {
            "item": demand["item"].astype(object).to_numpy(),
            "quantity": demand["quantity"].to_numpy(dtype=np.float64),
        }
    )
    edges["parent"] = edges["parent"].astype(object)
    edges["component"] = edges["component"].astype(object)
    con = duckdb.connect()
    try:
        con.register("edges", edges)
        con.register("demand", dem)
        got = con.execute(_DUCKDB_SQL).df()
    finally:
        con.close()
    return _result(got["component"].to_numpy(), got["quantity"].to_numpy(dtype=np.float64))


def explode_sparse(
    bom: pd.DataFrame, standard_costs: pd.DataFrame, demand: pd.DataFrame
) -> pd.DataFrame:
    """scipy.sparse: A[parent, component] = qty_per x (1 + scrap); push the demand vector down
    one level per step (v <- A^T v), banking what reaches a leaf. The floor."""
    inverse, codes = pd.factorize(
        np.concatenate(
            [
                bom["parent"].to_numpy(dtype=object),
                bom["component"].to_numpy(dtype=object),
                demand["item"].to_numpy(dtype=object),
            ]
        )
    )
    codes = np.asarray(codes, dtype=object)
    nb, n = len(bom), len(codes)
    p, c, d = inverse[:nb], inverse[nb : 2 * nb], inverse[2 * nb :]
    factor = (bom["qty_per"] * (1.0 + bom["scrap_pct"].fillna(0.0))).to_numpy(dtype=np.float64)
    at = sp.csr_matrix((factor, (c, p)), shape=(n, n))  # A transposed: rows are components
    has_lines = np.zeros(n, dtype=bool)
    has_lines[p] = True
    no_flush = pd.Index(codes).isin(
        standard_costs.loc[~standard_costs["backflush"].astype(bool), "item"]
    )
    explodes = has_lines & ~no_flush
    v = np.bincount(d, weights=demand["quantity"].to_numpy(dtype=np.float64), minlength=n)
    used = np.zeros(n)
    for _ in range(n + 1):  # a DAG is at most n levels deep
        if not v.any():
            break
        w = at @ v
        used += np.where(explodes, 0.0, w)
        v = np.where(explodes, w, 0.0)
    else:
        raise ValueError("the BOM has a cycle")
    nz = np.flatnonzero(used)
    return _result(codes[nz], used[nz])


METHODS = {
    "per-record recursion": explode_recursive,
    "duckdb recursive CTE": explode_duckdb,
    "pandas level merges": explode_pandas_levels,
    "scipy.sparse (floor)": explode_sparse,
}


# --- comparing results -----------------------------------------------------------------------


def disagreements(
    a: pd.DataFrame, b: pd.DataFrame, rtol: float = 1e-9, limit: int = 10
) -> list[str]:
    """Where two [component, quantity] results differ by more than rtol (relative); [] if none."""
    sa = a.groupby("component")["quantity"].sum()
    sb = b.groupby("component")["quantity"].sum()
    joined = pd.concat([sa.rename("a"), sb.rename("b")], axis=1).fillna(0.0)
    x, y = joined["a"].to_numpy(dtype=np.float64), joined["b"].to_numpy(dtype=np.float64)
    bad = np.abs(x - y) > rtol * np.maximum(np.abs(x), np.abs(y))
    out = [
        f"{comp}: {xa!r} vs {yb!r}"
        for comp, xa, yb in zip(joined.index[bad], x[bad], y[bad], strict=True)
    ]
    if len(out) > limit:
        out = out[:limit] + [f"... and {len(out) - limit} more"]
    return out


def sample_rows(demand: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    """A deterministic random sample of n demand rows (all rows when n >= len)."""
    if n >= len(demand):
        return demand
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(demand), size=n, replace=False))
    return demand.iloc[idx].reset_index(drop=True)


def max_relative_difference(a: pd.DataFrame, b: pd.DataFrame) -> float:
    """The largest |a - b| / max(|a|, |b|) over components (0.0 when identical)."""
    sa = a.groupby("component")["quantity"].sum()
    sb = b.groupby("component")["quantity"].sum()
    joined = pd.concat([sa.rename("a"), sb.rename("b")], axis=1).fillna(0.0)
    x, y = joined["a"].to_numpy(dtype=np.float64), joined["b"].to_numpy(dtype=np.float64)
    scale = np.maximum(np.abs(x), np.abs(y))
    if not len(x) or not scale.any():
        return 0.0
    return float(np.max(np.abs(x - y)[scale > 0] / scale[scale > 0]))
