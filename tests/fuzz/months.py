"""Valid-but-unusual months, seeded: random plants, BOM DAGs with effectivity, all triggers.

A month is a set of sheets (header + rows of plain Python values) plus the facts the
re-verifier needs for its own arithmetic (trigger, chart of accounts, purchases, conversion).
``write_month`` lays it out the way people do: shuffled columns, extra columns, blank rows,
Excel tables or plain ranges, sometimes not starting at A1.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table

TRIGGERS = ("purchase+completion", "purchase+sale", "completion", "sale")
DEFAULT_ACCOUNTS = {
    "MIP": "1300",
    "FG": "1400",
    "AP": "2000",
    "CONV_OFFSET": "2100",
    "COGS": "5000",
    "CCC": "5100",
    "CCA": "5200",
    "PPV": "5300",
    "USAGE": "5400",
    "SCRAP": "5500",
}
# quantities and prices that are awkward in binary floating point or at the half cent
AWKWARD_QTY = (1, 2, 3, 0.5, 1 / 3, 2 / 3, 0.005, 0.015, 1.25, 7, 0.1, 12.5, 0.3)
AWKWARD_PRICE = (0.01, 0.005, 0.015, 0.045, 1 / 3, 2 / 3, 12.345, 1.005, 0.0001, 19.99, 2.675)
UNICODE_STEMS = ("Ärmel", "椅子", "ñandú", "Straße", "Ωmega", "काग़ज़", "🪑seat", "Çelik", "ﬁle")
Rows = list[list[object]]


@dataclass
class Month:
    """A month's sheets (name -> header + rows) and the facts for independent checks."""

    sheets: dict[str, Rows]
    trigger: str
    accounts: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ACCOUNTS))
    start: dt.date = dt.date(2026, 10, 1)
    end: dt.date = dt.date(2026, 10, 31)
    huge: bool = False  # magnitudes near 1e11-1e12: a located refusal is acceptable too
    notes: list[str] = field(default_factory=list)


def _period(rng: random.Random) -> tuple[dt.date, dt.date]:
    year = rng.choice((2024, 2026, 2031))
    month = rng.randint(1, 12)
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, 1), dt.date(year, month, last)


