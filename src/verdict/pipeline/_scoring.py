"""Metric names -> scikit-learn scorers built on verdict's own metric functions.

The search scores every fold with the same functions ``evaluate`` reports, so the number the
search maximises is the number the report shows. Names, inputs and directions are those of
the metric catalogue (``verdict.metrics.get_metric``): the bootstrap's names plus
``expected_calibration_error`` and ``expected_cost`` (which needs a cost matrix). Losses are
negated inside the scorer, as in scikit-learn, so that the search always maximises;
:func:`greater_is_better` tells the caller which way the plain values point.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np
from sklearn.metrics import make_scorer

from verdict._params import InstanceOf, check
from verdict.errors import InvalidParameterError
from verdict.metrics import MetricInfo, cost_matrix, get_metric


def canonical_metric(metric: str) -> str:
    """The metric's canonical name (aliases resolved); an error lists the names on offer."""
    return metric_info(metric).name


def metric_info(metric: str) -> MetricInfo:
    """The catalogue entry of ``metric``, with the search's wording for a non-name."""
    fix = "pass a name such as 'f1_macro', 'accuracy' or 'log_loss'"
    check("metric", metric, "search", InstanceOf(str, "a metric name"), fix=fix)
    return get_metric(metric)


def greater_is_better(metric: str) -> bool:
    """True when larger values of ``metric`` are better (False for losses such as log loss)."""
    return metric_info(metric).greater_is_better


def metric_scorer(
    metric: str, classes: Sequence[Any], *, costs: Any = None
) -> Callable[..., float]:
    """A scorer ``(estimator, X, y) -> float`` for ``metric``, negated for losses.

    Parameters
    ----------
    metric : str
        A metric name of the catalogue (``verdict.metrics.metric_names()``, aliases,
        ``top_<k>_accuracy``).
    classes : sequence
        All class labels of the task, sorted; folds are scored against these, so a class
        missing from one validation fold does not shift the columns.
    costs : mapping or array-like, optional
        Required for ``expected_cost``: anything ``verdict.metrics.cost_matrix`` accepts
        (``{'fp': x, 'fn': y}`` for two classes, or a square matrix in sorted class order).

    Returns
    -------
    callable
        A scikit-learn scorer (from ``make_scorer``); higher is always better.
    """
    info = metric_info(metric)
    labels = np.asarray(sorted(classes))
    matrix = None
    if info.needs_costs:
        if costs is None:
            raise InvalidParameterError(
                f"The 'costs' parameter is required when the metric is {info.name!r}. "
                "To fix: pass costs ({'fp': x, 'fn': y} or a cost matrix), or choose another "
                "metric."
            )
        matrix = cost_matrix(costs, labels.tolist())
    func = partial(_score, info=info, labels=labels, matrix=matrix)
    method = "predict" if info.input == "labels" else "predict_proba"
    return make_scorer(func, greater_is_better=info.greater_is_better, response_method=method)


def _score(
    y_true: Any, values: Any, *, info: MetricInfo, labels: np.ndarray, matrix: Any, **kw: Any
) -> float:
    """The catalogue's computation of ``info`` on one fold."""
    return info.compute(y_true, values, labels=labels, cost_matrix=matrix, **kw)


def proba_score(
    metric: str, n_classes: int, *, costs: np.ndarray | None = None
) -> Callable[[np.ndarray, np.ndarray], float]:
    """``score(y_index, proba)``: ``metric``'s plain value (a loss stays positive) from a
    probability matrix, the labels being ``argmax`` (what every family's ``predict`` gives).

    Classes are coded 0..k-1 in sorted order, so ``costs`` is the matrix in that order. The
    search scores folds, ensembles and calibrations with it, from out-of-fold probabilities.
    """
    info = metric_info(metric)
    codes = np.arange(n_classes)

    def score(y_index: np.ndarray, proba: np.ndarray) -> float:
        values = np.argmax(proba, axis=1) if info.input == "labels" else proba
        return float(info.compute(y_index, values, labels=codes, cost_matrix=costs))

    return score


def label_score(metric: str, n_classes: int) -> Callable[[np.ndarray, np.ndarray], float]:
    """``score(y_index, pred_index)``: a metric of labels from class codes 0..k-1, for choosing
    a decision rule, where building a probability matrix per candidate would cost k times more."""
    info = metric_info(metric)
    if info.input != "labels":
        raise InvalidParameterError(
            f"{info.name!r} is not a metric of labels. To fix: use proba_score for it."
        )
    codes = np.arange(n_classes)

    def score(y_index: np.ndarray, pred_index: np.ndarray) -> float:
        return float(info.compute(y_index, pred_index, labels=codes, cost_matrix=None))

    return score
