"""``train`` end to end on small tables: the run directory, run.json, and each step's record.

The search is pinned to a fixed number of configs (``fixed_search``) so that the runs are fast
and comparable; the real, time-planned search is exercised by the CLI test and the benchmark.
"""

from __future__ import annotations

import json
import sys
import types

import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn.ensemble import VotingClassifier
from sklearn.pipeline import Pipeline
from train_support import (
    FixedPlanner,
    binary_table,
    fast_train,
    fixed_search,  # noqa: F401 (fixture)
    penguins,
    without_times,
)

from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.metrics import accuracy_score, optimal_threshold
from verdict.models import SoftmaxRegression, TemperatureScaled
from verdict.pipeline import Run, _explain, _search, _train, build_preprocessor
from verdict.pipeline._decision import cost_matrix
from verdict.pipeline._explain import original_feature, shap_importance

RUN_KEYS = [
    "verdict_version", "created", "data", "schema", "data_report", "profile", "advice",
    "primary_metric", "candidates", "best", "runner_up", "search", "final", "test",
    "comparisons", "decision", "signal", "importance", "shap", "lineage", "time_budget",
    "elapsed_seconds",
]  # fmt: skip
COMPARISON_KEYS = {
    "model", "against", "against_model", "metric", "estimate_model", "estimate_against",
    "difference", "low", "high", "p_value", "test",
}  # fmt: skip


@pytest.fixture(scope="module")
def penguin_run(tmp_path_factory) -> Run:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_search, "Planner", FixedPlanner)
        return fast_train(penguins(), "species", tmp_path_factory.mktemp("runs") / "penguins")


def test_run_directory_holds_the_contract_files(penguin_run):
    names = {p.name for p in penguin_run.run_dir.iterdir()}
    assert {"run.json", "test_predictions.parquet", "model.skops"} <= names
    info = json.loads((penguin_run.run_dir / "run.json").read_text(encoding="utf-8"))
    assert list(info) == RUN_KEYS
    assert info == penguin_run.info == penguin_run.to_dict()
    assert repr(penguin_run.info["best"]) in str(penguin_run)


def test_data_block_counts_rows_and_fingerprints_the_training_rows(penguin_run):
    data = penguin_run.info["data"]
    assert data["classes"] == ["Adelie", "Chinstrap", "Gentoo"]
    assert (data["n_rows"], data["n_train"] + data["n_test"]) == (344, 344)
    assert data["n_test"] == 69  # 20%, stratified
    assert len(data["fingerprint"]) == 64 and int(data["fingerprint"], 16) >= 0
    assert data["target"] == "species" and data["source"].startswith("DataFrame")
    # the profile describes the training rows only
    assert penguin_run.info["profile"]["n_rows"] == data["n_train"]


def test_candidates_are_best_first_and_the_best_is_the_model(penguin_run):
    info = penguin_run.info
    means = [c["cv_mean"] for c in info["candidates"]]
    assert means == sorted(means, reverse=True)
    members = info["final"]["members"]
    if len(members) > 1:  # an ensemble; its runner-up is the best single config
        assert info["best"] == "ensemble" and info["runner_up"] == info["candidates"][0]["family"]
    else:
        assert info["best"] == members[0]["family"] == info["candidates"][0]["family"]
        assert info["runner_up"] == info["candidates"][1]["family"]
    assert sum(c["n_configs"] for c in info["candidates"]) == 4
    n_folds = 5 * _search.repeats(info["data"]["n_train"])  # the search repeats small-table CV
    assert all(len(c["cv_scores"]) == n_folds for c in info["candidates"])
    assert info["primary_metric"] == info["advice"]["primary"] == "f1_macro"
    expected = {
        "softmax": "SoftmaxRegression",
        "decision_tree": "DecisionTreeClassifier",
        "ensemble": "VotingClassifier",
    }
    model = penguin_run.model
    model = model.estimator_ if isinstance(model, TemperatureScaled) else model
    model = model[-1] if isinstance(model, Pipeline) else model
    model = model.estimator_ if isinstance(model, TemperatureScaled) else model
    assert type(model).__name__ == expected[info["best"]]


