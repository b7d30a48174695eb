"""Analytic intervals for proportions (against statsmodels) and the bootstrap bound rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from verdict.errors import InvalidInputError, InvalidParameterError, UndefinedMetricWarning
from verdict.metrics._intervals import (
    ConfidenceInterval,
    acceleration,
    bca_bounds,
    percentile_bounds,
    proportion_ci,
)
from verdict.metrics.bootstrap._front import bootstrap_ci

SM_METHOD = {"wilson": "wilson", "clopper-pearson": "beta"}


@pytest.mark.parametrize("method", ["wilson", "clopper-pearson"])
@pytest.mark.parametrize("confidence", [0.8, 0.9, 0.95, 0.99])
@pytest.mark.parametrize(
    ("x", "n"), [(0, 1), (1, 1), (0, 10), (10, 10), (3, 10), (45, 50), (500, 1000), (1, 7919)]
)
def test_proportion_matches_statsmodels(method, confidence, x, n):
    ci = proportion_ci(x, n, confidence=confidence, method=method)
    low, high = proportion_confint(x, n, alpha=1 - confidence, method=SM_METHOD[method])
    assert ci.low == pytest.approx(low, abs=1e-12)
    assert ci.high == pytest.approx(high, abs=1e-12)
    assert ci.estimate == x / n
    assert (ci.metric, ci.method, ci.n_resamples, ci.confidence) == (
        "proportion",
        method,
        0,
        confidence,
    )


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(1, 10_000),
    share=st.floats(0, 1),
    confidence=st.floats(0.5, 0.999),
    method=st.sampled_from(["wilson", "clopper-pearson"]),
)
def test_proportion_properties(n, share, confidence, method):
    x = round(share * n)
    ci = proportion_ci(x, n, confidence=confidence, method=method)
    assert 0 <= ci.low <= ci.estimate <= ci.high <= 1
    wider = proportion_ci(x, n, confidence=min(0.9999, confidence + 0.0005), method=method)
    assert wider.low <= ci.low + 1e-12 and wider.high >= ci.high - 1e-12
    mirrored = proportion_ci(n - x, n, confidence=confidence, method=method)
    assert mirrored.low == pytest.approx(1 - ci.high, abs=1e-9)


def test_clopper_pearson_is_wider_than_wilson():
    wilson = proportion_ci(40, 50)
    exact = proportion_ci(40, 50, method="clopper-pearson")
    assert exact.low < wilson.low and exact.high > wilson.high


def test_proportion_result_prints_and_converts():
    ci = proportion_ci(9, 10)
    assert str(ci).startswith("ConfidenceInterval(metric='proportion', estimate=0.9")
    assert "distribution" not in str(ci)
    assert ci.to_dict()["high"] == ci.high
    assert ci.width == ci.high - ci.low


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"successes": 3, "trials": 0}, InvalidInputError, "trials must be at least 1"),
        ({"successes": 11, "trials": 10}, InvalidInputError, "between 0 and trials"),
        ({"successes": -1, "trials": 10}, InvalidInputError, "between 0 and trials"),
        ({"successes": 2.5, "trials": 10}, InvalidInputError, "successes must be a whole"),
        ({"successes": True, "trials": 10}, InvalidInputError, "whole number"),
        ({"successes": 1, "trials": "10"}, InvalidInputError, "trials must be a whole"),
        ({"successes": 1, "trials": 10, "confidence": 1.0}, InvalidParameterError, "confidence"),
        ({"successes": 1, "trials": 10, "confidence": 0}, InvalidParameterError, "confidence"),
        ({"successes": 1, "trials": 10, "method": "wald"}, InvalidParameterError, "'method'"),
    ],
)
def test_proportion_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        proportion_ci(**kwargs)


def test_integral_floats_are_counts():
    assert proportion_ci(3.0, 10.0).estimate == 0.3


# --------------------------------------------------------------------------- analytic metrics


def _binary(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(int)
    return y, np.where(rng.random(n) < 0.8, y, 1 - y)


@pytest.mark.parametrize("method", ["wilson", "clopper-pearson"])
def test_bootstrap_ci_analytic_proportions(method):
    y, yp = _binary()
    tp = int(np.sum((y == 1) & (yp == 1)))
    fp = int(np.sum((y == 0) & (yp == 1)))
    fn = int(np.sum((y == 1) & (yp == 0)))
    tn = int(np.sum((y == 0) & (yp == 0)))
    n = y.shape[0]
    expected = {
        "accuracy": (tp + tn, n),
        "hamming_loss": (fp + fn, n),
        "precision": (tp, tp + fp),
        "recall_binary": (tp, tp + fn),
        "specificity_binary": (tn, tn + fp),
        "f1_micro": (tp + tn, n),
    }
    for metric, (x, trials) in expected.items():
        ci = bootstrap_ci(metric, y, yp, method=method, confidence=0.9)
        ref = proportion_ci(x, trials, confidence=0.9, method=method)
        assert (ci.estimate, ci.low, ci.high) == (ref.estimate, ref.low, ref.high), metric
        assert ci.method == method and ci.n_resamples == 0


def test_analytic_refuses_non_proportions_and_weights():
    y, yp = _binary()
    with pytest.raises(InvalidParameterError, match="analytic interval for proportions"):
        bootstrap_ci("f1_macro", y, yp, method="wilson")
    with pytest.raises(InvalidParameterError, match="analytic interval for proportions"):
        bootstrap_ci(lambda a, b: 0.5, y, yp, method="wilson")
    with pytest.raises(InvalidInputError, match="unweighted counts"):
        bootstrap_ci("accuracy", y, yp, method="wilson", sample_weight=np.ones(y.shape[0]))
    with pytest.raises(InvalidInputError, match="zero trials"):
        bootstrap_ci("precision", y, np.zeros_like(yp), method="wilson")


# --------------------------------------------------------------------------- bootstrap bounds


def _textbook_bca(values, estimate, jack, confidence):
    """Efron & Tibshirani (14.10)-(14.15), written out independently (no ties, no weights)."""
    z0 = stats.norm.ppf(np.mean(values < estimate))
    d = jack.mean() - jack
    a = (d**3).sum() / (6 * ((d**2).sum()) ** 1.5)
    alpha = 1 - confidence
    out = []
    for q in (alpha / 2, 1 - alpha / 2):
        z = stats.norm.ppf(q)
        out.append(np.quantile(values, stats.norm.cdf(z0 + (z0 + z) / (1 - a * (z0 + z)))))
    return tuple(out)


@pytest.mark.parametrize("seed", range(5))
def test_bca_matches_textbook(seed):
    rng = np.random.default_rng(seed)
    values = rng.gamma(3.0, size=999)
    jack = rng.gamma(2.0, size=57)
    estimate = float(np.median(values)) + 0.1
    ours = bca_bounds(values, estimate, jack, np.ones(57), 0.9, "m")
    assert ours == pytest.approx(_textbook_bca(values, estimate, jack, 0.9), rel=1e-12)


def test_acceleration_multiplicity_equals_repetition():
    jack = np.array([0.1, 0.5, 0.2, 0.9])
    counts = np.array([3, 1, 2, 5])
    assert acceleration(jack, counts) == pytest.approx(
        acceleration(np.repeat(jack, counts), np.ones(counts.sum())), rel=1e-12
    )
    assert acceleration(np.array([0.3, 0.3]), np.ones(2)) == 0.0
    assert acceleration(np.array([0.3, np.nan, 0.5]), np.ones(3)) == acceleration(
        np.array([0.3, 0.5]), np.ones(2)
    )


def test_percentile_bounds_are_quantiles():
    values = np.arange(1001.0)
    assert percentile_bounds(values, 0.9) == pytest.approx((50.0, 950.0), rel=1e-12)


def test_bca_with_estimate_outside_the_distribution_warns_and_stays_finite():
    values = np.linspace(1, 2, 100)
    with pytest.warns(UndefinedMetricWarning, match="outside the range"):
        low, high = bca_bounds(values, 0.5, np.array([0.1, 0.2, 0.4]), np.ones(3), 0.95, "m")
    assert math.isfinite(low) and math.isfinite(high) and low <= high


def test_bca_with_all_values_tied_is_the_point():
    values = np.full(50, 0.7)
    assert bca_bounds(values, 0.7, np.full(5, 0.7), np.ones(5), 0.95, "m") == (0.7, 0.7)


def test_result_is_frozen():
    ci = ConfidenceInterval("m", 0.5, 0.4, 0.6, 0.95, "percentile", 10)
    with pytest.raises(AttributeError):
        ci.low = 0.0  # type: ignore[misc]
