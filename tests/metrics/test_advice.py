"""recommend_metrics: the rules, the facts it reports, and that its decision hint runs."""

from __future__ import annotations

import json

import numpy as np
import pytest

import verdict.metrics
from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.metrics import bootstrap_ci
from verdict.metrics._advice import IMBALANCE_RATIO, recommend_metrics
from verdict.metrics._cost import CostSensitiveDecision
from verdict.metrics._thresholds import optimal_threshold

PROBABILISTIC = ["log_loss", "brier_score", "expected_calibration_error"]


def labels(shares, n=1000, names=None):
    names = list(range(len(shares))) if names is None else names
    counts = np.round(np.asarray(shares) * n).astype(int)
    return np.repeat(np.asarray(names), counts)


def test_balanced_binary_keeps_accuracy():
    advice = recommend_metrics(labels([0.5, 0.5]))
    assert advice.primary == "accuracy" and not advice.imbalanced
    assert advice.task == "binary" and advice.imbalance_ratio == 1.0
    assert "accuracy is meaningful" in advice.rationale[0]


def test_imbalanced_binary_prefers_mcc_and_pr_auc_over_accuracy_and_roc_auc():
    advice = recommend_metrics(labels([0.95, 0.05]))
    assert advice.primary == "matthews_corrcoef" and advice.imbalanced
    assert "average_precision" in advice.secondary
    assert "accuracy" not in advice.secondary and "roc_auc" not in advice.secondary
    assert advice.minority_label == 1 and advice.imbalance_ratio == pytest.approx(19)
    assert "would score accuracy 0.950" in advice.rationale[0]
    assert any("precision-recall curve" in s for s in advice.rationale)


def test_imbalanced_multiclass_uses_macro_averages():
    advice = recommend_metrics(labels([0.6, 0.3, 0.1], names=["a", "b", "c"]))
    assert advice.primary == "f1_macro" and advice.task == "multiclass"
    assert {"balanced_accuracy", "matthews_corrcoef"} <= set(advice.secondary)
    assert advice.class_shares == pytest.approx({"a": 0.6, "b": 0.3, "c": 0.1})
    assert advice.positive_label is None and advice.decision is None


def test_balanced_multiclass():
    advice = recommend_metrics(labels([0.3, 0.35, 0.35]))
    assert advice.primary == "accuracy" and "f1_macro" in advice.secondary


def test_imbalance_threshold():
    just_below = recommend_metrics(labels([0.66, 0.34]))
    at = recommend_metrics(labels([2 / 3, 1 / 3]))
    assert not just_below.imbalanced and at.imbalanced
    assert at.imbalance_ratio == pytest.approx(IMBALANCE_RATIO, rel=1e-2)


def test_costly_misses_point_to_recall_and_the_cost_threshold():
    advice = recommend_metrics(labels([0.9, 0.1]), costs={"fp": 1, "fn": 20})
    assert advice.primary == "expected_cost" and advice.secondary[0] == "recall"
    assert advice.cost_asymmetry == 20
    assert "objective='cost', cost_fp=1, cost_fn=20" in advice.decision
    assert any("recall matters more than precision" in s for s in advice.rationale)
    assert any("= 0.0476" in s for s in advice.rationale)  # 1 / (1 + 20)


def test_costly_false_alarms_point_to_precision():
    advice = recommend_metrics(labels([0.5, 0.5]), costs={"fp": 5, "fn": 1})
    assert advice.primary == "expected_cost"
    assert advice.secondary[:2] == ["precision", "specificity"]
    assert any("be sure before predicting positive" in s for s in advice.rationale)


def test_equal_costs_say_so():
    advice = recommend_metrics(labels([0.5, 0.5]), costs={"fp": 2, "fn": 2})
    assert advice.cost_asymmetry == 1 and "precision" not in advice.secondary[:1]
    assert any("Both errors cost the same" in s for s in advice.rationale)


def test_a_two_by_two_matrix_means_the_same_as_fp_fn():
    y = labels([0.8, 0.2])
    a = recommend_metrics(y, costs={"fp": 1, "fn": 7})
    b = recommend_metrics(y, costs=[[1, 2], [8, 1]])  # regrets: fp 1, fn 7
    assert a.to_dict() == b.to_dict()


def test_multiclass_cost_matrix_points_to_the_bayes_decision():
    cost = [[0, 1, 5], [1, 0, 5], [20, 20, 0]]
    advice = recommend_metrics(labels([0.5, 0.4, 0.1], names=list("abc")), costs=cost)
    assert advice.primary == "expected_cost" and advice.cost_asymmetry == 20
    assert advice.decision.startswith("CostSensitiveDecision(cost_matrix)")
    assert any("predicting 'a' for a true 'c', costs 20 times" in s for s in advice.rationale)


def test_probabilities_downstream_put_proper_scores_first():
    advice = recommend_metrics(labels([0.5, 0.5]), needs_probabilities=True)
    assert [advice.primary, *advice.secondary[:2]] == PROBABILISTIC
    assert advice.decision is None
    both = recommend_metrics(labels([0.9, 0.1]), costs={"fp": 1, "fn": 3}, needs_probabilities=True)
    assert both.primary == "log_loss" and "expected_cost" in both.secondary
    assert len(set(both.secondary)) == len(both.secondary)


def test_small_classes_ask_for_intervals():
    advice = recommend_metrics(labels([0.98, 0.02]))  # 20 rows in class 1
    assert any("bootstrap_ci" in s and "(20 rows)" in s for s in advice.rationale)
    assert not any("bootstrap_ci" in s for s in recommend_metrics(labels([0.5, 0.5])).rationale)


