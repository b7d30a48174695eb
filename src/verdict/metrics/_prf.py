"""Set-wise metrics: precision, recall, F-beta, specificity and Jaccard, with their averages.

Each is a ratio of per-class one-vs-rest counts from ``JointCounts``; the averaging, the
``zero_division`` rule and the warnings follow scikit-learn's exactly.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from numbers import Real
from typing import Any

import numpy as np

from verdict._params import Interval, check
from verdict.errors import InvalidInputError, UndefinedMetricWarning
from verdict.metrics._confusion import (
    JointCounts,
    class_counts,
    index_of,
    joint_counts,
    validate_targets,
)
from verdict.metrics._validation import (
    check_choice,
    check_pos_label,
    labels_arg,
    zero_division_value,
)

AVERAGES = [None, "binary", "micro", "macro", "weighted", "samples"]
_WARN_ALL = ("precision", "recall", "f-score")


def set_wise_labels(
    joint: JointCounts, average: str | None, labels: Any, pos_label: Any, func: str
) -> np.ndarray | None:
    """Resolve which labels a set-wise metric reports on, as scikit-learn does."""
    check_choice("average", average, AVERAGES, func)
    check_pos_label(pos_label, func)
    if average == "samples":
        raise InvalidInputError(
            "Samplewise metrics are not available outside of multilabel classification. "
            "To fix: choose average from None, 'micro', 'macro', 'weighted' (or 'binary')."
        )
    present = joint.labels
    if average == "binary":
        if present.shape[0] > 2:
            raise InvalidInputError(
                "Target is multiclass but average='binary'. Please choose another average "
                "setting, one of [None, 'micro', 'macro', 'weighted']."
            )
        found = pos_label is not None and index_of(np.asarray([pos_label]), present)[0] >= 0
        if not found and (present.shape[0] >= 2 or pos_label is None):
            raise InvalidInputError(
                f"pos_label={pos_label!r} is not a valid label. It should be one of "
                f"{present.tolist()}. To fix: pass pos_label set to the positive class."
            )
        return np.asarray([pos_label])
    if pos_label not in (None, 1):
        warnings.warn(
            f"Note that pos_label (set to {pos_label!r}) is ignored when average != 'binary' "
            f"(got {average!r}). You may use labels=[pos_label] to specify a single positive "
            "class.",
            UserWarning,
            stacklevel=3,
        )
    return labels_arg(labels)


def prf_divide(
    numerator: np.ndarray,
    denominator: np.ndarray,
    metric: str,
    modifier: str,
    average: str | None,
    warn_for: Iterable[str],
    zero_division: Any,
) -> np.ndarray:
    """Divide; where the denominator is zero use ``zero_division`` and warn when it is 'warn'."""
    mask = denominator == 0
    denominator = np.asarray(denominator, dtype=np.float64).copy()
    denominator[mask] = 1
    result = np.asarray(numerator, dtype=np.float64) / denominator
    if not mask.any():
        return result
    result[mask] = zero_division_value(zero_division, "the metric")
    if isinstance(zero_division, str) and metric in warn_for:
        _warn_undefined(metric.capitalize() + " is", modifier, average, result.shape[0])
    return result


def _warn_undefined(msg_start: str, modifier: str, average: str | None, size: int) -> None:
    where = "due to" if size == 1 else "in labels with"
    warnings.warn(
        f"{msg_start} ill-defined and being set to 0.0 {where} no {modifier} samples. "
        "Use `zero_division` parameter to control this behavior.",
        UndefinedMetricWarning,
        stacklevel=4,
    )


def nan_average(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Weighted mean ignoring NaN; all-zero weights fall back to the plain mean."""
    if values.shape[0] == 0:
        return float("nan")
    mask = np.isnan(values)
    if mask.all():
        return float("nan")
    if weights is None:
        return float(np.mean(values[~mask]))
    kept, w = values[~mask], np.asarray(weights)[~mask]
    if w.sum() == 0:
        return float(np.mean(kept))
    return float(np.average(kept, weights=w))


