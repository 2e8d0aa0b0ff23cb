"""The month-end run: standard cost roll-up, trigger-point postings, variances, journal, controls.

Pure functions over pandas frames; no Excel and no files. ``run_month_end`` is the one entry.
It wires the stages in order; each returns a value (results.py) and none changes what another
reads:

1. ``Plant.of`` (plant.py): items, standards per BOM window, stock roles (read-only after).
2. Events (stages.py): opening, purchases, conversion incurred, completions (flush.py), sales.
3. Period end (period_end.py): book adjusted to counts, conversion accounts closed.
4. Reports (reports.py) and controls (controls.py) over the postings and the stages' outputs.

How the accounting is done (backflush-domain.md; the README repeats it for accountants):
- The opening is the value given (last month's closing); where it differs from quantity x this
  period's standard, a revaluation at Period Start restates it (own entry per item).
- Standards for the period are the ones in force at Period Start (rolled up with the BOM in
  effect on Period Start). A completion is flushed with the BOM in effect on its own date; if
  that differs, the difference between the period standard and the flushed standard is a
  usage variance on that completion ("BOM change"); nothing is restated.
- Where an item is stocked depends on the trigger: raw materials in MIP when purchases are
  recorded (V1, V2); finished goods and subassemblies completed for stock in FG at full standard
  (V1, V3) or in MIP at material standard (V2: conversion is applied at sale); nothing in V4.
- Every posting is valued per item and rounded half-up to cents (Excel's ROUND), so each account
  line is a sum of item cents; rounding left over inside an entry goes to Conversion Costs
  Allocated (closed to COGS at period end) or, where no conversion is applied, stays with the
  output item. So every entry balances exactly and the item roll-forward equals the journal
  exactly. An item left with value but no quantity at Period End is swept to ROUNDING.
- Components marked Backflush = No are not flushed: their standard is credited to the usage
  variance account (V1, V2) until a count shows what was really used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import pandas as pd

from addin.costing import bom as bomlib
from addin.costing import byproducts, period_end, reports, stages
from addin.costing.controls import controls, run_checks
from addin.costing.magnitude import refuse_too_large
from addin.costing.model import Finding, MonthEndInputs, Severity
from addin.costing.orders import lot_size_errors
from addin.costing.plant import Plant
from addin.costing.postings import Ledger, concat
from addin.costing.results import (
    Closed,
    Consumption,
    Counted,
    InputError,
    Memo,
    MonthEndResult,
    Posted,
)

Progress = Callable[[str, float], None]


class Month(NamedTuple):
    """The stages' outputs of one month, in posting order."""

    opening: Posted
    # revaluation, purchases, conversion incurred, completions, sales, dated standard changes
    events: tuple[Posted, ...]
    counted: Counted
    closed: Closed
    swept: Posted  # value left without quantity, to ROUNDING

    @property
    def postings(self) -> pd.DataFrame:
        """The period's postings (opening excluded), in stage order."""
        parts = [*(e.postings for e in self.events), self.counted.postings, self.closed.postings]
        return concat([*parts, self.swept.postings])  # the empty frame when nothing was posted

    @property
    def memos(self) -> tuple[Memo, ...]:
        """The memos of the itemized entries (revaluation, rounding sweep)."""
        return tuple(m for p in [*self.events, self.swept] for m in p.memos)

    @property
    def findings(self) -> list[Finding]:
        """The stages' findings, in stage order."""
        found = [*self.opening.findings, *(f for e in self.events for f in e.findings)]
        return [*found, *self.counted.findings, *self.closed.findings]

    @property
    def consumption(self) -> tuple[Consumption, ...]:
        return tuple(c for e in self.events for c in e.consumption)


def prepare(inputs: MonthEndInputs) -> Plant:
    """The plant prepared for the run. Raises InputError if the BOM has a cycle, a per-order
    line's parent has no lot size, or a parent's by-products are worth more than its cost."""
    missing_lot = lot_size_errors(inputs)
    if missing_lot:
        raise InputError(missing_lot)
    try:
        return Plant.of(inputs)
    except byproducts.ObtainedCostError as e:
        raise InputError(e.findings) from e
    except bomlib.BomCycleError as e:
        raise InputError(
            [
                Finding(
                    Severity.ERROR,
                    "BOM cycle",
                    f"cycle {' -> '.join([*c, c[0]])}; remove one of its lines",
                    "BOM",
                )
                for c in e.cycles
            ]
        ) from e


def post_month(plant: Plant, say: Progress) -> Month:
    """Every stage's postings, in order. Raises InputError for amounts too large to keep."""
    opening = stages.opening(plant)
    events = [stages.revaluation(plant), stages.purchases(plant)]
    events.append(stages.conversion_incurred(plant))
    say("Backflushing completions", 0.3)
    events.append(stages.completions(plant))
    say("Posting sales", 0.5)
    sales = stages.sales(plant)
    events.append(sales)
    frames = [opening.postings, *(e.postings for e in events)]
    so_far = refuse_too_large(plant, frames)  # before counts and close sum them
    say("Adjusting to counts", 0.6)
    consumption = tuple(c for e in events for c in e.consumption)
    counted = period_end.counts(plant, frames, consumption)
    changed = stages.standard_changes(plant, [*frames, counted.postings])
    events.append(changed)
    frames += [counted.postings, changed.postings]
    say("Closing conversion costs", 0.7)
    closed = period_end.close(plant, frames, sales.postings)
    so_far = refuse_too_large(plant, [counted.postings, changed.postings, closed.postings], so_far)
    swept = period_end.sweep(plant, [*frames, closed.postings])
    refuse_too_large(plant, [swept.postings], so_far)
    return Month(opening, tuple(events), counted, closed, swept)


def assemble(plant: Plant, month: Month) -> MonthEndResult:
    """The result frames, findings and checks of a month's postings."""
    postings = month.postings
    opening = month.opening.postings
    led = Ledger.of(postings)
    jnl = reports.journal(plant.inputs, postings, led, month.memos)
    tb = reports.trial_balance(plant.inputs, opening, jnl)
    inv = reports.inventory(plant, opening, postings, led, month.counted.table)
    findings = month.findings + controls(plant, opening, postings, led, month.consumption)
    checks, added = run_checks(plant.inputs, jnl, tb, inv, findings)
    return MonthEndResult(
        inputs=plant.inputs,
        rollup=reports.rollup_frame(plant),
        postings=postings,
        journal=jnl,
        variances=reports.variances(
            plant, postings, led, month.closed.conversion, month.memos, journal=jnl
        ),
        backflush=reports.backflush(plant, month.consumption),
        inventory=inv,
        trial_balance=tb,
        findings=findings + added,
        checks=checks,
        plant=plant,
    )


def run_month_end(inputs: MonthEndInputs, progress: Progress | None = None) -> MonthEndResult:
    """Run the month-end on validated inputs. Raises InputError if the BOM has a cycle or an
    amount is too large to keep to the cent."""
    say = progress or (lambda step, frac: None)
    say("Rolling up standard costs", 0.05)
    plant = prepare(inputs)
    say("Posting purchases and conversion costs", 0.15)
    month = post_month(plant, say)
    say("Building the journal and reports", 0.8)
    result = assemble(plant, month)
    say("Computed", 0.85)
    return result


__all__ = ["InputError", "MonthEndResult", "Progress", "run_month_end"]