def test_common_positive_class_is_flagged():
    advice = recommend_metrics(labels([0.1, 0.9]))
    assert advice.positive_label == 1 and advice.minority_label == 0
    assert any("consider pos_label=0" in s for s in advice.rationale)


@pytest.mark.parametrize(
    ("y", "costs", "pos_label"),
    [
        (labels([0.9, 0.1]), {"fp": 1, "fn": 9}, None),
        (labels([0.5, 0.5]), None, None),
        (labels([0.9, 0.1], names=["ham", "spam"]), {"fp": 3, "fn": 1}, None),
        (labels([0.9, 0.1], names=["ham", "spam"]), None, "ham"),
    ],
)
def test_the_decision_hint_runs_as_written(y, costs, pos_label):
    advice = recommend_metrics(y, costs=costs, pos_label=pos_label)
    rng = np.random.default_rng(0)
    positive = y == advice.positive_label
    scope = {
        "optimal_threshold": optimal_threshold,
        "y_valid": y,
        "score_valid": rng.random(y.shape[0]) + positive,
    }
    choice = eval(advice.decision, scope)
    assert choice.pos_label == advice.positive_label


def test_the_multiclass_hint_runs_as_written():
    y = labels([0.5, 0.3, 0.2])
    cost = np.array([[0, 1, 4], [1, 0, 4], [9, 9, 0]])
    advice = recommend_metrics(y, costs=cost)
    proba = np.random.default_rng(0).dirichlet(np.ones(3), y.shape[0])
    scope = {
        "CostSensitiveDecision": CostSensitiveDecision,
        "cost_matrix": cost,
        "y_valid": y,
        "proba_valid": proba,
        "proba": proba,
    }
    assert eval(advice.decision, scope).shape == y.shape


def test_result_is_json_ready_and_short_when_printed():
    advice = recommend_metrics(labels([0.9, 0.1], names=["no", "yes"]), costs={"fp": 0, "fn": 1})
    data = json.loads(json.dumps(advice.to_dict(), allow_nan=False))
    assert data["cost_asymmetry"] is None  # infinite: a free false positive
    assert data["class_shares"] == {"no": 0.9, "yes": 0.1}
    assert "rationale" not in str(advice) and "primary='expected_cost'" in str(advice)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("y", "kwargs", "message"),
    [
        ([1, 1, 1], {}, "single class"),
        ([0, 1, 2], {"costs": {"fp": 1, "fn": 2}}, "exist only for two classes"),
        ([0, 1], {"costs": {"fp": 1}}, "exactly the keys 'fp' and 'fn'"),
        ([0, 1], {"costs": {"fp": -1, "fn": 2}}, "costs['fp'] must be a finite number >= 0"),
        ([0, 1], {"costs": {"fp": 0, "fn": 0}}, "every mistake free"),
        ([0, 1, 2], {"costs": np.ones((2, 2))}, "2 x 2 matrix but y_true has 3 classes"),
        ([0, 1, 2], {"costs": np.ones((3, 2))}, "square matrix"),
        ([0, 1], {"costs": [[0, -1], [1, 0]]}, "negative cost"),
        ([0, 1], {"costs": [[5, 1], [1, 0]]}, "would cost less than the right answer"),
        ([0, 1, 2], {"pos_label": 1}, "pos_label is for binary targets"),
        ([0, 1], {"pos_label": 2}, "pos_label=2 is not a class"),
        ([0, 1], {"needs_probabilities": "yes"}, "'needs_probabilities' parameter"),
        ([0.5, 1], {}, "continuous values"),
    ],
)
def test_bad_input(y, kwargs, message):
    with pytest.raises(InvalidInputError) as info:
        recommend_metrics(y, **kwargs)
    assert message in str(info.value)
    if isinstance(info.value, InvalidParameterError):
        assert "must" in str(info.value) or "To fix" in str(info.value)


# The recommended metrics that are judged on scores or probabilities rather than labels.
ON_SCORES = {
    "log_loss",
    "brier_score",
    "roc_auc",
    "roc_auc_ovr",
    "average_precision",
    "average_precision_macro",
}


@pytest.mark.parametrize("shares", [[0.5, 0.5], [0.9, 0.1], [0.4, 0.3, 0.3], [0.7, 0.2, 0.1]])
def test_recommended_names_are_names_bootstrap_ci_computes(shares):
    # The module promises that its names are those bootstrap_ci accepts (the two others have
    # their own public functions): each one gives a finite estimate inside its interval.
    y = labels(shares, n=300)
    k = len(shares)
    costs_of_k = {"fp": 1, "fn": 3} if k == 2 else 1 - np.eye(k)
    names = {
        name
        for costs in (None, costs_of_k)
        for probabilities in (False, True)
        for advice in [recommend_metrics(y, costs=costs, needs_probabilities=probabilities)]
        for name in [advice.primary, *advice.secondary]
    }
    assert {"expected_cost", "expected_calibration_error"} <= names
    assert hasattr(verdict.metrics, "expected_calibration_error")
    assert hasattr(CostSensitiveDecision, "evaluate")
    rng = np.random.default_rng(0)
    proba = 0.5 * np.eye(k)[y] + 0.5 * rng.dirichlet(np.ones(k), size=len(y))
    scores = proba[:, 1] if k == 2 else proba
    for name in sorted(names - {"expected_cost", "expected_calibration_error"}):
        given = scores if name in ON_SCORES else proba.argmax(axis=1)
        ci = bootstrap_ci(name, y, given, n_resamples=50, random_state=0)
        assert np.isfinite(ci.estimate), name
        assert ci.low <= ci.estimate <= ci.high, (name, ci)
