"""Build scikit-learn's own metric tests with verdict's names swapped in.

The source is read from the installed scikit-learn, never copied into this repository, so the
assertions are scikit-learn's to the letter. Every name that ``sklearn.metrics`` imports into
the test file and that ``verdict.metrics`` exports is imported from verdict instead; private
helpers (``sklearn.metrics._ranking._dcg_sample_scores``...) stay scikit-learn's.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import sklearn

import verdict.metrics

TEST_FOLDER = Path(sklearn.__file__).parent / "metrics" / "tests"


def swapped_names(tree: ast.Module) -> list[str]:
    """Names the file imports from ``sklearn.metrics`` that verdict also exports."""
    ours = set(verdict.metrics.__all__)
    names = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "sklearn.metrics":
            names += [a.name for a in node.names if a.name in ours and a.asname is None]
    return sorted(set(names))


def swap_imports(tree: ast.Module) -> list[str]:
    """Rewrite ``tree`` in place: the swapped names come from ``verdict.metrics``."""
    names = swapped_names(tree)
    kept: list[ast.stmt] = []
    last_import = 0
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "sklearn.metrics":
            node.names = [alias for alias in node.names if alias.name not in names]
            if not node.names:
                continue
        kept.append(node)
        if isinstance(node, ast.Import | ast.ImportFrom):
            last_import = len(kept)
    ours = ast.ImportFrom(module="verdict.metrics", names=[ast.alias(n) for n in names], level=0)
    kept.insert(last_import, ours)
    tree.body = kept
    ast.fix_missing_locations(tree)
    return names


def load_into(namespace: dict[str, Any], file_name: str, config: Any = None) -> list[str]:
    """Execute scikit-learn's ``file_name`` in ``namespace`` (a test module's globals).

    pytest then collects its tests, fixtures and parametrisations as this module's own. The
    assertions are rewritten by pytest's rewriter, so failures explain themselves as usual.
    """
    path = TEST_FOLDER / file_name
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    names = swap_imports(tree)
    from _pytest.assertion.rewrite import rewrite_asserts

    rewrite_asserts(tree, source.encode(), str(path), config)
    exec(compile(tree, str(path), "exec"), namespace)  # scikit-learn's own test code
    return names
