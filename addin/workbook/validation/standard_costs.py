"""Standard Costs: one row per item, with its type and this level's standard per unit.

The conversion standard is kept either as one Conversion element or split into Labor and
Overhead; a split row's Conversion (when given) must equal Labor + Overhead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from addin.workbook.cells import number_text as g
from addin.workbook.validation.columns import Frame
from addin.workbook.validation.frames import engine_frame, num
from addin.workbook.validation.items import Items, canonical_items
from addin.workbook.validation.report import MAX_FINDINGS_PER_RULE, Report


def _conversion(f: Frame, keep: np.ndarray, report: Report) -> dict[str, np.ndarray]:
    """labor, overhead and conversion per row. A row is split when it gives Labor or Overhead,
    or when the sheet keeps the split columns and the row has no Conversion; blanks in a split
    row are 0, and an unsplit row's labor and overhead are NaN."""
    labor, overhead = num(f, "Labor"), num(f, "Overhead")
    conversion = num(f, "Conversion")
    split = ~np.isnan(labor) | ~np.isnan(overhead)
    if "Labor" in f.values and "Overhead" in f.values:
        split |= np.isnan(conversion)
    total = np.where(split, np.nan_to_num(labor) + np.nan_to_num(overhead), np.nan)
    if "Conversion" in f.values:
        differs = split & ~np.isnan(conversion) & (np.abs(conversion - total) > 0.005)
        for k in np.flatnonzero(differs & keep)[:MAX_FINDINGS_PER_RULE].tolist():
            report.error(
                "conversion split",
                f"Conversion {g(conversion[k])} is not Labor + Overhead ({g(total[k])}); "
                "correct one of them or leave Conversion blank",
                f.table.sheet,
                f.cell("Conversion", k),
                item=str(f.values["Item"][k]),
            )
    return {
        "labor": np.where(split, np.nan_to_num(labor), np.nan),
        "overhead": np.where(split, np.nan_to_num(overhead), np.nan),
        "conversion": np.where(split, total, np.nan_to_num(conversion)),
    }


def parse_standard_costs(
    f: Frame | None, report: Report
) -> tuple[pd.DataFrame | None, Items | None]:
    """The standard-costs frame (items in sheet order, duplicates left out) and the item map."""
    if f is None:
        return None, None
    items, keep = canonical_items(f, report)
    given = {
        **_conversion(f, keep, report),
        "material": num(f, "Material", 0.0),
        "backflush": f.values["Backflush"].astype(bool)
        if "Backflush" in f.values
        else np.ones(len(f), dtype=bool),
    }
    return engine_frame(f, given, np.flatnonzero(keep)), items
