"""Regenerate the bundled workbooks: ``python -m addin.templates workbook_templates``.

Writes the empty input template and the demo plant's input workbook. A test checks that the
committed copies are up to date with what this command writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from addin.demo import demo_inputs
from addin.workbook.inputs_writer import write_input_workbook

TEMPLATE = "backflush-template.xlsx"
DEMO = "demo-plant.xlsx"


def write_all(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    write_input_workbook(None, folder / TEMPLATE)
    write_input_workbook(demo_inputs(), folder / DEMO)
    return [folder / TEMPLATE, folder / DEMO]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0] if args else "workbook_templates")
    for p in write_all(folder):
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
