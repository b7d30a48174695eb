"""Calibration: do predicted probabilities match observed frequencies?

Probabilities are grouped into bins; in a calibrated model the mean predicted probability of a
bin equals the observed frequency of the event in it. ``calibration_curve`` is scikit-learn's
(same signature, bins and results); the expected calibration error (ECE) is the bin-weighted
mean gap, ``sum_b |sum of p - sum of y| / n``, and the maximum calibration error (MCE) the
largest gap of a non-empty bin.

Bins are scikit-learn's: 'uniform' splits [0, 1] into ``n_bins`` equal bins closed on the right,
the first one [0, 1/B] (a probability on an inner edge belongs to the lower bin); 'quantile'
places the edges at the ``n_bins`` quantiles of the probabilities (unweighted, so the edges do
not depend on ``sample_weight``), leaving bins empty when many probabilities are equal.

For multiclass probabilities, 'top_label' (Guo et al., 2017) bins the confidence ``max_k p_k``
against whether the top class (argmax, ties to the lowest index) is right; 'classwise' (Kull et
al., 2019) averages the binary ECE of every class's probability column over the classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np

from verdict._params import Interval, check
from verdict._results import Result
from verdict.errors import InvalidInputError
from verdict.metrics._probabilistic import proba_array, validate_multiclass_proba
from verdict.metrics._ranking import positive_mask
from verdict.metrics._sklearn_checks import check_consistent_length, check_sample_weight
from verdict.metrics._validation import (
    check_choice,
    check_pos_label,
    labels_1d,
    unique_labels,
)

STRATEGIES = ("uniform", "quantile")
MULTICLASS = ("top_label", "classwise")


@dataclass(frozen=True, slots=True)
class Bins:
    """Per-bin sums: weight (or count), predicted probability and observed events."""

    edges: np.ndarray
    weight: np.ndarray
    prob: np.ndarray
    hits: np.ndarray

    def ece(self) -> float:
        """Bin-weighted mean of |mean predicted - observed frequency|."""
        return float(np.abs(self.prob - self.hits).sum() / self.weight.sum())

    def mce(self) -> float:
        """Largest |mean predicted - observed frequency| over the non-empty bins."""
        full = self.weight > 0
        return float((np.abs(self.prob[full] - self.hits[full]) / self.weight[full]).max())


@dataclass(frozen=True, slots=True)
class ReliabilityDiagram(Result):
    """The data of a reliability diagram: one point per bin, plus the summary errors.

    Attributes
    ----------
    edges : ndarray of shape (n_bins + 1,)
        Bin edges (bin b holds probabilities in ``(edges[b], edges[b + 1]]``, the first bin
        including ``edges[0]``).
    mean_predicted : ndarray of shape (n_bins,)
        Mean predicted probability (top-label: confidence) per bin; NaN for an empty bin.
    observed : ndarray of shape (n_bins,)
        Observed frequency of the event (top-label: accuracy) per bin; NaN for an empty bin.
    counts : ndarray of shape (n_bins,)
        Samples per bin (summed weights with ``sample_weight``).
    expected_calibration_error, max_calibration_error : float
        ECE and MCE of these bins.
    strategy : str
        'uniform' or 'quantile'.
    kind : str
        'binary' (the positive class's probability) or 'top_label'.
    """

    edges: np.ndarray
    mean_predicted: np.ndarray
    observed: np.ndarray
    counts: np.ndarray
    expected_calibration_error: float
    max_calibration_error: float
    strategy: str
    kind: str


def bin_statistics(
    prob: np.ndarray, hits: np.ndarray, weight: np.ndarray | None, n_bins: int, strategy: str
) -> Bins:
    """Bin ``prob`` exactly as scikit-learn's ``calibration_curve`` and sum per bin."""
    if strategy == "quantile":
        quantiles = np.linspace(0, 1, n_bins + 1)
        edges = np.percentile(prob, quantiles * 100)
    else:
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    ids = np.searchsorted(edges[1:-1], prob)
    if weight is None:
        counts = np.bincount(ids, minlength=n_bins)
        return Bins(
            edges,
            counts,
            np.bincount(ids, weights=prob, minlength=n_bins),
            np.bincount(ids, weights=hits, minlength=n_bins),
        )
    return Bins(
        edges,
        np.bincount(ids, weights=weight, minlength=n_bins),
        np.bincount(ids, weights=prob * weight, minlength=n_bins),
        np.bincount(ids, weights=np.where(hits, weight, 0.0), minlength=n_bins),
    )


# --------------------------------------------------------------------------- validation


def _check_binning(n_bins: Any, strategy: Any, func: str) -> None:
    bins = Interval(Integral, 1, None, closed="left")
    check("n_bins", n_bins, func, bins, fix="pass e.g. n_bins=10")
    check_choice("strategy", strategy, STRATEGIES, func)


def _binary_inputs(
    y_true: Any, p: np.ndarray, pos_label: Any, sample_weight: Any, func: str
) -> tuple[np.ndarray, np.ndarray | None]:
    """Positive-class events and weights for 1-D probabilities of a binary target."""
    check_pos_label(pos_label, func)
    y = labels_1d(y_true, "y_true")
    n = check_consistent_length(y_true=y, y_prob=p)
    w = check_sample_weight(sample_weight, n)
    classes = unique_labels(y)
    if classes.shape[0] > 2:
        raise InvalidInputError(
            f"Only binary classification is supported by a 1-D y_prob. Provided labels "
            f"{classes.tolist()}. To fix: pass the (n_samples, n_classes) probabilities for "
            "a multiclass target, or binarise y_true with pos_label."
        )
    return positive_mask(y, pos_label), w


def _curves(
    y_true: Any,
    y_prob: Any,
    pos_label: Any,
    sample_weight: Any,
    labels: Any,
    multiclass: str,
    func: str,
) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray | None, str]:
    """The (probability, event) pairs to bin, the weights, and the kind of curve."""
    p = proba_array(y_prob, "y_prob")
    if p.ndim == 2 and p.shape[1] == 1:
        p = p[:, 0]
    if p.ndim == 1:
        if labels is not None:
            raise InvalidInputError(
                "labels names the columns of a 2-D y_prob, and y_prob is 1-D. To fix: leave "
                "labels=None, and pass pos_label= to choose the positive class."
            )
        hits, w = _binary_inputs(y_true, p, pos_label, sample_weight, func)
        return [(p, hits)], w, "binary"
    if pos_label is not None:
        raise InvalidInputError(
            f"pos_label={pos_label!r} only applies to a 1-D y_prob; y_prob has {p.shape[1]} "
            "columns, one per class. To fix: leave pos_label=None."
        )
    targets = validate_multiclass_proba(y_true, p, sample_weight, labels)
    w = None if targets.sample_weight is None else targets.sample_weight.astype(np.float64)
    if multiclass == "top_label":
        top = np.argmax(p, axis=1)  # ties go to the lowest index
        return [(p[np.arange(p.shape[0]), top], top == targets.codes)], w, "top_label"
    columns = [(np.ascontiguousarray(p[:, k]), targets.codes == k) for k in range(p.shape[1])]
    return columns, w, "classwise"


