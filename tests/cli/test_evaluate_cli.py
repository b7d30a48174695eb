"""`verdict evaluate` and `verdict demo` as a user runs them: a real process, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm

VERDICT = [sys.executable, "-m", "verdict.cli"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*VERDICT, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.fixture
def predictions(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    y = rng.choice(["a", "b", "c"], 300)
    p = rng.dirichlet(np.ones(3), 300)
    frame = pd.DataFrame({"truth": y, "pred": np.array(["a", "b", "c"])[p.argmax(1)]})
    for k, label in enumerate("abc"):
        frame[f"proba_{label}"] = p[:, k]
    path = tmp_path / "preds.csv"
    frame.to_csv(path, index=False)
    return path


def test_json_output_matches_sklearn(predictions):
    result = run(
        "evaluate",
        str(predictions),
        "--true",
        "truth",
        "--pred",
        "pred",
        "--proba-prefix",
        "proba_",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    frame = pd.read_csv(predictions)
    proba = frame[["proba_a", "proba_b", "proba_c"]].to_numpy()
    assert data["accuracy"] == pytest.approx(skm.accuracy_score(frame.truth, frame.pred))
    assert data["log_loss"] == pytest.approx(skm.log_loss(frame.truth, proba))
    assert data["roc_auc"]["macro"] == pytest.approx(
        skm.roc_auc_score(frame.truth, proba, multi_class="ovr")
    )


def test_table_output(predictions):
    result = run("evaluate", str(predictions), "--true", "truth", "--pred", "pred")
    assert result.returncode == 0, result.stderr
    assert "confusion matrix" in result.stdout and "balanced_accuracy" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--true", "nope"], "not found"),
        (["--true", "truth", "--proba-prefix", "zz_"], "No column starts with"),
        (["--true", "truth", "--score", "proba_a", "--proba-prefix", "proba_"], "either"),
        (["--true", "truth", "--costs", "fp=1,fn=2"], "no --pred column"),
        (["--true", "truth", "--pred", "pred", "--costs", "fp=1,fn=2"], "two classes"),
        (["--true", "truth", "--pred", "pred", "--costs", "fp=lots"], "neither 'fp=X,fn=Y'"),
    ],
)
def test_bad_input_exits_2_without_traceback(predictions, args, message):
    result = run("evaluate", str(predictions), *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_costs_give_the_mean_cost_of_the_predictions(predictions, tmp_path):
    # The one --costs spelling of advise and train: here a cost-matrix file (header: the
    # predicted class, first column the true class), checked against a hand computation.
    costs = pd.DataFrame([[0, 1, 5], [2, 0, 1], [10, 3, 0]], index=list("abc"), columns=list("abc"))
    costs.to_csv(tmp_path / "costs.csv")
    columns = ["--true", "truth", "--pred", "pred", "--costs", str(tmp_path / "costs.csv")]
    result = run("evaluate", str(predictions), *columns, "--json", "--ci", "--seed", "3")
    assert result.returncode == 0, result.stderr
    cost = json.loads(result.stdout)["expected_cost"]
    frame = pd.read_csv(predictions)
    by_hand = np.mean([costs.loc[t, p] for t, p in zip(frame.truth, frame.pred, strict=True)])
    assert cost["estimate"] == pytest.approx(by_hand)
    assert cost["low"] < by_hand < cost["high"]
    text = run("evaluate", str(predictions), *columns)
    assert f"expected cost per row: {by_hand:.4g}" in text.stdout


def test_missing_file_exits_2(tmp_path):
    result = run("evaluate", str(tmp_path / "none.csv"), "--true", "y")
    assert result.returncode == 2 and "does not exist" in result.stderr


def test_version():
    result = run("--version")
    assert result.returncode == 0 and result.stdout.startswith("verdict ")
