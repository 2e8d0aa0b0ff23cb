"""The engine package's shape: each module imports alone without loading a layer above it (the
import statements themselves are read by tests/test_layers.py), and every result frame has
exactly the columns its schema declares."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from builders import make_inputs

from addin.costing import results
from addin.costing.detail import backflush_detail
from addin.costing.engine import run_month_end

COSTING = Path(__file__).resolve().parents[1] / "addin" / "costing"
UPPER = ("addin.workbook", "addin.excel", "addin.app", "addin.cli")

MODULES = sorted(p.stem for p in COSTING.glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("module", MODULES)
def test_each_costing_module_imports_alone_without_the_layers_above(module):
    code = (
        f"import sys; import addin.costing.{module}; "
        f"bad = sorted(m for m in sys.modules if m.startswith({UPPER!r})); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_result_frame_has_the_columns_of_its_schema():
    # a small V1 month with scrap, a count and a conversion variance: every frame has rows
    inputs = make_inputs(
        items=[
            {"item": "RM1", "item_type": "Raw", "material": 3.0},
            {"item": "FG1", "item_type": "Finished", "conversion": 2.0},
        ],
        bom=[{"parent": "FG1", "component": "RM1", "qty_per": 2}],
        purchases=[{"item": "RM1", "quantity": 10, "unit_price": 3.5}],
        completions=[{"item": "FG1", "quantity": 3, "scrap_quantity": 1}],
        sales=[{"item": "FG1", "quantity": 2}],
        conversion=[{"amount": 9.0}],
        counts=[{"item": "RM1", "counted_quantity": 1}],
    )
    result = run_month_end(inputs)
    assert result.plant is not None
    result = replace(result, backflush_detail=backflush_detail(result.plant))
    for name, schema in results.RESULT_FRAMES.items():
        frame = getattr(result, name)
        assert list(frame.columns) == schema.names, name
        assert len(frame), name
