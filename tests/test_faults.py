"""Faults: a kill during a large write, a results file open elsewhere, an unreadable input,
a failing disk, and running twice. Nothing is lost: the output is the old file or the new one.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import openpyxl
import pytest
from result_books import horngren_book, read_table

from addin.cli import main
from addin.workbook import writer
from addin.workbook.contract import RESULT_TABS

ROOT = Path(__file__).resolve().parents[1]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def journal_balances(path: Path) -> int:
    """The Journal tab's lines (opens the workbook, which must be complete); every entry nets
    to zero to the cent."""
    by_entry: dict[object, int] = defaultdict(int)
    rows = read_table(path, "Journal")
    for r in rows:
        by_entry[r["Entry"]] += round((r["Debit"] or 0) * 100) - round((r["Credit"] or 0) * 100)
    assert by_entry and all(v == 0 for v in by_entry.values())
    return len(rows)


# --- (a) SIGKILL during a large write ----------------------------------------------------------


@pytest.fixture(scope="module")
def big_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The benchmark's mid-size plant (3,000 items, 100,000 BOM lines): writing its results
    takes about a second."""
    from benchmarks.plant import generate_plant, write_workbook

    folder = tmp_path_factory.mktemp("plant")
    return write_workbook(generate_plant("M"), folder / "plant.xlsx")


