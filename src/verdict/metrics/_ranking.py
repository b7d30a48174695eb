"""The one-sort kernel of the ranking metrics: ROC and precision-recall curves, ROC AUC, AP.

``binary_counts`` sorts a score column once and returns the weighted false and true positive
counts at every distinct threshold; the curves and areas are pure functions of those counts, so
``evaluate()`` gets all four from a single sort. The public curves live in ``_curves``.

Unweighted input never calls ``argsort``: the label rides in the lowest bit of a ``uint64`` key
made from the float's bit pattern (order-preserving for non-negative floats, whose sign bit is
free), and ``np.sort`` of that key is several times faster. Negative scores are sorted in their
own slice with the bits flipped. Weighted input uses a stable descending ``argsort`` so the
weighted cumulative sums add up in exactly scikit-learn's order.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from verdict import errors
from verdict.errors import InvalidInputError
from verdict.metrics._score_inputs import pos_label_or_default
from verdict.metrics._sklearn_checks import check_finite, check_sample_weight, empty_error, to_numpy
from verdict.metrics._validation import check_pos_label as check_pos_label  # for _thresholds
from verdict.metrics._validation import equal_to

# XOR with this turns (bits << 1) of a negative float into an ascending key (bit 0 kept free).
_NEG_FLIP = np.uint64(0xFFFF_FFFF_FFFF_FFFE)
# XOR with this turns the bits of a non-negative float into a descending key.
_LOW63 = np.uint64(0x7FFF_FFFF_FFFF_FFFF)
_NO_POSITIVE = "No positive class found in y_true, recall is set to one for all thresholds."
# Rows per block in the area sums (64k float64 = 512 KiB per temporary).
_BLOCK = 1 << 16
_trapezoid = getattr(np, "trapezoid", None) or np.trapz


@dataclass(frozen=True, slots=True)
class BinaryCounts:
    """Weighted negatives (``fps``) and positives (``tps``) scoring >= each threshold.

    ``thresholds`` are the distinct scores in decreasing order; ``fps[-1]`` and ``tps[-1]`` are
    the total negative and positive weight.
    """

    fps: np.ndarray
    tps: np.ndarray
    thresholds: np.ndarray


# --------------------------------------------------------------------------- kernel


def binary_counts(
    y_pos: np.ndarray, y_score: np.ndarray, sample_weight: np.ndarray | None = None
) -> BinaryCounts:
    """Sort ``y_score`` once; cumulative (fps, tps) per distinct threshold, scores decreasing.

    Trusts its input: ``y_pos`` bool, ``y_score`` finite, weights with at least one non-zero
    (all 1-D and of one length). Scores and weights are used as float64.
    """
    y_score = np.ascontiguousarray(y_score, dtype=np.float64)  # no copy when already so
    if sample_weight is not None:
        weight = np.ascontiguousarray(sample_weight, dtype=np.float64)
        return _weighted_counts(y_pos, y_score, weight)
    values, pos = sort_with_labels(y_pos, y_score)
    return _counts_from_sorted(values, pos)


def sort_with_labels(y_pos: np.ndarray, y_score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ascending scores (-0.0 made 0.0) and their labels as uint8, from one ``np.sort``."""
    key = np.left_shift(y_score.view(np.uint64), 1)  # drops the sign bit: -0.0 -> 0.0
    n_neg = 0
    if y_score.min() < 0:
        neg = y_score < 0
        np.bitwise_xor(key, _NEG_FLIP, out=key, where=neg)
        np.bitwise_or(key, y_pos, out=key)
        n_neg = int(np.count_nonzero(neg))
        parts = np.empty_like(key)  # negatives first, each side sorted on its own
        np.compress(neg, key, out=parts[:n_neg])
        np.compress(np.logical_not(neg, out=neg), key, out=parts[n_neg:])
        key = parts
        key[:n_neg].sort()
        key[n_neg:].sort()
    else:
        np.bitwise_or(key, y_pos, out=key)
        key.sort()
    pos = np.empty(key.shape[0], dtype=np.uint8)
    np.bitwise_and(key, 1, out=pos, casting="unsafe")
    np.right_shift(key, 1, out=key)
    if n_neg:
        np.invert(key[:n_neg], out=key[:n_neg])  # restores the sign bit and the magnitude
    return key.view(np.float64), pos


