"""Discounted cumulative gain (DCG) and its normalised form (NDCG), ties averaged.

scikit-learn averages the gain of tied scores (McSherry & Najork) with one ``np.unique`` per
sample. Here one ``argsort`` per block of rows gives every position its tie group (first and
last place, from ``_label_ranking.tie_groups``): a group spanning ranks a..b shares the discounts
of those ranks equally, so each label contributes its gain times (sum of those discounts) / size.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np

from verdict._params import Interval, Satisfies, check
from verdict.errors import InvalidInputError
from verdict.metrics._label_ranking import row_blocks, tie_groups, weighted_mean
from verdict.metrics._sklearn_checks import (
    as_array,
    average_weights,
    check_array,
    check_consistent_length,
    require_same_shape,
    type_of_target,
)

_K = Interval(Integral, 1, None, closed="left")
_LOG_BASE = Interval(Real, 0.0, None, closed="neither")
# scikit-learn's words for its "boolean" constraint, so that its message comes first.
_BOOLEAN = Satisfies(
    lambda v: isinstance(v, bool | np.bool_), "an instance of 'bool' or an instance of 'numpy.bool'"
)
_SUPPORTED = ("multilabel-indicator", "continuous-multioutput", "multiclass-multioutput")


def dcg_score(
    y_true: Any,
    y_score: Any,
    *,
    k: int | None = None,
    log_base: float = 2,
    sample_weight: Any = None,
    ignore_ties: bool = False,
) -> float:
    """Discounted cumulative gain: the true gains in the order of the scores, each divided
    by ``log_base``-log of (its rank + 1), averaged over samples.

    Same as ``sklearn.metrics.dcg_score``; tied scores share their ranks' discounts.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_labels)
        True gains (relevance) of each label or document.
    y_score : array-like of shape (n_samples, n_labels)
        Scores that rank the labels of each sample.
    k : int, default=None
        Only the ``k`` best-ranked labels count; None counts all.
    log_base : float, default=2
        Base of the logarithm in the discount (smaller: the top matters more).
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    ignore_ties : bool, default=False
        Rank tied scores in ``argsort`` order instead of averaging them (faster; only right
        when there are no ties).

    Returns
    -------
    discounted_cumulative_gain : float
    """
    func = "dcg_score"
    yt, ys, w = _checked(func, y_true, y_score, sample_weight, k, log_base, ignore_ties)
    _require_ranking_target(yt)
    require_same_shape(yt, ys)
    gains = sample_dcg(yt, ys, k=k, log_base=log_base, ignore_ties=ignore_ties)
    return weighted_mean(gains, average_weights(w))


def ndcg_score(
    y_true: Any,
    y_score: Any,
    *,
    k: int | None = None,
    sample_weight: Any = None,
    ignore_ties: bool = False,
) -> float:
    """Normalised DCG: each sample's DCG divided by the DCG of its ideal ranking (0 when the
    ideal is 0), averaged over samples.

    Same as ``sklearn.metrics.ndcg_score``; gains must be non-negative.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_labels)
        True gains (relevance) of each label or document, non-negative.
    y_score : array-like of shape (n_samples, n_labels)
        Scores that rank the labels of each sample.
    k : int, default=None
        Only the ``k`` best-ranked labels count; None counts all.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    ignore_ties : bool, default=False
        Rank tied scores in ``argsort`` order instead of averaging them.

    Returns
    -------
    normalized_discounted_cumulative_gain : float
    """
    func = "ndcg_score"
    yt, ys, w = _checked(func, y_true, y_score, sample_weight, k, 2, ignore_ties)
    if yt.min() < 0:
        raise InvalidInputError(
            "ndcg_score should not be used on negative y_true values. NDCG divides by the "
            "best possible DCG, which negative gains make meaningless. To fix: shift or clip "
            "the gains to be non-negative, or use dcg_score."
        )
    if yt.ndim > 1 and yt.shape[1] <= 1:
        raise InvalidInputError(
            "Computing NDCG is only meaningful when there is more than 1 document. Got "
            f"{yt.shape[1]} instead. To fix: pass one column per document to rank."
        )
    _require_ranking_target(yt)
    require_same_shape(yt, ys)
    gain = sample_dcg(yt, ys, k=k, log_base=2, ignore_ties=ignore_ties)
    ideal = sample_dcg(yt, yt, k=k, log_base=2, ignore_ties=True)
    relevant = ideal != 0
    gain[~relevant] = 0
    gain[relevant] /= ideal[relevant]
    return weighted_mean(gain, average_weights(w))


def sample_dcg(
    y_true: np.ndarray, y_score: np.ndarray, *, k: int | None, log_base: float, ignore_ties: bool
) -> np.ndarray:
    """Per-sample DCG, as scikit-learn's ``_dcg_sample_scores``."""
    n_samples, n_labels = y_true.shape
    discount = 1 / (np.log(np.arange(n_labels) + 2) / np.log(log_base))
    if k is not None:
        discount[k:] = 0
    ideal, cum_discount = y_score is y_true, np.cumsum(discount)
    out = np.empty(n_samples)
    for lo, hi in row_blocks(y_true.shape):
        gains, scores = y_true[lo:hi], y_score[lo:hi]
        if ignore_ties and ideal:  # ranked by the gains themselves: tie order cannot matter
            out[lo:hi] = discount.dot(np.sort(gains, axis=1)[:, ::-1].T)
        elif ignore_ties:
            ranking = np.argsort(scores)[:, ::-1]
            out[lo:hi] = discount.dot(np.take_along_axis(gains, ranking, axis=1).T)
        else:
            out[lo:hi] = _tie_averaged_dcg(gains, scores, cum_discount)
    return out


