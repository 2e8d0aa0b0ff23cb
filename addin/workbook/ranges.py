"""BOM and standard-cost look-ups for worksheet functions: parsed once per range content.

Worksheet functions receive their ranges as rows of plain cell values (the first row holds the
headers, named as on the contract's Standard Costs and BOM sheets, matched case-insensitively).
Parsing a range, building the BOM matrix and rolling up standards happen once per distinct
range content: the parsed result is cached under the range's values, so thousands of
``BF_STDCOST`` calls over the same ranges cost one parse plus a dictionary look-up each.

Cells are read as the month-end reads them (:func:`addin.workbook.cells.read_cell` with the
contract's column), so a range means the same to a worksheet function as to the month-end.
The structure walks are in :mod:`addin.costing.lookup`.

Problems raise :class:`LookupProblem` with a message an accountant can act on; the UDF layer
turns it into ``#BF! <message>`` in the cell.

Rules, the same as the engine's (addin/costing/bom.py):
- a BOM line consumes ``Qty Per x Conversion Factor / Base Quantity x (1 + Scrap %)`` of its
  component per parent unit (a By-product line obtains it: negative); a line with Per = Order
  consumes ``Qty Per x Conversion Factor x (1 + Scrap %)`` once per order, which the standard
  (``BF_STDCOST``, ``BF_BACKFLUSH``) spreads over the parent's Lot Size on the costs range, and
  the parent's Yield % there divides its per-unit lines. ``BF_EXPLODE`` and ``BF_WHEREUSED``
  read the BOM range only: they show the lines' quantities and refuse a per-order line;
- BOM lines apply on the day they are asked about (today by default) when
  Effective From <= day <= Effective To (blank = open-ended);
- a backflush flushes through items that have BOM lines down to leaves (items without BOM
  lines, or marked Backflush = No, which are consumed whole), valued at rolled material
  standard, as on the Backflush tab.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from addin.costing import bom as bomlib
from addin.costing.lookup import LookupProblem, Structure, walk
from addin.costing.money import round_money
from addin.workbook import contract as C
from addin.workbook.cells import (
    is_blank,
    normalize_name,
    number_from_text,
    read_cell,
    read_choice,
    text,
)
from addin.workbook.contract import Column

CACHE_SIZE = 64
_COSTS = C.SHEETS_BY_NAME[C.STANDARD_COSTS]
_EFFECTIVE = _COSTS.column("Effective From")
_BOM = C.SHEETS_BY_NAME[C.BOM]
ELEMENT_NAMES = {
    "material": "material",
    "conversion": "conversion",
    "labor": "labor",
    "labour": "labor",
    "overhead": "overhead",
    "total": "total",
    "": "total",
}


Rows = Sequence[Sequence[object]]


# ---- cache ------------------------------------------------------------------------------


_CACHE: OrderedDict[Hashable, object] = OrderedDict()


def _frozen(rows: object) -> tuple[tuple[object, ...], ...]:
    """The range's values as a hashable key (lists of rows as xlwings hands them over)."""
    if not isinstance(rows, (list, tuple)) or not rows:
        raise LookupProblem("the range is empty; give the range with its header row")
    if not isinstance(rows[0], (list, tuple)):
        return (tuple(rows),)
    return tuple(map(tuple, rows))


def _cached(key: Hashable, build: Callable[[], Any]) -> Any:
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        if isinstance(hit, LookupProblem):
            raise hit
        return hit
    try:
        value = build()
    except LookupProblem as e:
        value = e
    _CACHE[key] = value
    if len(_CACHE) > CACHE_SIZE:
        _CACHE.popitem(last=False)
    if isinstance(value, LookupProblem):
        raise value
    return value


def clear_cache() -> None:
    _CACHE.clear()


# ---- cell values ------------------------------------------------------------------------


_blank = is_blank


def code(v: object) -> str:
    """An item code as text, as the month-end reads it: 1001.0 -> "1001", spaces trimmed."""
    return text(v)


