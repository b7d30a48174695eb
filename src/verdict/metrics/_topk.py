"""Top-k accuracy: is the true class among the k best-scored classes?

No sort: the true class's position is the number of classes scored higher plus the number tied
with it at a higher column index (scikit-learn breaks ties towards the higher index).
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np

from verdict._params import Interval, check
from verdict.errors import InvalidInputError
from verdict.metrics._ranking_multiclass import given_classes
from verdict.metrics._score_inputs import array_of, label_array, warn_undefined
from verdict.metrics._sklearn_checks import (
    check_array,
    check_consistent_length,
    column_or_1d,
    type_of_target,
)
from verdict.metrics._validation import check_flag, encode

_FUNC = "top_k_accuracy_score"
# Rows per block when ranking, to bound the (rows, n_classes) temporaries.
_BLOCK = 1 << 16


def top_k_accuracy_score(
    y_true: Any,
    y_score: Any,
    *,
    k: int = 2,
    normalize: bool = True,
    sample_weight: Any = None,
    labels: Any = None,
) -> float:
    """Fraction (or weighted count) of samples whose true class is among the top ``k`` scores.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Binary: the greater class's score. Multiclass: one column per class, in the order of
        ``labels`` (default: sorted labels of ``y_true``).
    k : int, default=2
        How many of the best-scored classes count as a hit. Ties go to the higher column.
    normalize : bool, default=True
        Return the fraction of hits; otherwise their (weighted) number.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    labels : array-like of shape (n_classes,), default=None
        The classes indexing the columns of ``y_score``, sorted.

    Returns
    -------
    score : float
    """
    check("k", k, _FUNC, Interval(Integral, 1, None, closed="left"), fix="pass e.g. k=2")
    check_flag("normalize", normalize, _FUNC)
    y = column_or_1d(label_array(array_of(y_true, "y_true")), "y_true")
    kind = type_of_target(y, "y_true")
    if kind == "binary" and labels is not None and len(labels) > 2:
        kind = "multiclass"
    if kind not in ("binary", "multiclass"):
        raise InvalidInputError(
            f"y type must be 'binary' or 'multiclass', got '{kind}' instead. Top-k accuracy "
            "needs class labels. To fix: pass the true classes, not scores or an indicator "
            "matrix."
        )
    s = check_array(y_score, "y_score")
    if kind == "binary":
        if s.ndim == 2 and s.shape[1] != 1:
            raise InvalidInputError(
                f"`y_true` is binary while y_score is 2d with {s.shape[1]} classes. If `y_true` "
                "does not contain all the labels, `labels` must be provided. To fix: pass "
                "labels= listing every class, one per column of y_score."
            )
        s = column_or_1d(s, "y_score")
    elif s.ndim != 2:
        raise InvalidInputError(
            "`y_score` needs to be of shape `(n_samples, n_classes)`, since `y_true` contains "
            f"multiple classes. Got `y_score.shape={s.shape}`. To fix: pass one column of "
            "scores per class."
        )
    w = None if sample_weight is None else np.asarray(array_of(sample_weight, "sample_weight"))
    check_consistent_length(y_true=y, y_score=s, sample_weight=w)
    classes = given_classes(labels, y, s.shape[1] if s.ndim == 2 else 2, roc=False)
    n_classes = classes.shape[0]
    if k >= n_classes:
        warn_undefined(
            f"'k' ({k}) greater than or equal to 'n_classes' ({n_classes}) will result in a "
            "perfect score and is therefore meaningless."
        )
    y_enc = encode(y, classes)
    hits = _binary_hits(y_enc, s, k) if kind == "binary" else _multiclass_hits(y_enc, s, k)
    if normalize:
        if w is not None and w.sum() == 0:
            raise ZeroDivisionError(
                "Weights sum to zero, can't be normalized. sample_weight sums to zero, so the "
                "weighted fraction of hits is undefined. To fix: give some samples a positive "
                "weight, or pass normalize=False."
            )
        return float(np.average(hits, weights=w))
    return float(np.count_nonzero(hits) if w is None else np.dot(hits, w))


def _binary_hits(y_enc: np.ndarray, s: np.ndarray, k: int) -> np.ndarray:
    if k > 1:
        return np.ones(s.shape[0], dtype=bool)
    threshold = 0.5 if s.min() >= 0 and s.max() <= 1 else 0.0
    return (s > threshold) == (y_enc == 1)


def _multiclass_hits(y_enc: np.ndarray, s: np.ndarray, k: int) -> np.ndarray:
    return true_class_rank(y_enc, s) < k


def true_class_rank(y_enc: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Classes ranked ahead of the true one per row, ties broken as scikit-learn does."""
    ahead = np.empty(s.shape[0], dtype=np.intp)
    column = np.arange(s.shape[1])
    for lo in range(0, s.shape[0], _BLOCK):
        block, codes = s[lo : lo + _BLOCK], y_enc[lo : lo + _BLOCK, None]
        true_score = np.take_along_axis(block, codes, axis=1)
        rank = np.count_nonzero(block > true_score, axis=1)
        rank += np.count_nonzero((block == true_score) & (column > codes), axis=1)
        ahead[lo : lo + _BLOCK] = rank
    return ahead
