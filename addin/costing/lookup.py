"""Who uses what: BOM structures walked for the worksheet functions (pure; no cell parsing).

The ranges a worksheet function receives are parsed in :mod:`addin.workbook.ranges`; what it
hands over here are item keys (codes as compared: trimmed, case-folded), their spellings, and
quantities per parent unit (Qty Per x (1 + Scrap %)).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MAX_ROWS = 100_000  # a spill larger than this is surely a mistake (and slow in Excel)


class LookupProblem(ValueError):
    """A range or argument a worksheet function cannot use; the message says what to fix."""


Edge = tuple[str, str, str, str, float]  # parent key, component key, their spellings, quantity


@dataclass(frozen=True)
class Structure:
    """Who uses what: children and parents of each item (keys), in BOM order."""

    children: dict[str, list[tuple[str, float]]]
    parents: dict[str, list[tuple[str, float]]]
    spelling: dict[str, str]  # key -> first spelling seen

    @classmethod
    def of(cls, edges: Iterable[Edge]) -> Structure:
        children: dict[str, list[tuple[str, float]]] = {}
        parents: dict[str, list[tuple[str, float]]] = {}
        spelling: dict[str, str] = {}
        for p, c, p_text, c_text, qty in edges:
            spelling.setdefault(p, p_text)
            spelling.setdefault(c, c_text)
            children.setdefault(p, []).append((c, qty))
            parents.setdefault(c, []).append((p, qty))
        return cls(children, parents, spelling)


def walk(
    graph: dict[str, list[tuple[str, float]]],
    spelling: dict[str, str],
    start: str,
    quantity: float,
    depth: int,
) -> list[list[object]]:
    """Depth-first, in BOM order: one row per path (level, item, extended quantity)."""
    rows: list[list[object]] = []
    path = [start]
    stack: list[tuple[str, float, int]] = [
        (c, q * quantity, 1) for c, q in reversed(graph.get(start, []))
    ]
    while stack:
        node, qty, level = stack.pop()
        del path[level:]
        if node in path:
            loop = " -> ".join(spelling.get(x, x) for x in [*path[path.index(node) :], node])
            raise LookupProblem(f"BOM cycle: {loop}; remove one of its lines")
        rows.append([level, spelling.get(node, node), qty])
        if len(rows) > MAX_ROWS:
            raise LookupProblem(f"more than {MAX_ROWS:,} rows; limit the levels")
        path.append(node)
        if level < depth:
            stack.extend((c, q * qty, level + 1) for c, q in reversed(graph.get(node, [])))
    return rows