_BETA = Interval(Real, 0, None, closed="both")  # sklearn allows beta=inf (recall alone)


def _check_beta(beta: Any, func: str) -> float:
    return float(check("beta", beta, func, _BETA, fix="pass e.g. beta=2.0"))


def precision_recall_fscore_support(
    y_true: Any,
    y_pred: Any,
    *,
    beta: float = 1.0,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = None,
    warn_for: Iterable[str] = _WARN_ALL,
    sample_weight: Any = None,
    zero_division: Any = "warn",
) -> tuple[Any, Any, Any, Any]:
    """Precision, recall, F-beta and support per class, or averaged.

    Same signature and results as scikit-learn's function of that name. ``average`` is one of
    None (per class), 'binary' (the ``pos_label`` class), 'micro' (pooled counts), 'macro'
    (unweighted mean over classes) or 'weighted' (mean weighted by support).
    """
    func = "precision_recall_fscore_support"
    zero_division_value(zero_division, func)
    beta = _check_beta(beta, func)
    joint = joint_counts(validate_targets(y_true, y_pred, sample_weight))
    wanted = set_wise_labels(joint, average, labels, pos_label, func)
    return prfs_from_counts(joint, beta, wanted, average, tuple(warn_for), zero_division)


def prfs_from_counts(
    joint: JointCounts,
    beta: float,
    labels: np.ndarray | None,
    average: str | None,
    warn_for: tuple[str, ...],
    zero_division: Any,
) -> tuple[Any, Any, Any, Any]:
    """The arithmetic of precision_recall_fscore_support on already counted pairs."""
    tp, fp, fn, _ = class_counts(joint, labels)
    pred_sum, true_sum = tp + fp, tp + fn
    if average == "micro":
        tp, pred_sum, true_sum = (np.atleast_1d(a.sum()) for a in (tp, pred_sum, true_sum))
    args = (average, warn_for, zero_division)
    precision = prf_divide(tp, pred_sum, "precision", "predicted", *args)
    recall = prf_divide(tp, true_sum, "recall", "true", *args)
    if np.isposinf(beta):
        f_score = recall
    elif beta == 0:
        f_score = precision
    else:
        beta2 = beta**2
        denom = beta2 * true_sum.astype(np.float64) + pred_sum.astype(np.float64)
        numer = (1 + beta2) * tp.astype(np.float64)
        f_score = prf_divide(numer, denom, "f-score", "true nor predicted", *args)
    if average is None:
        return precision, recall, f_score, true_sum
    weights = true_sum if average == "weighted" else None
    return (
        nan_average(precision, weights),
        nan_average(recall, weights),
        nan_average(f_score, weights),
        None,
    )


def _one_of_prfs(
    which: int,
    warn: str,
    func: str,
    y_true: Any,
    y_pred: Any,
    labels: Any,
    pos_label: Any,
    average: str | None,
    sample_weight: Any,
    zero_division: Any,
    beta: float = 1.0,
) -> Any:
    """Entry ``which`` of precision_recall_fscore_support, warning only about ``warn``."""
    zero_division_value(zero_division, func)
    joint = joint_counts(validate_targets(y_true, y_pred, sample_weight))
    wanted = set_wise_labels(joint, average, labels, pos_label, func)
    return prfs_from_counts(joint, beta, wanted, average, (warn,), zero_division)[which]


def precision_score(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    sample_weight: Any = None,
    zero_division: Any = "warn",
) -> Any:
    """Precision ``tp / (tp + fp)``: of the samples predicted positive, the share that are."""
    return _one_of_prfs(
        0,
        "precision",
        "precision_score",
        y_true,
        y_pred,
        labels,
        pos_label,
        average,
        sample_weight,
        zero_division,
    )


