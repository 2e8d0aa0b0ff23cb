"""Controls (section 4 of the spec): what an accountant must review; the run still posts.
And the checks of a run: its books against themselves (consistency), controls on them, and
tie-outs to what the run did not produce (the general ledger's balances)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from addin.costing import byproducts
from addin.costing.keys import QUANTITY_NOISE, day_numbers, sum_cents
from addin.costing.model import ROLES, Check, Finding, MonthEndInputs, Severity
from addin.costing.money import to_cents
from addin.costing.plant import Plant
from addin.costing.postings import KIND_DTYPE, STOCK_ROLES, UNITEMIZED, Ledger, code_of
from addin.costing.results import Consumption


def controls(
    plant: Plant,
    opening: pd.DataFrame,
    postings: pd.DataFrame,
    led: Ledger,
    consumption: tuple[Consumption, ...],
) -> list[Finding]:
    """Every control's findings, in the order the Exceptions tab lists them."""
    found = below_zero_on_hand(plant, opening, postings, led)
    found += completed_without_bom(plant)
    found += zero_standards(plant, led)
    found += stale_standards(plant)
    found += not_backflushed(plant, consumption)
    found += stocked_not_received(plant, consumption)
    found += material_without_bom(plant, postings, led)
    found += obtained_not_carried(plant, led)
    if plant.obtained.any():
        co = byproducts.co_lines(plant.inputs, plant.index)
        found += byproducts.coproduct_findings(plant.inputs, plant.sc, co, plant.index)
    chg = led.kind == code_of(KIND_DTYPE, "BOM change")
    if chg.any():
        found.append(bom_change_finding(plant, led.select(chg)))
    return found


def _stock_moves(
    plant: Plant, opening: pd.DataFrame, postings: pd.DataFrame, led: Ledger
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.datetime64], npt.NDArray[np.float64]]:
    """(item, date, quantity) of every stock movement of a real item, opening included."""
    n = len(plant.codes)
    roles = list(postings["role"].cat.categories)
    stock_codes = [roles.index(r) for r in STOCK_ROLES]
    moves = np.isin(led.role, stock_codes) & (led.item < n) & (led.quantity != 0)
    op = opening[opening["role"].isin(STOCK_ROLES)]
    item = np.concatenate([op["item"].cat.codes.to_numpy().astype(np.int64), led.item[moves]])
    dates = np.concatenate(
        [op["date"].to_numpy("datetime64[ns]"), led.days[led.day[moves]]]
    ).astype("datetime64[ns]")
    quantity = np.concatenate([op["quantity"].to_numpy(np.float64), led.quantity[moves]])
    keep = (item < n) & (quantity != 0)
    return item[keep], dates[keep], quantity[keep]


def below_zero_on_hand(
    plant: Plant, opening: pd.DataFrame, postings: pd.DataFrame, led: Ledger
) -> list[Finding]:
    """Components (or goods) driven below zero on hand: the first day of each item."""
    item, dates, quantity = _stock_moves(plant, opening, postings, led)
    if not len(item):
        return []
    n = len(plant.codes)
    # on hand per item at the end of each day: a dense items x days grid, cumulated
    day, days = day_numbers(dates)
    cell = item * len(days) + day
    on_hand = np.cumsum(
        np.bincount(cell, weights=quantity, minlength=n * len(days)).reshape(n, len(days)), axis=1
    )
    # below zero beyond float noise: relative to everything that moved the item so far
    moved = np.cumsum(
        np.bincount(cell, weights=np.abs(quantity), minlength=n * len(days)).reshape(n, len(days)),
        axis=1,
    )
    below = on_hand < -QUANTITY_NOISE * np.maximum(moved, 1.0)
    day_text = pd.DatetimeIndex(days).strftime("%Y-%m-%d").tolist()
    rows = np.flatnonzero(below.any(axis=1))
    first_day = np.argmax(below[rows], axis=1)
    found = []
    for i, d in zip(rows.tolist(), first_day.tolist(), strict=True):
        code = str(plant.codes[i])
        found.append(
            Finding(
                Severity.WARNING,
                "below zero on hand",
                f"{code} in {plant.stock.role[i]} goes below zero on "
                f"{day_text[d]} ({on_hand[i, d]:,.4g}). Backflushing used "
                "more than was recorded: check the BOM, the completions reported and missing "
                "purchases or receipts.",
                item=code,
                amount=abs(float(on_hand[i, d]) * float(plant.stock.unit_value[i])),
            )
        )
    return found