def _day(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


def _codes(rng: random.Random, n: int, prefix: str) -> list[str]:
    """Unique item codes; some in other scripts, all distinct after case folding."""
    out = []
    for i in range(n):
        if rng.random() < 0.3:
            out.append(f"{rng.choice(UNICODE_STEMS)}-{prefix}{i}")
        else:
            out.append(f"{prefix}-{i:03d}")
    return out


def _spell(rng: random.Random, code: str) -> str:
    """How another sheet may type an item code: other case, surrounding spaces."""
    r = rng.random()
    if r < 0.1:
        return f"  {code} "
    if r < 0.2 and code.isascii():
        return code.lower()
    return code


def _qty(rng: random.Random, huge: bool, lo: int = 1, hi: int = 60) -> float:
    if huge and rng.random() < 0.3:
        return rng.choice((1e11, 3e11, 999_999_999_999.0, 1e12, 123_456_789_012.5))
    r = rng.random()
    if r < 0.15:
        return rng.choice(AWKWARD_QTY)
    if r < 0.2:
        return rng.choice((1e-6, 0.001, 1e6, 2.5e7))
    return float(rng.randint(lo, hi))


def _price(rng: random.Random, huge: bool) -> float:
    if huge and rng.random() < 0.3:
        return rng.choice((1e9, 5e10, 1e11, 1e12))
    r = rng.random()
    if r < 0.3:
        return rng.choice(AWKWARD_PRICE)
    if r < 0.35:
        return rng.choice((1e-6, 1e5, 0.0))
    return round(rng.uniform(0.01, 80), rng.choice((2, 3, 4)))


def generate_month(rng: random.Random) -> Month:
    """A random valid month: every cell is of the right kind and every reference resolves."""
    start, end = _period(rng)
    trigger = rng.choice(TRIGGERS)
    huge = rng.random() < 0.12
    split = rng.random() < 0.35  # Labor + Overhead instead of Conversion
    n_raw, n_made = rng.randint(1, 7), rng.randint(1, 6)
    raws = _codes(rng, n_raw, "RM")
    made = _codes(rng, n_made, "MK")
    types: dict[str, str] = {c: "Raw" for c in raws}
    for k, code in enumerate(made):
        top = k == n_made - 1
        types[code] = (
            "Finished" if top else rng.choice(("Finished", "Subassembly", "Subassembly", "Phantom"))
        )
    std_header: list[object] = ["Item", "Description", "Type", "UoM", "Material"]
    std_header += ["Labor", "Overhead"] if split else ["Conversion"]
    if rng.random() < 0.5:
        std_header.append("Backflush")
    std: Rows = []
    for code in raws + made:
        mat = _price(rng, huge) if types[code] == "Raw" or rng.random() < 0.1 else 0.0
        conv = 0.0 if types[code] in ("Raw", "Phantom") else _price(rng, huge)
        row: list[object] = [code, f"{types[code]} {code}", types[code], "EA", mat]
        row += [round(conv * 0.6, 4), round(conv * 0.4, 4)] if split else [conv]
        if "Backflush" in std_header:
            row.append("No" if types[code] == "Raw" and rng.random() < 0.2 else "Yes")
        std.append(row)
    # BOM: a DAG, components always earlier in the list; phantoms always get lines
    bom: Rows = [["Parent", "Component", "Qty Per", "Scrap %", "Effective From", "Effective To"]]
    for k, parent in enumerate(made):
        lower = raws + made[:k]
        comps = rng.sample(lower, rng.randint(1, min(4, len(lower))))
        for comp in comps:
            frm: object = None
            to: object = None
            r = rng.random()
            if r < 0.15:
                frm = _day(rng, start + dt.timedelta(days=1), end)  # starts inside the period
            elif r < 0.25:
                to = _day(rng, start, end - dt.timedelta(days=1))  # ends inside the period
            elif r < 0.3:
                frm = start - dt.timedelta(days=40)
                to = end + dt.timedelta(days=40)
            scrap = rng.choice((0.0, 0.0, 0.0, 0.05, 0.1, 1 / 3, 0.005))
            qty = rng.choice(AWKWARD_QTY) if rng.random() < 0.5 else float(rng.randint(1, 5))
            bom.append([parent, _spell(rng, comp), qty, scrap, frm, to])
    stocked = [c for c in made if types[c] != "Phantom"]
    finished = [c for c in made if types[c] == "Finished"]
    completions: Rows = [["Date", "Item", "Quantity", "Scrap Quantity", "Reference"]]
    for i in range(rng.randint(0, 8)):
        q = _qty(rng, huge)
        s = rng.choice((0.0, 0.0, 0.0, 1.0, 2.0, 0.5))
        completions.append(
            [_day(rng, start, end), _spell(rng, rng.choice(stocked)), q, s, f"WO-{i}"]
        )
    purchases: Rows = [["Date", "Item", "Quantity", "Unit Price", "Reference"]]
    for i in range(rng.randint(0, 8)):
        purchases.append(
            [_day(rng, start, end), _spell(rng, rng.choice(raws)), _qty(rng, huge, 1, 900),
             _price(rng, huge), f"PO-{i}"]
        )  # fmt: skip
    sales: Rows = [["Date", "Item", "Quantity", "Reference"]]
    sellable = (
        finished + (raws if rng.random() < 0.3 else []) + (stocked if rng.random() < 0.2 else [])
    )
    for i in range(rng.randint(0, 6)):
        sales.append(
            [_day(rng, start, end), _spell(rng, rng.choice(sellable)), _qty(rng, huge), f"SO-{i}"]
        )
    conversion: Rows = [["Date", "Element", "Amount", "Reference"]]
    for i in range(rng.randint(0, 4)):
        amount = round(rng.uniform(-50, 5000), 2) if not huge else rng.choice((1e11, 1e12, 12.5))
        element = rng.choice(("Labor", "Overhead", "Conversion", None))
        conversion.append([_day(rng, start, end), element, amount, f"CC-{i}"])
    counts: Rows = [["Item", "Counted Quantity", "Date"]]
    for code in rng.sample(raws + stocked, rng.randint(0, min(3, len(raws + stocked)))):
        when = None if rng.random() < 0.5 else _day(rng, start, end)
        counts.append(
            [_spell(rng, code), float(rng.randint(0, 80)) + rng.choice((0, 0.5, 1 / 3)), when]
        )
    opening: Rows = [["Item", "Account", "Quantity"]]
    for code in rng.sample(raws + stocked, rng.randint(0, len(raws + stocked))):
        account = "FG" if types[code] == "Finished" else "MIP"
        opening.append([_spell(rng, code), account, _qty(rng, huge, 0, 200)])
    settings: Rows = [
        ["Setting", "Value"],
        ["Period Start", start],
        ["Period End", end],
        ["Trigger", trigger],
    ]
    if rng.random() < 0.5:
        settings.append(["Conversion Variance", rng.choice(("COGS", "Prorate"))])
    if rng.random() < 0.3:
        settings.append(["Count Tolerance %", rng.choice((0.0, 0.01, 0.5))])
    if rng.random() < 0.3:
        settings.append(["Company", rng.choice(("Acme ☃ GmbH", "Northwind", "東京工場"))])
    if rng.random() < 0.2:
        settings.append(["Currency", "EUR"])
    accounts = dict(DEFAULT_ACCOUNTS)
    sheets: dict[str, Rows] = {
        "Settings": settings,
        "Standard Costs": [std_header, *std],
        "BOM": bom,
        "Purchases": purchases,
        "Completions": completions,
        "Sales": sales,
        "Conversion Costs": conversion,
        "Counts": counts,
        "Opening Balances": opening,
    }
    if rng.random() < 0.25:
        accounts = {role: f"{code}-X" for role, code in DEFAULT_ACCOUNTS.items()}
        header: list[object] = ["Role", "Account", "Name"]
        sheets["Accounts"] = [header] + [
            [role, code, f"Account {role}"] for role, code in accounts.items()
        ]
    for name in ("Sales", "Counts", "Opening Balances", "Conversion Costs"):
        if len(sheets[name]) == 1 and rng.random() < 0.5:
            del sheets[name]  # optional sheets may be absent
    month = Month(sheets, trigger, accounts, start, end, huge)
    _late_child_bom(rng, month, types)
    return month


def _late_child_bom(rng: random.Random, month: Month, types: dict[str, str]) -> None:
    """Sometimes: a stocked subassembly or phantom whose own BOM starts after the parent's
    completion (issue 10: consumed while its own BOM is not yet in effect)."""
    if rng.random() > 0.3:
        return
    bom = month.sheets["BOM"]
    comps = month.sheets["Completions"]
    mids = [c for c, t in types.items() if t in ("Subassembly", "Phantom")]
    if not mids or len(comps) < 2:
        return
    child = rng.choice(mids)
    late = month.end - dt.timedelta(days=rng.randint(0, 3))
    for row in bom[1:]:
        if str(row[0]).strip().casefold() == child.casefold():
            row[4], row[5] = late, None
    # a completion of some parent of child dated before the child's BOM starts
    for row in bom[1:]:
        if str(row[1]).strip().casefold() == child.casefold() and types[str(row[0])] != "Phantom":
            comps.append([month.start, row[0], 3.0, 0.0, "WO-early"])
            month.notes.append(f"late child BOM: {child} from {late}")
            return


# --- layout -----------------------------------------------------------------------------


def _layout(rng: random.Random, rows: Rows) -> Rows:
    """Shuffle columns (Settings keeps its two), add a Notes column, blank rows."""
    header, body = rows[0], [list(r) for r in rows[1:]]
    order = list(range(len(header)))
    if header[0] != "Setting" and rng.random() < 0.4:
        rng.shuffle(order)
    new = [[header[j] for j in order]] + [[r[j] for j in order] for r in body]
    if rng.random() < 0.3:
        new[0].append("Notes")
        for r in new[1:]:
            r.append(rng.choice(("", "checked", "√ ok")))
    if rng.random() < 0.3 and len(new) > 2:
        for _ in range(rng.randint(1, 3)):
            new.insert(rng.randint(2, len(new)), [None] * len(new[0]))
    return new


def write_month(rng: random.Random, month: Month, path: Path) -> Path:
    """Write the month: each sheet a table or a plain range, maybe not at A1."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    names = list(month.sheets)
    if rng.random() < 0.3:
        rng.shuffle(names)
    for n, name in enumerate(names):
        rows = _layout(rng, month.sheets[name])
        title = name if rng.random() > 0.1 else f" {name.upper()} "
        ws = wb.create_sheet(title)
        as_table = (
            rng.random() < 0.5
            and len(rows) > 1
            and not any(all(v is None for v in r) for r in rows)
        )
        r0, c0 = (1, 1) if rng.random() < 0.7 else (rng.randint(2, 4), rng.randint(1, 3))
        if as_table and r0 > 1:
            ws.cell(r0 - 1, c0, f"{name} for the month")
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if v is not None and v != "":
                    ws.cell(r0 + i, c0 + j, v)
        if as_table:
            ref = (
                f"{get_column_letter(c0)}{r0}:"
                f"{get_column_letter(c0 + len(rows[0]) - 1)}{r0 + len(rows) - 1}"
            )
            ws.add_table(Table(displayName=f"T{n}_{name.replace(' ', '')}", ref=ref))
    wb.save(path)
    return path
