"""Worksheet functions (UDFs) for Excel through xlwings: BF_STDCOST, BF_EXPLODE, ...

Each function takes ranges with their header row (the contract's Standard Costs and BOM
column names, any case) and delegates to :mod:`addin.workbook.ranges`, which parses each
distinct range content once. A problem never reaches the cell as a traceback: it comes back
as text, ``#BF! <what is wrong and what to do>``.

The ``xw.func``/``xw.arg``/``xw.ret`` decorators only record metadata (on Linux they are
plain pass-through), so the functions stay ordinary Python and are tested as such.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import xlwings as xw

from addin.workbook import ranges as lookup

ERROR_PREFIX = "#BF!"

F = TypeVar("F", bound=Callable[..., Any])


def _readable_errors(fn: F) -> F:
    """Turn any exception into ``#BF! message`` text for the cell."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except lookup.LookupProblem as e:
            return f"{ERROR_PREFIX} {e}"
        except Exception as e:  # noqa: BLE001 - a cell shows text, never a traceback
            return f"{ERROR_PREFIX} internal error ({type(e).__name__}: {e})"

    return wrapper  # type: ignore[return-value]


@xw.func(category="Backflush")
@xw.arg("costs", ndim=2, doc="Standard Costs range with its header row")
@xw.arg("bom", ndim=2, doc="BOM range with its header row")
@xw.arg("item", doc="item code")
@xw.arg("element", doc="Material, Conversion, Labor, Overhead or blank for the total")
@_readable_errors
def BF_STDCOST(costs: Any, bom: Any, item: Any, element: Any = None) -> Any:  # noqa: N802
    """Rolled-up standard cost per unit of an item (one element, or the total)."""
    return lookup.standard_cost(costs, bom, item, element)


@xw.func(category="Backflush")
@xw.arg("bom", ndim=2, doc="BOM range with its header row")
@xw.arg("item", doc="item code")
@xw.arg("quantity", doc="quantity to explode (blank = 1)")
@xw.arg("levels", doc="levels to show (blank = all)")
@_readable_errors
def BF_EXPLODE(bom: Any, item: Any, quantity: Any = None, levels: Any = None) -> Any:  # noqa: N802
    """Spills the multi-level explosion of an item: Level, Component, Quantity."""
    return lookup.explode(bom, item, quantity, levels)


@xw.func(category="Backflush")
@xw.arg("costs", ndim=2, doc="Standard Costs range with its header row")
@xw.arg("bom", ndim=2, doc="BOM range with its header row")
@xw.arg("item", doc="item completed")
@xw.arg("quantity", doc="quantity completed")
@_readable_errors
def BF_BACKFLUSH(costs: Any, bom: Any, item: Any, quantity: Any) -> Any:  # noqa: N802
    """Spills what completing a quantity flushes: Component, Quantity, Standard Cost, Amount."""
    return lookup.backflush(costs, bom, item, quantity)


@xw.func(category="Backflush")
@xw.arg("bom", ndim=2, doc="BOM range with its header row")
@xw.arg("component", doc="component code")
@_readable_errors
def BF_WHEREUSED(bom: Any, component: Any) -> Any:  # noqa: N802
    """Spills every parent that uses a component, all levels: Level, Parent, Quantity Per."""
    return lookup.where_used(bom, component)


@xw.func(category="Backflush")
@xw.arg("actual", doc="actual amount (a cell or a range)")
@xw.arg("standard", doc="standard amount (a cell or a range of the same size)")
@_readable_errors
def BF_VARIANCE(actual: Any, standard: Any) -> Any:  # noqa: N802
    """Actual minus standard (positive = unfavourable) and F/U, one row per pair."""
    return lookup.variance(actual, standard)


UDFS = (BF_STDCOST, BF_EXPLODE, BF_BACKFLUSH, BF_WHEREUSED, BF_VARIANCE)
