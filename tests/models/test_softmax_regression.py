"""SoftmaxRegression against scikit-learn's multinomial LogisticRegression, and its own contract."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits, load_iris, load_wine, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from verdict.models import SoftmaxRegression
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
def sklearn_fit(name: str, C: float = 1.0) -> LogisticRegression:
    X, y = dataset(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # lbfgs may stop at float precision
        return LogisticRegression(C=C, **TIGHT).fit(X, y)


def objective(model, X, y, C=1.0, sample_weight=None) -> float:
    codes = np.searchsorted(model.classes_, y)
    if model.coef_.shape[0] == 1:
        Y = codes.astype(float)[:, None]
        return penalized_log_loss(
            model.coef_, model.intercept_, X, Y, C=C, sample_weight=sample_weight, multinomial=False
        )
    return penalized_log_loss(
        model.coef_, model.intercept_, X, codes, C=C, sample_weight=sample_weight
    )


def fit_ours(X, y, **params) -> SoftmaxRegression:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return SoftmaxRegression(**params).fit(X, y)


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg"])
@pytest.mark.parametrize("name", ["iris", "wine", "digits"])
def test_matches_sklearn_multinomial(name, solver):
    X, y = dataset(name)
    ref = sklearn_fit(name)
    ours = fit_ours(X, y, solver=solver, **TIGHT)
    assert ours.coef_.shape == ref.coef_.shape
    assert np.abs(ours.coef_ - ref.coef_).max() < 1e-4
    assert np.abs(ours.intercept_ - ref.intercept_).max() < 1e-4
    f_ours, f_ref = objective(ours, X, y), objective(ref, X, y)
    assert f_ours <= f_ref * (1 + 1e-8)
    proba = ours.predict_proba(X)
    assert np.abs(proba.sum(axis=1) - 1.0).max() <= 1e-12
    np.testing.assert_allclose(proba, ref.predict_proba(X), atol=1e-4)
    assert (ours.predict(X) == ref.predict(X)).mean() > 0.99


@pytest.mark.parametrize("C", [0.01, 100.0])
def test_matches_sklearn_for_other_penalties(C):
    X, y = dataset("wine")
    ref = sklearn_fit("wine", C)
    ours = fit_ours(X, y, C=C, solver="newton-cg", **TIGHT)
    assert np.abs(ours.coef_ - ref.coef_).max() < 1e-4
    assert objective(ours, X, y, C) <= objective(ref, X, y, C) * (1 + 1e-8)


def test_no_penalty_matches_sklearn():
    X, y = make_classification(300, 6, n_informative=4, n_classes=3, flip_y=0.3, random_state=0)
    ref = LogisticRegression(C=np.inf, **TIGHT).fit(X, y)
    ours = fit_ours(X, y, C=np.inf, **TIGHT)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)


def test_binary_is_the_logistic_model():
    X, y = dataset("iris")
    mask = y > 0
    X, y = X[mask], np.where(y[mask] == 1, "versicolor", "virginica")
    ref = LogisticRegression(**TIGHT).fit(X, y)
    for solver in ("lbfgs", "newton-cg"):
        ours = fit_ours(X, y, solver=solver, **TIGHT)
        assert ours.coef_.shape == (1, X.shape[1]) and ours.intercept_.shape == (1,)
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-4)
        assert ours.decision_function(X).shape == (X.shape[0],)
        np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)
        np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


def test_weights_match_sklearn():
    X, y = dataset("wine")
    sw = np.random.default_rng(0).uniform(0.1, 3.0, y.size)
    for class_weight in ({0: 2.0, 2: 0.5}, "balanced"):
        ref = LogisticRegression(class_weight=class_weight, **TIGHT).fit(X, y, sample_weight=sw)
        ours = fit_ours(X, y, class_weight=class_weight, solver="newton-cg", **TIGHT)
        ours.fit(X, y, sample_weight=sw)
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-4)


def test_class_weight_equals_sample_weight_and_repetition():
    X, y = dataset("iris")
    class_weight = {0: 1.0, 1: 3.0, 2: 2.0}
    a = fit_ours(X, y, class_weight=class_weight, **TIGHT)
    b = SoftmaxRegression(**TIGHT).fit(X, y, sample_weight=np.take([1.0, 3.0, 2.0], y))
    repeat = np.take([1, 3, 2], y)
    c = fit_ours(np.repeat(X, repeat, axis=0), np.repeat(y, repeat), **TIGHT)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-6)
    np.testing.assert_allclose(a.coef_, c.coef_, atol=1e-6)


def test_sparse_matches_dense_and_float32():
    X, y = dataset("wine")
    dense = fit_ours(X, y, **TIGHT)
    sparse = fit_ours(sp.csr_matrix(X), y, **TIGHT)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, atol=1e-8)
    single = fit_ours(X.astype(np.float32), y, **TIGHT)
    assert single.coef_.dtype == np.float32 and single.intercept_.dtype == np.float32
    np.testing.assert_allclose(single.coef_, dense.coef_, atol=1e-4)
    assert single.predict_proba(X.astype(np.float32)).shape == (y.size, 3)


def test_warm_start_continues_from_previous_fit():
    X, y = dataset("digits")
    model = SoftmaxRegression(warm_start=True, **TIGHT).fit(X, y)
    first = model.coef_.copy()
    model.fit(X, y)
    assert model.n_iter_[0] <= 2
    np.testing.assert_allclose(model.coef_, first, atol=1e-6)


def test_convergence_warning_and_n_iter():
    X, y = dataset("digits")
    for solver in ("lbfgs", "newton-cg"):
        with pytest.warns(ConvergenceWarning, match="max_iter"):
            model = SoftmaxRegression(max_iter=2, solver=solver).fit(X, y)
        assert model.n_iter_.tolist() == [2]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = SoftmaxRegression(max_iter=1000).fit(X, y)
    assert 1 <= model.n_iter_[0] < 1000


def test_feature_names_and_log_proba():
    X, y = dataset("iris")
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model = SoftmaxRegression().fit(frame, y)
    assert model.feature_names_in_.tolist() == ["a", "b", "c", "d"]
    assert model.n_features_in_ == 4
    np.testing.assert_allclose(
        model.predict_log_proba(frame), np.log(model.predict_proba(frame)), atol=1e-12
    )
    extreme = 1e4 * frame.iloc[:5]
    assert np.isfinite(model.predict_log_proba(extreme)).all()


def test_verbose_prints_progress(capsys):
    X, y = dataset("iris")
    SoftmaxRegression(verbose=1).fit(X, y)
    SoftmaxRegression(verbose=1, solver="newton-cg").fit(X, y)
    out = capsys.readouterr().out
    assert "[lbfgs] iter" in out and "[newton-cg] iter" in out


def test_intercepts_are_centred():
    X, y = dataset("wine")
    model = SoftmaxRegression(solver="newton-cg").fit(X + 3.0, y)
    assert abs(model.intercept_.sum()) < 1e-10
