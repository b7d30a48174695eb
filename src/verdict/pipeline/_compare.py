"""The chosen model against the runner-up and a majority-class baseline, by paired tests.

Every comparison scores both models on the same held-out rows, so the tests are paired: the
bootstrap of the difference in the primary metric always, plus DeLong's test when the primary
is ROC AUC and McNemar's when it is accuracy (the classical tests for those two). A p-value
says how surprising the observed difference would be if the two models were equally good;
the interval says how large the difference plausibly is.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from verdict import metrics as vm
from verdict.errors import VerdictWarning

BASELINE = "majority_class"
STRATIFIED = "stratified_guess"  # labels drawn at random with the training class frequencies
BOOTSTRAP_UNKNOWN = ("expected_cost", "expected_calibration_error")  # no vectorised statistic
N_RESAMPLES = 1000


@dataclass(frozen=True, slots=True)
class Outputs:
    """One model's held-out predictions: labels and probabilities (columns in class order)."""

    name: str
    pred: np.ndarray
    proba: np.ndarray


def metric_input(metric: str, out: Outputs) -> np.ndarray:
    """What a named metric reads: labels, or scores (the positive column for two classes)."""
    if vm.get_metric(metric).input == "labels":
        return out.pred
    return out.proba[:, 1] if out.proba.shape[1] == 2 else out.proba


def custom_metric(metric: str, classes: Sequence[Any], cost: np.ndarray | None) -> Callable:
    """A metric the bootstrap does not know by name, as ``fn(y, pred_or_proba)``."""
    info = vm.get_metric(metric)
    labels = list(classes)

    def computed(y: np.ndarray, values: np.ndarray) -> float:
        return info.compute(y, values, labels=labels, cost_matrix=cost)

    computed.__name__ = info.name
    return computed


def compare(
    y_true: np.ndarray,
    metric: str,
    best: Outputs,
    others: Sequence[tuple[str, Outputs]],
    *,
    classes: Sequence[Any],
    cost: np.ndarray | None,
    seed: int,
) -> list[dict[str, Any]]:
    """Paired comparisons of ``best`` with each ``(role, outputs)`` in ``others``.

    ``metric`` is the canonical primary metric name; ``cost`` the cost matrix in ``classes``
    order (needed only for ``expected_cost``). Returns the ``comparisons`` records of run.json.
    """
    rows: list[dict[str, Any]] = []
    with warnings.catch_warnings():
        # a baseline that predicts one class makes per-class metrics 0/0; that is expected
        warnings.simplefilter("ignore", VerdictWarning)
        for role, other in others:
            rows.append(_bootstrap_row(y_true, metric, best, other, role, classes, cost, seed))
            if metric.startswith("roc_auc"):
                rows.append(_delong_row(y_true, best, other, role, classes))
            elif metric == "accuracy":
                rows.append(_mcnemar_row(y_true, best, other, role))
    return rows


def _record(
    best: Outputs,
    role: str,
    other: Outputs,
    metric: str,
    test: str,
    estimates: tuple[float, float],
    found: Any,
    p_value: float,
) -> dict[str, Any]:
    """One comparison record: both estimates, and the difference with its interval (``found``'s
    ``difference``, ``low``, ``high``) and p-value."""
    return {
        "model": best.name,
        "against": role,
        "against_model": other.name,
        "metric": metric,
        "estimate_model": float(estimates[0]),
        "estimate_against": float(estimates[1]),
        "difference": float(found.difference),
        "low": float(found.low),
        "high": float(found.high),
        "p_value": float(p_value),
        "test": test,
    }


def _bootstrap_row(
    y: np.ndarray,
    metric: str,
    best: Outputs,
    other: Outputs,
    role: str,
    classes: Sequence[Any],
    cost: np.ndarray | None,
    seed: int,
) -> dict[str, Any]:
    if metric in BOOTSTRAP_UNKNOWN:
        func: Any = custom_metric(metric, classes, cost)
        use_proba = vm.get_metric(metric).input != "labels"
        a, b = (o.proba if use_proba else o.pred for o in (best, other))
    else:
        func, labels = metric, list(classes)
        a, b = metric_input(metric, best), metric_input(metric, other)
    extra = {} if callable(func) else {"labels": labels}
    ci = vm.paired_bootstrap_ci(func, y, a, b, n_resamples=N_RESAMPLES, random_state=seed, **extra)
    estimates = (ci.estimate_a, ci.estimate_b)
    return _record(best, role, other, metric, "paired_bootstrap", estimates, ci, _bootstrap_p(ci))


def _bootstrap_p(ci: vm.PairedInterval) -> float:
    """Two-sided Monte Carlo p-value of 'no difference': 2 min(P(d <= 0), P(d >= 0)).

    Counted as ``(k + 1) / (n + 1)`` so that it is never an impossible 0 from finite
    resampling.
    """
    n = ci.n_resamples - ci.n_degenerate
    if n <= 0:
        return float("nan")
    at_most_zero = round((1.0 - ci.share_a_higher) * n)
    at_least_zero = round((1.0 - ci.share_b_higher) * n)
    return min(1.0, 2.0 * (min(at_most_zero, at_least_zero) + 1) / (n + 1))


def _delong_row(
    y: np.ndarray, best: Outputs, other: Outputs, role: str, classes: Sequence[Any]
) -> dict[str, Any]:
    if best.proba.shape[1] == 2:
        result = vm.delong_roc_test(y, best.proba[:, 1], other.proba[:, 1], pos_label=classes[1])
    else:
        result = vm.delong_roc_test(y, best.proba, other.proba, labels=list(classes))
    estimates = (result.auc_a, result.auc_b)
    return _record(best, role, other, "roc_auc", "delong", estimates, result, result.p_value)


def _mcnemar_row(y: np.ndarray, best: Outputs, other: Outputs, role: str) -> dict[str, Any]:
    pair = vm.compare_models(
        y, {"model": best.pred, "against": other.pred}, test="mcnemar", correction=None
    ).comparisons[0]
    estimates = (pair.estimate_a, pair.estimate_b)
    return _record(best, role, other, "accuracy", "mcnemar", estimates, pair, pair.p_value)
