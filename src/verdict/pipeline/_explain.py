"""What the chosen model relies on: permutation importance, and SHAP values when installed.

Permutation importance is measured on the held-out test set with the primary metric: shuffling
a feature column breaks its link with the target, and the drop in the metric is what the model
loses without it. It is computed per original column (the pipeline takes the raw table), so a
categorical feature counts once, not once per one-hot column, and it needs no extra package.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.inspection import permutation_importance
from sklearn.pipeline import Pipeline

# Rows of the test set explained by SHAP, and rows of training data used as its background.
SHAP_ROWS = 200
SHAP_BACKGROUND = 100


class Served(ClassifierMixin, BaseEstimator):
    """A fitted ``model`` whose ``predict`` is ``policy``'s decision on its probabilities: the
    class that is served, so that what the importance measures is what users get."""

    def __init__(self, model: Any, policy: Any) -> None:
        self.model = model
        self.policy = policy
        self.classes_ = model.classes_

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def fit(self, X: Any, y: Any) -> Served:
        """Refit the model (scikit-learn's tools require the method; importance never calls
        it)."""
        self.model.fit(X, y)
        self.classes_ = self.model.classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.model.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        return self.policy.served(self.model, X)


def importance(
    model: Pipeline,
    X: pd.DataFrame,
    y: np.ndarray,
    scorer: Callable[..., float],
    *,
    n_repeats: int,
    seed: int,
    n_jobs: Any = None,
    max_samples: float = 1.0,
) -> list[dict[str, Any]]:
    """Mean and std over ``n_repeats`` shuffles of the drop in ``scorer``, per column.

    ``scorer`` is a scikit-learn scorer (higher is better, losses negated), so a positive mean
    always means the feature helps. ``max_samples``: the share of rows each shuffle scores.
    """
    result = permutation_importance(
        model, X, y, scoring=scorer, n_repeats=n_repeats, random_state=seed, n_jobs=n_jobs,
        max_samples=max_samples,
    )  # fmt: skip
    means, stds = result.importances_mean, result.importances_std
    rows = [
        {"feature": str(name), "mean": float(m), "std": float(s)}
        for name, m, s in zip(X.columns, means, stds, strict=True)
    ]
    return sorted(rows, key=lambda r: (-r["mean"], r["feature"]))  # largest first


def shap_available() -> bool:
    """True when the optional ``shap`` package can be imported."""
    return importlib.util.find_spec("shap") is not None


def shap_importance(
    model: Pipeline, X_background: pd.DataFrame, X: pd.DataFrame, *, seed: int
) -> dict[str, float] | None:
    """Mean |SHAP value| per original feature column, or None without ``shap``.

    The final estimator is explained on the preprocessed columns (model-agnostic, from its
    probabilities); each one-hot or indicator column's share is added back to the column it
    came from, so the result lines up with permutation importance. Averaged over classes.
    """
    if not shap_available() or not isinstance(model, Pipeline):
        return None  # an ensemble has no single preprocessed matrix to explain
    import shap

    prep, estimator = model[:-1], model[-1]
    background = _dense(
        prep.transform(
            X_background.sample(min(SHAP_BACKGROUND, len(X_background)), random_state=seed)
        )
    )
    rows = _dense(prep.transform(X.sample(min(SHAP_ROWS, len(X)), random_state=seed)))
    masker = shap.maskers.Independent(background, max_samples=SHAP_BACKGROUND)
    explainer = shap.Explainer(estimator.predict_proba, masker, seed=seed)
    values = np.abs(np.asarray(explainer(rows).values))  # (rows, columns[, classes])
    per_column = values.mean(axis=0)
    if per_column.ndim == 2:
        per_column = per_column.mean(axis=1)
    names = _output_names(prep, background.shape[1])
    return _by_feature(names, per_column, list(X.columns))


def _dense(matrix: Any) -> np.ndarray:
    return np.asarray(matrix.toarray() if hasattr(matrix, "toarray") else matrix, dtype=float)


def _output_names(prep: Any, n: int) -> list[str]:
    try:
        return [str(v) for v in prep.get_feature_names_out()]
    except (AttributeError, ValueError):
        return [f"x{i}" for i in range(n)]


def original_feature(name: str, features: Sequence[str]) -> str | None:
    """The raw column an output column came from (``num__age`` -> ``age``,
    ``cat__island_Biscoe`` -> ``island``, ``missingindicator_age`` -> ``age``): the longest
    feature name that the part after the transformer prefix starts with."""
    tail = name.split("__", 1)[-1]
    for prefix in ("missingindicator_",):
        tail = tail.removeprefix(prefix)
    matches = [f for f in features if tail == f or tail.startswith(f"{f}_")]
    return max(matches, key=len) if matches else None


def _by_feature(names: list[str], values: np.ndarray, features: list[str]) -> dict[str, float]:
    totals = dict.fromkeys(features, 0.0)
    for name, value in zip(names, values, strict=True):
        source = original_feature(name, features)
        if source is not None:
            totals[source] += float(value)
    return dict(sorted(totals.items(), key=lambda kv: -kv[1]))
