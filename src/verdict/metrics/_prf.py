"""Set-wise metrics: precision, recall, F-beta, specificity and Jaccard, with their averages.

Each is a ratio of one-vs-rest counts ``(tp, fp, fn, tn)`` per class, per label of a multilabel
target, or per sample (``average='samples'``), from ``one_vs_rest_counts``; the averaging, the
``zero_division`` rule and the warnings follow scikit-learn's exactly.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from numbers import Real
from typing import Any

import numpy as np

from verdict import errors
from verdict._params import Interval, check
from verdict.errors import InvalidInputError
from verdict.metrics._confusion import JointCounts, class_counts, index_of, one_vs_rest_counts
from verdict.metrics._multilabel import Counts
from verdict.metrics._targets import Targets, check_targets
from verdict.metrics._validation import (
    check_choice,
    check_pos_label,
    labels_arg,
    zero_division_value,
)

AVERAGES = [None, "binary", "micro", "macro", "weighted", "samples"]
_WARN_ALL = ("precision", "recall", "f-score")


def set_wise_counts(
    func: str,
    y_true: Any,
    y_pred: Any,
    labels: Any,
    pos_label: Any,
    average: str | None,
    sample_weight: Any,
    zero_division: Any,
) -> tuple[Targets, Counts]:
    """Check the parameters, then the targets; count what ``average`` reduces."""
    zero_division_value(zero_division, func)
    check_choice("average", average, AVERAGES, func)
    check_pos_label(pos_label, func)
    targets = check_targets(y_true, y_pred, sample_weight)
    wanted = set_wise_labels(targets, average, labels_arg(labels), pos_label)
    return targets, one_vs_rest_counts(targets, wanted, average == "samples")


def set_wise_labels(
    targets: Targets, average: str | None, labels: np.ndarray | None, pos_label: Any
) -> np.ndarray | None:
    """Resolve which labels a set-wise metric reports on, as scikit-learn does."""
    if average == "binary":
        if targets.kind != "binary":
            options = [None, "micro", "macro", "weighted"]
            options += ["samples"] if targets.multilabel else []
            raise InvalidInputError(
                f"Target is {targets.kind} but average='binary'. Please choose another average "
                f"setting, one of {options!r}. To fix: pass one of them as average."
            )
        present = targets.labels
        found = pos_label is not None and index_of(np.asarray([pos_label]), present)[0] >= 0
        if not found and present.shape[0] >= 2:
            raise InvalidInputError(
                f"pos_label={pos_label} is not a valid label. It should be one of {present}. "
                "To fix: pass pos_label set to the positive class."
            )
        return np.asarray([pos_label])
    if pos_label not in (None, 1):
        warnings.warn(
            f"Note that pos_label (set to {pos_label!r}) is ignored when average != 'binary' "
            f"(got {average!r}). You may use labels=[pos_label] to specify a single positive "
            "class.",
            UserWarning,
            stacklevel=4,
        )
    return labels


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
    entry, unit = ("sample", "label") if average == "samples" else ("label", "sample")
    where = "due to" if size == 1 else f"in {entry}s with"
    warnings.warn(
        f"{msg_start} ill-defined and being set to 0.0 {where} no {modifier} {unit}s. "
        "Use `zero_division` parameter to control this behavior.",
        errors.UndefinedMetricWarning,
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

    Same signature and results as scikit-learn's function of that name, for binary, multiclass
    and multilabel-indicator targets. ``average`` is one of None (per class), 'binary' (the
    ``pos_label`` class), 'micro' (pooled counts), 'macro' (unweighted mean over classes),
    'weighted' (mean weighted by support) or 'samples' (mean over samples, multilabel only).
    """
    func = "precision_recall_fscore_support"
    beta = _check_beta(beta, func)
    targets, counts = set_wise_counts(
        func, y_true, y_pred, labels, pos_label, average, sample_weight, zero_division
    )
    return prfs_from_stats(
        counts, beta, average, tuple(warn_for), zero_division, targets.sample_weight
    )