def obtained_not_carried(plant: Plant, led: Ledger) -> list[Finding]:
    """One note per by-product or co-product received where the trigger keeps no stock of it
    (raw items under the completion trigger, everything under the sale trigger): its standard
    lowered the material credited (AP) instead of entering an inventory account."""
    received = (led.kind == code_of(KIND_DTYPE, "by-product")) & (led.item < len(plant.codes))
    carried = np.isin(led.role, [ROLES.index(r) for r in STOCK_ROLES])
    items = np.unique(led.item[received & ~carried])
    trigger, role = plant.trigger.value, plant.trigger.material_credit_role
    return [
        Finding(
            Severity.INFO,
            "by-product not carried",
            f"{plant.codes[i]} is obtained as a by-product or co-product, but under the "
            f"'{trigger}' trigger it is not kept in an inventory account: its standard "
            f"({plant.total[i]:,.4f} a unit) lowered the material credited to {role} when its "
            "parent was flushed, and it is recorded again when it is used or sold.",
            "BOM",
            "",
            str(plant.codes[i]),
        )
        for i in items.tolist()
    ]


def completed_without_bom(plant: Plant) -> list[Finding]:
    """Items completed on a day when none of their BOM lines is in effect (nothing flushed)."""
    comp = plant.inputs.completions
    if not len(comp):
        return []
    pos = plant.index.positions(comp["item"])
    win = plant.window_of(comp["date"])
    # BOM lines in effect on each completion's own date (windows x items), whatever the size
    has = np.stack([w.rollup.has_bom for w in plant.windows])[win, pos]
    return [
        Finding(
            Severity.WARNING,
            "completed without BOM",
            f"{r.item} was completed but has no BOM lines in effect on "
            f"{pd.Timestamp(r.date):%Y-%m-%d}: "
            "no components were flushed. Add its BOM or check the item code.",
            "Completions",
            plant.inputs.cell("Completions", "Item", int(r.source_row)),
            r.item,
        )
        for r in comp[~has].drop_duplicates("item").itertuples()
    ]


def zero_standards(plant: Plant, led: Ledger) -> list[Finding]:
    """Items with a standard of zero that moved this period."""
    n = len(plant.codes)
    active = np.bincount(led.item[led.item < n], minlength=n) > 0
    source_row = plant.sc["source_row"].to_numpy()
    found = []
    for i in np.flatnonzero(active & (plant.total == 0)).tolist():
        code, typ = str(plant.codes[i]), plant.types[i]
        found.append(
            Finding(
                Severity.WARNING,
                "zero standard",
                f"{code} ({typ}) has a standard cost of zero but moved this period: its "
                "movements are posted at 0.00. Enter its standard.",
                "Standard Costs",
                plant.inputs.cell("Standard Costs", "Item", int(source_row[i])),
                code,
            )
        )
    return found


