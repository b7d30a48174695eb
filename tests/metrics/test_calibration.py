"""Calibration: calibration_curve against scikit-learn; ECE, MCE and reliability data against
an independent loop over the bins (bin b holds p with edges[b] < p <= edges[b + 1], the first
bin also p == 0)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sklearn.calibration as skcal
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.metrics._calibration import (
    ReliabilityDiagram,
    calibration_curve,
    expected_calibration_error,
    max_calibration_error,
    reliability_diagram,
)

# Probabilities on the bin edges of 5 and 10 uniform bins, and the extremes 0 and 1.
EDGE_VALUES = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0])


def make_probs(rng: np.random.Generator, n: int, kind: str) -> np.ndarray:
    if kind == "uniform":
        return rng.random(n)
    if kind == "edges":
        return rng.choice(EDGE_VALUES, n)
    if kind == "extremes":  # mostly 0 and 1, as from an overconfident model
        return np.where(rng.random(n) < 0.8, rng.integers(0, 2, n).astype(float), rng.random(n))
    if kind == "float32":
        return rng.random(n).astype(np.float32)
    return np.round(rng.beta(0.5, 0.5, n), 2)  # "ties"


# --------------------------------------------------------------------------- calibration_curve


@pytest.mark.parametrize("kind", ["uniform", "edges", "extremes", "float32", "ties"])
@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("n_bins", [1, 3, 5, 10, 37])
def test_calibration_curve_matches_sklearn(same, kind, strategy, n_bins):
    rng = np.random.default_rng(n_bins)
    p = make_probs(rng, 300, kind)
    y = (rng.random(300) < p).astype(int)
    kw = {"n_bins": n_bins, "strategy": strategy}
    same(skcal.calibration_curve, y, p, ours=calibration_curve, **kw)


@pytest.mark.parametrize(
    ("y", "pos_label"),
    [
        (np.array(["no", "yes"]), "yes"),
        (np.array(["no", "yes"]), "no"),
        (np.array([-1, 1]), None),
        (np.array([False, True]), None),
        (np.array([2, 7]), 7),
        (np.array([0, 1]), 3),  # a label that never occurs: no positives
        (np.array([1, 1]), None),  # one class only
        (np.array(["a", "b"]), None),  # strings need pos_label: both raise
        (np.array([2, 7]), None),
        (np.array([0, 1, 2]), 1),  # multiclass: both raise
    ],
)
def test_calibration_curve_labels_like_sklearn(same, y, pos_label):
    rng = np.random.default_rng(0)
    y_true = rng.choice(y, 200)
    p = make_probs(rng, 200, "edges")
    same(skcal.calibration_curve, y_true, p, ours=calibration_curve, pos_label=pos_label)


@pytest.mark.parametrize(
    ("p", "kw"),
    [
        ([0.1, 0.5, 1.2, 0.3], {}),
        ([0.1, -0.5, 0.2, 0.3], {}),
        ([0.1, 0.5, 0.2], {}),
        ([0.1, 0.5, 0.2, 0.3], {"n_bins": 0}),
        ([0.1, 0.5, 0.2, 0.3], {"n_bins": 2.5}),
        ([0.1, 0.5, 0.2, 0.3], {"strategy": "kmeans"}),
    ],
)
def test_calibration_curve_errors_like_sklearn(same, p, kw):
    exc = same(skcal.calibration_curve, [0, 1, 1, 0], p, ours=calibration_curve, **kw)
    assert isinstance(exc, ValueError)


def test_calibration_curve_accepts_a_column_and_refuses_a_matrix():
    y, p = np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.6, 0.3])
    np.testing.assert_array_equal(calibration_curve(y, p[:, None])[0], calibration_curve(y, p)[0])
    with pytest.raises(InvalidInputError, match="1-D"):
        calibration_curve(y, np.c_[1 - p, p])
    with pytest.raises(InvalidInputError, match="NaN"):
        calibration_curve(y, [0.1, np.nan, 0.2, 0.3])


# --------------------------------------------------------------------------- reference


def loop_bins(prob, hits, weight, n_bins, strategy):
    """Independent binning: explicit comparisons with the edges, one sample at a time."""
    if strategy == "quantile":
        edges = np.percentile(prob, np.linspace(0, 1, n_bins + 1) * 100)
    else:
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    sums = np.zeros((n_bins, 3))
    for p, h, w in zip(prob, hits, weight, strict=True):
        b = next((i for i in range(n_bins - 1) if p <= edges[i + 1]), n_bins - 1)
        sums[b] += (w, w * p, w * h)
    return edges, sums


def loop_errors(prob, hits, weight, n_bins, strategy):
    _, sums = loop_bins(prob, hits, weight, n_bins, strategy)
    full = sums[:, 0] > 0
    gaps = np.abs(sums[full, 1] - sums[full, 2]) / sums[full, 0]
    return float((sums[full, 0] * gaps).sum() / sums[:, 0].sum()), float(gaps.max())


def multiclass_data(rng, n=400, k=4):
    y = rng.integers(0, k, n)
    p = special.softmax(np.round(rng.normal(size=(n, k)) + np.eye(k)[y], 1), axis=1)
    p[:5] = 0.0
    p[:5, :3] = [0.4, 0.4, 0.2]  # ties for the top class go to the lowest index
    y[:5] = 1
    return y, p


# --------------------------------------------------------------------------- ECE and MCE


@pytest.mark.parametrize("kind", ["uniform", "edges", "extremes", "ties"])
@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_ece_and_mce_match_loop_reference(kind, strategy, weighted):
    rng = np.random.default_rng(42)
    p = make_probs(rng, 250, kind)
    y = (rng.random(250) < p**1.5).astype(int)
    w = rng.random(250) * 2 if weighted else None
    kw = {"n_bins": 7, "strategy": strategy, "sample_weight": w}
    ece, mce = loop_errors(p, y == 1, np.ones(250) if w is None else w, 7, strategy)
    assert expected_calibration_error(y, p, **kw) == pytest.approx(ece, rel=1e-12, abs=1e-15)
    assert max_calibration_error(y, p, **kw) == pytest.approx(mce, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_top_label_ece_matches_loop_reference(strategy):
    rng = np.random.default_rng(1)
    y, p = multiclass_data(rng)
    top = np.array([max(range(4), key=lambda k, row=row: (row[k], -k)) for row in p])
    conf = p[np.arange(p.shape[0]), top]
    ece, mce = loop_errors(conf, top == y, np.ones(y.shape[0]), 10, strategy)
    kw = {"strategy": strategy}
    assert expected_calibration_error(y, p, **kw) == pytest.approx(ece, rel=1e-12)
    assert max_calibration_error(y, p, **kw) == pytest.approx(mce, rel=1e-12)
    assert top[0] == 0 and y[0] == 1  # the tie went to class 0, which is wrong


def test_classwise_ece_is_the_mean_of_per_class_binary_ece():
    rng = np.random.default_rng(2)
    y, p = multiclass_data(rng)
    w = rng.integers(1, 4, y.shape[0])
    per_class = [loop_errors(p[:, k], y == k, w.astype(float), 6, "uniform") for k in range(4)]
    kw = {"n_bins": 6, "multiclass": "classwise", "sample_weight": w}
    assert expected_calibration_error(y, p, **kw) == pytest.approx(
        np.mean([e for e, _ in per_class]), rel=1e-12
    )
    assert max_calibration_error(y, p, **kw) == pytest.approx(max(m for _, m in per_class))


def test_integer_weights_equal_repeated_rows():
    rng = np.random.default_rng(3)
    y, p = multiclass_data(rng, 200, 3)
    w = rng.integers(0, 4, 200)
    w[0] = 1
    weighted = expected_calibration_error(y, p, sample_weight=w, multiclass="classwise")
    repeated = expected_calibration_error(
        np.repeat(y, w), np.repeat(p, w, axis=0), multiclass="classwise"
    )
    assert weighted == pytest.approx(repeated, rel=1e-12)


def test_string_labels_and_labels_argument():
    rng = np.random.default_rng(4)
    y, p = multiclass_data(rng, 120, 3)
    names = np.array(["ant", "bee", "cat"])[y]
    ece = expected_calibration_error(y, p)
    assert expected_calibration_error(names, p) == ece
    assert expected_calibration_error(names[y != 2], p[y != 2], labels=["ant", "bee", "cat"]) >= 0
    binary = np.where(y == 1, "yes", "no")
    assert expected_calibration_error(binary, p[:, 1], pos_label="yes") == pytest.approx(
        expected_calibration_error(y == 1, p[:, 1])
    )


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 20), st.sampled_from(["uniform", "quantile"]))
def test_errors_are_bounded_and_ordered(seed, n_bins, strategy):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 80))
    p = make_probs(rng, n, "extremes")
    y = rng.integers(0, 2, n)
    kw = {"n_bins": n_bins, "strategy": strategy}
    ece, mce = expected_calibration_error(y, p, **kw), max_calibration_error(y, p, **kw)
    assert 0 <= ece <= mce + 1e-15 <= 1 + 1e-15


def test_calibrated_probabilities_have_small_ece():
    rng = np.random.default_rng(5)
    p = rng.random(200_000)
    y = (rng.random(200_000) < p).astype(int)
    assert expected_calibration_error(y, p) < 0.01
    assert expected_calibration_error(y, p**3) > 0.1


# --------------------------------------------------------------------------- reliability data


def test_reliability_diagram_lists_every_bin():
    rng = np.random.default_rng(6)
    p = rng.random(300) * 0.7  # nothing above 0.7: the last bins stay empty
    y = (rng.random(300) < p).astype(int)
    r = reliability_diagram(y, p, n_bins=10)
    assert isinstance(r, ReliabilityDiagram) and r.kind == "binary"
    np.testing.assert_allclose(r.edges, np.linspace(0, 1, 11))
    full = r.counts > 0
    assert not full[-2:].any() and np.isnan(r.observed[~full]).all()
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10)
    np.testing.assert_allclose(r.observed[full], prob_true, rtol=1e-12)
    np.testing.assert_allclose(r.mean_predicted[full], prob_pred, rtol=1e-12)
    assert r.counts.sum() == 300
    assert r.expected_calibration_error == expected_calibration_error(y, p)
    assert r.max_calibration_error == max_calibration_error(y, p)
    data = json.loads(json.dumps(r.to_dict()))
    assert data["observed"][-1] is None and "\n" not in str(r)


def test_reliability_diagram_top_label_and_weights():
    rng = np.random.default_rng(7)
    y, p = multiclass_data(rng)
    w = rng.random(y.shape[0])
    r = reliability_diagram(y, p, n_bins=5, strategy="quantile", sample_weight=w)
    assert r.kind == "top_label" and r.strategy == "quantile"
    assert r.counts.sum() == pytest.approx(w.sum())
    assert r.expected_calibration_error == pytest.approx(
        expected_calibration_error(y, p, n_bins=5, strategy="quantile", sample_weight=w)
    )


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("y", "p", "kw", "error", "match"),
    [
        ([0, 1], [0.2, 0.8], {"n_bins": 0}, InvalidParameterError, "n_bins"),
        ([0, 1], [0.2, 0.8], {"n_bins": True}, InvalidParameterError, "n_bins"),
        ([0, 1], [0.2, 0.8], {"strategy": "equal"}, InvalidParameterError, "strategy"),
        ([0, 1], [0.2, 0.8], {"multiclass": "ovr"}, InvalidParameterError, "multiclass"),
        ([0, 1, 2], [0.2, 0.8, 0.5], {}, InvalidInputError, "binary"),
        (["a", "b"], [0.2, 0.8], {}, InvalidInputError, "pos_label"),
        ([0, 1], [0.2, 1.8], {}, InvalidInputError, "greater than 1"),
        ([0, 1], [0.2, 0.8, 0.1], {}, InvalidInputError, "different numbers"),
        ([0, 1], [0.2, 0.8], {"sample_weight": [1, 2, 3]}, InvalidInputError, "sample_weight"),
        ([0, 1], [0.2, 0.8], {"labels": [0, 1]}, InvalidInputError, "labels"),
        ([0, 1], [[0.2, 0.8], [0.5, 0.5]], {"pos_label": 1}, InvalidInputError, "pos_label"),
        ([0, 1], [[0.2, 0.7], [0.5, 0.5]], {}, InvalidInputError, "sum to 1"),
        ([0, 2], [[0.2, 0.3, 0.5], [0.5, 0.5, 0]], {}, InvalidInputError, "labels"),
    ],
)
def test_bad_input(y, p, kw, error, match):
    with pytest.raises(error, match=match):
        expected_calibration_error(y, p, **kw)
