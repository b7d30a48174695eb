"""DeLong's variance and confidence interval of ROC AUC, in O(n log n).

DeLong, DeLong & Clarke-Pearson (1988) write the AUC as the mean of the "placements": a
positive's V10 is the share of negatives scoring below it (ties count half), a negative's V01
the share of positives scoring above it; both average to the AUC, and

    Var(AUC) = S10 / m + S01 / n

with S10, S01 the sample variances (ddof 1) of the m positive and n negative placements. Sun &
Xu (2014) get every placement from midranks, so one sort replaces the m x n comparisons.

Here each sample gets one *structural component* ``phi``: its placement minus the AUC, divided
by ``sqrt(m (m - 1))`` for a positive and ``sqrt(n (n - 1))`` for a negative, so that
``sum(phi ** 2)`` is exactly DeLong's variance and every covariance is a dot product:

* two models scored on the same rows (``delong_roc_test`` in ``_compare``):
  ``Var(AUC_a - AUC_b) = sum((phi_a - phi_b) ** 2)``, which equals DeLong's
  ``S_aa + S_bb - 2 S_ab`` and is exactly 0 for identical scores;
* one-vs-rest multiclass: the covariance of the per-class AUCs is ``Phi.T @ Phi``; its diagonal
  is each class's binary DeLong variance and the macro AUC's variance is ``sum(C) / K**2``.
  The off-diagonal terms are the influence-function (delta method) covariances of AUCs computed
  on the same rows, with the same small-sample scaling as the diagonal.

The components must be aligned by row across score vectors, so each vector needs an argsort.
``sorted_groups`` packs the row index into the low bits of an order-preserving integer key
and sorts the keys with ``np.sort``, which is much faster than ``np.argsort``; keys that lose
their lowest score bits to the index are re-sorted exactly afterwards. Scores with few
distinct values (trees, rounded scores) skip the sort: a hash checked to be collision-free
groups the rows in O(n), and only the distinct values are sorted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy import special

from verdict._results import Result
from verdict.errors import InvalidInputError
from verdict.metrics._intervals import check_confidence
from verdict.metrics._ranking import binary_counts, finite_scores, scores_1d
from verdict.metrics._ranking_multiclass import class_codes
from verdict.metrics._sklearn_checks import check_consistent_length
from verdict.metrics._validation import check_pos_label, equal_to, labels_1d, unique_labels

_SIGN = np.uint64(1 << 63)
_ALL = np.uint64((1 << 64) - 1)
# Scores with at most about this many distinct values (judged from a sample of 4096) are
# grouped by a perfect hash into 2**20 slots instead of a sort, from this many rows on.
_HASH_MAX_VALUES = 1024
_HASH_FROM = 1 << 16
_HASH_BITS = 20
_MULTIPLIERS = tuple(
    np.uint64(m) for m in (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0xD6E8FEB86659FD93)
)


@dataclass(frozen=True, slots=True)
class AucInterval(Result):
    """ROC AUC with DeLong's variance and a normal confidence interval clipped into [0, 1].

    Attributes
    ----------
    auc : float
        The area under the ROC curve (ties count half, as in ``roc_auc_score``).
    variance : float
        DeLong's estimate of the AUC's sampling variance.
    low, high : float
        ``auc -/+ z * sqrt(variance)``, clipped into [0, 1] (the AUC cannot leave it).
    confidence : float
        Nominal coverage, e.g. 0.95.
    """

    auc: float
    variance: float
    low: float
    high: float
    confidence: float


@dataclass(frozen=True, slots=True)
class MulticlassAucInterval(Result):
    """Macro one-vs-rest AUC with its interval, and every class's own interval.

    Attributes
    ----------
    auc, variance, low, high, confidence
        The macro average (the unweighted mean of the per-class AUCs), its variance
        ``sum(covariance) / K**2`` and its clipped interval.
    classes : ndarray
        The class of each column of ``y_score``.
    per_class : tuple of AucInterval
        Each class against the rest: the binary DeLong interval.
    covariance : ndarray of shape (K, K)
        Covariance of the per-class AUCs (its diagonal holds their variances).
    """

    _hidden: ClassVar[tuple[str, ...]] = ("per_class",)

    auc: float
    variance: float
    low: float
    high: float
    confidence: float
    classes: np.ndarray
    per_class: tuple[AucInterval, ...]
    covariance: np.ndarray


@dataclass(frozen=True, slots=True)
class Components:
    """One score vector's AUC and its structural components, ``phi[i]`` for row ``order[i]``."""

    auc: float
    order: np.ndarray | None  # None: ``phi`` is already in row order
    phi: np.ndarray

    def aligned(self, out: np.ndarray | None = None) -> np.ndarray:
        """The components in row order (written into ``out`` when given)."""
        out = np.empty(self.phi.shape[0]) if out is None else out
        if self.order is None:
            out[:] = self.phi
        else:
            out[self.order] = self.phi
        return out


