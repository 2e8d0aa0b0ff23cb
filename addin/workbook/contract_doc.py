"""The README's contract table, generated from the contract.

    python -m addin.workbook.contract_doc [README.md]

rewrites the part of the README between :data:`BEGIN` and :data:`END`; a test fails when the
README and the contract disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

from addin.costing.model import DEFAULT_ACCOUNTS, ROLE_FALLBACK
from addin.workbook import contract as C
from addin.workbook.cells import Kind, number_text

BEGIN = (
    "<!-- contract table: generated from addin/workbook/contract.py by "
    "`python -m addin.workbook.contract_doc README.md`; edit the contract, not this -->"
)
END = "<!-- end of the generated contract table -->"


def _default(col: C.Column) -> str:
    if col.default is None or col.default == "" or col.kind is Kind.YESNO:
        return ""
    if col.kind is Kind.PERCENT:
        return f"default {float(col.default):.0%}"  # type: ignore[arg-type]
    if col.kind is Kind.CHOICE:
        return f"default `{col.default}`"
    if col.kind is Kind.NUMBER:
        return f"default {number_text(float(col.default))}"  # type: ignore[arg-type]
    return "" if col.doc.startswith("default") else f"default {col.default}"


def column_text(col: C.Column) -> str:
    """A column (or setting) as the table lists it: name, accepted words, what it means;
    in brackets when it may be left out."""
    parts = []
    if col.kind is Kind.CHOICE:
        parts.append(", ".join(f"`{c}`" for c in col.choices))
    elif col.kind is Kind.YESNO:
        parts.append("Yes/No")
    parts += [p for p in (col.doc, _default(col)) if p]
    text = f"{col.name} ({'; '.join(parts)})" if parts else col.name
    return text if col.required else f"[{text}]"


def _sheet_row(spec: C.SheetSpec) -> str:
    columns = ", ".join(map(column_text, spec.columns))
    if spec.name == C.SETTINGS:
        columns += ". Settings: " + ", ".join(map(column_text, C.SETTING_ROWS.values()))
    note = f". {spec.note}" if spec.note else ""
    return f"| {spec.name} | {columns}{note} |"


def contract_table() -> str:
    """The generated block: the sheets table and the default chart of accounts."""
    chart = "; ".join(
        f"{role} {code} {name}"
        if role not in ROLE_FALLBACK
        else f"{role} (optional; not given: posted to {ROLE_FALLBACK[role]})"
        for role, (code, name) in DEFAULT_ACCOUNTS.items()
    )
    return "\n".join(
        [
            BEGIN,
            "| sheet | columns (optional in brackets) |",
            "|---|---|",
            *map(_sheet_row, C.INPUT_SHEETS),
            "",
            f"Default chart (role, code, name): {chart}.",
            END,
        ]
    )


def with_table(readme: str) -> str:
    """``readme`` with its generated block replaced by the contract's."""
    start, end = readme.index(BEGIN), readme.index(END) + len(END)
    return readme[:start] + contract_table() + readme[end:]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0] if args else "README.md")
    path.write_text(with_table(path.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote the contract table in {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