# --------------------------------------------------------------------------- public API


def calibration_curve(
    y_true: Any,
    y_prob: Any,
    *,
    pos_label: int | float | bool | str | None = None,
    n_bins: int = 5,
    strategy: str = "uniform",
) -> tuple[np.ndarray, np.ndarray]:
    """True and predicted probabilities for a calibration curve (scikit-learn's function).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels of a binary target.
    y_prob : array-like of shape (n_samples,)
        Probabilities of the positive class, in [0, 1].
    pos_label : int, float, bool or str, default=None
        The positive class; needed unless the labels are {0, 1} or {-1, 1}.
    n_bins : int, default=5
        Number of bins. Empty bins are left out of the result.
    strategy : {'uniform', 'quantile'}, default='uniform'
        'uniform': equal-width bins on [0, 1]; 'quantile': bins with equal numbers of samples.

    Returns
    -------
    prob_true : ndarray of shape (n_bins,) or smaller
        Fraction of positives in each non-empty bin.
    prob_pred : ndarray of shape (n_bins,) or smaller
        Mean predicted probability in each non-empty bin.
    """
    func = "calibration_curve"
    _check_binning(n_bins, strategy, func)
    p = proba_array(y_prob, "y_prob")
    if p.ndim == 2 and p.shape[1] == 1:
        p = p[:, 0]
    if p.ndim != 1:
        raise InvalidInputError(
            f"y_prob must be 1-D (the positive class's probability), got shape {p.shape}. "
            "To fix: pass proba[:, 1], or use reliability_diagram for multiclass."
        )
    hits, _ = _binary_inputs(y_true, p, pos_label, None, func)
    bins = bin_statistics(p, hits, None, n_bins, strategy)
    full = bins.weight != 0
    return bins.hits[full] / bins.weight[full], bins.prob[full] / bins.weight[full]


