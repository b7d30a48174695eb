"""Robust outlier clipping and the small encoders the preprocessor needs.

Each is a scikit-learn transformer whose statistics are learned in ``fit`` only, so inside a
cross-validation fold they see the training rows of that fold and nothing else.
"""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from verdict._params import Interval, check
from verdict.data import TRUE_WORDS, level_words


class OutlierClipper(TransformerMixin, BaseEstimator):
    """Clip each numeric column to Tukey fences ``[Q1 - k IQR, Q3 + k IQR]`` learned in fit.

    Extreme values (typing errors, sensor glitches) pull linear models, SVMs and networks
    around; clipping them to fences estimated from the quartiles is robust because the
    quartiles themselves ignore the outliers. ``k=3`` (Tukey's "far out") leaves ordinary
    heavy tails alone. A column whose IQR is zero (mostly one value, such as pixel counts
    that are usually 0) is left unclipped: its fences would flatten every informative value.
    Missing values stay missing, for the imputer that follows.

    Parameters
    ----------
    factor : float, default=3.0
        The IQR multiple ``k`` of the fences; larger clips less.

    Attributes
    ----------
    lower_, upper_ : ndarray of shape (n_features,)
        The fences (``-inf``/``inf`` where a column is not clipped).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` had string column names.
    """

    def __init__(self, factor: float = 3.0) -> None:
        self.factor = factor

    def fit(self, X: Any, y: Any = None) -> OutlierClipper:
        """Learn the fences from the quartiles of each column (missing values ignored)."""
        fence = Interval(Real, 0, None, closed="neither")
        fix = "pass e.g. factor=3.0 (or disable clipping)"
        check("factor", self.factor, "OutlierClipper", fence, fix=fix)
        X = validate_data(self, X, dtype=float, ensure_all_finite="allow-nan")
        q1, q3 = _quartiles(X)
        iqr = q3 - q1
        clip = np.isfinite(iqr) & (iqr > 0)
        self.lower_ = np.where(clip, q1 - self.factor * iqr, -np.inf)
        self.upper_ = np.where(clip, q3 + self.factor * iqr, np.inf)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """The values clipped to the fences."""
        check_is_fitted(self, "lower_")
        X = validate_data(self, X, dtype=float, ensure_all_finite="allow-nan", reset=False)
        return np.clip(X, self.lower_, self.upper_)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The input names, unchanged."""
        return _names_in(self, input_features)


OutlierClipper.__module__ = "verdict.pipeline"  # artifacts name the public path


def _quartiles(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if X.shape[0] == 0 or np.isnan(X).all(axis=0).any():
        filled = np.where(np.isnan(X).all(axis=0), 0.0, np.nan)
        X = np.vstack([X, filled]) if X.shape[0] else filled[None, :]
    q1, q3 = np.nanpercentile(X, [25, 75], axis=0)
    return q1, q3


class BooleanEncoder(TransformerMixin, BaseEstimator):
    """Booleans as 0/1 floats: True, 1 and the words true/yes/y/t (any case) are 1.

    Any other value seen in fit is 0; missing values, and values not seen in fit, become NaN
    for the imputer that follows.

    Attributes
    ----------
    values_ : list of set
        The values seen in fit, per column.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
    """

    def fit(self, X: Any, y: Any = None) -> BooleanEncoder:
        """Remember the values of each column."""
        frame = _frame(X)
        self.n_features_in_ = frame.shape[1]
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.values_ = [set(level_words(frame[c]).dropna().tolist()) for c in frame.columns]
        return self

    def transform(self, X: Any) -> np.ndarray:
        """A float array of 0, 1 and NaN."""
        check_is_fitted(self, "values_")
        frame = _frame(X)
        out = np.full(frame.shape, np.nan)
        for j, column in enumerate(frame.columns):
            words = level_words(frame[column])
            known = words.isin(self.values_[j]).to_numpy()
            out[known, j] = words[known].isin(TRUE_WORDS).to_numpy(dtype=float)
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The input names, unchanged."""
        return _names_in(self, input_features)


BooleanEncoder.__module__ = "verdict.pipeline"  # artifacts name the public path


class CategoryText(TransformerMixin, BaseEstimator):
    """Category values as strings, missing values as the level ``'missing'``.

    One spelling per value whatever the column's dtype at predict time (``3``, ``3.0`` and
    ``'3'`` are the same level), so the one-hot encoder that follows never sees a known level
    as unknown because a missing value turned an integer column into floats.
    """

    def fit(self, X: Any, y: Any = None) -> CategoryText:
        """Record the input columns."""
        frame = _frame(X)
        self.n_features_in_ = frame.shape[1]
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """An object array of strings."""
        check_is_fitted(self, "n_features_in_")
        frame = _frame(X)
        columns = [level_words(frame[c]).fillna("missing") for c in frame]
        return np.column_stack([c.to_numpy(dtype=object) for c in columns])

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The input names, unchanged."""
        return _names_in(self, input_features)


CategoryText.__module__ = "verdict.pipeline"  # artifacts name the public path


def _frame(X: Any) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    array = np.asarray(X, dtype=object)
    return pd.DataFrame(array.reshape(len(array), -1))


def _names_in(est: Any, input_features: Any) -> np.ndarray:
    if input_features is not None:
        return np.asarray(input_features, dtype=object)
    names = getattr(est, "feature_names_in_", None)
    if names is None:
        names = [f"x{i}" for i in range(est.n_features_in_)]
    return np.asarray(names, dtype=object)
