"""Layers point one way: the import graph of the shopsim package, read from the source.

Foundation modules (the database, the seed data) import neither the fault engine nor the
services; the fault engine imports no service (a service hands it a Target and asks it at its
switch points); the scenario model reaches no Flask blueprint; and no module imports, however
indirectly, a module that imports it.

    python3 tests/test_layers.py        # the modules, edges and import cycles, for a look
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "shopsim"


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports(mods: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the package's modules it imports: at the top, in a function, anywhere but
    under `if TYPE_CHECKING:`. `from pkg import mod` counts as importing mod only."""
    graph: dict[str, set[str]] = {name: set() for name in mods}
    for name, path in mods.items():
        tree = ast.parse(path.read_text())
        typing_only = {
            id(n)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for stmt in node.body
            for n in ast.walk(stmt)
        }
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                wanted = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                subs = [f"{base}.{alias.name}" for alias in node.names]
                wanted = [s for s in subs if s in mods] + (
                    [base] if any(s not in mods for s in subs) else []
                )
            else:
                continue
            for target in wanted:
                while target and target not in mods:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while (w := stack.pop()) != v:
                component.append(w)
            if component:
                found.append(sorted([v, *component]))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def reach(graph: dict[str, set[str]], start: str) -> set[str]:
    """Every module `start` imports, directly or through others."""
    seen, todo = set(), [start]
    while todo:
        for w in graph[todo.pop()] - seen:
            seen.add(w)
            todo.append(w)
    return seen


GRAPH = imports(modules())


def _under(names: set[str], prefix: str) -> set[str]:
    return {n for n in names if n == prefix or n.startswith(prefix + ".")}


def test_the_package_has_no_import_cycle():
    assert cycles(GRAPH) == []


def test_foundation_modules_import_neither_the_fault_engine_nor_the_services():
    for module in ("shopsim.db", "shopsim.seeddata", "shopsim.settings", "shopsim.validation"):
        assert _under(reach(GRAPH, module), "shopsim.faults") == set(), module
        assert _under(reach(GRAPH, module), "shopsim.services") == set(), module
    assert reach(GRAPH, "shopsim.seeddata") == set()  # pure data


def test_the_fault_engine_imports_no_service():
    for module in _under(set(GRAPH), "shopsim.faults"):
        assert _under(GRAPH[module], "shopsim.services") == set(), module
        assert "shopsim.app" not in GRAPH[module], module


def test_the_scenario_model_reaches_no_blueprint():
    reached = reach(GRAPH, "shopsim.gameday.scenario")
    assert "shopsim.faults.api" not in reached
    assert _under(reached, "shopsim.services") == set()


def test_a_cycle_and_an_upward_import_are_found():  # the checks above can fail
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert reach(graph, "d") == {"a", "b", "c"}


if __name__ == "__main__":
    found = cycles(GRAPH)
    edges = sum(map(len, GRAPH.values()))
    print(
        f"modules {len(GRAPH)}, edges {edges}, cycles {len(found)}: sizes {[len(c) for c in found]}"
    )
    for component in found:
        print(f"  {len(component)}: {' '.join(component)}")
    sys.exit(1 if found else 0)
