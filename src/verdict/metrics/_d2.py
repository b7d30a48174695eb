"""D² scores: the fraction of a loss explained, against the model that predicts class frequencies.

``1 - loss(model) / loss(null)``, where the null model gives every sample the (weighted)
frequency of each class in ``y_true``. Both losses come from the same checked targets as
``log_loss`` and ``brier_score_loss``, and the null loss is summed per class, not per sample.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from verdict.metrics._proba_targets import (
    PROBA_FLOATS,
    average,
    binary_targets,
    multiclass_targets,
)
from verdict.metrics._probabilistic import onehot_log_loss, renamed_y_pred
from verdict.metrics._score_inputs import array_of, warn_undefined
from verdict.metrics._sklearn_checks import check_array, check_consistent_length
from verdict.metrics._validation import check_pos_label

_FEW = "D^2 score is not well-defined with less than two samples."


def d2_log_loss_score(
    y_true: Any,
    y_proba: Any = None,
    *,
    sample_weight: Any = None,
    labels: Any = None,
    y_pred: Any = "deprecated",
) -> float:
    """D² of the log loss: 1 - log_loss(model) / log_loss(class frequencies); higher is better.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_labels)
        True labels, or a 0/1 indicator matrix.
    y_proba : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities, columns in sorted label order.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights (they also weight the class frequencies).
    labels : array-like, default=None
        The classes, when ``y_true`` lacks some of ``y_proba``'s columns.
    y_pred : array-like
        Deprecated name of ``y_proba``.

    Returns
    -------
    d2 : float
        1 for perfect probabilities, 0 for the class frequencies, negative when worse. NaN
        (with an UndefinedMetricWarning) for fewer than two samples.
    """
    y_proba = renamed_y_pred(y_proba, y_pred)
    if _too_few(y_true, y_proba, sample_weight):
        return float("nan")
    p = check_array(y_proba, "y_proba", dtype=PROBA_FLOATS)
    targets = multiclass_targets(y_true, p, sample_weight, labels)
    counts, freq = targets.frequencies()
    eps = np.finfo(np.float64).eps  # the frequencies are float64, whatever y_proba's dtype
    null = -np.dot(counts, np.log(np.clip(freq, eps, 1 - eps)))
    return float(1 - onehot_log_loss(targets, normalize=False) / null)


def d2_brier_score(
    y_true: Any,
    y_proba: Any,
    *,
    sample_weight: Any = None,
    pos_label: Any = None,
    labels: Any = None,
) -> float:
    """D² of the Brier score: 1 - Brier(model) / Brier(class frequencies); higher is better.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_labels)
        True labels, or a 0/1 indicator matrix.
    y_proba : array-like of shape (n_samples,) or (n_samples, n_classes)
        1-D: the probability of ``pos_label``. 2-D: one column per sorted class.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights (they also weight the class frequencies).
    pos_label : int, float, bool or str, default=None
        The positive class of a 1-D ``y_proba``.
    labels : array-like, default=None
        The classes of a 2-D ``y_proba``, when ``y_true`` lacks some.

    Returns
    -------
    d2 : float
        NaN (with an UndefinedMetricWarning) for fewer than two samples.
    """
    check_pos_label(pos_label, "d2_brier_score")
    if _too_few(y_true, y_proba, sample_weight):
        return float("nan")
    p = check_array(y_proba, "y_proba", dtype=PROBA_FLOATS)
    if p.ndim == 1 or p.shape[1] == 1:
        targets = binary_targets(y_true, p, sample_weight, pos_label)
    else:
        targets = multiclass_targets(y_true, p, sample_weight, labels)
    brier = average(targets.squared_errors(), targets.weights)
    null = average(targets.squared_errors(targets.null_proba()), targets.weights)
    return float(1 - brier / null)  # numpy scalars: a null of 0 gives inf, as in sklearn


def _too_few(y_true: Any, y_proba: Any, sample_weight: Any) -> bool:
    """Fewer than two samples: scikit-learn warns and returns NaN (after a length check)."""
    weights = None if sample_weight is None else array_of(sample_weight, "sample_weight")
    proba, truth = array_of(y_proba, "y_proba"), array_of(y_true, "y_true")
    n = check_consistent_length(y_proba=proba, y_true=truth, sample_weight=weights)
    if n < 2:
        warn_undefined(_FEW, stacklevel=4)
        return True
    return False
