"""search: budget, ranking direction, isolation of folds, scorers, results and errors."""

from __future__ import annotations

import importlib.util
import json
import time
from itertools import pairwise
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.pipeline import Pipeline

import verdict.metrics as vm
from verdict.data import infer_schema
from verdict.errors import ConfigurationError, InvalidInputError, InvalidParameterError
from verdict.pipeline import Family, Trial, greater_is_better, metric_scorer, search
from verdict.pipeline._rank import rank_candidates
from verdict.pipeline._search import repeats

FAST = ["softmax", "decision_tree", "ovr_logistic"]


def _table(n: int = 90, k: int = 3, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.array([f"c{i % k}" for i in range(n)])
    codes = np.array([int(v[1:]) for v in y])
    X = pd.DataFrame(
        {
            "a": rng.normal(codes, 1.0),
            "b": rng.normal(-codes, 1.5),
            "colour": rng.choice(["red", "blue"], n),
        }
    )
    X.loc[::11, "a"] = np.nan
    return X, y


@pytest.fixture(scope="module")
def table():
    X, y = _table()
    return X, y, infer_schema(X.assign(y=y), "y")


def test_a_tiny_budget_is_respected(table):
    X, y, schema = table
    start = time.perf_counter()
    result = search(X, y, schema, metric="f1_macro", time_budget=3.0)
    assert time.perf_counter() - start < 3.0
    assert result.elapsed_seconds < 3.0 and len(result.candidates) >= 1


def test_candidates_are_sorted_best_first_one_per_family(table):
    X, y, schema = table
    result = search(X, y, schema, families=FAST, metric="accuracy", time_budget=8.0, seed=1)
    means = [c.cv_mean for c in result.candidates]
    assert result.greater_is_better
    resolution = 1 / (len(y) * repeats(len(y)))  # one row's error in one fold
    assert all(a > b - resolution for a, b in pairwise(means))
    scored = {t.family for t in result.trials if t.error is None}
    assert sorted(c.family for c in result.candidates) == sorted(scored)
    assert len(scored) >= 2  # on a busy machine the last default may not fit in the budget
    tried = {f: sum(t.family == f for t in result.trials if t.error is None) for f in FAST}
    for c in result.candidates:
        assert c.n_configs == tried[c.family] >= 1
        assert len(c.cv_scores) == 5 * repeats(len(y))
        assert c.cv_mean == pytest.approx(np.mean(c.cv_scores))
    best_trial = max(result.trials, key=lambda t: t.cv_mean if t.error is None else -1)
    assert result.best.cv_mean > best_trial.cv_mean - resolution


def _trial(family, mean, fit=1.0, loss=None):
    tiebreak = () if loss is None else (loss, loss)
    return Trial(family, {"k": mean}, (mean, mean), fit, 2 * fit, tiebreak=tiebreak)


def test_ranking_ties_within_one_row_go_to_the_lower_log_loss():
    order = {"softmax": 0, "svm": 1, "mlp": 2}
    trials = [
        _trial("mlp", 0.990, loss=0.30),
        _trial("mlp", 0.980, loss=0.01),
        _trial("softmax", 0.987, loss=0.20),
        _trial("svm", 0.986, loss=0.10),
        _trial("softmax", 0.970, loss=0.05),
    ]
    ranked = rank_candidates(trials, True, tie=0.005, order=order)
    assert [c.family for c in ranked] == ["svm", "softmax", "mlp"]
    assert ranked[1].cv_mean == 0.987 and ranked[1].n_configs == 2  # best score per family
    strict = rank_candidates(trials, True, tie=0.0, order=order)
    assert [c.family for c in strict] == ["mlp", "softmax", "svm"]
    no_losses = [_trial("mlp", 0.990), _trial("softmax", 0.987)]
    assert rank_candidates(no_losses, True, 0.005, order)[0].family == "softmax"  # simpler
    losses = rank_candidates([_trial("svm", 0.3), _trial("mlp", 0.2)], False, 0.0, order)
    assert [c.family for c in losses] == ["mlp", "svm"]


def test_within_a_family_the_first_of_tied_configs_is_kept():
    trials = [_trial("svm", 0.984, loss=0.10), _trial("svm", 0.986, loss=0.05)]
    (svm,) = rank_candidates(trials, True, tie=0.005, order={"svm": 0})
    assert svm.cv_mean == 0.984 and svm.n_configs == 2  # the default beats a lucky draw
    (strict,) = rank_candidates(trials, True, tie=0.0, order={"svm": 0})
    assert strict.cv_mean == 0.986


def test_every_config_records_its_log_loss_per_fold(table):
    X, y, schema = table
    result = search(X, y, schema, families=["softmax"], metric="accuracy", time_budget=0.1)
    trial = result.trials[0]
    assert len(trial.tiebreak) == len(trial.cv_scores) and min(trial.tiebreak) > 0
    loss = search(X, y, schema, families=["softmax"], metric="log_loss", time_budget=0.1)
    # for log loss itself the record is the score (the prior guard and ensembles read it)
    assert loss.trials[0].tiebreak == pytest.approx(loss.trials[0].cv_scores)


def test_losses_are_minimised_and_reported_positive(table):
    X, y, schema = table
    result = search(X, y, schema, families=FAST, metric="log_loss", time_budget=3.0)
    means = [c.cv_mean for c in result.candidates]
    assert not result.greater_is_better and result.metric == "log_loss"
    assert means == sorted(means) and min(means) > 0


def test_best_pipeline_is_unfitted_with_the_best_params(table):
    X, y, schema = table
    # 8 s: under two loaded test workers a 3 s budget fitted only the first family
    result = search(X, y, schema, families=FAST, metric="f1_macro", time_budget=8.0)
    pipe = result.best_pipeline()
    assert isinstance(pipe, Pipeline) and list(pipe.named_steps) == ["preprocess", "model"]
    assert not hasattr(pipe.named_steps["model"], "classes_")
    params = {k: v for k, v in result.best.params.items() if k != "scaler"}
    assert params.items() <= pipe.named_steps["model"].get_params().items()
    runner_up = result.candidates[1].family
    other = result.best_pipeline(runner_up).fit(X, y)
    assert other.predict_proba(X).shape == (len(X), 3)
    with pytest.raises(InvalidParameterError, match=r"best_pipeline.*To fix"):
        result.best_pipeline("mlp")


def test_progress_is_called_after_each_config(table):
    X, y, schema = table
    events = []
    result = search(
        X, y, schema, families=FAST, metric="f1_macro", time_budget=2.0, progress=events.append
    )
    assert len(events) == len(result.trials)
    keys = {"family", "params", "score", "best_family", "best_score", "n_configs", "elapsed"}
    assert keys <= set(events[-1])
    assert events[-1]["best_score"] == pytest.approx(result.best.cv_mean)


def test_result_is_json_ready(table):
    X, y, schema = table
    result = search(X, y, schema, families=["softmax"], metric="roc_auc_ovr", time_budget=1.0)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["metric"] == "roc_auc_macro" and data["candidates"][0]["family"] == "softmax"
    assert str(result).startswith("SearchResult(")


class _Spy(ClassifierMixin, BaseEstimator):
    """Records the row ids (first column, passed through unscaled) of every fit."""

    seen: ClassVar[list[frozenset[int]]] = []

    def fit(self, X, y):
        _Spy.seen.append(frozenset(np.asarray(X)[:, 0].astype(int).tolist()))
        self.model_ = DummyClassifier().fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)

    def predict(self, X):
        return self.model_.predict(X)


