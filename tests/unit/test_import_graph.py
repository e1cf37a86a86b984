"""The import graph of crisiswatch, tools and infra, read from the source (no module is imported).

Module-level and lazy (function-level) imports alike; relative imports resolved; ``from pkg import
name`` is an import of ``pkg.name`` when that is a module, else of ``pkg``. Cycles are looked for
with the imports under ``if TYPE_CHECKING:`` too (they never run, but two modules that need each
other's names are one design); what ships is checked without them. See ``infra.packaging``, which
ships each Lambda from the same graph.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crisiswatch import constants
from infra import packaging

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"

MODULES = {
    **packaging.discover_modules(FUNCTIONS, "crisiswatch"),
    **packaging.discover_modules(ROOT, "tools"),
    **packaging.discover_modules(ROOT, "infra"),
    **packaging.discover_modules(ROOT, "layers"),
}
GRAPH = packaging.import_graph(MODULES)
DESIGN_GRAPH = packaging.import_graph(MODULES, type_checking=True)
LAMBDA_CODE = {m: p for m, p in MODULES.items() if m == "crisiswatch" or m.startswith("crisiswatch.")}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as ``[a, b, ..., a]``, or None. Iterative DFS, deterministic order."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in sorted(graph):
        if root in state:
            continue
        path = [root]
        state[root] = 1
        stack = [iter(sorted(graph[root]))]
        while stack:
            child = next(stack[-1], None)
            if child is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(child) == 1:
                return [*path[path.index(child) :], child]
            elif child not in state:
                state[child] = 1
                path.append(child)
                stack.append(iter(sorted(graph[child])))
    return None


def handler_closure(key: str) -> set[str]:
    return packaging.closure(packaging.handler_module(constants.FUNCTIONS[key].handler), GRAPH)


def imports_anywhere(modules: set[str], top_level: str) -> list[str]:
    """The modules among ``modules`` that import ``top_level`` (or a submodule of it)."""
    return sorted(
        m
        for m in modules
        if any(
            base == top_level or base.startswith(f"{top_level}.")
            for base, _ in packaging.absolute_imports(MODULES[m], m)
        )
    )


def test_the_graph_covers_every_package():
    assert {"crisiswatch.handlers.scorer", "crisiswatch.ingest.adapters", "tools.cli", "infra.stack"} <= set(
        GRAPH
    )
    assert "crisiswatch.scoring.segment" in GRAPH["crisiswatch.scoring.features"]  # `from pkg import mod`
    assert "crisiswatch.ingest.adapters" in GRAPH["crisiswatch.ingest.fetching"]


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles_not_even_through_annotations():
    cycle = find_cycle(DESIGN_GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("top_level", ["tools", "infra", "tests"])
def test_lambda_code_imports_no_tooling(top_level):
    assert imports_anywhere(set(LAMBDA_CODE), top_level) == []


@pytest.mark.parametrize("key", sorted(k for k in constants.FUNCTIONS if k != "scorer"))
def test_only_the_scorer_loads_scoring(key):
    assert not {m for m in handler_closure(key) if m.startswith("crisiswatch.scoring")}


@pytest.mark.parametrize("key", sorted(k for k in constants.FUNCTIONS if k != "fetcher"))
def test_only_the_fetcher_loads_feeds(key):
    modules = handler_closure(key)
    assert "crisiswatch.ingest.feeds" not in modules
    assert imports_anywhere(modules, "feedparser") == []


def test_the_fetcher_does_load_feeds():  # the checks above would pass on an empty graph
    assert "crisiswatch.ingest.feeds" in handler_closure("fetcher")
    assert imports_anywhere(handler_closure("fetcher"), "feedparser") == ["crisiswatch.ingest.feeds"]
