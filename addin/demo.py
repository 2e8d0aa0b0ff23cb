"""The demo plant: a small office-chair factory's October, as fixed data.

Three finished chairs, three subassemblies, a phantom hardware kit and 30 raw materials; a month
of purchases (some off standard price), completions with scrap, sales, payroll and overhead,
opening stock and a cycle count that differs from book (the headrest's last delivery is late,
so its stock ends below zero: the demo shows a failed control on purpose).

The rows live in ``addin/demo_data/*.csv`` (one file per input sheet, engine field names) and
are read as they are: nothing here runs the engine or draws random numbers, so the demo's inputs
stay the same whatever the engine does. ``scripts/make_demo_data.py`` authored them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from addin.costing import model as m

DATA = Path(__file__).with_name("demo_data")
PERIOD_START = dt.date(2026, 10, 1)
PERIOD_END = dt.date(2026, 10, 31)

# The frames of MonthEndInputs the demo fills (one CSV each; columns from the engine's model).
FRAMES: tuple[str, ...] = (
    "standard_costs",
    "bom",
    "purchases",
    "completions",
    "sales",
    "conversion_costs",
    "counts",
    "opening_balances",
)
SETTINGS = m.Settings(
    PERIOD_START,
    PERIOD_END,
    m.Trigger.PURCHASE_COMPLETION,
    currency="USD",
    conversion_variance="COGS",
    count_tolerance=0.02,
    company="Northwind Seating Co.",
)
_DATES = ("date", "effective_from", "effective_to")
# columns where an empty cell means "not given" (NaN / NaT): dates, the opening's value, the
# lot size and the cost share
_NUMBERS = (*_DATES, "value", "lot_size", "cost_share")
_TEXT = ("item", "description", "item_type", "uom", "reference", "parent", "component", "per")
_BLANK_TEXT = ("line_type",)  # a cell the file leaves out (a short row) is blank


def _frame(name: str) -> pd.DataFrame:
    """One input sheet's rows as the engine reads them; source_row is the row on the sheet."""
    columns = m.INPUT_FRAME_COLUMNS[name]
    frame = pd.read_csv(
        DATA / f"{name}.csv", keep_default_na=False, na_values={c: [""] for c in _NUMBERS}
    )
    for col in frame.columns:
        if col in _DATES:
            frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
        elif col in _TEXT or col in ("element", "account"):
            frame[col] = frame[col].astype(str)
        elif col in _BLANK_TEXT:
            given = frame[col].notna() & (frame[col].astype(str) != "")
            frame[col] = frame[col].astype(object).where(given, None)
        elif col == "backflush":
            frame[col] = frame[col].astype(bool)
        else:
            frame[col] = frame[col].astype(float)
    frame["source_row"] = np.arange(2, len(frame) + 2)
    return frame.reindex(columns=columns)  # a column the file lacks (opening value) is NaN


def demo_inputs() -> m.MonthEndInputs:
    """The demo plant's October as validated engine inputs."""
    return m.MonthEndInputs(settings=SETTINGS, **{name: _frame(name) for name in FRAMES})
