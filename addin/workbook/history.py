"""A month's key figures, as the History sheet keeps them: one row per figure.

``backflush next`` appends this month's figures to the History it read, so each next month's
workbook carries every earlier month's; the Summary can show them side by side. Amounts are in
currency units, signed as the Summary shows them: a variance + unfavourable / - favourable,
a balance debit + / credit -; the journal entry count is a count.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from addin.costing.model import HISTORY_COLUMNS
from addin.costing.results import MonthEndResult
from addin.workbook.tabs import month_figures


def key_figures(result: MonthEndResult) -> list[tuple[str, float]]:
    """(figure, amount) of this month, by the names and in the order of the Summary's "Month
    by month" block (tabs.MONTH_FIGURES): variances by type, closing MIP and FG, COGS, entries."""
    return list(month_figures(result).items())


def history_after(result: MonthEndResult) -> pd.DataFrame:
    """The History the next month carries: the rows read (in their order) and this month's."""
    s = result.inputs.settings
    figures = key_figures(result)
    month = pd.DataFrame(
        {
            "period_start": pd.Series([pd.Timestamp(s.period_start)] * len(figures)),
            "period_end": pd.Series([pd.Timestamp(s.period_end)] * len(figures)),
            "figure": [f for f, _ in figures],
            "amount": np.array([a for _, a in figures], dtype=np.float64),
        }
    )
    earlier = result.inputs.history.drop(columns="source_row", errors="ignore")
    same = (earlier["period_start"] == month["period_start"].iloc[0]) & (
        earlier["period_end"] == month["period_end"].iloc[0]
    )
    earlier = earlier[~same.to_numpy(bool)]  # this month's figures replace any read for it
    out = pd.concat([earlier, month], ignore_index=True) if len(earlier) else month
    out["source_row"] = np.arange(2, len(out) + 2)
    for col in ("period_start", "period_end"):
        out[col] = out[col].astype("datetime64[ns]")
    return out[HISTORY_COLUMNS]
