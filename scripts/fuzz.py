"""Fuzz the month-end through the command line: valid-but-unusual and damaged workbooks.

    python scripts/fuzz.py --cases 1000 --jobs 2 --out fuzz-out      # long mode
    python scripts/fuzz.py --replay 1234 --out fuzz-out             # one case, files kept

Each case is built from its seed alone (tests/fuzz/cases.py). Prints a tally per outcome
class and the seeds of every failure; failing workbooks (and their results, if any) are
saved under OUT/failures/, and OUT/verdicts.jsonl lists every case. Exit 1 if any case failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # forked children must not inherit BLAS threads
os.environ.setdefault("OMP_NUM_THREADS", "1")

from tests.fuzz.cases import Verdict, build_case, run_case  # noqa: E402


def _warm() -> None:
    """Each worker imports the CLI once; every case then runs in a forked child of it."""
    import warnings

    warnings.simplefilter("ignore")
    import addin.cli  # noqa: F401


def _one(seed: int, out: Path, timeout: float, fork: bool) -> Verdict:
    with tempfile.TemporaryDirectory(prefix=f"fuzz{seed}-") as tmp:
        v = run_case(seed, Path(tmp), timeout, fork)
        if not v.ok:
            keep = out / "failures"
            keep.mkdir(parents=True, exist_ok=True)
            for f in Path(tmp).glob("case-*"):
                shutil.copy2(f, keep / f.name)
        return v


def replay(seed: int, out: Path, timeout: float) -> int:
    out.mkdir(parents=True, exist_ok=True)
    case = build_case(seed, out / f"case-{seed}.xlsx")
    print(f"seed {seed}: {case.generator}: {case.what}")
    print(f"workbook: {out / f'case-{seed}.xlsx'}")
    v = run_case(seed, out, timeout, fork=False)
    print(f"exit {v.exit}: {v.cls}")
    for c in v.also:
        print(f"  also: {c}")
    if v.detail:
        print(f"  {v.detail}")
    return 0 if v.ok else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--cases", type=int, default=200)
    p.add_argument("--start", type=int, default=0, help="first seed")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--out", type=Path, default=Path("fuzz-out"))
    p.add_argument("--timeout", type=float, default=120.0, help="seconds before a run is a hang")
    p.add_argument("--replay", type=int, help="build and run one seed, keep its files in --out")
    p.add_argument(
        "--exec",
        action="store_true",
        help="a new interpreter per case (python -m addin.cli) instead of a forked child of a "
        "pre-imported worker (same code path, ~1-2 s faster per case)",
    )
    args = p.parse_args(argv)
    if args.replay is not None:
        return replay(args.replay, args.out, args.timeout)
    args.out.mkdir(parents=True, exist_ok=True)
    tally: Counter[str] = Counter()
    seeds: dict[str, list[int]] = defaultdict(list)
    first: dict[str, Verdict] = {}
    start = time.perf_counter()
    log = (args.out / "verdicts.jsonl").open("a", encoding="utf-8")
    seed_range = range(args.start, args.start + args.cases)
    with ProcessPoolExecutor(args.jobs, initializer=_warm) as pool:
        futures = [pool.submit(_one, s, args.out, args.timeout, not args.exec) for s in seed_range]
        for n, fut in enumerate(as_completed(futures), 1):
            v = fut.result()
            log.write(json.dumps(asdict(v), ensure_ascii=False) + "\n")
            log.flush()
            for cls in [v.cls, *v.also]:
                tally[f"{v.generator:8} {cls}"] += 1
                seeds[cls].append(v.seed)
                first.setdefault(cls, v)
            if n % 50 == 0:
                print(f"... {n} cases, {time.perf_counter() - start:.0f}s", file=sys.stderr)
    log.close()
    print(f"{args.cases} cases (seeds {args.start}..{args.start + args.cases - 1}) "
          f"in {time.perf_counter() - start:.0f}s")  # fmt: skip
    for key, n in sorted(
        tally.items(), key=lambda kv: (not kv[0].split(None, 1)[1].startswith("ok"), kv[0])
    ):
        print(f"{n:6}  {key}")
    failures = {c: s for c, s in seeds.items() if not c.startswith("ok")}
    if failures:
        print("\nfailures (class: smallest seed, all seeds):")
        for cls, ss in sorted(failures.items()):
            v = first[cls]
            print(
                f"- {cls}\n    replay {min(ss)}; "
                f"seeds {sorted(ss)[:20]}{' ...' if len(ss) > 20 else ''}"
            )
            print(f"    e.g. seed {v.seed} ({v.what[:100]}): exit {v.exit}; {v.detail[:300]}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