def stale_standards(plant: Plant) -> list[Finding]:
    """Purchase prices far from standard (Settings: price tolerance): the average over the
    receipts (returns to the vendor and charge rows left out)."""
    p = plant.inputs.purchases
    p = p[p["quantity"].to_numpy(np.float64) > 0]
    if not len(p):
        return []
    n = len(plant.codes)
    at = plant.index.positions(p["item"])
    q = p["quantity"].to_numpy(np.float64)
    bought = np.flatnonzero(np.bincount(at, minlength=n))
    q_sum = np.bincount(at, weights=q, minlength=n)
    qty = q_sum[bought]
    value = np.bincount(at, weights=q * p["unit_price"].to_numpy(np.float64), minlength=n)
    std = plant.closing.material[bought]  # the standard in force at Period End
    with np.errstate(divide="ignore", invalid="ignore"):
        avg = value[bought] / qty
    tol = plant.inputs.settings.price_tolerance
    drift = np.where(std > 0, np.abs(avg / np.where(std > 0, std, 1) - 1), 0)
    source_row = plant.sc["source_row"].to_numpy()
    found = []
    for i, a, s_, d in zip(bought.tolist(), avg, std, drift, strict=True):
        if d > tol:
            code = str(plant.codes[i])
            found.append(
                Finding(
                    Severity.WARNING,
                    "stale standard",
                    f"{code}: average purchase price {a:,.4f} is {d:.1%} away from standard "
                    f"{s_:,.4f} (tolerance {tol:.1%}). The standard may be out of date.",
                    "Standard Costs",
                    plant.inputs.cell("Standard Costs", "Material", int(source_row[i])),
                    code,
                    amount=abs(float(value[i]) - float(s_) * float(q_sum[i])),
                )
            )
    return found


def stocked_not_received(plant: Plant, consumption: tuple[Consumption, ...]) -> list[Finding]:
    """Stocked subassemblies (and finished items) their parents took from stock beyond what
    the period gave them: opening + units completed - units sold (all in item units)."""
    carried = plant.windows[0].carried  # by item type and trigger: the same in every window
    if not consumption or not carried.any():
        return []
    n = len(plant.codes)
    comp = np.concatenate([c.component for c in consumption]).astype(np.int64)
    qty = np.concatenate([c.quantity for c in consumption])
    used = np.bincount(comp[carried[comp]], weights=qty[carried[comp]], minlength=n)
    inputs = plant.inputs
    taken = plant.codes[carried & (used > 0)]
    if not len(taken):
        return []

    def per_item(frame: pd.DataFrame) -> npt.NDArray[np.float64]:
        """Units per item of the rows of the items taken (only those rows are looked up)."""
        rows = frame[frame["item"].isin(taken).to_numpy()] if len(frame) else frame
        at = plant.index.positions(rows["item"]) if len(rows) else np.zeros(0, np.intp)
        q = rows["quantity"].to_numpy(np.float64)
        return np.bincount(at, weights=q, minlength=n).astype(np.float64)

    opening = per_item(inputs.opening_balances)
    completed, sold = per_item(inputs.completions), per_item(inputs.sales)
    short = used - (opening + completed - sold)
    hit = np.flatnonzero(carried & (used > 0) & (short > QUANTITY_NOISE * np.maximum(1, used)))
    rows = plant.sc["source_row"].to_numpy()[hit].tolist()
    return [
        _not_received(plant, i, row, used[i], short[i], completed[i])
        for i, row in zip(hit.tolist(), rows, strict=True)
    ]


def _not_received(
    plant: Plant, i: int, source_row: int, used: float, short: float, completed: float
) -> Finding:
    """The warning for one stocked item consumed from stock it never received."""
    code, typ = str(plant.codes[i]), str(plant.types[i]).lower()
    told = (
        "was never completed this period"
        if completed == 0
        else f"had {used - short:,.6g} (opening + {completed:,.6g} completed - sold)"
    )
    return Finding(
        Severity.WARNING,
        "stocked item not received",
        f"{code} is a stocked {typ}: its parents took {used:,.6g} from stock ({plant.stock.role[i]}"
        f") and it {told}, so {short:,.6g} were consumed from stock it never received. Report "
        f"its completions, or set its Type to Phantom on Standard Costs if the plant does not "
        "report its completions (its components are then flushed through it).",
        "Standard Costs",
        plant.inputs.cell("Standard Costs", "Type", int(source_row)),
        code,
    )


