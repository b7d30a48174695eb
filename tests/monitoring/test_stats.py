"""Drift statistics against direct implementations of their formulas and against scipy."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial.distance import jensenshannon

from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.monitoring._stats import (
    MISSING,
    chi2_from_counts,
    chi2_test,
    jensen_shannon,
    ks_from_counts,
    ks_statistic,
    ks_test,
    psi,
)


def direct_psi(ref, cur, edges, eps=1e-4):
    """The documented formula with explicit loops: bins [e_{i-1}, e_i), outer bins open."""
    bounds = [-math.inf, *edges, math.inf]
    total = 0.0
    for lo, hi in itertools.pairwise(bounds):
        e = sum(lo <= x < hi for x in ref) / len(ref) or eps
        a = sum(lo <= x < hi for x in cur) / len(cur) or eps
        total += (a - e) * math.log(a / e)
    return total


def direct_category_psi(ref, cur, eps=1e-4):
    total = 0.0
    for cat in set(ref) | set(cur):
        e = list(ref).count(cat) / len(ref) or eps
        a = list(cur).count(cat) / len(cur) or eps
        total += (a - e) * math.log(a / e)
    return total


@pytest.mark.parametrize("seed", range(5))
def test_psi_quantile_matches_formula(seed):
    rng = np.random.default_rng(seed)
    ref, cur = rng.normal(size=300), rng.normal(0.3, 1.2, size=150)
    edges = np.unique(np.quantile(ref, np.arange(1, 10) / 10))
    assert psi(ref, cur) == pytest.approx(direct_psi(ref, cur, edges), abs=1e-9)


def test_psi_deduplicates_quantile_edges():
    rng = np.random.default_rng(1)
    ref, cur = rng.integers(0, 3, size=200), rng.integers(0, 4, size=100)  # many tied quantiles
    edges = np.unique(np.quantile(ref, np.arange(1, 10) / 10))
    assert edges.size < 9
    assert psi(ref, cur) == pytest.approx(direct_psi(ref, cur, edges), abs=1e-9)
    # values equal to an edge fall in the bin to its right (closed on the left)
    assert psi([0, 1, 2, 2], [2, 2, 2, 2], bins=2) == pytest.approx(
        direct_psi([0, 1, 2, 2], [2, 2, 2, 2], [1.5]), abs=1e-9
    )


@pytest.mark.parametrize("bins", [2, 5, 10, 20])
def test_psi_uniform_binning(bins):
    rng = np.random.default_rng(bins)
    ref, cur = rng.exponential(size=400), rng.exponential(1.5, size=300)
    edges = np.linspace(ref.min(), ref.max(), bins + 1)[1:-1]
    got = psi(ref, cur, bins=bins, binning="uniform")
    assert got == pytest.approx(direct_psi(ref, cur, edges), abs=1e-9)


def test_psi_categorical_union_and_eps():
    ref = ["a", "a", "b", "c", None]
    cur = np.array(["a", "b", "b", "d", "d", np.nan], dtype=object)  # 'd' unseen, 'c' gone
    expected_ref = ["a", "a", "b", "c", MISSING]
    expected_cur = ["a", "b", "b", "d", "d", MISSING]
    for eps in (1e-4, 1e-2):
        want = direct_category_psi(expected_ref, expected_cur, eps)
        assert psi(ref, cur, eps=eps) == pytest.approx(want, abs=1e-9)
    assert psi(pd.Series(ref, dtype="category"), cur) == pytest.approx(
        direct_category_psi(expected_ref, expected_cur), abs=1e-9
    )


def test_psi_identical_is_zero_and_missing_dropped_for_numbers():
    x = np.arange(50.0)
    assert psi(x, x) == 0.0
    assert psi(np.r_[x, np.nan], x) == 0.0


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 300),
    st.integers(1, 300),
    st.booleans(),
)
def test_ks_matches_scipy(seed, m, n, ties):
    rng = np.random.default_rng(seed)
    draw = (
        (lambda k: rng.integers(0, 5, k).astype(float)) if ties else (lambda k: rng.normal(size=k))
    )
    ref, cur = draw(m), draw(n) + rng.uniform(-0.5, 0.5)
    want = stats.ks_2samp(ref, cur)
    got = ks_test(ref, cur)
    np.testing.assert_allclose(got.statistic, want.statistic, rtol=1e-12, atol=0)
    np.testing.assert_allclose(got.p_value, want.pvalue, rtol=1e-12, atol=0)
    # the detector's kernel gives scipy's statistic too
    assert ks_statistic(np.sort(ref), cur) == pytest.approx(want.statistic, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 200), st.integers(1, 200))
def test_count_kernels_match_scipy_on_resamples(seed, m, n):
    """The vectorised null kernels equal scipy on windows resampled from a reference."""
    rng = np.random.default_rng(seed)
    values = np.round(rng.normal(size=m), 1)
    distinct, codes = np.unique(values, return_inverse=True)
    rows_r, rows_w = rng.integers(0, m, (3, m)), rng.integers(0, m, (3, n))
    R = np.stack([np.bincount(codes[r], minlength=distinct.size) for r in rows_r])
    W = np.stack([np.bincount(codes[w], minlength=distinct.size) for w in rows_w])
    ks = ks_from_counts(R, W)
    chi2 = chi2_from_counts(R, W)
    for i in range(3):
        a, b = values[rows_r[i]], values[rows_w[i]]
        assert ks[i] == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-12)
        assert ks[i] == ks_statistic(np.sort(a), b)  # bit-identical: the null is comparable
        keep = (R[i] + W[i]) > 0
        if keep.sum() > 1:
            want = stats.chi2_contingency(np.stack([R[i], W[i]])[:, keep], correction=False)
            assert chi2[i] == pytest.approx(want[0], rel=1e-9, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from("abcde"), min_size=1), st.lists(st.sampled_from("abcdef"), min_size=1)
)
def test_chi2_matches_scipy_contingency(ref, cur):
    got = chi2_test(ref, cur)
    cats = sorted(set(ref) | set(cur))
    table = np.array([[r.count(c) for c in cats] for r in (ref, cur)])
    if len(cats) == 1:
        assert (got.statistic, got.p_value, got.dof) == (0.0, 1.0, 0)
        return
    stat, p_value, dof, _ = stats.chi2_contingency(table, correction=False)
    assert got.dof == dof == len(cats) - 1
    assert got.statistic == pytest.approx(stat, rel=1e-9, abs=1e-12)
    assert got.p_value == pytest.approx(p_value, rel=1e-9, abs=1e-12)


def test_chi2_equals_chisquare_on_flattened_table():
    """The homogeneity statistic is scipy's chisquare on the 2 x K table vs pooled expectations."""
    ref, cur = list("aaabbbbcc"), list("abbccccdd")
    cats = ["a", "b", "c", "d"]
    table = np.array([[r.count(c) for c in cats] for r in (ref, cur)], dtype=float)
    expected = table.sum(1, keepdims=True) * table.sum(0) / table.sum()
    want = stats.chisquare(table.ravel(), expected.ravel())
    assert chi2_test(ref, cur).statistic == pytest.approx(want.statistic, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from("abcd"), min_size=1), st.lists(st.sampled_from("abcde"), min_size=1)
)
def test_jensen_shannon_is_scipy_distance_squared(ref, cur):
    cats = sorted(set(ref) | set(cur))
    p = [ref.count(c) for c in cats]
    q = [cur.count(c) for c in cats]
    for base in (2, math.e):
        want = jensenshannon(p, q, base=base) ** 2
        assert jensen_shannon(ref, cur, base=base) == pytest.approx(want, abs=1e-12)
    assert 0.0 <= jensen_shannon(ref, cur) <= 1.0 + 1e-12


