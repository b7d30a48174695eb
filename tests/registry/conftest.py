"""Registry fixtures: trained runs (once per session) and a fresh registry per test.

Every registry test runs against SQLite, and against PostgreSQL too when
``VERDICT_TEST_POSTGRES_URL`` points at a server (``.ci/run`` starts one): each test gets its
own fresh database there.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from palmerpenguins import load_penguins

from verdict.pipeline import train
from verdict.registry import Registry

POSTGRES_URL = os.environ.get("VERDICT_TEST_POSTGRES_URL")
FAMILIES = (
    "softmax",
    "ovr_logistic",
    "decision_tree",
    "random_forest",
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
    if not POSTGRES_URL:
        pytest.skip("VERDICT_TEST_POSTGRES_URL is not set (.ci/run starts a server)")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"verdict_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def registry(registry_url, tmp_path) -> Iterator[Registry]:
    with Registry(registry_url, tmp_path / "artifacts") as opened:
        yield opened
