"""Paired model comparison: DeLong's test of two AUCs, and several models compared at once.

Models scored on the same rows make correlated errors, so their metrics must be compared with a
paired test: DeLong's for ROC AUC (``delong_roc_test``), McNemar's for accuracy. Comparing
several candidates runs many tests, and the chance that one of them is "significant" by luck
grows with their number; ``compare_models`` therefore adjusts the p-values (Holm's step-down
method by default, which controls the family-wise error rate at least as well as Bonferroni
and rejects at least as often).

Each model's scores are sorted once: the DeLong components of every model are computed up
front and each pair's variance is a dot product (see ``_delong``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from itertools import combinations
from typing import Any, ClassVar

import numpy as np
from scipy import special

from verdict._results import Result
from verdict.errors import InvalidInputError
from verdict.metrics._delong import interval, roc_target, score_inputs
from verdict.metrics._intervals import ConfidenceInterval, check_confidence, proportion_bounds
from verdict.metrics._mcnemar import EXACT_BELOW, mcnemar_from_counts, predictions_right
from verdict.metrics._validation import check_choice, check_pos_label, labels_1d

CORRECTIONS = ("holm", "bonferroni", None)


@dataclass(frozen=True, slots=True)
class AucComparison(Result):
    """DeLong's test of two correlated AUCs measured on the same rows.

    ``auc_a``, ``auc_b`` (macro one-vs-rest for 2-D scores), their ``difference`` (a - b) and
    its DeLong ``variance`` (which accounts for the models' correlation); ``z`` is
    ``difference / sqrt(variance)`` (0 when both are 0, +-inf when only the variance is),
    ``p_value`` the two-sided p-value of "equal AUCs" (1 for identical scores), and ``low``,
    ``high`` the interval of the difference at ``confidence``, clipped into [-1, 1].
    """

    auc_a: float
    auc_b: float
    difference: float
    variance: float
    z: float
    p_value: float
    low: float
    high: float
    confidence: float


@dataclass(frozen=True, slots=True)
class PairwiseComparison(Result):
    """One pair of ``compare_models``: the test of ``difference = estimate_a - estimate_b``.

    ``statistic`` is DeLong's z, or McNemar's statistic; ``significant`` means ``p_adjusted``
    is below ``1 - confidence``.
    """

    model_a: str
    model_b: str
    estimate_a: float
    estimate_b: float
    difference: float
    low: float
    high: float
    statistic: float
    p_value: float
    p_adjusted: float
    significant: bool


@dataclass(frozen=True, slots=True)
class ModelComparison(Result):
    """Several models compared on the same rows; see ``compare_models``.

    Attributes
    ----------
    metric : str
        'roc_auc' (DeLong) or 'accuracy' (McNemar).
    test : str
        'delong' or 'mcnemar'.
    best : str
        The model with the highest estimate (the first one listed among equals).
    better_than : dict of str to bool
        For every other model: is ``best`` significantly better (adjusted p-value below
        ``1 - confidence``)?
    estimates : dict of str to ConfidenceInterval
        Each model's metric with its interval (DeLong's for AUC, Wilson's for accuracy).
    comparisons : tuple of PairwiseComparison
        The tests run, with raw and adjusted p-values.
    confidence : float
        Nominal coverage of the intervals; the tests use ``alpha = 1 - confidence``.
    correction : str or None
        The multiple-testing adjustment: 'holm', 'bonferroni' or None.
    pairs : str
        'all' (every pair) or 'best' (the best model against each other).
    """

    _hidden: ClassVar[tuple[str, ...]] = ("estimates", "comparisons")

    metric: str
    test: str
    best: str
    better_than: dict[str, bool]
    estimates: dict[str, ConfidenceInterval]
    comparisons: tuple[PairwiseComparison, ...]
    confidence: float
    correction: str | None
    pairs: str

    def table(self) -> list[dict[str, Any]]:
        """The comparisons as rows of plain values (for a DataFrame or a report)."""
        return [{f.name: getattr(c, f.name) for f in fields(c)} for c in self.comparisons]


# --------------------------------------------------------------------------- two models


def delong_roc_test(
    y_true: Any,
    score_a: Any,
    score_b: Any,
    *,
    confidence: float = 0.95,
    pos_label: Any = None,
    labels: Any = None,
) -> AucComparison:
    """DeLong's test of two correlated ROC AUCs: is model a's AUC different from model b's?

    Both models are scored on the same rows, so their AUCs are correlated; the test uses the
    variance of the *difference*, which accounts for that (two separate intervals do not).
    Costs one sort per model; symmetric in a and b; identical scores give ``p_value == 1``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    score_a, score_b : array-like of shape (n_samples,) or (n_samples, n_classes)
        The two models' scores for the same rows, of one shape. 2-D scores compare the macro
        one-vs-rest AUCs (columns as in ``delong_roc_ci``).
    confidence : float, default=0.95
        Nominal coverage of the interval of the difference.
    pos_label : int, float, bool or str, default=None
        1-D only: the positive class (default: the greater of two labels).
    labels : array-like of shape (n_classes,), default=None
        2-D only: the sorted classes of the columns.

    Returns
    -------
    AucComparison
        The AUCs, their difference (a - b) with its variance, interval, ``z`` and two-sided
        ``p_value``. With a zero variance the p-value is 1 when the AUCs are equal and 0 when
        they differ (for instance one model perfect and the other constant).

    Examples
    --------
    >>> y = [0, 0, 1, 1, 0, 1, 0, 1]
    >>> r = delong_roc_test(y, [.1, .4, .35, .8, .2, .9, .3, .7], [.2, .3, .6, .7, .1, .5, .4, .8])
    >>> round(r.difference, 4), round(r.p_value, 2)
    (-0.0625, 0.48)
    """
    func = "delong_roc_test"
    level = check_confidence(confidence, func)
    check_pos_label(pos_label, func)
    y, (a, b) = score_inputs(y_true, {"score_a": score_a, "score_b": score_b})
    if a.shape != b.shape:
        raise InvalidInputError(
            f"score_a has shape {a.shape} but score_b has shape {b.shape}. To fix: pass both "
            "models' scores in the same layout (1-D, or one column per class in one order)."
        )
    target = roc_target(y, a, pos_label, labels, func)
    auc_a, psi_a = _macro_components(target, a)
    auc_b, psi_b = _macro_components(target, b)
    return auc_comparison(auc_a, auc_b, _squared_distance(psi_a, psi_b), level)


def _macro_components(target: Any, s: np.ndarray) -> tuple[float, np.ndarray]:
    """The (macro) AUC and its structural component per row (mean over one-vs-rest curves)."""
    aucs, phi = target.components(s)
    return float(aucs.mean()), phi[0] if phi.shape[0] == 1 else phi.mean(axis=0)


def _squared_distance(psi_a: np.ndarray, psi_b: np.ndarray) -> float:
    """``sum((psi_a - psi_b)**2)``: summed in row order, so exactly symmetric in a and b."""
    d = psi_a - psi_b
    d *= d
    return float(d.sum())


def auc_comparison(auc_a: float, auc_b: float, variance: float, level: float) -> AucComparison:
    """The test's record from the two AUCs and the variance of their difference."""
    difference = auc_a - auc_b
    z, p_value = _z_test(difference, variance)
    low, high = _normal_bounds(difference, variance, level)
    return AucComparison(auc_a, auc_b, difference, variance, z, p_value, low, high, level)


def _z_test(difference: float, variance: float) -> tuple[float, float]:
    """z and the two-sided normal p-value; a zero variance gives p = 1 or 0, never NaN."""
    if variance <= 0:
        return (0.0, 1.0) if difference == 0 else (math.copysign(math.inf, difference), 0.0)
    z = difference / math.sqrt(variance)
    return z, float(2 * special.ndtr(-abs(z)))


def _normal_bounds(center: float, variance: float, level: float) -> tuple[float, float]:
    half = float(special.ndtri(0.5 + level / 2)) * math.sqrt(max(variance, 0.0))
    return max(-1.0, center - half), min(1.0, center + half)


# --------------------------------------------------------------------------- multiple testing


def adjust_p_values(p_values: Any, *, method: str | None = "holm") -> np.ndarray:
    """Adjust p-values for multiple testing (family-wise error rate).

    Parameters
    ----------
    p_values : array-like of shape (n_tests,)
        Raw p-values in [0, 1].
    method : {'holm', 'bonferroni'} or None, default='holm'
        'holm': Holm's step-down method; the i-th smallest p-value is multiplied by
        ``n - i + 1`` and the results made non-decreasing (so adjusted p-values keep the
        order of the raw ones). 'bonferroni': every p-value times ``n``. None: unchanged.
        Both are capped at 1.

    Returns
    -------
    ndarray of shape (n_tests,)
        Adjusted p-values, in the input's order: reject where they are below alpha.
    """
    check_choice("method", method, CORRECTIONS, "adjust_p_values")
    p = np.asarray(p_values, dtype=np.float64).reshape(-1)
    if p.size and (np.isnan(p).any() or p.min() < 0 or p.max() > 1):
        raise InvalidInputError(
            "p_values must lie in [0, 1] (NaN is not a p-value). To fix: pass p-values."
        )
    n = p.shape[0]
    if method is None or n == 0:
        return p.copy()
    if method == "bonferroni":
        return np.minimum(p * n, 1.0)
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate(p[order] * np.arange(n, 0, -1))
    adjusted = np.empty(n)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


# --------------------------------------------------------------------------- several models

PairTest = Callable[[str, str], tuple[float, float, float, float, float]]


def compare_models(
    y_true: Any,
    scores: Mapping[str, Any],
    *,
    confidence: float = 0.95,
    correction: str | None = "holm",
    pairs: str = "all",
    test: str = "delong",
    pos_label: Any = None,
    labels: Any = None,
) -> ModelComparison:
    """Compare several models on the same rows: which is best, and is it significantly better?

    Every comparison is a paired test on the same rows, and the p-values are adjusted for the
    number of tests, so that "significantly better" holds for the whole table at once.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    scores : mapping of str to array-like
        Each model's name and output for the same rows: scores (1-D, or one column per class)
        for ``test='delong'``, predicted labels for ``test='mcnemar'``.
    confidence : float, default=0.95
        Nominal coverage of the intervals; a difference is significant when its adjusted
        p-value is below ``1 - confidence``.
    correction : {'holm', 'bonferroni'} or None, default='holm'
        Multiple-testing adjustment of the p-values (see ``adjust_p_values``).
    pairs : {'all', 'best'}, default='all'
        'all': every pair of models, K (K - 1) / 2 tests. 'best': the model with the highest
        estimate against each other, K - 1 tests; fewer tests give more power, but the best
        model is picked on the same data, which makes its comparisons a little optimistic.
    test : {'delong', 'mcnemar'}, default='delong'
        'delong': ROC AUC with DeLong's test (scores). 'mcnemar': accuracy with McNemar's test
        (hard labels; exact below 25 discordant rows), the interval of a difference being
        Agresti and Min's adjusted Wald interval for paired proportions.
    pos_label, labels
        As in ``delong_roc_ci`` (DeLong only).

    Returns
    -------
    ModelComparison
        ``best``, ``better_than`` (is the best significantly better than each other model?),
        ``estimates`` per model with intervals, and the ``comparisons``; ``table()`` lists them.
    """
    func = "compare_models"
    level = check_confidence(confidence, func)
    check_choice("correction", correction, CORRECTIONS, func)
    check_choice("pairs", pairs, ("all", "best"), func)
    check_choice("test", test, ("delong", "mcnemar"), func)
    named = _named(scores)
    if test == "delong":
        check_pos_label(pos_label, func)
        estimates, pair_test = _delong_setup(y_true, named, level, pos_label, labels)
    else:
        if pos_label is not None or labels is not None:
            raise InvalidInputError(
                "pos_label and labels are for test='delong'; McNemar's test compares hard "
                "labels. To fix: leave them None."
            )
        estimates, pair_test = _mcnemar_setup(y_true, named, level)
    names = list(named)
    best = max(names, key=lambda name: estimates[name].estimate)  # the first among equals
    tested = list(combinations(names, 2)) if pairs == "all" else [(best, o) for o in names]
    tested = [(a, b) for a, b in tested if a != b]
    raw = [pair_test(a, b) for a, b in tested]
    adjusted = adjust_p_values([r[4] for r in raw], method=correction)
    rows = tuple(
        PairwiseComparison(
            a, b, estimates[a].estimate, estimates[b].estimate, *r, float(q), bool(q < 1 - level)
        )
        for (a, b), r, q in zip(tested, raw, adjusted, strict=True)
    )
    better = {o: _beats(best, o, rows) for o in names if o != best}
    metric = "roc_auc" if test == "delong" else "accuracy"
    return ModelComparison(metric, test, best, better, estimates, rows, level, correction, pairs)


def _named(scores: Any) -> dict[str, Any]:
    if not isinstance(scores, Mapping) or len(scores) < 2:
        raise InvalidInputError(
            "scores must be a mapping of at least two model names to their outputs, e.g. "
            "{'logistic': p1, 'forest': p2}. To fix: pass a dict with one entry per model."
        )
    bad = [k for k in scores if not isinstance(k, str)]
    if bad:
        raise InvalidInputError(
            f"scores' keys must be model names (str), got {bad[0]!r}. To fix: name each model."
        )
    return dict(scores)


def _beats(best: str, other: str, rows: tuple[PairwiseComparison, ...]) -> bool:
    row = next(r for r in rows if {r.model_a, r.model_b} == {best, other})
    best_estimate = row.estimate_a if row.model_a == best else row.estimate_b
    other_estimate = row.estimate_b if row.model_a == best else row.estimate_a
    return row.significant and best_estimate > other_estimate


def _delong_setup(
    y_true: Any, named: dict[str, Any], level: float, pos_label: Any, labels: Any
) -> tuple[dict[str, ConfidenceInterval], PairTest]:
    """Each model's AUC interval; pairs tested from components computed once per model."""
    y, arrays = score_inputs(y_true, {f"scores[{k!r}]": v for k, v in named.items()})
    for name, s in zip(named, arrays, strict=True):
        if s.shape != arrays[0].shape:
            raise InvalidInputError(
                f"scores[{name!r}] has shape {s.shape} but the first model's has shape "
                f"{arrays[0].shape}. To fix: give every model the same layout of scores."
            )
    target = roc_target(y, arrays[0], pos_label, labels, "compare_models")
    parts = {k: _macro_components(target, s) for k, s in zip(named, arrays, strict=True)}
    estimates = {}
    for name, (auc, psi) in parts.items():
        iv = interval(auc, _squared_distance(psi, np.zeros_like(psi)), level)
        estimates[name] = ConfidenceInterval("roc_auc", auc, iv.low, iv.high, level, "delong", 0)

    def pair_test(a: str, b: str) -> tuple[float, float, float, float, float]:
        r = auc_comparison(
            parts[a][0], parts[b][0], _squared_distance(parts[a][1], parts[b][1]), level
        )
        return r.difference, r.low, r.high, r.z, r.p_value

    return estimates, pair_test


def _mcnemar_setup(
    y_true: Any, named: dict[str, Any], level: float
) -> tuple[dict[str, ConfidenceInterval], PairTest]:
    """Each model's accuracy (Wilson interval); pairs tested with McNemar's test."""
    y = labels_1d(y_true, "y_true")
    right = {k: predictions_right(y, v, f"scores[{k!r}]") for k, v in named.items()}
    n = y.shape[0]
    estimates = {}
    for name, r in right.items():
        hits = int(np.count_nonzero(r))
        low, high = proportion_bounds(hits, n, level, "wilson")
        estimates[name] = ConfidenceInterval("accuracy", hits / n, low, high, level, "wilson", 0)

    def pair_test(a: str, b: str) -> tuple[float, float, float, float, float]:
        b_count = int(np.count_nonzero(right[a] & ~right[b]))
        c_count = int(np.count_nonzero(right[b] & ~right[a]))
        exact = b_count + c_count < EXACT_BELOW
        statistic, p_value, _ = mcnemar_from_counts(b_count, c_count, exact, True)
        low, high = _paired_proportion_bounds(b_count, c_count, n, level)
        return (b_count - c_count) / n, low, high, statistic, p_value

    return estimates, pair_test


def _paired_proportion_bounds(b: int, c: int, n: int, level: float) -> tuple[float, float]:
    """Agresti & Min (2005): Wald interval of (b - c) / n after adding 1/2 to every cell."""
    b_, c_, n_ = b + 0.5, c + 0.5, n + 2.0
    center = (b_ - c_) / n_
    variance = ((b_ + c_) - (b_ - c_) ** 2 / n_) / (n_ * n_)
    return _normal_bounds(center, variance, level)
