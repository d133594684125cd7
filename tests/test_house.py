"""The shape of the code: no import cycle inside kmslint/, no function over 60 lines.

Both are read from the source with :mod:`ast`, nothing is imported.  An
import is an edge wherever it is written (a function-level import made to
dodge a cycle is still a cycle); only those under ``if TYPE_CHECKING:`` are
not, since they never run.  ``python -m tests.test_house`` prints the cycles
and the long functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "kmslint"
MAX_LINES = 60

# Functions over MAX_LINES not split yet, each with what it is; each leaves the list once split.
LONG_ALLOWED = {}
# Import cycles (as sorted module lists) let through; none today.
CYCLES_ALLOWED: set[tuple[str, ...]] = set()


def _modules() -> dict[str, Path]:
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        mods[".".join(parts)] = path
    return mods


def _runtime_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that can run: all but those under ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def import_graph() -> dict[str, set[str]]:
    """Each kmslint module and the kmslint modules it imports."""
    mods = _modules()

    def known(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: set[str | None] = set()
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges.update(known(a.name) for a in node.names)
                continue
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            edges.update(f"{base}.{a.name}" if f"{base}.{a.name}" in mods else known(base) for a in node.names)
        graph[name] = {e for e in edges if e is not None and e != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """The strongly connected components of more than one module, each sorted."""
    from kmslint.graph import strong_components

    ordered = {node: sorted(graph[node]) for node in sorted(graph)}
    return sorted(tuple(sorted(c)) for c in strong_components(ordered) if len(c) > 1)


def long_functions() -> dict[str, int]:
    """``path:name`` of every function over MAX_LINES lines (decorators not counted), and its length."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_LINES:
                    found[f"{path.relative_to(ROOT).as_posix()}:{node.name}"] = length
    return found


def test_no_import_cycle() -> None:
    assert [c for c in cycles(import_graph()) if c not in CYCLES_ALLOWED] == []


def test_the_checker_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [("a", "b", "c")]


def test_a_type_checking_import_is_no_edge() -> None:
    tree = ast.parse("import x\nif TYPE_CHECKING:\n    import y\ndef f():\n    from z import w\n")
    names = [ast.unparse(n) for n in _runtime_imports(tree)]
    assert sorted(names) == ["from z import w", "import x"]


def test_no_function_over_60_lines() -> None:
    assert sorted(set(long_functions()) - set(LONG_ALLOWED)) == []


if __name__ == "__main__":
    for cycle in cycles(import_graph()):
        print("cycle:", " -> ".join(cycle), "(allowed)" if cycle in CYCLES_ALLOWED else "")
    for name, length in sorted(long_functions().items()):
        print(f"{length:4d} {name}", "(allowed)" if name in LONG_ALLOWED else "")
