"""The pure loss functions: gradients and Hessian-vector products checked numerically."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import check_grad

from verdict.models import _linear_loss as ll

N_SAMPLES, N_FEATURES, N_CLASSES = 40, 5, 4


def _problem(sparse: bool, weighted: bool, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N_SAMPLES, N_FEATURES))
    if sparse:
        X[rng.random(X.shape) < 0.6] = 0.0
        X = sp.csr_matrix(X)
    y = rng.integers(0, N_CLASSES, N_SAMPLES)
    sw = rng.random(N_SAMPLES) if weighted else None
    return X, y, None if sw is None else sw / sw.sum()


def _multinomial(X, y, sw, fit_intercept):
    def fun(w):
        return ll.multinomial_loss_gradient(w, X, y, sw, 0.3, fit_intercept, N_CLASSES)[0]

    def grad(w):
        return ll.multinomial_loss_gradient(w, X, y, sw, 0.3, fit_intercept, N_CLASSES)[1]

    def hessp(w, v):
        proba = ll.multinomial_loss_gradient(w, X, y, sw, 0.3, fit_intercept, N_CLASSES)[2]
        return ll.multinomial_hessp(v, X, proba.copy(), sw, 0.3, fit_intercept)

    return fun, grad, hessp


def _binomial(X, y, sw, fit_intercept):
    Y = (y[:, None] == np.arange(N_CLASSES)).astype(float)
    l2 = np.linspace(0.1, 0.4, N_CLASSES)
    if sw is not None:  # one weight column per class, as one-vs-rest 'balanced' uses
        sw = sw[:, None] * np.linspace(1.0, 2.0, N_CLASSES)
        sw = sw / sw.sum(axis=0)

    def fun(w):
        return ll.binomial_loss_gradient(w, X, Y, sw, l2, fit_intercept)[0]

    def grad(w):
        return ll.binomial_loss_gradient(w, X, Y, sw, l2, fit_intercept)[1]

    def hessp(w, v):
        proba = ll.binomial_loss_gradient(w, X, Y, sw, l2, fit_intercept)[2]
        return ll.binomial_hessp(v, X, proba.copy(), sw, l2, fit_intercept)

    return fun, grad, hessp


CASES = [
    (loss, sparse, weighted, fit_intercept)
    for loss in (_multinomial, _binomial)
    for sparse in (False, True)
    for weighted in (False, True)
    for fit_intercept in (False, True)
]


@pytest.mark.parametrize(("loss", "sparse", "weighted", "fit_intercept"), CASES)
def test_gradient_and_hessp_match_finite_differences(loss, sparse, weighted, fit_intercept):
    X, y, sw = _problem(sparse, weighted)
    fun, grad, hessp = loss(X, y, sw, fit_intercept)
    rng = np.random.default_rng(1)
    w = rng.normal(size=N_CLASSES * (N_FEATURES + int(fit_intercept)))
    assert check_grad(fun, grad, w, epsilon=1e-7) < 1e-6 * max(1.0, np.linalg.norm(grad(w)))
    v = rng.normal(size=w.size)
    eps = 1e-6
    numeric = (grad(w + eps * v) - grad(w - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hessp(w, v), numeric, rtol=1e-5, atol=1e-7)


def test_multinomial_stable_for_huge_scores():
    X, y, _ = _problem(False, False)
    w = np.random.default_rng(2).normal(size=N_CLASSES * N_FEATURES)
    f = ll.multinomial_loss_gradient(w, X, y, None, 0.0, False, N_CLASSES)[0]
    # scaled by 1e3 the scores reach thousands: the shifted path must stay finite and exact
    f_big, g_big, proba = ll.multinomial_loss_gradient(1e3 * w, X, y, None, 0.0, False, N_CLASSES)
    assert np.isfinite(f_big) and np.isfinite(g_big).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    Z = X @ (1e3 * w).reshape(N_CLASSES, N_FEATURES).T
    expected = np.mean(
        np.log(np.exp(Z - Z.max(1, keepdims=True)).sum(1)) + Z.max(1) - Z[np.arange(len(y)), y]
    )
    assert f_big == pytest.approx(expected, rel=1e-12)
    assert f > 0


def test_multinomial_underflowing_rows():
    X = np.array([[-1000.0], [1.0]])
    y = np.array([0, 1])
    w = np.array([1.0, 2.0])  # row 0 scores -1000, -2000: exp underflows without the shift
    f, g, proba = ll.multinomial_loss_gradient(w, X, y, None, 0.0, False, 2)
    assert np.isfinite(f) and np.isfinite(g).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert proba[0, 0] == pytest.approx(1.0)


def test_binomial_stable_for_huge_scores():
    X = np.array([[800.0], [-800.0], [1.0]])
    Y = np.array([[1.0], [1.0], [0.0]])
    f, g, proba = ll.binomial_loss_gradient(np.array([1.0]), X, Y, None, 0.0, False)
    expected = (0.0 + 800.0 + np.log1p(np.e)) / 3
    assert f == pytest.approx(expected, rel=1e-12)
    assert np.isfinite(g).all()
    np.testing.assert_allclose(proba[:, 0], [1.0, 0.0, 1 / (1 + np.exp(-1.0))], atol=1e-15)


def test_penalized_log_loss_is_the_documented_objective():
    X, y, _ = _problem(False, False)
    rng = np.random.default_rng(3)
    coef = rng.normal(size=(N_CLASSES, N_FEATURES))
    intercept = rng.normal(size=N_CLASSES)
    sw = rng.random(N_SAMPLES)
    Z = X @ coef.T + intercept
    log_proba = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
    expected = -(sw * log_proba[np.arange(N_SAMPLES), y]).sum() + 0.5 / 2.0 * (coef**2).sum()
    got = ll.penalized_log_loss(coef, intercept, X, y, C=2.0, sample_weight=sw)
    assert got == pytest.approx(expected, rel=1e-12)
    Y = (y[:, None] == np.arange(N_CLASSES)).astype(float)
    P = 1 / (1 + np.exp(-Z))
    expected_ovr = -(sw[:, None] * (Y * np.log(P) + (1 - Y) * np.log(1 - P))).sum()
    expected_ovr += 0.5 / 2.0 * (coef**2).sum()
    got_ovr = ll.penalized_log_loss(
        coef, intercept, X, Y, C=2.0, sample_weight=sw, multinomial=False
    )
    assert got_ovr == pytest.approx(expected_ovr, rel=1e-12)


def test_workspace_reuse_gives_identical_results():
    X, y, sw = _problem(False, True)
    w = np.random.default_rng(4).normal(size=N_CLASSES * (N_FEATURES + 1))
    work = ll.Workspace((N_SAMPLES, N_CLASSES))
    fresh = ll.multinomial_loss_gradient(w, X, y, sw, 0.1, True, N_CLASSES)
    for _ in range(2):
        reused = ll.multinomial_loss_gradient(w, X, y, sw, 0.1, True, N_CLASSES, work)
        assert reused[0] == fresh[0]
        np.testing.assert_array_equal(reused[1], fresh[1])
