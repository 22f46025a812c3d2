"""The import graph of a package, for tests that hold its modules to one direction."""

from __future__ import annotations

import ast
from pathlib import Path


def module_imports(root: Path, package: str) -> dict[str, set[str]]:
    """module -> the modules of `package` it imports anywhere in its text (top level,
    inside functions, under TYPE_CHECKING): a circle through a deferred import is still
    a circle."""
    graph: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        name = ".".join([package, *parts[:-1]] + ([] if parts[-1] == "__init__" else
                                                  [parts[-1]]))
        known = graph.setdefault(name, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            known.update(target for target in targets if target.startswith(package + "."))
    modules = set(graph)
    return {name: {target for target in targets if target in modules and target != name}
            for name, targets in graph.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The circles of `graph`, each as the path that closes it."""
    found: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                found.append([*trail[trail.index(target):], target] if target in trail
                             else [*trail, node, target])
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found
