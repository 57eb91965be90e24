"""checkout's modules import each other one way only: no import circle, not even one hidden
under ``if TYPE_CHECKING:`` or inside a function, so each module reads without the ones above it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import shopsim.services.checkout as package

PACKAGE = package.__name__


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The package's modules one file imports, wherever the import statement stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x / from .x import y
                base = PACKAGE + ("." + base if base else "")
            if base == PACKAGE:
                found |= {a.name if a.name in modules else "__init__" for a in node.names}
            elif base.startswith(PACKAGE + "."):
                found.add(base.removeprefix(PACKAGE + ".").split(".")[0])
        elif isinstance(node, ast.Import):
            found |= {
                a.name.removeprefix(PACKAGE + ".").split(".")[0]
                for a in node.names
                if a.name.startswith(PACKAGE + ".")
            }
    return found - {path.stem}


def graph(directory: Path) -> dict[str, set[str]]:
    """module -> the package's modules it imports."""
    paths = {p.stem: p for p in directory.glob("*.py")}
    return {name: _imports(path, set(paths)) for name, path in paths.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle, each as the path that closes it (depth-first, three colours)."""
    state: dict[str, str] = {}
    found: list[list[str]] = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        for nxt in sorted(edges.get(name, ())):
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[name] = "done"

    for name in sorted(edges):
        if name not in state:
            visit(name, [name])
    return found


def test_circles_finds_a_circle_hidden_under_type_checking(tmp_path):
    (tmp_path / "a.py").write_text(f"from {PACKAGE} import b\n")
    (tmp_path / "b.py").write_text(
        f"from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from {PACKAGE}.a import A\n"
    )
    (tmp_path / "c.py").write_text(f"from {PACKAGE} import a\n")
    assert circles(graph(tmp_path)) == [["a", "b", "a"]]


def test_checkout_modules_import_in_one_direction():
    edges = graph(Path(package.__file__).parent)
    assert {"saga", "views", "duplicate_charge", "records"} <= set(edges)
    assert "saga" in edges["views"] and "records" in edges["saga"]  # the graph is really read
    assert circles(edges) == []
