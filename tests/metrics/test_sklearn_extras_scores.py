"""auc, det_curve, confusion_matrix_at_thresholds, hinge_loss and the D² scores against
scikit-learn: random inputs from hypothesis, edge cases, errors and warnings.

``same`` (tests/conftest.py) compares values (rtol 1e-12), dtypes, exception types and warnings.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import verdict.metrics as vm

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@st.composite
def binary_case(draw, min_size: int = 1):
    """0/1 labels, scores on a small grid (ties likely, negatives, -0.0) or continuous, and
    optional weights with zeros."""
    n = draw(st.integers(min_size, 40))
    y = draw(arrays(np.int64, n, elements=st.integers(0, 1)))
    kind = draw(st.sampled_from(["grid", "continuous", "ints", "float32"]))
    if kind == "grid":
        grid = np.array([-1.5, -0.0, 0.0, 0.25, 0.5, 2.0])
        s = grid[draw(arrays(np.int64, n, elements=st.integers(0, 5)))]
    elif kind == "ints":
        s = draw(arrays(np.int64, n, elements=st.integers(-3, 3)))
    else:
        s = draw(arrays(np.float64, n, elements=st.floats(-5, 5, width=32)))
        if kind == "float32":
            s = s.astype(np.float32)
    w = None
    if draw(st.booleans()):
        w = draw(arrays(np.float64, n, elements=st.sampled_from([0.0, 0.5, 1.0, 3.0])))
        w[0] = 1.0
    return y, s, w


# --------------------------------------------------------------------------- curves


@SETTINGS
@given(case=binary_case())
def test_confusion_matrix_at_thresholds_matches_sklearn(same, case):
    y, s, w = case
    same("confusion_matrix_at_thresholds", y, s, sample_weight=w)
    same("confusion_matrix_at_thresholds", np.where(y == 1, "b", "a"), s, pos_label="a")


@SETTINGS
@given(case=binary_case(min_size=2), drop=st.booleans())
def test_det_curve_matches_sklearn(same, case, drop):
    y, s, w = case
    y[:2] = [0, 1]  # both classes, or det_curve refuses the input
    same("det_curve", y, s, sample_weight=w, drop_intermediate=drop)
    same("det_curve", y * 3 + 2, s, pos_label=2, drop_intermediate=drop)


@pytest.mark.parametrize(
    ("y_true", "y_score"),
    [
        ([0, 0, 1], [0, 0.5, 1]),
        ([1, 0, 0], [0.25, 0.5, 0.75]),
        ([0, 1, 0, 1, 0, 1], np.full(6, 0.5)),
        ([0, 1, 1], [0.25, 0.5, 0.5]),
        ([0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1]),
    ],
)
def test_det_curve_edge_cases_match_sklearn(same, y_true, y_score):
    for drop in (False, True):
        same("det_curve", y_true, y_score, drop_intermediate=drop)


@pytest.mark.parametrize(
    ("y_true", "y_score", "kwargs"),
    [
        ([0, 0, 0], [0, 0.5, 1], {}),
        ([0, 1], [0, 0.5, 1], {}),
        (["cancer", "cancer", "not cancer"], [0.2, 0.3, 0.8], {}),
        ([0, 1, 2], [0.2, 0.3, 0.8], {}),
        ([0, 1, 1], [0.2, np.nan, 0.8], {}),
        ([0, 1, 1], [0.2, 0.3, 0.8], {"sample_weight": [0, 0, 0]}),
    ],
)
def test_curve_errors_match_sklearn(same, y_true, y_score, kwargs):
    for name in ("det_curve", "confusion_matrix_at_thresholds", "roc_curve"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exc = same(name, y_true, y_score, **kwargs)
        if isinstance(exc, Exception):
            assert "To fix" in str(exc)


def test_thresholds_keep_the_scores_dtype():
    for scores in (np.array([3, 1, 2]), np.array([0.3, 0.1, 0.2], dtype=np.float32)):
        ours = vm.confusion_matrix_at_thresholds([0, 1, 1], scores)[-1]
        theirs = skm.confusion_matrix_at_thresholds([0, 1, 1], scores)[-1]
        assert ours.dtype == theirs.dtype
        assert vm.det_curve([0, 1, 1], scores)[-1].dtype == np.float64


def test_positional_pos_label_is_deprecated_as_in_sklearn():
    with pytest.warns(FutureWarning, match="Pass pos_label=None as keyword args"):
        ours = vm.confusion_matrix_at_thresholds([0, 1, 1, 0], [0.2, 0.1, 0.7, 0.7], None)
    expected = skm.confusion_matrix_at_thresholds([0, 1, 1, 0], [0.2, 0.1, 0.7, 0.7])
    for a, b in zip(ours, expected, strict=True):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- auc


@SETTINGS
@given(
    x=arrays(np.float64, st.integers(2, 30), elements=st.floats(-100, 100, width=32)),
    direction=st.sampled_from([1, -1]),
    data=st.data(),
)
def test_auc_matches_sklearn(same, x, direction, data):
    x = np.sort(x)[::direction]
    y = data.draw(arrays(np.float64, x.shape[0], elements=st.floats(-10, 10, width=32)))
    same("auc", x, y)
    same("auc", list(x), list(y))


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ([0.0, 0.5, 1.0], [0.1, 0.2]),
        ([0.0], [0.1]),
        ([2, 1, 3, 4], [5, 6, 7, 8]),
        ([[0, 1], [1, 2]], [[1, 2], [2, 3]]),
    ],
)
def test_auc_errors_match_sklearn(same, x, y):
    exc = same("auc", x, y)
    assert isinstance(exc, ValueError) and "To fix" in str(exc)
    with pytest.raises(ValueError) as theirs:
        skm.auc(x, y)
    assert str(exc).startswith(str(theirs.value).rstrip("."))


# --------------------------------------------------------------------------- hinge loss


@SETTINGS
@given(case=binary_case(), labels=st.sampled_from([None, ["a", "b"]]))
def test_binary_hinge_loss_matches_sklearn(same, case, labels):
    y, s, w = case
    same("hinge_loss", y, s, sample_weight=w)
    same("hinge_loss", np.where(y == 1, "b", "a"), s, labels=labels)
    same("hinge_loss", 2 * y - 1, s)


@st.composite
def multiclass_decisions(draw):
    n = draw(st.integers(1, 30))
    k = draw(st.integers(3, 5))
    decision = draw(arrays(np.float64, (n, k), elements=st.floats(-3, 3, width=32)))
    y = draw(arrays(np.int64, n, elements=st.integers(0, k - 1)))
    return y, decision, k


@SETTINGS
@given(case=multiclass_decisions(), weighted=st.booleans())
def test_multiclass_hinge_loss_matches_sklearn(same, case, weighted):
    y, decision, k = case
    w = np.linspace(0.5, 2.0, y.shape[0]) if weighted else None
    same("hinge_loss", y, decision, labels=list(range(k)), sample_weight=w)
    same("hinge_loss", y, decision.astype(np.float32), labels=np.arange(k))
    if np.unique(y).shape[0] == k:
        same("hinge_loss", y, decision, sample_weight=w)
        names = np.array(["ant", "bee", "cat", "dog", "elk"])
        same("hinge_loss", list(names[y]), decision.tolist())


@pytest.mark.parametrize(
    ("y_true", "decision", "kwargs"),
    [
        ([2, 1, 0, 1, 0, 1, 1], [0, 1, 2, 1, 0, 2, 1], {}),
        ([0, 1, 2, 2], np.ones((4, 4)), {}),
        ([2, 1, 0], [[0, 1], [0, 1], [2, 0]], {"labels": [0, 1, 2]}),
        ([0, 1, 3], np.ones((3, 3)), {"labels": [0, 1, 2]}),
        ([0, 1], [0.5], {}),
        ([0, 1], [0.5, np.nan], {}),
    ],
)
def test_hinge_loss_errors_match_sklearn(same, y_true, decision, kwargs):
    exc = same("hinge_loss", y_true, decision, **kwargs)
    assert isinstance(exc, ValueError) and "To fix" in str(exc)
    with pytest.raises(ValueError) as theirs:
        skm.hinge_loss(y_true, decision, **kwargs)
    assert str(exc).startswith(str(theirs.value).rstrip("."))


# --------------------------------------------------------------------------- D² scores


@st.composite
def proba_case(draw):
    n = draw(st.integers(2, 30))
    k = draw(st.integers(2, 4))
    raw = draw(arrays(np.float64, (n, k), elements=st.floats(2**-10, 1, width=32)))
    y = draw(arrays(np.int64, n, elements=st.integers(0, k - 1)))
    y[:2] = [0, 1]
    return y, raw / raw.sum(axis=1, keepdims=True), k


@SETTINGS
@given(case=proba_case(), weighted=st.booleans())
def test_d2_scores_match_sklearn(same, case, weighted):
    y, p, k = case
    w = np.linspace(0.5, 2.0, y.shape[0]) if weighted else None
    labels = list(range(k))
    same("d2_log_loss_score", y, p, sample_weight=w, labels=labels)
    same("d2_brier_score", y, p, sample_weight=w, labels=labels)
    same("d2_log_loss_score", y, p.astype(np.float32), labels=labels)
    same("d2_brier_score", y, p.astype(np.float32), labels=labels)
    if k == 2:  # the probability of the positive class alone
        same("d2_brier_score", y, p[:, 1], sample_weight=w)
        same("d2_log_loss_score", y, p[:, 1], sample_weight=w)
        same("d2_brier_score", np.where(y == 1, "yes", "no"), p[:, 1], pos_label="yes")


def test_d2_with_labels_missing_from_y_true_matches_sklearn(same):
    y, w = [2, 0, 2, 0], [1.4, 0.6, 0.7, 0.3]
    p = np.tile([0.6, 0.1, 0.3], (4, 1))
    for name in ("d2_log_loss_score", "d2_brier_score"):
        same(name, y, p, sample_weight=w, labels=[0, 1, 2])
        same(name, y, p, labels=[0, 2, 1])  # unsorted: scikit-learn's UserWarning


@pytest.mark.parametrize("name", ["d2_log_loss_score", "d2_brier_score"])
def test_d2_of_one_sample_warns_and_is_nan(same, name):
    same(name, [1], [[0.5, 0.5]])
    with pytest.warns(Warning, match="D\\^2 score is not well-defined with less than two"):
        assert np.isnan(getattr(vm, name)([1], [[0.5, 0.5]]))


@pytest.mark.parametrize(
    ("y_true", "y_proba", "kwargs"),
    [
        ([0, 1, 2], [[0.2, 0.8], [0.5, 0.5], [0.4, 0.6]], {}),
        ([0, 1, 2], [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]], {"labels": [0, 1, 2]}),
        ([0, 1, 2], [[0.5, 0.3, 0.2], [0.6, 0.3, 0.1]], {}),
        ([1, 1, 1], [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]], {}),
        ([1, 1, 1], [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]], {"labels": [1]}),
        ([0, 1, 1], [[0.5, 0.5], [0.5, 1.5], [0.5, 0.5]], {}),
    ],
)
@pytest.mark.parametrize("name", ["d2_log_loss_score", "d2_brier_score"])
def test_d2_errors_match_sklearn(same, name, y_true, y_proba, kwargs):
    exc = same(name, y_true, y_proba, **kwargs)
    assert isinstance(exc, ValueError) and "To fix" in str(exc)
    with pytest.raises(ValueError) as theirs:
        getattr(skm, name)(y_true, y_proba, **kwargs)
    assert str(exc).startswith(str(theirs.value).rstrip("."))


def test_d2_log_loss_y_pred_is_deprecated_as_in_sklearn():
    y, p = [0, 1, 1, 0], np.array([[0.1, 0.9], [0.9, 0.1], [0.8, 0.2], [0.35, 0.65]])
    with pytest.warns(FutureWarning, match="`y_pred` was renamed to `y_proba` in version 1.9"):
        ours = vm.d2_log_loss_score(y, y_pred=p)
    assert ours == pytest.approx(skm.d2_log_loss_score(y, p), rel=1e-12)
    with pytest.raises(ValueError, match="Cannot use both `y_pred` and `y_proba`"):
        vm.d2_log_loss_score(y, y_pred=p, y_proba=p)