def test_no_validation_row_reaches_a_fit():
    X, y = _table(n=60)
    X = X.assign(rid=np.arange(60.0))[["rid", "a", "b", "colour"]]
    schema = infer_schema(X.assign(y=y), "y", kinds={"rid": "numeric"})
    spy = Family("spy", _Spy(), {}, needs_scaling=False)
    _Spy.seen.clear()
    search(
        X,
        y,
        schema,
        families={"spy": spy},
        metric="accuracy",
        time_budget=5.0,
        seed=3,
        clip_outliers=False,
    )
    folds = RepeatedStratifiedKFold(n_splits=5, n_repeats=repeats(60), random_state=3)
    expected = [frozenset(train.tolist()) for train, _ in folds.split(X, y)]
    assert _Spy.seen == expected


class _Broken(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        raise RuntimeError("cannot fit")


def test_a_failing_family_is_skipped_and_all_failing_is_an_error(table):
    X, y, schema = table
    broken = Family("broken", _Broken(), {}, needs_scaling=False)
    fine = Family("fine", LogisticRegression(), {}, needs_scaling=True)
    result = search(
        X, y, schema, families={"broken": broken, "fine": fine}, metric="accuracy", time_budget=3.0
    )
    assert [c.family for c in result.candidates] == ["fine"]
    assert any("cannot fit" in (t.error or "") for t in result.trials)
    with pytest.raises(InvalidInputError, match=r"Every model failed.*cannot fit"):
        search(X, y, schema, families={"broken": broken}, metric="accuracy", time_budget=2.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cv": 40}, "at least cv=40 rows"),
        ({"cv": 1}, "'cv'"),
        ({"time_budget": 0}, "'time_budget'"),
        ({"metric": "f2_macro"}, "'metric'"),
        ({"families": ["catboost"]}, "available"),
        ({"metric": "expected_cost"}, "'costs'"),
    ],
)
def test_bad_arguments_say_how_to_fix(table, kwargs, match):
    X, y, schema = table
    args = {"metric": "accuracy", "time_budget": 1.0, **kwargs}
    with pytest.raises(InvalidInputError, match=match):
        search(X, y, schema, **args)


def test_bad_data_is_refused(table):
    X, y, schema = table
    with pytest.raises(InvalidInputError, match="DataFrame"):
        search(X.to_numpy(), y, schema, metric="accuracy")
    with pytest.raises(InvalidInputError, match="lacks"):
        search(X.drop(columns="b"), y, schema, metric="accuracy")
    with pytest.raises(InvalidInputError, match="one label per row"):
        search(X, y[:-1], schema, metric="accuracy")
    with pytest.raises(InvalidInputError, match="missing labels"):
        search(X, np.where(np.arange(len(y)) == 0, None, y), schema, metric="accuracy")


