"""Drift statistics between a reference sample and a current one: PSI, KS, chi-squared, JS.

Each is a pure function ``(reference, current) -> value`` in the manner of Evidently's drift
tests; :data:`DRIFT_TESTS` describes the two that decide alarms (the column kinds they apply to
and the usual fixed threshold, which :class:`~verdict.monitoring.DriftDetector` replaces with a
calibrated one).

Inputs are 1-D: lists, numpy arrays or pandas Series. Numbers (and datetimes, as nanoseconds)
are *numeric*; strings, booleans, pandas categoricals and mixed objects are *categorical*.
Missing values (None, NaN, NaT) are handled this way:

* numeric: dropped before the statistic; all-missing input is an error (the missing share is
  the caller's to track, as the drift detector does);
* categorical: one more category, ``MISSING``, so a change in the missing share is drift.

All functions compare count vectors built by the same private kernels the drift detector uses,
so there is one implementation of each formula.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from verdict._params import Interval, StrOptions, check
from verdict._results import Result
from verdict.errors import InvalidInputError

BINNINGS = ("quantile", "uniform")
MISSING = "<missing>"  # the category that missing values of a categorical input fall into


@dataclass(frozen=True, slots=True)
class DriftTest:
    """What a drift test applies to: its name, the column kinds, and the usual fixed threshold."""

    name: str
    kinds: tuple[str, ...]
    statistic: str
    default_threshold: float


DRIFT_TESTS = {
    "ks": DriftTest("ks", ("numeric", "datetime"), "Kolmogorov-Smirnov D", 0.05),
    "chi2": DriftTest("chi2", ("categorical", "boolean"), "chi-squared of homogeneity", 0.05),
}


@dataclass(frozen=True, slots=True)
class KSResult(Result):
    """The two-sample Kolmogorov-Smirnov test, as ``scipy.stats.ks_2samp`` gives it.

    Attributes
    ----------
    statistic : float
        The largest distance between the two empirical distribution functions.
    p_value : float
        The two-sided p-value (scipy's ``method='auto'``: exact for small samples).
    """

    statistic: float
    p_value: float


@dataclass(frozen=True, slots=True)
class Chi2Result(Result):
    """The chi-squared test of homogeneity of two samples' category counts.

    Attributes
    ----------
    statistic : float
        Pearson's statistic of the 2 x K table (reference and current by category).
    p_value : float
        The upper tail of the chi-squared distribution with ``dof`` degrees of freedom.
    dof : int
        ``K - 1``, K the number of categories in the union of both samples.
    """

    statistic: float
    p_value: float
    dof: int


def psi(
    reference: Any,
    current: Any,
    *,
    bins: int = 10,
    binning: str = "quantile",
    eps: float = 1e-4,
) -> float:
    """Population stability index of ``current`` against ``reference``.

    ``PSI = sum_b (a_b - e_b) * ln(a_b / e_b)``, with ``e_b`` and ``a_b`` the shares of the
    reference and current values in bin ``b``; a share of zero is replaced by ``eps``.

    Parameters
    ----------
    reference, current : array-like, 1-D
        The two samples, both numeric or both categorical (see the module docstring).
    bins : int, default 10
        Numeric inputs: the number of bins before duplicate edges are merged.
    binning : {'quantile', 'uniform'}, default 'quantile'
        'quantile' takes the interior edges ``np.quantile(reference, np.arange(1, bins) / bins)``
        (deciles by default); 'uniform' takes equal-width interior edges over the reference's
        range.
        Either way duplicate edges are merged, bins are closed on the left, and the outer bins
        are open (values beyond the reference range fall into them). Categorical inputs get one
        bin per category of the union (missing values are a category) and ignore both options.
    eps : float, default 1e-4
        The share used in place of zero.

    Returns
    -------
    float
        0 for identical distributions; 0.1 and 0.25 are the customary "some" and "major" shift
        cut-offs, though for small samples they fire on unchanged data (the drift detector
        calibrates instead).

    Raises
    ------
    InvalidInputError
        If an input is not 1-D, is empty or all missing (numeric), or the kinds differ.
    InvalidParameterError
        If ``bins < 2``, ``binning`` is unknown or ``eps`` is not in (0, 1).
    """
    _check_psi_params(bins, binning, eps, "psi")
    ref, cur, numeric = _pair(reference, current, "psi")
    if numeric:
        edges = bin_edges(ref, bins, binning)
        r_counts, c_counts = bin_counts(ref, edges), bin_counts(cur, edges)
    else:
        r_counts, c_counts = category_counts(ref, cur)
    return psi_from_counts(r_counts, c_counts, eps)


def ks_test(reference: Any, current: Any) -> KSResult:
    """Two-sample Kolmogorov-Smirnov test; equal to ``scipy.stats.ks_2samp`` with its defaults.

    Parameters
    ----------
    reference, current : array-like, 1-D
        Numeric (or datetime) samples; missing values are dropped.

    Returns
    -------
    KSResult
        ``statistic`` (the largest ECDF distance) and the two-sided ``p_value``.

    Raises
    ------
    InvalidInputError
        If an input is not 1-D, empty, all missing, or not numeric.
    """
    ref, cur, numeric = _pair(reference, current, "ks_test")
    if not numeric:
        raise InvalidInputError(
            "ks_test needs numeric samples, got categorical values. "
            "To fix: use chi2_test for categories."
        )
    res = stats.ks_2samp(ref, cur)
    return KSResult(statistic=float(res.statistic), p_value=float(res.pvalue))


def chi2_test(reference: Any, current: Any) -> Chi2Result:
    """Chi-squared test that two samples come from one categorical distribution.

    The counts of both samples over the categories of their union form a 2 x K table, and the
    expected counts come from the pooled shares (``scipy.stats.chi2_contingency`` with
    ``correction=False`` gives the same). A category seen only in ``current`` therefore adds
    a finite amount that grows with its count, rather than making the statistic infinite as a
    goodness-of-fit test against the reference shares would: one stray new value is a small
    change, a new category on a tenth of the rows a large one. Values are compared as they are
    (numbers too); missing values form their own category.

    Parameters
    ----------
    reference, current : array-like, 1-D
        The two samples.

    Returns
    -------
    Chi2Result
        ``statistic``, ``p_value`` and ``dof`` (0, with statistic 0 and p-value 1, when both
        samples hold one and the same single category).

    Raises
    ------
    InvalidInputError
        If an input is not 1-D or is empty.
    """
    ref = _categories(_as_1d(reference, "reference", "chi2_test"))
    cur = _categories(_as_1d(current, "current", "chi2_test"))
    r_counts, c_counts = category_counts(ref, cur)
    stat = float(chi2_from_counts(r_counts[None, :], c_counts[None, :])[0])
    dof = r_counts.size - 1
    p_value = float(stats.chi2.sf(stat, dof)) if dof > 0 else 1.0
    return Chi2Result(statistic=stat, p_value=p_value, dof=dof)


def jensen_shannon(reference: Any, current: Any, *, base: float = 2, bins: int = 10) -> float:
    """Jensen-Shannon divergence between the two samples' distributions.

    The divergence itself, ``(KL(p||m) + KL(q||m)) / 2`` with ``m = (p + q) / 2``; it equals
    the square of ``scipy.spatial.distance.jensenshannon`` (which returns the distance, the
    square root). With ``base=2`` it lies in [0, 1].

    Parameters
    ----------
    reference, current : array-like, 1-D
        Categorical samples (one category per value of the union, missing values included), or
        numeric ones, binned on ``bins`` reference quantiles as :func:`psi` does.
    base : float, default 2
        The logarithm's base.
    bins : int, default 10
        Numeric inputs only: the number of quantile bins.

    Returns
    -------
    float

    Raises
    ------
    InvalidInputError
        As :func:`psi`.
    InvalidParameterError
        If ``base <= 1`` or ``bins < 2``.
    """
    above_one = Interval(Real, 1, None, closed="right")  # inf included, as it always was
    check("base", base, "jensen_shannon", above_one, fix="pass e.g. base=2")
    _check_psi_params(bins, "quantile", 1e-4, "jensen_shannon")
    ref, cur, numeric = _pair(reference, current, "jensen_shannon")
    if numeric:
        edges = bin_edges(ref, bins, "quantile")
        r_counts, c_counts = bin_counts(ref, edges), bin_counts(cur, edges)
    else:
        r_counts, c_counts = category_counts(ref, cur)
    return js_from_counts(r_counts, c_counts, float(base))


# ---- kernels on count vectors (shared with the drift detector) ----------------------------


def psi_from_counts(r_counts: np.ndarray, c_counts: np.ndarray, eps: float) -> float:
    """PSI of two count vectors over the same bins."""
    e = r_counts / r_counts.sum()
    a = c_counts / c_counts.sum()
    e = np.where(e == 0, eps, e)
    a = np.where(a == 0, eps, a)
    return float(np.sum((a - e) * np.log(a / e)))


def js_from_counts(r_counts: np.ndarray, c_counts: np.ndarray, base: float = 2.0) -> float:
    """Jensen-Shannon divergence of two count vectors over the same bins."""
    p = r_counts / r_counts.sum()
    q = c_counts / c_counts.sum()
    m = (p + q) / 2
    kl_p = np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1) / m), 0.0))
    kl_q = np.sum(np.where(q > 0, q * np.log(np.where(q > 0, q, 1) / m), 0.0))
    return float(max((kl_p + kl_q) / 2 / np.log(base), 0.0))


def chi2_from_counts(R: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Pearson's homogeneity statistic per row of two (rows, K) count matrices.

    With ``m``, ``n`` the row totals and ``T = R + W`` it is ``sum_k (n R_k - m W_k)^2 /
    (m n T_k)`` over categories with ``T_k > 0``: the 2 x K table's statistic, simplified.
    """
    m = R.sum(axis=1, keepdims=True).astype(float)
    n = W.sum(axis=1, keepdims=True).astype(float)
    T = R + W
    diff = n * R - m * W
    terms = np.where(T > 0, diff * diff / np.where(T > 0, T, 1), 0.0)
    return terms.sum(axis=1) / (m[:, 0] * n[:, 0])


def ks_from_counts(R: np.ndarray, W: np.ndarray) -> np.ndarray:
    """The KS statistic per row of two (rows, K) count matrices over ordered values."""
    m = R.sum(axis=1, keepdims=True)
    n = W.sum(axis=1, keepdims=True)
    return np.abs(np.cumsum(R, axis=1) / m - np.cumsum(W, axis=1) / n).max(axis=1)


def ks_statistic(ref_sorted: np.ndarray, current: np.ndarray) -> float:
    """The KS statistic of a sorted reference and a current sample (scipy's computation)."""
    cur = np.sort(current)
    z = np.concatenate([ref_sorted, cur])
    cdf_r = np.searchsorted(ref_sorted, z, side="right") / ref_sorted.size
    cdf_c = np.searchsorted(cur, z, side="right") / cur.size
    return float(np.abs(cdf_r - cdf_c).max())


def bin_edges(reference: np.ndarray, bins: int, binning: str) -> np.ndarray:
    """The deduplicated interior edges of ``bins`` quantile or equal-width bins."""
    if binning == "quantile":
        edges = np.quantile(reference, np.arange(1, bins) / bins)
    else:
        edges = np.linspace(reference.min(), reference.max(), bins + 1)[1:-1]
    return np.unique(edges)


def bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin; bins closed on the left, the outer two open."""
    return np.bincount(np.searchsorted(edges, values, side="right"), minlength=edges.size + 1)


def category_counts(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts of two samples of categories over the categories of their union."""
    union = pd.Index(pd.unique(np.concatenate([ref, cur])))
    r = np.bincount(union.get_indexer(ref), minlength=len(union))
    c = np.bincount(union.get_indexer(cur), minlength=len(union))
    return r, c


# ---- input checks -------------------------------------------------------------------------


def _check_psi_params(bins: Any, binning: Any, eps: Any, func: str) -> None:
    check("bins", bins, func, Interval(Integral, 2, None, closed="left"), fix="pass e.g. bins=10")
    check("binning", binning, func, StrOptions(*BINNINGS))
    check("eps", eps, func, Interval(Real, 0, 1, closed="neither"), fix="pass e.g. eps=1e-4")


def _as_1d(values: Any, name: str, func: str) -> np.ndarray:
    """A 1-D, non-empty numpy array of the values (pandas objects unwrapped)."""
    if values is None:
        raise InvalidInputError(f"{name} of {func} is None. To fix: pass a 1-D array of values.")
    if isinstance(values, pd.Series | pd.Index):
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            values = values.dt.tz_convert(None) if isinstance(values, pd.Series) else values
        arr = values.to_numpy(dtype=object) if values.dtype == "category" else values.to_numpy()
    else:
        arr = np.asarray(values)
    if arr.ndim != 1:
        raise InvalidInputError(
            f"{name} of {func} must be 1-D, got shape {arr.shape}. To fix: pass one column."
        )
    if arr.size == 0:
        raise InvalidInputError(f"{name} of {func} is empty. To fix: pass at least one value.")
    return arr


def is_numeric(arr: np.ndarray) -> bool:
    """True for numbers and datetimes; booleans, strings and mixed objects are categorical."""
    kind = arr.dtype.kind
    if kind in "iufmM":
        return True
    if kind != "O":
        return False
    present = arr[~pd.isna(arr)]
    return present.size > 0 and all(
        isinstance(v, Real) and not isinstance(v, bool | np.bool_) for v in present
    )


def numeric_values(arr: np.ndarray) -> np.ndarray:
    """Float values, datetimes as nanoseconds, missing as NaN."""
    if arr.dtype.kind in "mM":
        missing = np.isnat(arr)
        out = arr.astype("int64").astype(float)
        out[missing] = np.nan
        return out
    return arr.astype(float)


def _categories(arr: np.ndarray) -> np.ndarray:
    """Object values with every missing value replaced by :data:`MISSING`."""
    out = arr.astype(object)
    out[pd.isna(out)] = MISSING
    return out


def _pair(reference: Any, current: Any, func: str) -> tuple[np.ndarray, np.ndarray, bool]:
    """Both samples cleaned, and whether they are numeric (missing dropped) or categorical."""
    ref = _as_1d(reference, "reference", func)
    cur = _as_1d(current, "current", func)
    numeric = is_numeric(ref), is_numeric(cur)
    if numeric[0] != numeric[1]:
        kinds = ["numeric" if k else "categorical" for k in numeric]
        raise InvalidInputError(
            f"{func} got a {kinds[0]} reference and a {kinds[1]} current sample. "
            "To fix: pass the same column from both tables."
        )
    if not numeric[0]:
        return _categories(ref), _categories(cur), False
    out = []
    for name, arr in (("reference", ref), ("current", cur)):
        vals = numeric_values(arr)
        vals = vals[~np.isnan(vals)]
        if vals.size == 0:
            raise InvalidInputError(
                f"{name} of {func} holds only missing values. "
                "To fix: pass at least one non-missing value."
            )
        out.append(vals)
    return out[0], out[1], True