def _counts_from_sorted(values: np.ndarray, pos: np.ndarray) -> BinaryCounts:
    """Counts from ascending-sorted scores and their 0/1 labels (unit weights)."""
    n = values.shape[0]
    is_end = np.empty(n, dtype=bool)  # last member of its group of tied scores
    np.not_equal(values[1:], values[:-1], out=is_end[:-1])
    is_end[-1] = True
    ends = np.flatnonzero(is_end)[::-1]  # one per distinct score, decreasing from here on
    # int32 accumulates uint8 an order of magnitude faster than int64 does
    cum = np.cumsum(pos, dtype=np.int32 if n < 2**31 else np.int64)
    n_pos = int(cum[-1])
    below = ends[1:]  # the end of the next lower group; the lowest has none
    tps, fps = np.empty(ends.shape[0]), np.empty(ends.shape[0])
    np.subtract(n_pos, cum[below], out=tps[:-1])  # positives scoring >= each threshold
    tps[-1] = n_pos
    np.subtract(n - 1, below, out=fps[:-1])
    fps[-1] = n
    fps -= tps
    return BinaryCounts(fps, tps, values[ends])


def _weighted_counts(y_pos: np.ndarray, y_score: np.ndarray, weight: np.ndarray) -> BinaryCounts:
    """Counts with sample weights, summed in scikit-learn's order (zero weights dropped)."""
    nonzero = weight != 0
    if not nonzero.all():
        y_pos, y_score, weight = y_pos[nonzero], y_score[nonzero], weight[nonzero]
    key = (y_score + 0.0).view(np.uint64)  # + 0.0 turns -0.0 into 0.0
    if y_score.min() < 0:
        np.bitwise_xor(key, _LOW63, out=key, where=y_score >= 0)
    else:
        np.bitwise_xor(key, _LOW63, out=key)
    order = np.argsort(key, kind="stable")  # decreasing scores, ties in input order
    scores = y_score[order]
    positive = y_pos[order]
    w = weight[order]
    tps = np.where(positive, w, 0.0)
    np.cumsum(tps, out=tps)
    np.putmask(w, positive, 0.0)
    fps = np.cumsum(w, out=w)
    last = np.flatnonzero(scores[1:] != scores[:-1])
    idx = np.append(last, scores.shape[0] - 1)
    return BinaryCounts(fps[idx], tps[idx], scores[idx])


# --------------------------------------------------------------------------- curves and areas


def roc_from_counts(
    counts: BinaryCounts, drop_intermediate: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, thresholds) exactly as scikit-learn's ``roc_curve``."""
    fps, tps, thresholds = counts.fps, counts.tps, counts.thresholds
    if drop_intermediate and fps.shape[0] > 2:
        keep = np.ones(fps.shape[0], dtype=bool)
        keep[1:-1] = np.diff(fps, 2) != 0
        keep[1:-1] |= np.diff(tps, 2) != 0
        idx = np.flatnonzero(keep)
        fps, tps, thresholds = fps[idx], tps[idx], thresholds[idx]
    fps = np.concatenate(([0.0], fps))
    tps = np.concatenate(([0.0], tps))
    thresholds = np.concatenate(([np.inf], thresholds.astype(np.float64, copy=False)))
    if fps[-1] <= 0:
        _warn("No negative samples in y_true, false positive value should be meaningless")
        fpr = np.full(fps.shape, np.nan)
    else:
        fpr = fps / fps[-1]
    if tps[-1] <= 0:
        _warn("No positive samples in y_true, true positive value should be meaningless")
        tpr = np.full(tps.shape, np.nan)
    else:
        tpr = tps / tps[-1]
    return fpr, tpr, thresholds


def auc_from_counts(counts: BinaryCounts, max_fpr: float | None = None) -> float:
    """Area under the ROC curve (McClish-standardised partial area when ``max_fpr`` < 1)."""
    fps, tps = counts.fps, counts.tps
    if fps[-1] <= 0 or tps[-1] <= 0:
        _warn("Only one class is present in y_true. ROC AUC score is not defined in that case.")
        return float("nan")
    if max_fpr is None or max_fpr == 1:
        # Trapezoids on the raw counts and one division at the end: exact for unit
        # weights, whose sums stay integers below 2**53.
        area2 = float(fps[0] * tps[0])
        for lo, hi in _blocks(1, fps.shape[0]):
            width = fps[lo:hi] - fps[lo - 1 : hi - 1]
            width *= tps[lo:hi] + tps[lo - 1 : hi - 1]
            area2 += width.sum()
        return float(area2 / (2.0 * fps[-1] * tps[-1]))
    fpr, tpr, _ = roc_from_counts(counts, drop_intermediate=True)
    stop = int(np.searchsorted(fpr, max_fpr, "right"))
    edge = np.interp(max_fpr, fpr[stop - 1 : stop + 1], tpr[stop - 1 : stop + 1])
    partial = _trapezoid(np.append(tpr[:stop], edge), np.append(fpr[:stop], max_fpr))
    min_area, max_area = 0.5 * max_fpr**2, max_fpr
    return float(0.5 * (1 + (partial - min_area) / (max_area - min_area)))


