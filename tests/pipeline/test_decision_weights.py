"""Per-class decision weights: tuned out of fold for a metric of labels, never at accuracy's cost,
recorded as the run's decision policy and served as evaluated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verdict.errors import InvalidInputError
from verdict.metrics import accuracy_score, f1_score
from verdict.pipeline import DecisionPolicy, train
from verdict.pipeline._candidates import Trial
from verdict.pipeline._decision import tune_class_weights
from verdict.pipeline._final import Library, choose_final, prior_oof
from verdict.pipeline._scoring import label_score, proba_score


def _biased(seed: int, n: int = 900) -> tuple[np.ndarray, np.ndarray]:
    """Labels 60/30/10 and probabilities that know them but play the rare class down."""
    rng = np.random.default_rng(seed)
    y = rng.choice(3, n, p=[0.6, 0.3, 0.1])
    logits = 2.5 * np.eye(3)[y] + rng.normal(0, 1, (n, 3)) - np.array([0.0, 0.0, 2.0])
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, proba


def _right(y: np.ndarray, proba: np.ndarray, weights: np.ndarray) -> int:
    return int(np.sum((proba * weights).argmax(axis=1) == y))


def test_weights_raise_macro_f1_on_an_under_predicted_class_without_losing_accuracy():
    y, proba = _biased(0)
    score = proba_score("f1_macro", 3)
    weights = tune_class_weights(proba[None], y, label_score("f1_macro", 3), band=0.01)
    assert weights is not None
    w = np.asarray(weights)
    assert w.max() == 1.0 and w[2] > w[0]  # the rare class is weighted up
    assert score(y, proba * w) > score(y, proba) + 0.01
    assert _right(y, proba, w) >= _right(y, proba, np.ones(3))


def test_no_weights_when_argmax_is_already_best_or_the_gain_is_noise():
    y = np.repeat([0, 1, 2], 50)
    sure = np.eye(3)[y] * 0.9 + 0.1 / 3
    assert tune_class_weights(sure[None], y, label_score("f1_macro", 3), band=0.0) is None
    y, proba = _biased(1)
    assert tune_class_weights(proba[None], y, label_score("f1_macro", 3), band=1.0) is None


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    k=st.integers(2, 4),
    metric=st.sampled_from(["f1_macro", "matthews_corrcoef", "balanced_accuracy"]),
)
def test_tuned_weights_never_predict_fewer_rows_right_and_always_gain_more_than_the_band(
    seed: int, k: int, metric: str
):
    rng = np.random.default_rng(seed)
    n = 120
    y = rng.choice(k, n, p=rng.dirichlet(np.ones(k) * 2))
    proba = rng.dirichlet(np.ones(k), (2, n)) * 0.5 + 0.5 * np.eye(k)[y][None] * rng.random()
    proba /= proba.sum(axis=2, keepdims=True)
    score = proba_score(metric, k)
    band = 0.005
    weights = tune_class_weights(proba, y, label_score(metric, k), band=band)
    if weights is None:
        return
    w = np.asarray(weights)
    labels, pooled = np.tile(y, 2), proba.reshape(-1, k)
    assert _right(labels, pooled, w) >= _right(labels, pooled, np.ones(k))
    assert score(labels, pooled * w) > score(labels, pooled) + band


def _naive_search(proba, labels, score, grid, rounds):
    """The coordinate search written plainly: every candidate a full argmax of p * w."""
    k = proba.shape[1]
    weights = np.ones(k)
    start = best = score(labels, proba.argmax(axis=1))
    floor = int(np.sum(proba.argmax(axis=1) == labels))
    for _ in range(rounds):
        moved = False
        for column in range(k):
            for value in grid:
                trial = weights.copy()
                trial[column] = value
                pred = (proba * trial).argmax(axis=1)
                gained = score(labels, pred)
                if gained > best + 1e-12 and int(np.sum(pred == labels)) >= floor:
                    best, weights, moved = gained, trial, True
        if not moved:
            break
    return weights, best - start


@pytest.mark.parametrize("seed", [4, 6, 7])
def test_the_fast_search_finds_what_a_plain_argmax_search_finds(seed):
    from verdict.pipeline import _decision

    y, proba = _biased(seed, 500)
    proba = np.round(proba, 2)  # ties between columns, broken as argmax breaks them
    score = label_score("f1_macro", 3)
    fast = _decision._coordinate_search(proba, y, score)
    naive = _naive_search(proba, y, score, _decision.WEIGHT_GRID, _decision.WEIGHT_ROUNDS)
    assert (fast[0] == naive[0]).all() and fast[1] == pytest.approx(naive[1])


def test_tuning_is_bounded_on_many_rows_and_classes(monkeypatch):
    from verdict.pipeline import _decision

    rng = np.random.default_rng(5)
    k, n = 40, 60_000
    y = rng.integers(0, k, n)
    proba = rng.dirichlet(np.ones(k), n) + 0.3 * np.eye(k)[y]
    proba /= proba.sum(axis=1, keepdims=True)
    calls = []

    def counting(labels, pred):
        calls.append(len(labels))
        return float(np.mean(labels == pred))

    tune_class_weights(proba[None], y, counting, band=-1.0)
    assert max(calls) <= _decision.MAX_TUNING_ROWS + k  # each class rounded
    assert len(calls) <= 7 * (_decision.MAX_CANDIDATES + 2 * k)


def test_choose_final_blends_on_log_loss_and_decides_for_the_label_metric():
    y, proba = _biased(2, 600)
    splits = [(np.setdiff1d(np.arange(600), p), p) for p in np.array_split(np.arange(600), 5)]
    library = Library(higher=True, tie=1 / 600)
    library.add(Trial("softmax", {}, (0.5,) * 5, 0.01, 0.1, tiebreak=(0.8,) * 5), proba[None])
    score = proba_score("f1_macro", 3)
    final = choose_final(
        library, prior_oof(y, splits, 3), y, score, higher=True, tie=1 / 600, seed=0,
        max_refit_seconds=float("inf"), decision_score=label_score("f1_macro", 3),
    )  # fmt: skip
    assert final.selected_on == "log_loss"
    assert final.weights is not None and len(final.weights) == 3
    assert final.cv_score > final.cv_score_argmax
    assert final.to_dict()["weights"] == list(final.weights)
    untuned = choose_final(  # no decision score: the blend on the metric, argmax served
        library, prior_oof(y, splits, 3), y, score, higher=True, tie=1 / 600, seed=0,
        max_refit_seconds=float("inf"),
    )  # fmt: skip
    assert untuned.selected_on == "primary"
    assert untuned.weights is None and untuned.cv_score == untuned.cv_score_argmax


def test_weights_policy_round_trips_and_decides_argmax_of_weighted_probabilities():
    policy = DecisionPolicy.from_decision(
        {"kind": "weights", "weights": [1.0, 0.5, 2]}, ["a", "b", "c"]
    )
    assert DecisionPolicy.from_dict(policy.to_dict()).to_dict() == policy.to_dict()
    proba = np.array([[0.5, 0.3, 0.2], [0.6, 0.4, 0.0], [0.1, 0.8, 0.1]])
    assert policy.decide(proba).tolist() == ["a", "a", "b"]
    assert DecisionPolicy.argmax(["a", "b", "c"]).to_dict()["weights"] is None


@pytest.mark.parametrize(
    "weights",
    [
        None, [1.0, 2.0], [1.0, -1.0, 1.0], [1.0, float("nan"), 1.0], ["x", 1, 1], "123",
        {"a": 1, "b": 1, "c": 1}, [True, True, True], [10**400, 1, 1], [1e-320, 1.0, 1.0],
        [0, 1, 1], [float("inf"), 1, 1],
    ],
)  # fmt: skip
def test_a_bad_weights_policy_is_refused_with_a_fix(weights):
    with pytest.raises(InvalidInputError, match="To fix"):
        DecisionPolicy.from_decision({"kind": "weights", "weights": weights}, ["a", "b", "c"])


def test_weights_recorded_for_other_classes_or_on_another_kind_are_refused():
    decision = {"kind": "weights", "weights": [1.0, 0.5, 2.0], "classes": ["c", "b", "a"]}
    with pytest.raises(InvalidInputError, match="wrong classes"):
        DecisionPolicy.from_decision(decision, ["a", "b", "c"])
    with pytest.raises(InvalidInputError, match="takes no weights"):
        DecisionPolicy.from_dict({"kind": "argmax", "classes": ["a", "b"], "weights": [1, 2]})
    same = DecisionPolicy.from_decision({**decision, "classes": ["a", "b", "c"]}, ["a", "b", "c"])
    assert same.weights == (1.0, 0.5, 2.0)


def _imbalanced_table(seed: int = 0, n: int = 1500) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.choice(["common", "middle", "rare"], n, p=[0.6, 0.3, 0.1])
    centre = {"common": 0.0, "middle": 0.8, "rare": 1.4}
    x = np.array([centre[c] for c in y])
    return pd.DataFrame(
        {
            "a": x + rng.normal(0, 1, n),
            "b": 0.5 * x + rng.normal(0, 1, n),
            "c": rng.normal(0, 1, n),
            "label": y,
        }
    )


@pytest.fixture(scope="module")
def weighted_run(tmp_path_factory):
    """A run whose decision weights are fixed (the rare class weighted up), so that the test
    is about what happens to tuned weights, not whether this table earns them."""
    from verdict.pipeline import _final

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_final, "tune_class_weights", lambda *a, **k: (0.5, 0.8, 1.0))
        return train(
            _imbalanced_table(), "label", metric="f1_macro", models=["softmax"],
            max_configs=2, cv=3, n_jobs=1, quiet=True,
            out=tmp_path_factory.mktemp("runs") / "run",
        )  # fmt: skip


def test_train_records_the_weights_and_evaluates_the_class_it_serves(weighted_run):
    run = weighted_run
    decision = run.info["decision"]
    assert decision["kind"] == "weights" and decision["tuned_for"] == "f1_macro"
    assert decision["weights"] == [0.5, 0.8, 1.0]  # classes common, middle, rare
    assert run.policy.kind == "weights"
    test = pd.read_parquet(run.run_dir / "test_rows.parquet")
    X = test.drop(columns=["label"])
    served = np.asarray(run.predict(X), dtype=object)
    argmax = np.asarray(run.model.predict(X), dtype=object)
    assert (served != argmax).any()  # else this test could not fail
    y = test["label"].to_numpy()
    assert run.info["test"]["accuracy"] == pytest.approx(accuracy_score(y, served))
    assert run.evaluation.accuracy == pytest.approx(accuracy_score(y, served))
    macro = f1_score(y, served, average="macro")
    assert macro > f1_score(y, argmax, average="macro")
    from verdict.pipeline._explain import Served

    assert (np.asarray(Served(run.model, run.policy).predict(X), dtype=object) == served).all()
    assert run.info["importance"]  # measured on the class served (Served), without error
    predictions = pd.read_parquet(run.run_dir / "test_predictions.parquet")
    assert (predictions["y_pred"].astype(str).to_numpy() == served.astype(str)).all()


def test_the_registry_serves_the_weights_the_run_chose(weighted_run, tmp_path):
    from verdict.registry import Registry

    test = pd.read_parquet(weighted_run.run_dir / "test_rows.parquet").drop(columns=["label"])
    with Registry(f"sqlite:///{tmp_path / 'registry.db'}", tmp_path / "artifacts") as registry:
        version = registry.register(weighted_run.run_dir, "imbalanced")
        loaded = registry.load(version.ref)
    assert loaded.policy.kind == "weights"
    assert loaded.policy.to_dict() == weighted_run.policy.to_dict()
    assert (
        np.asarray(loaded.predict(test), dtype=str)
        == np.asarray(weighted_run.predict(test), dtype=str)
    ).all()


def test_the_report_and_the_cli_summary_explain_the_weights(weighted_run, capsys):
    from verdict.cli._train import _summary
    from verdict.report import write_report

    page = write_report(weighted_run.run_dir).read_text()
    assert "times a per-class weight" in page and "0.500" in page
    _summary(weighted_run.info, weighted_run.run_dir, None)
    out = capsys.readouterr().out
    assert "decision (weights for f1_macro)" in out and "rare 1.00" in out
