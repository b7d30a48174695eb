"""dcg_score and ndcg_score against scikit-learn: gains and scores with ties, k, log_base,
ignore_ties, weights, and the errors, whose messages start with scikit-learn's."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.metrics import dcg_score, ndcg_score

RTOL = 1e-12
SETTINGS = settings(max_examples=80, deadline=None)


@st.composite
def gains_and_scores(draw, negative: bool = False):
    """Integer or fractional gains (some rows all zero) and scores with many ties."""
    n = draw(st.integers(1, 10))
    n_labels = draw(st.integers(2, 8))
    low = -3 if negative else 0
    gains = draw(arrays(np.int64, (n, n_labels), elements=st.integers(low, 4)))
    if draw(st.booleans()):
        gains = gains * 0.75
    if draw(st.booleans()):
        gains[0] = 0
    scale = draw(st.sampled_from([1.0, 0.5, 1e-4, 1e5]))
    scores = draw(arrays(np.int64, (n, n_labels), elements=st.integers(-3, 3))) * scale
    w = None
    if draw(st.booleans()):
        w = draw(arrays(np.int64, n, elements=st.integers(0, 4))).astype(np.float64)
        w[0] = 1.0
    k = draw(st.none() | st.integers(1, n_labels + 2))
    return gains, scores, w, k


@SETTINGS
@given(gains_and_scores(negative=True), st.sampled_from([2, 10, 1.5, np.e]), st.booleans())
def test_dcg_matches_sklearn(case, log_base, ignore_ties):
    y, s, w, k = case
    kwargs = {"k": k, "log_base": log_base, "sample_weight": w, "ignore_ties": ignore_ties}
    expected = skm.dcg_score(y, s, **kwargs)
    assert dcg_score(y, s, **kwargs) == pytest.approx(expected, rel=RTOL, abs=1e-12)


@SETTINGS
@given(gains_and_scores(), st.booleans())
def test_ndcg_matches_sklearn(case, ignore_ties):
    y, s, w, k = case
    kwargs = {"k": k, "sample_weight": w, "ignore_ties": ignore_ties}
    expected = skm.ndcg_score(y, s, **kwargs)
    assert ndcg_score(y, s, **kwargs) == pytest.approx(expected, rel=RTOL, abs=1e-15)


@SETTINGS
@given(gains_and_scores())
def test_ignore_ties_agrees_with_averaging_when_no_score_is_tied(case):
    y, _, w, k = case
    s = np.random.default_rng(y.size).permuted(
        np.tile(np.arange(y.shape[1]), (y.shape[0], 1)), axis=1
    )
    averaged = dcg_score(y, s, k=k, sample_weight=w)
    assert dcg_score(y, s, k=k, sample_weight=w, ignore_ties=True) == pytest.approx(averaged)
    assert 0.0 <= ndcg_score(y, s, k=k, sample_weight=w) <= 1.0 + 1e-12


def test_sklearn_docstring_examples():
    true = np.asarray([[10, 0, 0, 1, 5]])
    assert dcg_score(true, [[0.1, 0.2, 0.3, 4, 70]]) == pytest.approx(9.499457825916874)
    assert dcg_score(true, [[1, 0, 0, 0, 1]], k=1) == pytest.approx(7.5)
    assert dcg_score(true, [[1, 0, 0, 0, 1]], k=1, ignore_ties=True) == pytest.approx(5.0)
    assert ndcg_score(true, [[0.05, 1.1, 1.0, 0.5, 0.0]], k=4) == pytest.approx(0.35, abs=1e-2)
    assert ndcg_score(true, [[1, 0, 0, 0, 1]], k=1) == pytest.approx(0.75)


def test_many_rows_and_integer_or_bool_inputs():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 5, (30_000, 12))
    s = rng.integers(0, 6, (30_000, 12))
    w = rng.random(30_000)
    for k in (None, 3):
        assert dcg_score(y, s, k=k, sample_weight=w) == pytest.approx(
            skm.dcg_score(y, s, k=k, sample_weight=w), rel=1e-10
        )
        assert ndcg_score(y, s, k=k, ignore_ties=True) == pytest.approx(
            skm.ndcg_score(y, s, k=k, ignore_ties=True), rel=1e-10
        )
    yb = y[:500] > 2
    assert ndcg_score(yb, s[:500]) == pytest.approx(skm.ndcg_score(yb.astype(int), s[:500]))


def test_all_irrelevant_rows_score_zero_in_ndcg():
    y = np.array([[0, 0, 0], [1, 0, 2]])
    s = np.array([[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]])
    assert ndcg_score(y, s) == pytest.approx(skm.ndcg_score(y, s))


@pytest.mark.parametrize(
    ("func", "kwargs"),
    [
        (dcg_score, {"k": 0}),
        (dcg_score, {"k": 1.5}),
        (dcg_score, {"log_base": 0}),
        (dcg_score, {"log_base": "a"}),
        (dcg_score, {"ignore_ties": 1}),
        (ndcg_score, {"k": 0}),
        (ndcg_score, {"ignore_ties": "yes"}),
    ],
)
def test_parameter_errors_start_with_sklearns_message(func, kwargs):
    y, s = [[1, 0, 2]], [[0.1, 0.2, 0.3]]
    reference = getattr(skm, func.__name__)
    with pytest.raises(ValueError) as expected:
        reference(y, s, **kwargs)
    with pytest.raises(InvalidParameterError, match=re.escape(str(expected.value))) as info:
        func(y, s, **kwargs)
    assert "To fix:" in str(info.value)


ERROR_CASES = [
    ([[0, 1]], [[0.1, np.nan]]),
    ([[0, np.inf]], [[0.1, 0.2]]),
    ([0, 1], [0.1, 0.2]),
    ([[0, 1]], [0.1, 0.2]),
    ([[0, 1], [1, 0]], [[0.1, 0.2]]),
    ([[0], [1]], [[0.1], [0.2]]),
    ([[1]], [[1]]),
    ([[-1, 1]], [[0.1, 0.2]]),
    ([["a", "b"]], [[0.1, 0.2]]),
    (np.zeros((0, 3)), np.zeros((0, 3))),
    (np.zeros((2, 2, 2)), np.zeros((2, 2, 2))),
    ("ab", [[1, 2]]),
    ([[0, 1]], [[1, 2]], [1, 2]),
]


@pytest.mark.parametrize("func", [dcg_score, ndcg_score])
@pytest.mark.parametrize("case", ERROR_CASES)
def test_errors_start_with_sklearns_message(func, case):
    y, s, *rest = case
    w = rest[0] if rest else None
    reference = getattr(skm, func.__name__)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = reference(y, s, sample_weight=w)
        except ValueError as exc:
            message = str(exc)
        else:
            assert func(y, s, sample_weight=w) == pytest.approx(expected)
            return
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        func(y, s, sample_weight=w)
    assert str(info.value).startswith(message)
    assert "To fix:" in str(info.value)
    assert isinstance(info.value, InvalidInputError)


def test_shape_mismatch_is_one_clear_error():
    # scikit-learn fails inside numpy here ("array is not broadcastable ..."); verdict says why.
    with pytest.raises(InvalidInputError, match="y_true and y_score have different shape"):
        dcg_score([[1, 0, 2]], [[0.1, 0.2]])
    with pytest.raises(InvalidInputError, match="y_true and y_score have different shape"):
        ndcg_score([[1, 0, 2]], [[0.1, 0.2]], ignore_ties=True)


def test_zero_total_weight_raises_as_numpy_average_does():
    with pytest.raises(ZeroDivisionError, match="Weights sum to zero, can't be normalized"):
        dcg_score([[1, 0], [0, 1]], [[0.1, 0.2], [0.2, 0.1]], sample_weight=[1, -1])
