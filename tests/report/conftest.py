"""Run directories for the report tests, built once per session (see ``report_runs``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from report_runs import build_run

from verdict.report import write_report

# name -> (table, build options)
VARIANTS = {
    "multiclass_cost_shap": ("multiclass", {"decision": True, "importance": True, "shap": True}),
    "binary_threshold": ("binary", {"decision": True, "importance": True}),
    "binary_plain": ("binary", {"decision": False, "importance": False}),
    "wine_int_labels": ("wine", {"decision": False, "importance": True}),
}


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``built(name)``: the run directory of a variant, with its report written (cached)."""
    cache: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in cache:
            kind, options = VARIANTS[name]
            run_dir = build_run(tmp_path_factory.mktemp(name), kind, **options)
            write_report(run_dir)
            cache[name] = run_dir
        return cache[name]

    return get
