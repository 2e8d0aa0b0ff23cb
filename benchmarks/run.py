"""Month-end at a real plant's size, measured against the alternatives.

    python -m benchmarks.run [--sizes S,M,L] [--skip-slow] [--recursive-budget 60]

For each plant size: generate the plant (benchmarks.plant), write it as an input workbook, then
run every stage in its own subprocess (so each stage's peak RSS is its own), check that every
explosion method gives the same consumption to 1e-9 relative, and only then print the times.
See benchmarks/README.md for what each column means.
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RTOL = 1e-9
NOT_BUILT = "n/a (not built yet)"


# --- stages (run inside a worker subprocess) ---------------------------------------------------


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


class NotBuilt(Exception):
    """The product function this stage times cannot be imported yet."""


def _product(module: str, name: str) -> Callable:
    import importlib

    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as e:
        raise NotBuilt(f"{module}.{name}: {e}") from e


def _load_inputs(work: Path):
    with open(work / "inputs.pkl", "rb") as f:
        return pickle.load(f)


def _timed(fn: Callable[[], object], repeat_under: float = 1.0, budget: float = 3.0):
    """(best seconds, last value). Fast calls are repeated (up to 5 times within budget)."""
    best, value, spent = float("inf"), None, 0.0
    for _ in range(5):
        t0 = time.perf_counter()
        value = fn()
        dt = time.perf_counter() - t0
        best, spent = min(best, dt), spent + dt
        if best >= repeat_under or spent >= budget:
            break
    return best, value


def stage_generate(work: Path, args: dict) -> dict:
    from benchmarks.plant import generate_plant

    base = _peak_mb()
    t0 = time.perf_counter()
    inputs = generate_plant(args["size"], seed=args["seed"])
    seconds = time.perf_counter() - t0
    peak = _peak_mb()
    with open(work / "inputs.pkl", "wb") as f:
        pickle.dump(inputs, f, protocol=pickle.HIGHEST_PROTOCOL)
    sc = inputs.standard_costs
    desc = {
        "items": len(sc),
        "bom_lines": len(inputs.bom),
        "completions": len(inputs.completions),
        "purchases": len(inputs.purchases),
        "sales": len(inputs.sales),
    }
    return {"seconds": seconds, "base_mb": base, "peak_mb": peak, "plant": desc}


def stage_write_input(work: Path, args: dict) -> dict:
    from benchmarks.plant import write_workbook

    inputs = _load_inputs(work)
    base = _peak_mb()
    t0 = time.perf_counter()
    path = write_workbook(inputs, work / "plant.xlsx")
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "base_mb": base,
        "peak_mb": _peak_mb(),
        "note": f"{path.stat().st_size / 1e6:.1f} MB file",
    }


# The two read rows are compared with each other, so they are repeated alike (best of up to 5
# while a run takes under 5 s): otherwise a floor under 1 s would get best-of-5 against one
# cold run of ours just over 1 s.
READ_REPEATS = {"repeat_under": 5.0, "budget": 10.0}


def stage_read_floor(work: Path, args: dict) -> dict:
    from python_calamine import CalamineWorkbook

    path = work / "plant.xlsx"

    def read() -> int:
        wb = CalamineWorkbook.from_path(str(path))
        return sum(len(wb.get_sheet_by_name(n).to_python()) for n in wb.sheet_names)

    base = _peak_mb()
    seconds, rows = _timed(read, **READ_REPEATS)
    return {"seconds": seconds, "base_mb": base, "peak_mb": _peak_mb(), "note": f"{rows:,} rows"}


def _split(got) -> tuple[object, list]:
    """(value, findings) from a product call returning either value or (value, findings)."""
    if isinstance(got, tuple) and len(got) == 2 and isinstance(got[1], list):
        return got[0], got[1]
    return got, []


def stage_ours_read(work: Path, args: dict) -> dict:
    """read_workbook(path) -> (sheets, findings); parse_inputs(sheets) -> (inputs, findings)."""
    read_workbook = _product("addin.workbook.reader", "read_workbook")
    parse_inputs = _product("addin.workbook.validate", "parse_inputs")
    path = work / "plant.xlsx"
    splits: list[tuple[float, float, float]] = []  # (total, read, validate) per repeat

    def read():
        t0 = time.perf_counter()
        sheets, findings = _split(read_workbook(path))
        t1 = time.perf_counter()
        inputs, more = _split(parse_inputs(sheets))
        t2 = time.perf_counter()
        splits.append((t2 - t0, t1 - t0, t2 - t1))
        return inputs, findings + more

    base = _peak_mb()
    seconds, (inputs, findings) = _timed(read, **READ_REPEATS)
    peak = _peak_mb()
    _, read_s, parse_s = min(splits)
    note = f"read {read_s:.2f} s + validate {parse_s:.2f} s; "
    note += f"{len(findings):,} findings" + _round_trip(work, inputs)
    if inputs is not None:  # the compute stage runs on exactly what the product would compute on
        with open(work / PARSED, "wb") as f:
            pickle.dump(inputs, f, protocol=pickle.HIGHEST_PROTOCOL)
    return {
        "seconds": seconds,
        "base_mb": base,
        "peak_mb": peak,
        "note": note,
        "read_s": read_s,
        "validate_s": parse_s,
    }


def _round_trip(work: Path, parsed) -> str:
    """Whether the parsed workbook has as many rows per frame as the generated plant."""
    if parsed is None:
        return "; no inputs (errors)"
    original = _load_inputs(work)
    off = [
        f"{name} {len(getattr(parsed, name))} vs {len(getattr(original, name))}"
        for name in ("standard_costs", "bom", "purchases", "completions", "sales", "counts")
        if len(getattr(parsed, name)) != len(getattr(original, name))
    ]
    return "; row counts differ: " + ", ".join(off) if off else "; all rows parsed"


# run_month_end's progress steps, as the compute breakdown line names them
STEP_NAMES = {
    "Rolling up standard costs": "roll-up",
    "Posting purchases and conversion costs": "purchases+conversion",
    "Backflushing completions": "completions (explosion+postings)",
    "Posting sales": "sales",
    "Adjusting to counts": "counts",
    "Closing conversion costs": "close",
    "Building the journal and reports": "journal+variances+inventory+controls",
}
PARSED = "parsed-inputs.pkl"  # parse_inputs' result, saved by the read stage


def stage_ours_compute(work: Path, args: dict) -> dict:
    """run_month_end on the inputs as parse_inputs gave them (item columns categorical), or on
    the generated frames when the read stage did not run. The first run in a fresh process is
    reported beside the best of up to five."""
    run_month_end = _product("addin.costing.engine", "run_month_end")
    parsed = (work / PARSED).exists()
    if parsed:
        with open(work / PARSED, "rb") as f:
            inputs = pickle.load(f)
    else:
        inputs = _load_inputs(work)
    base = _peak_mb()
    runs: list[tuple[float, list[tuple[str, float]]]] = []  # (seconds, steps) per run

    def run():
        marks: list[tuple[str, float]] = []
        t0 = time.perf_counter()
        out = run_month_end(inputs, lambda step, _: marks.append((step, time.perf_counter())))
        end = time.perf_counter()
        marks.append(("", end))
        steps = [(a[0], b[1] - a[1]) for a, b in zip(marks[:-1], marks[1:], strict=True)]
        runs.append((end - t0, [(step, t) for step, t in steps if step != "Computed"]))
        return out

    seconds, result = _timed(run, repeat_under=5.0, budget=10.0)
    best_steps = min(runs)[1]
    return {
        "seconds": seconds,
        "base_mb": base,
        "peak_mb": _peak_mb(),
        "note": f"first run {runs[0][0]:.3f} s; "
        + ("parsed inputs; " if parsed else "generated frames; ")
        + f"{len(result.journal):,} journal lines, {len(result.findings):,} findings",
        "steps": best_steps,
    }


def stage_end_to_end(work: Path, args: dict) -> dict:
    """What a user waits for: ``python -m addin.cli run plant.xlsx --out ...`` in a fresh
    process (interpreter start, imports, read, validate, compute, write), by wall clock."""
    out = work / "plant - results (cli).xlsx"
    cmd = [sys.executable, "-m", "addin.cli", "run", str(work / "plant.xlsx"), "--out", str(out)]
    t0 = time.perf_counter()
    proc = subprocess.run([*cmd, "--quiet"], capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"addin.cli run exited {proc.returncode}: {proc.stderr[-500:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    return {
        "seconds": seconds,
        "base_mb": 0.0,
        "peak_mb": peak,
        "note": f"addin.cli run, exit 0; {out.stat().st_size / 1e6:.1f} MB results file",
    }


def _results_writer() -> tuple[Callable, str]:
    """The product's results writer: write_results(result, path) when it exists, else the
    pieces main has today (tabs.result_tabs + writer.write_tabs, a new workbook)."""
    try:
        return _product("addin.workbook.writer", "write_results"), "write_results"
    except NotBuilt:
        result_tabs = _product("addin.workbook.tabs", "result_tabs")
        write_tabs = _product("addin.workbook.writer", "write_tabs")

        def write(result, path: Path) -> None:
            write_tabs(result_tabs(result), path)

        return write, "result_tabs+write_tabs"


def stage_ours_write(work: Path, args: dict) -> dict:
    write_results, how = _results_writer()
    run_month_end = _product("addin.costing.engine", "run_month_end")
    inputs = _load_inputs(work)
    result = run_month_end(inputs)
    target = work / "results.xlsx"
    if how == "write_results":  # it may add its tabs to the input workbook
        shutil.copyfile(work / "plant.xlsx", target)
    base = _peak_mb()
    t0 = time.perf_counter()
    write_results(result, target)
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "base_mb": base,
        "peak_mb": _peak_mb(),
        "note": f"{how}: {target.stat().st_size / 1e6:.1f} MB file",
    }


def _explosion_inputs(work: Path):
    from benchmarks import peers

    inputs = _load_inputs(work)
    demand = peers.demand_from_completions(inputs.completions)
    return inputs, demand


def _save_result(work: Path, name: str, frame, demand=None) -> str:
    path = work / f"explode-{name}.pkl"
    with open(path, "wb") as f:
        pickle.dump({"result": frame, "demand": demand}, f, protocol=pickle.HIGHEST_PROTOCOL)
    return str(path)


def stage_explode_ours(work: Path, args: dict) -> dict:
    explode_demand = _product("addin.costing.bom", "explode_demand")
    inputs, demand = _explosion_inputs(work)
    on = inputs.settings.period_end
    base = _peak_mb()
    seconds, got = _timed(lambda: explode_demand(inputs.bom, inputs.standard_costs, demand, on=on))
    peak = _peak_mb()
    return {
        "seconds": seconds,
        "base_mb": base,
        "peak_mb": peak,
        "result": _save_result(work, "ours", got),
    }


def _peer_stage(method_name: str):
    def stage(work: Path, args: dict) -> dict:
        from benchmarks import peers

        method = peers.METHODS[method_name]
        inputs, demand = _explosion_inputs(work)
        on = inputs.settings.period_end

        def run(dem=demand):
            return method(peers.effective_bom(inputs.bom, on), inputs.standard_costs, dem)

        base = _peak_mb()
        seconds, got = _timed(run)
        return {
            "seconds": seconds,
            "base_mb": base,
            "peak_mb": _peak_mb(),
            "result": _save_result(work, method_name, got),
        }

    return stage


def stage_explode_recursive(work: Path, args: dict) -> dict:
    """Per-record recursion on all demand rows, or on a random sample sized to fit the budget
    and extrapolated linearly to all rows."""
    from benchmarks import peers

    inputs, demand = _explosion_inputs(work)
    bom = peers.effective_bom(inputs.bom, inputs.settings.period_end)
    sc = inputs.standard_costs
    budget = float(args["budget"])
    total = len(demand)
    # Setup (building the child lists) is paid once; only the per-row walk scales with rows.
    t0 = time.perf_counter()
    peers.explode_recursive(bom, sc, demand.iloc[:0])
    setup = time.perf_counter() - t0
    pilot_n = min(total, 1000)
    pilot = peers.sample_rows(demand, pilot_n, seed=1)
    t0 = time.perf_counter()
    peers.explode_recursive(bom, sc, pilot)
    per_row = max((time.perf_counter() - t0 - setup) / max(pilot_n, 1), 1e-9)
    if setup + per_row * total <= budget:
        n = total
    else:
        n = min(total, max(pilot_n, int((budget - setup) / per_row)))
    sample = peers.sample_rows(demand, n, seed=2)
    base = _peak_mb()
    t0 = time.perf_counter()
    got = peers.explode_recursive(bom, sc, sample)
    measured = time.perf_counter() - t0
    out = {"base_mb": base, "peak_mb": _peak_mb(), "measured": measured, "rows": n, "total": total}
    if n < total:
        out["seconds"] = setup + max(measured - setup, 0.0) * total / n
        out["note"] = (
            f"extrapolated: {measured:.1f} s measured on {n:,} of {total:,} rows"
            f" (incl. {setup:.1f} s setup)"
        )
        out["result"] = _save_result(work, "recursive", got, demand=sample)
    else:
        out["seconds"] = measured
        out["result"] = _save_result(work, "recursive", got)
    return out


STAGES: dict[str, Callable[[Path, dict], dict]] = {
    "generate": stage_generate,
    "write_input": stage_write_input,
    "read_floor": stage_read_floor,
    "ours_read": stage_ours_read,
    "ours_compute": stage_ours_compute,
    "ours_write": stage_ours_write,
    "end_to_end": stage_end_to_end,
    "explode_ours": stage_explode_ours,
    "explode_recursive": stage_explode_recursive,
    "explode_duckdb": _peer_stage("duckdb recursive CTE"),
    "explode_pandas": _peer_stage("pandas level merges"),
    "explode_sparse": _peer_stage("scipy.sparse (floor)"),
}


def worker(stage: str, work: Path, args: dict) -> None:
    try:
        out = STAGES[stage](work, args)
    except NotBuilt as e:
        out = {"status": "not built", "note": str(e)}
    except Exception as e:  # reported in the table, never hidden
        traceback.print_exc()
        out = {"status": "error", "note": f"{type(e).__name__}: {e}"}
    print("BENCH-RESULT " + json.dumps(out))


# --- the driver --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    stage: str
    label: str
    group: str  # rows in a group are compared with the group's "ours" and floor rows


ROWS: tuple[Row, ...] = (
    Row("generate", "input: generate plant (numpy)", "input"),
    Row("write_input", "input: write .xlsx (xlsxwriter)", "input"),
    Row("read_floor", "read: python-calamine, all sheets (floor)", "read"),
    Row("ours_read", "read: ours read_workbook+parse_inputs", "read"),
    Row("ours_compute", "compute: ours run_month_end", "compute"),
    Row("ours_write", "write: ours write_results", "write"),
    Row("end_to_end", "end to end: backflush run (CLI)", "end"),
    Row("explode_ours", "explode: ours bom.explode_demand", "explode"),
    Row("explode_recursive", "explode: per-record recursion", "explode"),
    Row("explode_duckdb", "explode: DuckDB recursive CTE", "explode"),
    Row("explode_pandas", "explode: pandas level merges", "explode"),
    Row("explode_sparse", "explode: scipy.sparse (floor)", "explode"),
)
OURS = {"read": "ours_read", "explode": "explode_ours"}
FLOOR = {"read": "read_floor", "explode": "explode_sparse"}


def run_stage(stage: str, work: Path, args: dict, timeout: float) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.run", "--worker", stage, "--workdir", str(work)]
    cmd += ["--worker-args", json.dumps(args)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"status": "error", "note": f"timed out after {timeout:.0f} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("BENCH-RESULT "):
            out = json.loads(line[len("BENCH-RESULT ") :])
            if out.get("status") == "error":
                sys.stderr.write(proc.stderr[-2000:])
            return out
    sys.stderr.write(proc.stderr[-2000:])
    return {"status": "error", "note": f"worker exited {proc.returncode} without a result"}


def verify(work: Path, results: dict[str, dict]) -> tuple[list[str], list[str]]:
    """(problems, what was checked). Every explosion result is compared with the sparse floor
    (a sampled per-record run with the floor on the same sample)."""
    from benchmarks import peers

    problems: list[str] = []
    checked: list[str] = []
    floor_out = results.get("explode_sparse", {})
    if "result" not in floor_out:
        return ["the scipy.sparse floor did not run: nothing to verify against"], checked
    with open(floor_out["result"], "rb") as f:
        floor = pickle.load(f)["result"]
    inputs = None
    for row in ROWS:
        out = results.get(row.stage, {})
        if row.group != "explode" or row.stage == "explode_sparse" or "result" not in out:
            continue
        with open(out["result"], "rb") as f:
            saved = pickle.load(f)
        reference, scope = floor, "all demand rows"
        if saved["demand"] is not None:  # a sample: compare with the floor on the same sample
            if inputs is None:
                inputs = _load_inputs(work)
            bom = peers.effective_bom(inputs.bom, inputs.settings.period_end)
            reference = peers.explode_sparse(bom, inputs.standard_costs, saved["demand"])
            scope = f"the same {len(saved['demand']):,}-row sample"
        bad = peers.disagreements(saved["result"], reference, rtol=RTOL)
        if bad:
            problems.append(f"{row.label} disagrees with the floor on {scope}: " + "; ".join(bad))
        else:
            worst = peers.max_relative_difference(saved["result"], reference)
            checked.append(
                f"{row.label.split(': ', 1)[1]}: {len(saved['result']):,} components on {scope},"
                f" max rel diff {worst:.1e}"
            )
    return problems, checked


def _fmt_seconds(s: float) -> str:
    return f"{s:.3f}" if s < 10 else f"{s:.1f}"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b <= 0:
        return ""
    r = a / b
    return f"{r:.2f}x" if r < 10 else f"{r:,.0f}x"


READ_TARGET = 1.5  # the target: ours read + validate within 1.5x of raw calamine


def _read_summary(results: dict[str, dict]) -> list[str]:
    """The read row restated against raw calamine on the same file."""
    floor = results.get("read_floor", {}).get("seconds")
    ours = results.get("ours_read", {})
    if not floor or "seconds" not in ours:
        return []
    total = ours["seconds"]
    line = f"ours read vs calamine (same file): {_ratio(total, floor)} vs calamine"
    if "read_s" in ours:
        line += (
            f" (read_workbook {ours['read_s']:.2f} s = {_ratio(ours['read_s'], floor)} vs calamine"
            f", + parse_inputs {ours['validate_s']:.2f} s)"
        )
    verdict = "within" if total <= READ_TARGET * floor else "NOT within"
    return [line + f"; {verdict} the {READ_TARGET}x target"]


def table(size: str, results: dict[str, dict]) -> str:
    plant = results.get("generate", {}).get("plant", {})
    head = (
        f"Plant {size}: {plant.get('items', 0):,} items, {plant.get('bom_lines', 0):,} BOM lines,"
        f" {plant.get('completions', 0):,} completions, {plant.get('purchases', 0):,} purchases,"
        f" {plant.get('sales', 0):,} sales"
    )
    secs = {k: v.get("seconds") for k, v in results.items()}
    lines = [head]
    hdr = (
        f"{'stage':<44}{'seconds':>10}{'vs ours':>10}{'vs floor':>10}{'peak MB':>9}{'+MB':>7}  note"
    )
    lines += [hdr, "-" * len(hdr)]
    for row in ROWS:
        out = results.get(row.stage)
        if out is None:
            continue
        if out.get("status") == "not built":
            lines.append(f"{row.label:<44}{NOT_BUILT:>10}")
            continue
        if out.get("status") == "skipped":
            lines.append(f"{row.label:<44}{'skipped':>10}  {out.get('note', '')}")
            continue
        if out.get("status") == "error":
            lines.append(f"{row.label:<44}{'error':>10}  {out.get('note', '')}")
            continue
        s = out["seconds"]
        ours = OURS.get(row.group)
        floor = FLOOR.get(row.group)
        vs_ours = _ratio(s, secs.get(ours)) if ours and ours != row.stage else ""
        vs_floor = _ratio(s, secs.get(floor)) if floor and floor != row.stage else ""
        approx = "~" if "measured" in out and out.get("rows") != out.get("total") else ""
        note = out.get("note", "")
        if row.stage == "ours_read" and vs_floor:
            note = f"{vs_floor} vs calamine; {note}"
        lines.append(
            f"{row.label:<44}{approx + _fmt_seconds(s):>10}{vs_ours:>10}{vs_floor:>10}"
            f"{out['peak_mb']:>9.0f}{out['peak_mb'] - out['base_mb']:>7.0f}  {note}"
        )
    lines += _read_summary(results)
    steps = results.get("ours_compute", {}).get("steps")
    if steps:
        lines.append(
            "compute steps (best run): "
            + ", ".join(f"{STEP_NAMES.get(step, step)} {t:.3f}" for step, t in steps)
        )
    o = secs.get("explode_ours")
    if o:
        parts = []
        for stage, what in (
            ("explode_recursive", "per-record recursion"),
            ("explode_duckdb", "DuckDB"),
            ("explode_pandas", "pandas merges"),
        ):
            if secs.get(stage):
                parts.append(f"{_ratio(secs[stage], o)} faster than {what}")
        if secs.get("explode_sparse"):
            parts.append(f"{_ratio(o, secs['explode_sparse'])} the sparse floor's time")
        lines.append("ours explode_demand: " + ", ".join(parts))
    return "\n".join(lines)


def _read_in_turns(size: str, root: Path, args: dict, opts: argparse.Namespace) -> dict:
    """The two read rows are compared with each other, and on this shared machine a file's
    read time moves +-25 % from one minute to the next: so they run in turns (floor, ours,
    floor, ours, ...) ``--read-rounds`` times, each in a fresh process, and each row keeps its
    best round."""
    best: dict[str, dict] = {}
    for k in range(opts.read_rounds):
        for stage, label in (("read_floor", "read: calamine"), ("ours_read", "read: ours")):
            print(f"[{size}] {label} (round {k + 1} of {opts.read_rounds}) ...", file=sys.stderr)
            out = run_stage(stage, root, args, timeout=opts.timeout)
            prev = best.get(stage)
            if prev is None or (
                "seconds" in out and ("seconds" not in prev or out["seconds"] < prev["seconds"])
            ):
                best[stage] = out
    for out in best.values():
        if "seconds" in out and opts.read_rounds > 1:
            out["note"] = f"best of {opts.read_rounds} rounds in turns; " + out.get("note", "")
    return best


def bench_size(size: str, opts: argparse.Namespace) -> int:
    root = Path(tempfile.mkdtemp(prefix=f"bench-{size}-", dir=opts.tmp))
    args = {"size": size, "seed": opts.seed, "budget": opts.recursive_budget}
    results: dict[str, dict] = {}
    try:
        for row in ROWS:
            if row.stage == "explode_recursive" and opts.skip_slow:
                results[row.stage] = {"status": "skipped", "note": "--skip-slow"}
                continue
            if row.stage == "ours_read":
                continue  # run with the floor, in turns (below)
            if row.stage == "read_floor":
                results.update(_read_in_turns(size, root, args, opts))
                continue
            print(f"[{size}] {row.label} ...", file=sys.stderr, flush=True)
            results[row.stage] = run_stage(row.stage, root, args, timeout=opts.timeout)
            if row.stage in ("generate", "write_input") and "seconds" not in results[row.stage]:
                print(f"[{size}] cannot go on: {results[row.stage]}", file=sys.stderr)
                return 1
        problems, checked = verify(root, results)
        if problems:
            print(f"Plant {size}: explosion results DISAGREE (rtol {RTOL:g}); no times printed:")
            for p in problems:
                print("  " + p)
            return 1
        print(table(size, results))
        print(f"verified (rtol {RTOL:g}, against the scipy.sparse floor):")
        for c in checked:
            print("  " + c)
        print(flush=True)
        return 0
    finally:
        if opts.keep:
            print(f"[{size}] kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="S,M,L", help="comma-separated plant sizes (S, M, L)")
    p.add_argument("--skip-slow", action="store_true", help="skip the per-record recursion")
    p.add_argument(
        "--recursive-budget",
        type=float,
        default=60.0,
        help="seconds for the per-record recursion; beyond it, run a sample and extrapolate",
    )
    p.add_argument(
        "--read-rounds",
        type=int,
        default=3,
        help="rounds of the two read rows, run in turns (each row keeps its best)",
    )
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--timeout", type=float, default=900.0, help="seconds allowed per stage")
    p.add_argument("--tmp", default=None, help="directory for the temporary workbooks")
    p.add_argument("--keep", action="store_true", help="keep the temporary workbooks")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--workdir", help=argparse.SUPPRESS)
    p.add_argument("--worker-args", default="{}", help=argparse.SUPPRESS)
    opts = p.parse_args(argv)
    if opts.worker:
        worker(opts.worker, Path(opts.workdir), json.loads(opts.worker_args))
        return 0
    np.seterr(all="ignore")
    status = 0
    for size in [s.strip().upper() for s in opts.sizes.split(",") if s.strip()]:
        status |= bench_size(size, opts)
    return status


if __name__ == "__main__":
    sys.exit(main())
