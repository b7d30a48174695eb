"""Champion against challenger: promote only on a significant paired one-sided test."""

from __future__ import annotations

import numpy as np
import pytest

from verdict.errors import InvalidInputError
from verdict.models import SoftmaxRegression
from verdict.monitoring._promotion import decide_promotion

CLASSES = np.array(["x", "y", "z"])
OLD = np.array([[1.5, -1.0, 0.0], [0.0, 1.5, -1.0], [0.0, 0.0, 0.5], [0.0, 0.0, 0.0]])
NEW = OLD + np.array([[0, 0, 0], [0, 0, 0], [0, 0, 0], [0.0, -1.0, 1.5]])  # d starts to matter
METRICS = ("accuracy", "f1_macro", "roc_auc_macro", "log_loss")
TESTS = {"accuracy": "mcnemar", "roc_auc_macro": "delong"}


def sample(n: int, seed: int, weights: np.ndarray = OLD) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels drawn from a softmax of ``X @ weights``."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    logits = X @ weights
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    y = (rng.random(n)[:, None] >= p.cumsum(axis=1)[:, :-1]).sum(axis=1)
    return X, CLASSES[y]


def fitted(X: np.ndarray, y: np.ndarray) -> SoftmaxRegression:
    return SoftmaxRegression().fit(X, y)


def scored(model: SoftmaxRegression, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return model.predict(X), model.predict_proba(X)


def test_a_challenger_trained_on_the_shifted_data_is_promoted():
    X_old, y_old = sample(2000, 0)
    X_new, y_new = sample(2000, 1, NEW)  # labelled feedback after the change
    champion = fitted(X_old, y_old)
    challenger = fitted(np.vstack([X_old[:500], X_new]), np.concatenate([y_old[:500], y_new]))
    X, y = sample(1000, 2, NEW)  # recent labelled rows neither model trained on
    for metric in METRICS:
        decision = decide_promotion(
            y, scored(champion, X), scored(challenger, X), CLASSES, metric=metric
        )
        assert decision.promote, decision.reason
        assert decision.test == TESTS.get(metric, "paired_bootstrap")
        assert decision.p_value < 0.05 and decision.n == 1000
        better = decision.difference < 0 if metric == "log_loss" else decision.difference > 0
        assert better and decision.reason.startswith("promoted the challenger")
        stored = decision.to_dict()
        assert stored["test"] == decision.test and stored["p_value"] == decision.p_value
        assert f"p = {decision.p_value:.3g}" in decision.reason


def test_a_challenger_that_differs_only_by_noise_is_not_promoted():
    promoted = {metric: 0 for metric in METRICS}
    for seed in range(20):
        champion = fitted(*sample(2000, 100 + seed))
        challenger = fitted(*sample(2000, 200 + seed))  # same distribution, other rows
        X, y = sample(1000, 300 + seed)
        for metric in METRICS:
            decision = decide_promotion(
                y,
                scored(champion, X),
                scored(challenger, X),
                CLASSES,
                metric=metric,
                n_resamples=1000,
                random_state=seed,
            )
            promoted[metric] += decision.promote
            if not decision.promote:
                assert decision.reason.startswith("kept the champion")
    # one-sided at 5%: about 1 in 20 by chance; P(Binomial(20, 0.05) >= 4) < 0.02
    assert all(count <= 3 for count in promoted.values()), promoted


def test_a_worse_challenger_is_kept_out_with_its_reason():
    X_old, y_old = sample(2000, 0)
    champion = fitted(X_old, y_old)
    challenger = fitted(*sample(2000, 5, OLD[:, [1, 0, 2]]))  # learnt a wrong relationship
    X, y = sample(1000, 6)
    decision = decide_promotion(
        y, scored(champion, X), scored(challenger, X), CLASSES, metric="f1_macro"
    )
    assert not decision.promote and decision.p_value > 0.5 and decision.difference < 0
    assert decision.reason.startswith("kept the champion") and "not better" in decision.reason


def test_binary_auc_goes_to_delong_and_identical_models_are_kept():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 2))
    y = np.where(X[:, 0] + rng.normal(size=600) > 0, "yes", "no")
    model = SoftmaxRegression().fit(X, y)
    pred = scored(model, X)
    decision = decide_promotion(y, pred, pred, ["no", "yes"], metric="roc_auc")
    assert decision.test == "delong" and not decision.promote and decision.difference == 0
    decision = decide_promotion(y, pred, pred, ["no", "yes"], metric="accuracy")
    assert decision.p_value >= 0.5 and not decision.promote


def test_labels_outside_the_classes_and_mismatched_rows_are_clear_errors():
    X, y = sample(200, 0)
    model = fitted(X, y)
    pred = scored(model, X)
    bad = y.astype(object)
    bad[0] = "w"
    with pytest.raises(InvalidInputError, match=r"outside the model's classes.*'w'.*To fix"):
        decide_promotion(bad, pred, pred, CLASSES, metric="accuracy")
    with pytest.raises(InvalidInputError, match=r"rows.*To fix"):
        decide_promotion(y, pred, (pred[0][:-1], pred[1][:-1]), CLASSES, metric="accuracy")
    with pytest.raises(InvalidInputError, match="pair"):
        decide_promotion(y, pred, pred[0], CLASSES, metric="accuracy")
    with pytest.raises(ValueError, match="alpha"):
        decide_promotion(y, pred, pred, CLASSES, metric="accuracy", alpha=1.5)
