"""Layering: the core imports no stage, and no modules import each other in a circle (function-local too)."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("issuance", "enrollment", "personalization", "printing", "workers")
STAGES = ("enrollment", "personalization", "printing", "workers")
# Entry points: the only modules of issuance/ that may wire stages together.
ENTRY_POINTS = ("issuance.cli", "issuance.web", "issuance.demo")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imported(path: Path, name: str, modules: Iterable[str] = ()) -> Iterator[str]:
    """Every module an import anywhere in the file names, relative ones resolved.

    `from pkg import mod` names `pkg.mod` when that is a module (the package itself only runs
    its __init__, which re-exporting its own modules is no cycle); otherwise it names `pkg`.
    """
    known = set(modules)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                kept = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*kept, *([base] if base else [])])
            submodules = [f"{base}.{alias.name}" for alias in node.names]
            named = [m for m in submodules if m in known]
            yield from named or [base]


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: {t for t in _imported(path, name, modules) if t in modules and t != name}
            for name, path in modules.items()}


def _is_core(module: str) -> bool:
    return module.split(".")[0] == "issuance" and not any(
        module == e or module.startswith(e + ".") for e in ENTRY_POINTS)


def test_the_core_imports_no_stage() -> None:
    graph = _graph()
    offending = sorted(f"{m} -> {t}" for m, targets in graph.items() if _is_core(m)
                       for t in targets if t.split(".")[0] in STAGES)
    assert offending == []


def test_no_module_imports_itself_through_others() -> None:
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert cycles == []


def test_the_walk_sees_function_local_and_relative_imports(tmp_path: Path) -> None:
    """The checks would be blind without this: a hidden local import is an edge like any other."""
    module = tmp_path / "api.py"
    module.write_text("def submit():\n    from workers.jobs import noop\n    from . import rules\n")
    named = set(_imported(module, "enrollment.api", ["enrollment.rules"]))
    assert named == {"workers.jobs", "enrollment.rules"}