def _number(v: object, what: str) -> float:
    """An argument (a quantity, levels, an amount): a number, or money or percent text."""
    if isinstance(v, bool):
        raise LookupProblem(f"{what} is {v!r}, not a number")
    if isinstance(v, (int, float)):
        x = float(v)
    else:  # the month-end's reading: "1,234.50", "(12.00)", "$5", "12%"
        parsed = number_from_text(str(v), percent=True)
        if parsed is None:
            raise LookupProblem(f'{what} is "{v}", not a number')
        x = parsed
    if not math.isfinite(x):
        raise LookupProblem(f"{what} is not a finite number")
    return x


def cell_value(v: object, col: Column, what: str) -> object:
    """A range cell read as the month-end reads a cell of ``col`` (None when blank or an
    open-ended date); LookupProblem with the month-end's words when it refuses it."""
    if _blank(v):
        return None
    value, problem = read_cell(v, col)
    if problem is not None:
        raise LookupProblem(f"{what} {col.name} {problem}")
    if isinstance(value, float) and not math.isfinite(value):
        raise LookupProblem(f"{what} is not a finite number; type a number")
    return value


def _cell_number(v: object, col: Column, what: str) -> float:
    x = cell_value(v, col, what)
    return float(x) if x is not None else math.nan  # type: ignore[arg-type]


def _date(v: object, col: Column, what: str) -> pd.Timestamp | None:
    x = cell_value(v, col, what)
    return x if isinstance(x, pd.Timestamp) else None


def _yes(v: object, what: str) -> bool:
    """Backflush as the month-end reads it: blank is Yes; Yes/Y/True/1/x; No/N/False/0."""
    x = cell_value(v, _COSTS.column("Backflush"), what)
    return True if x is None else bool(x)


def _header(rows: tuple[tuple[object, ...], ...], what: str) -> dict[str, int]:
    return {normalize_name(h): j for j, h in enumerate(rows[0]) if not _blank(h)}


def _need(cols: dict[str, int], names: tuple[str, ...], what: str) -> None:
    missing = [n for n in names if normalize_name(n) not in cols]
    if missing:
        raise LookupProblem(
            f"the {what} range has no {', '.join(missing)} column; include the header row "
            f"({', '.join(names)})"
        )


def _cell(row: tuple[object, ...], j: int | None) -> object:
    return row[j] if j is not None and j < len(row) else None


# ---- parsed ranges ----------------------------------------------------------------------


@dataclass(frozen=True)
class Costs:
    """A Standard Costs range, parsed: one entry per item, in range order."""

    codes: list[str]
    frame: pd.DataFrame  # item, material, labor, overhead, conversion, backflush (engine names)
    position: dict[str, int]  # normalised code -> row in ``frame``

    def find(self, item: object, what: str = "item") -> int:
        pos = self.position.get(normalize_name(code(item)))
        if pos is None:
            raise LookupProblem(f'unknown {what} "{code(item)}": it is not on the costs range')
        return pos


def parse_costs(rows: object, on: dt.date | None = None) -> Costs:
    """The costs range: each item's row in force on ``on`` (today when None)."""
    key = ("costs", _frozen(rows), on or dt.date.today())
    return _cached(key, lambda: _parse_costs(key[1], _today(on)))


def _parse_costs(rows: tuple[tuple[object, ...], ...], day: pd.Timestamp) -> Costs:
    """One entry per item: with an Effective From column, the item's row with the latest date
    on or before ``day`` (blank = always); rows dated later are not in force yet."""
    cols = _header(rows, "costs")
    _need(cols, (_COSTS.column("Item").name, _COSTS.column("Material").name), "costs")
    split = "labor" in cols or "overhead" in cols
    if "conversion" not in cols and not split:
        raise LookupProblem(
            "the costs range needs a Conversion column, or Labor and Overhead columns"
        )
    chosen: dict[str, tuple[pd.Timestamp | None, str, list[float], bool]] = {}
    planning: dict[str, tuple[float, float]] = {}
    for i, row in enumerate(rows[1:], start=2):
        item = _cell(row, cols["item"])
        if _blank(item):
            if all(_blank(v) for v in row):
                continue
            raise LookupProblem(f"costs range, row {i}: the Item is blank")
        name = code(item)
        key = normalize_name(name)
        where = f'costs range, row {i} ("{name}"):'
        since = _date(_cell(row, cols.get("effective from")), _EFFECTIVE, where)
        if since is not None and since > day:
            continue  # a standard not in force yet
        if key in chosen and chosen[key][0] == since:
            raise LookupProblem(f'costs range, row {i}: item "{name}" appears twice')
        if key in chosen and _earlier(since, chosen[key][0]):
            continue  # superseded by a later row
        values = [
            _cell_number(_cell(row, cols.get(e)), _COSTS.column(e.title()), where)
            for e in bomlib.ELEMENTS
        ]
        chosen[key] = (since, name, values, _yes(_cell(row, cols.get("backflush")), where))
        planning[key] = _planning(row, cols, where)
    if not chosen:
        raise LookupProblem("the costs range has a header but no items")
    costs = _costs_frame(chosen, split, "conversion" in cols)
    costs.frame["yield_pct"] = [planning[k][0] for k in chosen]
    costs.frame["lot_size"] = [planning[k][1] for k in chosen]
    return costs


