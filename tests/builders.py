"""Build engine inputs inline, so that each test reads like a worked example."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from addin.costing import model as m


def frame(columns: list[str], rows: list[dict[str, Any]], defaults: dict[str, Any]) -> pd.DataFrame:
    data = []
    for i, r in enumerate(rows):
        row = {**defaults, "source_row": i + 2, **r}
        data.append({c: row.get(c) for c in columns})
    df = pd.DataFrame(data, columns=columns) if data else m.empty_frame(columns)
    for c in ("date", "effective_from", "effective_to"):
        if c in df:
            df[c] = pd.to_datetime(df[c])
    for c in (
        "quantity",
        "qty_per",
        "scrap_pct",
        "unit_price",
        "charges",
        "scrap_quantity",
        "amount",
        "counted_quantity",
        "material",
        "labor",
        "overhead",
        "conversion",
        "yield_pct",
        "lot_size",
        "base_quantity",
        "conversion_factor",
        "labor_hours",
        "hours",
    ):
        if c in df:
            df[c] = pd.to_numeric(df[c]).astype(np.float64)
    return df


def make_inputs(
    trigger: str = "purchase+completion",
    start: dt.date = dt.date(2026, 10, 1),
    end: dt.date = dt.date(2026, 10, 31),
    items: list[dict[str, Any]] | None = None,
    bom: list[dict[str, Any]] | None = None,
    purchases: list[dict[str, Any]] | None = None,
    completions: list[dict[str, Any]] | None = None,
    sales: list[dict[str, Any]] | None = None,
    conversion: list[dict[str, Any]] | None = None,
    counts: list[dict[str, Any]] | None = None,
    opening: list[dict[str, Any]] | None = None,
    **settings: Any,
) -> m.MonthEndInputs:
    """Items: dicts with item, item_type, material, conversion (or labor+overhead), backflush."""
    sc = frame(
        m.STANDARD_COST_COLUMNS,
        items or [],
        {
            "description": "",
            "uom": "EA",
            "material": 0.0,
            "labor": np.nan,
            "overhead": np.nan,
            "conversion": 0.0,
            "backflush": True,
        },
    )
    split = sc["labor"].notna() | sc["overhead"].notna()
    sc.loc[split, "conversion"] = sc.loc[split, "labor"].fillna(0) + sc.loc[
        split, "overhead"
    ].fillna(0)
    sc["backflush"] = sc["backflush"].astype(bool)
    day = end
    return m.MonthEndInputs(
        settings=m.Settings(start, end, m.Trigger(trigger), **settings),
        standard_costs=sc,
        bom=frame(
            m.BOM_COLUMNS,
            bom or [],
            {"scrap_pct": 0.0, "effective_from": None, "effective_to": None},
        ),
        purchases=frame(
            m.PURCHASE_COLUMNS, purchases or [], {"date": day, "reference": "", "charges": 0.0}
        ),
        completions=frame(
            m.COMPLETION_COLUMNS,
            completions or [],
            {"date": day, "scrap_quantity": 0.0, "reference": ""},
        ),
        sales=frame(m.SALE_COLUMNS, sales or [], {"date": day, "reference": ""}),
        conversion_costs=frame(
            m.CONVERSION_COST_COLUMNS,
            conversion or [],
            {"date": day, "element": "Conversion", "reference": ""},
        ),
        counts=frame(m.COUNT_COLUMNS, counts or [], {"date": None}),
        opening_balances=frame(m.OPENING_COLUMNS, opening or [], {}),
    )


def horngren(trigger: str) -> m.MonthEndInputs:
    """The spec's worked example (backflush-domain.md section 5)."""
    return make_inputs(
        trigger,
        items=[
            {"item": "DM", "item_type": "Raw", "material": 1.00},
            {"item": "KB", "item_type": "Finished", "conversion": 12.00},
        ],
        bom=[{"parent": "KB", "component": "DM", "qty_per": 19}],
        purchases=[{"item": "DM", "quantity": 1_950_000, "unit_price": 1.00}],
        completions=[{"item": "KB", "quantity": 100_000}],
        sales=[{"item": "KB", "quantity": 99_000}],
        conversion=[{"amount": 1_260_000}],
    )