def test_test_predictions_are_the_models_on_the_held_out_rows(penguin_run):
    frame = pd.read_parquet(penguin_run.run_dir / "test_predictions.parquet")
    classes = penguin_run.info["data"]["classes"]
    assert list(frame.columns) == ["y_true", "y_pred", *(f"proba_{c}" for c in classes)]
    assert len(frame) == penguin_run.info["data"]["n_test"]
    proba = frame.filter(like="proba_").to_numpy()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    test = penguin_run.info["test"]
    assert accuracy_score(frame["y_true"], frame["y_pred"]) == pytest.approx(test["accuracy"])
    assert test["labels"] == classes and test["intervals"]["accuracy"]["low"] <= test["accuracy"]
    assert penguin_run.evaluation.accuracy == test["accuracy"]


def test_skops_model_loads_and_predicts_like_the_run(penguin_run):
    path = penguin_run.run_dir / "model.skops"
    loaded = skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))
    X = penguins()[list(penguin_run.schema.features)].head(40)
    np.testing.assert_array_equal(loaded.predict(X), penguin_run.model.predict(X))
    np.testing.assert_allclose(loaded.predict_proba(X), penguin_run.model.predict_proba(X))


def test_comparisons_with_runner_up_and_baseline_are_paired_bootstraps(penguin_run):
    rows = penguin_run.info["comparisons"]
    assert [(r["against"], r["metric"], r["test"]) for r in rows] == [
        ("runner_up", "f1_macro", "paired_bootstrap"),
        ("baseline", "f1_macro", "paired_bootstrap"),
        ("stratified", "f1_macro", "paired_bootstrap"),
        ("baseline", "log_loss", "paired_bootstrap"),  # the prior is the bar for probabilities
    ]
    assert all(set(r) == COMPARISON_KEYS for r in rows)
    baseline = rows[1]
    assert baseline["against_model"] == "majority_class" and baseline["metric"] == "f1_macro"
    assert baseline["low"] > 0 and baseline["p_value"] < 0.01
    difference = baseline["estimate_model"] - baseline["estimate_against"]
    assert baseline["difference"] == pytest.approx(difference)


def test_importance_ranks_every_feature_once(penguin_run):
    rows = penguin_run.info["importance"]
    assert sorted(r["feature"] for r in rows) == sorted(penguin_run.schema.features)
    means = [r["mean"] for r in rows]
    assert means == sorted(means, reverse=True) and means[0] > 0
    assert penguin_run.info["shap"] is None  # shap is not installed here


def test_lineage_records_what_reproduces_the_run(penguin_run):
    lineage = penguin_run.info["lineage"]
    assert lineage["seed"] == 0 and lineage["python"].count(".") == 2
    assert {"numpy", "scipy", "pandas", "scikit-learn", "verdict"} <= set(lineage["packages"])
    params = lineage["params"]
    assert params["target"] == "species" and params["models"] == ["softmax", "decision_tree"]
    assert params["time_budget"] == 1000.0 and params["cv"] == 5 and params["test_size"] == 0.2


@pytest.mark.usefixtures("fixed_search")
def test_same_seed_gives_the_same_run_and_auc_gets_delong(tmp_path, capfd):
    table = binary_table()
    a = fast_train(table, "label", tmp_path / "a", metric="roc_auc")
    b = fast_train(table, "label", tmp_path / "b", metric="roc_auc")
    assert without_times(a.info) == without_times(b.info)
    assert capfd.readouterr() == ("", "")  # quiet means quiet
    assert a.info["primary_metric"] == "roc_auc_binary"
    tests = [(r["against"], r["test"]) for r in a.info["comparisons"]]
    assert ("runner_up", "delong") in tests and ("baseline", "delong") in tests
    delong = {r["against"]: r for r in a.info["comparisons"] if r["test"] == "delong"}
    assert delong["baseline"]["estimate_against"] == pytest.approx(0.5)  # a constant score


