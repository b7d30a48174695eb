"""What the softmax and one-vs-rest estimators share: fitting setup, scores, predictions."""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from verdict.errors import InvalidInputError
from verdict.models import _validation as v
from verdict.models._solvers import SolverResult


class LogisticBase(ClassifierMixin, BaseEstimator):
    """Shared machinery of the L2-penalised logistic estimators (not public)."""

    def _prepare(self, X, y, sample_weight):
        """Validate and return ``X`` as float64, the class codes and the per-sample weights.

        The weights include a ``class_weight`` dict; 'balanced' is left to the subclass.
        """
        v.check_params(self)
        X, classes, codes = v.check_training_data(self, X, y)
        self._input_dtype = X.dtype
        sw = v.check_sample_weight(sample_weight, X.shape[0])
        if isinstance(self.class_weight, dict):
            sw = sw * v.class_weight_dict(self.class_weight, classes)[codes]
        v.check_class_totals(np.bincount(codes, weights=sw, minlength=classes.size), classes)
        self.classes_ = classes
        if X.dtype != np.float64:  # the solver works in float64 for precision
            X = X.astype(np.float64)
        return X, codes, sw

    def _initial(self, n_rows: int, n_features: int) -> np.ndarray:
        """Starting point ``[W.ravel(), b]``: zeros, or the previous fit with ``warm_start``."""
        size = n_rows * (n_features + int(self.fit_intercept))
        if not (self.warm_start and hasattr(self, "coef_")):
            return np.zeros(size)
        if self.coef_.shape != (n_rows, n_features):
            raise InvalidInputError(
                f"warm_start=True but the previous fit has coef_ of shape {self.coef_.shape}, "
                f"while this data needs {(n_rows, n_features)}. To fix: set warm_start=False, "
                f"or fit on data with the same features and classes."
            )
        parts = [self.coef_.ravel()] + ([self.intercept_] if self.fit_intercept else [])
        return np.concatenate(parts).astype(np.float64)

    def _store(self, W: np.ndarray, b: np.ndarray | None) -> None:
        """Set ``coef_`` and ``intercept_`` in the dtype of the training data."""
        dtype = self._input_dtype
        self.coef_ = np.ascontiguousarray(W, dtype=dtype)
        self.intercept_ = np.zeros(W.shape[0], dtype) if b is None else np.asarray(b, dtype)

    def _warn_unconverged(self, results: list[SolverResult]) -> None:
        """Emit a ConvergenceWarning naming what happened and how to fix it."""
        bad = [r for r in results if not r.converged]
        if not bad:
            return
        worst = max(bad, key=lambda r: r.grad_max)
        warnings.warn(
            f"{type(self).__name__} with solver={self.solver!r} did not converge: "
            f"{worst.message} after {worst.n_iter} iteration(s), max|gradient| = "
            f"{worst.grad_max:.3g} > tol = {self.tol:g}. To fix: increase max_iter, scale "
            f"the features (e.g. StandardScaler), or try solver='newton-cg'.",
            ConvergenceWarning,
            stacklevel=3,
        )

    def decision_function(self, X) -> np.ndarray:
        """Scores ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) for two classes (the score of ``classes_[1]``),
        else (n_samples, n_classes).
        """
        check_is_fitted(self)
        X = v.check_features(self, X, reset=False)
        scores = X @ self.coef_.T
        scores = np.asarray(scores.toarray() if sp.issparse(scores) else scores)
        scores += self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X) -> np.ndarray:
        """Class labels: the class with the highest score.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,), values from ``classes_``
        """
        scores = self.decision_function(X)
        index = (scores > 0).astype(np.intp) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[index]

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``; rows sum to one.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        log_proba = self.predict_log_proba(X)
        return np.exp(log_proba, out=log_proba)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
