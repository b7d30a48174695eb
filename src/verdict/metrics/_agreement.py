"""Whole-table agreement metrics: accuracy, balanced accuracy, MCC, Cohen's kappa and losses.

Accuracy-like metrics compare the arrays directly (one pass; on a multilabel target a sample
is correct when its whole row matches, and the Hamming loss counts wrong labels); the others
reduce the joint confusion matrix from ``_confusion``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from verdict import errors
from verdict._params import invalid_parameter
from verdict.errors import InvalidInputError
from verdict.metrics._confusion import (
    JointCounts,
    confusion_matrix,
    joint_counts,
    validate_targets,
)
from verdict.metrics._multilabel import row_mismatches
from verdict.metrics._targets import Targets, check_targets
from verdict.metrics._validation import check_choice, check_flag


def _weighted_mean(values: np.ndarray, weights: np.ndarray | None) -> float:
    if weights is None:
        return float(np.count_nonzero(values)) / values.shape[0]
    if weights.sum() == 0:
        raise InvalidInputError(
            "sample_weight sums to zero, so a weighted mean is undefined. To fix: pass "
            "weights with a non-zero sum."
        )
    return float(np.average(values, weights=weights))  # scikit-learn's arithmetic, to the bit


def _correct(targets: Targets) -> np.ndarray:
    """Per sample: the label (or, multilabel, every label of the row) is right."""
    if targets.multilabel:
        return ~targets.mismatch().any(axis=1)
    return targets.y_true == targets.y_pred


def accuracy_score(
    y_true: Any, y_pred: Any, *, normalize: bool = True, sample_weight: Any = None
) -> float:
    """Share of exact matches (``normalize=False``: their count or summed weight).

    On a multilabel target this is subset accuracy: a sample counts only when all its labels
    are right.
    """
    check_flag("normalize", normalize, "accuracy_score")
    targets = check_targets(y_true, y_pred, sample_weight)
    correct = _correct(targets)
    if normalize:
        return _weighted_mean(correct, targets.sample_weight)
    if targets.sample_weight is None:
        return float(np.count_nonzero(correct))
    return float(np.dot(correct, targets.sample_weight))


def zero_one_loss(
    y_true: Any, y_pred: Any, *, normalize: bool = True, sample_weight: Any = None
) -> float:
    """Share (or count) of misclassified samples (multilabel: of rows with a wrong label)."""
    check_flag("normalize", normalize, "zero_one_loss")
    targets = check_targets(y_true, y_pred, sample_weight)
    correct = _correct(targets)
    if normalize:
        return 1 - _weighted_mean(correct, targets.sample_weight)
    w = targets.sample_weight
    if w is None:
        return float(targets.n_samples - np.count_nonzero(correct))
    return float(w.sum() - np.dot(correct, w))


def hamming_loss(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """Fraction of wrong labels; for one label per sample it equals the zero-one loss."""
    targets = check_targets(y_true, y_pred, sample_weight)
    w = targets.sample_weight
    if not targets.multilabel:
        return _weighted_mean(targets.y_true != targets.y_pred, w)
    wrong = row_mismatches(targets)
    n_wrong, scale = (wrong.sum(), 1.0) if w is None else (np.dot(wrong, w), np.average(w))
    return float(n_wrong) / (targets.y_true.shape[0] * targets.y_true.shape[1] * scale)


def balanced_accuracy_score(
    y_true: Any, y_pred: Any, *, sample_weight: Any = None, adjusted: bool = False
) -> float:
    """Mean recall over the classes of ``y_true``; ``adjusted`` rescales chance to zero."""
    check_flag("adjusted", adjusted, "balanced_accuracy_score")
    cm = confusion_matrix(y_true, y_pred, sample_weight=sample_weight)
    return balanced_accuracy_from_matrix(cm, adjusted)


def balanced_accuracy_from_matrix(cm: np.ndarray, adjusted: bool = False) -> float:
    """Balanced accuracy of a confusion matrix (rows true classes)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        per_class = np.diagonal(cm) / cm.sum(axis=1)
    if np.isnan(per_class).any():
        warnings.warn("y_pred contains classes not in y_true", UserWarning, stacklevel=3)
        per_class = per_class[~np.isnan(per_class)]
    score = np.mean(per_class)  # numpy scalar: adjusting one class gives nan/-inf, not a raise
    if adjusted:
        chance = 1 / per_class.shape[0]
        score = (score - chance) / (1 - chance)
    return float(score)