def not_backflushed(plant: Plant, consumption: tuple[Consumption, ...]) -> list[Finding]:
    """Components marked Backflush = No that a flush reached: used at standard, not flushed."""
    if not consumption:
        return []
    n = len(plant.codes)
    comp = np.concatenate([c.component for c in consumption]).astype(np.int64)
    by_hand = ~plant.flushed[comp]
    comp = comp[by_hand]
    qty = np.concatenate([c.quantity for c in consumption])[by_hand]
    cents = np.concatenate([c.cents for c in consumption])[by_hand]
    where = "the usage variance account until counted" if plant.trigger.records_purchases else "AP"
    q_sum = np.bincount(comp, weights=qty, minlength=n)
    c_sum = sum_cents(comp, cents, n)
    return [
        Finding(
            Severity.INFO,
            "not backflushed",
            f"{plant.codes[i]} is marked Backflush = No: {q_sum[i]:,.6g} used at standard "
            f"({c_sum[i] / 100:,.2f}) were not flushed; credited to {where}.",
            "Standard Costs",
            "",
            str(plant.codes[i]),
            abs(int(c_sum[i])) / 100,
        )
        for i in np.flatnonzero(np.bincount(comp, minlength=n)).tolist()
    ]


def material_without_bom(plant: Plant, postings: pd.DataFrame, led: Ledger) -> list[Finding]:
    """Own-level material of manufactured items not backed by BOM lines (one warning)."""
    un = led.item == code_of(postings["item"].dtype, UNITEMIZED)
    if not un.any():
        return []
    return [
        Finding(
            Severity.WARNING,
            "material without BOM lines",
            f"{-led.cents[un].sum() / 100:,.2f} of material standard on manufactured items is "
            "not backed by BOM components (Material at their own level, or items without a "
            f"BOM); it was credited to {plant.trigger.material_credit_role} without an item. "
            "Move that material into the BOM, or set the item's own Material to 0.",
            amount=abs(int(led.cents[un].sum())) / 100,
        )
    ]


def bom_change_finding(plant: Plant, led: Ledger) -> Finding:
    """The usage variance from completions flushed with another BOM than the one in effect on
    Period Start (the period standard's), signed as the journal posts it (a debit to usage
    variance is unfavourable)."""
    n = len(plant.codes)
    total = int(led.cents.sum())
    by_item = sum_cents(np.where(led.item < n, led.item, n), led.cents, n + 1)[:n]
    top = np.argsort(-np.abs(by_item), kind="stable")[:3]
    items = ", ".join(
        f"{plant.codes[i]} {abs(by_item[i]) / 100:,.2f} {'U' if by_item[i] > 0 else 'F'}"
        for i in top.tolist()
        if by_item[i]
    )
    side = "debited" if total > 0 else "credited"
    return Finding(
        Severity.INFO,
        "BOM change",
        f"BOM effectivity changed during the period: completions after the change were flushed "
        f"with the new BOM, while the standard stays the one in force at Period Start (nothing "
        f"restated); usage variance on those completions {abs(total) / 100:,.2f} "
        f"{'U' if total > 0 else 'F'} ({side} to {plant.inputs.account('USAGE').code}); "
        f"by item: {items}. To change the standard, change it explicitly for the next period.",
        amount=abs(total) / 100,
    )


# ---- materiality -----------------------------------------------------------------------------
REVIEW = "review"
BELOW_MATERIALITY = "below materiality"


def materiality_grade(finding: Finding, materiality: float | None) -> str:
    """ "review" when the finding's amount is at or above Materiality (currency), "below
    materiality" when under it; "" when it has no amount or no Materiality is set."""
    if materiality is None or finding.amount is None:
        return ""
    return REVIEW if round(finding.amount, 2) >= materiality else BELOW_MATERIALITY


# ---- checks ----------------------------------------------------------------------------------
ROLL_FORWARD_CHECK = "Item roll-forward equals the journal"  # then " (MIP)" or " (FG)"
GL_NOT_GIVEN = "not checked: no GL Balances given"


