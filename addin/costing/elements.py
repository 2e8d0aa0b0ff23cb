"""Conversion variance by element: labour and overhead, and with hours rate and efficiency.

When Standard Costs keeps labour and overhead apart (``Plant.by_element``) the flush credits
CCA per element (posting kinds "labor" and "overhead"); when Conversion Costs gives every
actual as Labor or Overhead, each element has its own variance (backflush-domain.md
section 9), in cents, positive = unfavourable (U, actual above allocated):

    labour variance   = actual labour   - labour allocated at standard
    overhead variance = actual overhead - overhead allocated at standard

Their sum is the one-line conversion variance (actual - allocated) to the cent.

With hours (Standard Costs: Labor Hours per unit; Conversion Costs: Hours on Labor rows)
Horngren's flexible-budget analysis splits each element in two. AH = actual hours, SH =
standard hours allowed for the actual output, SR = standard labour rate per hour (labour
allocated / SH), SOR = standard overhead rate per labour hour (overhead allocated / SH):

    labour rate variance        = actual labour   - AH x SR   (paid more per hour: U)
    labour efficiency variance  = (AH - SH) x SR              (more hours than standard: U)
    overhead spending variance  = actual overhead - AH x SOR
    overhead efficiency variance = (AH - SH) x SOR

AH x SR and AH x SOR (the flexible budget on actual hours) are rounded to the cent, and
efficiency is that figure less the allocated, so rate + efficiency = the element's variance
exactly. Overhead is taken to vary with labour hours (Horngren's variable overhead); a fixed
overhead's production-volume variance is not separated.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from addin.costing import bom as bomlib
from addin.costing.model import ROLES, Finding, Severity
from addin.costing.money import to_cents
from addin.costing.plant import Plant
from addin.costing.postings import CLOSE, EVENT_DTYPE, KIND_DTYPE, code_of
from addin.costing.results import ElementVariance

ELEMENT_ROLES = {"Labor": "LABOR_VARIANCE", "Overhead": "OVERHEAD_VARIANCE"}


class Hours(NamedTuple):
    """Actual hours (AH) and standard hours allowed for the actual output (SH)."""

    actual: float
    standard: float


def actuals_split(plant: Plant) -> bool:
    """Every actual conversion cost row with an amount is element Labor or Overhead."""
    cc = plant.inputs.conversion_costs
    if len(cc) == 0:
        return True
    other = ~cc["element"].astype(str).isin(list(ELEMENT_ROLES))
    return not bool((other & (pd.to_numeric(cc["amount"]) != 0)).any())


def actual_cents(plant: Plant) -> dict[str, int]:
    """Actual cost per element (cents): each row rounded as the CCC posting rounds it."""
    cc = plant.inputs.conversion_costs
    cents = to_cents(pd.to_numeric(cc["amount"]).to_numpy(np.float64))
    element = cc["element"].astype(str).to_numpy()
    return {e: int(cents[element == e].sum()) for e in ELEMENT_ROLES}


def allocated_cents(frames: list[pd.DataFrame]) -> dict[str, int]:
    """Conversion allocated per element (cents, positive): the CCA credits of kind "labor" and
    "overhead" (the close itself excluded)."""
    out = {}
    cca, close = ROLES.index("CCA"), code_of(EVENT_DTYPE, CLOSE)
    for element in ELEMENT_ROLES:
        kind = code_of(KIND_DTYPE, element.lower())
        total = 0
        for f in frames:
            take = (
                (f["role"].cat.codes.to_numpy() == cca)
                & (f["kind"].cat.codes.to_numpy() == kind)
                & (f["event"].cat.codes.to_numpy() != close)
            )
            total -= int(f["cents"].to_numpy(np.int64)[take].sum())
        out[element] = total
    return out


def element_variances(
    plant: Plant, frames: list[pd.DataFrame]
) -> tuple[tuple[ElementVariance, ...], list[Finding]]:
    """Each element's variance (cause ""), then its rate/efficiency parts when hours are given;
    or () with an info finding saying why the variance stays in one line."""
    if not plant.by_element:
        return (), _standards_not_split(plant)
    if not actuals_split(plant):
        return (), [_actuals_not_split(plant)]
    actual, allocated = actual_cents(plant), allocated_cents(frames)
    whole = tuple(
        ElementVariance(
            e,
            "",
            actual[e],
            allocated[e],
            actual[e] - allocated[e],
            f"{e}: actual {actual[e] / 100:,.2f} vs allocated {allocated[e] / 100:,.2f}",
        )
        for e in ELEMENT_ROLES
    )
    hours, found = standard_hours(plant, frames)
    if hours is None:
        return whole, found
    return whole + flexible_budget(actual, allocated, hours), found


def flexible_budget(
    actual: dict[str, int], allocated: dict[str, int], hours: Hours
) -> tuple[ElementVariance, ...]:
    """Rate/spending and efficiency per element (cents, + U), Horngren's flexible budget."""
    out = []
    ah, sh = hours
    for element, price_word in (("Labor", "rate"), ("Overhead", "spending")):
        rate = allocated[element] / 100 / sh  # standard rate per hour (SR; SOR for overhead)
        flex = int(to_cents(np.array([ah * rate]))[0])  # AH x SR, the flexible budget
        act, alloc = actual[element], allocated[element]
        per = f"{rate:,.4f}/h"
        out += [
            ElementVariance(
                element,
                price_word,
                act,
                flex,
                act - flex,
                f"{element} {price_word}: actual {act / 100:,.2f} vs actual hours {ah:,.2f} h "
                f"x standard {per} = {flex / 100:,.2f}",
            ),
            ElementVariance(
                element,
                "efficiency",
                flex,
                alloc,
                flex - alloc,
                f"{element} efficiency: (actual {ah:,.2f} h - standard {sh:,.2f} h) x {per} "
                f"= {(flex - alloc) / 100:,.2f}",
            ),
        ]
    return tuple(out)


