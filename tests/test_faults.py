"""Faults: a kill during a large write, a results file open elsewhere, an unreadable input,
a failing disk, and running twice. Nothing is lost: the output is the old file or the new one.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import stat
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


# --- (e) paths that are not plain files: refused with exit 1 (2 for usage), never exit 3 ------


def _cli(*args: str, env: dict[str, str] | None = None, guard: bool = False):
    """The command line in a fresh process, with a timeout (a hang fails the test).

    ``guard`` makes the process refuse any os.replace onto something that is not a regular
    file, so that a regression cannot replace a device such as /dev/null on this machine."""
    code = "import sys; from addin.cli import main; sys.exit(main(sys.argv[1:]))"
    if guard:
        code = (
            "import os, stat, sys\n"
            "real = os.replace\n"
            "def replace(src, dst):\n"
            "    if os.path.exists(dst) and not stat.S_ISREG(os.stat(dst).st_mode):\n"
            "        raise SystemExit('GUARD: os.replace onto a device or pipe ' + str(dst))\n"
            "    return real(src, dst)\n"
            "os.replace = replace\n"
            "from addin.cli import main; sys.exit(main(sys.argv[1:]))"
        )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        cwd=ROOT,
    )


def test_symlink_loop_as_input_or_output_is_exit_1(tmp_path: Path) -> None:
    book = horngren_book(tmp_path / "k.xlsx", "completion")
    loop = tmp_path / "loop.xlsx"
    loop.symlink_to(loop)
    for args in (
        ["run", str(loop)],
        ["validate", str(loop)],
        ["run", str(book), "--out", str(loop)],
    ):
        p = _cli(*args)
        assert p.returncode == 1, (args, p.stderr)
        assert "loop.xlsx is a symbolic link that loops back on itself" in p.stderr
        assert "internal error" not in p.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_named_pipe_as_input_is_refused_without_opening_it(tmp_path: Path) -> None:
    pipe = tmp_path / "inputs.xlsx"
    os.mkfifo(pipe)  # opening it for reading would wait for a writer forever
    for command in ("run", "validate"):
        p = _cli(command, str(pipe))
        assert p.returncode == 1, p.stderr
        assert f"{pipe} is a named pipe, not a workbook file" in p.stderr
    assert not (tmp_path / "inputs - results.xlsx").exists()


def test_output_that_is_not_a_file_is_never_replaced(tmp_path: Path) -> None:
    book = horngren_book(tmp_path / "k.xlsx", "completion")
    folder = tmp_path / "folder.xlsx"
    folder.mkdir()
    targets = [(folder, "a folder"), (Path(os.devnull), "a device")]
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.xlsx")
        targets.append((tmp_path / "pipe.xlsx", "a named pipe"))
    for target, kind in targets:
        before = os.stat(target).st_mode
        p = _cli("run", str(book), "--out", str(target), "--quiet", guard=True)
        assert p.returncode == 1, p.stderr
        assert f"{target} is {kind}; the results can only be written to a file" in p.stderr
        assert os.stat(target).st_mode == before and not stat.S_ISREG(before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.xlsx", "k.xlsx"] + (
        ["pipe.xlsx"] if hasattr(os, "mkfifo") else []
    )


def test_out_naming_the_input_in_another_spelling_is_refused(tmp_path: Path) -> None:
    book = horngren_book(tmp_path / "k.xlsx", "completion")
    before = digest(book)
    (tmp_path / "sub").mkdir()
    link = tmp_path / "link.xlsx"
    link.symlink_to(book)
    hard = tmp_path / "hard.xlsx"
    os.link(book, hard)
    for out in (link, tmp_path / "sub" / ".." / "k.xlsx", hard):
        assert main(["run", str(book), "--out", str(out), "--quiet"]) == 2, out
    assert digest(book) == before and link.is_symlink()


def test_output_names_too_long_for_the_file_system(tmp_path: Path) -> None:
    """A 255-byte name is the most a Linux file system takes: the lock-file names beside it
    (~$NAME, .~lock.NAME#) are longer and cannot exist; the run must still write it."""
    book = horngren_book(tmp_path / "k.xlsx", "completion")
    longest = tmp_path / ("r" * 250 + ".xlsx")
    p = _cli("run", str(book), "--out", str(longest), "--quiet")
    assert p.returncode == 0, p.stderr
    assert longest.is_file() and journal_balances(longest)
    too_long = tmp_path / ("s" * 251 + ".xlsx")
    p = _cli("run", str(book), "--out", str(too_long), "--quiet")
    assert p.returncode == 1, p.stderr
    assert f"the file name {too_long.name} is 256 bytes long, more than the 255" in p.stderr
    assert "internal error" not in p.stderr


def test_lock_check_that_cannot_look_into_the_folder_is_exit_1(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    book = horngren_book(tmp_path / "k.xlsx", "completion")
    out = tmp_path / "r.xlsx"
    real_stat = os.stat

    def denied(path, *a, **k):
        if Path(path).name.startswith("~$"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_stat(path, *a, **k)

    monkeypatch.setattr(writer.os, "stat", denied)
    assert main(["run", str(book), "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert f"cannot check whether {out} is open in another program (Permission denied)" in err
    assert not out.exists()


def test_template_onto_a_folder_or_an_existing_workbook_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "october.xlsx"
    folder.mkdir()
    p = _cli("template", str(folder))
    assert p.returncode == 1, p.stderr
    assert f"{folder} is a folder; the template can only be written to a file" in p.stderr
    book = horngren_book(tmp_path / "filled.xlsx", "completion")
    before = digest(book)
    p = _cli("template", str(book))
    assert p.returncode == 1, p.stderr
    assert f"{book} already exists; choose another name" in p.stderr
    assert digest(book) == before
    for name in (".", "", "/"):  # no file name at all
        p = _cli("template", name)
        assert p.returncode == 1, p.stderr
        assert "names a folder; give the template's file name" in p.stderr


def test_demo_into_a_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    target.write_bytes(b"mine")
    p = _cli("demo", str(target), "--quiet")
    assert p.returncode == 1, p.stderr
    assert f"{target} is a file, not a folder; give a folder" in p.stderr
    assert target.read_bytes() == b"mine"
    p = _cli("demo", os.devnull, "--quiet")
    assert p.returncode == 1, p.stderr
    assert f"{os.devnull} is a device, not a folder; give a folder" in p.stderr


@pytest.mark.parametrize(
    "env",
    [{"PYTHONIOENCODING": "ascii"}, {"LANG": "C", "LC_ALL": "C", "PYTHONIOENCODING": "latin-1"}],
)
def test_console_that_cannot_show_the_path_still_finishes(tmp_path: Path, env) -> None:
    """The file is written before the path is printed: printing must not turn it into exit 3."""
    folder = tmp_path / "月次決算"
    folder.mkdir()
    book = horngren_book(folder / "キーボード.xlsx", "completion")
    p = _cli("run", str(book), "--quiet", env=env)
    assert p.returncode == 0, p.stderr
    out = folder / "キーボード - results.xlsx"
    assert journal_balances(out)
    assert "Results written to" in p.stdout and "\\u6708\\u6b21" in p.stdout
    p = _cli("template", str(folder / "テンプレート.xlsx"), env=env)
    assert p.returncode == 0, p.stderr
    assert (folder / "テンプレート.xlsx").is_file() and "Template written to" in p.stdout
