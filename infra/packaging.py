"""What each Lambda function ships: its handler's static import graph, plus package data.

A function's code asset is the handler module (``constants.FUNCTIONS[key].handler``), every
``crisiswatch`` module it imports, directly or not, at module level or inside a function (a lazy
import is still an import), the ``__init__`` of every package on the way, and the non-Python files
of every package it imports (the rule: a package directory's non-Python files ship with it, e.g.
``crisiswatch/scoring/data/`` with ``crisiswatch.scoring``). Imports under ``if TYPE_CHECKING:`` do
not run, so they do not count. Nothing else in ``functions/`` ships: not ``crisiswatch.memory``
(the in-memory adapters), not another function's modules, not a stray file.

Standard library only (no aws_cdk), so the unit tests and ``tools.package_report`` use it too.
The graph is static: a module imported by a computed name (``importlib.import_module(name)``) is
not seen; ``crisiswatch`` has none, and tests/infra compares each asset with what a fresh
interpreter really loads.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Mapping
from fnmatch import fnmatch
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = ROOT / "functions"
PACKAGE = "crisiswatch"
# Never shipped, whatever imports what: caches, packaging metadata, tests, editor droppings.
ALWAYS_EXCLUDED = (
    "**/__pycache__",
    "**/*.pyc",
    "*.egg-info",
    "**/.pytest_cache",
    "**/.ruff_cache",
    "**/tests",
    "**/.DS_Store",
)


def _always_excluded(name: str) -> bool:
    return any(fnmatch(name, pattern.removeprefix("**/")) for pattern in ALWAYS_EXCLUDED)


def discover_modules(source_root: Path, package: str) -> dict[str, Path]:
    """Every module of ``package`` under ``source_root``: dotted name -> file (``__init__.py`` for a package)."""
    modules: dict[str, Path] = {}
    for path in sorted((source_root / package).rglob("*.py")):
        rel = path.relative_to(source_root)
        if any(_always_excluded(part) for part in rel.parts):
            continue
        parts = rel.with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if all((source_root / Path(*parts[:i]) / "__init__.py").is_file() for i in range(1, len(parts))):
            modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST, type_checking: bool = False) -> Iterable[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth (functions, classes, try, if); those under
    ``if TYPE_CHECKING:`` only with ``type_checking``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        if not type_checking and isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def absolute_imports(
    path: Path, module: str, type_checking: bool = False
) -> list[tuple[str, tuple[str, ...]]]:
    """``(module, names)`` per import in ``module`` (its source at ``path``), relative ones resolved.

    ``import a.b`` gives ``("a.b", ())``; ``from .x import y, z`` in ``pkg.mod`` gives
    ``("pkg.x", ("y", "z"))``.
    """
    tree = ast.parse(path.read_bytes(), filename=str(path))
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: list[tuple[str, tuple[str, ...]]] = []
    for node in _import_nodes(tree, type_checking):
        if isinstance(node, ast.Import):
            found.extend((alias.name, ()) for alias in node.names)
            continue
        if node.level:
            if node.level - 1 > len(package):
                raise ValueError(f"{path}: relative import beyond the top-level package")
            head = package[: len(package) - node.level + 1]
            base = ".".join([*head, *([node.module] if node.module else [])])
        else:
            base = node.module or ""
        found.append((base, tuple(alias.name for alias in node.names)))
    return found


def module_imports(
    path: Path, module: str, known: Mapping[str, Path] | set[str], type_checking: bool = False
) -> set[str]:
    """The modules of ``known`` that ``module`` imports.

    ``import a.b`` is an import of ``a.b``; ``from pkg import name`` of ``pkg.name`` when that is a
    module, else of ``pkg``. Parent packages, which Python imports first, are left to ``closure``.
    """
    found: set[str] = set()
    for base, names in absolute_imports(path, module, type_checking):
        if not names:
            if base in known:
                found.add(base)
            continue
        for name in names:
            if f"{base}.{name}" in known:
                found.add(f"{base}.{name}")
            elif base in known:
                found.add(base)
    found.discard(module)
    return found


def import_graph(modules: Mapping[str, Path], type_checking: bool = False) -> dict[str, set[str]]:
    """module -> the modules of ``modules`` it imports: module level and lazy; with
    ``type_checking``, the annotation-only imports under ``if TYPE_CHECKING:`` too (a design
    dependency, though one that never runs: what shipping needs leaves them out)."""
    return {name: module_imports(path, name, modules, type_checking) for name, path in modules.items()}


def parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def closure(start: str, graph: Mapping[str, set[str]]) -> set[str]:
    """``start`` and everything it loads: its imports, transitively, and every parent package."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        module = todo.pop()
        if module in seen or module not in graph:
            continue
        seen.add(module)
        todo.extend(graph[module])
        todo.extend(parents(module))
    return seen


def package_data(package_dir: Path) -> list[Path]:
    """A package's non-Python files: in its directory and in subdirectories that are not packages."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(package_dir):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames if not _always_excluded(d) and not (here / d / "__init__.py").is_file()
        )
        found.extend(here / f for f in sorted(filenames) if not f.endswith(".py") and not _always_excluded(f))
    return found


@cache
def _modules_and_graph(source_root: Path, package: str) -> tuple[dict[str, Path], dict[str, set[str]]]:
    modules = discover_modules(source_root, package)
    return modules, import_graph(modules)


def handler_module(handler: str) -> str:
    """``crisiswatch.handlers.scorer.lambda_handler`` -> ``crisiswatch.handlers.scorer``."""
    return handler.rpartition(".")[0]


def shipped_modules(handler: str, source_root: Path = FUNCTIONS_DIR, package: str = PACKAGE) -> set[str]:
    modules, graph = _modules_and_graph(source_root, package)
    start = handler_module(handler)
    if start not in modules:
        raise ValueError(f"handler module {start!r} is not a module under {source_root / package}")
    return closure(start, graph)


def shipped_files(handler: str, source_root: Path = FUNCTIONS_DIR, package: str = PACKAGE) -> list[str]:
    """Paths relative to ``source_root`` of what the function for ``handler`` ships, sorted."""
    modules, _ = _modules_and_graph(source_root, package)
    names = shipped_modules(handler, source_root, package)
    files = {modules[m] for m in names}
    for m in names:
        if modules[m].name == "__init__.py":
            files.update(package_data(modules[m].parent))
    return sorted(p.relative_to(source_root).as_posix() for p in files)


def asset_excludes(handler: str, source_root: Path = FUNCTIONS_DIR, package: str = PACKAGE) -> list[str]:
    """Exclude patterns for ``Code.from_asset(source_root)`` that leave exactly ``shipped_files``.

    Exact relative paths (a pattern with a slash matches the whole relative path in CDK's glob
    ignore); a directory with nothing to ship is excluded whole, so no empty directory ships.
    Deterministic: sorted, and independent of caches on disk (``ALWAYS_EXCLUDED`` comes first and
    the walk skips what it matches).
    """
    keep = set(shipped_files(handler, source_root, package))
    keep_dirs = {parent for path in keep for parent in (p.as_posix() for p in Path(path).parents)}
    patterns: list[str] = []

    def walk(directory: Path) -> None:
        for entry in sorted(directory.iterdir()):
            if _always_excluded(entry.name):
                continue
            rel = entry.relative_to(source_root).as_posix()
            if entry.is_dir() and not entry.is_symlink():
                if rel in keep_dirs:
                    walk(entry)
                else:
                    patterns.append(rel)
            elif rel not in keep:
                patterns.append(rel)

    walk(source_root)
    return [*ALWAYS_EXCLUDED, *patterns]
