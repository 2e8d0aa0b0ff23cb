"""Author the demo plant's fixed data (addin/demo_data/*.csv): ``python scripts/make_demo_data.py``.

The demo plant: a small office-chair factory's October, generated once from a seed. The month-end
reads the CSV files this writes (addin/demo.py), never this generator, so a change to the engine
or to numpy's random streams cannot change the demo. Run it only to author a new demo month.

Three finished chairs, three stocked subassemblies (completed in weekly batches before the
chairs take them from stock), a phantom hardware kit and 30 raw materials; a month of
purchases (some off standard price), completions with scrap, sales, payroll and overhead,
opening stock and a cycle count that differs from book.

Edited by hand since (the CSVs are the demo; this script does not write these rows, so running it
again drops them): ST-300's per-order tube line (bom.csv, Per = Order) and its Lot Size 25
(standard_costs.csv), and the stool's offcuts by-product RM-SCRAPST (a Raw item at 0.60 and a
By-product BOM line of 0.04).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from addin.costing import model as m
from addin.demo import DATA, FRAMES, PERIOD_END, PERIOD_START, SETTINGS

# item, description, type, uom, material, labor, overhead, backflush
ITEMS: list[tuple[str, str, str, str, float, float, float, bool]] = [
    ("CH-100", "Task chair", "Finished", "EA", 0, 9.50, 6.20, True),
    ("CH-200", "Executive chair", "Finished", "EA", 0, 14.00, 9.10, True),
    ("ST-300", "Drafting stool", "Finished", "EA", 0, 6.00, 3.80, True),
    ("SA-BASE", "Five-star base assembly", "Subassembly", "EA", 0, 2.40, 1.60, True),
    ("SA-SEAT", "Upholstered seat assembly", "Subassembly", "EA", 0, 4.10, 2.70, True),
    ("SA-BACK", "Mesh backrest assembly", "Subassembly", "EA", 0, 3.20, 2.10, True),
    ("PH-HW", "Hardware kit (phantom)", "Phantom", "KIT", 0, 0, 0, True),
    ("RM-CAST", "Aluminium base casting", "Raw", "EA", 18.40, 0, 0, True),
    ("RM-CASTR", "Twin-wheel caster 60mm", "Raw", "EA", 1.15, 0, 0, True),
    ("RM-GAS", "Gas lift cylinder class 4", "Raw", "EA", 7.80, 0, 0, True),
    ("RM-MECH", "Synchro-tilt mechanism", "Raw", "EA", 21.60, 0, 0, True),
    ("RM-MECH2", "Knee-tilt mechanism", "Raw", "EA", 12.90, 0, 0, True),
    ("RM-PLY", "Moulded plywood seat pan", "Raw", "EA", 4.25, 0, 0, True),
    ("RM-FOAM", "Seat foam 50mm", "Raw", "EA", 3.10, 0, 0, True),
    ("RM-FAB", "Upholstery fabric", "Raw", "M", 6.75, 0, 0, True),
    ("RM-LEA", "Bonded leather", "Raw", "M", 14.20, 0, 0, True),
    ("RM-MESH", "Elastomeric mesh", "Raw", "M", 5.60, 0, 0, True),
    ("RM-FRAME", "Nylon back frame", "Raw", "EA", 6.30, 0, 0, True),
    ("RM-LUMB", "Lumbar support pad", "Raw", "EA", 2.05, 0, 0, True),
    ("RM-ARM", "Height-adjustable armrest", "Raw", "EA", 5.45, 0, 0, True),
    ("RM-ARM2", "Fixed armrest, padded", "Raw", "EA", 8.90, 0, 0, True),
    ("RM-HEAD", "Headrest", "Raw", "EA", 9.75, 0, 0, True),
    ("RM-RING", "Foot ring, chrome", "Raw", "EA", 4.60, 0, 0, True),
    ("RM-SCR6", "Screw M6x20", "Raw", "EA", 0.045, 0, 0, True),
    ("RM-SCR8", "Screw M8x25", "Raw", "EA", 0.062, 0, 0, True),
    ("RM-WASH", "Washer M8", "Raw", "EA", 0.012, 0, 0, True),
    ("RM-NUT", "Nut M8 nylock", "Raw", "EA", 0.028, 0, 0, True),
    ("RM-CLIP", "Retaining clip", "Raw", "EA", 0.034, 0, 0, True),
    ("RM-STAPL", "Upholstery staples (box of 1000)", "Raw", "BOX", 3.20, 0, 0, True),
    ("RM-GLUE", "Contact adhesive (litre)", "Raw", "L", 8.40, 0, 0, False),
    ("RM-EDGE", "Edge banding", "Raw", "M", 0.38, 0, 0, True),
    ("RM-LABEL", "Product label", "Raw", "EA", 0.09, 0, 0, True),
    ("RM-BOX", "Shipping carton", "Raw", "EA", 2.35, 0, 0, True),
    ("RM-BAG", "Poly bag", "Raw", "EA", 0.21, 0, 0, True),
    ("RM-MAN", "Assembly manual", "Raw", "EA", 0.16, 0, 0, True),
    ("RM-PAD", "Glide pad", "Raw", "EA", 0.11, 0, 0, True),
    ("RM-TUBE", "Steel tube 25mm", "Raw", "M", 3.85, 0, 0, True),
]

# parent, component, qty per, scrap %
BOM: list[tuple[str, str, float, float]] = [
    ("CH-100", "SA-BASE", 1, 0),
    ("CH-100", "SA-SEAT", 1, 0),
    ("CH-100", "SA-BACK", 1, 0),
    ("CH-100", "RM-MECH", 1, 0),
    ("CH-100", "RM-GAS", 1, 0),
    ("CH-100", "RM-ARM", 2, 0),
    ("CH-100", "PH-HW", 1, 0),
    ("CH-100", "RM-BOX", 1, 0),
    ("CH-100", "RM-BAG", 1, 0),
    ("CH-100", "RM-LABEL", 1, 0),
    ("CH-100", "RM-MAN", 1, 0),
    ("CH-200", "SA-BASE", 1, 0),
    ("CH-200", "SA-SEAT", 1, 0),
    ("CH-200", "SA-BACK", 1, 0),
    ("CH-200", "RM-MECH", 1, 0),
    ("CH-200", "RM-GAS", 1, 0),
    ("CH-200", "RM-ARM2", 2, 0),
    ("CH-200", "RM-HEAD", 1, 0),
    ("CH-200", "RM-LEA", 0.6, 0.08),
    ("CH-200", "PH-HW", 1, 0),
    ("CH-200", "RM-BOX", 1, 0),
    ("CH-200", "RM-BAG", 1, 0),
    ("CH-200", "RM-LABEL", 1, 0),
    ("CH-200", "RM-MAN", 1, 0),
    ("ST-300", "SA-BASE", 1, 0),
    ("ST-300", "SA-SEAT", 1, 0),
    ("ST-300", "RM-MECH2", 1, 0),
    ("ST-300", "RM-GAS", 1, 0),
    ("ST-300", "RM-RING", 1, 0),
    ("ST-300", "PH-HW", 1, 0),
    ("ST-300", "RM-TUBE", 0.8, 0.05),
    ("ST-300", "RM-BOX", 1, 0),
    ("ST-300", "RM-LABEL", 1, 0),
    ("SA-BASE", "RM-CAST", 1, 0.02),
    ("SA-BASE", "RM-CASTR", 5, 0),
    ("SA-BASE", "RM-PAD", 5, 0),
    ("SA-SEAT", "RM-PLY", 1, 0.03),
    ("SA-SEAT", "RM-FOAM", 1, 0.05),
    ("SA-SEAT", "RM-FAB", 0.9, 0.10),
    ("SA-SEAT", "RM-STAPL", 0.08, 0),
    ("SA-SEAT", "RM-GLUE", 0.05, 0),
    ("SA-SEAT", "RM-EDGE", 1.6, 0.05),
    ("SA-BACK", "RM-FRAME", 1, 0.01),
    ("SA-BACK", "RM-MESH", 0.7, 0.12),
    ("SA-BACK", "RM-LUMB", 1, 0),
    ("SA-BACK", "RM-CLIP", 6, 0.05),
    ("PH-HW", "RM-SCR6", 8, 0.05),
    ("PH-HW", "RM-SCR8", 4, 0.05),
    ("PH-HW", "RM-WASH", 4, 0.05),
    ("PH-HW", "RM-NUT", 4, 0.05),
]

DAILY_OUTPUT = {"CH-100": 42, "CH-200": 16, "ST-300": 22}


def _workdays() -> list[dt.date]:
    days = pd.date_range(PERIOD_START, PERIOD_END, freq="B")
    return [d.date() for d in days]


def generate(seed: int = 2026) -> m.MonthEndInputs:
    """The demo plant's month as engine inputs, generated from ``seed``."""
    rng = np.random.default_rng(seed)
    days = _workdays()
    sc = pd.DataFrame(
        {
            "item": [i[0] for i in ITEMS],
            "description": [i[1] for i in ITEMS],
            "item_type": [i[2] for i in ITEMS],
            "uom": [i[3] for i in ITEMS],
            "material": [float(i[4]) for i in ITEMS],
            "labor": [float(i[5]) for i in ITEMS],
            "overhead": [float(i[6]) for i in ITEMS],
            "backflush": [i[7] for i in ITEMS],
        }
    )
    sc["conversion"] = sc["labor"] + sc["overhead"]
    sc["source_row"] = np.arange(2, len(sc) + 2)
    sc = sc.assign(yield_pct=1.0, lot_size=np.nan, labor_hours=np.nan)[m.STANDARD_COST_COLUMNS]
    bom = pd.DataFrame(BOM, columns=["parent", "component", "qty_per", "scrap_pct"])
    bom["qty_per"] = bom["qty_per"].astype(float)
    bom["scrap_pct"] = bom["scrap_pct"].astype(float)
    bom["effective_from"] = pd.NaT
    bom["effective_to"] = pd.NaT
    bom["source_row"] = np.arange(2, len(bom) + 2)
    bom = bom.assign(base_quantity=1.0, unit="", conversion_factor=1.0, per="Unit")
    bom = bom[m.BOM_COLUMNS]

    # completions: each workday, each chair, with occasional scrap
    comp = []
    for day in days:
        for item, base in DAILY_OUTPUT.items():
            qty: float = int(base + rng.integers(-4, 5))
            scrap = int(rng.random() < 0.25) * int(rng.integers(1, 3))
            comp.append((day, item, float(qty), float(scrap), f"WO-{day:%m%d}-{item}"))
    completions = pd.DataFrame(
        comp, columns=["date", "item", "quantity", "scrap_quantity", "reference"]
    )
    completions["date"] = pd.to_datetime(completions["date"])

    # raw material need for the month (explode by hand through the BOM table above)
    from addin.costing.bom import explode_demand

    demand = completions.assign(quantity=completions["quantity"] + completions["scrap_quantity"])
    need = explode_demand(bom, sc, demand.groupby("item", as_index=False)["quantity"].sum())
    need = need.set_index("component")["quantity"]
    completions = _with_subassemblies(completions, days[::5])
    completions["source_row"] = np.arange(2, len(completions) + 2)

    # purchases: weekly deliveries covering the need, a few prices off standard
    std = sc.set_index("item")["material"]
    mondays = days[::5]  # a delivery every fifth workday, the first on day one
    purch = []
    n = 0
    for item, total in need.items():
        lot = total / len(mondays)
        drift = {"RM-CAST": 1.035, "RM-FAB": 0.97, "RM-GAS": 1.12, "RM-MESH": 1.01}.get(item, 1.0)
        for week, day in enumerate(mondays):
            if item == "RM-HEAD" and week >= len(mondays) - 2:
                continue  # the last headrest delivery is late: stock goes below zero
            qty = float(np.ceil(lot * (1.02 + 0.05 * rng.random()) * (2 if week == 0 else 1)))
            price = (
                round(float(std[item]) * drift * (1 + 0.01 * rng.normal()), 4)
                if drift != 1.0
                else float(std[item])
            )
            n += 1
            purch.append((day, item, qty, price, f"PO-{4100 + n}"))
    purchases = pd.DataFrame(purch, columns=["date", "item", "quantity", "unit_price", "reference"])
    purchases["date"] = pd.to_datetime(purchases["date"])
    purchases["source_row"] = np.arange(2, len(purchases) + 2)

    # sales: most of what was made, shipped in batches
    sale: list[tuple[object, str, float, str]] = []
    for item in DAILY_OUTPUT:
        made = completions.loc[completions["item"] == item, "quantity"].sum()
        for day in days[2::2]:
            qty = float(np.floor(made * 0.93 / len(days[2::2])))
            sale.append((day, item, qty, f"SO-{7000 + len(sale) + 1}"))
    sales = pd.DataFrame(sale, columns=["date", "item", "quantity", "reference"])
    sales["date"] = pd.to_datetime(sales["date"])
    sales["source_row"] = np.arange(2, len(sales) + 2)

    # conversion costs: weekly payroll, monthly overhead items
    conv = []
    for k, day in enumerate([d for d in days if d.weekday() == 4]):
        conv.append((day, "Labor", round(6_750 + 400 * rng.random(), 2), f"PAY-W{k + 1}"))
    conv += [
        (PERIOD_END, "Overhead", 11_850.00, "DEPR-10"),
        (PERIOD_END, "Overhead", 4_412.37, "UTIL-10"),
        (PERIOD_END, "Overhead", 2_980.00, "MAINT-10"),
        (PERIOD_END, "Overhead", 2_145.60, "SUPV-10"),
    ]
    conversion = pd.DataFrame(conv, columns=["date", "element", "amount", "reference"])
    conversion["date"] = pd.to_datetime(conversion["date"])
    conversion["source_row"] = np.arange(2, len(conversion) + 2)

    opening = pd.DataFrame(
        [
            ("RM-CAST", "MIP", 120.0),
            ("RM-CASTR", "MIP", 900.0),
            ("RM-GAS", "MIP", 140.0),
            ("RM-FAB", "MIP", 260.0),
            ("RM-SCR6", "MIP", 6000.0),
            ("RM-GLUE", "MIP", 40.0),
            ("RM-HEAD", "MIP", 30.0),
            ("CH-100", "FG", 85.0),
            ("CH-200", "FG", 30.0),
            ("ST-300", "FG", 44.0),
        ],
        columns=["item", "account", "quantity"],
    )
    opening["source_row"] = np.arange(2, len(opening) + 2)

    # period-end cycle count: a few items counted, some short of book
    counted = {
        "RM-CASTR": -37,
        "RM-FAB": -18.4,
        "RM-SCR6": 210,
        "RM-GAS": -2,
        "RM-GLUE": -94.2,
        "RM-FOAM": 0,
        "RM-MESH": -6.3,
    }
    counts = pd.DataFrame({"item": list(counted), "delta": list(counted.values())})
    counts["date"] = pd.NaT
    counts["source_row"] = np.arange(2, len(counts) + 2)

    inputs = m.MonthEndInputs(
        settings=SETTINGS,
        standard_costs=sc,
        bom=bom,
        purchases=purchases[m.PURCHASE_COLUMNS],
        completions=completions[m.COMPLETION_COLUMNS],
        sales=sales[m.SALE_COLUMNS],
        conversion_costs=conversion.assign(hours=np.nan)[m.CONVERSION_COST_COLUMNS],
        counts=pd.DataFrame(columns=m.COUNT_COLUMNS),
        opening_balances=opening.reindex(
            columns=m.OPENING_COLUMNS
        ),  # no value: October is the first month
    )
    # counted quantity = book + delta; book comes from a run without counts
    from addin.costing.engine import run_month_end

    book = run_month_end(inputs).inventory.set_index("item")["book_qty"]
    counts["counted_quantity"] = [
        max(round(float(book.get(i, 0.0)) + d, 1), 0.0) for i, d in counted.items()
    ]
    from dataclasses import replace

    return replace(inputs, counts=counts[m.COUNT_COLUMNS])


