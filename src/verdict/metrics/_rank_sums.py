"""ROC AUC and average precision of unweighted binary problems from one plain sort.

Both areas are sums over the positives once the scores are sorted with their labels:

* AUC is the Mann-Whitney statistic: each positive counts the negatives scored below it, and
  half of those tied with it; over (positives x negatives).
* AP is the mean, over the positives, of the precision at the threshold equal to their score:
  (positives scoring >= it) / (all scoring >= it).

So no cumulative curve is built. The label rides in the lowest bit of the sort key
(``_ranking.sort_with_labels``): ``np.sort`` is several times faster than ``argsort``. Where
scores tie, ``searchsorted`` on the sorted values finds each positive's group of ties. The
results equal scikit-learn's trapezoid and step sums up to rounding (exactly, for the AUC's
integer count). ``row_rank_sums`` does the same for many short rows at once (``average=
'samples'``).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from verdict.metrics._ranking import sort_with_labels
from verdict.metrics._score_inputs import warn_undefined

ONE_CLASS = "Only one class is present in y_true. ROC AUC score is not defined in that case."
NO_POSITIVE = "No positive class found in y_true, recall is set to one for all thresholds."
# Elements per block of rows (bounds the (rows, labels) temporaries to a few MiB each).
_BLOCK = 1 << 18
# Rows per block when turning a row-major score matrix into per-column keys.
_TRANSPOSE_ROWS = 1 << 14


class RankSums(NamedTuple):
    """Twice the Mann-Whitney U, the class sizes, and the summed precision at the positives."""

    u2: int | np.ndarray
    n_pos: int | np.ndarray
    n_neg: int | np.ndarray
    precision_sum: float | np.ndarray


def rank_sums(y_pos: np.ndarray, y_score: np.ndarray, non_negative: bool | None = None) -> RankSums:
    """``RankSums`` of one binary problem (``y_pos`` bool, ``y_score`` finite, both 1-D).

    Non-negative scores serve as their own sort key (their bits, shifted left once, order
    them); negative ones go through ``sort_with_labels``, which sorts them apart.
    """
    scores = np.asarray(y_score, dtype=np.float64)
    if non_negative is None:
        non_negative = bool(scores.min() >= 0)
    if non_negative:
        key = np.left_shift(scores.view(np.uint64), 1)  # the sign bit drops: -0.0 == 0.0
        np.bitwise_or(key, y_pos, out=key)
        return key_sums(key)
    values, pos = sort_with_labels(y_pos, scores)
    at = np.flatnonzero(pos)
    return _sums(values, at, bool(np.any(values[1:] == values[:-1])))


def column_keys(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One sort key per cell, column by column: (n_labels, n_samples) keys and, per column,
    whether its scores are all non-negative (the keys of the others are not used).

    Built in row blocks that fit the cache: reading each column of a row-major matrix on its
    own would cost a pass over the whole matrix per column.
    """
    n_rows, n_cols = scores.shape
    keys = np.empty((n_cols, n_rows), dtype=np.uint64)
    low = np.full(n_cols, np.inf)
    bits = np.ascontiguousarray(scores, dtype=np.float64).view(np.uint64)
    for lo in range(0, n_rows, _TRANSPOSE_ROWS):
        hi = min(lo + _TRANSPOSE_ROWS, n_rows)
        block = np.left_shift(bits[lo:hi], 1)
        block |= y[lo:hi]
        keys[:, lo:hi] = block.T
        np.minimum(low, scores[lo:hi].min(axis=0), out=low)
    return keys, low >= 0


def key_sums(key: np.ndarray, *, presorted: bool = False) -> RankSums:
    """``RankSums`` from keys (score bits << 1 | label, non-negative scores); sorts ``key``
    in place unless it is ``presorted``."""
    if not presorted:
        key.sort()
    pos = np.empty(key.shape[0], dtype=np.uint8)
    np.bitwise_and(key, 1, out=pos, casting="unsafe")
    at = np.flatnonzero(pos)
    ties = bool(np.any(np.diff(key) < 2))  # equal scores differ in the label bit at most
    if ties:
        np.right_shift(key, 1, out=key)  # the scores' order, as integers
    return _sums(key, at, ties)


