"""The bundled workbooks are what ``python -m addin.templates`` writes today."""

from __future__ import annotations

from pathlib import Path

from addin.templates import DEMO, TEMPLATE, write_all

BUNDLED = Path(__file__).resolve().parents[1] / "workbook_templates"


def test_bundled_workbooks_are_up_to_date(tmp_path):
    fresh = write_all(tmp_path)
    for path in fresh:
        committed = BUNDLED / path.name
        assert committed.exists(), f"{committed} missing: run `make templates`"
        assert committed.read_bytes() == path.read_bytes(), (
            f"{path.name} is stale: run `make templates`"
        )
    assert {p.name for p in fresh} == {TEMPLATE, DEMO}