@pytest.mark.usefixtures("fixed_search")
def test_accuracy_gets_mcnemar_and_progress_shows_when_not_quiet(tmp_path, capfd):
    run = fast_train(penguins(), "species", tmp_path / "run", metric="accuracy", quiet=False)
    assert "new best" in capfd.readouterr().err
    tests = [(r["against"], r["test"], r["metric"]) for r in run.info["comparisons"]]
    assert ("baseline", "mcnemar", "accuracy") in tests
    assert ("runner_up", "paired_bootstrap", "accuracy") in tests


@pytest.mark.usefixtures("fixed_search")
def test_binary_costs_choose_the_threshold_on_out_of_fold_predictions(tmp_path):
    table = binary_table()
    run = fast_train(table, "label", tmp_path / "run", costs={"fp": 1, "fn": 5})
    info = run.info
    assert info["primary_metric"] == "expected_cost"
    assert {r["metric"] for r in info["comparisons"]} == {"expected_cost", "log_loss"}
    decision = info["decision"]
    assert decision["kind"] == "threshold" and decision["pos_label"] == "yes"
    assert decision["test_expected_cost"] >= 0 and decision["test_expected_cost_argmax"] >= 0
    assert info["lineage"]["params"]["costs"] == {"fp": 1.0, "fn": 5.0}


def test_the_cost_rule_reads_the_searchs_out_of_fold_probabilities(tmp_path, monkeypatch):
    seen = {}
    original = _train.choose_decision

    def spy(costs, classes, y_train, oof, y_test, proba):
        seen["y"], seen["oof"] = y_train, oof
        return original(costs, classes, y_train, oof, y_test, proba)

    monkeypatch.setattr(_train, "choose_decision", spy)
    costs = {"fp": 1, "fn": 5}
    run = fast_train(binary_table(), "label", tmp_path / "run", costs=costs, max_configs=4)
    oof, y = seen["oof"], np.asarray(seen["y"])
    assert oof.shape == (len(y), 2) and np.allclose(oof.sum(axis=1), 1.0)
    choice = optimal_threshold(
        y, oof[:, 1], objective="cost", cost_fp=1, cost_fn=5, pos_label="yes"
    )
    assert run.info["decision"]["threshold"] == pytest.approx(choice.threshold)
    # out of fold: not the refit model's own (over-confident) probabilities of its training rows
    from verdict.data import check_table
    from verdict.pipeline._inputs import split

    table = binary_table()
    parts = split(check_table(table, "label", warn=False), table, None, test_size=0.2, seed=0)
    assert not np.allclose(run.model.predict_proba(parts.X_train), oof)


def test_cost_matrix_reads_every_accepted_form():
    classes = [0, 1, 2]
    square = [[0, 1, 2], [3, 0, 4], [5, 6, 0]]
    np.testing.assert_array_equal(cost_matrix(square, classes), square)
    labelled = pd.DataFrame(square, index=["0", "1", "2"], columns=["0.0", "1.0", "2.0"])
    shuffled = labelled.loc[["2", "0", "1"], ["1.0", "2.0", "0.0"]]
    np.testing.assert_array_equal(cost_matrix(shuffled, classes), square)
    np.testing.assert_array_equal(cost_matrix({"fp": 1, "fn": 9}, ["a", "b"]), [[0, 1], [9, 0]])
    assert cost_matrix(None, classes) is None
    for bad in ({"fp": 1, "fn": 2}, [[0, 1], [1, 0]], [[0, -1, 0]] * 3, shuffled.iloc[:2]):
        with pytest.raises(InvalidParameterError, match="To fix"):
            cost_matrix(bad, classes)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"time_budget": -1}, "time_budget"),
        ({"seed": "zero"}, "seed"),
        ({"metric": "nope"}, "metric"),
        ({"metric": "f1_binary"}, "binary metric"),
        ({"metric": "expected_cost"}, "costs"),
        ({"models": ["nope"]}, "models"),
        ({"costs": {"fp": 1, "fn": 2}}, "costs"),
        ({"test_data": "rows.csv"}, "test_data"),
        ({"test_data": penguins().drop(columns="island")}, "island"),
        ({"test_data": penguins().assign(species="Emperor")}, "Emperor"),
    ],
)
def test_unusable_arguments_raise_before_any_fit(tmp_path, kwargs, match):
    with pytest.raises(InvalidInputError, match=match) as caught:
        fast_train(penguins(), "species", tmp_path / "run", **kwargs)
    assert "To fix" in str(caught.value)
    assert not (tmp_path / "run" / "run.json").exists()