def consistency_checks(jnl: pd.DataFrame, tb: pd.DataFrame, inv: pd.DataFrame) -> list[Check]:
    """The run's books against themselves: they catch a defect of the run, not a wrong input."""
    checks: list[Check] = []
    per_entry = (jnl["debit_cents"] - jnl["credit_cents"]).groupby(jnl["entry"]).sum()
    bad = per_entry[per_entry != 0]
    detail = (
        f"{len(per_entry)} entries" if len(bad) == 0 else f"unbalanced: {', '.join(bad.index[:5])}"
    )
    checks.append(Check("Every journal entry balances", len(bad) == 0, detail))
    dr, cr = int(jnl["debit_cents"].sum()), int(jnl["credit_cents"].sum())
    checks.append(
        Check("Total debits equal total credits", dr == cr, f"{dr / 100:,.2f} = {cr / 100:,.2f}")
    )
    for role in STOCK_ROLES:
        ledger = int(tb.loc[tb["role"] == role, "closing_cents"].iloc[0])
        sub = int(inv.loc[inv["role"] == role, "ending_cents"].sum())
        checks.append(
            Check(
                f"{ROLL_FORWARD_CHECK} ({role})",
                ledger == sub,
                f"journal {ledger / 100:,.2f}, items {sub / 100:,.2f}",
            )
        )
    conv_left = int(tb.loc[tb["role"].isin(["CCA", "CCC"]), "closing_cents"].abs().sum())
    checks.append(
        Check("Conversion cost accounts closed", conv_left == 0, f"{conv_left / 100:,.2f} left")
    )
    return checks


def negative_closing(inv: pd.DataFrame) -> tuple[Check, list[Finding]]:
    """Stock below zero at period end: a failed control with each item's quantity and value
    (the run still posts; the unreported receipt or count that explains it is found later)."""
    real = inv["item"] != UNITEMIZED
    moved = inv["opening_qty"].abs() + inv["in_qty"].abs() + inv["out_qty"].abs()
    below = real & (inv["ending_qty"] < -QUANTITY_NOISE * np.maximum(moved, 1.0))
    rows = inv[below]
    findings = [
        Finding(
            Severity.WARNING,
            "negative closing stock",
            f"{r.item} closes the period at {r.ending_qty:,.6g} in {r.role} "
            f"({r.ending_cents / 100:,.2f}): more was flushed, sold or counted out than was "
            "received. Find the missing purchase, completion or count; the balance stays "
            "negative until it is posted.",
            item=str(r.item),
            amount=abs(int(r.ending_cents)) / 100,
        )
        for r in rows.itertuples()
    ]
    shown = ", ".join(
        f"{r.item} {r.ending_qty:,.6g} ({r.ending_cents / 100:,.2f})"
        for r in rows.head(5).itertuples()
    )
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    detail = (
        "none"
        if len(rows) == 0
        else f"{len(rows)} item{'s' if len(rows) > 1 else ''}, "
        f"{int(rows['ending_cents'].sum()) / 100:,.2f}: {shown}{more}"
    )
    return Check("No stock below zero at period end", len(rows) == 0, detail, "control"), findings


def run_checks(
    inputs: MonthEndInputs,
    jnl: pd.DataFrame,
    tb: pd.DataFrame,
    inv: pd.DataFrame,
    findings: list[Finding],
) -> tuple[list[Check], list[Finding]]:
    """The run's checks, and the findings they add to ``findings`` (a failed consistency check
    is an error; stock below zero at period end and a GL difference a warning each)."""
    checks = consistency_checks(jnl, tb, inv)
    added = [
        Finding(Severity.ERROR, "check failed", f"{c.name}: {c.detail}")
        for c in checks
        if not c.passed
    ]
    negative, negative_findings = negative_closing(inv)
    added += negative_findings
    checks.append(negative)
    tie_outs, tie_findings = gl_tie_out(inputs, tb)
    added += tie_findings
    errors = [f for f in [*findings, *added] if f.severity is Severity.ERROR]
    checks.append(Check("No blocking exceptions", not errors, f"{len(errors)} errors", "control"))
    return checks + tie_outs, added


# ---- tie-out to the general ledger -----------------------------------------------------------
def _account_code(value: object) -> str:
    """An account code as written on GL Balances (1300, 1300.0 and "1300" are one code)."""
    text = str(value).strip()
    return text[:-2] if text.endswith(".0") and text[:-2].isdigit() else text