def _tie_averaged_dcg(
    gains: np.ndarray, scores: np.ndarray, cum_discount: np.ndarray
) -> np.ndarray:
    """Each tie group's gains spread evenly over the discounts of the ranks it occupies."""
    order, first, last = tie_groups(scores)
    n_labels = scores.shape[1]
    # Ascending positions a..b are descending ranks n-1-b .. n-1-a (0-based).
    through = np.concatenate([[0.0], cum_discount])
    shared = (through[n_labels - first] - through[n_labels - 1 - last]) / (last - first + 1)
    ranked = np.take_along_axis(gains, order, axis=1)
    return np.einsum("ij,ij->i", ranked, shared, dtype=np.float64)


# --------------------------------------------------------------------------- boundary checks


def _checked(
    func: str,
    y_true: Any,
    y_score: Any,
    sample_weight: Any,
    k: Any,
    log_base: Any,
    ignore_ties: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """scikit-learn's order: parameters, then each array, then their lengths."""
    yt = as_array(y_true, "y_true", func, "an array-like")
    ys = as_array(y_score, "y_score", func, "an array-like")
    check("k", k, func, _K, None, fix="pass e.g. k=10, or None for all labels")
    if func == "dcg_score":
        check("log_base", log_base, func, _LOG_BASE, fix="pass e.g. log_base=2")
    w = None
    if sample_weight is not None:
        w = as_array(sample_weight, "sample_weight", func, "an array-like or None")
    check("ignore_ties", ignore_ties, func, _BOOLEAN, fix="pass True or False")
    yt, ys = check_array(yt, "y_true"), check_array(ys, "y_score")
    check_consistent_length(y_true=yt, y_score=ys, sample_weight=w)
    if yt.dtype.kind == "b":
        yt = yt.view(np.uint8)
    return yt, ys, w


def _require_ranking_target(y_true: np.ndarray) -> None:
    kind = type_of_target(y_true)
    if kind not in _SUPPORTED:
        raise InvalidInputError(
            f"Only {_SUPPORTED} formats are supported. Got {kind} instead. DCG ranks several "
            "labels (documents) per sample, so y_true must have shape (n_samples, n_labels) "
            f"with n_labels > 1, got shape {y_true.shape}. To fix: pass one row per sample and "
            "one column per label, with the same shape for y_score."
        )
