"""Registry fixtures: trained runs (once per session) and a fresh registry per test.

Every registry test runs against SQLite, and against PostgreSQL too when
``VERDICT_TEST_POSTGRES_URL`` points at a server (``.ci/run`` starts one): each test gets its
own fresh database there.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from palmerpenguins import load_penguins

from postgres_support import fresh_database
from verdict.pipeline import train
from verdict.registry import Registry

FAMILIES = (
    "softmax",
    "ovr_logistic",
    "decision_tree",
    "random_forest",
    "extra_trees",
    "svm",
    "mlp",
    "hist_gradient_boosting",
)


def train_run(out: Path, family: str, data=None, target: str = "species", **kwargs) -> Path:
    """Train one family quickly into ``out`` (penguins unless ``data`` is given)."""
    frame = load_penguins() if data is None else data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train(frame, target, models=[family], time_budget=3, cv=3, quiet=True, out=out, **kwargs)
    return out


@pytest.fixture(scope="session")
def run_dirs(tmp_path_factory) -> dict[str, Path]:
    """One penguins run per model family (each a few seconds)."""
    root = tmp_path_factory.mktemp("runs")
    return {family: train_run(root / family, family) for family in FAMILIES}


@pytest.fixture(scope="session")
def run_dir(run_dirs) -> Path:
    return run_dirs["softmax"]


@pytest.fixture(scope="session")
def threshold_run_dir(tmp_path_factory) -> Path:
    """A binary run with costs: its decision policy is a threshold, not argmax."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    out = tmp_path_factory.mktemp("costly") / "run"
    return train_run(out, "softmax", data=frame, target="target", costs={"fp": 1, "fn": 10})


@pytest.fixture(params=["sqlite", "postgresql"])
def registry_url(request, tmp_path) -> Iterator[str]:
    """A fresh, empty metadata database: SQLite in tmp_path, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    with fresh_database("verdict_test") as url:
        yield url


@pytest.fixture
def registry(registry_url, tmp_path) -> Iterator[Registry]:
    with Registry(registry_url, tmp_path / "artifacts") as opened:
        yield opened
