"""The workbook contract is the one source of sheet, column, setting, role and trigger names:
what else names them is derived from it (or from the engine, for roles and triggers), and the
checks below fail when a copy drifts."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import openpyxl

from addin import app
from addin.costing import model
from addin.workbook import contract as C
from addin.workbook.contract_doc import with_table
from addin.workbook.validation import frames

REPO = Path(__file__).resolve().parents[1]


def test_every_engine_frame_column_is_filled_by_exactly_one_contract_column() -> None:
    """The engine declares its frames' columns (model.INPUT_FRAME_COLUMNS); each is the key of
    exactly one column of the sheet that fills it, or a column the reader derives."""
    assert set(C.FRAME_SHEETS) == set(model.INPUT_FRAME_COLUMNS)
    for attr, sheet in C.FRAME_SHEETS.items():
        spec = C.SHEETS_BY_NAME[sheet]
        fields = [c.field for c in spec.columns]
        for column in model.INPUT_FRAME_COLUMNS[attr]:
            filled_by = fields.count(column)
            derived = column in model.DERIVED_FRAME_COLUMNS
            assert filled_by + derived == 1, (sheet, column, filled_by, derived)
        assert set(fields) <= set(model.INPUT_FRAME_COLUMNS[attr]), (sheet, fields)


def test_the_frames_are_the_month_end_inputs_and_the_app_takes_them_from_the_contract() -> None:
    inputs_fields = {f.name for f in dataclasses.fields(model.MonthEndInputs)}
    assert set(C.FRAME_SHEETS) <= inputs_fields
    assert app.FRAME_NAMES is C.FRAME_SHEETS
    assert list(C.FRAME_SHEETS.values()) == [s.name for s in C.INPUT_SHEETS if s.frame]


def test_empty_frames_take_their_dtypes_from_the_column_kinds() -> None:
    bom = frames.empty(C.SHEETS_BY_NAME[C.BOM])
    assert list(bom.columns) == model.BOM_COLUMNS
    assert str(bom["qty_per"].dtype) == "float64"
    assert str(bom["effective_to"].dtype) == "datetime64[ns]"
    assert str(bom["source_row"].dtype) == "int64"
    std = frames.empty(C.SHEETS_BY_NAME[C.STANDARD_COSTS])
    assert str(std["backflush"].dtype) == "bool" and std["item"].dtype == object


def test_settings_rows_are_the_engines_settings() -> None:
    keys = {c.key for c in C.SETTING_ROWS.values()}
    assert keys == {f.name for f in dataclasses.fields(model.Settings)}


def test_triggers_and_roles_come_from_the_engine() -> None:
    assert tuple(t.value for t in model.Trigger) == C.TRIGGERS
    assert C.SETTING_ROWS["Trigger"].choices == C.TRIGGERS
    roles = C.SHEETS_BY_NAME[C.ACCOUNTS].column("Role").choices
    assert roles == tuple(model.DEFAULT_ACCOUNTS) and set(roles) == set(model.ROLES)


def _role_lists(tree: ast.AST) -> list[int]:
    """Lines of list/tuple/set/dict literals naming most account roles (a re-listing; a few
    roles named for a computation, e.g. the variance roles, are a use, not a copy)."""
    roles = set(model.ROLES)
    found = []
    for node in ast.walk(tree):
        elts = (
            node.keys
            if isinstance(node, ast.Dict)
            else node.elts
            if isinstance(node, (ast.List, ast.Tuple, ast.Set))
            else []
        )
        names = [e.value for e in elts if isinstance(e, ast.Constant) and e.value in roles]
        if len(names) > len(roles) // 2:
            found.append(node.lineno)
    return found


def test_no_module_but_the_engines_model_lists_the_account_roles() -> None:
    listed = {}
    for path in sorted((REPO / "addin").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        lines = _role_lists(ast.parse(path.read_text(encoding="utf-8")))
        if lines and rel != "addin/costing/model.py":
            listed[rel] = lines
    assert listed == {}


def test_the_readme_contract_table_is_the_contracts() -> None:
    """Regenerate with `python -m addin.workbook.contract_doc README.md` when this fails."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert with_table(readme) == readme


def test_every_choice_and_yes_no_column_of_the_template_has_its_drop_down() -> None:
    wb = openpyxl.load_workbook(REPO / "workbook_templates" / "backflush-template.xlsx")
    for spec in C.INPUT_SHEETS:
        if spec.name == C.SETTINGS:
            continue
        ws = wb[spec.name]
        header = [c.value for c in ws[1]]
        lists = {
            str(dv.sqref).split(":")[0].rstrip("0123456789"): dv.formula1
            for dv in ws.data_validations.dataValidation
        }
        for col in spec.columns:
            if col.kind not in (C.Kind.CHOICE, C.Kind.YESNO):
                continue
            letter = openpyxl.utils.get_column_letter(header.index(col.name) + 1)
            words = col.choices if col.kind is C.Kind.CHOICE else ("Yes", "No")
            assert lists[letter] == '"' + ",".join(words) + '"', (spec.name, col.name)
    settings = wb[C.SETTINGS]
    listed = [settings.cell(r, 1).value for r in range(2, settings.max_row + 1)]
    assert listed == list(C.SETTING_ROWS)
