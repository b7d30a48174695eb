"""The decision rule when mistakes have costs, chosen on validation data, scored once on test.

The rule is fitted on out-of-fold probabilities of the training rows (each row predicted by a
model that did not see it), never on the test set: a threshold tuned on the test rows would
make the test cost an optimistic, not an honest, estimate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline

from verdict._results import plain
from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.metrics import CostSensitiveDecision, optimal_threshold


def cost_matrix(costs: Any, classes: Sequence[Any]) -> np.ndarray | None:
    """The (k, k) cost matrix in ``classes`` order from the ``costs`` argument of train.

    Accepts ``{'fp': x, 'fn': y}`` (two classes; the positive class is the greater label),
    a square matrix in sorted class order, or a DataFrame labelled with the classes (index:
    true class, columns: predicted class; labels may be given as text, as a CSV file holds
    them).
    """
    if costs is None:
        return None
    k = len(classes)
    if isinstance(costs, Mapping):
        return _binary_matrix(costs, k)
    if isinstance(costs, pd.DataFrame):
        return _labelled_matrix(costs, classes)
    try:
        matrix = np.asarray(costs, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise _costs_error(f"it cannot be read as numbers ({exc})", k) from exc
    return _checked(matrix, k)


def _binary_matrix(costs: Mapping[str, Any], k: int) -> np.ndarray:
    if k != 2 or set(costs) != {"fp", "fn"}:
        why = f"the target has {k} classes" if k != 2 else f"its keys are {sorted(costs)}"
        need = "a mapping needs exactly the keys 'fp' and 'fn' and two classes"
        raise _costs_error(f"{need}; {why}", k)
    try:
        fp, fn = float(costs["fp"]), float(costs["fn"])
    except (TypeError, ValueError) as exc:
        raise _costs_error(f"'fp' and 'fn' must be numbers ({exc})", k) from exc
    return _checked(np.array([[0.0, fp], [fn, 0.0]]), k)


def _labelled_matrix(costs: pd.DataFrame, classes: Sequence[Any]) -> np.ndarray:
    k = len(classes)
    if costs.shape != (k, k):
        raise _costs_error(f"the table has shape {costs.shape}", k)
    by_text = {_text(c): i for i, c in enumerate(classes)}
    rows = [by_text.get(_text(v)) for v in costs.index]
    cols = [by_text.get(_text(v)) for v in costs.columns]
    if None in rows or None in cols or len(set(rows)) != k or len(set(cols)) != k:
        raise _costs_error(
            f"its labels {[str(v) for v in costs.index]} x {[str(v) for v in costs.columns]} "
            f"do not name each class {list(classes)} once",
            k,
        )
    matrix = np.empty((k, k))
    try:
        matrix[np.ix_(rows, cols)] = costs.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise _costs_error(f"it holds values that are not numbers ({exc})", k) from exc
    return _checked(matrix, k)


def _text(label: Any) -> str:
    text = str(plain(label))
    return text[:-2] if text.endswith(".0") else text  # '1.0' in a header for class 1


def _checked(matrix: np.ndarray, k: int) -> np.ndarray:
    if matrix.shape != (k, k):
        raise _costs_error(f"its shape is {matrix.shape}", k)
    if not np.isfinite(matrix).all() or (matrix < 0).any():
        raise _costs_error("costs must be finite and non-negative", k)
    return matrix


def _costs_error(why: str, k: int) -> InvalidParameterError:
    return InvalidParameterError(
        f"The 'costs' parameter of train cannot be used: {why}. To fix: pass {{'fp': x, "
        f"'fn': y}} for a binary target, or a {k} x {k} matrix whose entry [i][j] is the cost "
        f"of predicting class j when the truth is class i (classes in sorted order)."
    )


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