def test_bad_data_and_out_raise(tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "run.json").write_text("{}")
    with pytest.raises(InvalidInputError, match="already holds a run"):
        fast_train(penguins(), "species", tmp_path / "old")
    with pytest.raises(InvalidInputError, match="data must be"):
        fast_train([1, 2, 3], "species", tmp_path / "new")
    with pytest.raises(InvalidInputError, match="does not exist"):
        fast_train(tmp_path / "missing.csv", "species", tmp_path / "new")
    with pytest.raises(InvalidInputError, match="target"):
        fast_train(penguins(), "Species", tmp_path / "new")


def test_shap_values_are_summed_back_to_the_original_columns(penguin_run, monkeypatch):
    features = ["bill_length_mm", "island", "sex"]
    assert original_feature("numeric__bill_length_mm", features) == "bill_length_mm"
    assert original_feature("categorical__island_Biscoe", features) == "island"
    indicator = "numeric__missingindicator_bill_length_mm"
    assert original_feature(indicator, features) == "bill_length_mm"
    assert original_feature("other__unknown", features) is None

    class Explanation:
        def __init__(self, rows):
            self.values = np.ones((rows.shape[0], rows.shape[1], 3))

    fake = types.ModuleType("shap")
    fake.maskers = types.SimpleNamespace(Independent=lambda data, max_samples: data)
    fake.Explainer = lambda f, masker, seed: Explanation
    monkeypatch.setitem(sys.modules, "shap", fake)
    monkeypatch.setattr(_explain, "shap_available", lambda: True)
    X = penguins()[list(penguin_run.schema.features)]
    y = penguins()["species"]
    prep = build_preprocessor(penguin_run.schema, "scaled")
    model = Pipeline([("preprocess", prep), ("model", SoftmaxRegression())]).fit(X, y)
    ensemble = VotingClassifier([("softmax", model)], voting="soft").fit(X, y)
    assert shap_importance(ensemble, X, X.head(30), seed=0) is None  # no one matrix to explain
    values = shap_importance(model, X, X.head(30), seed=0)
    names = model[:-1].get_feature_names_out()
    assert set(values) == set(X.columns)
    assert sum(values.values()) == pytest.approx(len(names))  # each output column counted once
    assert values["island"] == pytest.approx(sum("island" in n for n in names))


@pytest.mark.usefixtures("fixed_search")
def test_one_family_has_no_runner_up_and_is_compared_with_the_baseline_only(tmp_path):
    run = fast_train(binary_table(), "label", tmp_path / "run", models=["softmax"])
    assert len(run.info["candidates"]) == 1
    single = len(run.info["final"]["members"]) == 1
    # a lone softmax has no runner-up; softmax blended with the prior has the plain softmax
    assert run.info["runner_up"] == (None if single else "softmax")
    against = {r["against"] for r in run.info["comparisons"]}
    assert against == ({"baseline", "stratified"} | (set() if single else {"runner_up"}))
