"""OneVsRestLogisticRegression against scikit-learn's OneVsRestClassifier(LogisticRegression)."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from verdict.models import OneVsRestLogisticRegression
from verdict.models._linear_loss import penalized_log_loss

TIGHT = {"tol": 1e-10, "max_iter": 10_000}
LOADERS = {"iris": load_iris, "wine": load_wine, "digits": load_digits}


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Small problems: BLAS threads only add contention (and scikit-learn does not limit them)."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@functools.cache
def dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    X, y = LOADERS[name](return_X_y=True)
    return StandardScaler().fit_transform(X), y


@functools.cache
def sklearn_fit(name: str, class_weight=None) -> OneVsRestClassifier:
    X, y = dataset(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        base = LogisticRegression(class_weight=class_weight, **TIGHT)
        return OneVsRestClassifier(base).fit(X, y)


def stacked(ovr: OneVsRestClassifier) -> tuple[np.ndarray, np.ndarray]:
    coef = np.vstack([e.coef_ for e in ovr.estimators_])
    return coef, np.concatenate([e.intercept_ for e in ovr.estimators_])


def objective(coef, intercept, X, y, classes) -> float:
    Y = (y[:, None] == classes).astype(float)
    return penalized_log_loss(coef, intercept, X, Y, C=1.0, multinomial=False)


def fit_ours(X, y, sample_weight=None, **params) -> OneVsRestLogisticRegression:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return OneVsRestLogisticRegression(**params).fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg"])
@pytest.mark.parametrize("name", ["iris", "wine", "digits"])
def test_matches_sklearn_one_vs_rest(name, solver):
    X, y = dataset(name)
    ref = sklearn_fit(name)
    coef, intercept = stacked(ref)
    ours = fit_ours(X, y, solver=solver, **TIGHT)
    assert np.abs(ours.coef_ - coef).max() < 1e-4
    assert np.abs(ours.intercept_ - intercept).max() < 1e-4
    f_ours = objective(ours.coef_, ours.intercept_, X, y, ours.classes_)
    f_ref = objective(coef, intercept, X, y, ours.classes_)
    assert f_ours <= f_ref * (1 + 1e-8)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), atol=1e-3)
    assert (ours.predict(X) == ref.predict(X)).mean() > 0.99


def test_parallel_groups_match_single_group():
    X, y = dataset("digits")
    one = fit_ours(X, y, solver="newton-cg", **TIGHT)
    two = fit_ours(X, y, solver="newton-cg", n_jobs=2, **TIGHT)
    assert two.n_iter_.shape == (10,)
    np.testing.assert_allclose(two.coef_, one.coef_, atol=1e-6)


def test_balanced_matches_sklearn():
    X, y = dataset("wine")
    ref = sklearn_fit("wine", "balanced")
    coef, intercept = stacked(ref)
    ours = fit_ours(X, y, class_weight="balanced", solver="newton-cg", **TIGHT)
    np.testing.assert_allclose(ours.coef_, coef, atol=1e-4)
    np.testing.assert_allclose(ours.intercept_, intercept, atol=1e-4)


def test_sample_and_class_weights_match_per_class_sklearn_fits():
    X, y = dataset("wine")
    sw = np.random.default_rng(0).uniform(0.1, 3.0, y.size)
    class_weight = {0: 2.0, 1: 1.0, 2: 0.5}
    ours = fit_ours(X, y, sample_weight=sw, class_weight=class_weight, **TIGHT)
    total = sw * np.take([2.0, 1.0, 0.5], y)
    for k in range(3):
        ref = LogisticRegression(**TIGHT).fit(X, y == k, sample_weight=total)
        np.testing.assert_allclose(ours.coef_[k], ref.coef_[0], atol=1e-4)
        np.testing.assert_allclose(ours.intercept_[k], ref.intercept_[0], atol=1e-4)


def test_binary_is_one_logistic_model():
    X, y = dataset("iris")
    mask = y > 0
    X, y = X[mask], y[mask]
    ref = LogisticRegression(**TIGHT).fit(X, y)
    ours = fit_ours(X, y, **TIGHT)
    assert ours.coef_.shape == (1, X.shape[1]) and ours.n_iter_.shape == (1,)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)


def test_sparse_matches_dense():
    X, y = dataset("wine")
    dense = fit_ours(X, y, **TIGHT)
    sparse = fit_ours(sp.csr_matrix(X), y, **TIGHT)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, atol=1e-8)


def test_proba_normalised_and_stable():
    X, y = dataset("digits")
    model = OneVsRestLogisticRegression(solver="newton-cg").fit(X, y)
    proba = model.predict_proba(1e3 * X[:20])  # every sigmoid may underflow
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)


def test_warm_start_and_convergence_warning():
    X, y = dataset("digits")
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        model = OneVsRestLogisticRegression(max_iter=3, warm_start=True).fit(X, y)
    assert (model.n_iter_ == 3).all()
    model.set_params(max_iter=10_000, tol=1e-8).fit(X, y)
    again = model.n_iter_.max()
    model.fit(X, y)
    assert model.n_iter_.max() <= 2 < again