def _planning(row: tuple[object, ...], cols: dict[str, int], where: str) -> tuple[float, float]:
    """An item's Yield % (fraction, 1 when blank) and Lot Size (NaN when blank)."""
    y = _cell_number(_cell(row, cols.get("yield %")), _COSTS.column("Yield %"), where)
    lot = _cell_number(_cell(row, cols.get("lot size")), _COSTS.column("Lot Size"), where)
    if not math.isnan(y) and not 0 < y <= 1:
        raise LookupProblem(f"{where} Yield % must be more than 0 % and at most 100 %")
    if not math.isnan(lot) and lot <= 0:
        raise LookupProblem(f"{where} Lot Size must be more than 0")
    return (1.0 if math.isnan(y) else y), lot


def _earlier(a: pd.Timestamp | None, b: pd.Timestamp | None) -> bool:
    """``a`` is before ``b`` (None = always, before any date)."""
    return b is not None and (a is None or a < b)


def _costs_frame(
    chosen: dict[str, tuple[pd.Timestamp | None, str, list[float], bool]],
    split: bool,
    has_conversion: bool,
) -> Costs:
    codes = [name for _, name, _, _ in chosen.values()]
    data = {
        e: [0.0 if math.isnan(v[k]) and e in ("material", "conversion") else v[k]
            for _, _, v, _ in chosen.values()]
        for k, e in enumerate(bomlib.ELEMENTS)
    }  # fmt: skip
    flushed = [b for _, _, _, b in chosen.values()]
    frame = pd.DataFrame({"item": codes, **data, "backflush": flushed})
    if split:
        frame["labor"] = frame["labor"].fillna(0.0)
        frame["overhead"] = frame["overhead"].fillna(0.0)
        if not has_conversion:
            frame["conversion"] = frame["labor"] + frame["overhead"]
    return Costs(codes, frame, {key: k for k, key in enumerate(chosen)})


@dataclass(frozen=True)
class BomLine:
    parent: str
    component: str
    # per parent unit: qty per x factor / base x (1 + scrap), negative on a by-product line;
    # per order (per_order): qty per x factor x (1 + scrap)
    quantity: float
    row: int  # row within the range (header = 1)
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    per_order: bool = False

    def active(self, day: pd.Timestamp | None) -> bool:
        if day is None:
            return True
        return (self.start is None or self.start <= day) and (self.end is None or self.end >= day)


@dataclass(frozen=True)
class Bom:
    """A BOM range, parsed: its lines in range order."""

    lines: tuple[BomLine, ...]
    _by_day: dict[object, Structure] = field(default_factory=dict, compare=False)

    def on(self, day: pd.Timestamp | None) -> Structure:
        """The parent -> components structure of the lines in effect on ``day`` (LookupProblem
        on a per-order line: spreading it needs the parent's Lot Size on the costs range)."""
        hit = self._by_day.get(day)
        if hit is None:
            for ln in self.lines:
                if ln.per_order and ln.active(day):
                    raise LookupProblem(
                        f"BOM range, row {ln.row}: a per-order line (Per = Order); this "
                        "function reads the BOM range only and cannot spread it over a lot "
                        "size: use BF_BACKFLUSH or BF_STDCOST with the costs range"
                    )
            hit = Structure.of(
                (normalize_name(ln.parent), normalize_name(ln.component), ln.parent,
                 ln.component, ln.quantity)
                for ln in self.lines
                if ln.active(day)
            )  # fmt: skip
            self._by_day[day] = hit
        return hit