def _start(book: Path, out: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "addin.cli", "run", str(book), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def _time_to_writing(proc: subprocess.Popen[str]) -> float:
    """Seconds from now until the run says it writes its result tabs (reads its progress)."""
    t0 = time.perf_counter()
    assert proc.stderr is not None
    for line in proc.stderr:
        if "Writing result tabs" in line:
            return time.perf_counter() - t0
    raise AssertionError("the run never reached the writing step")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_kill_at_any_moment_leaves_the_old_or_the_new_results(big_book: Path, tmp_path: Path):
    out = tmp_path / "OUT.xlsx"
    # The old results: a previous month-end (the small worked example) to OUT.xlsx.
    assert main(["run", str(horngren_book(tmp_path / "k.xlsx", "completion")), "--out",
                 str(out), "--quiet"]) == 0  # fmt: skip
    old = digest(out)

    # A normal run of the big plant, measured: total time and when writing starts.
    measured = tmp_path / "measured" / "OUT.xlsx"
    t0 = time.perf_counter()
    proc = _start(big_book, measured)
    to_writing = _time_to_writing(proc)
    _, err = proc.communicate(timeout=120)
    total = time.perf_counter() - t0
    assert proc.returncode == 0, err
    new_lines = journal_balances(measured)
    assert total - to_writing > 0.3, "the write must take long enough to be interrupted"

    # Kill at 10%, 50% and 90% of a normal run's time, and once half-way through the write
    # (timed from the run's own "Writing result tabs" line).
    points: list[tuple[str, float]] = [("run", 0.1), ("run", 0.5), ("run", 0.9), ("write", 0.5)]
    outcomes = []
    for phase, fraction in points:
        proc = _start(big_book, out)
        if phase == "run":
            time.sleep(fraction * total)
        else:
            _time_to_writing(proc)  # returns when the run starts writing
            time.sleep(fraction * (total - to_writing))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        assert proc.returncode in (-signal.SIGKILL, 0)
        if digest(out) == old:
            outcomes.append("old")
        else:  # replaced: it must be the complete new workbook
            assert journal_balances(out) == new_lines
            assert openpyxl.load_workbook(out, read_only=True).sheetnames == list(RESULT_TABS)
            outcomes.append("new")
            old = digest(out)
        # Whatever a kill leaves besides OUT.xlsx is a hidden temporary file, never results.
        leftovers = {p.name for p in tmp_path.iterdir()} - {"OUT.xlsx", "k.xlsx", "measured"}
        assert all(n.startswith(".OUT.") and n.endswith(".tmp.xlsx") for n in leftovers)
    print("kill points and outcomes:", list(zip(points, outcomes, strict=True)))
    assert outcomes[0] == "old"  # 10% in: still reading, the old results untouched

    # The next run removes the temporary files that the kills left, and succeeds.
    assert main(["run", str(tmp_path / "k.xlsx"), "--out", str(out), "--quiet"]) == 0
    assert not list(tmp_path.glob(".OUT.*.tmp.xlsx"))
    journal_balances(out)


def test_next_run_removes_stale_temporary_files_only(tmp_path: Path, capsys) -> None:
    out = tmp_path / "r.xlsx"
    stale = tmp_path / ".r.abc123.tmp.xlsx"
    stale.write_bytes(b"PK\x03\x04half a workbook")
    os.utime(stale, (time.time() - 60, time.time() - 60))
    other = tmp_path / ".other.abc123.tmp.xlsx"  # another output's temporary file
    other.write_bytes(b"x")
    os.utime(other, (time.time() - 60, time.time() - 60))
    book = horngren_book(tmp_path / "k.xlsx", "completion")
    assert main(["run", str(book), "--out", str(out), "--quiet"]) == 0
    assert not stale.exists() and other.exists()
    assert ".r.abc123.tmp.xlsx, left by an interrupted earlier run" in capsys.readouterr().err


def test_fresh_temporary_file_of_a_concurrent_run_is_kept(tmp_path: Path) -> None:
    fresh = tmp_path / ".r.xyz.tmp.xlsx"
    fresh.write_bytes(b"being written")
    assert writer.remove_stale_temps(tmp_path / "r.xlsx", older_than=time.time() - 5) == []
    assert fresh.exists()


# --- (b) the results file is open in Excel or LibreOffice ---------------------------------------


@pytest.mark.parametrize(
    ("out_name", "lock_name", "program"),
    [
        ("OUT.xlsx", "~$OUT.xlsx", "Excel"),
        ("october results.xlsx", "~$tober results.xlsx", "Excel"),  # long names: 2 chars replaced
        ("OUT.xlsx", ".~lock.OUT.xlsx#", "LibreOffice"),
    ],
    ids=["excel-owner-file", "excel-owner-file-long-name", "libreoffice-lock"],
)
def test_open_results_file_is_refused_before_any_work(
    tmp_path: Path, capsys, monkeypatch, out_name: str, lock_name: str, program: str
) -> None:
    book = horngren_book(tmp_path / "k.xlsx", "completion")
    out = tmp_path / out_name
    out.write_bytes(b"the old results")
    (tmp_path / lock_name).write_bytes(b"owner")
    computed = []
    monkeypatch.setattr("addin.app.month_end", lambda *a, **k: computed.append(1))
    assert main(["run", str(book), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert (
        f"{out_name} is open in {program} (lock file {lock_name}); close it and run again, "
        "or use --out" in err
    )
    assert "Traceback" not in err and not computed
    assert out.read_bytes() == b"the old results"
    assert not list(tmp_path.glob("*.tmp.xlsx")) and not list(tmp_path.glob(".*.tmp.xlsx"))


def test_replace_refused_by_the_os_gives_a_clear_message(tmp_path: Path, capsys, monkeypatch):
    """Windows refuses to replace a file Excel holds open: os.replace raises PermissionError."""
    book = horngren_book(tmp_path / "k.xlsx", "completion")
    out = tmp_path / "r.xlsx"
    out.write_bytes(b"the old results")

    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(writer.os, "replace", refuse)
    assert main(["run", str(book), "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "error: r.xlsx is open or locked by another program (Excel?). Close it" in err
    assert "--out" in err and "Traceback" not in err
    assert out.read_bytes() == b"the old results"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.xlsx", "r.xlsx"]  # tmp removed


def test_disk_full_while_writing_gives_a_clear_message(tmp_path: Path, capsys, monkeypatch):
    book = horngren_book(tmp_path / "k.xlsx", "completion")
    out = tmp_path / "r.xlsx"

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer.os, "fsync", full)
    assert main(["run", str(book), "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "error: cannot write r.xlsx (No space left on device); free some disk space" in err
    assert "Traceback" not in err and "internal error" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.xlsx"]


def test_output_folder_not_writable_gives_a_clear_message(tmp_path: Path, capsys, monkeypatch):
    book = horngren_book(tmp_path / "k.xlsx", "completion")

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(writer.tempfile, "mkstemp", denied)
    assert main(["run", str(book), "--out", str(tmp_path / "r.xlsx"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "cannot create a file in" in err and "Permission denied" in err and "--out" in err
    assert "Traceback" not in err


def test_results_file_is_readable_like_any_new_file(tmp_path: Path) -> None:
    """mkstemp makes 0600 files; the results get the usual umask mode (or the old file's)."""
    book = horngren_book(tmp_path / "k.xlsx", "completion")
    out = tmp_path / "r.xlsx"
    assert main(["run", str(book), "--out", str(out), "--quiet"]) == 0
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask
    out.chmod(0o640)
    assert main(["run", str(book), "--out", str(out), "--quiet"]) == 0
    assert out.stat().st_mode & 0o777 == 0o640


# --- (c) the input cannot be read -------------------------------------------------------------


def test_unreadable_input_gives_a_clear_message(tmp_path: Path, capsys, monkeypatch) -> None:
    book = horngren_book(tmp_path / "k.xlsx", "completion")
    real_open = Path.open

    def locked(self, *a, **k):
        if self == book:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *a, **k)

    monkeypatch.setattr(Path, "open", locked)
    out = tmp_path / "r.xlsx"
    assert main(["run", str(book), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "cannot open k.xlsx: Permission denied; check that you may read it" in err
    assert "nothing was written" in err and "Traceback" not in err
    assert not out.exists()


# --- (d) running twice --------------------------------------------------------------------------


RUN_STAMP = re.compile(r"run \d{4}-\d\d-\d\d \d\d:\d\d")


def _values(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every result tab's cell values, the run's time stamp (subtitles, "Run at") blanked."""
    wb = openpyxl.load_workbook(path, data_only=True)
    out = {}
    for ws in wb.worksheets:
        rows = []
        for row in ws.iter_rows(values_only=True):
            if row and row[0] == "Run at":
                row = (row[0], "<time>", *row[2:])
            rows.append(tuple(RUN_STAMP.sub("run <time>", v) if isinstance(v, str) else v
                              for v in row))  # fmt: skip
        out[ws.title] = rows
    return out


def test_running_twice_gives_the_same_values_in_every_tab(tmp_path: Path) -> None:
    book = horngren_book(tmp_path / "k.xlsx", "purchase+completion")
    out = tmp_path / "r.xlsx"
    assert main(["run", str(book), "--out", str(out), "--quiet"]) == 0
    first = _values(out)
    assert main(["run", str(book), "--out", str(out), "--quiet"]) == 0
    second = _values(out)
    assert list(second) == list(RESULT_TABS)  # no duplicated tabs
    assert second == first  # every value of every tab, Run Log included (but its time)
    assert sum(len(rows) for rows in first.values()) > 100
    assert any("run <time>" in str(v) for v in first["Summary"][1])
