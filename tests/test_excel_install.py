"""`backflush excel install | check | uninstall` on both platforms' layouts, in a fake home.

The folders are the ones xlwings' VBA and Excel use (written out here from their sources, not
from the installer): Windows %APPDATA%\\Microsoft\\AddIns and %USERPROFILE%\\.backflush\\
backflush.conf (xlwings Config.bas GetConfigFilePath with PROJECT_NAME "backflush"); macOS the
Office group container's Add-Ins folder, ~/Library/Containers/com.microsoft.Excel/Data/
backflush.conf and ~/Library/Application Scripts/com.microsoft.Excel (xlwings' cli.py
runpython_install).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import xlwings

from addin import cli
from addin.excel import install

REPO = Path(__file__).resolve().parents[1]
XLAM = REPO / "workbook_templates" / "backflush.xlam"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("APPDATA", raising=False)
    monkeypatch.delenv("USERPROFILE", raising=False)
    monkeypatch.delenv("CONDA_DEFAULT_ENV", raising=False)
    monkeypatch.delenv("CONDA_EXE", raising=False)
    return home


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


WINDOWS_FILES = {
    "AppData/Roaming/Microsoft/AddIns/backflush.xlam",
    ".backflush/backflush.conf",
}
MAC_FILES = {
    "Library/Group Containers/UBF8T346G9.Office/User Content.localized/Add-Ins.localized/"
    "backflush.xlam",
    "Library/Containers/com.microsoft.Excel/Data/backflush.conf",
    f"Library/Application Scripts/com.microsoft.Excel/xlwings-{xlwings.__version__}.applescript",
}


def test_windows_install_check_uninstall(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["excel", "install", "--platform", "windows"]) == 0
    out = capsys.readouterr().out
    assert files_under(home) == WINDOWS_FILES
    conf = (home / ".backflush/backflush.conf").read_bytes().decode()
    assert conf == f'"INTERPRETER_WIN","{sys.executable}"\r\n'  # xlwings' "KEY","value" lines
    assert (home / "AppData/Roaming/Microsoft/AddIns/backflush.xlam").read_bytes() == (
        XLAM.read_bytes()
    )
    assert "Downloaded-file mark: not cleared (only possible on Windows itself)" in out
    assert "File > Options > Add-ins > Manage: Excel Add-ins > Go..., tick Backflush" in out

    assert cli.main(["excel", "check", "--platform", "windows"]) == 0
    out = capsys.readouterr().out
    assert "Entry points imported: 13" in out  # on_button + 7 button macros + 5 BF_* functions
    assert "OK: the add-in can run this Python." in out

    assert cli.main(["excel", "uninstall", "--platform", "windows"]) == 0
    assert files_under(home) == set()
    assert not (home / ".backflush").exists()
    assert cli.main(["excel", "check", "--platform", "windows"]) == 1
    assert "PROBLEM: no add-in at" in capsys.readouterr().out


def test_macos_install_copies_the_runpython_helper(home: Path) -> None:
    assert cli.main(["excel", "install", "--platform", "macos"]) == 0
    assert files_under(home) == MAC_FILES
    conf = home / "Library/Containers/com.microsoft.Excel/Data/backflush.conf"
    assert conf.read_bytes().decode() == f'"INTERPRETER_MAC","{sys.executable}"\r\n'
    assert cli.main(["excel", "check", "--platform", "macos"]) == 0
    assert cli.main(["excel", "uninstall", "--platform", "macos"]) == 0
    # xlwings' helper script is shared by every xlwings add-in: it stays.
    assert files_under(home) == {sorted(MAC_FILES)[0]}


def test_install_to_a_named_folder_says_browse(home: Path, capsys) -> None:
    folder = home / "Documents" / "Backflush"
    assert cli.main(["excel", "install", "--platform", "windows", "--folder", str(folder)]) == 0
    assert (folder / "backflush.xlam").is_file()
    assert f"click Browse..., pick {folder / 'backflush.xlam'}" in capsys.readouterr().out
    assert cli.main(["excel", "check", "--platform", "windows", "--folder", str(folder)]) == 0


def test_windows_clears_the_download_mark_of_the_copy(home: Path) -> None:
    calls: list[Path] = []
    where = install.layout("windows", {}, home)
    mac = install.layout("macos", {}, home)
    install.install(where, XLAM, env={}, unblock=lambda p: calls.append(p) or "cleared")
    install.install(mac, XLAM, env={}, unblock=lambda p: calls.append(p) or "cleared")
    assert calls == [where.addins_folder / "backflush.xlam"]  # the copy, and on Windows only


def test_conda_env_on_windows_is_written_as_xlwings_does(home: Path) -> None:
    env = {
        "CONDA_DEFAULT_ENV": "costing",
        "CONDA_EXE": r"C:\Users\ann\miniconda3\Scripts\conda.exe",
    }
    where = install.layout("windows", {}, home)
    install.install(where, XLAM, env=env, unblock=lambda p: "cleared")
    assert where.settings_file.read_bytes().decode() == (
        '"CONDA PATH","C:\\Users\\ann\\miniconda3"\r\n"CONDA ENV","costing"\r\n'
    )


def test_install_keeps_the_users_other_settings(home: Path) -> None:
    where = install.layout("windows", {}, home)
    where.settings_file.parent.mkdir(parents=True)
    where.settings_file.write_text(
        '"SHOW CONSOLE","True"\n"interpreter_win","C:\\old\\python.exe"\n', encoding="utf-8"
    )
    install.install(where, XLAM, env={}, unblock=lambda p: "cleared")
    assert install.read_settings(where.settings_file) == {
        "SHOW CONSOLE": "True",
        "INTERPRETER_WIN": sys.executable,
    }


def test_check_names_a_stale_interpreter_and_a_missing_entry_point(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    where = install.layout("windows", {}, home)
    install.install(where, XLAM, env={}, unblock=lambda p: "cleared")
    install.write_settings(where.settings_file, {"INTERPRETER_WIN": r"C:\other\python.exe"})
    monkeypatch.delattr("addin.excel.macros.export_journal")
    ok, lines = install.check(where)
    assert not ok
    problems = [line for line in lines if line.startswith("PROBLEM")]
    assert any("INTERPRETER_WIN='C:\\\\other\\\\python.exe'" in p for p in problems), problems
    assert any("addin.excel.macros.export_journal is missing" in p for p in problems)


def test_missing_xlam_and_no_platform_are_refused(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["excel", "install", "--platform", "macos", "--xlam", str(home / "nope.xlam")]
    assert cli.main(args) == 1
    assert "no add-in at" in capsys.readouterr().err
    monkeypatch.setattr(install, "current_platform", lambda: None)
    assert cli.main(["excel", "check"]) == 2
    assert "--platform windows" in capsys.readouterr().err


def test_help_lists_the_excel_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "install | check | uninstall" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["excel", "--help"])
    out = capsys.readouterr().out
    assert all(word in out for word in ("install", "check", "uninstall"))


def test_an_installed_package_without_the_repository_builds_the_addin(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pip install . carries no workbook_templates/: install builds the .xlam from the xlwings
    template installed here, and check then finds every entry point in it."""
    monkeypatch.setattr(install, "REPO_XLAM", home / "no-repository" / "backflush.xlam")
    assert cli.main(["excel", "install", "--platform", "windows"]) == 0
    assert cli.main(["excel", "check", "--platform", "windows"]) == 0
