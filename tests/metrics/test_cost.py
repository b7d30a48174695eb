"""CostSensitiveDecision: the Bayes decision, its guarantee over argmax, and the fitted offsets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import clone
from sklearn.metrics import accuracy_score, f1_score
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.metrics._cost import CostSensitiveDecision


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def sample_labels(rng, proba):
    """One label per row drawn from that row's probabilities."""
    u = rng.random((proba.shape[0], 1))
    return np.minimum((proba.cumsum(axis=1) < u).sum(axis=1), proba.shape[1] - 1)


def problem(seed, n=2000, k=4):
    """A biased, overconfident model's probabilities, labels drawn from the truth, and costs.

    The model's logits are the true ones scaled and shifted per class (a prior shift), which
    per-class offsets can correct; the cost matrix depends on ``k`` only.
    """
    rng = np.random.default_rng(seed)
    logits = 2 * rng.normal(size=(n, k)) + np.linspace(0, 1.5, k)
    y = sample_labels(rng, softmax(logits))
    cost = np.random.default_rng(k).uniform(0, 10, (k, k))
    np.fill_diagonal(cost, 0)
    return softmax(0.7 * logits + np.linspace(1.5, -1, k)), y, cost


def test_predict_is_the_argmin_of_expected_cost_row_by_row():
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(3), 50)
    cost = rng.uniform(0, 5, (3, 3))
    rule = CostSensitiveDecision(cost)
    for row, decided in zip(proba, rule.predict(proba), strict=True):
        risks = [sum(row[i] * cost[i, j] for i in range(3)) for j in range(3)]
        assert decided == int(np.argmin(risks))
    np.testing.assert_allclose(rule.risk(proba), proba @ cost)


def test_zero_one_cost_is_argmax_and_labels_follow_the_matrix_order():
    proba = np.random.default_rng(1).dirichlet(np.ones(4), 100)
    rule = CostSensitiveDecision(1 - np.eye(4), labels=["d", "a", "c", "b"])
    np.testing.assert_array_equal(rule.predict(proba), np.array(list("dacb"))[proba.argmax(1)])


def test_two_classes_accept_positive_class_probabilities():
    rule = CostSensitiveDecision([[0, 1], [10, 0]], labels=["healthy", "sick"])
    # deciding 'sick' costs 1 x P(healthy), 'healthy' costs 10 x P(sick): cut at 1/11
    p = np.array([0.05, 0.09, 0.095, 0.5])
    assert rule.predict(p).tolist() == ["healthy", "healthy", "sick", "sick"]
    np.testing.assert_array_equal(rule.predict(np.column_stack([1 - p, p])), rule.predict(p))


@settings(max_examples=200, deadline=None)
@given(
    arrays(np.float64, (3, 3), elements=st.floats(0, 100)),
    arrays(np.float64, (20, 3), elements=st.floats(1e-3, 1)),
)
def test_bayes_never_expects_more_cost_than_argmax(cost, weights):
    proba = weights / weights.sum(axis=1, keepdims=True)
    rule = CostSensitiveDecision(cost)
    risk = proba @ cost
    rows = np.arange(proba.shape[0])
    bayes = risk[rows, rule.predict(proba)]
    for other in (proba.argmax(axis=1), np.arange(20) % 3):  # argmax, and any other rule
        assert np.all(bayes <= risk[rows, other] + 1e-9 * (1 + risk.max()))


def test_bayes_beats_argmax_on_labels_drawn_from_the_probabilities():
    rng = np.random.default_rng(2)
    for k in (2, 3, 5):
        proba = rng.dirichlet(np.ones(k), 20_000)
        y = sample_labels(rng, proba)
        cost = rng.uniform(0, 10, (k, k))
        rule = CostSensitiveDecision(cost)
        bayes = rule.expected_cost(y, proba)
        argmax = rule.expected_cost(y, y_pred=proba.argmax(axis=1))
        assert bayes < argmax
        # observed and model-expected costs agree when the probabilities are the truth's
        assert rule.evaluate(y, proba).model_expected_cost == pytest.approx(bayes, rel=0.05)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 5), st.booleans())
def test_fit_never_costs_more_than_the_bayes_decision(seed, k, weighted):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(k, 60))
    proba = rng.dirichlet(np.ones(k) * 0.5, n)
    y = np.concatenate([np.arange(k), rng.integers(0, k, n - k)])
    cost = rng.integers(0, 6, (k, k)).astype(float)
    w = rng.integers(0, 3, n) + (np.arange(n) < k) if weighted else None
    rule = CostSensitiveDecision(cost).fit(y, proba, sample_weight=w)
    plain = CostSensitiveDecision(cost, learn_offsets=False).fit(y, proba, sample_weight=w)
    assert rule.fit_cost_ <= rule.bayes_cost_ == plain.fit_cost_
    assert rule.expected_cost(y, proba, sample_weight=w) == pytest.approx(rule.fit_cost_)
    np.testing.assert_array_equal(plain.offsets_, 0)


def test_offsets_correct_a_miscalibrated_model_on_fresh_data():
    proba, y, cost = problem(3)
    rule = CostSensitiveDecision(cost).fit(y, proba)
    assert rule.fit_cost_ < 0.92 * rule.bayes_cost_ and rule.n_iter_ >= 1
    fresh_proba, fresh_y, _ = problem(4)  # same model and costs, new rows
    learned = rule.expected_cost(fresh_y, fresh_proba)
    bayes = CostSensitiveDecision(cost).expected_cost(fresh_y, fresh_proba)
    assert learned < 0.97 * bayes  # about 7% cheaper on rows it never saw