def standard_hours(plant: Plant, frames: list[pd.DataFrame]) -> tuple[Hours | None, list[Finding]]:
    """(AH, SH), or None when hours are not given both ways (with an info finding when only
    one side is). SH = per item, labour allocated / the item's standard rate (rolled labour /
    rolled Labor Hours, BOM on Period Start): units x hours per unit for a single level."""
    found = _hours_not_on_labor(plant)
    hours, more = _standard_hours(plant, frames)
    return hours, found + more


def _standard_hours(plant: Plant, frames: list[pd.DataFrame]) -> tuple[Hours | None, list[Finding]]:
    ah = _actual_hours(plant)
    per_unit = _rolled_hours(plant)
    if ah is None and per_unit is None:
        return None, []
    if ah is None or per_unit is None or ah <= 0:
        return None, [_hours_one_side(ah is None)]
    labor = np.nan_to_num(plant.period.rolled["labor"])
    by_item = _labor_allocated_by_item(plant, frames)
    missing = (by_item != 0) & (per_unit <= 0)
    if missing.any():
        return None, [_hours_missing(plant, np.flatnonzero(missing))]
    ratio = np.divide(per_unit, labor, out=np.zeros(len(labor)), where=labor > 0)
    sh = float((by_item / 100 * ratio).sum())
    if sh <= 0:
        return None, []
    return Hours(ah, sh), []


def _hours_not_on_labor(plant: Plant) -> list[Finding]:
    """An info finding naming the Conversion Costs rows that give Hours on another element
    than Labor: they are not read (overhead is taken to vary with labour hours)."""
    cc = plant.inputs.conversion_costs
    if "hours" not in cc or len(cc) == 0:
        return []
    given = ~np.isnan(pd.to_numeric(cc["hours"]).to_numpy(np.float64))
    stray = given & (cc["element"].astype(str).to_numpy() != "Labor")
    if not stray.any():
        return []
    rows = cc["source_row"].to_numpy()[stray].astype(int).tolist()
    listed = ", ".join(str(r) for r in rows[:5]) + (
        f" +{len(rows) - 5} more" if len(rows) > 5 else ""
    )
    return [
        Finding(
            Severity.INFO,
            "hours not used",
            f"Hours on Conversion Costs rows that are not Labor (rows {listed}) are not read: "
            "actual hours are labour hours, and overhead is taken to vary with them. Put the "
            "hours on the Labor rows, or clear them.",
            "Conversion Costs",
            plant.inputs.cell("Conversion Costs", "Hours", rows[0]),
        )
    ]


