"""Multilabel ranking metrics: coverage error, label ranking average precision and loss.

Each sample ranks its labels by score. One ``argsort`` per block of rows puts every row in
score order; tied scores form groups whose first and last positions come from a running
max/min, so the counts "labels scored at least as high" that scikit-learn gets from
``rankdata(..., 'max')`` one row at a time are read off for the whole block at once.
The boundary checks are scikit-learn's (``_sklearn_checks``), in the order its functions make them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from verdict.errors import InvalidInputError
from verdict.metrics._sklearn_checks import (
    MULTILABEL,
    as_array,
    average_weights,
    check_array,
    check_consistent_length,
    check_finite,
    require_same_shape,
    sum_is_finite,
    type_of_target,
)

# Elements per block of rows, to bound the (rows, n_labels) temporaries of the kernels.
_BLOCK_ELEMENTS = 1 << 18
_MATRIX_FIX = (
    "To fix: pass y_true as a label-indicator matrix (n_samples, n_labels) of 0/1 and y_score "
    "with the same shape, one score per label."
)


def coverage_error(y_true: Any, y_score: Any, *, sample_weight: Any = None) -> float:
    """How far down the ranked labels one must go, on average, to cover every true label.

    Same as ``sklearn.metrics.coverage_error``: ties count at their worst (maximal) rank and
    a sample without true labels covers nothing (0).

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_labels)
        True labels, as a label-indicator matrix (non-zero = relevant).
    y_score : array-like of shape (n_samples, n_labels)
        Scores of each label (probabilities or decision values).
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    coverage_error : float
    """
    func = "coverage_error"
    yt, ys, w = _raw_inputs(func, y_true, y_score, sample_weight, sparse_true=False)
    yt = check_array(yt, "y_true", ensure_2d=True, why_2d=_why_2d(func, "y_true"))
    ys = check_array(ys, "y_score", ensure_2d=True, finite=False, why_2d=_why_2d(func, "y_score"))
    # Without a sort, reading the arrays costs as much as the kernel: when the shapes agree
    # and y_true holds integers, y_score's finiteness and y_true's 0/1 values are checked in
    # the block loop, while each block is in cache (and reported in scikit-learn's order).
    fused = yt.dtype.kind in "biu" and yt.shape == ys.shape and yt.shape[1] > 1
    if not fused or (w is not None and w.shape[:1] != yt.shape[:1]):
        fused = False
        check_finite(ys, "y_score")
        check_consistent_length(y_true=yt, y_score=ys, sample_weight=w)
        _require_indicator(yt, func, allow_column=False)
        require_same_shape(yt, ys)
    coverage = np.empty(yt.shape[0], dtype=np.int64)
    finite = zero_one = True
    for lo, hi in row_blocks(yt.shape):
        labels, scores = yt[lo:hi], ys[lo:hi]
        if fused:
            finite = finite and sum_is_finite(scores)
            zero_one = zero_one and _zero_one(labels)
        coverage[lo:hi] = coverage_per_row(labels != 0, scores)
    if not finite:
        check_finite(ys, "y_score")
    if not zero_one:
        _require_indicator(yt, func, allow_column=False)
    return weighted_mean(coverage, average_weights(w))


def _zero_one(labels: np.ndarray) -> bool:
    """Whether integer labels are all 0 or 1 (one bitwise-or, no temporary)."""
    return labels.dtype.kind == "b" or 0 <= np.bitwise_or.reduce(labels, axis=None) <= 1


def label_ranking_average_precision_score(
    y_true: Any, y_score: Any, *, sample_weight: Any = None
) -> float:
    """Label ranking average precision (LRAP): for each true label, the share of true labels
    among those scored at least as high, averaged over true labels and then samples.

    Same as ``sklearn.metrics.label_ranking_average_precision_score``, ties included; a
    sample with no true label, or with every label true, scores 1.

    Parameters
    ----------
    y_true : {array-like, sparse matrix} of shape (n_samples, n_labels)
        True labels, as a label-indicator matrix (non-zero = relevant).
    y_score : array-like of shape (n_samples, n_labels)
        Scores of each label.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    score : float
    """
    func = "label_ranking_average_precision_score"
    yt, ys, w = _raw_inputs(func, y_true, y_score, sample_weight, sparse_true=True)
    check_consistent_length(y_true=yt, y_score=ys, sample_weight=w)
    yt, ys = check_array(yt, "y_true"), check_array(ys, "y_score")
    require_same_shape(yt, ys)
    _require_indicator(yt, func, allow_column=True)
    n_samples = yt.shape[0]
    per_sample = np.empty(n_samples)
    relevant = yt != 0
    for lo, hi in row_blocks(yt.shape):
        per_sample[lo:hi] = lrap_per_row(rank_rows(relevant[lo:hi], ys[lo:hi]))
    weights = average_weights(w)
    if weights is None:
        return float(per_sample.sum() / n_samples)
    with np.errstate(divide="ignore", invalid="ignore"):  # zero total weight: nan, as sklearn
        return float(np.dot(per_sample, weights) / np.sum(weights))


def label_ranking_loss(y_true: Any, y_score: Any, *, sample_weight: Any = None) -> float:
    """Ranking loss: the share of (true, false) label pairs that the scores order wrongly.

    Same as ``sklearn.metrics.label_ranking_loss``: a tie counts as wrongly ordered, and a
    sample whose labels are all true or all false has no pairs and a loss of 0.

    Parameters
    ----------
    y_true : {array-like, sparse matrix} of shape (n_samples, n_labels)
        True labels, as a label-indicator matrix (non-zero = relevant).
    y_score : array-like of shape (n_samples, n_labels)
        Scores of each label.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    loss : float
    """
    func = "label_ranking_loss"
    yt, ys, w = _raw_inputs(func, y_true, y_score, sample_weight, sparse_true=True)
    yt, ys = check_array(yt, "y_true"), check_array(ys, "y_score")
    check_consistent_length(y_true=yt, y_score=ys, sample_weight=w)
    _require_indicator(yt, func, allow_column=False)
    require_same_shape(yt, ys)
    n_samples, n_labels = yt.shape
    relevant = yt != 0
    wrong = np.empty(n_samples, dtype=np.int64)
    for lo, hi in row_blocks(yt.shape):
        wrong[lo:hi] = wrongly_ordered_pairs(rank_rows(relevant[lo:hi], ys[lo:hi]))
    n_pos = row_counts(relevant)
    pairs = (n_labels - n_pos) * n_pos
    loss = np.zeros(n_samples)
    np.divide(wrong, pairs, out=loss, where=pairs != 0)  # no pairs: the ranking cannot be wrong
    return weighted_mean(loss, average_weights(w))


# --------------------------------------------------------------------------- kernels


def row_blocks(shape: tuple[int, ...]) -> Iterator[tuple[int, int]]:
    """Row ranges whose blocks hold about ``_BLOCK_ELEMENTS`` values each."""
    n_rows, n_cols = shape
    step = max(1, _BLOCK_ELEMENTS // max(n_cols, 1))
    for lo in range(0, n_rows, step):
        yield lo, min(lo + step, n_rows)


def tie_groups(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort each row ascending; return the order and, for every sorted position, the first and
    last position of its group of equal scores."""
    order = np.argsort(scores, axis=1)
    ranked = np.take_along_axis(scores, order, axis=1)
    n_rows, n_cols = ranked.shape
    position = np.broadcast_to(np.arange(n_cols), ranked.shape)
    change = ranked[:, 1:] != ranked[:, :-1]
    edge = np.ones((n_rows, 1), dtype=bool)
    opens = np.concatenate([edge, change], axis=1)
    closes = np.concatenate([change, edge], axis=1)
    first = np.maximum.accumulate(np.where(opens, position, 0), axis=1)
    last = np.minimum.accumulate(np.where(closes, position, n_cols)[:, ::-1], axis=1)[:, ::-1]
    return order, first, last


