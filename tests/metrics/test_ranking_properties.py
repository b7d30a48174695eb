"""Property-based tests (hypothesis) for the ranking metrics and their one-sort kernel.

Scores are drawn as small integers (optionally scaled by a power of two) so that every
transform below is exact in floating point and keeps ties as ties.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from verdict.metrics._curves import precision_recall_curve, roc_curve
from verdict.metrics._ranking import binary_counts
from verdict.metrics._ranking_multiclass import average_precision_score, roc_auc_score

RTOL = 1e-12
SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def binary_case(draw, weighted: bool = False):
    """Labels with both classes, integer-valued scores (ties likely) and optional weights."""
    n = draw(st.integers(2, 60))
    y = draw(arrays(np.int8, n, elements=st.integers(0, 1)))
    y[:2] = [0, 1]
    scores = draw(arrays(np.int64, n, elements=st.integers(-20, 20))).astype(np.float64)
    scores *= draw(st.sampled_from([1.0, 0.25, 1024.0]))
    w = None
    if weighted:
        w = draw(arrays(np.int64, n, elements=st.integers(0, 5))).astype(np.float64)
        w[:2] = 1.0  # both classes keep some weight
    return y, scores, w


def quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


@SETTINGS
@given(binary_case(weighted=True))
def test_auc_and_ap_are_in_unit_interval_and_match_sklearn(case):
    y, s, w = case
    auc = roc_auc_score(y, s, sample_weight=w)
    ap = average_precision_score(y, s, sample_weight=w)
    assert 0.0 <= auc <= 1.0 and 0.0 <= ap <= 1.0
    assert auc == pytest.approx(skm.roc_auc_score(y, s, sample_weight=w), rel=RTOL, abs=0)
    assert ap == pytest.approx(skm.average_precision_score(y, s, sample_weight=w), rel=RTOL)


@SETTINGS
@given(binary_case(), st.sampled_from(["affine", "exp", "cube", "rank"]))
def test_auc_invariant_to_strictly_increasing_transforms(case, transform):
    y, s, _ = case
    t = {
        "affine": lambda v: 3.0 * v + 7.0,
        "exp": lambda v: np.exp(v / 64.0),
        "cube": lambda v: v**3,
        "rank": lambda v: np.unique(v, return_inverse=True)[1].astype(float),
    }[transform](s)
    assert roc_auc_score(y, t) == pytest.approx(roc_auc_score(y, s), rel=RTOL, abs=1e-15)
    assert average_precision_score(y, t) == pytest.approx(average_precision_score(y, s), rel=RTOL)


@SETTINGS
@given(binary_case(weighted=True))
def test_duplicating_rows_or_scaling_weights_changes_nothing(case):
    y, s, w = case
    auc = roc_auc_score(y, s, sample_weight=w)
    twice = roc_auc_score(np.tile(y, 2), np.tile(s, 2), sample_weight=np.tile(w, 2))
    scaled = roc_auc_score(y, s, sample_weight=w * 3.7)
    assert twice == pytest.approx(auc, rel=RTOL, abs=1e-15)
    assert scaled == pytest.approx(auc, rel=RTOL, abs=1e-15)
    ap = average_precision_score(y, s, sample_weight=w)
    assert average_precision_score(y, s, sample_weight=w * 3.7) == pytest.approx(ap, rel=RTOL)


@SETTINGS
@given(binary_case(), st.booleans())
def test_reversing_scores_complements_auc(case, permute):
    y, s, _ = case
    if permute:  # order of the rows is irrelevant
        order = np.random.default_rng(0).permutation(y.shape[0])
        y, s = y[order], s[order]
    # Exact here: integer-valued scores make 1 - s exact, so ties stay ties.
    assert roc_auc_score(y, 1.0 - s) == pytest.approx(1.0 - roc_auc_score(y, s), abs=1e-12)


@SETTINGS
@given(binary_case(weighted=True), st.booleans())
def test_curves_are_monotone_and_kernel_totals_are_class_weights(case, drop):
    y, s, w = case
    counts = binary_counts(y == 1, s, w)
    assert np.all(np.diff(counts.thresholds) < 0)
    assert counts.tps[-1] == pytest.approx(w[y == 1].sum(), rel=RTOL)
    assert counts.fps[-1] == pytest.approx(w[y == 0].sum(), rel=RTOL)
    fpr, tpr, thresholds = quiet(roc_curve, y, s, sample_weight=w, drop_intermediate=drop)
    assert fpr[0] == tpr[0] == 0 and fpr[-1] == tpr[-1] == 1 and thresholds[0] == np.inf
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    precision, recall, _ = quiet(precision_recall_curve, y, s, sample_weight=w)
    assert np.all(np.diff(recall) <= 0) and precision[-1] == 1 and recall[-1] == 0
    assert np.all((precision >= 0) & (precision <= 1))


@SETTINGS
@given(binary_case(weighted=True), st.booleans())
def test_curves_match_sklearn_exactly(case, drop):
    y, s, w = case
    for ours, theirs in (
        (roc_curve, skm.roc_curve),
        (precision_recall_curve, skm.precision_recall_curve),
    ):
        got = quiet(ours, y, s, sample_weight=w, drop_intermediate=drop)
        want = quiet(theirs, y, s, sample_weight=w, drop_intermediate=drop)
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=0)