@pytest.mark.skipif(importlib.util.find_spec("dask") is not None, reason="dask is installed")
def test_dask_without_dask_is_a_configuration_error(table):
    X, y, schema = table
    with pytest.raises(ConfigurationError, match="dask"):
        search(X, y, schema, metric="accuracy", time_budget=1.0, dask="tcp://127.0.0.1:1")


@pytest.mark.skipif(importlib.util.find_spec("distributed") is None, reason="needs dask")
@pytest.mark.slow
def test_the_same_search_runs_on_a_dask_cluster(table):
    from dask.distributed import LocalCluster

    X, y, schema = table
    # worker processes, as on a real cluster (an in-process cluster's scatter trips dask)
    with LocalCluster(n_workers=1, threads_per_worker=2, dashboard_address=None) as cluster:
        on_dask = search(
            X,
            y,
            schema,
            families=["softmax"],
            metric="accuracy",
            time_budget=0.1,
            dask=cluster.scheduler_address,
        )
    local = search(X, y, schema, families=["softmax"], metric="accuracy", time_budget=0.1)
    assert on_dask.trials[0].cv_scores == local.trials[0].cv_scores


def test_parallel_folds_give_the_same_scores(table):
    X, y, schema = table
    runs = [
        search(X, y, schema, families=["softmax"], metric="accuracy", time_budget=0.1, n_jobs=jobs)
        for jobs in (1, 2)
    ]
    assert runs[0].trials[0].cv_scores == runs[1].trials[0].cv_scores


# --------------------------------------------------------------------------- scorers


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 3))
    y = np.array(["x", "y", "z"])[(X[:, 0] + rng.normal(0, 0.7, 120) > 0).astype(int) * 2 - 0]
    y[::7] = "y"
    return LogisticRegression().fit(X, y), X, y


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("accuracy", lambda yt, p, s: vm.accuracy_score(yt, p)),
        ("f1_macro", lambda yt, p, s: vm.f1_score(yt, p, average="macro")),
        ("mcc", lambda yt, p, s: vm.matthews_corrcoef(yt, p)),
        ("roc_auc_ovr", lambda yt, p, s: vm.roc_auc_score(yt, s, multi_class="ovr")),
        ("log_loss", lambda yt, p, s: -vm.log_loss(yt, s)),
        ("top_2_accuracy", lambda yt, p, s: vm.top_k_accuracy_score(yt, s, k=2)),
        ("brier_score", lambda yt, p, s: -vm.brier_score_loss(yt, s)),
    ],
)
def test_scorers_use_verdict_metrics_and_negate_losses(fitted, name, expected):
    model, X, y = fitted
    scorer = metric_scorer(name, ["x", "y", "z"])
    want = expected(y, model.predict(X), model.predict_proba(X))
    assert scorer(model, X, y) == pytest.approx(want)
    assert greater_is_better(name) == (want >= 0 and "loss" not in name and "brier" not in name)


def test_binary_scorers_take_the_greater_label_as_positive():
    X = np.linspace(-2, 2, 40)[:, None]
    y = np.where(X[:, 0] + np.sin(7 * X[:, 0]) > 0, "yes", "no")
    model = LogisticRegression().fit(X, y)
    proba = model.predict_proba(X)[:, 1]
    assert metric_scorer("roc_auc", ["no", "yes"])(model, X, y) == pytest.approx(
        vm.roc_auc_score(y == "yes", proba)
    )
    f1 = metric_scorer("f1", ["no", "yes"])(model, X, y)
    assert f1 == pytest.approx(vm.f1_score(y, model.predict(X), pos_label="yes"))
    top1 = metric_scorer("top_1_accuracy", ["no", "yes"])(model, X, y)
    assert top1 == pytest.approx(vm.accuracy_score(y, model.predict(X)))
    cost = metric_scorer("expected_cost", ["no", "yes"], costs={"fp": 1.0, "fn": 5.0})
    pred = model.predict(X)
    want = np.sum((pred == "yes") & (y == "no")) + 5 * np.sum((pred == "no") & (y == "yes"))
    assert cost(model, X, y) == pytest.approx(-want / len(y))


@pytest.mark.parametrize("name", [*vm.metric_names(), "top_2_accuracy", "mcc", "ece"])
def test_the_search_reads_direction_from_the_metric_catalogue(name):
    assert greater_is_better(name) == vm.get_metric(name).greater_is_better


def test_calibration_error_and_cost_scorers_are_negated(fitted):
    model, X, y = fitted
    ece = metric_scorer("ece", ["x", "y", "z"])(model, X, y)
    assert ece == pytest.approx(-vm.expected_calibration_error(y, model.predict_proba(X)))
    matrix = 1 - np.eye(3)
    cost = metric_scorer("expected_cost", ["x", "y", "z"], costs=matrix)(model, X, y)
    assert cost == pytest.approx(-np.mean(model.predict(X) != y))
    with pytest.raises(InvalidParameterError, match="costs"):
        metric_scorer("expected_cost", ["x", "y", "z"])
