"""Softmax (multinomial) logistic regression."""

from __future__ import annotations

import numpy as np
from scipy.special import log_expit, logsumexp

from verdict.models import _linear_loss as ll
from verdict.models import _validation as v
from verdict.models._base import LogisticBase
from verdict.models._oracle import Oracle, n_threads_for, single_blas_thread
from verdict.models._solvers import SOLVERS


class SoftmaxRegression(LogisticBase):
    r"""Multinomial logistic regression: one weight vector per class, trained on cross-entropy.

    The probabilities are ``softmax(X @ coef_.T + intercept_)`` and the fit minimises

    .. math::

        \sum_i s_i \Big(\log \sum_k e^{w_k^\top x_i + b_k} - (w_{y_i}^\top x_i + b_{y_i})\Big)
        + \frac{1}{2C} \sum_k \|w_k\|^2

    where ``s_i`` is ``sample_weight[i]`` times the weight of its class (``class_weight``); the
    intercepts are not penalised. This is scikit-learn's ``LogisticRegression`` objective for
    its lbfgs and newton-cg solvers (it divides the whole objective by ``sum(s)``, which does not
    change the minimiser; so do we, and ``tol`` bounds the largest gradient entry of that scaled
    objective, as in scikit-learn). Intercepts are reported centred (they sum to zero): the
    softmax does not change when all of them shift by the same amount.

    With two classes the model is the binary logistic model, as in scikit-learn: ``coef_`` has
    shape ``(1, n_features)`` and ``intercept_`` shape ``(1,)``, the scores of ``classes_[1]``
    against ``classes_[0]`` (a two-class softmax with weights ``w_1 - w_0``), penalised as
    ``0.5 / C * ||coef_||^2``. With ``K > 2`` classes ``coef_`` has shape ``(K, n_features)``.

    Parameters
    ----------
    C : float, default=1.0
        Inverse of the L2 penalty strength; ``np.inf`` for no penalty.
    fit_intercept : bool, default=True
        Whether to fit an intercept per class.
    class_weight : dict or 'balanced', default=None
        Weights per class label multiplying ``sample_weight``; 'balanced' uses
        ``sum(w) / (n_classes * weighted class count)``. Keys must be labels of ``y``.
    max_iter : int, default=100
        Maximum number of solver iterations.
    tol : float, default=1e-4
        Stop when the largest absolute gradient entry of the scaled objective is below ``tol``.
    solver : {'lbfgs', 'newton-cg'}, default='lbfgs'
        'lbfgs' is fastest when the problem is well conditioned (standardised features, modest
        ``tol``); 'newton-cg' (Hessian-vector products, truncated CG) needs far fewer iterations
        on ill-conditioned problems or with a tight ``tol``.
    warm_start : bool, default=False
        Start from the previous ``coef_`` and ``intercept_`` when refitting.
    verbose : int, default=0
        Print the objective at each iteration when positive.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (n_classes, n_features), or (1, n_features) for two classes
        In the dtype of the training data (float32 input is fitted in float64).
    intercept_ : ndarray of shape (n_classes,), or (1,) for two classes
    n_iter_ : ndarray of shape (1,)
        Iterations the solver ran.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when ``X`` had string column names.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from verdict.models import SoftmaxRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SoftmaxRegression(max_iter=500).fit(X, y)
    >>> clf.predict_proba(X[:1]).sum().round(12)
    np.float64(1.0)
    """

    def __init__(
        self,
        *,
        C: float = 1.0,
        fit_intercept: bool = True,
        class_weight: dict | str | None = None,
        max_iter: int = 100,
        tol: float = 1e-4,
        solver: str = "lbfgs",
        warm_start: bool = False,
        verbose: int = 0,
    ) -> None:
        self.C = C
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.tol = tol
        self.solver = solver
        self.warm_start = warm_start
        self.verbose = verbose

    def fit(self, X, y, sample_weight=None) -> SoftmaxRegression:
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Finite features; float32 or float64 (other numeric types become float64).
        y : array-like of shape (n_samples,)
            Class labels, at least two distinct ones.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, not all zero.

        Returns
        -------
        self : SoftmaxRegression
        """
        X, codes, sw = self._prepare(X, y, sample_weight)
        n_classes = self.classes_.size
        if self.class_weight == "balanced":
            sw = sw * v.balanced_weights(codes, sw, n_classes)[codes]
        total = float(sw.sum())
        weights = None if sample_weight is None and self.class_weight is None else sw / total
        l2 = 0.0 if np.isinf(self.C) else 1.0 / (self.C * total)
        n_rows = 1 if n_classes == 2 else n_classes
        target = codes.astype(np.float64)[:, None] if n_rows == 1 else codes
        w0 = self._initial(n_rows, X.shape[1])
        n_threads = n_threads_for(X, n_rows)
        with (
            single_blas_thread(),
            Oracle(X, target, weights, l2, self.fit_intercept, n_rows, n_rows > 1, n_threads) as f,
        ):
            result = SOLVERS[self.solver](f, w0, self.tol, self.max_iter, self.verbose)
        W, b = ll.unpack(result.w, n_rows, X.shape[1], self.fit_intercept)
        if b is not None and n_rows > 1:
            b = b - b.mean()
        self._store(W, b)
        self.n_iter_ = np.array([result.n_iter], dtype=np.int32)
        self._warn_unconverged([result])
        return self

    def predict_log_proba(self, X) -> np.ndarray:
        """Log of the class probabilities, computed stably (log-softmax of the scores).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.column_stack([log_expit(-scores), log_expit(scores)])
        return scores - logsumexp(scores, axis=1, keepdims=True)


SoftmaxRegression.__module__ = "verdict.models"  # artifacts name the public path