def pr_from_counts(
    counts: BinaryCounts, drop_intermediate: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(precision, recall, thresholds) exactly as scikit-learn's ``precision_recall_curve``."""
    fps, tps, thresholds = counts.fps, counts.tps, counts.thresholds
    if drop_intermediate and fps.shape[0] > 2:
        keep = np.ones(tps.shape[0], dtype=bool)
        step = np.diff(tps) != 0
        keep[1:-1] = step[:-1] | step[1:]
        idx = np.flatnonzero(keep)
        fps, tps, thresholds = fps[idx], tps[idx], thresholds[idx]
    precision = _precision(tps, fps)
    if tps[-1] == 0:
        _warn(_NO_POSITIVE, UserWarning)  # scikit-learn's category here
        recall = np.ones(tps.shape)
    else:
        recall = tps / tps[-1]
    return (
        np.concatenate((precision[::-1], [1.0])),
        np.concatenate((recall[::-1], [0.0])),
        thresholds[::-1].copy(),
    )


def ap_from_counts(counts: BinaryCounts) -> float:
    """Average precision: precision at each threshold weighted by the recall it adds."""
    tps, fps = counts.tps, counts.fps
    if tps[-1] == 0:
        _warn(_NO_POSITIVE, UserWarning)
        return max(0.0, float(_precision(tps[:1], fps[:1])[0]))
    total = 0.0
    for lo, hi in _blocks(0, tps.shape[0]):
        gained = np.diff(tps[lo:hi], prepend=tps[lo - 1] if lo else 0.0)
        gained *= _precision(tps[lo:hi], fps[lo:hi])
        total += gained.sum()
    return max(0.0, float(total / tps[-1]))


def _blocks(start: int, stop: int) -> Iterator[tuple[int, int]]:
    """Slices of at most ``_BLOCK`` rows: small temporaries stay in cache and are reused.

    (Reductions use ``sum`` rather than ``np.dot``: a threaded BLAS call stalls for
    milliseconds when the cores are busy.)
    """
    for lo in range(start, stop, _BLOCK):
        yield lo, min(lo + _BLOCK, stop)


def _precision(tps: np.ndarray, fps: np.ndarray) -> np.ndarray:
    predicted = tps + fps
    if predicted.min() > 0:  # always, unless weights cancel out
        return np.divide(tps, predicted, out=predicted)
    return np.divide(tps, predicted, out=np.zeros(tps.shape), where=predicted != 0)


def _warn(message: str, category: type[Warning] | None = None) -> None:
    # looked up at warn time: verdict's UndefinedMetricWarning may subclass scikit-learn's
    warnings.warn(message, category or errors.UndefinedMetricWarning, stacklevel=4)


# --------------------------------------------------------------------------- boundary checks


def finite_scores(values: Any, name: str = "y_score") -> np.ndarray:
    """Scores as a finite, non-empty, C-contiguous float64 array of any shape."""
    s = to_numpy(values, name)
    if s.dtype.kind not in "biuf":
        try:
            if s.dtype.kind != "O":
                raise TypeError(s.dtype)
            s = s.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"{name} has dtype {s.dtype} with values that are not numbers (text, None or "
                "pd.NA), but scores must be numbers. To fix: pass probabilities or "
                "decision-function values as floats, without missing values."
            ) from exc
    s = np.ascontiguousarray(s, dtype=np.float64)
    if s.size == 0:
        raise empty_error(s, name)
    check_finite(s, name)
    return s


def scores_1d(values: Any, name: str = "y_score") -> np.ndarray:
    """Validated 1-D float64 scores (an (n, 1) column is accepted)."""
    s = finite_scores(values, name)
    if s.ndim == 2 and s.shape[1] == 1:
        s = s.ravel()
    if s.ndim != 1:
        raise InvalidInputError(
            f"{name} must be 1-D for a binary target (one score per sample), got shape "
            f"{s.shape}. To fix: pass the positive class's column, e.g. proba[:, 1]."
        )
    return s


def weights_or_none(sample_weight: Any, n_samples: int) -> np.ndarray | None:
    """Validated weights as float64 (``check_sample_weight`` refuses all-zero weights)."""
    w = check_sample_weight(sample_weight, n_samples)
    return None if w is None else np.ascontiguousarray(w, dtype=np.float64)


def positive_mask(y: np.ndarray, pos_label: Any) -> np.ndarray:
    """``y == pos_label``; with ``pos_label=None`` the labels must be {0, 1} or {-1, 1}."""
    return equal_to(y, pos_label_or_default(pos_label, y))
