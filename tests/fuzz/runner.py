"""Run ``python -m addin.cli run`` in a subprocess with a timeout and a memory limit.

An outcome is one class name; "ok ..." classes are acceptable, every other class is a failure
the fuzzer reports with its seed.
"""

from __future__ import annotations

import hashlib
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MEMORY_LIMIT = 3 * 2**30  # bytes of address space: a reader trying to allocate 100s of GB dies
INPUT_SHEETS = (
    "Settings", "Standard Costs", "BOM", "Purchases", "Completions", "Sales",
    "Conversion Costs", "Counts", "Opening Balances", "Accounts",
    "Notes",  # the one sheet outside the contract the damage generator writes
)  # fmt: skip
_LOCATED = re.compile(
    r"^error: ('[^']+'|[^!:]+)!\$?[A-Z]{1,3}\$?\d*(:\$?[A-Z]{0,3}\$?\d*)?[:\s]"
    r"|^error: ('[^']+'|[^!:]+)!\d+[:\s]"  # a whole row
)


@dataclass
class Outcome:
    """How one CLI run ended."""

    exit: str  # "0", "1", "2", "3", "signal SIGABRT", "timeout"
    stderr: str = ""
    stdout: str = ""
    problems: list[str] = field(default_factory=list)  # what is wrong with this exit


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _exec(argv: list[str], timeout: float) -> tuple[int | None, str, str]:
    """``python -m addin.cli ARGV`` in a fresh interpreter; None as the code on a timeout."""
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "PYTHONIOENCODING": "utf-8",
    }
    cmd = [sys.executable, "-m", "addin.cli", *argv]
    try:
        p = subprocess.run(
            cmd, cwd=ROOT, env=env, capture_output=True, timeout=timeout, preexec_fn=_limit
        )
    except subprocess.TimeoutExpired as e:
        return None, "", (e.stderr or b"").decode("utf-8", "replace")
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def _fork(argv: list[str], timeout: float) -> tuple[int | None, str, str]:
    """``addin.cli.main(ARGV)`` in a forked child of this (pre-imported) process: the same
    code path without the interpreter start-up; aborts and hangs stay in the child. Only call
    it from a single-threaded process (the long mode's worker processes)."""
    from addin import cli

    with tempfile.TemporaryDirectory(prefix="fuzzio-") as tmp:
        paths = [Path(tmp) / "stdout", Path(tmp) / "stderr"]
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 70
            try:
                _limit()
                for fd, path in zip((1, 2), paths, strict=True):
                    os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
                sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
                sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
                code = cli.main(argv)
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 2
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        deadline = time.monotonic() + timeout
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return None, "", paths[1].read_text("utf-8", "replace")
            time.sleep(0.01)
        code = os.waitstatus_to_exitcode(status)
        out, err = (p.read_text("utf-8", "replace") for p in paths)
        return code, out, err


def run_cli(input_path: Path, out: Path, timeout: float = 90.0, fork: bool = False) -> Outcome:
    """Run the month-end on ``input_path`` writing ``out``; check the generic promises."""
    before = sha256(input_path) if input_path.is_file() else ""
    argv = ["run", str(input_path), "--out", str(out), "--quiet"]
    code, outp, err = (_fork if fork else _exec)(argv, timeout)
    if code is None:
        return Outcome("timeout", err, problems=[f"no answer within {timeout:.0f}s"])
    if code < 0:
        name = signal.Signals(-code).name
        return Outcome(f"signal {name}", err, outp, [f"killed by {name}"])
    o = Outcome(str(code), err, outp)
    if before and sha256(input_path) != before:
        o.problems.append("the input file was changed")
    temps = [t.name for t in out.parent.glob(f".{out.stem}*")]
    if temps:
        o.problems.append(f"temporary files left: {temps}")
    if "Traceback" in err:
        o.problems.append("a traceback on stderr")
    if code == 1:
        if out.exists():
            o.problems.append("exit 1 but the results file was written")
        o.problems += unlocated(err, input_path.name)
    elif code == 0 and not out.exists():
        o.problems.append("exit 0 but no results file")
    return o


def unlocated(stderr: str, file_name: str) -> list[str]:
    """Error lines that neither point at Sheet!Cell / a sheet nor name the file."""
    lines = [ln for ln in stderr.splitlines() if ln.startswith("error:")]
    if not lines:
        return ["exit 1 without an error line"]
    bad = []
    for ln in lines:
        if _LOCATED.match(ln) or file_name in ln:
            continue
        if any(ln[7:].strip().casefold().startswith(s.casefold()) for s in INPUT_SHEETS):
            continue
        bad.append(f"unlocated message: {ln[:160]}")
    return bad[:3]
