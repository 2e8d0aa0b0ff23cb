"""Cycles in a bill of materials: a pure function over (parent, component) edges.

A BOM is a directed graph parent -> component; it must be acyclic for a cost roll-up to exist.
:func:`find_cycles` first prunes, vectorised with numpy, every item that cannot be on a cycle
(nothing feeds it, or it feeds nothing), then runs an iterative Tarjan search over what is
left, which for a real BOM is nothing or a handful of items.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

_MAX_PRUNE_ROUNDS = 64  # vectorised rounds; a remainder still left goes to Tarjan (O(E))


def find_cycles(parents: Sequence[object], components: Sequence[object]) -> list[list[str]]:
    """One cycle per strongly connected knot of the graph ``parents[i] -> components[i]``.

    Each cycle is the list of items in loop order, without repeating the first item, rotated to
    start at its smallest code: ``["A", "B", "C"]`` means A -> B -> C -> A. A self-loop (a
    parent that is its own component) is returned as ``["A"]``. Cycles are sorted by their
    first item. Codes are compared exactly (canonicalise them first). O(E) apart from sorting.
    """
    if len(parents) != len(components):
        raise ValueError("parents and components must have the same length")
    if len(parents) == 0:
        return []
    both = np.concatenate([np.asarray(parents, dtype=object), np.asarray(components, dtype=object)])
    codes, names = pd.factorize(both)  # hashing, not sorting: fast for millions of edges
    n_edges = len(parents)
    src = codes[:n_edges].astype(np.int64)
    dst = codes[n_edges:].astype(np.int64)
    n = len(names)
    names = [str(x) for x in names]

    cycles: list[list[str]] = []
    self_loop = src == dst
    for node in np.unique(src[self_loop]).tolist():
        cycles.append([names[node]])
    src, dst = src[~self_loop], dst[~self_loop]

    src, dst = _prune(src, dst, n)
    if len(src):
        for knot in _strong_components(src, dst, n):
            cycles.append([names[i] for i in _one_cycle(knot, src, dst, names)])
    cycles.sort(key=lambda c: c[0])
    return cycles


def _prune(src: np.ndarray, dst: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Drop, round by round, edges touching a node with no incoming or no outgoing edge."""
    for _ in range(_MAX_PRUNE_ROUNDS):
        if not len(src):
            break
        indeg = np.bincount(dst, minlength=n)
        outdeg = np.bincount(src, minlength=n)
        keep = (indeg[src] > 0) & (outdeg[dst] > 0)
        if keep.all():
            break
        src, dst = src[keep], dst[keep]
    return src, dst


def _strong_components(src: np.ndarray, dst: np.ndarray, n: int) -> list[list[int]]:
    """Strongly connected components with more than one node (iterative Tarjan)."""
    order = np.argsort(src, kind="stable")
    s_sorted, d_sorted = src[order], dst[order]
    starts = np.searchsorted(s_sorted, np.arange(n + 1))
    adj_start = starts.tolist()
    adj = d_sorted.tolist()
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for root in np.unique(src).tolist():
        if index[root] != -1:
            continue
        work = [(root, adj_start[root])]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        while work:
            v, pos = work[-1]
            end = adj_start[v + 1]
            if pos < end:
                work[-1] = (v, pos + 1)
                w = adj[pos]
                if index[w] == -1:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = True
                    work.append((w, adj_start[w]))
                elif on_stack[w] and index[w] < low[v]:
                    low[v] = index[w]
                continue
            work.pop()
            if work:
                u = work[-1][0]
                if low[v] < low[u]:
                    low[u] = low[v]
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(comp)
    return out


def _one_cycle(knot: list[int], src: np.ndarray, dst: np.ndarray, names: list[str]) -> list[int]:
    """A simple cycle inside a strongly connected knot, starting at its smallest node."""
    members = set(knot)
    inside = np.isin(src, knot) & np.isin(dst, knot)
    nxt: dict[int, int] = {}
    for s, d in zip(src[inside].tolist(), dst[inside].tolist(), strict=True):
        if s not in nxt or names[d] < names[nxt[s]]:
            nxt[s] = d  # deterministic: follow the smallest successor
    start = min(members, key=names.__getitem__)
    seen: dict[int, int] = {}
    path: list[int] = []
    v = start
    while v not in seen:
        seen[v] = len(path)
        path.append(v)
        v = nxt[v]
    cycle = path[seen[v] :]
    first = cycle.index(min(cycle, key=names.__getitem__))
    return cycle[first:] + cycle[:first]
