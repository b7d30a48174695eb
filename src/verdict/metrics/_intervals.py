"""Confidence intervals: the result records, analytic intervals for proportions, and the
percentile and BCa intervals of a bootstrap distribution.

A proportion (accuracy, precision, recall, specificity) is a binomial count over a known number
of trials, so it has exact or near-exact analytic intervals that need no resampling and behave
better than the bootstrap near 0 and 1: Wilson's score interval (the default) and the
Clopper-Pearson "exact" interval (conservative). Everything else gets its interval from a
bootstrap distribution, by percentiles or by Efron's bias-corrected and accelerated (BCa) rule.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from scipy import special, stats

from verdict import errors
from verdict._params import Interval, check
from verdict._results import Result
from verdict.errors import InvalidInputError
from verdict.metrics._validation import check_choice

ANALYTIC_METHODS = ("wilson", "clopper-pearson")
BOOTSTRAP_METHODS = ("percentile", "bca")


@dataclass(frozen=True, slots=True)
class ConfidenceInterval(Result):
    """A metric's estimate and its confidence interval.

    Attributes
    ----------
    metric : str
        The metric's name (``'proportion'`` for ``proportion_ci``, the callable's name for a
        custom metric).
    estimate : float
        The metric on the data as given.
    low, high : float
        The interval's bounds.
    confidence : float
        The nominal coverage, e.g. 0.95.
    method : str
        'percentile' or 'bca' (bootstrap), 'wilson' or 'clopper-pearson' (analytic).
    n_resamples : int
        Bootstrap resamples drawn (0 for an analytic interval).
    n_degenerate : int
        Resamples on which the metric was undefined (for example a class missing from the
        resample); they are left out of the interval and reported here.
    distribution : ndarray or None
        The metric on every resample (NaN on degenerate ones), when it was asked for.
    """

    _hidden: ClassVar[tuple[str, ...]] = ("distribution",)

    metric: str
    estimate: float
    low: float
    high: float
    confidence: float
    method: str
    n_resamples: int
    n_degenerate: int = 0
    distribution: np.ndarray | None = None

    @property
    def width(self) -> float:
        """``high - low``."""
        return self.high - self.low


@dataclass(frozen=True, slots=True)
class PairedInterval(Result):
    """The difference ``a - b`` of one metric for two models scored on the same rows.

    Both models are evaluated on the same resampled rows, so the interval of the difference
    accounts for their correlation (it is usually much narrower than the two separate intervals
    suggest). ``share_a_higher`` and ``share_b_higher`` are the shares of the (non-degenerate)
    resamples on which a's metric is greater, respectively smaller, than b's; for a loss
    (log loss, Brier score, Hamming loss) lower is better.
    """

    _hidden: ClassVar[tuple[str, ...]] = ("distribution",)

    metric: str
    estimate_a: float
    estimate_b: float
    difference: float
    low: float
    high: float
    confidence: float
    method: str
    n_resamples: int
    n_degenerate: int
    share_a_higher: float
    share_b_higher: float
    distribution: np.ndarray | None = None


# --------------------------------------------------------------------------- parameters


def check_confidence(confidence: Any, func: str) -> float:
    """A confidence level strictly between 0 and 1."""
    level = Interval(Real, 0, 1, closed="neither")
    return float(check("confidence", confidence, func, level, fix="pass e.g. confidence=0.95"))


def _count(value: Any, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Integral, Real)):
        raise InvalidInputError(
            f"{name} must be a whole number, got {value!r}. To fix: pass a count."
        )
    if not (math.isfinite(float(value)) and float(value) == int(value)):
        raise InvalidInputError(
            f"{name} must be a whole number, got {value!r}. To fix: pass a count."
        )
    return int(value)


# --------------------------------------------------------------------------- proportions


def proportion_ci(
    successes: int, trials: int, *, confidence: float = 0.95, method: str = "wilson"
) -> ConfidenceInterval:
    """Confidence interval of a binomial proportion ``successes / trials``.

    Accuracy is correct predictions over samples, precision true positives over predicted
    positives, recall true positives over actual positives, specificity true negatives over
    actual negatives: each is a proportion, with an analytic interval that needs no resampling.

    Parameters
    ----------
    successes : int
        Number of successes, ``0 <= successes <= trials``.
    trials : int
        Number of trials, at least 1.
    confidence : float, default=0.95
        Nominal coverage of the interval.
    method : {'wilson', 'clopper-pearson'}, default='wilson'
        'wilson': the score interval, whose coverage stays close to nominal even for small
        samples and proportions near 0 or 1 (the normal "Wald" interval does not).
        'clopper-pearson': the exact interval from beta quantiles; it guarantees at least the
        nominal coverage and is therefore wider.

    Returns
    -------
    ConfidenceInterval
        ``metric='proportion'``, ``n_resamples=0``.

    Examples
    --------
    >>> proportion_ci(45, 50).low  # doctest: +ELLIPSIS
    0.786...
    """
    func = "proportion_ci"
    check_choice("method", method, ANALYTIC_METHODS, func)
    level = check_confidence(confidence, func)
    x, n = _count(successes, "successes"), _count(trials, "trials")
    if n < 1:
        raise InvalidInputError(
            f"trials must be at least 1, got {n}. To fix: pass the number of trials."
        )
    if not 0 <= x <= n:
        raise InvalidInputError(
            f"successes must lie between 0 and trials={n}, got {x}. To fix: pass the number "
            "of successes among the trials."
        )
    low, high = proportion_bounds(x, n, level, method)
    return ConfidenceInterval("proportion", x / n, low, high, level, method, 0)


def proportion_bounds(x: int, n: int, confidence: float, method: str) -> tuple[float, float]:
    """Bounds of the Wilson or Clopper-Pearson interval (no validation)."""
    alpha = 1.0 - confidence
    if method == "clopper-pearson":
        low = 0.0 if x == 0 else float(stats.beta.ppf(alpha / 2, x, n - x + 1))
        high = 1.0 if x == n else float(stats.beta.ppf(1 - alpha / 2, x + 1, n - x))
        return low, high
    z = float(special.ndtri(1 - alpha / 2))
    p = x / n
    denominator = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    low = 0.0 if x == 0 else max(0.0, center - half)  # exact at the ends (no rounding residue)
    high = 1.0 if x == n else min(1.0, center + half)
    return low, high


# --------------------------------------------------------------------------- bootstrap bounds


def percentile_bounds(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """The central ``confidence`` range of the resampled values (linear interpolation)."""
    alpha = 1.0 - confidence
    low, high = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def bca_bounds(
    values: np.ndarray,
    estimate: float,
    jackknife: np.ndarray,
    multiplicity: np.ndarray,
    confidence: float,
    metric: str,
    stacklevel: int = 2,
) -> tuple[float, float]:
    """Efron's bias-corrected and accelerated interval.

    The bias correction ``z0`` counts ties with the estimate as half below (the resampled
    values of count metrics are discrete, and ties are common); the acceleration comes from
    the jackknife values, each standing for ``multiplicity`` deleted rows. Its warnings point
    ``stacklevel`` frames up (the bootstrap passes its user's frame).
    """
    n = values.shape[0]
    below = np.count_nonzero(values < estimate) + 0.5 * np.count_nonzero(values == estimate)
    share = below / n
    if share <= 0 or share >= 1:
        warnings.warn(
            f"{metric}: the estimate {estimate:.6g} lies outside the range of the resampled "
            "values, so the BCa bias correction is infinite; it is capped at the most extreme "
            "value the resamples can express. To fix: prefer method='percentile' here, or "
            "draw more resamples.",
            errors.UndefinedMetricWarning,
            stacklevel=stacklevel,
        )
        share = min(max(share, 0.5 / n), 1 - 0.5 / n)
    z0 = float(special.ndtri(share))
    accel = acceleration(jackknife, multiplicity)
    alpha = 1.0 - confidence
    levels = []
    for z_alpha in (special.ndtri(alpha / 2), special.ndtri(1 - alpha / 2)):
        shifted = z0 + z_alpha
        denominator = 1 - accel * shifted
        if denominator <= 0:  # acceleration so large that the formula folds over
            warnings.warn(
                f"{metric}: the BCa acceleration ({accel:.3g}) is too large for this "
                "confidence level; the percentile interval is used instead.",
                errors.UndefinedMetricWarning,
                stacklevel=stacklevel,
            )
            return percentile_bounds(values, confidence)
        levels.append(float(special.ndtr(z0 + shifted / denominator)))
    low, high = np.quantile(values, levels)
    return float(low), float(high)


def acceleration(jackknife: np.ndarray, multiplicity: np.ndarray) -> float:
    """BCa acceleration ``sum d^3 / (6 (sum d^2)^1.5)`` from jackknife values (NaN skipped)."""
    ok = ~np.isnan(jackknife)
    values, weights = jackknife[ok], multiplicity[ok].astype(np.float64)
    if values.shape[0] < 2 or weights.sum() == 0:
        return 0.0
    d = np.average(values, weights=weights) - values
    spread = float(np.dot(weights, d * d))
    if spread == 0:
        return 0.0
    return float(np.dot(weights, d * d * d) / (6.0 * spread**1.5))