# the stocked subassemblies each chair takes from stock, one of each (PH-HW stays a phantom)
SUBASSEMBLY_USE = {
    "SA-BASE": ("CH-100", "CH-200", "ST-300"),
    "SA-SEAT": ("CH-100", "CH-200", "ST-300"),
    "SA-BACK": ("CH-100", "CH-200"),
}


def _with_subassemblies(chairs: pd.DataFrame, batch_days: list[dt.date]) -> pd.DataFrame:
    """The chairs' completions with the subassemblies completed for stock: one batch of each
    on every fifth workday, covering the chairs (good + scrap) of that day and the four after
    it, rounded up to tens (a little stock is left), listed first on its day."""
    starts = pd.to_datetime(pd.Series(batch_days)).to_numpy()
    batch = np.searchsorted(starts, chairs["date"].to_numpy(), side="right") - 1
    units = chairs["quantity"] + chairs["scrap_quantity"]
    rows = []
    for k, day in enumerate(batch_days):
        for sub, parents in SUBASSEMBLY_USE.items():
            used = float(units[(batch == k) & chairs["item"].isin(parents).to_numpy()].sum())
            qty = float(np.ceil(used / 10) * 10)
            rows.append((pd.Timestamp(day), sub, qty, 0.0, f"WO-{day:%m%d}-{sub}"))
    subs = pd.DataFrame(rows, columns=chairs.columns)
    both = pd.concat([subs, chairs], ignore_index=True)
    return both.sort_values("date", kind="stable").reset_index(drop=True)


def main() -> None:
    inputs = generate()
    for name in FRAMES:
        frame = getattr(inputs, name).drop(columns="source_row")
        frame.to_csv(DATA / f"{name}.csv", index=False, date_format="%Y-%m-%d")
        print(f"wrote {DATA / name}.csv ({len(frame)} rows)")


if __name__ == "__main__":
    main()