# --------------------------------------------------------------------------- kernels


def sorted_groups(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An ascending argsort of finite float64 ``s``, and where each group of ties starts.

    Returns ``order`` and ``is_new``: ``is_new[i]`` is True when ``s[order[i]]`` differs from
    the score before it (-0.0 ties with 0.0).
    """
    n = s.shape[0]
    bits = max(1, (n - 1).bit_length())
    low = np.uint64((1 << bits) - 1)
    key = np.add(s, 0.0).view(np.uint64)  # + 0.0 turns -0.0 into 0.0
    if s.min() < 0:  # negative floats sort by their flipped bits
        np.bitwise_xor(key, np.where(s < 0, _ALL, _SIGN), out=key)
    else:
        np.bitwise_or(key, _SIGN, out=key)
    np.bitwise_and(key, ~low, out=key)  # the row index replaces the lowest score bits
    np.bitwise_or(key, np.arange(n, dtype=np.uint64), out=key)
    key.sort()
    order = np.bitwise_and(key, low).view(np.intp)
    is_new = np.empty(n, dtype=bool)
    is_new[0] = True
    np.greater(np.bitwise_xor(key[1:], key[:-1]), low, out=is_new[1:])  # truncated scores differ
    same = np.flatnonzero(~is_new[1:])  # rows whose truncated score equals the next one's
    if same.shape[0] > n // 8:  # many ties: compare all the scores
        values = s[order]
        bad = np.flatnonzero(np.less(values[1:], values[:-1]))
        if bad.shape[0]:
            _fix_collisions(s, key, low, order, bad)
            values = s[order]
        np.not_equal(values[1:], values[:-1], out=is_new[1:])
    elif same.shape[0]:
        _fix_collisions(s, key, low, order, _misordered(s, order, same))
        is_new[same + 1] = s[order[same + 1]] != s[order[same]]
    return order, is_new


def _misordered(s: np.ndarray, order: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The ``rows`` whose score is greater than the next row's."""
    return rows[s[order[rows]] > s[order[rows + 1]]]


def _fix_collisions(
    s: np.ndarray, key: np.ndarray, low: np.uint64, order: np.ndarray, bad: np.ndarray
) -> None:
    """Sort exactly the runs of keys whose truncated scores collided (``order`` in place)."""
    if not bad.shape[0]:
        return
    heads = np.unique(key[bad] & ~low)
    starts = np.searchsorted(key, heads, "left")
    stops = np.searchsorted(key, heads | low, "right")
    lengths = stops - starts
    rows = np.arange(lengths.sum()) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    # runs lie in increasing order of truncated score, so one sort orders them all
    order[rows] = order[rows][np.argsort(s[order[rows]], kind="stable")]


def components(s: np.ndarray, y_pos: np.ndarray, n_pos: int) -> Components:
    """AUC and structural components of scores ``s`` for the positives ``y_pos`` (uint8)."""
    n = s.shape[0]
    if n >= _HASH_FROM and np.unique(s[:: n // 4096]).shape[0] <= _HASH_MAX_VALUES:
        hashed = _hashed_components(s, y_pos, n_pos)
        if hashed is not None:
            return hashed
    order, is_new = sorted_groups(s)
    label = y_pos[order]
    count = np.int32 if n < 2**31 else np.int64  # int32 sums uint8 ten times faster
    cum_pos = np.cumsum(label, dtype=count)  # positives at or below each row of the sort
    if np.count_nonzero(is_new) == n:
        return _untied_components(order, label, cum_pos, n_pos)
    stops = np.append(np.flatnonzero(is_new[1:]) + 1, n)
    pos_through = cum_pos[stops - 1].astype(np.int64)
    pos_count = np.diff(pos_through, prepend=0)
    auc, table = _group_table(np.diff(stops, prepend=0) - pos_count, pos_count, n_pos)
    index = np.cumsum(is_new, dtype=count)
    index <<= 1
    index += label
    return Components(auc, order, table[index])


def _group_table(neg: np.ndarray, pos: np.ndarray, n_pos: int) -> tuple[float, np.ndarray]:
    """AUC, and the components of the negatives and positives of each group of tied scores.

    ``neg`` and ``pos`` count the rows of each group, groups in increasing score order. The
    table is laid out ``[_, _, neg of group 0, pos of group 0, neg of group 1, ...]``.
    """
    n_neg = int(neg.sum())
    neg_twice = 2 * np.cumsum(neg) - neg  # 2 x (negatives below + half the tied ones)
    pos_twice = 2 * np.cumsum(pos) - pos
    auc = float(np.sum(pos * neg_twice) / (2.0 * n_pos * n_neg))  # exact integer numerator
    table = np.empty(2 * neg.shape[0] + 2)
    # placement minus AUC, then scaled: exactly 0 where they are equal
    np.divide(neg_twice, 2.0 * n_neg, out=table[3::2])
    table[3::2] -= auc
    table[3::2] /= math.sqrt(n_pos * (n_pos - 1.0))
    np.divide(pos_twice, -2.0 * n_pos, out=table[2::2])
    table[2::2] += 1 - auc
    table[2::2] /= math.sqrt(n_neg * (n_neg - 1.0))
    return auc, table


def _hashed_components(s: np.ndarray, y_pos: np.ndarray, n_pos: int) -> Components | None:
    """Components of scores with few distinct values, in row order, without sorting the rows.

    A multiply-shift hash of the scores' bits indexes a table of ``2**_HASH_BITS`` slots; it is
    used only when checked collision-free on these scores (None otherwise). Per-slot counts
    then give the groups of ties, and only the distinct scores are sorted.
    """
    bits = np.add(s, 0.0).view(np.uint64)  # + 0.0 turns -0.0 into 0.0
    size = 1 << _HASH_BITS
    for multiplier in _MULTIPLIERS:
        slot = bits * multiplier
        slot >>= np.uint64(64 - _HASH_BITS)
        table = np.zeros(size, dtype=np.uint64)
        table[slot] = bits
        if np.array_equal(table[slot], bits):
            break
    else:
        return None
    slot <<= np.uint64(1)
    slot |= y_pos  # slot of the score, then the label
    counts = np.bincount(slot.view(np.int64), minlength=2 * size)
    used = np.flatnonzero(counts[0::2] + counts[1::2])
    used = used[np.argsort(table[used].view(np.float64))]  # the distinct scores, increasing
    auc, table_g = _group_table(counts[2 * used], counts[2 * used + 1], n_pos)
    lookup = np.empty(2 * size)
    lookup[2 * used] = table_g[2::2]
    lookup[2 * used + 1] = table_g[3::2]
    return Components(auc, None, lookup[slot.view(np.int64)])


def _untied_components(
    order: np.ndarray, label: np.ndarray, cum_pos: np.ndarray, n_pos: int
) -> Components:
    """Components without ties: row i of the sort has i + 1 - cum_pos negatives at or below."""
    n = label.shape[0]
    n_neg = n - n_pos
    # each negative sees cum_pos positives at or below it: their pairs are the AUC's complement
    below_neg = int(cum_pos.sum(dtype=np.int64)) - n_pos * (n_pos + 1) // 2
    auc = (n_pos * n_neg - below_neg) / (n_pos * n_neg)  # one rounding, as in the tied path
    cum = cum_pos.astype(np.float64)
    pos_part = np.arange(1.0, n + 1.0)
    pos_part -= cum  # negatives at or below each row
    pos_part /= n_neg
    pos_part -= auc
    pos_part /= math.sqrt(n_pos * (n_pos - 1.0))  # a positive's placement, centred and scaled
    cum /= -n_pos
    cum += 1 - auc
    cum /= math.sqrt(n_neg * (n_neg - 1.0))  # a negative's: the share of positives above it
    return Components(auc, order, np.where(label.view(bool), pos_part, cum))


def _counts_interval(y_pos: np.ndarray, s: np.ndarray, confidence: float) -> AucInterval:
    """Binary DeLong from the value-only sort of ``binary_counts`` (no row alignment needed)."""
    counts = binary_counts(y_pos, s)
    tps, fps = counts.tps, counts.fps
    n_pos, n_neg = tps[-1], fps[-1]
    tps_prev, fps_prev = np.append(0.0, tps[:-1]), np.append(0.0, fps[:-1])
    # scores decrease along the groups: negatives below a group = n_neg - fps
    v10 = (2 * n_neg - fps - fps_prev) / (2 * n_neg)
    v01 = (tps + tps_prev) / (2 * n_pos)
    pos_in, neg_in = tps - tps_prev, fps - fps_prev
    auc = float(np.sum(pos_in * (2 * n_neg - fps - fps_prev)) / (2 * n_pos * n_neg))
    s10 = np.sum(pos_in * (v10 - auc) ** 2) / (n_pos - 1)
    s01 = np.sum(neg_in * (v01 - auc) ** 2) / (n_neg - 1)
    return interval(auc, float(s10 / n_pos + s01 / n_neg), confidence)


def interval(auc: float, variance: float, confidence: float) -> AucInterval:
    """Normal interval around ``auc``, clipped into [0, 1]."""
    half = float(special.ndtri(0.5 + confidence / 2)) * math.sqrt(max(variance, 0.0))
    return AucInterval(auc, variance, max(0.0, auc - half), min(1.0, auc + half), confidence)


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True, slots=True)
class RocTarget:
    """Validated labels: one uint8 row of positives per ROC curve (a single row if binary)."""

    positives: np.ndarray
    n_pos: np.ndarray
    classes: np.ndarray | None  # the class of each row; None for a binary target

    def components(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-curve AUCs and the (K, n) structural components of scores ``s``, row order."""
        k, n = self.positives.shape
        phi = np.empty((k, n))
        aucs = np.empty(k)
        for c in range(k):
            column = s if s.ndim == 1 else np.ascontiguousarray(s[:, c])
            comp = components(column, self.positives[c], int(self.n_pos[c]))
            comp.aligned(out=phi[c])
            aucs[c] = comp.auc
        return aucs, phi


def roc_target(y: np.ndarray, s: np.ndarray, pos_label: Any, labels: Any, func: str) -> RocTarget:
    """One-vs-rest rows for 2-D scores, else the single positive class of a binary target."""
    if s.ndim == 2:
        if pos_label is not None:
            raise InvalidInputError(
                f"pos_label={pos_label!r} was given but y_score has {s.shape[1]} columns, one "
                f"per class, so {func} scores every class against the rest. To fix: leave "
                "pos_label=None, or pass that class's column as a 1-D y_score."
            )
        codes, k = class_codes(y, labels, s.shape[1])
        positives = (codes[None, :] == np.arange(k)[:, None]).view(np.uint8)
        classes = unique_labels(y) if labels is None else np.asarray(labels)
        return _checked(RocTarget(positives, positives.sum(axis=1, dtype=np.int64), classes), func)
    if labels is not None:
        raise InvalidInputError(
            "labels only names the columns of a 2-D y_score, and y_score is 1-D. To fix: "
            "leave labels=None, and pass pos_label= to choose the positive class."
        )
    if pos_label is None:
        classes = unique_labels(y)
        if classes.shape[0] != 2:
            raise InvalidInputError(
                f"y_true has {classes.shape[0]} distinct labels but {func} with a 1-D y_score "
                "needs two. To fix: pass pos_label= the positive class (it is then scored "
                "against all others), or a 2-D y_score with one column per class."
            )
        pos_label = classes[-1]  # the greater label, as in roc_auc_score
    positives = equal_to(y, pos_label).view(np.uint8)[None, :]
    return _checked(RocTarget(positives, positives.sum(axis=1, dtype=np.int64), None), func)


def _checked(target: RocTarget, func: str) -> RocTarget:
    n = target.positives.shape[1]
    for k, m in enumerate(target.n_pos.tolist()):
        if min(m, n - m) < 2:
            which = "" if target.classes is None else f" of class {target.classes.tolist()[k]!r}"
            raise InvalidInputError(
                f"{func} needs at least two positive and two negative samples{which}; y_true "
                f"has {m} positive and {n - m} negative. DeLong's variance is a sample variance "
                "within each class. To fix: evaluate on more rows (or check pos_label)."
            )
    return target


def score_inputs(y_true: Any, scores: dict[str, Any]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Labels, and finite float64 scores of one length: 1-D, or 2-D with a column per class."""
    y = labels_1d(y_true, "y_true")
    arrays = []
    for name, value in scores.items():
        s = finite_scores(value, name)
        if s.ndim == 1 or (s.ndim == 2 and s.shape[1] == 1):
            s = scores_1d(s, name)
        elif s.ndim != 2:
            raise InvalidInputError(
                f"{name} must be 1-D (binary) or 2-D (one column per class), got shape "
                f"{s.shape}. To fix: pass one score per sample, or one row of scores per sample."
            )
        arrays.append(s)
    check_consistent_length(y_true=y, **dict(zip(scores, arrays, strict=True)))
    return y, arrays


# --------------------------------------------------------------------------- public API


def delong_roc_ci(
    y_true: Any,
    y_score: Any,
    *,
    confidence: float = 0.95,
    pos_label: Any = None,
    labels: Any = None,
) -> AucInterval | MulticlassAucInterval:
    """ROC AUC with DeLong's variance and confidence interval, without resampling.

    The interval is ``auc -/+ z * sqrt(variance)`` with DeLong's nonparametric variance,
    clipped into [0, 1]; it costs one sort, about the time of ``roc_auc_score``. Its coverage
    is close to nominal for moderate samples; with few positives or an AUC near 1 it is a
    little liberal, as every normal interval is there. Sample weights are not supported
    (DeLong's variance is that of unweighted samples); ``bootstrap_ci`` takes them.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        1-D: scores of the positive class of a binary target (the greater label unless
        ``pos_label`` says otherwise). 2-D: one column of scores per class, each class taken
        against the rest (rows need not sum to one).
    confidence : float, default=0.95
        Nominal coverage of the interval.
    pos_label : int, float, bool or str, default=None
        1-D only: the positive class; all other labels are negatives.
    labels : array-like of shape (n_classes,), default=None
        2-D only: the sorted classes of the columns (default: the labels of ``y_true``).

    Returns
    -------
    AucInterval
        1-D ``y_score``: ``auc``, ``variance``, ``low``, ``high``, ``confidence``.
    MulticlassAucInterval
        2-D ``y_score``: the same for the macro average, with ``per_class`` intervals and the
        ``covariance`` of the per-class AUCs (see the module notes).

    Examples
    --------
    >>> r = delong_roc_ci([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    >>> round(r.auc, 4), round(r.low, 3), r.high
    (0.8889, 0.581, 1.0)
    """
    func = "delong_roc_ci"
    level = check_confidence(confidence, func)
    check_pos_label(pos_label, func)
    y, (s,) = score_inputs(y_true, {"y_score": y_score})
    target = roc_target(y, s, pos_label, labels, func)
    if target.classes is None:
        return _counts_interval(target.positives[0].view(bool), s, level)
    aucs, phi = target.components(s)
    cov = phi @ phi.T
    per_class = tuple(
        interval(float(a), float(v), level) for a, v in zip(aucs, np.diag(cov), strict=True)
    )
    k = aucs.shape[0]
    macro = interval(float(aucs.mean()), float(cov.sum() / (k * k)), level)
    return MulticlassAucInterval(
        macro.auc, macro.variance, macro.low, macro.high, level, target.classes, per_class, cov
    )
