"""`verdict evaluate --ci` and the demo print intervals; JSON carries them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from verdict.metrics import evaluate

VERDICT = [sys.executable, "-m", "verdict.cli"]


def run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "100"}
    return subprocess.run([*VERDICT, *args], capture_output=True, text=True, timeout=120, env=env)


@pytest.fixture
def predictions(tmp_path) -> Path:
    rng = np.random.default_rng(1)
    y = rng.choice(["a", "b", "c"], 200)
    p = rng.dirichlet(np.ones(3), 200)
    p[np.arange(200), np.searchsorted(["a", "b", "c"], y)] += 0.5
    p /= p.sum(axis=1, keepdims=True)
    frame = pd.DataFrame({"truth": y, "pred": np.array(["a", "b", "c"])[p.argmax(1)]})
    for k, label in enumerate("abc"):
        frame[f"proba_{label}"] = p[:, k]
    path = tmp_path / "preds.csv"
    frame.to_csv(path, index=False)
    return path


def test_ci_json_matches_the_api(predictions):
    args = ["--true", "truth", "--pred", "pred", "--proba-prefix", "proba_"]
    result = run("evaluate", str(predictions), *args, "--ci", "--seed", "3", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["interval_method"] == "percentile" and data["interval_seed"] == 3
    frame = pd.read_csv(predictions)
    proba = frame[["proba_a", "proba_b", "proba_c"]].to_numpy()
    api = evaluate(frame.truth, frame.pred, proba, labels=["a", "b", "c"], ci=True, random_state=3)
    for name in ("f1_macro", "roc_auc_macro", "log_loss"):
        assert data["intervals"][name]["low"] == pytest.approx(api.intervals[name].low)
        assert data["intervals"][name]["high"] == pytest.approx(api.intervals[name].high)


def test_ci_table_and_options(predictions):
    result = run(
        "evaluate",
        str(predictions),
        "--true",
        "truth",
        "--pred",
        "pred",
        "--ci",
        "--confidence",
        "0.9",
        "--resamples",
        "200",
        "--seed",
        "0",
    )
    assert result.returncode == 0, result.stderr
    assert "value [90% interval]" in result.stdout
    assert "90% percentile bootstrap, 200 resamples, seed 0" in result.stdout


def test_bad_confidence_exits_2(predictions):
    result = run(
        "evaluate",
        str(predictions),
        "--true",
        "truth",
        "--pred",
        "pred",
        "--ci",
        "--confidence",
        "2",
    )
    assert result.returncode == 2
    assert "confidence" in result.stderr and "Traceback" not in result.stderr
