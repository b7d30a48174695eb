"""ROC AUC and average precision for binary and multiclass targets.

Each is a short dispatch over the one-sort kernel of ``_ranking``: a binary target is one
kernel call; a multiclass target is one call per class (one-vs-rest, then averaged), per pair
of classes (one-vs-one, Hand & Till) or on the flattened indicator matrix ('micro').
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations
from numbers import Real
from typing import Any

import numpy as np

from verdict._params import Interval, invalid_parameter
from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.metrics._ranking import (
    BinaryCounts,
    ap_from_counts,
    auc_from_counts,
    binary_counts,
    equals,
    finite_scores,
    positive_mask,
    scores_1d,
    weights_or_none,
)
from verdict.metrics._validation import (
    check_choice,
    check_pos_label,
    check_same_length,
    encode,
    labels_1d,
    labels_arg,
    unique_labels,
)

_AVERAGES = ("micro", "macro", "samples", "weighted", None)
_MAX_FPR = Interval(Real, 0, 1, closed="right")
CountsMetric = Callable[[BinaryCounts], float]


def roc_auc_score(
    y_true: Any,
    y_score: Any,
    *,
    average: str | None = "macro",
    sample_weight: Any = None,
    max_fpr: float | None = None,
    multi_class: str = "raise",
    labels: Any = None,
) -> float | np.ndarray:
    """Area under the ROC curve, for binary or multiclass (one-vs-rest, one-vs-one) targets.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels; with two classes the greater one is positive.
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Binary: the score of the greater class. Multiclass: class probabilities whose rows
        sum to 1, columns in the order of ``labels`` (default: sorted labels of ``y_true``).
    average : {'macro', 'weighted', 'micro', 'samples'} or None, default='macro'
        Multiclass averaging ('micro' only with 'ovr'; 'samples' is not defined there);
        ignored for a binary target.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights (not supported with ``multi_class='ovo'``).
    max_fpr : float in (0, 1], default=None
        Binary only: standardised partial AUC up to this false positive rate.
    multi_class : {'raise', 'ovr', 'ovo'}, default='raise'
        How to handle a multiclass target.
    labels : array-like of shape (n_classes,), default=None
        Multiclass only: the classes indexing the columns of ``y_score``, sorted.

    Returns
    -------
    auc : float, or ndarray of per-class values when ``average=None``.
    """
    func = "roc_auc_score"
    check_choice("average", average, _AVERAGES, func)
    check_choice("multi_class", multi_class, ("raise", "ovr", "ovo"), func)
    # not check(): max_fpr=True has always meant 1 here, as in scikit-learn
    if max_fpr is not None and not (isinstance(max_fpr, Real) and 0 < max_fpr <= 1):
        raise invalid_parameter("max_fpr", max_fpr, func, [_MAX_FPR, None])
    y = labels_1d(y_true, "y_true")
    s = finite_scores(y_score)
    n = check_same_length(y_true=y, y_score=s)
    w = weights_or_none(sample_weight, n)
    classes = unique_labels(y)
    if classes.size > 2 or (s.ndim == 2 and s.shape[1] > 2):
        return _multiclass_auc(y, s, w, max_fpr, multi_class, average, labels)
    if classes.size < 2:
        raise InvalidInputError(
            f"Only one class ({classes[0]!r}) is present in y_true. ROC AUC is not defined in "
            "that case: it needs positives and negatives to rank. To fix: evaluate on data "
            "with both classes (e.g. a stratified split)."
        )
    return auc_from_counts(binary_counts(y == classes[-1], scores_1d(s), w), max_fpr)


def _multiclass_auc(
    y: np.ndarray,
    s: np.ndarray,
    w: np.ndarray | None,
    max_fpr: float | None,
    multi_class: str,
    average: str | None,
    labels: Any,
) -> float | np.ndarray:
    if max_fpr is not None and max_fpr != 1:
        raise InvalidParameterError(
            "Partial AUC (max_fpr) is only defined for a binary target, and y_true is "
            f"multiclass; got max_fpr={max_fpr!r}. To fix: leave max_fpr=None."
        )
    if multi_class == "raise":
        raise InvalidParameterError(
            "y_true is multiclass, so roc_auc_score needs multi_class='ovr' (one-vs-rest) or "
            "'ovo' (one-vs-one). To fix: pass multi_class='ovr' or 'ovo'."
        )
    _check_proba_matrix(s)
    allowed = ("macro", "weighted", None) + (("micro",) if multi_class == "ovr" else ())
    if average not in allowed:
        shown = ", ".join(repr(a) for a in allowed)
        raise InvalidParameterError(
            f"average={average!r} is not defined for a multiclass ROC AUC with "
            f"multi_class={multi_class!r}. To fix: pass average as one of {{{shown}}}."
        )
    if average is None and multi_class == "ovo":
        raise NotImplementedError(
            "average=None is not implemented for multi_class='ovo'. To fix: use "
            "average='macro' or 'weighted', or multi_class='ovr' for per-class scores."
        )
    y_enc, n_classes = class_codes(y, labels, s.shape[1])
    if multi_class == "ovr":
        return ovr_average(auc_from_counts, y_enc, s, n_classes, w, average)
    if w is not None:
        raise InvalidInputError(
            "sample_weight is not supported for multiclass one-vs-one ROC AUC. To fix: "
            "leave sample_weight=None, or use multi_class='ovr'."
        )
    return _ovo_auc(y_enc, s, n_classes, average)


def _check_proba_matrix(s: np.ndarray) -> None:
    if s.ndim != 2:
        raise InvalidInputError(
            f"y_score must have shape (n_samples, n_classes) for a multiclass y_true, got "
            f"shape {s.shape}. To fix: pass one column of probabilities per class."
        )
    sums = s.sum(axis=1)
    if not np.allclose(1, sums):
        row = int(np.argmax(~np.isclose(1, sums)))
        raise InvalidInputError(
            "y_score must hold probabilities for a multiclass ROC AUC, but its rows do not "
            f"sum to 1 (row {row} sums to {float(sums[row])!r}). To fix: pass predict_proba "
            "output, or normalise scores with a softmax."
        )


def class_codes(y: np.ndarray, labels: Any, n_columns: int) -> tuple[np.ndarray, int]:
    """Code each label by its column in ``y_score``: ``labels`` if given, else sorted y_true."""
    given = labels_arg(labels)
    if given is None:
        classes = unique_labels(y)
        if classes.size != n_columns:
            raise InvalidInputError(
                f"y_true has {classes.size} classes but y_score has {n_columns} columns. "
                "To fix: pass labels= listing every class in column order (needed when "
                "y_true lacks a class)."
            )
        return encode(y, classes), n_columns
    classes = np.unique(given)
    if classes.size != given.size:
        raise InvalidInputError("labels contains duplicates. To fix: list each class once.")
    if not np.array_equal(classes, given):
        raise InvalidInputError(
            "labels must be sorted: they index the columns of y_score in sorted order. "
            f"To fix: pass labels={classes.tolist()!r} and order y_score's columns to match."
        )
    if classes.size != n_columns:
        raise InvalidInputError(
            f"labels has {classes.size} classes but y_score has {n_columns} columns. "
            "To fix: pass one label per column of y_score."
        )
    if (y.dtype.kind in "US") != (classes.dtype.kind in "US"):
        raise InvalidInputError(
            "y_true and labels mix string and number labels. To fix: use one type for both."
        )
    codes = encode(y, classes)
    if (codes < 0).any():
        missing = y[np.argmax(codes < 0)]
        raise InvalidInputError(
            f"y_true contains a label not in labels (e.g. {missing!r}). To fix: add it to "
            "labels (and a column for it to y_score)."
        )
    return codes, n_columns


def ovr_average(
    metric: CountsMetric,
    y_enc: np.ndarray,
    s: np.ndarray,
    n_classes: int,
    w: np.ndarray | None,
    average: str | None,
) -> float | np.ndarray:
    """One-vs-rest ``metric`` per class, averaged as scikit-learn's ``_average_binary_score``."""
    if average == "micro":
        y_pos = (y_enc[:, None] == np.arange(n_classes)).ravel()
        ww = None if w is None else np.repeat(w, n_classes)
        return metric(binary_counts(y_pos, s.ravel(), ww))
    per_class = np.array(
        [
            metric(binary_counts(y_enc == c, np.ascontiguousarray(s[:, c]), w))
            for c in range(n_classes)
        ]
    )
    if average is None:
        return per_class
    if average == "macro":
        return float(per_class.mean())
    support = np.bincount(y_enc, weights=w, minlength=n_classes)
    if np.isclose(support.sum(), 0):
        return 0.0
    per_class[support == 0] = 0.0
    return float(np.average(per_class, weights=support))