def parse_bom(rows: object) -> Bom:
    key = ("bom", _frozen(rows))
    return _cached(key, lambda: _parse_bom(key[1]))


def _parse_bom(rows: tuple[tuple[object, ...], ...]) -> Bom:
    cols = _header(rows, "BOM")
    _need(cols, tuple(c.name for c in _BOM.columns if c.required), "BOM")
    lines = []
    for i, row in enumerate(rows[1:], start=2):
        parent, comp = _cell(row, cols["parent"]), _cell(row, cols["component"])
        if all(_blank(v) for v in row):
            continue
        if _blank(parent) or _blank(comp):
            raise LookupProblem(f"BOM range, row {i}: Parent and Component must both be given")
        where = f'BOM range, row {i} ("{code(parent)}" > "{code(comp)}"):'
        qty = _cell_number(_cell(row, cols["qty per"]), _BOM.column("Qty Per"), where)
        if math.isnan(qty):
            raise LookupProblem(f"{where} Qty Per is blank; type a number")
        if not qty > 0:
            raise LookupProblem(f"{where[:-1]}: Qty Per must be more than 0")
        scrap = _cell_number(_cell(row, cols.get("scrap %")), _BOM.column("Scrap %"), where)
        qty *= _line_sign(_cell(row, cols.get("line type")), where)
        qty, per_order = _stated_for(row, cols, where, qty)
        if normalize_name(code(parent)) == normalize_name(code(comp)):
            raise LookupProblem(f"{where[:-1]}: an item cannot be its own component")
        lines.append(
            BomLine(
                code(parent),
                code(comp),
                qty * (1.0 + (0.0 if math.isnan(scrap) else scrap)),
                i,
                _date(_cell(row, cols.get("effective from")), _BOM.column("Effective From"), where),
                _date(_cell(row, cols.get("effective to")), _BOM.column("Effective To"), where),
                per_order,
            )
        )
    return Bom(tuple(lines))


def _stated_for(
    row: tuple[object, ...], cols: dict[str, int], where: str, qty: float
) -> tuple[float, bool]:
    """Qty Per in the component's unit (x Conversion Factor), over the Base Quantity on a
    per-unit line; and whether the line is per order (Per = Order)."""
    factor = _cell_number(
        _cell(row, cols.get("conversion factor")), _BOM.column("Conversion Factor"), where
    )
    base = _cell_number(_cell(row, cols.get("base quantity")), _BOM.column("Base Quantity"), where)
    for value, name in ((factor, "Conversion Factor"), (base, "Base Quantity")):
        if not math.isnan(value) and value <= 0:
            raise LookupProblem(f"{where} {name} must be more than 0")
    per = _cell(row, cols.get("per"))
    per_order = False
    if not _blank(per):
        choice, problem = read_choice(per, C.PER_CHOICES)
        if problem is not None:
            raise LookupProblem(f"{where} Per {problem}")
        per_order = choice == "Order"
    if per_order and not math.isnan(base) and base != 1:
        raise LookupProblem(f"{where} a per-order line has no Base Quantity; leave it blank")
    qty *= 1.0 if math.isnan(factor) else factor
    return (qty if per_order or math.isnan(base) else qty / base), per_order


def _line_sign(line_type: object, where: str) -> float:
    """+1 for a component line, -1 for a by-product (obtained: it lowers the parent's cost at
    its own standard). Co-product standards are derived by the month-end only."""
    if _blank(line_type):
        return 1.0
    kind, problem = read_choice(line_type, bomlib.LINE_TYPES)
    if problem is not None:
        raise LookupProblem(f"{where} Line Type {problem}")
    if kind == bomlib.COPRODUCT:
        raise LookupProblem(
            f"{where} a co-product line: its standard is derived from its cost share by the "
            "month-end run (Cost Rollup tab); the worksheet functions do not derive it"
        )
    return -1.0 if kind == bomlib.BYPRODUCT else 1.0


