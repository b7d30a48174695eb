"""Losses, gradients and Hessian-vector products of L2-penalised logistic models.

Pure functions of a flat parameter vector ``w = [W.ravel(), b]``: ``W`` has shape
``(n_classes, n_features)`` (C order) and the intercepts ``b`` (``n_classes`` values) are present
only when ``fit_intercept``. The solvers minimise the *scaled* objective

    f(w) = sum_i s_i * loss_i(W x_i + b) + 0.5 * sum_k l2_k * ||W_k||^2

with ``s = sample_weight / S``, ``S = sum(sample_weight)`` and ``l2 = 1 / (C * S)``. It is the
estimators' objective ``sum_i sample_weight_i * loss_i + 0.5 / C * ||W||^2`` divided by ``S``: the
same minimiser (scikit-learn scales the same way, so ``tol`` means the same thing in both).
``sample_weight=None`` here means ``s_i = 1 / n_samples``; a float means that weight for every
sample (used when a block of rows is evaluated on its own).

Two losses: ``multinomial`` (softmax cross-entropy, integer codes ``y``) and ``binomial`` (one
logistic loss per column of a 0/1 target matrix ``Y``; one column for a binary model, one per class
for one-vs-rest, where ``sample_weight`` may be a matrix and ``l2`` a vector, one per column).
Buffers of shape ``(n_samples, n_classes)`` can be passed in ``work`` to avoid reallocation; the
returned probabilities live in ``work.proba`` and are overwritten by the next call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

# exp overflows above ~709.78; below this bound the unshifted fast paths are exact enough.
_EXP_SAFE = 700.0


def _row_sums(M: np.ndarray) -> np.ndarray:
    """Row sums; einsum is several times faster than ``sum(axis=1)`` over a short last axis."""
    return np.einsum("ij->i", M)


def _column_sums(M: np.ndarray) -> np.ndarray:
    """Column sums (einsum, for the same reason)."""
    return np.einsum("ij->j", M)


@dataclass
class Workspace:
    """Preallocated ``(n_samples, n_columns)`` float64 buffers reused across evaluations."""

    shape: tuple[int, int]
    proba: np.ndarray = field(init=False)
    grad: np.ndarray = field(init=False)
    extra: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.proba = np.empty(self.shape)
        self.grad = np.empty(self.shape)
        self.extra = np.empty(self.shape)


def unpack(
    w: np.ndarray, n_classes: int, n_features: int, fit_intercept: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Views of the coefficient matrix and the intercepts (None without intercept) in ``w``."""
    n_coef = n_classes * n_features
    W = w[:n_coef].reshape(n_classes, n_features)
    return W, (w[n_coef:] if fit_intercept else None)


def _linear(X, W: np.ndarray, b: np.ndarray | None, out: np.ndarray) -> np.ndarray:
    """Write ``X @ W.T + b`` into ``out``."""
    if sp.issparse(X):
        out[...] = X @ W.T
    else:
        np.matmul(X, W.T, out=out)
    if b is not None:
        out += b
    return out


def _pack(X, G: np.ndarray, W: np.ndarray, l2_reg, fit_intercept: bool) -> np.ndarray:
    """Gradient vector ``[G.T @ X + l2 * W, G.sum(0)]`` for the pointwise gradient ``G``."""
    n_classes, n_features = W.shape
    out = np.empty(W.size + (n_classes if fit_intercept else 0))
    gW = out[: W.size].reshape(n_classes, n_features)
    if sp.issparse(X):
        gW[...] = (X.T @ G).T
    else:
        np.matmul(G.T, X, out=gW)
    gW += np.reshape(l2_reg, (-1, 1)) * W
    if fit_intercept:
        out[W.size :] = _column_sums(G)
    return out


def _scale(sample_weight, n_samples: int):
    """The normalised weights: ``1 / n_samples`` for None, else as given (float or array)."""
    return 1.0 / n_samples if sample_weight is None else sample_weight


def _apply_weights(M: np.ndarray, s) -> np.ndarray:
    """Scale the rows of ``M`` in place by ``s``: a float, one weight per row, or a matrix."""
    if np.ndim(s) == 1:
        M *= s[:, None]
    else:
        M *= s
    return M


def _penalty(W: np.ndarray, l2_reg) -> float:
    """``0.5 * sum_k l2_k * ||W_k||^2``."""
    l2 = np.broadcast_to(np.asarray(l2_reg, dtype=np.float64), (W.shape[0],))
    return 0.5 * float(l2 @ np.einsum("ij,ij->i", W, W))


