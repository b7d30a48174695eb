"""Invariants of bootstrap_ci on arbitrary small inputs (hypothesis)."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from verdict.metrics.bootstrap._front import bootstrap_ci, paired_bootstrap_ci
from verdict.metrics.bootstrap._metrics import COUNT_NAMES

SIGNED = ("matthews_corrcoef", "cohen_kappa")


@st.composite
def count_data(draw):
    k = draw(st.integers(2, 4))
    n = draw(st.integers(k, 40))
    y = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    yp = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    y[:k] = np.arange(k)  # every class present in y_true
    names = [m for m in COUNT_NAMES if k == 2 or not m.endswith("_binary")]
    return y, yp, draw(st.sampled_from(names))


@settings(max_examples=60, deadline=None)
@given(
    data=count_data(),
    method=st.sampled_from(["percentile", "bca"]),
    stratified=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_count_interval_invariants(data, method, stratified, seed):
    y, yp, metric = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ci = bootstrap_ci(
                metric,
                y,
                yp,
                n_resamples=60,
                method=method,
                stratified=stratified,
                random_state=seed,
                return_distribution=True,
            )
        except ValueError as exc:  # only kappa can be undefined on the data itself
            assert metric == "cohen_kappa" and "undefined" in str(exc)
            return
        order = np.random.default_rng(seed).permutation(y.shape[0])
        again = bootstrap_ci(
            metric,
            y[order],
            yp[order],
            n_resamples=60,
            method=method,
            stratified=stratified,
            random_state=seed,
        )
    assert np.isnan(ci.distribution).sum() == ci.n_degenerate <= 60
    if stratified and metric != "cohen_kappa":
        assert ci.n_degenerate == 0  # every class keeps its count
    lo, hi = (-1.0, 1.0) if metric in SIGNED else (0.0, 1.0)
    assert lo <= ci.estimate <= hi
    valid = ci.distribution[~np.isnan(ci.distribution)]
    if valid.shape[0] >= 2:
        assert valid.min() - 1e-12 <= ci.low <= ci.high <= valid.max() + 1e-12
        assert lo - 1e-12 <= ci.low and ci.high <= hi + 1e-12
    else:
        assert np.isnan(ci.low) and np.isnan(ci.high)
    np.testing.assert_equal((again.low, again.high), (ci.low, ci.high))  # row order is moot


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(4, 60),
    seed=st.integers(0, 2**16),
    ties=st.booleans(),
    metric=st.sampled_from(["roc_auc", "average_precision"]),
)
def test_ranking_interval_invariants(n, seed, ties, metric):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    s = rng.random(n)
    if ties:
        s = np.round(s, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ci = bootstrap_ci(metric, y, s, n_resamples=50, random_state=seed)
        flipped = bootstrap_ci("roc_auc", 1 - y, -s, n_resamples=50, random_state=seed)
        same = paired_bootstrap_ci(metric, y, s, s, n_resamples=30, random_state=seed)
    assert 0 <= ci.estimate <= 1
    if np.isfinite(ci.low):
        assert 0 <= ci.low <= ci.high <= 1
    if metric == "roc_auc":  # relabelling both classes and negating scores keeps the AUC
        assert abs(flipped.estimate - ci.estimate) < 1e-12
    assert same.difference == 0 and same.share_a_higher == 0 and same.share_b_higher == 0
