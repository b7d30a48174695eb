"""ROC AUC and average precision of one binary problem, or averaged over the columns of an
indicator matrix (multilabel, or a multiclass target binarised one-vs-rest).

``average_binary`` is scikit-learn's ``_average_binary_score``: 'micro' flattens the matrix into
one problem, 'macro' and 'weighted' average the columns (weighted by their positives), 'samples'
averages the rows, None returns the columns. Unweighted problems go through the plain-sort
kernel of ``_rank_sums`` (all columns' keys built in one cache-friendly pass, their sorts spread
over a few threads; rows at once for 'samples'); weighted ones and partial AUCs through the
weighted cumulative counts of ``_ranking``, summed in scikit-learn's order.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import numpy as np

from verdict.metrics._rank_sums import (
    RankSums,
    ap_of,
    auc_of,
    column_keys,
    key_sums,
    rank_sums,
    row_aps,
    row_aucs,
    row_rank_sums,
)
from verdict.metrics._ranking import ap_from_counts, auc_from_counts, binary_counts

Area = Literal["auc", "ap"]
# Columns at least this long are scored on threads (below, thread start-up is not repaid).
_THREADED_ROWS = 1 << 16
_MAX_THREADS = 8


def binary_area(
    area: Area,
    y_pos: np.ndarray,
    scores: np.ndarray,
    weights: np.ndarray | None = None,
    max_fpr: float | None = None,
) -> float:
    """ROC AUC (standardised partial AUC below ``max_fpr``) or AP of one binary problem."""
    partial = area == "auc" and max_fpr is not None and max_fpr != 1
    if weights is None and not partial:
        sums = rank_sums(y_pos, scores)
        return auc_of(sums) if area == "auc" else ap_of(sums)
    counts = binary_counts(y_pos, scores, weights)
    return auc_from_counts(counts, max_fpr) if area == "auc" else ap_from_counts(counts)


def average_binary(
    area: Area,
    y: np.ndarray,
    scores: np.ndarray,
    weights: np.ndarray | None,
    average: str | None,
    max_fpr: float | None = None,
) -> float | np.ndarray:
    """``binary_area`` over the indicator matrix ``y`` (bool) and ``scores`` of one shape."""
    n_labels = y.shape[1]
    if average == "micro":
        partial = area == "auc" and max_fpr is not None and max_fpr != 1
        sums = None if weights is not None or partial else _micro_sums(y, scores)
        if sums is not None:
            return auc_of(sums) if area == "auc" else ap_of(sums)
        flat_weights = None if weights is None else np.repeat(weights, n_labels)
        return binary_area(area, y.ravel(), scores.ravel(), flat_weights, max_fpr)
    average_weights = None
    if average == "weighted":
        average_weights = (
            np.count_nonzero(y, axis=0)
            if weights is None
            else (y * weights[:, None]).sum(axis=0)  # scikit-learn's order of sums
        )
        if np.isclose(average_weights.sum(), 0):
            return 0  # scikit-learn's value (an int), before any column is scored
    if average == "samples":
        per, average_weights = _per_row(area, y, scores, max_fpr), weights
    else:
        per = np.array(_per_column(area, y, scores, weights, max_fpr))
    if average is None:
        return per
    if average_weights is not None:
        per[average_weights == 0] = 0.0  # keeps a zero-weight NaN out of the mean
    return float(np.average(per, weights=average_weights))


def _per_column(
    area: Area,
    y: np.ndarray,
    scores: np.ndarray,
    weights: np.ndarray | None,
    max_fpr: float | None,
) -> list[float]:
    """``binary_area`` of every column of ``y`` against the same column of ``scores``."""
    if weights is not None or (area == "auc" and max_fpr is not None and max_fpr != 1):
        return _map(
            lambda c: binary_area(area, y[:, c], scores[:, c], weights, max_fpr),
            y.shape[1],
            y.shape[0],
        )
    keys, non_negative = column_keys(y, scores)

    def column(c: int) -> float:
        if non_negative[c]:
            sums = key_sums(keys[c])
        else:
            sums = rank_sums(y[:, c], scores[:, c], non_negative=False)
        return auc_of(sums) if area == "auc" else ap_of(sums)

    return _map(column, y.shape[1], y.shape[0])


def _micro_sums(y: np.ndarray, scores: np.ndarray) -> RankSums | None:
    """The flattened problem's ``RankSums``: each column's keys sorted (on a few threads), then
    one stable sort that only merges those sorted runs (timsort finds them): faster than one
    sort of all the cells. None when some scores are negative (their keys do not order)."""
    keys, non_negative = column_keys(y, scores)
    if not non_negative.all():
        return None
    _map(lambda c: keys[c].sort(), keys.shape[0], keys.shape[1])
    flat = keys.reshape(-1)
    flat.sort(kind="stable")
    return key_sums(flat, presorted=True)


def _map(func: Callable[[int], float], n_tasks: int, n_rows: int) -> list[float]:
    """``[func(i) for i in range(n_tasks)]``, on a few threads when the columns are long.

    numpy releases the GIL while it sorts, so independent columns sort in parallel.
    """
    workers = min(n_tasks, os.cpu_count() or 1, _MAX_THREADS)
    if workers < 2 or n_rows < _THREADED_ROWS:
        return [func(i) for i in range(n_tasks)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, range(n_tasks)))


def _per_row(area: Area, y: np.ndarray, scores: np.ndarray, max_fpr: float | None) -> np.ndarray:
    if area == "auc" and max_fpr is not None and max_fpr != 1:
        return np.array([binary_area(area, y[i], scores[i], None, max_fpr) for i in range(len(y))])
    sums = row_rank_sums(y, scores)
    return row_aucs(sums) if area == "auc" else row_aps(sums)