def _ovo_auc(y_enc: np.ndarray, s: np.ndarray, n_classes: int, average: str) -> float:
    """Hand & Till (2001): mean over class pairs of the two one-vs-one AUCs."""
    present = np.flatnonzero(np.bincount(y_enc, minlength=n_classes))
    pair_scores, prevalence = [], []
    for a, b in combinations(present.tolist(), 2):
        in_pair = (y_enc == a) | (y_enc == b)
        is_a = y_enc[in_pair] == a
        sub = s[in_pair]
        auc_a = auc_from_counts(binary_counts(is_a, np.ascontiguousarray(sub[:, a])))
        auc_b = auc_from_counts(binary_counts(~is_a, np.ascontiguousarray(sub[:, b])))
        pair_scores.append((auc_a + auc_b) / 2)
        prevalence.append(is_a.shape[0] / y_enc.shape[0])
    if not pair_scores:
        return float("nan")
    weights = prevalence if average == "weighted" else None
    return float(np.average(pair_scores, weights=weights))


def average_precision_score(
    y_true: Any,
    y_score: Any,
    *,
    average: str | None = "macro",
    pos_label: int | float | bool | str = 1,
    sample_weight: Any = None,
) -> float | np.ndarray:
    """Average precision: the mean precision over thresholds, weighted by the recall gained.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels, binary or multiclass (multiclass is binarised one-vs-rest).
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Binary: the positive class's score. Multiclass: one column per sorted class.
    average : {'macro', 'weighted', 'micro', 'samples'} or None, default='macro'
        Multiclass averaging; ignored for a binary target.
    pos_label : int, float, bool or str, default=1
        The positive class of a binary target; must stay 1 for multiclass.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    average_precision : float, or ndarray of per-class values when ``average=None``.
    """
    func = "average_precision_score"
    check_choice("average", average, _AVERAGES, func)
    if pos_label is None:
        raise invalid_parameter("pos_label", None, func, "an int, float, bool or str")
    check_pos_label(pos_label, func)
    y = labels_1d(y_true, "y_true")
    s = finite_scores(y_score)
    n = check_same_length(y_true=y, y_score=s)
    w = weights_or_none(sample_weight, n)
    classes = unique_labels(y)
    if classes.size <= 2:
        if classes.size == 2 and not equals(classes, pos_label).any():
            raise InvalidInputError(
                f"pos_label={pos_label!r} is not a label of y_true, which takes values in "
                f"{classes.tolist()!r}. To fix: pass pos_label= one of those values."
            )
        y_pos = positive_mask(y, pos_label, func)
        return ap_from_counts(binary_counts(y_pos, scores_1d(s), w))
    if not (pos_label == 1 and isinstance(pos_label, Real)):
        raise InvalidParameterError(
            f"pos_label is fixed to 1 for a multiclass y_true (got {pos_label!r}): each class "
            "is scored against the rest. To fix: leave pos_label at its default."
        )
    if s.shape != (n, classes.size):
        raise InvalidInputError(
            f"y_score must have shape (n_samples, n_classes) = {(n, classes.size)} since "
            f"y_true has {classes.size} classes, got shape {s.shape}. To fix: pass one "
            "column of scores per class, in sorted class order."
        )
    y_enc = encode(y, classes)
    if average == "samples":
        return _samples_ap(y_enc, s, w)
    return ovr_average(ap_from_counts, y_enc, s, classes.size, w, average)


def _samples_ap(y_enc: np.ndarray, s: np.ndarray, w: np.ndarray | None) -> float:
    """Per-row AP with one positive per row: 1 / (number of scores >= the true class's)."""
    true_score = np.take_along_axis(s, y_enc[:, None], axis=1)
    per_row = 1.0 / np.count_nonzero(s >= true_score, axis=1)
    if w is not None:
        per_row[w == 0] = 0.0
    return float(np.average(per_row, weights=w))
