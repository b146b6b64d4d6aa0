"""The package's runtime imports form no cycle.

Every module of ``octobot_trading`` is parsed with :mod:`ast`; each ``import`` / ``from ...
import`` of an ``octobot_trading`` module becomes an edge of a graph, wherever it is written:

* module-level imports count;
* function-level (lazy) imports count too: they run when the function runs, so a cycle through
  one is still a cycle at run time (it merely fails later, or hides an ordering dependency);
* imports under ``if TYPE_CHECKING:`` do not count: they never run.

An edge goes to the module named (``from a.b import c`` goes to ``a.b.c`` when ``c`` is a
module, else to ``a.b``). Python also runs the ``__init__`` of every package on the way
(``a.b``'s, before ``a.b.c``) unless the importer is inside that package (then it already
runs): :func:`with_package_inits` adds those edges too, and the graph with them has no cycle
either, so no import runs a package ``__init__`` that is (indirectly) still importing the
importer. Imports by string (``importlib.import_module(name)``) are not seen.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "octobot_trading"
PACKAGE = PACKAGE_DIR.name


def _module_names() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import node that can run (the body of ``if TYPE_CHECKING:`` left out)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _targets(module: str, path: Path, node: ast.Import | ast.ImportFrom, known: dict[str, Path]) -> set[str]:
    def existing(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    found: set[str] = set()
    if isinstance(node, ast.Import):
        for alias in node.names:
            target = existing(alias.name)
            if target:
                found.add(target)
        return found
    source = _resolve(module, path.name == "__init__.py", node)
    if not (source == PACKAGE or source.startswith(PACKAGE + ".")):
        return found
    for alias in node.names:
        if f"{source}.{alias.name}" in known:
            found.add(f"{source}.{alias.name}")
        else:
            target = existing(source)
            if target:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the ``octobot_trading`` modules it imports at run time."""
    known = _module_names()
    graph: dict[str, set[str]] = {}
    for module, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        edges: set[str] = set()
        for node in _runtime_imports(tree):
            edges |= _targets(module, path, node, known)
        edges.discard(module)
        graph[module] = {e for e in edges if e.startswith(PACKAGE)}
    return graph


def with_package_inits(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """``graph`` plus, for each edge to ``a.b.c``, an edge to each package ``__init__`` Python runs
    first (``a.b``), except the packages that contain the importer (already initialised)."""
    known = set(graph)
    extended = {module: set(edges) for module, edges in graph.items()}
    for module, edges in graph.items():
        for target in edges:
            parts = target.split(".")
            for end in range(1, len(parts)):
                package = ".".join(parts[:end])
                if package in known and package != module and not module.startswith(package + "."):
                    extended[module].add(package)
    return extended


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
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
                    components.append(sorted(component))
    return components


def one_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest cycle through the first module of ``component``, as a path ending where it starts."""
    members = set(component)
    start = component[0]
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    return component


def test_the_import_graph_sees_lazy_imports_and_skips_type_checking_ones(tmp_path):
    source = (
        "from typing import TYPE_CHECKING\n"
        "import octobot_trading.clock\n"
        "if TYPE_CHECKING:\n"
        "    from octobot_trading.exchanges.manager import ExchangeManager\n"
        "def f():\n"
        "    from octobot_trading.util import decimals\n"
        "    from . import enums\n"
    )
    known = _module_names()
    path = PACKAGE_DIR / "probe.py"
    edges: set[str] = set()
    for node in _runtime_imports(ast.parse(source)):
        edges |= _targets(f"{PACKAGE}.probe", path, node, known)
    assert edges == {f"{PACKAGE}.clock", f"{PACKAGE}.util.decimals", f"{PACKAGE}.enums"}
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert one_cycle({"a": {"b"}, "b": {"c", "a"}, "c": {"a"}}, ["a", "b", "c"]) == ["a", "b", "a"]


def test_package_init_edges_are_the_ones_python_runs():
    graph = {
        "p": {"p.x"},
        "p.x": set(),
        "p.q": {"p.x"},
        "p.q.y": {"p.r.z", "p.q.w"},
        "p.q.w": set(),
        "p.r": set(),
        "p.r.z": {"p.q.w"},
    }
    extended = with_package_inits(graph)
    # p.q.y's import of p.r.z runs p.r's __init__ first; its sibling p.q.w needs no __init__ run
    # (p.q contains the importer), nor does the top package p
    assert extended["p.q.y"] == {"p.r.z", "p.q.w", "p.r"}
    assert extended["p.r.z"] == {"p.q.w", "p.q"}
    assert strongly_connected(extended) == []
    # a loop through a package __init__ is found: p.r.z -> p.q (runs p.q's __init__) -> ... -> p.r.z
    looping = dict(graph, **{"p.q": {"p.r.z"}})
    assert strongly_connected(looping) == []
    assert strongly_connected(with_package_inits(looping)) == [["p.q", "p.r.z"]]


def test_runtime_imports_form_no_cycle():
    graph = with_package_inits(import_graph())
    assert len(graph) > 50  # the package was found
    cycles = [
        " -> ".join(m.removeprefix(PACKAGE + ".") for m in one_cycle(graph, component))
        + f"   (cycle group: {', '.join(component)})"
        for component in strongly_connected(graph)
    ]
    assert not cycles, "import cycles among octobot_trading modules:\n" + "\n".join(cycles)


def test_importing_the_package_loads_no_engine_module():
    """``import octobot_trading`` stays light: the builder, manager, exchange class, trading core and
    backtesting load on first use (the docstring's promise), here checked in a fresh interpreter."""
    import subprocess
    import sys

    probe = (
        "import sys, octobot_trading as ot; "
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('octobot_trading'))))"
    )
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
        ).stdout.split()
    )
    heavy = {
        f"{PACKAGE}.{name}"
        for name in (
            "exchanges.builder",
            "exchanges.manager",
            "exchanges.rest_exchange",
            "exchanges.exchange_classes",
            "exchanges.connectors.simulator.simulated_connector",
            "personal_data",
            "backtesting",
            "modes",
            "storage",
        )
    }
    assert f"{PACKAGE}.exchanges.types" in loaded and not loaded & heavy, sorted(loaded & heavy)
