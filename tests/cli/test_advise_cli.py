"""`verdict advise`: the recommendation for a file, with costs from flags or a cost table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from verdict.cli import app
from verdict.metrics._advice import recommend_metrics

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, ["advise", *map(str, args)])


@pytest.fixture
def binary(tmp_path) -> Path:
    y = np.repeat(["ham", "spam"], [180, 20])
    path = tmp_path / "mail.csv"
    pd.DataFrame({"label": y, "x": np.arange(200)}).to_csv(path, index=False)
    return path


@pytest.fixture
def multiclass(tmp_path) -> Path:
    y = np.repeat([3, 1, 2], [100, 60, 40])  # integer labels, file order unsorted
    path = tmp_path / "classes.parquet"
    pd.DataFrame({"species": y}).to_parquet(path)
    return path


def test_real_process_prints_the_recommendation(binary):
    result = subprocess.run(
        [sys.executable, "-m", "verdict.cli", "advise", str(binary), "--target", "label"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "primary: matthews_corrcoef" in result.stdout
    assert "imbalanced" in result.stdout and "spam" in result.stdout


def test_json_matches_the_python_api(binary):
    result = invoke(binary, "--target", "label", "--cost-fp", 1, "--cost-fn", 10, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    expected = recommend_metrics(
        pd.read_csv(binary)["label"].to_numpy(), costs={"fp": 1.0, "fn": 10.0}
    )
    signal = data.pop("feature_signal")
    assert data == json.loads(json.dumps(expected.to_dict()))
    assert data["primary"] == "expected_cost" and "pos_label='spam'" in data["decision"]
    # x orders the rows by label: all the information there is
    assert signal["best_feature"] == "x" and not signal["little_signal"]
    assert signal["best"] > signal["shuffled_max"]


def test_pos_label_and_needs_probabilities(binary):
    result = invoke(binary, "--target", "label", "--pos-label", "ham", "--needs-probabilities")
    assert result.exit_code == 0, result.stderr
    assert "primary: log_loss" in result.stdout
    data = json.loads(invoke(binary, "--target", "label", "--pos-label", "ham", "--json").stdout)
    assert data["positive_label"] == "ham"


def test_cost_matrix_with_row_labels_in_any_order(multiclass, tmp_path):
    table = tmp_path / "costs.csv"
    pd.DataFrame({"truth": [2, 3, 1], "3": [5, 0, 1], "1": [1, 1, 0], "2": [0, 1, 1]}).to_csv(
        table, index=False
    )
    result = invoke(multiclass, "--target", "species", "--cost-matrix", table, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    # sorted order 1, 2, 3: rows and columns reordered from the table's labels
    sorted_costs = np.array([[0, 1, 1], [1, 0, 5], [1, 1, 0]])
    y = pd.read_parquet(multiclass)["species"].to_numpy()
    assert data.pop("feature_signal") is None  # the file holds only the target
    assert data == json.loads(json.dumps(recommend_metrics(y, costs=sorted_costs).to_dict()))
    assert data["cost_asymmetry"] == 5


def test_square_cost_matrix_rows_follow_the_header(multiclass, tmp_path):
    table = tmp_path / "costs.csv"
    pd.DataFrame({"2": [0, 1, 1], "3": [5, 0, 1], "1": [1, 1, 0]}).to_csv(table, index=False)
    result = invoke(multiclass, "--target", "species", "--cost-matrix", table)
    assert result.exit_code == 0, result.stderr
    assert "CostSensitiveDecision" in result.stdout
    assert "predicting 3 for a true 2" in " ".join(result.stdout.split())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "nope"], "Column 'nope' not found"),
        (["--target", "label", "--cost-fp", "1"], "Pass both --cost-fp and --cost-fn"),
        (["--target", "label", "--cost-fp", "1", "--cost-fn", "-2"], "costs['fn']"),
        (["--target", "label", "--pos-label", "eggs"], "'eggs' is not a class"),
        (
            ["--target", "label", "--cost-fp", "1", "--cost-fn", "2", "--cost-matrix", "x.csv"],
            "not both",
        ),
    ],
)
def test_bad_flags_exit_2_with_one_line(binary, args, message):
    result = invoke(binary, *args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.startswith("error:")


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"1": [0, 1], "2": [1, 0]}), "has shape (2, 2) but the target has 3"),
        (pd.DataFrame({"1": [0, 1, 1], "2": [1, 0, 1], "9": [1, 1, 0]}), "'9' is not a class"),
        (pd.DataFrame({"1": [0, 1, 1], "2": [1, 0, 1], "3": [-1, 1, 0]}), "negative cost"),
        (pd.DataFrame({"1": [0, 1, 1], "2": [1, 0, 1], "3": ["a", 1, 0]}), "non-numeric"),
    ],
)
def test_bad_cost_matrix_files(multiclass, tmp_path, frame, message):
    table = tmp_path / "costs.csv"
    frame.to_csv(table, index=False)
    result = invoke(multiclass, "--target", "species", "--cost-matrix", table)
    assert result.exit_code == 2 and message in result.stderr


def test_missing_labels_and_missing_files(tmp_path):
    path = tmp_path / "gaps.csv"
    pd.DataFrame({"y": [1, None, 0, 1]}).to_csv(path, index=False)
    result = invoke(path, "--target", "y")
    assert result.exit_code == 2 and "1 missing labels" in result.stderr
    result = invoke(tmp_path / "absent.csv", "--target", "y")
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_costs_is_the_one_spelling_and_the_old_flags_are_hidden_aliases(
    binary, multiclass, tmp_path
):
    new = invoke(binary, "--target", "label", "--costs", "fp=1,fn=10", "--json")
    old = invoke(binary, "--target", "label", "--cost-fp", 1, "--cost-fn", 10, "--json")
    assert new.exit_code == 0 and old.exit_code == 0, new.stderr + old.stderr
    assert json.loads(new.stdout) == json.loads(old.stdout)
    table = tmp_path / "costs.csv"
    pd.DataFrame({"truth": [2, 3, 1], "3": [5, 0, 1], "1": [1, 1, 0], "2": [0, 1, 1]}).to_csv(
        table, index=False
    )
    new = invoke(multiclass, "--target", "species", "--costs", table, "--json")
    old = invoke(multiclass, "--target", "species", "--cost-matrix", table, "--json")
    assert new.exit_code == 0 and json.loads(new.stdout) == json.loads(old.stdout)
    both = invoke(binary, "--target", "label", "--costs", "fp=1,fn=2", "--cost-fp", 1)
    assert both.exit_code == 2 and "not both" in both.stderr
    bad = invoke(binary, "--target", "label", "--costs", "fp=1,fn=oops")
    assert bad.exit_code == 2 and "--costs" in bad.stderr and "To fix" in bad.stderr
    shown = runner.invoke(app, ["advise", "--help"]).stdout
    assert "--costs" in shown and "--cost-fp" not in shown and "--cost-matrix" not in shown


def test_features_that_say_nothing_about_the_target_are_warned_about(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=400), "b": rng.choice(["p", "q"], 400)})
    frame["label"] = rng.choice(["x", "y", "z"], 400)
    path = tmp_path / "noise.csv"
    frame.to_csv(path, index=False)
    result = invoke(path, "--target", "label")
    assert result.exit_code == 0, result.stderr
    assert "warning: the features carry little information about 'label'" in result.stdout
    assert "shuffled" in result.stdout
    signal = json.loads(invoke(path, "--target", "label", "--json").stdout)["feature_signal"]
    assert signal["little_signal"] is True and set(signal["per_feature"]) == {"a", "b"}


def test_informative_features_get_no_warning(binary):
    result = invoke(binary, "--target", "label")
    assert result.exit_code == 0 and "carry little information" not in result.stdout


def test_a_table_with_only_the_target_has_no_signal_section(multiclass):
    result = invoke(multiclass, "--target", "species", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["feature_signal"] is None
