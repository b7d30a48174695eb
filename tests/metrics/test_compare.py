"""DeLong's paired test, compare_models and the Holm adjustment.

The test's variance is checked against the quadratic DeLong formula ``S_aa + S_bb - 2 S_ab``
(written out here from the Mann-Whitney placements); Holm and Bonferroni against statsmodels.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special
from statsmodels.stats.multitest import multipletests

from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.metrics._compare import (
    AucComparison,
    ModelComparison,
    adjust_p_values,
    compare_models,
    delong_roc_test,
)
from verdict.metrics._delong import delong_roc_ci
from verdict.metrics._mcnemar import mcnemar_test

TOL = 1e-10


def placements(y_pos: np.ndarray, s: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    pos, neg = s[y_pos], s[~y_pos]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    return float(psi.mean()), psi.mean(axis=1), psi.mean(axis=0)


def reference_test(y_pos: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """DeLong et al. (1988): the 2x2 covariance matrices S10, S01 of the placements."""
    auc_a, a10, a01 = placements(y_pos, a)
    auc_b, b10, b01 = placements(y_pos, b)
    s10 = np.cov(np.vstack([a10, b10]))
    s01 = np.cov(np.vstack([a01, b01]))
    cov = s10 / a10.size + s01 / a01.size
    variance = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    z = (auc_a - auc_b) / np.sqrt(variance)
    return auc_a - auc_b, variance, float(2 * special.ndtr(-abs(z)))


def make_pair(rng: np.random.Generator, n: int, decimals: int | None = 1):
    y = rng.integers(0, 2, n).astype(bool)
    y[:2], y[2:4] = True, False
    shared = rng.normal(size=n)
    a = shared + rng.normal(size=n) + 0.9 * y
    b = shared + rng.normal(size=n) + 0.6 * y
    if decimals is not None:
        a, b = np.round(a, decimals), np.round(b, decimals)
    return y, a, b


# --------------------------------------------------------------------------- delong_roc_test


@pytest.mark.parametrize("decimals", [None, 2, 1, 0])
@pytest.mark.parametrize("n", [6, 50, 500])
def test_delong_test_matches_quadratic_reference(n, decimals):
    rng = np.random.default_rng(n + (decimals or 9))
    y, a, b = make_pair(rng, n, decimals)
    r = delong_roc_test(y, a, b)
    difference, variance, p_value = reference_test(y, a, b)
    assert abs(r.difference - difference) <= TOL
    assert abs(r.variance - variance) <= TOL
    assert abs(r.p_value - p_value) <= TOL
    assert r.auc_a == delong_roc_ci(y, a).auc and r.auc_b == delong_roc_ci(y, b).auc
    half = special.ndtri(0.975) * np.sqrt(variance)
    assert r.low == pytest.approx(difference - half, abs=1e-12)
    assert r.high == pytest.approx(difference + half, abs=1e-12)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([None, 1, 0]))
def test_delong_test_is_symmetric_and_identical_scores_give_p_one(seed, decimals):
    rng = np.random.default_rng(seed)
    y, a, b = make_pair(rng, int(rng.integers(4, 200)), decimals)
    ab, ba = delong_roc_test(y, a, b), delong_roc_test(y, b, a)
    assert ab.difference == -ba.difference
    assert ab.variance == ba.variance and ab.p_value == ba.p_value and ab.z == -ba.z
    assert (ab.low, ab.high) == (-ba.high, -ba.low)
    same = delong_roc_test(y, a, a.copy())
    assert (same.difference, same.variance, same.z, same.p_value) == (0.0, 0.0, 0.0, 1.0)
    assert (same.low, same.high) == (0.0, 0.0)


def test_zero_variance_with_a_difference_is_decisive_not_nan():
    y = np.array([0, 0, 1, 1, 0, 1])
    r = delong_roc_test(y, y + 0.0, np.full(6, 0.5))  # perfect against constant
    assert (r.difference, r.variance, r.z, r.p_value) == (0.5, 0.0, np.inf, 0.0)


def test_multiclass_test_compares_macro_aucs():
    rng = np.random.default_rng(4)
    n, k = 240, 3
    y = rng.integers(0, k, n)
    noise = rng.normal(size=(n, k))
    pa = special.softmax(np.round(noise + 1.2 * np.eye(k)[y], 1), axis=1)
    pb = special.softmax(np.round(noise + rng.normal(size=(n, k)) + np.eye(k)[y], 1), axis=1)
    r = delong_roc_test(y, pa, pb)
    assert r.auc_a == pytest.approx(delong_roc_ci(y, pa).auc, abs=1e-12)
    # reference: the macro AUC's influence terms are the mean of the per-class ones
    phis = []
    for p in (pa, pb):
        rows = []
        for c in range(k):
            auc, v10, v01 = placements(y == c, p[:, c])
            m, q = v10.size, v01.size
            phi = np.empty(n)
            phi[y == c] = (v10 - auc) / np.sqrt(m * (m - 1))
            phi[y != c] = (v01 - auc) / np.sqrt(q * (q - 1))
            rows.append(phi)
        phis.append(np.mean(rows, axis=0))
    assert abs(r.variance - float(((phis[0] - phis[1]) ** 2).sum())) <= TOL
    assert delong_roc_test(y, pa, pa).p_value == 1.0


def test_delong_test_null_rejection_rate_is_nominal():
    """Two equally good correlated models: about 5% of seeded tests reject at 0.05."""
    rng = np.random.default_rng(123)
    rejections = 0
    for _ in range(400):
        y = np.repeat([False, True], 100)
        shared = rng.normal(size=200)
        a = shared + rng.normal(size=200) + y
        b = shared + rng.normal(size=200) + y
        rejections += delong_roc_test(y, a, b).p_value < 0.05
    assert 0.02 <= rejections / 400 <= 0.08


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (([0, 1, 0, 1], [1, 2, 3, 4], [1, 2, 3]), {}, "different numbers"),
        (([0, 1, 0, 1], [1, 2, 3, 4], np.ones((4, 2))), {}, "shape"),
        (([0, 1, 0, 1], [1, 2, 3, 4], [1, 2, np.inf, 4]), {}, "infinity"),
        (([0, 1, 0, 0], [1, 2, 3, 4], [1, 2, 3, 4]), {}, "two positive"),
        (([0, 1, 0, 1], [1, 2, 3, 4], [1, 2, 3, 4]), {"confidence": 0}, "confidence"),
    ],
)
def test_delong_test_bad_input(args, kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        delong_roc_test(*args, **kwargs)


def test_comparison_prints_and_converts():
    rng = np.random.default_rng(0)
    y, a, b = make_pair(rng, 80)
    r = delong_roc_test(y, a, b)
    assert isinstance(r, AucComparison) and str(r).startswith("AucComparison(auc_a=")
    assert set(json.loads(json.dumps(r.to_dict()))) >= {"z", "p_value", "low", "high"}


# --------------------------------------------------------------------------- adjust_p_values


@settings(max_examples=25, deadline=None)  # multipletests takes ~70 ms a call
@given(
    st.lists(
        st.one_of(st.floats(0, 1), st.sampled_from([0.0, 0.01, 0.05, 1.0])),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from(["holm", "bonferroni"]),
)
def test_adjustment_matches_statsmodels(p_values, method):
    ours = adjust_p_values(p_values, method=method)
    theirs = multipletests(p_values, method=method)[1]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)
    order = np.argsort(p_values, kind="stable")
    assert np.all(np.diff(ours[order]) >= 0)  # monotone in the raw p-values
    assert np.all(ours >= np.asarray(p_values)) and np.all(ours <= 1)


def test_adjustment_edge_cases():
    assert adjust_p_values([], method="holm").shape == (0,)
    np.testing.assert_array_equal(adjust_p_values([0.2, 0.01], method=None), [0.2, 0.01])
    with pytest.raises(InvalidInputError, match="p_values"):
        adjust_p_values([0.1, 1.5])
    with pytest.raises(InvalidInputError, match="p_values"):
        adjust_p_values([0.1, np.nan])
    with pytest.raises(InvalidParameterError, match="'method' parameter"):
        adjust_p_values([0.1], method="fdr")


# --------------------------------------------------------------------------- compare_models


def three_models(rng: np.random.Generator, n: int = 400):
    y = rng.integers(0, 2, n)
    shared = rng.normal(size=n)
    scores = {
        "strong": shared + rng.normal(size=n) + 1.6 * y,
        "weak": shared + rng.normal(size=n) + 0.3 * y,
        "close": shared + rng.normal(size=n) + 1.5 * y,
    }
    return y, scores


def test_compare_models_runs_every_pair_with_holm():
    rng = np.random.default_rng(8)
    y, scores = three_models(rng)
    r = compare_models(y, scores)
    assert isinstance(r, ModelComparison) and r.best == "strong"
    assert [(c.model_a, c.model_b) for c in r.comparisons] == [
        ("strong", "weak"),
        ("strong", "close"),
        ("weak", "close"),
    ]
    raw = []
    for c in r.comparisons:
        single = delong_roc_test(y, scores[c.model_a], scores[c.model_b])
        assert c.difference == single.difference and c.p_value == pytest.approx(single.p_value)
        assert (c.low, c.high, c.statistic) == pytest.approx((single.low, single.high, single.z))
        raw.append(single.p_value)
    adjusted = multipletests(raw, method="holm")[1]
    assert [c.p_adjusted for c in r.comparisons] == pytest.approx(adjusted, rel=1e-9)
    assert r.better_than == {"weak": True, "close": False}
    for name, s in scores.items():
        ci = delong_roc_ci(y, s)
        assert r.estimates[name].estimate == ci.auc
        assert (r.estimates[name].low, r.estimates[name].high) == pytest.approx((ci.low, ci.high))
    assert len(r.table()) == 3 and r.table()[0]["model_a"] == "strong"
    assert "\n" not in str(r) and "better_than" in str(r)
    json.dumps(r.to_dict())


def test_compare_models_against_the_best_only():
    rng = np.random.default_rng(8)
    y, scores = three_models(rng)
    r = compare_models(y, scores, pairs="best", correction="bonferroni")
    assert [(c.model_a, c.model_b) for c in r.comparisons] == [
        ("strong", "weak"),
        ("strong", "close"),
    ]
    raw = [c.p_value for c in r.comparisons]
    assert [c.p_adjusted for c in r.comparisons] == pytest.approx(np.minimum(np.array(raw) * 2, 1))


def test_compare_models_multiclass_scores():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 300)
    logits = rng.normal(size=(300, 3))
    scores = {"good": logits + 2 * np.eye(3)[y], "poor": logits + 0.2 * np.eye(3)[y]}
    r = compare_models(y, scores)
    assert r.best == "good" and r.better_than == {"poor": True}
    single = delong_roc_test(y, scores["good"], scores["poor"])
    assert r.comparisons[0].p_value == pytest.approx(single.p_value, rel=1e-12)


def test_compare_models_with_mcnemar_on_labels():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 300)
    flip = lambda rate: np.where(rng.random(300) < rate, rng.integers(0, 3, 300), y)  # noqa: E731
    preds = {"a": flip(0.2), "b": flip(0.6), "c": flip(0.25)}
    r = compare_models(y, preds, test="mcnemar")
    assert r.metric == "accuracy" and r.best == "a"
    for c in r.comparisons:
        single = mcnemar_test(y, preds[c.model_a], preds[c.model_b])
        assert c.p_value == single.p_value and c.statistic == single.statistic
        assert c.difference == pytest.approx(single.accuracy_a - single.accuracy_b)
        assert c.low < c.difference < c.high
    assert r.better_than["b"] is True
    assert r.estimates["a"].method == "wilson" and r.estimates["a"].low < r.estimates["a"].estimate


def test_compare_models_ties_for_best_take_the_first():
    y = np.array([0, 1, 0, 1, 0, 1])
    s = np.array([0.1, 0.9, 0.2, 0.8, 0.6, 0.4])
    r = compare_models(y, {"x": s, "y": s.copy()})
    assert r.best == "x" and r.better_than == {"y": False}
    assert r.comparisons[0].p_value == 1.0


@pytest.mark.parametrize(
    ("scores", "kwargs", "error", "match"),
    [
        ({"only": [0.1, 0.2, 0.3, 0.4]}, {}, InvalidInputError, "at least two"),
        ([[0.1, 0.2, 0.3, 0.4]] * 2, {}, InvalidInputError, "mapping"),
        ({1: [0.1, 0.2, 0.3, 0.4], 2: [0.1, 0.2, 0.3, 0.4]}, {}, InvalidInputError, "names"),
        ({"a": [0.1, 0.2, 0.3, 0.4], "b": np.ones((4, 2))}, {}, InvalidInputError, "layout"),
        ({"a": [0.1, 0.2, 0.3, 0.4], "b": [0.1, 0.2]}, {}, InvalidInputError, "scores\\['b'\\]"),
        ({"a": [0, 1, 0, 1], "b": [0, 1, 1, 1]}, {"test": "t"}, InvalidParameterError, "'test'"),
        ({"a": [0, 1, 0, 1], "b": [0, 1, 1, 1]}, {"pairs": "x"}, InvalidParameterError, "'pairs'"),
        (
            {"a": [0, 1, 0, 1], "b": [0, 1, 1, 1]},
            {"correction": "fdr"},
            InvalidParameterError,
            "'correction'",
        ),
        (
            {"a": [0, 1, 0, 1], "b": [0, 1, 1, 1]},
            {"test": "mcnemar", "pos_label": 1},
            InvalidInputError,
            "pos_label",
        ),
    ],
)
def test_compare_models_bad_input(scores, kwargs, error, match):
    with pytest.raises(error, match=match):
        compare_models([0, 1, 0, 1], scores, **kwargs)
