"""Degenerate resamples are counted, left out and reported; bad input gets a clear error."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from verdict.errors import InvalidInputError, InvalidParameterError, UndefinedMetricWarning
from verdict.metrics.bootstrap._front import bootstrap_ci, paired_bootstrap_ci


def rare_class(n=40):
    """Class 2 has a single sample: about (1 - 1/n)^n, i.e. 37%, of resamples lack it."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, n)
    y[0] = 2
    yp = np.where(rng.random(n) < 0.8, y, rng.integers(0, 3, n))
    return y, yp


def test_missing_class_is_degenerate_counted_and_reported():
    y, yp = rare_class()
    with pytest.warns(UndefinedMetricWarning) as record:
        ci = bootstrap_ci("f1_macro", y, yp, random_state=0, return_distribution=True)
    message = str(record[0].message)
    assert f"{ci.n_degenerate} of 1000 bootstrap resamples" in message
    assert "a class of y_true is missing" in message and "stratified=True" in message
    assert "may be too narrow" in message  # about a third: far above the 10% mark
    assert 250 < ci.n_degenerate < 500
    assert np.isnan(ci.distribution).sum() == ci.n_degenerate
    valid = ci.distribution[~np.isnan(ci.distribution)]
    assert np.isfinite([ci.low, ci.high]).all()
    assert (ci.low, ci.high) == tuple(np.quantile(valid, [0.025, 0.975]))


def test_micro_averages_and_accuracy_are_never_degenerate():
    y, yp = rare_class()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for metric in ("accuracy", "f1_micro", "matthews_corrcoef"):
            assert bootstrap_ci(metric, y, yp, random_state=0).n_degenerate == 0


def test_stratified_resampling_removes_missing_class_degeneracy():
    y, yp = rare_class()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ci = bootstrap_ci("f1_macro", y, yp, random_state=0, stratified=True, method="bca")
    assert ci.n_degenerate == 0 and ci.low < ci.estimate < ci.high


def test_ranking_metric_with_a_lone_positive():
    y = np.zeros(30, dtype=int)
    y[3] = 1
    s = np.linspace(0, 1, 30)
    with pytest.warns(UndefinedMetricWarning, match="no positive or no negative sample"):
        ci = bootstrap_ci("roc_auc", y, s, random_state=1)
    assert ci.n_degenerate > 250
    assert np.isfinite([ci.low, ci.high]).all()


def test_too_few_valid_resamples_give_nan_bounds_and_say_so():
    calls = []

    def fragile(a, b):  # defined on the data as given (the first call), on no resample
        calls.append(1)
        if len(calls) == 1:
            return 1.0
        raise ValueError("undefined")

    y = np.array([0, 1, 2])
    with pytest.warns(UndefinedMetricWarning, match="no interval: low and high are NaN"):
        ci = bootstrap_ci(fragile, y, y, random_state=0, n_resamples=50)
    assert ci.estimate == 1.0 and np.isnan(ci.low) and np.isnan(ci.high)
    assert ci.n_degenerate == 50
    assert ci.to_dict()["low"] is None  # JSON-ready: null, not NaN


def test_callable_returning_nan_is_degenerate():
    def half_nan(a, b):
        return float("nan") if a.mean() > np.mean([0, 1, 1, 0, 1]) else 0.5

    y = np.array([0, 1, 1, 0, 1])
    with pytest.warns(UndefinedMetricWarning, match="raised a ValueError or returned NaN"):
        ci = bootstrap_ci(half_nan, y, y, random_state=0, n_resamples=200)
    assert 0 < ci.n_degenerate < 200


def test_metric_undefined_on_the_data_itself_is_an_error():
    with pytest.raises(InvalidInputError, match=r"undefined .* on the data as given"):
        bootstrap_ci("roc_auc", [0, 0, 0], [0.1, 0.2, 0.3], labels=[0, 1])
    with pytest.raises(InvalidInputError, match="Only one class"):
        bootstrap_ci("roc_auc", [0, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(InvalidInputError, match=r"undefined .* on the data as given"):
        bootstrap_ci("cohen_kappa", [1, 1, 1], [1, 1, 1], labels=[0, 1])


def test_callable_errors_on_the_data_propagate():
    def broken(a, b):
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        bootstrap_ci(broken, [0, 1], [0, 1])
    with pytest.raises(InvalidInputError, match="must return one number"):
        bootstrap_ci(lambda a, b: np.array([1.0, 2.0]), [0, 1], [0, 1])


Y = np.array([0, 1, 0, 1, 1, 0])
P = np.array([0, 1, 1, 1, 0, 0])


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (("f2_macro", Y, P), {}, InvalidParameterError, "must be a metric name or a callable"),
        ((3, Y, P), {}, InvalidParameterError, "metric name or a callable"),
        (("f1", Y, P), {"method": "basic"}, InvalidParameterError, "'method'"),
        (("f1", Y, P), {"confidence": 95}, InvalidParameterError, "'confidence'"),
        (("f1", Y, P), {"n_resamples": 1}, InvalidParameterError, "'n_resamples'"),
        (("f1", Y, P), {"n_resamples": 10.0}, InvalidParameterError, "'n_resamples'"),
        (("f1", Y, P), {"random_state": -1}, InvalidParameterError, "'random_state'"),
        (("f1", Y, P), {"random_state": "x"}, InvalidParameterError, "'random_state'"),
        (("f1", Y, P), {"stratified": "yes"}, InvalidParameterError, "'stratified'"),
        (("f1", Y, P), {"return_distribution": 1}, InvalidParameterError, "return_distribution"),
        (("f1", Y, P[:5]), {}, InvalidInputError, "different numbers of samples"),
        (("f1", Y, P), {"sample_weight": -np.ones(6)}, InvalidInputError, "non-negative"),
        (("f1", Y, P), {"sample_weight": np.ones(5)}, InvalidInputError, "sample_weight"),
        (("f1", Y, P + 2), {}, InvalidInputError, "needs a binary target"),
        (("f1", Y, P.astype(str)), {}, InvalidInputError, "Mix of label input types"),
        (("roc_auc", [0, 1, 2] * 2, np.ones(6)), {}, InvalidInputError, "1-D but y_true has 3"),
        (("roc_auc", Y, np.full(6, np.nan)), {}, InvalidInputError, "y_pred_or_score"),
        (("log_loss", Y, np.full(6, 1.5)), {}, InvalidInputError, "greater than 1"),
        (("log_loss", [0, 1, 2] * 2, np.ones((6, 3))), {}, InvalidInputError, "sum to 1"),
        (("top_3_accuracy", [0, 1, 2] * 2, np.ones((6, 3)) / 3), {}, InvalidInputError, "k"),
        (("roc_auc", Y, np.ones((6, 3)) / 3), {}, InvalidInputError, "3 columns"),
        (
            ("f1_macro", [0, 1, 2] * 2, [0, 1, 2] * 2),
            {"labels": [0, 1]},
            InvalidInputError,
            "not in labels",
        ),
    ],
)
def test_errors_name_the_argument(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        bootstrap_ci(*args, **kwargs)


def test_paired_errors():
    with pytest.raises(InvalidParameterError, match="'method'"):
        paired_bootstrap_ci("accuracy", Y, P, P, method="wilson")
    with pytest.raises(InvalidInputError, match="pred_b has 5"):
        paired_bootstrap_ci("accuracy", Y, P, P[:5])
