"""Metric names -> scikit-learn scorers built on verdict's own metric functions.

The search scores every fold with the same functions ``evaluate`` reports, so the number the
search maximises is the number the report shows. Names are those of the bootstrap table
(``accuracy``, ``f1_macro``, ``roc_auc_macro``, ``log_loss`` ...) plus
``expected_calibration_error`` and ``expected_cost`` (which needs a cost matrix), the two extra
primaries ``recommend_metrics`` can advise. Losses are negated inside the scorer, as in
scikit-learn, so that the search always maximises; :func:`greater_is_better` tells the caller
which way the plain values point.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np
from sklearn.metrics import make_scorer

from verdict import metrics as vm
from verdict.errors import InvalidParameterError
from verdict.metrics._bootstrap_metrics import parse_metric

_LOSSES = frozenset(
    {"log_loss", "brier_score", "hamming_loss", "expected_calibration_error", "expected_cost"}
)
_TABLE = {
    "accuracy": vm.accuracy_score,
    "hamming_loss": vm.hamming_loss,
    "balanced_accuracy": vm.balanced_accuracy_score,
    "matthews_corrcoef": vm.matthews_corrcoef,
    "cohen_kappa": vm.cohen_kappa_score,
}
_SETS = {
    "precision": vm.precision_score,
    "recall": vm.recall_score,
    "f1": vm.f1_score,
    "specificity": vm.specificity_score,
    "jaccard": vm.jaccard_score,
}


def canonical_metric(metric: str) -> str:
    """The metric's canonical name (aliases resolved); an error lists the names on offer."""
    if metric in ("expected_calibration_error", "ece", "expected_cost"):
        return "expected_calibration_error" if metric == "ece" else metric
    if not isinstance(metric, str):
        raise InvalidParameterError(
            f"The 'metric' parameter of search must be a metric name; got {metric!r}. "
            "To fix: pass a name such as 'f1_macro', 'accuracy' or 'log_loss'."
        )
    return parse_metric(metric, "search").name


def greater_is_better(metric: str) -> bool:
    """True when larger values of ``metric`` are better (False for losses such as log loss)."""
    return canonical_metric(metric) not in _LOSSES


def metric_scorer(
    metric: str, classes: Sequence[Any], *, costs: Any = None
) -> Callable[..., float]:
    """A scorer ``(estimator, X, y) -> float`` for ``metric``, negated for losses.

    Parameters
    ----------
    metric : str
        A metric name from the bootstrap table, ``expected_calibration_error`` or
        ``expected_cost``.
    classes : sequence
        All class labels of the task, sorted; folds are scored against these, so a class
        missing from one validation fold does not shift the columns.
    costs : mapping or array-like, optional
        Required for ``expected_cost``: ``{'fp': x, 'fn': y}`` for two classes or a square
        matrix (true class rows, predicted class columns, sorted class order).

    Returns
    -------
    callable
        A scikit-learn scorer (from ``make_scorer``); higher is always better.
    """
    name = canonical_metric(metric)
    labels = np.asarray(sorted(classes))
    sign = -1 if name in _LOSSES else 1
    if name == "expected_cost":
        func = partial(_expected_cost, matrix=_cost_matrix(costs, labels), labels=labels)
        return make_scorer(func, greater_is_better=sign > 0)
    if name == "expected_calibration_error":
        func = partial(_proba_metric, name=name, labels=labels)
        return make_scorer(func, greater_is_better=False, response_method="predict_proba")
    spec = parse_metric(name, "search").resolved(len(labels))
    if spec.family == "count":
        func = partial(_count_metric, spec=spec, labels=labels)
        return make_scorer(func, greater_is_better=sign > 0)
    func = partial(_proba_metric, name=spec.name, labels=labels, spec=spec)
    return make_scorer(func, greater_is_better=sign > 0, response_method="predict_proba")


def _count_metric(y_true: Any, y_pred: Any, *, spec: Any, labels: np.ndarray, **kw: Any) -> float:
    """A metric of predicted labels."""
    if spec.metric in _TABLE:
        return float(_TABLE[spec.metric](y_true, y_pred, **kw))
    extra: dict[str, Any] = {"average": spec.average, "zero_division": 0}
    if spec.average == "binary":
        extra["pos_label"] = labels[-1]
    else:
        extra["labels"] = labels
    return float(_SETS[spec.metric](y_true, y_pred, **extra, **kw))


def _proba_metric(
    y_true: Any, proba: Any, *, name: str, labels: np.ndarray, spec: Any = None, **kw: Any
) -> float:
    """A metric of class probabilities (columns in ``labels`` order)."""
    p = np.asarray(proba, dtype=float)
    if p.ndim == 1:  # scikit-learn passes the positive column for two classes
        p = np.column_stack([1.0 - p, p])
    if name == "expected_calibration_error":
        return float(vm.expected_calibration_error(y_true, p, labels=labels, **kw))
    if name == "log_loss":
        return float(vm.log_loss(y_true, p, labels=labels, **kw))
    if name == "brier_score":
        return float(vm.brier_score_loss(y_true, p, labels=labels, **kw))
    if spec.metric == "top_k_accuracy":
        scores = p[:, 1] if len(labels) == 2 else p  # binary: the positive column
        return float(vm.top_k_accuracy_score(y_true, scores, k=spec.k, labels=labels, **kw))
    if spec.average == "binary":
        positive = np.asarray(y_true) == labels[-1]
        func = vm.roc_auc_score if spec.metric == "roc_auc" else vm.average_precision_score
        return float(func(positive, p[:, 1], **kw))
    if spec.metric == "roc_auc":
        return float(
            vm.roc_auc_score(
                y_true, p, average=spec.average, multi_class="ovr", labels=labels, **kw
            )
        )
    onehot = (np.asarray(y_true)[:, None] == labels[None, :]).astype(int)
    return float(vm.average_precision_score(onehot, p, average=spec.average, **kw))


def _expected_cost(
    y_true: Any, y_pred: Any, *, matrix: np.ndarray, labels: np.ndarray, **kw: Any
) -> float:
    """Mean cost of the predictions (weighted by ``sample_weight`` when given)."""
    index = {label: i for i, label in enumerate(labels.tolist())}
    rows = np.fromiter((index[v] for v in np.asarray(y_true).tolist()), dtype=int)
    cols = np.fromiter((index[v] for v in np.asarray(y_pred).tolist()), dtype=int)
    return float(np.average(matrix[rows, cols], weights=kw.get("sample_weight")))


def _cost_matrix(costs: Any, labels: np.ndarray) -> np.ndarray:
    """A square cost matrix in ``labels`` order from a matrix or a binary {'fp','fn'} mapping."""
    k = len(labels)
    if isinstance(costs, Mapping) and k == 2 and {"fp", "fn"} <= set(costs):
        return np.array([[0.0, float(costs["fp"])], [float(costs["fn"]), 0.0]])
    matrix = None if costs is None or isinstance(costs, Mapping) else np.asarray(costs, float)
    if matrix is None or matrix.shape != (k, k) or not np.isfinite(matrix).all():
        raise InvalidParameterError(
            f"The 'costs' parameter must be a finite {k}x{k} cost matrix (rows: true class, "
            f"columns: predicted class, sorted class order) or, for two classes, "
            f"{{'fp': x, 'fn': y}}, when the metric is 'expected_cost'; got {costs!r}. "
            "To fix: pass costs, or choose another metric."
        )
    return matrix
