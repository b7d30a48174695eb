"""The decision rule when mistakes have costs, chosen on validation data, scored once on test.

The rule is fitted on out-of-fold probabilities of the training rows (each row predicted by a
model that did not see it), never on the test set: a threshold tuned on the test rows would
make the test cost an optimistic, not an honest, estimate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline

from verdict._results import plain
from verdict.errors import InvalidInputError
from verdict.metrics import CostSensitiveDecision, optimal_threshold
from verdict.metrics import cost_matrix as metrics_cost_matrix


def cost_matrix(costs: Any, classes: Sequence[Any]) -> np.ndarray | None:
    """The (k, k) cost matrix in ``classes`` order from the ``costs`` argument of train.

    None without costs; otherwise ``verdict.metrics.cost_matrix`` (``{'fp': x, 'fn': y}``
    with the greater label positive, a square matrix in sorted class order, or a table
    labelled with the classes).
    """
    return None if costs is None else metrics_cost_matrix(costs, list(classes))


def out_of_fold_proba(
    pipeline: Pipeline, X: pd.DataFrame, y: np.ndarray, *, cv: int, seed: int, n_jobs: Any
) -> np.ndarray:
    """Probabilities of every training row from the fold model that did not see it."""
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)
    return cross_val_predict(clone(pipeline), X, y, cv=folds, method="predict_proba", n_jobs=n_jobs)


def choose_decision(
    matrix: np.ndarray,
    classes: Sequence[Any],
    y_valid: np.ndarray,
    proba_valid: np.ndarray,
    y_test: np.ndarray,
    proba_test: np.ndarray,
) -> dict[str, Any]:
    """Fit the rule on validation probabilities; add its cost (and argmax's) on the test set.

    Two classes: the cost-minimising threshold on the positive class's probability
    (``kind='threshold'``); more: the Bayes decision with offsets (``kind='cost'``).
    """
    if len(classes) == 2:
        fp = matrix[0, 1] - matrix[0, 0]
        fn = matrix[1, 0] - matrix[1, 1]
        if fp < 0 or fn < 0:
            raise InvalidInputError(
                "costs: a correct decision costs more than the mistake it avoids "
                f"(fp={fp:g}, fn={fn:g} after subtracting the diagonal). To fix: check the "
                "matrix; its diagonal holds the cost of correct decisions."
            )
        choice = optimal_threshold(
            y_valid,
            proba_valid[:, 1],
            objective="cost",
            cost_fp=fp,
            cost_fn=fn,
            pos_label=classes[1],
        )
        decided = np.where(proba_test[:, 1] >= choice.threshold, classes[1], classes[0])
        record = {"kind": "threshold", **choice.to_dict(), "positive_class": classes[1]}
    else:
        rule = CostSensitiveDecision(matrix, labels=list(classes)).fit(y_valid, proba_valid)
        decided = rule.predict(proba_test)
        record = {
            "kind": "cost",
            **rule.evaluate(y_valid, proba_valid).to_dict(),
            "offsets": rule.offsets_.tolist(),
        }
    record["cost_matrix"] = matrix.tolist()
    record["classes"] = list(classes)
    scorer = CostSensitiveDecision(matrix, labels=list(classes), learn_offsets=False)
    default = np.asarray(classes, dtype=object)[np.argmax(proba_test, axis=1)]
    record["test_expected_cost"] = scorer.expected_cost(y_test, y_pred=decided)
    record["test_expected_cost_argmax"] = scorer.expected_cost(y_test, y_pred=default)
    return plain(record)


WEIGHT_GRID = np.exp(np.linspace(-1.5, 1.5, 31))  # e^-1.5 .. e^1.5: a class 4.5x down to up
WEIGHT_ROUNDS = 3  # passes of the coordinate search over the classes
CHECK_SPLITS = 3  # random halvings of the rows on which tuned weights must hold out of sample
MAX_TUNING_ROWS = 20_000  # out-of-fold rows the search reads (a stratified sample beyond)
MAX_CANDIDATES = 3_000  # weight vectors one search scores (one round at least: 31 per class)


def tune_class_weights(
    oof: np.ndarray,
    y_index: np.ndarray,
    score: Callable[[np.ndarray, np.ndarray], float],
    *,
    band: float,
    seed: int = 0,
) -> tuple[float, ...] | None:
    """Per-class weights for ``argmax(proba * weights)`` that raise the primary metric out of
    fold without costing accuracy; None when there are none worth serving.

    ``oof`` holds out-of-fold probabilities, shape (passes, n, k); ``score(y_index, pred)``
    is the primary metric (higher is better) of predicted class codes (``label_score``). On a
    metric such as macro-F1 the most probable class is not the best answer for a rare class;
    reweighting the classes serves the metric while the probabilities stay the honest ones
    (log loss, ROC and calibration read them untouched).

    A coordinate search over a log grid keeps a change only when the metric rises and the rows
    predicted right do not fall below argmax's. Searching that many weights overfits the rows
    it searches on (measured: on a 2,400-row table, weights that gained on every training row
    lost 4 points of macro-F1 and 2 of accuracy on the held-out ones), so the weights are kept
    only when (1) the gain on all rows is above ``band`` (the caller's noise level of the
    metric) and (2) weights tuned on one half of the rows, over ``CHECK_SPLITS`` random
    stratified halvings, on average raise the metric and do not lower accuracy on the other
    half. The work is bounded: at most ``MAX_TUNING_ROWS`` rows (a stratified sample) and
    ``MAX_CANDIDATES`` weight vectors per search (or one round over the classes when they are
    many), each scored in O(rows).
    """
    rng = np.random.default_rng(seed)
    proba, labels, rows = _pooled(oof, y_index, rng)
    weights, gain = _coordinate_search(proba, labels, score)
    if gain <= band:
        return None
    gains, accuracy = [], []
    for _ in range(CHECK_SPLITS):
        half = _stratified_half(y_index, rng)[rows]  # by training row: its passes go together
        for tuned, held in ((half, ~half), (~half, half)):
            w, _ = _coordinate_search(proba[tuned], labels[tuned], score)
            plain, weighted = proba[held].argmax(axis=1), (proba[held] * w).argmax(axis=1)
            gains.append(score(labels[held], weighted) - score(labels[held], plain))
            accuracy.append(int(np.sum(weighted == labels[held]) - np.sum(plain == labels[held])))
    if np.mean(gains) <= 0 or np.mean(accuracy) < 0:
        return None
    return tuple(float(w) for w in weights / weights.max())


def _pooled(
    oof: np.ndarray, y_index: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pass's rows as one (rows, k) matrix, its labels and each row's training-row
    index, sampled down (stratified, each class rounded) to about ``MAX_TUNING_ROWS``."""
    passes, n, k = oof.shape
    proba, labels, rows = (
        oof.reshape(-1, k),
        np.tile(y_index, passes),
        np.tile(np.arange(n), passes),
    )
    if len(labels) <= MAX_TUNING_ROWS:
        return proba, labels, rows
    share = MAX_TUNING_ROWS / len(labels)
    keep = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        keep.append(rng.choice(members, max(1, round(share * len(members))), replace=False))
    chosen = np.sort(np.concatenate(keep))
    return proba[chosen], labels[chosen], rows[chosen]


def _coordinate_search(
    proba: np.ndarray, labels: np.ndarray, score: Callable[[np.ndarray, np.ndarray], float]
) -> tuple[np.ndarray, float]:
    """The weights the search ends on, and their gain over argmax on these rows.

    Changing one class's weight only moves rows between that class and the best of the
    others, so each candidate is one comparison per row against that precomputed best."""
    k = proba.shape[1]
    weights = np.ones(k)
    pred = proba.argmax(axis=1)
    start = best = score(labels, pred)
    floor = int(np.sum(pred == labels))
    rounds = max(1, min(WEIGHT_ROUNDS, MAX_CANDIDATES // (k * len(WEIGHT_GRID))))
    for _ in range(rounds):
        moved = False
        for column in range(k):
            others = proba * weights
            others[:, column] = -np.inf
            rival, rival_value = others.argmax(axis=1), others.max(axis=1)
            for value in WEIGHT_GRID:
                mine = proba[:, column] * value
                # argmax's tie rule: the first column wins
                trial = np.where(
                    (mine > rival_value) | ((mine == rival_value) & (column < rival)),
                    column,
                    rival,
                )
                gained = score(labels, trial)
                if gained > best + 1e-12 and int(np.sum(trial == labels)) >= floor:
                    best, moved = gained, True
                    weights = weights.copy()
                    weights[column] = value
        if not moved:
            break
    return weights, best - start


def _stratified_half(y_index: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random half of the rows, each class split evenly."""
    half = np.zeros(len(y_index), dtype=bool)
    for label in np.unique(y_index):
        rows = rng.permutation(np.flatnonzero(y_index == label))
        half[rows[: len(rows) // 2]] = True
    return half