def prfs_from_counts(
    joint: JointCounts,
    beta: float,
    labels: np.ndarray | None,
    average: str | None,
    warn_for: tuple[str, ...],
    zero_division: Any,
) -> tuple[Any, Any, Any, Any]:
    """The arithmetic of precision_recall_fscore_support on already counted pairs."""
    return prfs_from_stats(class_counts(joint, labels), beta, average, warn_for, zero_division)


def prfs_from_stats(
    counts: Counts,
    beta: float,
    average: str | None,
    warn_for: tuple[str, ...],
    zero_division: Any,
    sample_weight: np.ndarray | None = None,
) -> tuple[Any, Any, Any, Any]:
    """Precision, recall, F-beta and support from one-vs-rest counts, averaged as asked."""
    tp, fp, fn, _ = counts
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
    weights = _average_weights(average, true_sum, sample_weight)
    return (
        nan_average(precision, weights),
        nan_average(recall, weights),
        nan_average(f_score, weights),
        None,
    )


def _average_weights(
    average: str | None, support: np.ndarray, sample_weight: np.ndarray | None
) -> np.ndarray | None:
    if average == "weighted":
        return support
    return sample_weight if average == "samples" else None


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
    targets, counts = set_wise_counts(
        func, y_true, y_pred, labels, pos_label, average, sample_weight, zero_division
    )
    w = targets.sample_weight
    return prfs_from_stats(counts, beta, average, (warn,), zero_division, w)[which]


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

    For multiclass input each class is taken one-vs-rest, for multilabel input each label;
    ``average`` works as in ``recall_score`` ('weighted' weights each class by its support in
    ``y_true``, 'samples' averages each sample's specificity over its labels).
    """
    targets, counts = set_wise_counts(
        "specificity_score",
        y_true,
        y_pred,
        labels,
        pos_label,
        average,
        sample_weight,
        zero_division,
    )
    return specificity_from_stats(counts, average, zero_division, targets.sample_weight)


def specificity_from_counts(
    joint: JointCounts, labels: np.ndarray | None, average: str | None, zero_division: Any
) -> Any:
    """The arithmetic of specificity_score on already counted pairs."""
    return specificity_from_stats(class_counts(joint, labels), average, zero_division)


def specificity_from_stats(
    counts: Counts,
    average: str | None,
    zero_division: Any,
    sample_weight: np.ndarray | None = None,
) -> Any:
    """Specificity from one-vs-rest counts, averaged as recall is."""
    tp, fp, fn, tn = counts
    negatives, support = tn + fp, tp + fn
    if average == "micro":
        tn, negatives = np.atleast_1d(tn.sum()), np.atleast_1d(negatives.sum())
    spec = prf_divide(
        tn, negatives, "specificity", "negative", average, ("specificity",), zero_division
    )
    if average is None:
        return spec
    return nan_average(spec, _average_weights(average, support, sample_weight))


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
    targets, counts = set_wise_counts(
        "jaccard_score",
        y_true,
        y_pred,
        labels,
        pos_label,
        average,
        sample_weight,
        zero_division,
    )
    return jaccard_from_stats(counts, average, zero_division, targets.sample_weight)


def jaccard_from_counts(
    joint: JointCounts, labels: np.ndarray | None, average: str | None, zero_division: Any
) -> Any:
    """The arithmetic of jaccard_score on already counted pairs."""
    return jaccard_from_stats(class_counts(joint, labels), average, zero_division)


def jaccard_from_stats(
    counts: Counts,
    average: str | None,
    zero_division: Any,
    sample_weight: np.ndarray | None = None,
) -> Any:
    """Jaccard from one-vs-rest counts; its averages are plain (not NaN-skipping) means."""
    tp, fp, fn, _ = counts
    numerator, denominator = tp, tp + fp + fn
    if average == "micro":
        numerator, denominator = np.atleast_1d(tp.sum()), np.atleast_1d(denominator.sum())
    jaccard = prf_divide(
        numerator, denominator, "jaccard", "true or predicted", average, ("jaccard",), zero_division
    )
    if average is None:
        return jaccard
    weights = _average_weights(average, fn + tp, sample_weight)
    if average == "weighted" and not np.any(weights):
        weights = None
    return float(np.average(jaccard, weights=weights))