def _today(on: dt.date | None) -> pd.Timestamp:
    return pd.Timestamp(on if on is not None else dt.date.today())


# ---- rolled-up standards ----------------------------------------------------------------


@dataclass(frozen=True)
class Catalog:
    """Costs and BOM together: the BOM matrix, rolled-up standards, what flushes."""

    costs: Costs
    matrix: sp.csr_matrix
    rollup: bomlib.Rollup
    exploded: npt.NDArray[np.bool_]  # has BOM lines and is flushed through


def catalog(costs_rows: object, bom_rows: object, on: dt.date | None = None) -> Catalog:
    ck, bk = _frozen(costs_rows), _frozen(bom_rows)
    key = ("catalog", ck, bk, on or dt.date.today())
    hit = _CACHE.get(key)  # the hot path: one hash of the values, no parsing
    if isinstance(hit, Catalog):
        return hit
    return _cached(
        key,
        lambda: _catalog(
            _cached(("costs", ck, on or dt.date.today()), lambda: _parse_costs(ck, _today(on))),
            _cached(("bom", bk), lambda: _parse_bom(bk)),
            _today(on),
        ),
    )


def _catalog(costs: Costs, bom: Bom, day: pd.Timestamp | None) -> Catalog:
    lines = [ln for ln in bom.lines if ln.active(day)]
    for ln in lines:
        for item, role in ((ln.parent, "parent"), (ln.component, "component")):
            if normalize_name(item) not in costs.position:
                raise LookupProblem(
                    f'BOM range, row {ln.row}: {role} "{item}" is not on the costs range; '
                    "add it there with its standard cost"
                )
    frame = pd.DataFrame(
        {
            "parent": [costs.codes[costs.find(ln.parent)] for ln in lines],
            "component": [costs.codes[costs.find(ln.component)] for ln in lines],
            "qty_per": [ln.quantity for ln in lines],
            "scrap_pct": [0.0] * len(lines),
            "per": ["Order" if ln.per_order else "Unit" for ln in lines],
        }
    )
    index = bomlib.ItemIndex(pd.Index(costs.codes, dtype=object))
    _need_lot_sizes(costs, lines)
    matrix = bomlib.bom_matrix(frame, index, costs.frame)  # Yield % and Lot Size applied
    try:
        rollup = bomlib.roll_up(costs.frame, matrix, index)
    except bomlib.BomCycleError as e:
        raise LookupProblem(f"{e}; remove one of its lines") from None
    has_bom = np.diff(matrix.indptr) > 0
    flushed = costs.frame["backflush"].to_numpy(bool)
    return Catalog(costs, matrix, rollup, has_bom & flushed)


def _need_lot_sizes(costs: Costs, lines: list[BomLine]) -> None:
    """A per-order line's parent needs a Lot Size on the costs range (LookupProblem)."""
    lots = costs.frame["lot_size"].to_numpy(np.float64)
    for ln in lines:
        if ln.per_order and math.isnan(lots[costs.find(ln.parent)]):
            raise LookupProblem(
                f'BOM range, row {ln.row}: a per-order line, and its parent "{ln.parent}" has '
                "no Lot Size on the costs range to spread it over; add a Lot Size column"
            )


def element_name(element: object) -> str:
    key = "" if _blank(element) else normalize_name(element)
    name = ELEMENT_NAMES.get(key)
    if name is None:
        raise LookupProblem(
            f'unknown element "{element}"; use Material, Conversion, Labor, Overhead or Total'
        )
    return name


def standard_cost(
    costs_rows: object, bom_rows: object, item: object, element: object = None, on=None
) -> float:
    """Rolled-up standard cost per unit of ``item`` (one element, or the total)."""
    name = element_name(element)
    cat = catalog(costs_rows, bom_rows, on)
    pos = cat.costs.find(item)
    if name == "total":
        return float(cat.rollup.total[pos])
    value = float(cat.rollup.rolled[name][pos])
    if math.isnan(value):
        raise LookupProblem(
            f"the costs range keeps one Conversion standard, not {name.title()}; "
            "ask for Conversion or add Labor and Overhead columns"
        )
    return value


