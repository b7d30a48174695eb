"""Top-k accuracy: is the true class among the k best-scored classes?

No sort: the true class's position is the number of classes scored higher plus the number tied
with it at a higher column index (scikit-learn breaks ties towards the higher index).
"""

from __future__ import annotations

import warnings
from numbers import Integral
from typing import Any

import numpy as np

from verdict._params import Interval, check
from verdict.errors import InvalidInputError, UndefinedMetricWarning
from verdict.metrics._ranking import finite_scores
from verdict.metrics._ranking_multiclass import class_codes
from verdict.metrics._validation import (
    check_flag,
    check_same_length,
    labels_1d,
    sample_weight_1d,
    unique_labels,
)

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
    y = labels_1d(y_true, "y_true")
    binary = unique_labels(y).size <= 2 and (labels is None or len(labels) <= 2)
    s = finite_scores(y_score)
    if binary and s.ndim == 2 and s.shape[1] == 1:
        s = s.ravel()
    if s.ndim != (1 if binary else 2):
        wanted = "(n_samples,) since y_true is binary" if binary else "(n_samples, n_classes)"
        raise InvalidInputError(
            f"y_score must have shape {wanted}, got shape {s.shape}. To fix: pass one "
            "column per class (and labels= listing every class if y_true lacks some)."
        )
    n = check_same_length(y_true=y, y_score=s)
    w = sample_weight_1d(sample_weight, n)
    if w is not None and normalize and w.sum() == 0:
        raise InvalidInputError(
            "sample_weight sums to zero, so the weighted fraction of hits is undefined. "
            "To fix: give some samples a positive weight, or pass normalize=False."
        )
    y_enc, n_classes = class_codes(y, labels, s.shape[1] if s.ndim == 2 else 2)
    if k >= n_classes:
        warnings.warn(
            f"'k' ({k}) greater than or equal to 'n_classes' ({n_classes}) will result in a "
            "perfect score and is therefore meaningless.",
            UndefinedMetricWarning,
            stacklevel=2,
        )
    hits = _binary_hits(y_enc, s, k) if binary else _multiclass_hits(y_enc, s, k)
    if not normalize:
        return float(np.count_nonzero(hits) if w is None else np.dot(hits, w))
    return float(np.average(hits, weights=w))


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
