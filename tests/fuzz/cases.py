"""Seed -> case -> verdict. Every case is reproducible from its seed alone.

seed % 4 picks the generator: 0 and 1 a valid-but-unusual month (tables, shuffled columns,
unicode codes, ...), 2 a month damaged at the zip/XML level, 3 a month with invalid values.
"""

from __future__ import annotations

import random
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.fuzz import damage, months, runner
from tests.fuzz.verify import Facts, verify_results

GENERATORS = ("month", "month", "damaged", "value")
# damage after which the sheets still hold every row the generator wrote, with its values
_ROWS_KEPT = {
    "table smaller",
    "huge row number",
    "shared strings count",
    "dimension",
    "content types",
    "stray far cell",
}


@dataclass
class Case:
    seed: int
    generator: str
    what: str  # what was done to the month
    must_refuse: bool  # exit 0 is wrong (a bad cell, an invalid value)
    may_refuse: bool  # exit 1 is fine (damage, huge magnitudes)
    facts: Facts | None  # None: nothing known about the values (bytes were changed)
    notes: list[str] = field(default_factory=list)


def build_case(seed: int, path: Path) -> Case:
    """Write the workbook of case ``seed`` at ``path``."""
    rng = random.Random(seed)
    generator = GENERATORS[seed % len(GENERATORS)]
    month = months.generate_month(rng)
    if generator == "month":
        months.write_month(rng, month, path)
        return Case(seed, generator, "valid month" + (" (huge)" if month.huge else ""),
                    False, month.huge, facts_of(month), month.notes)  # fmt: skip
    if generator == "value":
        d = damage.value_damage(rng, month)
        months.write_month(rng, month, path)
        return Case(seed, generator, f"{d.name}: {d.detail}", d.must_refuse, True, None)
    d = damage.damage_file(rng, month, path)
    facts = facts_of(month) if d.name in _ROWS_KEPT else None
    return Case(seed, generator, f"{d.name}: {d.detail}", d.must_refuse, True, facts)


def facts_of(month: months.Month) -> Facts:
    def data(sheet: str) -> list[list[object]]:
        return [r for r in month.sheets.get(sheet, [[]])[1:] if any(v not in (None, "") for v in r)]

    rows: dict[str, int] = {
        s: len(data(s))
        for s in (
            "Standard Costs",
            "BOM",
            "Purchases",
            "Completions",
            "Sales",
            "Conversion Costs",
            "Counts",
            "Opening Balances",
        )  # fmt: skip
        if s in month.sheets
    }
    purchases = month.sheets["Purchases"]
    q, p = purchases[0].index("Quantity"), purchases[0].index("Unit Price")
    conv = month.sheets.get("Conversion Costs")
    amounts = [float(r[conv[0].index("Amount")]) for r in conv[1:]] if conv else []  # type: ignore[arg-type]
    return Facts(
        accounts=month.accounts,
        trigger=month.trigger,
        rows=rows,
        purchases=[(float(r[q]), float(r[p])) for r in data("Purchases")],  # type: ignore[arg-type]
        conversion=amounts,
    )


# messages whose class is their opening words (the rest names items, which vary)
_LABELS = (
    "a phantom is stocked on Inventory",
    "relieved from one stock account while carried in the other",
    "Inventory roll-forward broken",
)


@dataclass
class Verdict:
    seed: int
    generator: str
    what: str
    exit: str
    cls: str  # "ok ..." or the (first) failure class
    detail: str = ""
    also: list[str] = field(default_factory=list)  # further failure classes of the same run

    @property
    def ok(self) -> bool:
        return self.cls.startswith("ok")


def _shape(text: str) -> str:
    """A failure class from a message: figures, quotes and cells replaced, kept short."""
    for label in _LABELS:
        if text.startswith(label):
            return label
    text = re.sub(r"\(e\.g\. [^)]*\)", "(e.g. _)", text)
    text = re.sub(r'"[^"]*"|\'[^\']*\'', "_", text)
    text = re.sub(r"\b[A-Z]{1,3}\d+\b", "CELL", text)
    text = re.sub(r"-?\d[\d,.e+-]*", "N", text)
    return text[:70]


def _beyond_supported(err_lines: list[str]) -> bool:
    """A valid month refused only for amounts beyond the documented supported magnitudes
    (README: 10^11 per item and day, 10^13 for the month), each refusal located."""
    errors = [ln for ln in err_lines if ln.startswith("error:")]
    return bool(errors) and all(
        "beyond the supported" in ln and not runner.unlocated(ln + "\n", "\0") for ln in errors
    )


def judge(case: Case, out: Path, outcome: runner.Outcome) -> Verdict:
    v = Verdict(case.seed, case.generator, case.what, outcome.exit, "")
    err_lines = [ln for ln in outcome.stderr.splitlines() if ln.strip()]
    if outcome.exit in ("3", "2") or outcome.exit.startswith(("signal", "timeout")):
        v.cls = f"FAIL exit {outcome.exit}"
        v.detail = (err_lines[-2:] or [""])[0][:300] if outcome.exit != "timeout" else ""
        if outcome.exit == "3":
            v.cls += ": " + _shape(next((ln for ln in err_lines if "internal error" in ln), ""))
        return v
    if outcome.problems:
        v.cls = f"FAIL exit {outcome.exit}: {_shape(outcome.problems[0])}"
        v.detail = "; ".join(outcome.problems)[:400]
        return v
    if outcome.exit == "1":
        if case.may_refuse or _beyond_supported(err_lines):
            v.cls = "ok refused"
        else:
            v.cls = "FAIL valid month refused: " + _shape(err_lines[0] if err_lines else "")
            v.detail = " | ".join(err_lines[:3])[:400]
        return v
    # exit 0
    if case.must_refuse:
        v.cls = f"FAIL accepted: {case.what.split(':')[0]}"
        v.detail = case.what
        return v
    facts = case.facts or Facts(accounts=dict(months.DEFAULT_ACCOUNTS), trigger="")
    try:
        problems = verify_results(out, facts)
    except Exception as e:  # noqa: BLE001 - a results file the verifier cannot read is a finding
        problems = [f"results unreadable by openpyxl: {type(e).__name__}: {e}"]
    if problems:
        classes = list(dict.fromkeys("FAIL re-verify: " + _shape(p) for p in problems))
        v.cls, v.also = classes[0], classes[1:]
        v.detail = "; ".join(problems)[:600]
    else:
        v.cls = "ok done and re-verified"
    return v


def run_case(
    seed: int, folder: Path | None = None, timeout: float = 90.0, fork: bool = False
) -> Verdict:
    """Build, run and judge case ``seed``; files go to ``folder`` (a temporary one if None).
    ``fork``: run the CLI in a forked child instead of a new interpreter (runner._fork)."""
    with tempfile.TemporaryDirectory(prefix=f"fuzz{seed}-") as tmp:
        where = folder or Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        path = where / f"case-{seed}.xlsx"
        case = build_case(seed, path)
        out = where / f"case-{seed} - results.xlsx"
        outcome = runner.run_cli(path, out, timeout, fork)
        return judge(case, out, outcome)
