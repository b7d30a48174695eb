"""The package structure DESIGN.md draws, read from the source itself (AST, no imports run).

Two rules: a package uses another package only through its public names (never a module or
folder whose name starts with ``_``), and imports run one way down the layer list. The root
modules (``verdict.errors``, ``verdict._lazy``, ``verdict._params``, ...) are the foundation
every layer may use. A failure names each offending file and line.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "verdict"

# DESIGN.md's layers, top first: a package imports only packages listed before it.
LAYERS = [
    "metrics",
    "models",
    "data",
    "pipeline",
    "report",
    "registry",
    "state",
    "serving",
    "monitoring",
    "deploy",
    "client",
    "demo",
    "cli",
]


def _package_of(path: Path) -> str | None:
    """The top-level package a source file belongs to (None for root modules)."""
    parts = path.relative_to(SRC).parts
    return parts[0] if len(parts) > 1 else None


def _imported(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every ``verdict...`` dotted path a module imports, with its line (names included)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def _imports() -> Iterator[tuple[Path, int, str | None, list[str]]]:
    """(file, line, importing package, imported path split on dots) for verdict imports."""
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, name in _imported(tree):
            parts = name.split(".")
            if parts[0] == "verdict" and len(parts) > 1:
                yield path, line, _package_of(path), parts


def _is_private(parts: list[str]) -> bool:
    """Whether a dotted path below a package first turns private at its last part (so that
    ``verdict.a._b`` is reported once, not again for each name imported from it)."""
    return parts[-1].startswith("_") and not any(part.startswith("_") for part in parts[2:-1])


def _where(path: Path, line: int, name: str) -> str:
    return f"{path.relative_to(SRC.parents[1])}:{line} imports {name}"


def test_the_source_tree_is_found():
    packages = {p.name for p in SRC.iterdir() if (p / "__init__.py").is_file()}
    assert {"metrics", "registry", "serving", "cli"} <= packages
    assert sum(1 for _ in _imports()) > 200  # the walk really reads the imports


def test_no_package_imports_another_packages_private_module():
    found = [
        _where(path, line, ".".join(parts))
        for path, line, package, parts in _imports()
        if len(parts) > 2 and parts[1] != package and parts[1] in LAYERS and _is_private(parts)
    ]
    assert not found, (
        "Use the package's public names (add them to its __all__ and lazy _EXPORTS):\n"
        + "\n".join(sorted(set(found)))
    )


def test_every_name_imported_from_another_package_is_public():
    # A lazy package resolves names only when used: a name missing from its __all__ would
    # fail at run time in the one command that needs it, so it is checked here for all.
    found = []
    for path, line, package, parts in _imports():
        if len(parts) == 3 and parts[1] in LAYERS and parts[1] != package:
            module = importlib.import_module(".".join(parts[:2]))
            name = parts[2]
            is_folder = (SRC / parts[1] / name / "__init__.py").is_file()
            if name not in getattr(module, "__all__", ()) and not is_folder:
                found.append(_where(path, line, ".".join(parts)))
    assert not found, "Not in the package's __all__:\n" + "\n".join(sorted(set(found)))


def test_every_package_has_a_place_in_the_layers():
    packages = {p.name for p in SRC.iterdir() if (p / "__init__.py").is_file()}
    assert packages <= set(LAYERS), f"add {packages - set(LAYERS)} to LAYERS and DESIGN.md"


def test_imports_run_down_the_layers():
    rank = {name: i for i, name in enumerate(LAYERS)}
    found = [
        _where(path, line, ".".join(parts))
        for path, line, package, parts in _imports()
        if package in rank and parts[1] in rank and rank[parts[1]] > rank[package]
    ]
    assert not found, "A layer imports only the layers above it:\n" + "\n".join(sorted(set(found)))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from verdict.serving._state import open_state", ["verdict.serving._state"]),
        ("import verdict.deploy._link as link", ["verdict.deploy._link"]),
        ("from verdict.deploy import _link", ["verdict.deploy._link"]),
        ("from verdict.serving import open_state", []),
        ("from . import _x", []),
    ],
)
def test_the_rule_sees_each_import_form(source, expected):
    seen = [
        name
        for _, name in _imported(ast.parse(source))
        if name.startswith("verdict.") and _is_private(name.split("."))
    ]
    assert seen == expected