def matthews_corrcoef(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """Matthews correlation (multiclass R_K); 0 when either side has a single class."""
    joint = joint_counts(validate_targets(y_true, y_pred, sample_weight))
    return mcc_from_counts(joint)


def mcc_from_counts(joint: JointCounts) -> float:
    """Matthews correlation of already counted pairs."""
    C = joint.weighted
    t_sum = C.sum(axis=1, dtype=np.float64)
    p_sum = C.sum(axis=0, dtype=np.float64)
    n_correct = np.trace(C, dtype=np.float64)
    n_samples = p_sum.sum()
    cov_ytyp = n_correct * n_samples - np.dot(t_sum, p_sum)
    cov_ypyp = n_samples**2 - np.dot(p_sum, p_sum)
    cov_ytyt = n_samples**2 - np.dot(t_sum, t_sum)
    denominator = cov_ypyp * cov_ytyt
    if not denominator > 0:  # >= 0 in exact arithmetic; float weights can leave -1e-16
        return 0.0
    return float(cov_ytyp / np.sqrt(denominator))


def cohen_kappa_score(
    y1: Any,
    y2: Any,
    *,
    labels: Any = None,
    weights: str | None = None,
    sample_weight: Any = None,
    replace_undefined_by: float = np.nan,
) -> float:
    """Cohen's kappa: agreement between two labelings beyond what chance explains.

    ``weights`` 'linear' or 'quadratic' penalise disagreements by their distance in the order
    of ``labels`` (ordinal classes).
    """
    check_choice("weights", weights, ["linear", "quadratic", None], "cohen_kappa_score")
    _check_replacement(replace_undefined_by)
    try:
        confusion = confusion_matrix(y1, y2, labels=labels, sample_weight=sample_weight)
    except InvalidInputError as exc:
        if "At least one label specified must be in y_true" not in str(exc):
            raise
        raise InvalidInputError(
            "At least one label in `labels` must be present in `y1` (even though "
            "`cohen_kappa_score` is otherwise agnostic to the order of `y1` and `y2`)."
        ) from exc
    return kappa_from_matrix(confusion.astype(np.float64), weights, replace_undefined_by)


def _check_replacement(value: Any) -> None:
    if isinstance(value, (int, float)) and (np.isnan(value) or -1.0 <= value <= 1.0):
        return
    allowed = "a float in the range [-1.0, 1.0] or nan"
    raise invalid_parameter("replace_undefined_by", value, "cohen_kappa_score", allowed)


def kappa_from_matrix(confusion: np.ndarray, weights: str | None, undefined: float) -> float:
    """Cohen's kappa of a float confusion matrix."""
    n_classes = confusion.shape[0]
    sum0, sum1 = confusion.sum(axis=0), confusion.sum(axis=1)
    total = sum0.sum()
    if total == 0:
        _warn_kappa(
            "`y2` contains no labels that are present in both `y1` and `labels`.", undefined
        )
        return undefined
    expected = np.outer(sum0, sum1) / total
    grid = np.zeros((n_classes, n_classes)) + np.arange(n_classes)
    if weights is None:
        w_mat = np.ones((n_classes, n_classes))
        np.fill_diagonal(w_mat, 0)
    elif weights == "linear":
        w_mat = np.abs(grid - grid.T)
    else:
        w_mat = (grid - grid.T) ** 2
    denominator = np.sum(w_mat * expected)
    if denominator == 0:
        _warn_kappa("`y1`, `y2` and `labels` have only one label in common.", undefined)
        return undefined
    return float(1 - np.sum(w_mat * confusion) / denominator)


def _warn_kappa(reason: str, undefined: float) -> None:
    warnings.warn(
        f"{reason} `cohen_kappa_score` is undefined and set to the value defined by the "
        f"`replace_undefined_by` param, which is set to {undefined}.",
        errors.UndefinedMetricWarning,
        stacklevel=4,
    )
