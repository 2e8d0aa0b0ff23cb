"""The engine package's shape: it imports nothing of the layers above it, its modules import
each other without a cycle, and every result frame has exactly the columns its schema declares."""

from __future__ import annotations

import ast
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

# lookup.py still reads the sheet contract (addin.workbook.contract); the contract helper of
# issue 11 moves that. Remove this exception once lookup.py no longer imports addin.workbook.
KNOWN_EXCEPTIONS = {"lookup"}


def _imports(path: Path) -> list[str]:
    """Every module a source file imports, wherever the import statement is."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            if node.module == "addin.costing":
                names += [f"addin.costing.{a.name}" for a in node.names]
    return names


MODULES = sorted(p.stem for p in COSTING.glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("module", MODULES)
def test_costing_imports_nothing_of_the_layers_above(module):
    if module in KNOWN_EXCEPTIONS:
        pytest.xfail(f"{module}.py still imports addin.workbook.contract (moved by issue 11)")
    upper = [m for m in _imports(COSTING / f"{module}.py") if m.startswith(UPPER)]
    assert upper == [], f"addin/costing/{module}.py imports {upper}"


def test_costing_modules_import_each_other_without_a_cycle():
    graph = {
        m: {
            i.removeprefix("addin.costing.")
            for i in _imports(COSTING / f"{m}.py")
            if i.startswith("addin.costing.")
        }
        for m in MODULES
    }
    done: set[str] = set()

    def visit(m: str, path: list[str]) -> None:
        assert m not in path, f"import cycle: {' -> '.join([*path, m])}"
        if m in done:
            return
        for n in sorted(graph.get(m, ())):
            visit(n, [*path, m])
        done.add(m)

    for m in MODULES:
        visit(m, [])


@pytest.mark.parametrize("module", [m for m in MODULES if m not in KNOWN_EXCEPTIONS])
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
