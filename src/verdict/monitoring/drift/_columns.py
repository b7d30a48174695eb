"""The drift detector's per-column state and its vectorised null.

Each reference column is reduced once to integer codes per row: for a KS column the rank of
its value among the reference's distinct values (missing last), for a chi-squared column its
category. A bootstrapped window is then a matrix of row indices, and its counts per code a
single ``bincount``; the KS and chi-squared statistics follow from the count matrices
(``ks_from_counts``, ``chi2_from_counts``), the same kernels that score the observed window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from verdict.monitoring._stats import (
    MISSING,
    bin_counts,
    bin_edges,
    category_counts,
    chi2_from_counts,
    js_from_counts,
    ks_from_counts,
    ks_statistic,
    numeric_values,
    psi_from_counts,
)
from verdict.monitoring._unexpected import NESTED, UNEXPECTED

PSI_BINS = 10
PSI_EPS = 1e-4
_CHUNK_CELLS = 4_000_000  # index-matrix cells per null chunk: bounds memory at ~32 MB


@dataclass(frozen=True, slots=True)
class Observed:
    """A column's statistics on one window."""

    statistic: float
    psi: float
    jensen_shannon: float | None
    missing_share: float
    unseen: tuple[Any, ...]


@dataclass(slots=True)
class Column:
    """What the detector keeps of one reference column."""

    name: str
    kind: str
    test: str  # 'ks' or 'chi2'
    codes: np.ndarray  # per reference row
    n_codes: int
    missing_share: float
    ref_sorted: np.ndarray = field(default_factory=lambda: np.empty(0))  # ks: NaN as +inf
    edges: np.ndarray = field(default_factory=lambda: np.empty(0))  # ks: PSI bin edges
    ref_bins: np.ndarray = field(default_factory=lambda: np.empty(0))  # ks: PSI counts
    categories: pd.Index = field(default_factory=lambda: pd.Index([]))  # chi2
    ref_counts: np.ndarray = field(default_factory=lambda: np.empty(0))  # chi2

    def observe(self, values: np.ndarray) -> Observed:
        """The statistics of a window (values as :func:`column_values` gives them)."""
        if self.test == "ks":
            return self._observe_numeric(values)
        return self._observe_categorical(values)

    def _observe_numeric(self, values: np.ndarray) -> Observed:
        missing = np.isnan(values)
        statistic = ks_statistic(self.ref_sorted, np.where(missing, np.inf, values))
        present = values[~missing]
        psi = np.nan
        if present.size and self.ref_bins.sum():
            psi = psi_from_counts(self.ref_bins, bin_counts(present, self.edges), PSI_EPS)
        return Observed(statistic, psi, None, float(missing.mean()), ())

    def _observe_categorical(self, values: np.ndarray) -> Observed:
        idx = self.categories.get_indexer(values)
        unseen = tuple(pd.unique(values[idx < 0]))
        r_counts = np.concatenate([self.ref_counts, np.zeros(len(unseen), dtype=np.int64)])
        if unseen:
            idx = idx.copy()
            idx[idx < 0] = len(self.categories) + pd.Index(unseen).get_indexer(values[idx < 0])
        c_counts = np.bincount(idx, minlength=r_counts.size)
        statistic = float(chi2_from_counts(r_counts[None, :], c_counts[None, :])[0])
        return Observed(
            statistic,
            psi_from_counts(r_counts, c_counts, PSI_EPS),
            js_from_counts(r_counts, c_counts, 2.0),
            float(np.mean(values == MISSING)),
            unseen,
        )