def coverage_per_row(relevant: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Labels scored at least as high as the lowest-scored true label; 0 without true labels."""
    top = _top_of(scores.dtype)
    # Transposed, the minimum runs across contiguous rows instead of along 20-value ones.
    lowest = np.ascontiguousarray(np.where(relevant.T, scores.T, top)).min(axis=0)
    covered = row_counts(scores >= lowest[:, None])
    if scores.dtype.kind != "f":  # no true label leaves ``top``, a score integers can reach
        covered[~relevant.any(axis=1)] = 0
    return covered


def row_counts(mask: np.ndarray) -> np.ndarray:
    """True values per row. A float32 matrix-vector product is the fastest way numpy has to
    sum short rows, and exact: the counts are integers below 2**24."""
    if mask.shape[1] >= 1 << 24:
        return np.count_nonzero(mask, axis=1)
    return (mask.astype(np.float32) @ np.ones(mask.shape[1], np.float32)).astype(np.int64)


def _top_of(dtype: np.dtype) -> Any:
    if dtype.kind == "b":
        return True
    return np.inf if dtype.kind == "f" else np.iinfo(dtype).max


@dataclass(frozen=True, slots=True)
class RankedRows:
    """A block of rows sorted by score once: each sorted position's relevance, the first and
    last position of its tie group, the running count of true labels, and each row's total.
    LRAP, the ranking loss and ``evaluate``'s per-row AUC and average precision read it."""

    relevant: np.ndarray
    first: np.ndarray
    last: np.ndarray
    true_through: np.ndarray
    n_true: np.ndarray

    @property
    def n_labels(self) -> int:
        return int(self.relevant.shape[1])


def rank_rows(relevant: np.ndarray, scores: np.ndarray) -> RankedRows:
    """One ``argsort`` of the block's rows, shared by every per-row ranking quantity."""
    order, first, last = tie_groups(scores)
    rel = np.take_along_axis(relevant, order, axis=1)
    return RankedRows(rel, first, last, np.cumsum(rel, axis=1), row_counts(rel))


def lrap_per_row(ranked: RankedRows) -> np.ndarray:
    """Per-sample LRAP: mean over true labels of (true labels ranked >= it) / (labels >= it);
    1 for a row whose labels are all true or all false."""
    rel, n_rel = ranked.relevant, ranked.n_true
    before = ranked.true_through - rel  # true labels strictly before each position
    at_or_above = n_rel[:, None] - np.take_along_axis(before, ranked.first, axis=1)
    rank = ranked.n_labels - ranked.first  # labels scored at least as high: the group's max rank
    ratio = np.where(rel, at_or_above / rank, 0.0)
    out = np.ones(rel.shape[0])
    ranked_rows = (n_rel > 0) & (n_rel < ranked.n_labels)
    out[ranked_rows] = ratio[ranked_rows].sum(axis=1) / n_rel[ranked_rows]
    return out


def wrongly_ordered_pairs(ranked: RankedRows) -> np.ndarray:
    """Per sample, the (true, false) label pairs where the true label is not scored higher."""
    true_at_or_below = np.take_along_axis(ranked.true_through, ranked.last, axis=1)
    return np.where(ranked.relevant, 0, true_at_or_below).sum(axis=1)


def tied_pairs(ranked: RankedRows) -> np.ndarray:
    """Per sample, the (true, false) label pairs with equal scores."""
    rel, first, last = ranked.relevant, ranked.first, ranked.last
    true_to_last = np.take_along_axis(ranked.true_through, last, axis=1)
    true_before_first = np.take_along_axis(ranked.true_through - rel, first, axis=1)
    false_in_group = (last - first + 1) - (true_to_last - true_before_first)
    return np.where(rel, false_in_group, 0).sum(axis=1)


# --------------------------------------------------------------------------- boundary checks


def _raw_inputs(
    func: str, y_true: Any, y_score: Any, sample_weight: Any, *, sparse_true: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Check that the arguments are array-likes (scikit-learn's parameter check) and convert
    them, densifying a sparse ``y_true`` where scikit-learn takes one."""
    sparse_words = " or a sparse array or matrix" if sparse_true else ""
    yt = as_array(y_true, "y_true", func, "an array-like" + sparse_words, sparse_ok=sparse_true)
    ys = as_array(y_score, "y_score", func, "an array-like")
    w = None
    if sample_weight is not None:
        w = as_array(sample_weight, "sample_weight", func, "an array-like or None")
    return yt, ys, w


def _why_2d(func: str, name: str) -> str:
    return (
        f"{func} ranks the labels of each sample, so {name} needs one row per sample and one "
        f"column per label. {_MATRIX_FIX}"
    )


def _require_indicator(y_true: np.ndarray, func: str, *, allow_column: bool) -> None:
    kind = type_of_target(y_true)
    if kind == MULTILABEL or (allow_column and kind == "binary" and y_true.ndim == 2):
        return
    raise InvalidInputError(
        f"{kind} format is not supported. {func} ranks several labels per sample, so y_true "
        f"must be a label-indicator matrix of 0/1 (n_samples, n_labels), got {kind} values "
        f"of shape {y_true.shape}. {_MATRIX_FIX}"
    )


def weighted_mean(values: np.ndarray, weights: np.ndarray | None) -> float:
    """``np.average`` as scikit-learn calls it, with its error for weights summing to zero."""
    try:
        return float(np.average(values, weights=weights))
    except ZeroDivisionError as exc:
        raise ZeroDivisionError(
            "Weights sum to zero, can't be normalized. The sample weights cancel out, so the "
            "weighted mean is undefined. To fix: give the samples a positive total weight."
        ) from exc