def recall_score(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    sample_weight: Any = None,
    zero_division: Any = "warn",
) -> Any:
    """Recall (sensitivity) ``tp / (tp + fn)``: of the positive samples, the share found."""
    return _one_of_prfs(
        1,
        "recall",
        "recall_score",
        y_true,
        y_pred,
        labels,
        pos_label,
        average,
        sample_weight,
        zero_division,
    )


def fbeta_score(
    y_true: Any,
    y_pred: Any,
    *,
    beta: float,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    sample_weight: Any = None,
    zero_division: Any = "warn",
) -> Any:
    """F-beta: the weighted harmonic mean of precision and recall; beta > 1 favours recall."""
    beta = _check_beta(beta, "fbeta_score")
    return _one_of_prfs(
        2,
        "f-score",
        "fbeta_score",
        y_true,
        y_pred,
        labels,
        pos_label,
        average,
        sample_weight,
        zero_division,
        beta,
    )


def f1_score(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    sample_weight: Any = None,
    zero_division: Any = "warn",
) -> Any:
    """F1: the harmonic mean of precision and recall, ``2 tp / (2 tp + fp + fn)``."""
    return _one_of_prfs(
        2,
        "f-score",
        "f1_score",
        y_true,
        y_pred,
        labels,
        pos_label,
        average,
        sample_weight,
        zero_division,
    )


def specificity_score(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    sample_weight: Any = None,
    zero_division: Any = "warn",
) -> Any:
    """Specificity (true-negative rate) ``tn / (tn + fp)``, which scikit-learn lacks.

    For multiclass input each class is taken one-vs-rest; ``average`` works as in
    ``recall_score`` ('weighted' weights each class by its support in ``y_true``).
    """
    func = "specificity_score"
    zero_division_value(zero_division, func)
    joint = joint_counts(validate_targets(y_true, y_pred, sample_weight))
    wanted = set_wise_labels(joint, average, labels, pos_label, func)
    return specificity_from_counts(joint, wanted, average, zero_division)


def specificity_from_counts(
    joint: JointCounts, labels: np.ndarray | None, average: str | None, zero_division: Any
) -> Any:
    """The arithmetic of specificity_score on already counted pairs."""
    tp, fp, fn, tn = class_counts(joint, labels)
    negatives, support = tn + fp, tp + fn
    if average == "micro":
        tn, negatives = np.atleast_1d(tn.sum()), np.atleast_1d(negatives.sum())
    spec = prf_divide(
        tn, negatives, "specificity", "negative", average, ("specificity",), zero_division
    )
    if average is None:
        return spec
    return nan_average(spec, support if average == "weighted" else None)


def jaccard_score(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    sample_weight: Any = None,
    zero_division: Any = "warn",
) -> Any:
    """Jaccard index ``tp / (tp + fp + fn)``: overlap of predicted and true sets per class."""
    func = "jaccard_score"
    zero_division_value(zero_division, func)
    joint = joint_counts(validate_targets(y_true, y_pred, sample_weight))
    wanted = set_wise_labels(joint, average, labels, pos_label, func)
    return jaccard_from_counts(joint, wanted, average, zero_division)


def jaccard_from_counts(
    joint: JointCounts, labels: np.ndarray | None, average: str | None, zero_division: Any
) -> Any:
    """The arithmetic of jaccard_score on already counted pairs."""
    tp, fp, fn, _ = class_counts(joint, labels)
    numerator, denominator = tp, tp + fp + fn
    if average == "micro":
        numerator, denominator = np.atleast_1d(tp.sum()), np.atleast_1d(denominator.sum())
    jaccard = prf_divide(
        numerator, denominator, "jaccard", "true or predicted", average, ("jaccard",), zero_division
    )
    if average is None:
        return jaccard
    weights = None
    if average == "weighted":
        weights = fn + tp
        if not np.any(weights):
            weights = None
    return float(np.average(jaccard, weights=weights))
