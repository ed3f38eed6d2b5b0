"""No import circle anywhere in ick/: every import, walked with ast, counting those inside
functions and those only type checkers see (a lazy import is still a dependency)."""

from __future__ import annotations

import ast
from pathlib import Path

import ick

PACKAGE = Path(ick.__file__).parent


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path) -> set[str]:
    """The ick modules `path` imports: at load time, inside functions, or for type checkers."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    here = module_name(path, root)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    modules = {module_name(p, root): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = {t for t in imports_of(path, root) if t in modules and t != name}
        # Importing a.b.c runs a/__init__ and a/b/__init__ first.
        for target in list(targets):
            parts = target.split(".")
            targets.update(".".join(parts[:i]) for i in range(1, len(parts))
                           if ".".join(parts[:i]) in modules and ".".join(parts[:i]) != name)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected set of two or more modules (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strongconnect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                strongconnect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
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

    for node in sorted(graph):
        if node not in index:
            strongconnect(node)
    return found


def test_ick_has_no_import_cycle() -> None:
    graph = import_graph(PACKAGE)
    assert len(graph) > 50  # the walk saw the package
    assert "ick.scheduler.driver" in graph["ick.daemon"]
    assert cycles(graph) == []


def test_api_and_ui_are_siblings_and_the_daemon_root_imports_neither() -> None:
    graph = import_graph(PACKAGE)

    def imports(prefix: str, target: str) -> list[str]:
        return sorted(m for m, targets in graph.items() if m.startswith(prefix)
                      and any(t == target or t.startswith(target + ".") for t in targets))

    assert imports("ick.ui", "ick.api") == []
    assert imports("ick.api", "ick.ui") == ["ick.api.app"]  # make_app adds the pages' routes
    assert imports("ick.keepers", "ick.api") == imports("ick.keepers", "ick.ui") == []
    assert [t for t in graph["ick.daemon"] if t.startswith(("ick.api", "ick.ui"))] == []


def test_the_check_finds_a_cycle(tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "sub" / "__init__.py").write_text("")
    (root / "a.py").write_text("from pkg.sub import b\n")
    (root / "sub" / "b.py").write_text("import pkg.c\n")
    (root / "c.py").write_text("from . import a\n\ndef later():\n    import pkg.d\n")
    (root / "d.py").write_text("from typing import TYPE_CHECKING\n"
                               "if TYPE_CHECKING:\n    import pkg.e\n")
    (root / "e.py").write_text("import pkg.d\n")
    assert sorted(cycles(import_graph(root))) == [["pkg.a", "pkg.c", "pkg.sub.b"],
                                                  ["pkg.d", "pkg.e"]]