def _softmax_inplace(Z: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """Turn the scores ``Z`` into probabilities in place; return the row log-sum-exp."""
    if Z.max() < _EXP_SAFE:
        np.exp(Z, out=tmp)
        total = _row_sums(tmp)
        if total.min() > 1e-290:  # no row underflowed: no shift needed
            np.multiply(tmp, (1.0 / total)[:, None], out=Z)
            return np.log(total)
    shift = Z.max(axis=1)
    Z -= shift[:, None]
    np.exp(Z, out=Z)
    total = _row_sums(Z)
    Z *= (1.0 / total)[:, None]
    return np.log(total) + shift


def _buffers(work: Workspace | None, shape: tuple[int, int]) -> Workspace:
    """The given workspace when it fits, else a fresh one."""
    return work if work is not None and work.shape == shape else Workspace(shape)


def multinomial_loss_gradient(
    w: np.ndarray,
    X,
    y: np.ndarray,
    sample_weight: np.ndarray | float | None,
    l2_reg: float,
    fit_intercept: bool,
    n_classes: int,
    work: Workspace | None = None,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Scaled softmax cross-entropy, its gradient, and the class probabilities.

    Parameters
    ----------
    w : ndarray of shape (n_classes * (n_features + fit_intercept),)
        Flat parameters ``[W.ravel(), b]``.
    X : ndarray or CSR matrix of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,), integer class codes in ``[0, n_classes)``
    sample_weight : ndarray of shape (n_samples,), float, or None for ``1 / n_samples``
    l2_reg : float
        ``1 / (C * sum of the raw sample weights)``.
    fit_intercept : bool
    n_classes : int
    work : Workspace, optional

    Returns
    -------
    loss : float
    grad : ndarray, same shape as ``w``
    proba : ndarray of shape (n_samples, n_classes), valid until the next call with ``work``
    """
    n_samples, n_features = X.shape
    W, b = unpack(w, n_classes, n_features, fit_intercept)
    work = _buffers(work, (n_samples, n_classes))
    Z = _linear(X, W, b, work.proba)
    flat = np.arange(n_samples) * n_classes + y
    z_true = Z.ravel().take(flat)
    pointwise = _softmax_inplace(Z, work.grad)
    pointwise -= z_true
    s = _scale(sample_weight, n_samples)
    G = work.grad  # (P - onehot(y)) * s, in two passes
    np.multiply(Z, s if np.ndim(s) == 0 else s[:, None], out=G)
    G.ravel()[flat] -= s
    loss = float(pointwise.sum() * s if np.ndim(s) == 0 else pointwise @ s)
    return loss + _penalty(W, l2_reg), _pack(X, G, W, l2_reg, fit_intercept), Z


def multinomial_hessp(
    v: np.ndarray,
    X,
    proba: np.ndarray,
    sample_weight: np.ndarray | float | None,
    l2_reg: float,
    fit_intercept: bool,
    work: Workspace | None = None,
) -> np.ndarray:
    """Hessian of the scaled softmax objective at the point that gave ``proba``, times ``v``.

    For each sample the Hessian of the cross-entropy in the scores is ``diag(p) - p p^T``.
    """
    n_samples, n_classes = proba.shape
    V, vb = unpack(v, n_classes, X.shape[1], fit_intercept)
    work = _buffers(work, proba.shape)
    R = _linear(X, V, vb, work.grad)
    Q = np.multiply(proba, R, out=work.extra)
    R -= _row_sums(Q)[:, None]
    np.multiply(R, proba, out=Q)
    _apply_weights(Q, _scale(sample_weight, n_samples))
    return _pack(X, Q, V, l2_reg, fit_intercept)


def _weighted_total(M: np.ndarray, s) -> float:
    """``sum_ik s_i M_ik`` (``s`` a float, one weight per row, or a matrix ``s_ik``)."""
    if np.ndim(s) == 0:
        return float(M.sum()) * s
    if s.ndim == 1:
        return float(_row_sums(M) @ s)
    return float(np.vdot(M, s))


def _binomial_pointwise(Z: np.ndarray, Y: np.ndarray, out: np.ndarray, tmp: np.ndarray) -> None:
    """Pointwise log loss ``log(1 + exp(z)) - y z`` into ``out``; ``Z`` becomes ``sigmoid(z)``."""
    np.multiply(Y, Z, out=tmp)
    if Z.max() < _EXP_SAFE:
        np.exp(Z, out=Z)
        np.log1p(Z, out=out)
        out -= tmp
        np.add(Z, 1.0, out=tmp)
        Z /= tmp
    else:
        np.logaddexp(0.0, Z, out=out)
        out -= tmp
        expit(Z, out=Z)


def binomial_loss_gradient(
    w: np.ndarray,
    X,
    Y: np.ndarray,
    sample_weight: np.ndarray | float | None,
    l2_reg: float | np.ndarray,
    fit_intercept: bool,
    work: Workspace | None = None,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Sum over the columns of ``Y`` of scaled binary log losses, gradient and probabilities.

    Parameters
    ----------
    w : ndarray of shape (n_columns * (n_features + fit_intercept),)
    X : ndarray or CSR matrix of shape (n_samples, n_features), float64
    Y : ndarray of shape (n_samples, n_columns), 0/1 float targets
    sample_weight : ndarray of shape (n_samples,) or (n_samples, n_columns), float, or None
        Normalised weights (each column sums to 1); None means ``1 / n_samples``.
    l2_reg : float or ndarray of shape (n_columns,)
    fit_intercept : bool
    work : Workspace, optional

    Returns
    -------
    loss : float
    grad : ndarray, same shape as ``w``
    proba : ndarray of shape (n_samples, n_columns), ``sigmoid`` of the scores
    """
    n_samples, n_columns = Y.shape
    W, b = unpack(w, n_columns, X.shape[1], fit_intercept)
    work = _buffers(work, Y.shape)
    Z = _linear(X, W, b, work.proba)
    s = _scale(sample_weight, n_samples)
    _binomial_pointwise(Z, Y, work.grad, work.extra)
    loss = _weighted_total(work.grad, s) + _penalty(W, l2_reg)
    G = np.subtract(Z, Y, out=work.grad)
    _apply_weights(G, s)
    return loss, _pack(X, G, W, l2_reg, fit_intercept), Z


def binomial_hessp(
    v: np.ndarray,
    X,
    proba: np.ndarray,
    sample_weight: np.ndarray | float | None,
    l2_reg: float | np.ndarray,
    fit_intercept: bool,
    work: Workspace | None = None,
) -> np.ndarray:
    """Hessian of the scaled binomial objective at the point that gave ``proba``, times ``v``."""
    n_samples, n_columns = proba.shape
    V, vb = unpack(v, n_columns, X.shape[1], fit_intercept)
    work = _buffers(work, proba.shape)
    R = _linear(X, V, vb, work.grad)
    D = np.subtract(1.0, proba, out=work.extra)
    D *= proba
    R *= D
    _apply_weights(R, _scale(sample_weight, n_samples))
    return _pack(X, R, V, l2_reg, fit_intercept)


def penalized_log_loss(
    coef: np.ndarray,
    intercept: np.ndarray,
    X,
    y: np.ndarray,
    *,
    C: float,
    sample_weight: np.ndarray | None = None,
    multinomial: bool = True,
) -> float:
    """Unscaled objective ``sum_i sample_weight_i * loss_i + 0.5 / C * ||coef||^2``.

    ``multinomial=True``: softmax cross-entropy with ``y`` the integer class codes.
    ``multinomial=False``: the sum of the binary log losses of the columns of the 0/1 matrix
    ``y`` (one-vs-rest; ``y`` has shape ``(n_samples, n_columns)``), with ``sample_weight`` of
    shape ``(n_samples,)`` or ``(n_samples, n_columns)``.
    """
    X = X.astype(np.float64) if X.dtype != np.float64 else X
    coef = np.asarray(coef, dtype=np.float64)
    n_samples = X.shape[0]
    sw = np.ones(n_samples) if sample_weight is None else np.asarray(sample_weight, float)
    l2 = 0.0 if np.isinf(C) else 1.0 / C
    w = np.concatenate([coef.ravel(), np.asarray(intercept, dtype=np.float64).ravel()])
    if multinomial:
        value = multinomial_loss_gradient(w, X, y, sw, l2, True, coef.shape[0])[0]
    else:
        value = binomial_loss_gradient(w, X, np.asarray(y, float), sw, l2, True)[0]
    return value