def _sums(values: np.ndarray, at: np.ndarray, ties: bool) -> RankSums:
    """The sums from the sorted ``values`` and the positions ``at`` of the positives."""
    n, p = values.shape[0], at.shape[0]
    if p == 0:
        return RankSums(0, 0, n, 0.0)
    if not ties:  # each positive is its own group
        u2 = 2 * (int(at.sum()) - p * (p - 1) // 2)
        precision = np.arange(p, 0, -1, dtype=np.float64)
        precision /= n - at
        return RankSums(u2, p, n - p, float(precision.sum()))
    tied = values[at]
    start = np.searchsorted(values, tied, "left")  # all scoring below the group
    stop = np.searchsorted(values, tied, "right")  # all scoring at most the group's score
    pos_below = np.searchsorted(tied, tied, "left")
    pos_upto = np.searchsorted(tied, tied, "right")
    u2 = int((start - pos_below).sum()) + int((stop - pos_upto).sum())
    precision = (p - pos_below) / (n - start)
    return RankSums(u2, p, n - p, float(precision.sum()))


def row_rank_sums(y: np.ndarray, scores: np.ndarray) -> RankSums:
    """``RankSums`` of every row of ``y`` (bool) against ``scores``, as arrays per row."""
    n_rows, n_cols = y.shape
    out = RankSums(*(np.empty(n_rows, dtype=d) for d in (np.int64, np.int64, np.int64, float)))
    step = max(1, _BLOCK // max(n_cols, 1))
    dense = scores.min() < 0  # the sign would not survive the key's shift: rank instead
    for lo in range(0, n_rows, step):
        block = _row_block(y[lo : lo + step], scores[lo : lo + step], dense)
        for name, value in zip(RankSums._fields, block, strict=True):
            getattr(out, name)[lo : lo + step] = value
    return out


def _row_block(y: np.ndarray, s: np.ndarray, dense: bool) -> RankSums:
    if dense:  # order-preserving integer codes (ties kept, -0.0 == 0.0)
        key = np.unique(s, return_inverse=True)[1].reshape(s.shape).astype(np.uint64)
    else:
        key = np.ascontiguousarray(s, dtype=np.float64).view(np.uint64).copy()
    key <<= np.uint64(1)
    key |= y
    key.sort(axis=1)
    is_pos = (key & np.uint64(1)).astype(bool)
    key >>= np.uint64(1)
    n_cols = key.shape[1]
    column = np.arange(n_cols)
    upto = np.cumsum(is_pos, axis=1)  # positives at or before each position
    n_pos = upto[:, -1]
    new = key[:, 1:] != key[:, :-1]
    if new.all():
        start, stop, below, through = column, column + 1, upto - is_pos, upto
    else:
        starts = np.ones(key.shape, dtype=bool)
        starts[:, 1:] = new
        ends = np.ones(key.shape, dtype=bool)
        ends[:, :-1] = new
        start = np.maximum.accumulate(np.where(starts, column, 0), axis=1)
        stop = np.minimum.accumulate(np.where(ends, column + 1, n_cols)[:, ::-1], axis=1)[:, ::-1]
        below = np.take_along_axis(upto - is_pos, start, axis=1)
        through = np.take_along_axis(upto, stop - 1, axis=1)
    u2 = np.where(is_pos, (start - below) + (stop - through), 0).sum(axis=1)
    precision = np.where(is_pos, (n_pos[:, None] - below) / (n_cols - start), 0.0).sum(axis=1)
    return RankSums(u2, n_pos, n_cols - n_pos, precision)


def auc_of(sums: RankSums) -> float:
    """ROC AUC; NaN with scikit-learn's warning when one class is missing."""
    if sums.n_pos == 0 or sums.n_neg == 0:
        warn_undefined(ONE_CLASS, stacklevel=4)
        return float("nan")
    return float(sums.u2 / (2.0 * sums.n_pos * sums.n_neg))


def ap_of(sums: RankSums) -> float:
    """Average precision; 0 with scikit-learn's warning when there is no positive."""
    if sums.n_pos == 0:
        warn_no_positive()
        return 0.0
    return float(sums.precision_sum / sums.n_pos)


def row_aucs(sums: RankSums) -> np.ndarray:
    """Per-row ROC AUC (NaN, with one warning, for rows holding a single class)."""
    one_class = (sums.n_pos == 0) | (sums.n_neg == 0)
    if one_class.any():
        warn_undefined(ONE_CLASS, stacklevel=4)
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = sums.u2 / (2.0 * sums.n_pos * sums.n_neg)
    return np.where(one_class, np.nan, auc)


def row_aps(sums: RankSums) -> np.ndarray:
    """Per-row average precision (0, with one warning, for rows without a positive)."""
    if (sums.n_pos == 0).any():
        warn_no_positive()
    return np.divide(
        sums.precision_sum,
        sums.n_pos,
        out=np.zeros(sums.n_pos.shape),
        where=sums.n_pos > 0,
    )


def warn_no_positive() -> None:
    """scikit-learn's warning for a precision-recall curve without positives (a UserWarning)."""
    warnings.warn(NO_POSITIVE, UserWarning, stacklevel=5)
