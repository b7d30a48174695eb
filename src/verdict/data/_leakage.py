"""How well does one feature alone predict the target? A cheap screen for target leakage.

Each feature gets the leave-one-out balanced accuracy of the simplest model that uses only it:

- few distinct values (categorical, boolean, or numbers with at most ``_MAX_LEVELS`` values):
  predict each row by the majority class among the *other* rows with the same value, read off
  the cross-table of value by class (ties count as wrong);
- many distinct values (numbers, dates): predict each row by the class of its nearest
  neighbour along that feature (1-NN on the sorted values).

Both cost one pass (a bincount, or a sort), and leaving the row out is what keeps an
identifier-like column from scoring perfectly by memorising itself. A genuine feature rarely
separates every class on its own; a copy of the target, or something recorded after the
outcome, does. Missing values count as one more value, so "missing exactly when class B"
is caught too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_MAX_LEVELS = 100


def single_feature_score(values: pd.Series, y_codes: np.ndarray, n_classes: int) -> float:
    """Leave-one-out balanced accuracy of predicting ``y_codes`` from ``values`` alone."""
    ordered = not isinstance(values.dtype, pd.CategoricalDtype) and (
        pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values)
    )
    if not ordered or values.nunique(dropna=False) <= _MAX_LEVELS:
        predicted_right = _crosstab_hits(values, y_codes, n_classes)
    else:
        predicted_right = _neighbour_hits(values, y_codes)
    recall = np.bincount(y_codes, weights=predicted_right, minlength=n_classes)
    support = np.bincount(y_codes, minlength=n_classes)
    return float(np.mean(recall[support > 0] / support[support > 0]))


def _crosstab_hits(values: pd.Series, y_codes: np.ndarray, n_classes: int) -> np.ndarray:
    """Per row: 1.0 if the majority class of the other rows with its value is its class."""
    x_codes, levels = pd.factorize(values, use_na_sentinel=False)
    table = np.bincount(x_codes * n_classes + y_codes, minlength=len(levels) * n_classes).reshape(
        len(levels), n_classes
    )
    ordered = np.sort(table, axis=1)
    top1 = ordered[:, -1:]
    top2 = ordered[:, -2:-1] if n_classes > 1 else np.zeros_like(top1)
    best_other = np.where(table == top1, top2, top1)
    right = (table - 1) > best_other  # leaving the row out, its class must still win outright
    return right[x_codes, y_codes].astype(float)


def _neighbour_hits(values: pd.Series, y_codes: np.ndarray) -> np.ndarray:
    """Per row: 1.0 if its nearest neighbour along the feature has its class."""
    x = _as_float(values)
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], y_codes[order]
    gap = np.diff(xs)
    prev_gap = np.concatenate([[np.inf], gap])
    next_gap = np.concatenate([gap, [np.inf]])
    prev_y = np.concatenate([[-1], ys[:-1]])
    next_y = np.concatenate([ys[1:], [-1]])
    neighbour = np.where(prev_gap <= next_gap, prev_y, next_y)
    hits = np.empty(len(x))
    hits[order] = neighbour == ys
    return hits


def _as_float(values: pd.Series) -> np.ndarray:
    """Numbers or dates as floats; missing (and infinite) values sit just below the smallest."""
    if pd.api.types.is_datetime64_any_dtype(values):
        x = values.array.asi8.astype(float)  # nanoseconds (or the dtype's unit) since 1970
        x[values.isna().to_numpy()] = np.nan
    else:
        x = values.to_numpy(dtype=float, na_value=np.nan, copy=True)
    missing = ~np.isfinite(x)
    if missing.any():
        x[missing] = x[~missing].min() - 1.0 if not missing.all() else 0.0
    return x
