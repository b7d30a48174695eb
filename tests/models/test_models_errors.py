"""Bad input to the logistic estimators: clear errors that name the argument and the fix."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.models import OneVsRestLogisticRegression, SoftmaxRegression

ESTIMATORS = [SoftmaxRegression, OneVsRestLogisticRegression]


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(30, 3)), np.arange(30) % 3


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("sparse", [False, True])
def test_non_finite_features(Estimator, bad, sparse, data):
    X, y = data
    X = X.copy()
    X[4, 1] = bad
    X_in = sp.csr_matrix(X) if sparse else X
    with pytest.raises(InvalidInputError, match=r"Input X contains .*To fix"):
        Estimator().fit(X_in, y)
    model = Estimator().fit(data[0], y)
    with pytest.raises(ValueError, match=r"Input X contains"):
        model.predict(X_in)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_single_class(Estimator, data):
    X, _ = data
    with pytest.raises(InvalidInputError, match=r"y contains only one class \('a'\).*To fix"):
        Estimator().fit(X, ["a"] * len(X))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_sample_weight_problems(Estimator, data):
    X, y = data
    with pytest.raises(InvalidInputError, match=r"sample_weight has shape \(29,\).*30 samples"):
        Estimator().fit(X, y, sample_weight=np.ones(29))
    negative = np.ones(30)
    negative[3] = -1.0
    with pytest.raises(InvalidInputError, match=r"sample_weight contains 1 negative.*To fix"):
        Estimator().fit(X, y, sample_weight=negative)
    with pytest.raises(InvalidInputError, match=r"sample_weight is zero for every sample"):
        Estimator().fit(X, y, sample_weight=np.zeros(30))
    with pytest.raises(InvalidInputError, match=r"sample_weight contains NaN"):
        Estimator().fit(X, y, sample_weight=np.full(30, np.nan))
    one_class_dropped = (y != 2).astype(float)
    with pytest.raises(InvalidInputError, match=r"classes \[2\] of y have zero total weight"):
        Estimator().fit(X, y, sample_weight=one_class_dropped)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_class_weight_problems(Estimator, data):
    X, y = data
    with pytest.raises(InvalidInputError, match=r"class_weight has key\(s\) \[7\].*\[0, 1, 2\]"):
        Estimator(class_weight={0: 1.0, 7: 2.0}).fit(X, y)
    with pytest.raises(InvalidInputError, match=r"class_weight\[1\] is -2"):
        Estimator(class_weight={1: -2.0}).fit(X, y)
    with pytest.raises(InvalidParameterError, match=r"'class_weight' parameter"):
        Estimator(class_weight="balance").fit(X, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("C", -1.0),
        ("C", "1"),
        ("tol", -1e-3),
        ("max_iter", 0),
        ("max_iter", 2.5),
        ("solver", "sag"),
        ("fit_intercept", "yes"),
        ("warm_start", 1),
        ("verbose", -1),
    ],
)
def test_invalid_parameters(Estimator, param, value, data):
    X, y = data
    pattern = rf"The '{param}' parameter of {Estimator.__name__} must be .* Got .* instead"
    with pytest.raises(InvalidParameterError, match=pattern):
        Estimator(**{param: value}).fit(X, y)


@pytest.mark.parametrize("n_jobs", ["all", 0, 1.5])
def test_invalid_n_jobs(n_jobs, data):
    with pytest.raises(InvalidParameterError, match=r"'n_jobs' parameter"):
        OneVsRestLogisticRegression(n_jobs=n_jobs).fit(*data)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_warm_start_with_other_shape(Estimator, data):
    X, y = data
    model = Estimator(warm_start=True).fit(X, y)
    with pytest.raises(InvalidInputError, match=r"warm_start=True .* To fix"):
        model.fit(X[:, :2], y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_errors_are_value_errors(Estimator, data):
    X, _ = data
    with pytest.raises(ValueError, match="class"):
        Estimator().fit(X, np.zeros(len(X)))
