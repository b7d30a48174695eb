"""Ranking metrics and per-row means on many resamples at once, from one sort.

Each score column is sorted once. A resample only changes how often each row counts, so with
the resample's row counts as weights, ROC AUC is the Mann-Whitney statistic

    AUC = sum over positives i of w_i * (negative weight below s_i + half the tied negative
          weight at s_i) / (P * N),

which needs one cumulative sum of the negatives' weights and one gather at precomputed
positions, vectorised over a chunk of resamples. Average precision reads the same cumulative
sums: each positive contributes its weight times the precision at its own score. Log loss, the
Brier score and top-k accuracy are weighted means of per-row terms: one matrix-vector product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from verdict.metrics.bootstrap._resample import Batch, Design, Statistic

NO_BOTH_CLASSES = "a class has no positive or no negative sample in the resample"


@dataclass(frozen=True, slots=True, eq=False)
class RankColumn:
    """One score column taken one-vs-rest, sorted once, in a design's layout positions.

    ``pos`` and ``neg`` are the layout positions of positives and negatives in increasing
    score order (slices when contiguous); ``below[i]`` counts negatives scoring strictly below
    positive i and ``upto[i]`` those scoring at most as much (None without ties);
    ``first[i]`` counts positives scoring strictly below positive i (None without ties).
    """

    pos: np.ndarray | slice
    neg: np.ndarray | slice
    w_pos: np.ndarray | None
    w_neg: np.ndarray | None
    below: np.ndarray
    upto: np.ndarray | None
    first: np.ndarray | None


def rank_column(design: Design, is_pos: np.ndarray, score: np.ndarray) -> RankColumn:
    """Sort one column (row order inputs) and express it in the design's layout."""
    pos_rows, neg_rows = np.flatnonzero(is_pos), np.flatnonzero(~is_pos)
    pos_rows = pos_rows[np.argsort(score[pos_rows], kind="stable")]
    neg_rows = neg_rows[np.argsort(score[neg_rows], kind="stable")]
    ps, ns = score[pos_rows], score[neg_rows]
    below = np.searchsorted(ns, ps, "left")
    upto = np.searchsorted(ns, ps, "right")
    first = np.searchsorted(ps, ps, "left")
    pos, neg = design.position[pos_rows], design.position[neg_rows]
    w = design.weight
    return RankColumn(
        _as_slice(pos),
        _as_slice(neg),
        None if w is None else w[pos],
        None if w is None else w[neg],
        below,
        None if np.array_equal(below, upto) else upto,
        None if np.array_equal(first, np.arange(first.shape[0])) else first,
    )


def _as_slice(positions: np.ndarray) -> np.ndarray | slice:
    """A slice when the positions are consecutive (reading them is then free)."""
    n = positions.shape[0]
    if n and positions[-1] - positions[0] == n - 1 and bool(np.all(np.diff(positions) == 1)):
        return slice(int(positions[0]), int(positions[-1]) + 1)
    return positions


@dataclass(frozen=True, slots=True)
class _Parts:
    """A column on a batch: positive weights, cumulative negative weight (with a leading 0),
    the negative weight below each positive, and the two totals. Shared by AUC and AP."""

    wp: np.ndarray
    cum_neg: np.ndarray
    neg_below: np.ndarray
    n_pos: np.ndarray
    n_neg: np.ndarray


def _parts(batch: Batch, col: RankColumn) -> _Parts:
    key = ("rank", col)
    if key not in batch.cache:
        rows = batch.rows
        wp, wn = _columns(rows, col.pos), _columns(rows, col.neg)
        if col.w_pos is not None:
            wp, wn = wp * col.w_pos, wn * col.w_neg
        cum_neg = np.empty((rows.shape[0], wn.shape[1] + 1), dtype=wn.dtype)
        cum_neg[:, 0] = 0
        np.cumsum(wn, axis=1, out=cum_neg[:, 1:])  # int64 when unweighted: 6x faster
        neg_below = np.take(cum_neg, col.below, axis=1)
        n_neg = cum_neg[:, -1].copy()
        batch.cache[key] = _Parts(wp, cum_neg, neg_below, wp.sum(axis=1), n_neg)
    return batch.cache[key]


