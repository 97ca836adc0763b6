"""The repository's own modules import each other without a cycle.

A cycle works only as long as every module in it delays the import that
closes it (a function-level import, a ``TYPE_CHECKING`` block); the next edit
that moves one to the top of a file breaks it at import time. So the graph
here counts every import the source contains, wherever it is written: at
module level, inside a function, under ``if TYPE_CHECKING:``.

Edges go to the module named (``from envconfig import policy`` is an edge to
``envconfig.policy``; ``from envconfig.aws import load`` to ``envconfig.aws``).
Importing a submodule also runs its packages' ``__init__``; those implicit
edges are left out: a package's ``__init__`` that imports its own submodules
would otherwise put every submodule in a cycle with it.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Shared environments and generated output, not the repository's code.
SKIPPED_DIRS = {".venv", ".venv-checkov", "node_modules", ".git", "cdk.out", "cdktf.out", ".gen", "__pycache__",
                ".local-aws", ".pytest_cache", ".gates-cache"}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def repository_modules(root: Path) -> dict[str, Path]:
    modules = {}
    for path in root.rglob("*.py"):
        if SKIPPED_DIRS.intersection(path.relative_to(root).parts):
            continue
        modules[module_name(path, root)] = path
    return modules


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The repository module ``name`` refers to (itself or its closest parent module), or None."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every repository module ``module`` imports, anywhere in its source."""
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                base_parts = package[: len(package) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            # ``from pkg import sub`` names the submodule when there is one.
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for name in names:
            target = _resolve(name, modules)
            if target is not None and target != module:
                targets.add(target)
    return targets


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = repository_modules(root)
    return {module: imports_of(module, path, modules) for module, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:
        # Iterative: the graph is deep enough that recursion is a needless risk.
        nonlocal counter
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(found)


def test_the_repository_has_no_import_cycle():
    graph = import_graph()
    assert "envconfig.aws" in graph and "localaws.cfn.engine" in graph, "the walk missed the repository's packages"
    found = cycles(graph)
    assert not found, "import cycles (each group imports itself back): " + "; ".join(" <-> ".join(c) for c in found)


def test_a_function_level_import_that_closes_a_loop_is_a_cycle(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("from pkg.b import thing\n")
    (tmp_path / "pkg" / "b.py").write_text("from typing import TYPE_CHECKING\nthing = 1\n"
                                           "def late():\n    from . import c\n")
    (tmp_path / "pkg" / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n")
    (tmp_path / "pkg" / "d.py").write_text("import pkg.a\n")
    assert cycles(import_graph(tmp_path)) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_a_tree_without_a_loop_has_no_cycle(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("from pkg import a\n")
    (tmp_path / "pkg" / "a.py").write_text("from pkg import b\nimport os\n")
    (tmp_path / "pkg" / "b.py").write_text("import json\n")
    assert cycles(import_graph(tmp_path)) == []