def expected_calibration_error(
    y_true: Any,
    y_prob: Any,
    *,
    n_bins: int = 10,
    strategy: str = "uniform",
    multiclass: str = "top_label",
    pos_label: Any = None,
    sample_weight: Any = None,
    labels: Any = None,
) -> float:
    """Expected calibration error: the bin-weighted mean gap between confidence and accuracy.

    0 for perfectly calibrated probabilities (within bins); a model whose 0.8 predictions are
    right 70% of the time contributes a gap of 0.1 for those rows. Report it with log loss or
    the Brier score: a constant prediction of the base rate has ECE 0 but is useless.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_prob : array-like of shape (n_samples,) or (n_samples, n_classes)
        1-D: the positive class's probability (binary target). 2-D: class probabilities,
        rows summing to one, columns in sorted label order (or ``labels``).
    n_bins : int, default=10
        Number of bins.
    strategy : {'uniform', 'quantile'}, default='uniform'
        Bin edges, as in ``calibration_curve``.
    multiclass : {'top_label', 'classwise'}, default='top_label'
        2-D only: 'top_label' bins the highest probability against whether its class is right;
        'classwise' averages over the classes the ECE of each class's column.
    pos_label : int, float, bool or str, default=None
        1-D only: the positive class (needed unless the labels are {0, 1} or {-1, 1}).
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights (the bins' weights; quantile edges stay unweighted).
    labels : array-like of shape (n_classes,), default=None
        2-D only: the classes of the columns.

    Returns
    -------
    float
        The ECE, in [0, 1].
    """
    return _calibration_errors(
        y_true, y_prob, n_bins, strategy, multiclass, pos_label, sample_weight, labels, "ece"
    )[0]


def max_calibration_error(
    y_true: Any,
    y_prob: Any,
    *,
    n_bins: int = 10,
    strategy: str = "uniform",
    multiclass: str = "top_label",
    pos_label: Any = None,
    sample_weight: Any = None,
    labels: Any = None,
) -> float:
    """Maximum calibration error: the largest gap of a non-empty bin (worst-case ECE).

    Parameters are those of ``expected_calibration_error``; with ``multiclass='classwise'``
    it is the largest gap over every class and bin.

    Returns
    -------
    float
        The MCE, in [0, 1].
    """
    return _calibration_errors(
        y_true, y_prob, n_bins, strategy, multiclass, pos_label, sample_weight, labels, "mce"
    )[1]


def _calibration_errors(
    y_true: Any,
    y_prob: Any,
    n_bins: Any,
    strategy: Any,
    multiclass: Any,
    pos_label: Any,
    sample_weight: Any,
    labels: Any,
    which: str,
) -> tuple[float, float]:
    """(ECE, MCE), the ECE averaged and the MCE maximised over the curves (classwise)."""
    func = "expected_calibration_error" if which == "ece" else "max_calibration_error"
    _check_binning(n_bins, strategy, func)
    check_choice("multiclass", multiclass, MULTICLASS, func)
    curves, w, _ = _curves(y_true, y_prob, pos_label, sample_weight, labels, multiclass, func)
    bins = [bin_statistics(p, hits, w, n_bins, strategy) for p, hits in curves]
    return float(np.mean([b.ece() for b in bins])), max(b.mce() for b in bins)


def reliability_diagram(
    y_true: Any,
    y_prob: Any,
    *,
    n_bins: int = 10,
    strategy: str = "uniform",
    pos_label: Any = None,
    sample_weight: Any = None,
    labels: Any = None,
) -> ReliabilityDiagram:
    """The data a reliability diagram plots: per bin, mean predicted vs observed frequency.

    Every bin is listed, empty ones with a count of 0 and NaN means, so a plot can show where
    the model never predicts. 1-D probabilities give the positive class's diagram; 2-D give
    the top-label (confidence vs accuracy) diagram. For one class of a multiclass model, pass
    ``y_true == k`` and ``y_prob[:, k]``.

    Parameters
    ----------
    y_true, y_prob, n_bins, strategy, pos_label, sample_weight, labels
        As in ``expected_calibration_error``.

    Returns
    -------
    ReliabilityDiagram
        ``edges``, ``mean_predicted``, ``observed``, ``counts``, and the ECE and MCE.
    """
    func = "reliability_diagram"
    _check_binning(n_bins, strategy, func)
    curves, w, kind = _curves(y_true, y_prob, pos_label, sample_weight, labels, "top_label", func)
    ((p, hits),) = curves
    bins = bin_statistics(p, hits, w, n_bins, strategy)
    full = bins.weight > 0
    mean_predicted = np.full(n_bins, np.nan)
    observed = np.full(n_bins, np.nan)
    mean_predicted[full] = bins.prob[full] / bins.weight[full]
    observed[full] = bins.hits[full] / bins.weight[full]
    return ReliabilityDiagram(
        bins.edges, mean_predicted, observed, bins.weight, bins.ece(), bins.mce(), strategy, kind
    )