def _actual_hours(plant: Plant) -> float | None:
    """Total actual hours on Labor rows (None when no row gives hours)."""
    cc = plant.inputs.conversion_costs
    if "hours" not in cc or len(cc) == 0:
        return None
    hours = pd.to_numeric(cc["hours"]).to_numpy(np.float64)
    labor = cc["element"].astype(str).to_numpy() == "Labor"
    if np.isnan(hours[labor]).all():
        return None
    return float(np.nansum(hours[labor]))


def _rolled_hours(plant: Plant) -> npt.NDArray[np.float64] | None:
    """Standard labour hours per unit rolled up the BOM on Period Start (None: not given)."""
    sc = plant.sc
    if "labor_hours" not in sc:
        return None
    own = pd.to_numeric(sc["labor_hours"]).to_numpy(np.float64)
    if np.isnan(own).all():
        return None
    frame = pd.DataFrame({"material": np.nan_to_num(own), "conversion": 0.0})
    window = plant.windows[0]
    rolled = bomlib.roll_up(frame, window.matrix, plant.index, window.rollup.level)
    return rolled.rolled["material"]


def _labor_allocated_by_item(plant: Plant, frames: list[pd.DataFrame]) -> npt.NDArray[np.float64]:
    """Labour allocated per item (cents, positive), from the CCA credits of kind "labor"."""
    n = len(plant.codes)
    out = np.zeros(n)
    cca, kind = ROLES.index("CCA"), code_of(KIND_DTYPE, "labor")
    for f in frames:
        item = f["item"].cat.codes.to_numpy().astype(np.int64)
        take = (
            (f["role"].cat.codes.to_numpy() == cca)
            & (f["kind"].cat.codes.to_numpy() == kind)
            & (item < n)
        )
        out -= np.bincount(item[take], weights=f["cents"].to_numpy()[take], minlength=n)
    return out


def _standards_not_split(plant: Plant) -> list[Finding]:
    """An info finding when actuals are given by element but the standards are not."""
    cc = plant.inputs.conversion_costs
    if len(cc) == 0 or not cc["element"].astype(str).isin(list(ELEMENT_ROLES)).any():
        return []
    return [
        Finding(
            Severity.INFO,
            "conversion in one line",
            "Conversion Costs gives Labor and Overhead, but Standard Costs keeps one Conversion "
            "standard for some items, so the conversion variance is in one line. Give every "
            "item Labor and Overhead standards to see the variance by element.",
            "Standard Costs",
        )
    ]


def _actuals_not_split(plant: Plant) -> Finding:
    cc = plant.inputs.conversion_costs
    other = ~cc["element"].astype(str).isin(list(ELEMENT_ROLES))
    row = int(cc.loc[other, "source_row"].iloc[0]) if "source_row" in cc else 0
    return Finding(
        Severity.INFO,
        "conversion in one line",
        f"Standard Costs keeps labour and overhead apart, but {int(other.sum())} Conversion "
        "Costs rows are element Conversion, so the conversion variance is in one line. Give "
        "each row Labor or Overhead to see the variance by element.",
        "Conversion Costs",
        plant.inputs.cell("Conversion Costs", "Element", row) if row else "",
    )


def _hours_one_side(no_actual: bool) -> Finding:
    missing = (
        "Conversion Costs gives no Hours on its Labor rows"
        if no_actual
        else ("Standard Costs gives no Labor Hours")
    )
    return Finding(
        Severity.INFO,
        "hours not used",
        f"{missing}, so labour is not split into rate and efficiency (nor overhead into "
        "spending and efficiency). Give both to see the split.",
        "Conversion Costs" if no_actual else "Standard Costs",
    )


def _hours_missing(plant: Plant, items: npt.NDArray[np.intp]) -> Finding:
    listed = ", ".join(str(c) for c in plant.codes[items[:5]])
    more = f" +{len(items) - 5} more" if len(items) > 5 else ""
    return Finding(
        Severity.INFO,
        "hours not used",
        f"Items with labour allocated have no Labor Hours ({listed}{more}), so labour is not "
        "split into rate and efficiency. Give their standard hours per unit.",
        "Standard Costs",
    )