def test_jensen_shannon_numeric_uses_quantile_bins():
    rng = np.random.default_rng(0)
    ref, cur = rng.normal(size=500), rng.normal(1, size=500)
    edges = np.unique(np.quantile(ref, np.arange(1, 10) / 10))
    p = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=edges.size + 1)
    q = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=edges.size + 1)
    assert jensen_shannon(ref, cur) == pytest.approx(jensenshannon(p, q, base=2) ** 2, abs=1e-12)


def test_datetimes_are_numbers():
    ref = pd.Series(pd.date_range("2024-01-01", periods=100, freq="D"))
    cur = ref + pd.Timedelta(days=30)
    want = stats.ks_2samp(ref.astype("int64"), cur.astype("int64"))
    assert ks_test(ref, cur).statistic == pytest.approx(want.statistic, abs=1e-12)
    assert psi(ref, cur) > 0.1


@pytest.mark.parametrize(
    ("func", "ref", "cur", "match"),
    [
        (psi, [], [1.0], "empty"),
        (psi, [[1.0, 2.0]], [1.0], "1-D"),
        (psi, [np.nan, np.nan], [1.0], "only missing"),
        (psi, [1.0, 2.0], ["a", "b"], "same column"),
        (ks_test, ["a", "b"], ["a"], "chi2_test"),
        (ks_test, [1.0, 2.0], [np.nan], "only missing"),
        (chi2_test, ["a"], [], "empty"),
        (jensen_shannon, None, [1.0], "None"),
    ],
)
def test_invalid_inputs(func, ref, cur, match):
    with pytest.raises(InvalidInputError, match=match) as info:
        func(ref, cur)
    assert "To fix" in str(info.value)


@pytest.mark.parametrize(
    "kwargs", [{"bins": 1}, {"bins": 2.5}, {"binning": "equal"}, {"eps": 0}, {"eps": True}]
)
def test_invalid_psi_parameters(kwargs):
    with pytest.raises(InvalidParameterError):
        psi([1.0, 2.0], [1.0], **kwargs)
    with pytest.raises(InvalidParameterError, match="base"):
        jensen_shannon([1.0], [1.0], base=1)