def backflush(
    costs_rows: object, bom_rows: object, item: object, quantity: object, on=None
) -> list[list[object]]:
    """What completing ``quantity`` of ``item`` flushes: component, quantity, standard, amount."""
    qty = _positive(quantity, "quantity")
    cat = catalog(costs_rows, bom_rows, on)
    pos = cat.costs.find(item)
    n = len(cat.costs.codes)
    if cat.matrix.indptr[pos + 1] == cat.matrix.indptr[pos]:
        raise LookupProblem(f'"{cat.costs.codes[pos]}" has no BOM lines: nothing is flushed')
    demand = sp.csr_matrix(([qty], ([0], [pos])), shape=(1, n))
    consumed = bomlib.explode(demand, cat.matrix, cat.exploded).tocoo()
    order = np.argsort(consumed.col, kind="stable")
    material = cat.rollup.rolled["material"]
    out: list[list[object]] = [["Component", "Quantity", "Standard Cost", "Amount"]]
    for k in order:
        c, q = int(consumed.col[k]), float(consumed.data[k])
        std = float(material[c])
        out.append([cat.costs.codes[c], q, std, round_money(q * std)])
    return out


# ---- structure only: explosion and where-used ------------------------------------------


def _positive(v: object, what: str) -> float:
    if _blank(v):
        raise LookupProblem(f"the {what} is blank")
    x = _number(v, f"the {what}")
    if x <= 0:
        raise LookupProblem(f"the {what} must be more than 0")
    return x


def _depth(levels: object) -> int:
    if _blank(levels):
        return 10_000
    x = _number(levels, "levels")
    if x < 1 or not float(x).is_integer():
        raise LookupProblem("levels must be a whole number from 1 (blank = all levels)")
    return int(x)


def explode(
    bom_rows: object, item: object, quantity: object = None, levels: object = None, on=None
) -> list[list[object]]:
    """The multi-level (indented) explosion of ``item``: level, component, quantity."""
    qty = 1.0 if _blank(quantity) else _positive(quantity, "quantity")
    depth = _depth(levels)
    structure = parse_bom(bom_rows).on(_today(on))
    key = normalize_name(code(item))
    if key not in structure.children:
        raise LookupProblem(f'"{code(item)}" has no BOM lines on the BOM range')
    rows = walk(structure.children, structure.spelling, key, qty, depth)
    return [["Level", "Component", "Quantity"], *rows]


def where_used(bom_rows: object, component: object, on=None) -> list[list[object]]:
    """Every parent that uses ``component``, all levels: level, parent, quantity per parent."""
    structure = parse_bom(bom_rows).on(_today(on))
    key = normalize_name(code(component))
    if key not in structure.parents:
        raise LookupProblem(f'"{code(component)}" is not used on the BOM range')
    rows = walk(structure.parents, structure.spelling, key, 1.0, 10_000)
    return [["Level", "Parent", "Quantity Per"], *rows]


def variance(actual: object, standard: object) -> list[list[object]]:
    """Actual minus standard (positive = unfavourable) and F/U; one row per pair of values."""
    a, s = _flat(actual), _flat(standard)
    if len(a) != len(s):
        raise LookupProblem(
            f"actual has {len(a)} values and standard {len(s)}; give ranges of the same size"
        )
    out: list[list[object]] = []
    for i, (x, y) in enumerate(zip(a, s, strict=True), start=1):
        where = f" (value {i})" if len(a) > 1 else ""
        amount = round_money(
            _number(0.0 if _blank(x) else x, f"actual{where}")
            - _number(0.0 if _blank(y) else y, f"standard{where}")
        )
        out.append([amount, "U" if amount > 0 else "F" if amount < 0 else ""])
    return out


def _flat(v: object) -> list[object]:
    if isinstance(v, (list, tuple)):
        flat: list[object] = []
        for x in v:
            flat.extend(x if isinstance(x, (list, tuple)) else [x])
        return flat
    return [v]


__all__ = [
    "LookupProblem",
    "backflush",
    "clear_cache",
    "explode",
    "parse_bom",
    "parse_costs",
    "standard_cost",
    "variance",
    "where_used",
]
