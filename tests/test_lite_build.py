"""The xlwings Lite main.py: built by one command, self-contained, and working on a fake book."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from addin.excel import build_lite
from addin.workbook import contract as C

TESTS = Path(__file__).resolve().parent
DEMO = TESTS.parent / "workbook_templates" / "demo-plant.xlsx"

RUN = r"""
import runpy, sys
sys.path[:] = [p for p in sys.path if p not in ("", ".", {repo!r})]
sys.path.insert(0, {tests!r})
ns = runpy.run_path({main!r}, run_name="main")
import addin.excel.macros as m
assert m.__file__.startswith("<backflush bundle>"), m.__file__
assert sys.modules["addin.costing.engine"].__file__.startswith("<backflush bundle>")
from addin.workbook.reader import read_workbook
from fake_xlwings import book_from_sheet_rows
rows, findings = read_workbook({demo!r})
book = book_from_sheet_rows("demo-plant.xlsx", rows)
inputs = [s.name for s in book.sheets]
ns["validate_inputs"](book)
ns["run_month_end"](book)
ns["run_month_end"](book)
names = [s.name for s in book.sheets]
assert names == inputs + list(m.C.RESULT_TABS), names
ns["clear_results"](book)
assert [s.name for s in book.sheets] == inputs
costs = book.sheets["Standard Costs"].used_range.options(ndim=2).value
bom = book.sheets["BOM"].used_range.options(ndim=2).value
print("STDCOST", ns["BF_STDCOST"](costs, bom, "CH-100"))
print("BAD", ns["BF_STDCOST"](costs, bom, "X12"))
print("ALERTS", len(book.app._alerts), [a[3] for a in book.app._alerts])
"""


def lite_output(template: str, main: Path, folder: Path) -> dict[str, str]:
    """Run ``template`` (a script using the Lite ``main`` on the demo) in a clean interpreter;
    its printed "KEY value" lines as a dict."""
    script = template.format(
        repo=str(TESTS.parent), tests=str(TESTS), main=str(main), demo=str(DEMO)
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(folder)},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return dict(line.split(" ", 1) for line in run.stdout.splitlines() if " " in line)


def test_lite_main_is_self_contained_and_runs_the_month_end(tmp_path: Path) -> None:
    main = build_lite.build(tmp_path / "lite")
    source = main.read_text(encoding="utf-8")
    compile(source, str(main), "exec")
    inputs = [s.name for s in C.INPUT_SHEETS]
    for name, _label in build_lite.SCRIPTS:
        include = list(build_lite.SCRIPT_SHEETS[name])
        assert f"@script(include={include!r})\ndef {name}(book: xw.Book):" in source
        if name != "clear_results":  # Lite sends these sheets' contents: the inputs, no results
            assert set(inputs) <= set(include)
            assert not set(include) & set(C.RESULT_TABS)
    assert build_lite.SCRIPT_SHEETS["clear_results"] == tuple(C.RESULT_TABS)
    for udf in ("BF_STDCOST", "BF_EXPLODE", "BF_BACKFLUSH", "BF_WHEREUSED", "BF_VARIANCE"):
        assert f"def {udf}(" in source
    reqs = (main.parent / "requirements.txt").read_text().split()
    assert reqs[0].startswith("xlwings==") and "pandas" in reqs and "scipy" in reqs

    out = lite_output(RUN, main, tmp_path)
    assert float(out["STDCOST"]) > 0
    assert out["BAD"].startswith('#BF! unknown item "X12"')
    assert out["ALERTS"].startswith("4 ") and "critical" not in out["ALERTS"]


def test_lite_build_command_writes_both_files(tmp_path: Path) -> None:
    assert build_lite.cli([str(tmp_path)]) == 0
    assert (tmp_path / "main.py").exists() and (tmp_path / "requirements.txt").exists()


def test_committed_lite_files_are_up_to_date() -> None:
    """Rebuild with `python -m addin.excel.build_lite` (or `make lite`) when this fails."""
    committed = TESTS.parent / "workbook_templates" / "lite"
    assert (committed / "main.py").read_text(encoding="utf-8") == build_lite.main_py()
    assert (committed / "requirements.txt").read_text().split() == list(build_lite.REQUIREMENTS)