def test_evaluate_reports_sklearns_metrics_and_the_cost_of_the_confusion_matrix():
    proba, y, cost = problem(5, n=500)
    labels = np.array(["w", "x", "y", "z"])
    w = np.random.default_rng(5).random(500)
    rule = CostSensitiveDecision(cost, labels=labels)
    result = rule.evaluate(labels[y], proba, sample_weight=w)
    pred = rule.predict(proba)
    cm = sk_confusion_matrix(labels[y], pred, labels=labels, sample_weight=w)
    np.testing.assert_allclose(result.confusion_matrix, cm)
    assert result.expected_cost == pytest.approx((cm * cost).sum() / w.sum())
    assert result.accuracy == pytest.approx(accuracy_score(labels[y], pred, sample_weight=w))
    assert result.macro_f1 == pytest.approx(
        f1_score(labels[y], pred, average="macro", sample_weight=w)
    )
    assert result.labels == labels.tolist() and "expected_cost=" in str(result)
    assert result.to_dict()["confusion_matrix"][0][0] == pytest.approx(cm[0, 0])


def test_fit_takes_the_sorted_labels_and_predicts_them():
    proba, y, cost = problem(6, n=300, k=3)
    names = np.array(["setosa", "versicolor", "virginica"])
    rule = CostSensitiveDecision(cost).fit(names[y], proba)
    np.testing.assert_array_equal(rule.classes_, names)
    assert set(rule.predict(proba)) <= set(names)
    unfitted = CostSensitiveDecision(cost)
    assert unfitted.predict(proba).dtype.kind == "i"  # column indices before fit


def test_estimator_protocol():
    rule = CostSensitiveDecision([[0, 1], [2, 0]], max_iter=3)
    assert rule.get_params()["max_iter"] == 3
    twin = clone(rule)
    assert twin is not rule and twin.get_params()["max_iter"] == 3
    assert rule.set_params(max_iter=5) is rule and rule.max_iter == 5
    with pytest.raises(InvalidParameterError, match="max_iters"):
        rule.set_params(max_iters=5)
    assert not hasattr(CostSensitiveDecision([[0, 1], [1, 0]]), "offsets_")


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("cost", "message"),
    [
        ([[0, 1, 2], [1, 0, 2]], "square matrix"),
        ([[0]], "at least 2 x 2"),
        ([0, 1], "square matrix"),
        ([[0, -1], [1, 0]], "negative cost (-1 at [0, 1])"),
        ([[0, np.nan], [1, 0]], "NaN or infinity"),
        ([["a", "b"], ["c", "d"]], "must hold numbers"),
    ],
)
def test_bad_cost_matrix(cost, message):
    with pytest.raises(InvalidInputError) as info:
        CostSensitiveDecision(cost).predict([[0.5, 0.5]])
    assert message in str(info.value) and "To fix" in str(info.value)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: r.predict([[0.2, 0.8]]), "proba has 2 columns but the cost matrix has 3"),
        (lambda r: r.predict([0.2, 0.8]), "proba is 1-D but the cost matrix has 3"),
        (lambda r: r.predict([[0.2, 0.2, 0.2]]), "rows must sum to 1"),
        (lambda r: r.predict([[1.2, -0.2, 0.0]]), "greater than 1"),
        (lambda r: r.fit([0, 1], [[0.2, 0.3, 0.5]] * 2), "y_true holds 2 classes"),
        (lambda r: r.fit([0, 1, 3], [[0.2, 0.3, 0.5]] * 2), "different numbers of samples"),
        (lambda r: r.evaluate([0, 1, 2], [[0.2, 0.3, 0.5]] * 3, y_pred=[0, 1, 2]), "exactly one"),
        (lambda r: r.evaluate([0, 1, 2]), "exactly one"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(InvalidInputError) as info:
        call(CostSensitiveDecision(1 - np.eye(3)))
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "call", "message"),
    [
        ({"labels": ["a", "b"]}, "predict", "name each of the cost matrix's 3 classes"),
        ({"labels": ["a", "a", "b"]}, "predict", "3 distinct labels"),
        ({"labels": ["a", "b", "c"]}, "fit_unknown", "'d', which is not one of the classes"),
        ({"labels": ["a", "b", "c"]}, "fit_weights", "non-negative"),
        ({"max_iter": 0}, "fit", "'max_iter' parameter"),
        ({"learn_offsets": "yes"}, "fit", "'learn_offsets' parameter"),
    ],
)
def test_bad_parameters(kwargs, call, message):
    rule = CostSensitiveDecision(1 - np.eye(3), **kwargs)
    proba = [[0.2, 0.3, 0.5]] * 3
    with pytest.raises(InvalidInputError) as info:
        if call == "predict":
            rule.predict(proba)
        elif call == "fit_unknown":
            rule.fit(["a", "b", "d"], proba)
        elif call == "fit_weights":
            rule.fit(["a", "b", "c"], proba, sample_weight=[1, -1, 1])
        else:
            rule.fit([0, 1, 2], proba)
    assert message in str(info.value)