def column_values(series: pd.Series, test: str, datetime_format: str | None = None) -> np.ndarray:
    """A column as the detector compares it: floats (NaN missing) or categories (MISSING).

    A list, object or set among categories is one category, ``UNEXPECTED`` (it has no level).
    """
    if test == "chi2":
        out = series.to_numpy(dtype=object, copy=True)  # a view of a frame may be read-only
        out[pd.isna(out)] = MISSING
        nested = np.fromiter((isinstance(v, NESTED) for v in out), dtype=bool, count=len(out))
        out[nested] = UNEXPECTED
        return out
    if datetime_format is not None or _is_datetime(series):
        dates = pd.to_datetime(series, format=datetime_format, errors="coerce")
        if isinstance(dates.dtype, pd.DatetimeTZDtype):
            dates = dates.dt.tz_convert(None)
        return numeric_values(dates.to_numpy(dtype="datetime64[ns]"))
    if series.dtype == bool:
        return series.to_numpy(dtype=float)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _is_datetime(series: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(series.dtype)


def build_column(name: str, kind: str, test: str, values: np.ndarray) -> Column:
    """Reduce one reference column to codes (and PSI bins or category counts)."""
    if test == "ks":
        missing = np.isnan(values)
        coded = np.where(missing, np.inf, values)
        distinct, codes = np.unique(coded, return_inverse=True)
        present = values[~missing]
        edges = bin_edges(present, PSI_BINS, "quantile") if present.size else np.empty(0)
        return Column(
            name, kind, test, codes.astype(np.intp), distinct.size, float(missing.mean()),
            ref_sorted=np.sort(coded), edges=edges, ref_bins=bin_counts(present, edges),
        )  # fmt: skip
    categories = pd.Index(pd.unique(values))
    codes = categories.get_indexer(values)
    ref_counts, _ = category_counts(values, values[:0])
    return Column(
        name, kind, test, codes.astype(np.intp), len(categories),
        float(np.mean(values == MISSING)), categories=categories, ref_counts=ref_counts,
    )  # fmt: skip


def null_statistics(columns: list[Column], m: int, n: int, n_null: int, seed: Any) -> np.ndarray:
    """(columns, n_null) statistics of bootstrapped (reference, window) pairs under no drift.

    Each draw resamples a pseudo-reference of ``m`` rows and a pseudo-window of ``n`` rows from
    the reference, so the null holds the sampling noise of both sides, as the observed
    comparison does. Rows are drawn jointly for all columns.
    """
    rng = np.random.default_rng(seed)
    out = np.empty((len(columns), n_null))
    chunk = max(1, min(n_null, _CHUNK_CELLS // (m + n)))
    for start in range(0, n_null, chunk):
        c = min(chunk, n_null - start)
        rows_ref = rng.integers(0, m, size=(c, m))
        rows_win = rng.integers(0, m, size=(c, n))
        for j, col in enumerate(columns):
            R = _row_counts(col.codes[rows_ref], col.n_codes)
            W = _row_counts(col.codes[rows_win], col.n_codes)
            kernel = ks_from_counts if col.test == "ks" else chi2_from_counts
            out[j, start : start + c] = kernel(R, W)
    return out


def _row_counts(codes: np.ndarray, n_codes: int) -> np.ndarray:
    """Counts of each code per row of a (rows, size) code matrix."""
    rows = codes.shape[0]
    flat = (codes + (np.arange(rows) * n_codes)[:, None]).ravel()
    return np.bincount(flat, minlength=rows * n_codes).reshape(rows, n_codes)


def null_p_value(null: np.ndarray, observed: float) -> float:
    """``(1 + #{null >= observed}) / (len(null) + 1)``, ties (to rounding) counted as extreme."""
    hits = np.count_nonzero(null >= observed - 1e-12 * max(1.0, abs(observed)))
    return (1 + hits) / (null.size + 1)


def adjust(p_values: np.ndarray, correction: str) -> np.ndarray:
    """Holm's step-down or Bonferroni's adjusted p-values (capped at 1)."""
    k = p_values.size
    if correction == "bonferroni":
        return np.minimum(p_values * k, 1.0)
    order = np.argsort(p_values, kind="stable")
    stepped = np.maximum.accumulate(p_values[order] * (k - np.arange(k)))
    out = np.empty(k)
    out[order] = np.minimum(stepped, 1.0)
    return out
