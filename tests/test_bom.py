"""The BOM engine against independent arithmetic: per-record recursion on random BOMs.

The engine rolls up and explodes in low-level-code order (each BOM line used once per demand
row, dense columns for a month's days) and falls back to a sparse level-by-level product for
many demand rows; both must give what a plain recursive walk of the BOM gives.
"""

from __future__ import annotations

import functools
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from addin.costing import bom as bomlib


def random_plant(seed: int, n_items: int = 60, lines: int = 220):
    """A random acyclic BOM: a parent always has a higher number than its components."""
    rng = np.random.default_rng(seed)
    parents = rng.integers(1, n_items, lines)
    components = np.array([rng.integers(0, p) for p in parents])
    qty = rng.choice([0.25, 0.5, 1.0, 2.0, 3.0, 1.5], lines)
    scrap = rng.choice([0.0, 0.0, 0.05, 0.1], lines)
    codes = [f"I{i:03d}" for i in range(n_items)]
    bom = pd.DataFrame(
        {
            "parent": [codes[p] for p in parents],
            "component": [codes[c] for c in components],
            "qty_per": qty,
            "scrap_pct": scrap,
        }
    )
    flushed = rng.random(n_items) > 0.15  # some items are issued by hand (Backflush = No)
    return codes, bom, flushed, rng


def lines_by_parent(bom: pd.DataFrame) -> dict[str, list[tuple[str, float]]]:
    out: defaultdict[str, list[tuple[str, float]]] = defaultdict(list)
    for line in bom.itertuples():
        out[line.parent].append((line.component, line.qty_per * (1 + line.scrap_pct)))
    return out


def recursive_explosion(bom: pd.DataFrame, passes: set[str]):
    """Per unit of an item, by recursion over its BOM lines (memoised: a random DAG has
    exponentially many paths): demand for the item explodes one level; a component passes its
    demand on when it is in ``passes``, else it is consumed there."""
    lines = lines_by_parent(bom)
    memo: dict[str, dict[str, float]] = {}

    def unit(item: str) -> dict[str, float]:
        if item not in memo:
            out: defaultdict[str, float] = defaultdict(float)
            for component, q in lines[item]:
                if component in passes:
                    for leaf, per in unit(component).items():
                        out[leaf] += q * per
                else:
                    out[component] += q
            memo[item] = out
        return memo[item]

    return unit


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("rows", [1, 7, 64, 65, 150])
def test_explosion_matches_a_recursive_walk_for_few_and_many_demand_rows(seed, rows):
    codes, bom, flushed, rng = random_plant(seed)
    index = bomlib.ItemIndex(pd.Index(codes, dtype=object))
    a = bomlib.bom_matrix(bom, index)
    has_bom = np.diff(a.indptr) > 0
    exploded = has_bom & flushed
    n = len(codes)
    demand_items = rng.integers(n // 2, n, rows * 2)
    demand_rows = np.repeat(np.arange(rows), 2)
    demand_qty = rng.integers(1, 20, rows * 2).astype(float)
    demand = sp.csr_matrix((demand_qty, (demand_rows, demand_items)), shape=(rows, n))
    got = bomlib.explode(demand, a, exploded).toarray()

    unit = recursive_explosion(bom, {codes[i] for i in np.flatnonzero(exploded)})
    for r in range(rows):
        want = np.zeros(n)
        for i, q in zip(demand_items[demand_rows == r], demand_qty[demand_rows == r], strict=True):
            for leaf, per in unit(codes[i]).items():
                want[codes.index(leaf)] += q * per
        np.testing.assert_allclose(got[r], want, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_dense_and_sparse_explosion_agree(seed):
    codes, bom, flushed, rng = random_plant(seed, n_items=300, lines=1500)
    index = bomlib.ItemIndex(pd.Index(codes, dtype=object))
    a = bomlib.bom_matrix(bom, index)
    exploded = (np.diff(a.indptr) > 0) & flushed
    demand = sp.random(31, len(codes), density=0.05, random_state=seed, format="csr") * 100
    dense = bomlib.explode(demand, a, exploded)
    sparse = bomlib._explode_sparse(demand, a, exploded)
    np.testing.assert_allclose(dense.toarray(), sparse.toarray(), rtol=1e-12, atol=1e-9)
    assert dense.nnz == sparse.nnz


def test_roll_up_matches_a_recursive_roll_up():
    codes, bom, _, rng = random_plant(11)
    material = rng.choice([0.0, 1.25, 3.5, 10.0], len(codes))
    conversion = rng.choice([0.0, 0.5, 2.0], len(codes))
    sc = pd.DataFrame({"item": codes, "material": material, "conversion": conversion})
    index = bomlib.ItemIndex(pd.Index(codes, dtype=object))
    rolled = bomlib.roll_up(sc, bomlib.bom_matrix(bom, index), index).rolled

    lines = lines_by_parent(bom)

    @functools.cache
    def by_hand(item: str, element: str) -> float:
        own = sc.loc[codes.index(item), element]
        return own + sum(q * by_hand(component, element) for component, q in lines[item])

    for k in range(0, len(codes), 7):
        assert rolled["material"][k] == pytest.approx(by_hand(codes[k], "material"), rel=1e-12)
        assert rolled["conversion"][k] == pytest.approx(by_hand(codes[k], "conversion"), rel=1e-12)
    assert np.isnan(rolled["labor"]).all()  # no labour column: not split, not invented


def test_positions_of_a_categorical_column_equal_those_of_its_strings():
    index = bomlib.ItemIndex(pd.Index(["A", "B", "C", "D"], dtype=object))
    values = ["C", "A", "C", "D"]
    cat = pd.Series(pd.Categorical(values, categories=["D", "C", "B", "A"]))
    assert index.positions(cat).tolist() == index.positions(pd.Series(values)).tolist()
    with pytest.raises(KeyError, match="X"):
        index.positions(pd.Series(pd.Categorical(["A", "X"])))


def test_parsed_item_columns_are_categorical_and_post_as_their_strings_would():
    """parse_inputs hands the engine item columns as categoricals over Standard Costs (no
    string hashing per row); the month-end must come out the same from plain strings."""
    import dataclasses
    from pathlib import Path

    from addin.app import check_workbook
    from addin.costing.engine import run_month_end

    demo = Path(__file__).parent.parent / "workbook_templates" / "demo-plant.xlsx"
    parsed = check_workbook(demo).inputs
    assert parsed is not None
    item_columns = {
        "bom": ["parent", "component"],
        "purchases": ["item"],
        "completions": ["item"],
        "sales": ["item"],
        "counts": ["item"],
        "opening_balances": ["item"],
    }
    as_text = {}
    for frame, columns in item_columns.items():
        f = getattr(parsed, frame)
        for c in columns:
            assert isinstance(f[c].dtype, pd.CategoricalDtype), f"{frame}.{c}"
        as_text[frame] = f.assign(**{c: f[c].astype(object) for c in columns})
    plain = dataclasses.replace(parsed, **as_text)
    a, b = run_month_end(parsed), run_month_end(plain)
    for name in ("journal", "inventory", "variances", "backflush", "trial_balance"):
        pd.testing.assert_frame_equal(
            getattr(a, name).astype(str), getattr(b, name).astype(str), obj=name
        )
    assert [str(f) for f in a.findings] == [str(f) for f in b.findings]
