"""Turn item-level postings into the journal, variances, backflush, inventory and controls."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from addin.costing.model import Finding, Severity

if TYPE_CHECKING:
    from addin.costing.engine import MonthEndResult, _Run

ROLE_ORDER = ["MIP", "FG", "AP", "CONV_OFFSET", "CCC", "CCA", "COGS", "PPV", "USAGE", "SCRAP"]


def _references(run: _Run) -> dict[tuple[str, pd.Timestamp], tuple[int, str]]:
    """(event, date) -> (number of source records, their references joined)."""
    from addin.costing import engine as e

    out: dict[tuple[str, pd.Timestamp], tuple[int, str]] = {}
    sources = [
        (e.PURCHASE, run.inputs.purchases),
        (e.CONVERSION, run.inputs.conversion_costs),
        (e.COMPLETION, run.inputs.completions),
        (e.SALE, run.inputs.sales),
    ]
    completions = run.inputs.completions
    if len(completions):
        sources.append((e.SCRAP, completions[completions["scrap_quantity"].fillna(0) > 0]))
    for event, frame in sources:
        if len(frame) == 0:
            continue
        refs = frame["reference"].fillna("").astype(str) if "reference" in frame else None
        for day, idx in frame.groupby("date").groups.items():
            n = len(idx)
            text = ""
            if refs is not None:
                vals = [r for r in refs.loc[idx].tolist() if r]
                text = ", ".join(vals[:3]) + (f" +{len(vals) - 3} more" if len(vals) > 3 else "")
            out[(event, pd.Timestamp(day))] = (n, text)
    return out


def journal(run: _Run, postings: pd.DataFrame) -> pd.DataFrame:
    """One compressed entry per event and date; one line per account, net of that entry."""
    from addin.costing.engine import EVENT_MEMO, EVENT_ORDER

    cols = [
        "entry",
        "date",
        "event",
        "role",
        "account",
        "account_name",
        "debit_cents",
        "credit_cents",
        "memo",
        "reference",
    ]
    if len(postings) == 0:
        return pd.DataFrame(columns=cols)
    lines = postings.groupby(["date", "event", "role"], as_index=False, sort=False)["cents"].sum()
    lines = lines[lines["cents"] != 0]
    lines["event_no"] = lines["event"].map({ev: i for i, ev in enumerate(EVENT_ORDER)})
    lines["role_no"] = lines["role"].map({r: i for i, r in enumerate(ROLE_ORDER)})
    lines["side"] = np.where(lines["cents"] > 0, 0, 1)  # debits first
    lines = lines.sort_values(["date", "event_no", "side", "role_no"], kind="stable")
    keys = lines[["date", "event_no"]].drop_duplicates()
    keys["entry"] = [f"BF-{i:04d}" for i in range(1, len(keys) + 1)]
    lines = lines.merge(keys, on=["date", "event_no"], how="left")
    refs = _references(run)
    memo, ref = [], []
    for ev, day in zip(lines["event"], lines["date"], strict=True):
        n, text = refs.get((ev, pd.Timestamp(day)), (0, ""))
        memo.append(EVENT_MEMO[ev] + (f" ({n} records)" if n > 1 else ""))
        ref.append(text)
    accounts = {r: run.inputs.account(r) for r in ROLE_ORDER}
    return pd.DataFrame(
        {
            "entry": lines["entry"],
            "date": lines["date"],
            "event": lines["event"],
            "role": lines["role"],
            "account": [accounts[r].code for r in lines["role"]],
            "account_name": [accounts[r].name for r in lines["role"]],
            "debit_cents": lines["cents"].clip(lower=0).astype(np.int64),
            "credit_cents": (-lines["cents"]).clip(lower=0).astype(np.int64),
            "memo": memo,
            "reference": ref,
        }
    )[cols]


def trial_balance(run: _Run, opening: pd.DataFrame, jnl: pd.DataFrame) -> pd.DataFrame:
    roles = ROLE_ORDER
    op = opening.groupby("role")["cents"].sum().reindex(roles, fill_value=0)
    dr = jnl.groupby("role")["debit_cents"].sum().reindex(roles, fill_value=0)
    cr = jnl.groupby("role")["credit_cents"].sum().reindex(roles, fill_value=0)
    tb = pd.DataFrame(
        {
            "role": roles,
            "account": [run.inputs.account(r).code for r in roles],
            "account_name": [run.inputs.account(r).name for r in roles],
            "opening_cents": op.to_numpy(np.int64),
            "debit_cents": dr.to_numpy(np.int64),
            "credit_cents": cr.to_numpy(np.int64),
        }
    )
    tb["closing_cents"] = tb["opening_cents"] + tb["debit_cents"] - tb["credit_cents"]
    return tb


def inventory(run: _Run, opening: pd.DataFrame, postings: pd.DataFrame) -> pd.DataFrame:
    """Roll-forward per stocked item and account: quantities and values (cents)."""
    from addin.costing.engine import CLOSE, COUNT, STOCK_ROLES, UNITEMIZED

    # one slot per (account, item) pair: bincounts over category codes, no string grouping
    n_items = len(postings["item"].cat.categories)
    roles = list(postings["role"].cat.categories)

    def slots(frame: pd.DataFrame) -> np.ndarray:
        role = frame["role"].cat.codes.to_numpy().astype(np.int64)
        return role * n_items + frame["item"].cat.codes.to_numpy().astype(np.int64)

    size = len(roles) * n_items

    def total(frame: pd.DataFrame, column: str) -> np.ndarray:
        return np.bincount(slots(frame), weights=frame[column].to_numpy(np.float64), minlength=size)

    stock = postings[postings["role"].isin(STOCK_ROLES)]
    opening = opening[opening["role"].isin(STOCK_ROLES)]
    flows = stock[~stock["event"].isin([COUNT, CLOSE])]
    ins = flows[flows["quantity"] > 0]
    outs = flows[flows["quantity"] < 0]
    others = stock[(stock["quantity"] == 0) & (stock["event"] != COUNT)]
    counted = stock[stock["event"] == COUNT]
    used = np.zeros(size, dtype=bool)
    for frame in (opening, stock):
        used[slots(frame)] = True
    slot = np.flatnonzero(used)
    measures = {
        "opening_qty": total(opening, "quantity"),
        "in_qty": total(ins, "quantity"),
        "out_qty": -total(outs, "quantity"),
    }
    cents = {
        "opening_cents": total(opening, "cents"),
        "in_cents": total(ins, "cents"),
        "out_cents": -total(outs, "cents"),
        "count_cents": total(counted, "cents"),
        "other_cents": total(others, "cents"),
    }
    categories = postings["item"].cat.categories.to_numpy()
    inv = pd.DataFrame(
        {
            "role": np.asarray(roles, dtype=object)[slot // n_items],
            "item": categories[slot % n_items],
            **{k: v[slot] for k, v in measures.items()},
        }
    )
    inv["book_qty"] = inv["opening_qty"] + inv["in_qty"] - inv["out_qty"]
    key = ["role", "item"]
    ct = run.count_table
    if ct is not None and len(ct):
        c = ct.set_index(["role", "item"])
        inv = inv.join(c[["date", "book", "counted_quantity", "difference"]], on=key)
    else:
        inv["date"] = pd.NaT
        inv["book"] = np.nan
        inv["counted_quantity"] = np.nan
        inv["difference"] = np.nan
    inv = inv.rename(
        columns={"date": "count_date", "book": "book_at_count", "counted_quantity": "counted_qty"}
    )
    inv["ending_qty"] = inv["book_qty"] - inv["difference"].fillna(0.0)
    real = inv["item"] != UNITEMIZED
    pos = np.full(len(inv), -1)
    pos[real.to_numpy()] = run.index.positions(inv.loc[real, "item"])
    inv["standard"] = np.where(pos >= 0, run.unit_value[pos], np.nan)
    inv.loc[~real, ["opening_qty", "in_qty", "out_qty", "book_qty", "ending_qty"]] = 0.0
    for k, v in cents.items():
        inv[k] = np.rint(v[slot]).astype(np.int64)
    inv["ending_cents"] = (
        inv["opening_cents"]
        + inv["in_cents"]
        - inv["out_cents"]
        + inv["count_cents"]
        + inv["other_cents"]
    )
    desc = run.sc.set_index("item")["description"]
    inv["description"] = inv["item"].map(desc).fillna("Material not backed by BOM lines")
    inv["role_no"] = inv["role"].map({"MIP": 0, "FG": 1})
    inv = inv.sort_values(["role_no", "item"]).drop(columns="role_no").reset_index(drop=True)
    return inv


def variances(run: _Run, postings: pd.DataFrame) -> pd.DataFrame:
    """Price, usage, scrap and conversion variances; amount > 0 is unfavourable."""
    from addin.costing.engine import CLOSE, COUNT, SCRAP

    rows: list[pd.DataFrame] = []
    desc = run.sc.set_index("item")["description"]

    def frame(
        vtype: str, memo: str, g: pd.DataFrame, qty: pd.Series, std: pd.Series | float, role: str
    ) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "type": vtype,
                "item": g.index if isinstance(g, pd.Series) else g["item"],
                "quantity": np.asarray(qty, dtype=np.float64),
                "standard": np.asarray(std, dtype=np.float64) if not np.isscalar(std) else std,
                "amount_cents": np.asarray(
                    g if isinstance(g, pd.Series) else g["cents"], dtype=np.int64
                ),
                "role": role,
                "memo": memo,
            }
        )

    ppv = postings[postings["role"] == "PPV"].groupby("item")[["quantity", "cents"]].sum()
    if len(ppv):
        pos = run.index.positions(ppv.index)
        rows.append(
            frame(
                "price",
                "Actual price vs standard on purchases",
                ppv["cents"],
                ppv["quantity"],
                run.material[pos],
                "PPV",
            )
        )
    cnt = postings[(postings["role"] == "USAGE") & (postings["event"] == COUNT)]
    cnt = cnt.groupby("item")[["quantity", "cents"]].sum()
    if len(cnt):
        pos = run.index.positions(cnt.index)
        rows.append(
            frame(
                "usage",
                "Count below (U) or above (F) book",
                cnt["cents"],
                cnt["quantity"],
                run.unit_value[pos],
                "USAGE",
            ).assign(product=True)  # amount = ROUND(quantity x standard, 2) exactly
        )
    man = postings[(postings["role"] == "USAGE") & (postings["kind"] == "manual issue")]
    man = man.groupby("item")[["quantity", "cents"]].sum()
    if len(man):
        rows.append(
            frame(
                "usage",
                "Backflush = No component at standard, not flushed",
                man["cents"],
                man["quantity"],
                np.nan,
                "USAGE",
            )
        )
    chg = postings[(postings["role"] == "USAGE") & (postings["kind"] == "BOM change")]
    chg = chg.groupby("item")[["quantity", "cents"]].sum()
    if len(chg):
        rows.append(
            frame(
                "usage",
                "BOM in effect on the day differs from the period standard",
                chg["cents"],
                chg["quantity"],
                np.nan,
                "USAGE",
            )
        )
    scr = postings[(postings["event"] == SCRAP) & (postings["role"] == "SCRAP")]
    scr = scr.groupby("item")[["quantity", "cents"]].sum()
    if len(scr):
        rows.append(
            frame(
                "scrap",
                "Reported scrap at standard",
                scr["cents"],
                scr["quantity"],
                np.nan,
                "SCRAP",
            )
        )
    actual, allocated, diff = run.conversion_summary
    if actual or allocated:
        close = postings[(postings["event"] == CLOSE) & (postings["kind"] == "conversion")]
        target = ", ".join(sorted(set(close["role"]))) or "COGS"
        rows.append(
            pd.DataFrame(
                {
                    "type": ["conversion"],
                    "item": [""],
                    "quantity": [np.nan],
                    "standard": [allocated / 100],
                    "amount_cents": [np.int64(diff)],
                    "role": ["COGS" if target == "COGS" else target],
                    "memo": [
                        f"Actual {actual / 100:,.2f} vs allocated {allocated / 100:,.2f}: "
                        + (
                            "under-allocated"
                            if diff > 0
                            else "over-allocated"
                            if diff < 0
                            else "no difference"
                        )
                    ],
                }
            )
        )
    if not rows:
        return pd.DataFrame(
            columns=[
                "type",
                "item",
                "description",
                "quantity",
                "standard",
                "amount_cents",
                "fu",
                "role",
                "account",
                "memo",
                "product",
            ]
        )
    v = pd.concat(rows, ignore_index=True)
    v["product"] = (
        v["product"].astype("boolean").fillna(False).astype(bool) if "product" in v else False
    )
    v["description"] = v["item"].map(desc).fillna("")
    v["fu"] = np.where(v["amount_cents"] > 0, "U", np.where(v["amount_cents"] < 0, "F", ""))
    v["account"] = [run.inputs.account(r).code if r in ROLE_ORDER else r for r in v["role"]]
    return v[
        [
            "type",
            "item",
            "description",
            "quantity",
            "standard",
            "amount_cents",
            "fu",
            "role",
            "account",
            "memo",
            "product",
        ]
    ]


def backflush(run: _Run) -> pd.DataFrame:
    cols = [
        "event",
        "component",
        "description",
        "uom",
        "quantity",
        "standard",
        "amount_cents",
        "flushed",
        "credited_to",
    ]
    if not run.consumption:
        return pd.DataFrame(columns=cols)
    c = pd.concat(run.consumption, ignore_index=True)
    g = c.groupby(["event", "component", "flushed"], as_index=False, sort=True)[
        ["quantity", "cents"]
    ].sum()
    sc = run.sc.set_index("item")
    g["component"] = run.codes[g["component"].to_numpy()]
    g["description"] = g["component"].map(sc["description"])
    g["uom"] = g["component"].map(sc["uom"])
    g["standard"] = g["component"].map(pd.Series(run.material, index=run.codes))
    mat = run.trigger.material_credit_role
    g["credited_to"] = np.where(g["flushed"] | (mat == "AP"), mat, "USAGE")
    g = g.rename(columns={"cents": "amount_cents"})
    return g[cols]


def rollup_frame(run: _Run) -> pd.DataFrame:
    r = run.period
    sc = run.sc
    df = pd.DataFrame(
        {
            "item": sc["item"],
            "description": sc["description"],
            "item_type": sc["item_type"],
            "uom": sc["uom"],
            "level": r.level,
            "own_material": r.own["material"],
            "own_labor": r.own["labor"],
            "own_overhead": r.own["overhead"],
            "own_conversion": r.own["conversion"],
            "rolled_material": r.rolled["material"],
            "rolled_labor": r.rolled["labor"],
            "rolled_overhead": r.rolled["overhead"],
            "rolled_conversion": r.rolled["conversion"],
            "rolled_total": r.total,
            "has_bom": r.has_bom,
            "backflush": sc["backflush"].astype(bool),
        }
    )
    return df.sort_values(["level", "item"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )


def controls(run: _Run, opening: pd.DataFrame, postings: pd.DataFrame) -> list[Finding]:
    """Section 4 of the spec: what an accountant must review (the run still posts)."""
    from addin.costing.engine import STOCK_ROLES, UNITEMIZED

    found: list[Finding] = []
    # components (or goods) driven below zero on hand
    stock = pd.concat([opening, postings], ignore_index=True)
    stock = stock[
        stock["role"].isin(STOCK_ROLES) & (stock["item"] != UNITEMIZED) & (stock["quantity"] != 0)
    ]
    if len(stock):
        # on hand per item at the end of each day: a dense items x days grid, cumulated
        item = stock["item"].cat.codes.to_numpy().astype(np.int64)
        day, days = pd.factorize(stock["date"], sort=True)
        n_items = len(run.codes)
        grid = np.bincount(
            item * len(days) + day,
            weights=stock["quantity"].to_numpy(),
            minlength=n_items * len(days),
        ).reshape(n_items, len(days))
        on_hand = np.cumsum(grid, axis=1)
        below = on_hand < -1e-9
        day_text = pd.DatetimeIndex(days).strftime("%Y-%m-%d").tolist()
        rows = np.flatnonzero(below.any(axis=1))
        first_day = np.argmax(below[rows], axis=1)
        for i, d in zip(rows.tolist(), first_day.tolist(), strict=True):
            code = str(run.codes[i])
            found.append(
                Finding(
                    Severity.WARNING,
                    "below zero on hand",
                    f"{code} in {run.stock_role[i]} goes below zero on "
                    f"{day_text[d]} ({on_hand[i, d]:,.4g}). Backflushing used "
                    "more than was recorded: check the BOM, the completions reported and missing "
                    "purchases or receipts.",
                    item=code,
                )
            )
    # completed without a BOM
    comp = run.inputs.completions
    if len(comp):
        pos = run.index.positions(comp["item"])
        win = run.window_of(comp["date"])
        has = (
            np.array([run.rollups[w].has_bom[p] for w, p in zip(win, pos, strict=True)], dtype=bool)
            if len(comp) < 50_000
            else run.period.has_bom[pos]
        )
        for r in comp[~has].drop_duplicates("item").itertuples():
            found.append(
                Finding(
                    Severity.WARNING,
                    "completed without BOM",
                    f"{r.item} was completed but has no BOM lines in effect on {pd.Timestamp(r.date):%Y-%m-%d}: "
                    "no components were flushed. Add its BOM or check the item code.",
                    "Completions",
                    f"B{int(r.source_row)}",
                    r.item,
                )
            )
    # zero standards on items with activity
    active = set(postings["item"].unique()) - {"", UNITEMIZED}
    zero = [
        (c, t)
        for c, t, tot in zip(run.codes, run.types, run.total, strict=True)
        if c in active and tot == 0
    ]
    for code, typ in zero:
        row = int(run.sc.loc[run.sc["item"] == code, "source_row"].iloc[0])
        found.append(
            Finding(
                Severity.WARNING,
                "zero standard",
                f"{code} ({typ}) has a standard cost of zero but moved this period: its movements are "
                "posted at 0.00. Enter its standard.",
                "Standard Costs",
                f"A{row}",
                code,
            )
        )
    # stale standards: purchase prices far from standard
    p = run.inputs.purchases
    if len(p):
        g = (
            p.assign(value=p["quantity"] * p["unit_price"])
            .groupby("item")[["quantity", "value"]]
            .sum()
        )
        pos = run.index.positions(g.index)
        std = run.material[pos]
        avg = g["value"].to_numpy() / g["quantity"].to_numpy()
        tol = run.inputs.settings.price_tolerance
        drift = np.where(std > 0, np.abs(avg / np.where(std > 0, std, 1) - 1), 0)
        for item, a, s_, d in zip(g.index, avg, std, drift, strict=True):
            if d > tol:
                row = int(run.sc.loc[run.sc["item"] == item, "source_row"].iloc[0])
                found.append(
                    Finding(
                        Severity.WARNING,
                        "stale standard",
                        f"{item}: average purchase price {a:,.4f} is {d:.1%} away from standard {s_:,.4f} "
                        f"(tolerance {tol:.1%}). The standard may be out of date.",
                        "Standard Costs",
                        f"E{row}",
                        item,
                    )
                )
    # components not flushed
    if run.consumption:
        c = pd.concat(run.consumption, ignore_index=True)
        nf = c[~c["flushed"]].groupby("component")[["quantity", "cents"]].sum()
        nf.index = run.codes[nf.index.to_numpy()]
        where = (
            "the usage variance account until counted" if run.trigger.records_purchases else "AP"
        )
        for item, r in nf.iterrows():
            found.append(
                Finding(
                    Severity.INFO,
                    "not backflushed",
                    f"{item} is marked Backflush = No: {r['quantity']:,.4g} used at standard "
                    f"({r['cents'] / 100:,.2f}) were not flushed; credited to {where}.",
                    "Standard Costs",
                    "",
                    str(item),
                )
            )
    # own-level material not backed by BOM lines
    un = postings[postings["item"] == UNITEMIZED]
    if len(un):
        found.append(
            Finding(
                Severity.WARNING,
                "material without BOM lines",
                f"{-un['cents'].sum() / 100:,.2f} of material standard on manufactured items is not "
                "backed by BOM components (Material at their own level, or items without a BOM); it was "
                f"credited to {run.trigger.material_credit_role} without an item. Move that material "
                "into the BOM, or set the item's own Material to 0.",
            )
        )
    chg = postings[postings["kind"] == "BOM change"]
    if len(chg):
        found.append(
            Finding(
                Severity.INFO,
                "BOM change",
                f"BOM effectivity changed during the period: {chg['cents'].sum() / -100:,.2f} "
                "difference between flushed and period standards posted to usage variance.",
            )
        )
    return found


def assemble(run: _Run, opening: pd.DataFrame, postings: pd.DataFrame) -> MonthEndResult:
    from addin.costing.engine import STOCK_ROLES, MonthEndResult

    jnl = journal(run, postings)
    tb = trial_balance(run, opening, jnl)
    inv = inventory(run, opening, postings)
    findings = run.findings + controls(run, opening, postings)
    checks: list[tuple[str, bool, str]] = []
    per_entry = (jnl["debit_cents"] - jnl["credit_cents"]).groupby(jnl["entry"]).sum()
    bad = per_entry[per_entry != 0]
    checks.append(
        (
            "Every journal entry balances",
            len(bad) == 0,
            f"{len(per_entry)} entries"
            if len(bad) == 0
            else f"unbalanced: {', '.join(bad.index[:5])}",
        )
    )
    dr, cr = int(jnl["debit_cents"].sum()), int(jnl["credit_cents"].sum())
    checks.append(
        ("Total debits equal total credits", dr == cr, f"{dr / 100:,.2f} = {cr / 100:,.2f}")
    )
    for role in STOCK_ROLES:
        ledger = int(tb.loc[tb["role"] == role, "closing_cents"].iloc[0])
        sub = int(inv.loc[inv["role"] == role, "ending_cents"].sum())
        checks.append(
            (
                f"Inventory ties to the ledger ({role})",
                ledger == sub,
                f"ledger {ledger / 100:,.2f}, items {sub / 100:,.2f}",
            )
        )
    conv_left = int(tb.loc[tb["role"].isin(["CCA", "CCC"]), "closing_cents"].abs().sum())
    checks.append(
        ("Conversion cost accounts closed", conv_left == 0, f"{conv_left / 100:,.2f} left")
    )
    errors = [f for f in findings if f.severity is Severity.ERROR]
    checks.append(("No blocking exceptions", not errors, f"{len(errors)} errors"))
    for name, ok, detail in checks:
        if not ok:
            findings.append(Finding(Severity.ERROR, "control failed", f"{name}: {detail}"))
    return MonthEndResult(
        inputs=run.inputs,
        rollup=rollup_frame(run),
        postings=postings,
        journal=jnl,
        variances=variances(run, postings),
        backflush=backflush(run),
        inventory=inv,
        trial_balance=tb,
        findings=findings,
        checks=checks,
    )
