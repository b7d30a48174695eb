"""The decision rule when mistakes have costs, chosen on validation data, scored once on test.

The rule is fitted on out-of-fold probabilities of the training rows (each row predicted by a
model that did not see it), never on the test set: a threshold tuned on the test rows would
make the test cost an optimistic, not an honest, estimate.
"""

from __future__ import annotations

from collections.abc import Sequence
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