def gl_tie_out(inputs: MonthEndInputs, tb: pd.DataFrame) -> tuple[list[Check], list[Finding]]:
    """Per inventory account (MIP, FG): the GL's balance at Period Start against the run's
    opening, and, when given, the GL's balance at Period End before this month-end plus this
    month-end's net journal against the run's closing. NOT CHECKED without GL figures."""
    gl = inputs.gl_balances
    if not len(gl):
        return [
            Check("Inventory accounts tie to the GL", False, GL_NOT_GIVEN, "tie-out", False)
        ], []
    codes = gl["account"].map(_account_code).to_numpy(object)
    tb = tb.assign(account=tb["account"].map(_account_code))
    checks: list[Check] = []
    findings: list[Finding] = []
    for code in dict.fromkeys(tb.loc[tb["role"].isin(STOCK_ROLES), "account"]):
        mine = tb[tb["account"] == code]
        rows = gl[codes == code]
        if not len(rows):
            detail = f"not checked: no GL Balances row for account {code}"
            checks.append(
                Check(f"Opening ties to the GL ({code})", False, detail, "tie-out", False)
            )
            continue
        run_open = int(mine["opening_cents"].sum())
        run_close = int(mine["closing_cents"].sum())
        net = run_close - run_open  # this month-end's journal on the account
        for what, column, header, run, add in (
            ("Opening", "opening_balance", "Balance at Period Start", run_open, 0),
            ("Closing", "closing_balance", "Balance at Period End", run_close, net),
        ):
            given = pd.to_numeric(rows[column], errors="coerce").to_numpy(np.float64)
            if np.isnan(given).all():
                continue
            gl_cents = int(to_cents(np.nan_to_num(given)).sum()) + add
            check, found = _tie(inputs, code, what, header, rows, run, gl_cents)
            checks.append(check)
            findings += found
    return checks, findings


def _tie(
    inputs: MonthEndInputs,
    code: str,
    what: str,
    header: str,
    rows: pd.DataFrame,
    run: int,
    gl: int,
) -> tuple[Check, list[Finding]]:
    """One tie-out of the run's ``what`` balance of ``code`` (cents) with the GL's."""
    name = f"{what} ties to the GL ({code})"
    basis = "" if what == "Opening" else " + this month-end's journal"
    detail = f"run {run / 100:,.2f}, GL{basis} {gl / 100:,.2f}"
    if run == gl:
        return Check(name, True, detail, "tie-out"), []
    diff = run - gl
    detail += f": difference {diff / 100:,.2f}"
    row = int(rows["source_row"].iloc[0])
    finding = Finding(
        Severity.WARNING,
        "GL tie-out difference",
        f"account {code}: the run's {what.lower()} balance {run / 100:,.2f} differs from the "
        f"GL's{basis} {gl / 100:,.2f} by {diff / 100:,.2f}. Find the entry the GL has and the "
        "run does not (or the opening that does not continue last month's closing).",
        "GL Balances",
        inputs.cell("GL Balances", header, row),
        amount=abs(diff) / 100,
    )
    return Check(name, False, detail, "tie-out"), [finding]


# ---- how the checks are counted in a message -----------------------------------------------
CHECK_KINDS = (
    ("consistency", "Consistency checks"),
    ("control", "Controls"),
    ("tie-out", "Tie-outs"),
)


def check_counts(checks: list[Check]) -> list[str]:
    """One line per kind of check: how many passed of those checked. NOT CHECKED is counted
    apart and never as passed ("Tie-outs: not checked (no GL Balances sheet)")."""
    lines = []
    for kind, label in CHECK_KINDS:
        of_kind = [c for c in checks if c.kind == kind]
        checked = [c for c in of_kind if c.checked]
        if of_kind and not checked:
            why = "no GL Balances sheet" if of_kind[0].detail == GL_NOT_GIVEN else "see Summary"
            lines.append(f"{label}: not checked ({why})")
        elif checked:
            unchecked = len(of_kind) - len(checked)
            more = f"; {unchecked} not checked" if unchecked else ""
            passed = sum(c.passed for c in checked)
            lines.append(f"{label} passed: {passed} of {len(checked)}{more}")
    return lines
