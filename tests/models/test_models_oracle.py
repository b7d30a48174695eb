"""The blocked, threaded oracle gives the same objective, gradient and Hessian products."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from verdict.models import OneVsRestLogisticRegression, SoftmaxRegression, _oracle, _ovr, _softmax
from verdict.models import _linear_loss as ll

N_SAMPLES, N_FEATURES, N_COLUMNS = 1000, 7, 4


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 16 rows and no small-problem shortcut, so every path is exercised."""
    monkeypatch.setattr(_oracle, "_BLOCK_BYTES", 16 * 8 * N_FEATURES)
    monkeypatch.setattr(_oracle, "_SMALL_PROBLEM", 0)


def _data(sparse: bool, weighted: bool, multinomial: bool):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N_SAMPLES, N_FEATURES))
    if sparse:
        X[rng.random(X.shape) < 0.5] = 0.0
        X = sp.csr_matrix(X)
    codes = rng.integers(0, N_COLUMNS, N_SAMPLES)
    target = codes if multinomial else (codes[:, None] == np.arange(N_COLUMNS)).astype(float)
    weights = rng.random(N_SAMPLES) if weighted else None
    return X, target, None if weights is None else weights / weights.sum()


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("multinomial", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_blocked_oracle_equals_direct_evaluation(multinomial, sparse, weighted, n_threads):
    X, target, weights = _data(sparse, weighted, multinomial)
    rng = np.random.default_rng(1)
    w = rng.normal(size=N_COLUMNS * (N_FEATURES + 1))
    v = rng.normal(size=w.size)
    if multinomial:
        f, g, proba = ll.multinomial_loss_gradient(w, X, target, weights, 0.2, True, N_COLUMNS)
        hv = ll.multinomial_hessp(v, X, proba, weights, 0.2, True)
    else:
        f, g, proba = ll.binomial_loss_gradient(w, X, target, weights, 0.2, True)
        hv = ll.binomial_hessp(v, X, proba, weights, 0.2, True)
    oracle = _oracle.Oracle(X, target, weights, 0.2, True, N_COLUMNS, multinomial, n_threads)
    with oracle:
        assert len(oracle._blocks) > 1 or sparse
        f2, g2, hessp = oracle(w)
        hv2 = hessp(v)
    assert f2 == pytest.approx(f, rel=1e-12)
    np.testing.assert_allclose(g2, g, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(hv2, hv, rtol=1e-10, atol=1e-14)


def test_threads_follow_the_blas_limit():
    from threadpoolctl import threadpool_limits

    X = np.zeros((100_000, 50))
    with threadpool_limits(limits=1, user_api="blas"):
        assert _oracle.n_threads_for(X, 10) == 1
    assert _oracle.n_threads_for(np.zeros((10, 3)), 3) == 1


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("Estimator", [SoftmaxRegression, OneVsRestLogisticRegression])
def test_threaded_fit_matches_single_threaded(Estimator, monkeypatch):
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    params = {"tol": 1e-8, "max_iter": 1000, "solver": "newton-cg"}
    monkeypatch.setattr(_softmax, "n_threads_for", lambda *args, **kwargs: 1)
    monkeypatch.setattr(_ovr, "n_threads_for", lambda *args, **kwargs: 1)
    single = Estimator(**params).fit(X, y)
    monkeypatch.setattr(_softmax, "n_threads_for", lambda *args, **kwargs: 2)
    monkeypatch.setattr(_ovr, "n_threads_for", lambda *args, **kwargs: 2)
    threaded = Estimator(**params).fit(X, y)
    np.testing.assert_allclose(threaded.coef_, single.coef_, atol=1e-7)
