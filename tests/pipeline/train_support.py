"""Helpers shared by the training tests: small tables and a search that tries a fixed set of
configs, so that two runs are comparable number for number (the real search stops on time)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from palmerpenguins import load_penguins

from verdict.pipeline import _search
from verdict.pipeline._plan import Planner

FAST_MODELS = ["softmax", "decision_tree"]
N_CONFIGS = 4
TIMES = ("created", "elapsed_seconds")


class FixedPlanner(Planner):
    """The search's planner, ignoring the clock: the first ``N_CONFIGS`` configs it proposes."""

    def next(self, remaining: float, *, first: bool = False) -> tuple[str, dict[str, Any]] | None:
        if self.n_trials >= N_CONFIGS:
            return None
        return super().next(math.inf, first=first)


@pytest.fixture
def fixed_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the search deterministic: a fixed number of configs, whatever the machine's speed."""
    monkeypatch.setattr(_search, "Planner", FixedPlanner)


def penguins() -> pd.DataFrame:
    """palmerpenguins: 344 rows, 3 classes, missing values, categoricals."""
    return load_penguins()


def binary_table(n: int = 240, seed: int = 0) -> pd.DataFrame:
    """Two overlapping classes, three numeric features and one categorical."""
    rng = np.random.default_rng(seed)
    y = rng.choice(["no", "yes"], size=n, p=[0.7, 0.3])
    shift = (y == "yes").astype(float)
    return pd.DataFrame(
        {
            "a": rng.normal(shift, 1.0),
            "b": rng.normal(-shift, 1.5),
            "c": rng.normal(0.0, 1.0, n),
            "group": rng.choice(["x", "y", "z"], n),
            "label": y,
        }
    )


def fast_train(data: Any, target: str, out: Path, **kwargs: Any) -> Any:
    """``train`` with two cheap families, quiet, single-process (so fits run in this process)."""
    from verdict.pipeline import train

    options = {"models": FAST_MODELS, "time_budget": 1000.0, "quiet": True, "n_jobs": 1}
    return train(data, target, out=out, **{**options, **kwargs})


def without_times(info: dict[str, Any]) -> dict[str, Any]:
    """run.json minus what depends on the clock or the output folder."""
    info = {k: v for k, v in info.items() if k not in TIMES}
    info["candidates"] = [{**c, "fit_seconds": None} for c in info["candidates"]]
    params = {**info["lineage"]["params"], "out": None}
    info["lineage"] = {**info["lineage"], "params": params}
    return info
