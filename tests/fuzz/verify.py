"""Re-verify a results workbook from what the file itself states (openpyxl, no engine import).

Checks, each reported as one line naming the figures:
- every journal entry balances to the cent; total debits = total credits;
- money cells hold whole cents exactly and stay below 1e13 (a float holds them exactly);
- each Inventory row rolls forward (opening + in - out + adjustments = ending);
- per stock account, the Inventory tab's ending values = its opening values + the Journal's
  debits - credits on that account (the ledger closing), and the Summary ledger says the same;
- an item ending below zero on hand shows as a failed check on the Summary;
- a check the Summary calls PASS really holds;
- optional facts from the generator: rows read per sheet, AP of purchases, conversion incurred.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import openpyxl

MAX_MONEY = 1e13  # beyond this a float no longer holds every cent exactly (2^53 cents ~ 9e13)


@dataclass
class Facts:
    """What the generator knows about the month, for arithmetic done here."""

    accounts: dict[str, str]
    trigger: str
    rows: dict[str, int] = field(default_factory=dict)  # sheet -> data rows written
    purchases: list[tuple[float, float]] = field(default_factory=list)  # (qty, unit price)
    conversion: list[float] = field(default_factory=list)  # amounts


def cents(x: float) -> int:
    """Half-up cents of a float as Excel's ROUND does (on the shortest decimal repr)."""
    return int(Decimal(repr(float(x))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100)


def _table(ws: Any) -> list[dict[str, Any]]:
    """Rows of the one Excel table on a result tab (no totals row)."""
    (table,) = ws.tables.values()
    cells = list(ws[table.ref])
    header = [c.value for c in cells[0]]
    body = cells[1:-1] if table.totalsRowCount else cells[1:]
    return [dict(zip(header, (c.value for c in row), strict=True)) for row in body]


def _blocks(ws: Any) -> dict[str, list[list[Any]]]:
    """The Summary's free-form blocks: caption -> rows under its header (to a blank row)."""
    grid = [list(r) for r in ws.iter_rows(values_only=True)]
    out: dict[str, list[list[Any]]] = {}
    i = 0
    while i < len(grid):
        row = grid[i]
        first = row[0] if row else None
        nxt = grid[i + 1] if i + 1 < len(grid) else []
        if isinstance(first, str) and all(v is None for v in row[1:]) and nxt and nxt[0]:
            body = []
            k = i + 2
            while k < len(grid) and any(v is not None for v in grid[k]):
                body.append(grid[k])
                k += 1
            out[first] = body
            i = k
        else:
            i += 1
    return out


def _num(v: Any) -> float:
    return 0.0 if v is None or v == "" else float(v)


def _money_problems(where: str, values: list[Any]) -> list[str]:
    bad = []
    for v in values:
        if v is None or v == "":
            continue
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            bad.append(f"{where}: money cell holds {v!r}")
        elif not math.isfinite(v) or abs(v) >= MAX_MONEY:
            bad.append(f"{where}: {v!r} is beyond what the file holds exactly (1e13)")
        elif abs(v * 100 - round(v * 100)) > 1e-6 * max(1.0, abs(v * 100)) * 1e-3 + 1e-6:
            bad.append(f"{where}: {v!r} is not a whole number of cents")
        if len(bad) >= 3:
            break
    return bad


def verify_results(path: Path, facts: Facts) -> list[str]:
    """Every problem found in the results workbook at ``path``; [] when it re-verifies."""
    wb = openpyxl.load_workbook(path, data_only=True)
    problems: list[str] = []
    journal = _table(wb["Journal"])
    inventory = _table(wb["Inventory"])
    problems += _money_problems("Journal Debit", [r["Debit"] for r in journal])
    problems += _money_problems("Journal Credit", [r["Credit"] for r in journal])
    for col in ("Opening Value", "In Value", "Out Value", "Count Adjustment", "Ending Value"):
        problems += _money_problems(f"Inventory {col}", [r[col] for r in inventory])
    for tab in ("Variances", "Backflush"):
        problems += _money_problems(f"{tab} Amount", [r["Amount"] for r in _table(wb[tab])])

    # entries balance, debits = credits (in cents)
    per_entry: dict[str, int] = defaultdict(int)
    per_account: dict[str, int] = defaultdict(int)
    dr_total = cr_total = 0
    for r in journal:
        dr, cr = cents(_num(r["Debit"])), cents(_num(r["Credit"]))
        per_entry[str(r["Entry"])] += dr - cr
        per_account[str(r["Account"])] += dr - cr
        dr_total += dr
        cr_total += cr
    unbalanced = {e: d for e, d in per_entry.items() if d}
    entries_ok = not unbalanced
    if unbalanced:
        e, d = next(iter(unbalanced.items()))
        problems.append(f"{len(unbalanced)} entries do not balance, e.g. {e} off by {d / 100:.2f}")
    if dr_total != cr_total:
        problems.append(f"total debits {dr_total / 100:.2f} != credits {cr_total / 100:.2f}")

    # inventory rows roll forward; per account the items add up to the ledger
    acct_items: dict[str, int] = defaultdict(int)
    acct_opening: dict[str, int] = defaultdict(int)
    negative: list[tuple[str, float]] = []
    for r in inventory:
        parts = [cents(_num(r[c])) for c in ("Opening Value", "In Value", "Out Value")]
        adj = cents(_num(r["Count Adjustment"])) + cents(_num(r.get("Other Adjustments")))
        end = cents(_num(r["Ending Value"]))
        if parts[0] + parts[1] - parts[2] + adj != end:
            problems.append(
                f"Inventory roll-forward broken: {r['Item']} gives "
                f"{(parts[0] + parts[1] - parts[2] + adj) / 100:.2f}, Ending Value {end / 100:.2f}"
            )
        acct_items[str(r["Account"])] += end
        acct_opening[str(r["Account"])] += parts[0]
        qty = _num(r["Ending Qty"])
        if qty < -1e-9 * max(1.0, abs(_num(r["Book Qty"]))):
            negative.append((str(r["Item"]), qty))
    ties: dict[str, bool] = {}
    for role in ("MIP", "FG"):
        code = facts.accounts[role]
        ledger = acct_opening[code] + per_account.get(code, 0)
        ties[role] = ledger == acct_items[code]
        if not ties[role]:
            problems.append(
                f"{role} ({code}): Inventory ending {acct_items[code] / 100:.2f} != ledger closing "
                f"{ledger / 100:.2f} (opening {acct_opening[code] / 100:.2f} + journal "
                f"{per_account.get(code, 0) / 100:.2f})"
            )
    conv_closed = all(per_account.get(facts.accounts[r], 0) == 0 for r in ("CCA", "CCC"))

    # the Summary: ledger rows agree with the journal; PASS means it holds
    blocks = _blocks(wb["Summary"])
    balances = blocks.get("Balance sheet: inventory accounts, Dr/(Cr)", [])
    activity = next((b for k, b in blocks.items() if k.startswith("This month's activity")), [])
    for row in balances + activity:  # Dr/(Cr): credits negative; opening blank for activity
        code = str(row[0])
        opening, debits, credits, closing = (cents(_num(v)) for v in row[2:6])
        problems += _money_problems(f"Summary ledger {code}", list(row[2:6]))
        if opening + debits + credits != closing:
            problems.append(f"Summary ledger {code}: opening+debits+credits != closing (or net)")
        if debits + credits != per_account.get(code, 0):
            problems.append(
                f"Summary ledger {code}: debits+credits {(debits + credits) / 100:.2f} != "
                f"journal {per_account.get(code, 0) / 100:.2f}"
            )
    if not balances:
        problems.append("Summary has no balance-sheet block of the inventory accounts")
    checks = {  # the Result cell: PASS or FAIL, wherever the block puts it
        str(r[0]): next((str(v) for v in r[1:] if v in ("PASS", "FAIL")), "")
        for r in blocks.get("Checks", [])
    }
    truth = {
        "balance": entries_ok,
        "debits": dr_total == cr_total,
        "(MIP)": ties["MIP"],
        "(FG)": ties["FG"],
        "conversion cost accounts closed": conv_closed,
    }
    for name, verdict in checks.items():
        for key, holds in truth.items():
            if key.casefold() in name.casefold() and verdict == "PASS" and not holds:
                problems.append(f'Summary says "{name}" PASS but it does not hold')
    problems += _stocked_where(wb, inventory, facts)
    problems += _facts(wb, journal, facts)
    made = [v for v in checks.values() if v in ("PASS", "FAIL")]  # NOT CHECKED left out
    if negative and all(v == "PASS" for v in made):
        item, qty = negative[0]
        problems.append(
            f"{len(negative)} items end below zero on hand (e.g. {item} at {qty:g}) while every "
            f"check on the Summary says PASS"
        )
    return problems


def _stocked_where(wb: Any, inventory: list[dict[str, Any]], facts: Facts) -> list[str]:
    """Phantoms (Type on Cost Rollup) are never stocked; an item is not carried in one stock
    account while relieved below zero from the other."""
    types = {str(r["Item"]): str(r["Type"]) for r in _table(wb["Cost Rollup"])}
    problems = []
    by_item: dict[str, dict[str, float]] = defaultdict(dict)
    for r in inventory:
        item = str(r["Item"])
        by_item[item][str(r["Account"])] = _num(r["Ending Qty"])
        moved = any(_num(r[c]) for c in ("In Qty", "Out Qty", "In Value", "Out Value"))
        if types.get(item) == "Phantom" and moved:
            problems.append(f"a phantom is stocked on Inventory: {item} ({r['Account']})")
    mip, fg = facts.accounts["MIP"], facts.accounts["FG"]
    for item, acc in by_item.items():
        if mip in acc and fg in acc and min(acc[mip], acc[fg]) < -1e-9 < max(acc[mip], acc[fg]):
            problems.append(
                "relieved from one stock account while carried in the other: "
                f"{item} ends at {acc[fg]:g} in FG ({fg}) and {acc[mip]:g} in MIP ({mip})"
            )
    return problems


def _facts(wb: Any, journal: list[dict[str, Any]], facts: Facts) -> list[str]:
    """Independent arithmetic from the generator's own inputs."""
    problems = []
    log = {str(r[0]): r[1] for r in wb["Run Log"].iter_rows(values_only=True) if r and r[0]}
    for sheet, n in facts.rows.items():
        got = log.get(f"Rows read: {sheet}")
        if got is not None and int(got) != n:
            problems.append(f"Run Log says {got} rows read on {sheet}; the workbook has {n}")
    ap = facts.accounts["AP"]
    if facts.trigger.startswith("purchase"):
        credited = sum(
            cents(_num(r["Credit"])) - cents(_num(r["Debit"]))
            for r in journal
            if str(r["Account"]) == ap and str(r["Memo"]).startswith("Purchase")
        )
        expected = sum(q * p for q, p in facts.purchases)
        slack = 0.5 * len(facts.purchases) + 1e-6 * abs(expected)
        if abs(credited - expected * 100) > slack:
            problems.append(
                f"AP credited on purchases {credited / 100:.2f}; "
                f"the purchases add up to {expected:.4f}"
            )
    offset = facts.accounts["CONV_OFFSET"]
    incurred = sum(
        cents(_num(r["Credit"])) - cents(_num(r["Debit"]))
        for r in journal
        if str(r["Account"]) == offset and str(r["Memo"]).startswith("Conversion incurred")
    )
    expected_cents = sum(cents(a) for a in facts.conversion)
    if facts.conversion and incurred != expected_cents:
        problems.append(
            f"conversion incurred {incurred / 100:.2f}; "
            f"the rows add up to {expected_cents / 100:.2f}"
        )
    return problems
