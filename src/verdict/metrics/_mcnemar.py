"""McNemar's test: do two classifiers make errors at different rates on the same rows?

Only the rows where exactly one model is right carry information: ``b`` rows where model a is
right and b wrong, ``c`` where b is right and a wrong. Under the null hypothesis each such row is
a fair coin, so ``b ~ Binomial(b + c, 1/2)``. With few discordant rows the exact binomial test is
used; otherwise the chi-square statistic ``(|b - c| - 1)**2 / (b + c)`` (Edwards' continuity
correction) with one degree of freedom.

Agrees with ``statsmodels.stats.contingency_tables.mcnemar`` on the table ``[[., b], [c, .]]``,
except that the continuity correction never makes ``|b - c| - 1`` negative: with ``b == c`` the
statistic is 0 and p = 1 (as in R's ``mcnemar.test``), where statsmodels reports 1 / (b + c).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

from verdict._results import Result
from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.metrics._sklearn_checks import check_consistent_length
from verdict.metrics._validation import check_flag, labels_1d

# statsmodels' guidance: the exact test when there are fewer discordant pairs than this.
EXACT_BELOW = 25


@dataclass(frozen=True, slots=True)
class McNemarResult(Result):
    """McNemar's test of two classifiers' error rates on the same rows.

    Attributes
    ----------
    statistic : float
        Exact test: ``min(b, c)``. Chi-square test: ``(|b - c| - 1)**2 / (b + c)`` with the
        continuity correction (without: ``(b - c)**2 / (b + c)``). 0 when ``b + c == 0``.
    p_value : float
        Two-sided p-value of "both models have the same error rate"; 1 when no row is
        discordant.
    b : int
        Rows where model a is right and model b is wrong.
    c : int
        Rows where model a is wrong and model b is right.
    method : str
        'exact' (binomial), 'chi2-corrected' or 'chi2'.
    accuracy_a, accuracy_b : float
        The two accuracies; their difference is ``(b - c) / n_samples``.
    """

    statistic: float
    p_value: float
    b: int
    c: int
    method: str
    accuracy_a: float
    accuracy_b: float


def mcnemar_test(
    y_true: Any,
    pred_a: Any,
    pred_b: Any,
    *,
    exact: bool | str = "auto",
    correction: bool = True,
) -> McNemarResult:
    """McNemar's test: do models a and b have different accuracies on the same rows?

    Paired data need a paired test: comparing two accuracies as if they came from independent
    samples ignores that both models saw the same rows, and is badly miscalibrated.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels (binary or multiclass).
    pred_a, pred_b : array-like of shape (n_samples,)
        The two models' predicted labels for the same rows.
    exact : bool or 'auto', default='auto'
        True: the exact binomial test. False: the chi-square approximation. 'auto': exact when
        there are fewer than 25 discordant rows (``b + c < 25``), where the approximation is
        poor.
    correction : bool, default=True
        Apply the continuity correction to the chi-square statistic (ignored by the exact
        test).

    Returns
    -------
    McNemarResult
        ``statistic``, ``p_value``, ``b``, ``c``, ``method`` and the two accuracies. With no
        discordant row the models cannot be told apart: statistic 0, p-value 1.

    Examples
    --------
    >>> r = mcnemar_test([0, 1, 1, 0, 1, 1], [0, 1, 1, 0, 1, 1], [1, 1, 0, 0, 0, 1])
    >>> r.b, r.c, r.method, r.p_value
    (3, 0, 'exact', 0.25)
    """
    func = "mcnemar_test"
    check_flag("exact", exact, func, ("auto",))
    check_flag("correction", correction, func)
    right_a, right_b = correct_predictions(y_true, pred_a, pred_b)
    b = int(np.count_nonzero(right_a & ~right_b))
    c = int(np.count_nonzero(right_b & ~right_a))
    use_exact = (b + c < EXACT_BELOW) if isinstance(exact, str) else bool(exact)
    statistic, p_value, method = mcnemar_from_counts(b, c, use_exact, bool(correction))
    n = right_a.shape[0]
    accuracy_a = float(np.count_nonzero(right_a) / n)
    accuracy_b = float(np.count_nonzero(right_b) / n)
    return McNemarResult(statistic, p_value, b, c, method, accuracy_a, accuracy_b)


def correct_predictions(y_true: Any, pred_a: Any, pred_b: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate the labels; return where each model is right."""
    y = labels_1d(y_true, "y_true")
    return predictions_right(y, pred_a, "pred_a"), predictions_right(y, pred_b, "pred_b")


def predictions_right(y: np.ndarray, pred: Any, name: str) -> np.ndarray:
    """Where the predicted labels ``pred`` equal the validated labels ``y``."""
    p = labels_1d(pred, name)
    check_consistent_length(y_true=y, **{name: p})
    if (y.dtype.kind in "US") != (p.dtype.kind in "US"):
        raise InvalidInputError(
            f"y_true and {name} mix string and number labels, so no prediction could match "
            f"(y_true is {y.dtype}, {name} is {p.dtype}). To fix: use one type of label."
        )
    return np.asarray(y == p, dtype=bool)


def mcnemar_from_counts(b: int, c: int, exact: bool, correction: bool) -> tuple[float, float, str]:
    """(statistic, two-sided p-value, method) from the discordant counts."""
    if b < 0 or c < 0:
        raise InvalidParameterError(f"Discordant counts must be >= 0, got b={b}, c={c}.")
    if exact:
        low = min(b, c)
        p_value = 1.0 if b + c == 0 else min(1.0, 2 * float(stats.binom.cdf(low, b + c, 0.5)))
        return float(low), p_value, "exact"
    method = "chi2-corrected" if correction else "chi2"
    if b + c == 0:
        return 0.0, 1.0, method
    gap = max(abs(b - c) - (1 if correction else 0), 0)
    statistic = gap * gap / (b + c)
    return statistic, float(special.chdtrc(1, statistic)), method
