"""The house's layout rules, checked on the code itself (issue #14): modules stay small enough
to read in one sitting, imports inside a package flow one way (no cycle, not even through a
function-local import), and an error code means one HTTP status wherever it is raised."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).parent.parent
MAX_LINES = 500


def _modules() -> dict[str, Path]:
    found = {}
    for top in ("server", "push"):
        for path in (ROOT / top).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def test_no_module_is_too_long_to_read():
    long = {
        name: n
        for name, path in _modules().items()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"split these by verb family (more than {MAX_LINES} lines): {long}"


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ``server``/``push`` that ``name`` imports, anywhere in it."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                if f"{base}.{alias.name}" in modules:
                    out.add(f"{base}.{alias.name}")
                elif base in modules:
                    out.add(base)
    out.discard(name)
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def test_imports_inside_a_package_flow_one_way():
    """A package's modules import each other one way: shared loaders go down into a module
    both sides import (as ``forum/access.py`` and ``chat/access.py``), so no module needs a
    function-local import to dodge a cycle. A package's ``__init__`` (its ``register``) may
    import its modules; they never import it."""
    modules = _modules()
    by_package: dict[str, dict[str, set[str]]] = defaultdict(dict)
    for name, path in modules.items():
        if path.name == "__init__.py":
            continue
        package = name.rpartition(".")[0]
        by_package[package][name] = {
            m for m in _imports(name, path, modules) if m.rpartition(".")[0] == package
        }
    found = {p: c for p, graph in by_package.items() if (c := _cycles(graph))}
    assert not found, found


def test_the_layout_check_sees_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def _raised() -> dict[str, set[int]]:
    """Every (code, status) the code raises: ``DomainError("x", 409)``, ``NotFound("x")``,
    ``Forbidden("x")``, ``Conflict("x")``."""
    defaults = {"NotFound": 404, "Forbidden": 403, "Conflict": 409}
    seen: dict[str, set[int]] = defaultdict(set)
    for path in _modules().values():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            args = node.args
            if (
                not args
                or not isinstance(args[0], ast.Constant)
                or not isinstance(args[0].value, str)
            ):
                continue
            if name in defaults:
                seen[args[0].value].add(defaults[name])
            elif name == "DomainError":
                status = 400
                if len(args) > 1 and isinstance(args[1], ast.Constant):
                    status = args[1].value
                for kw in node.keywords:
                    if kw.arg == "status" and isinstance(kw.value, ast.Constant):
                        status = kw.value.value
                seen[args[0].value].add(status)
    return seen


def test_one_status_per_error_code():
    """A client may switch on ``code`` alone: each means one HTTP status everywhere."""
    raised = _raised()
    assert len(raised) > 40  # the scan found the features' codes
    several = {code: sorted(s) for code, s in raised.items() if len(s) > 1}
    assert not several, several