def _columns(rows: np.ndarray, where: np.ndarray | slice) -> np.ndarray:
    """Columns of the row counts: a view for a slice, else ``take`` (faster than rows[:, idx])."""
    return rows[:, where] if isinstance(where, slice) else np.take(rows, where, axis=1)


def auc_values(batch: Batch, col: RankColumn) -> np.ndarray:
    """ROC AUC of the column on every resample of the batch (NaN without both classes)."""
    p = _parts(batch, col)
    numerator = np.einsum("ij,ij->i", p.wp, p.neg_below)
    if col.upto is not None:  # a tied negative counts one half
        upto = np.take(p.cum_neg, col.upto, axis=1)
        numerator = 0.5 * (numerator + np.einsum("ij,ij->i", p.wp, upto))
    return _divide(numerator, p.n_pos * p.n_neg)


def ap_values(batch: Batch, col: RankColumn) -> np.ndarray:
    """Average precision of the column on every resample (NaN without both classes).

    Each positive contributes its weight times the precision at its own score: positive
    weight scoring >= it over all weight scoring >= it. Computed in place, pass by pass.
    """
    p = _parts(batch, col)
    cum_pos = np.empty((p.wp.shape[0], p.wp.shape[1] + 1), dtype=p.wp.dtype)
    cum_pos[:, 0] = 0
    np.cumsum(p.wp, axis=1, out=cum_pos[:, 1:])
    lower_pos = cum_pos[:, :-1] if col.first is None else np.take(cum_pos, col.first, axis=1)
    tp = np.subtract(p.n_pos[:, None], lower_pos)
    predicted = np.subtract(p.n_neg[:, None], p.neg_below)
    predicted += tp
    # predicted is 0 only where tp (and the positive's own weight) is 0: any floor will do
    floor = 1 if predicted.dtype.kind == "i" else np.finfo(np.float64).tiny
    precision = tp / np.maximum(predicted, floor, out=predicted)
    numerator = np.einsum("ij,ij->i", p.wp, precision)
    return _divide(numerator, p.n_pos * np.where(p.n_neg > 0, 1.0, 0.0))


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    safe = np.where(denominator > 0, denominator, 1.0)
    return np.where(denominator > 0, numerator / safe, np.nan)


class RankingStatistic(Statistic):
    """ROC AUC or average precision: one column (binary) or one per class, averaged.

    Averages follow ``evaluate``: 'macro' is the mean over the classes defined on the data,
    'weighted' weighs them by their resampled support.
    """

    needs_rows = True
    degenerate_reason = NO_BOTH_CLASSES

    def __init__(self, name: str, metric: str, average: str, columns: list[RankColumn]):
        self.name, self.average, self.columns = name, average, columns
        self.kernel = auc_values if metric == "roc_auc" else ap_values

    def values(self, batch: Batch) -> np.ndarray:
        per_class = np.stack([self.kernel(batch, col) for col in self.columns], axis=1)
        if self.average in ("binary", "macro"):
            return per_class.mean(axis=1)
        support = np.stack([_parts(batch, col).n_pos for col in self.columns], axis=1)
        total = support.sum(axis=1)
        return (per_class * support).sum(axis=1) / np.where(total > 0, total, np.nan)


class MeanStatistic(Statistic):
    """A (weighted) mean of per-row terms: log loss, Brier score, top-k accuracy."""

    needs_rows = True
    degenerate_reason = "every resampled row has zero weight"

    def __init__(self, name: str, design: Design, terms: np.ndarray, scale: float = 1.0):
        self.name, self.scale = name, scale
        layout_terms = np.ascontiguousarray(terms[design.layout], dtype=np.float64)
        w = design.weight
        self.numerator = layout_terms if w is None else layout_terms * w
        self.denominator = w

    def values(self, batch: Batch) -> np.ndarray:
        rows = batch.rows
        # einsum, not ``rows @ v``: a threaded BLAS call stalls when the cores are busy
        numerator = np.einsum("ij,j->i", rows, self.numerator)
        if self.denominator is None:
            if "row_totals" not in batch.cache:
                batch.cache["row_totals"] = rows.sum(axis=1)
            total = batch.cache["row_totals"]
        else:
            total = np.einsum("ij,j->i", rows, self.denominator)
        return self.scale * _divide(numerator, total)
