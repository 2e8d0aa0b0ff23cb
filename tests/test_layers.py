"""The layers of the add-in, read from the import statements of its source (every import,
including those inside functions or under TYPE_CHECKING, so no cycle can hide in one).

    costing   the pure engine: pandas/numpy/scipy in, typed results out; no sheets, no files
    workbook  the sheet contract, reading, validation, result-tab layout, the file writer
    app       the use cases both faces share        cli / excel   the two faces
"""

from __future__ import annotations

import ast
from pathlib import Path

ADDIN = Path(__file__).resolve().parents[1] / "addin"

# What each layer may not import (prefixes of module names).
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "addin.costing": ("addin.workbook", "addin.excel", "addin.app", "addin.cli", "addin.demo"),
    "addin.workbook": ("addin.excel", "addin.app", "addin.cli"),
    "addin.app": ("addin.excel", "addin.cli"),
    "addin.cli": ("addin.excel",),
}
# Known departures still being removed (issue 11); each names the module and what it imports.
KNOWN: set[tuple[str, str]] = set()
# Allowed on purpose: `backflush excel install|check|uninstall` is the Excel face's installer,
# reached from the command line (imported inside that command only; no xlwings UI code).
ALLOWED: set[tuple[str, str]] = {("addin.cli", "addin.excel"), ("addin.cli", "addin.excel.install")}
KNOWN_CYCLES: set[frozenset[str]] = set()


def _module_name(path: Path) -> str:
    parts = path.relative_to(ADDIN.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every addin module ``path`` imports, wherever the import statement stands."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return {name for name in found if name.startswith("addin")}


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in ADDIN.rglob("*.py")}
    return {
        name: {m for m in _imports(path) if m in modules and m != name}
        for name, path in modules.items()
    }


def test_no_layer_imports_a_layer_above_it() -> None:
    broken = [
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for layer, forbidden in FORBIDDEN.items()
        if module == layer or module.startswith(layer + ".")
        for target in targets
        if target.startswith(forbidden) and (module, target) not in KNOWN | ALLOWED
    ]
    assert not broken, "\n".join(sorted(broken))


def test_known_departures_still_exist() -> None:
    """An entry of KNOWN that is fixed must leave the list (so the list cannot hide a new one)."""
    graph = _graph()
    gone = [f"{m} -> {t}" for m, t in KNOWN if t not in graph.get(m, set())]
    assert not gone, f"fixed, remove from KNOWN: {gone}"


def _cycle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    path: list[str] = []
    on_path: set[str] = set()
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt in on_path:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in done and (found := visit(nxt)):
                return found
        on_path.discard(path.pop())
        done.add(node)
        return None

    return visit(start)


def test_no_import_cycles() -> None:
    graph = _graph()
    # A package's __init__ importing its own modules is not a cycle between modules.
    graph = {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in graph.items()}
    found = [c for m in sorted(graph) if (c := _cycle_from(m, graph))]
    cycles = {" -> ".join(c) for c in found if frozenset(c) not in KNOWN_CYCLES}
    assert not cycles, "\n".join(sorted(cycles))


def test_the_layer_rules_see_real_imports() -> None:
    """The reader of imports finds what the files hold (so the rules above are not vacuous)."""
    graph = _graph()
    assert "addin.costing.model" in graph["addin.costing.engine"]
    assert "addin.costing.engine" in graph["addin.app"]
    assert "addin.app" in graph["addin.cli"]
