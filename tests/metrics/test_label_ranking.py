"""coverage_error, label_ranking_average_precision_score and label_ranking_loss against
scikit-learn: random indicator matrices and scores (ties likely), weights, degenerate rows, and
the errors, whose messages start with scikit-learn's."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from verdict.errors import InvalidInputError, InvalidInputTypeError, InvalidParameterError
from verdict.metrics import (
    coverage_error,
    label_ranking_average_precision_score,
    label_ranking_loss,
)

RTOL = 1e-12
SETTINGS = settings(max_examples=80, deadline=None)
PAIRS = [
    (coverage_error, skm.coverage_error),
    (label_ranking_average_precision_score, skm.label_ranking_average_precision_score),
    (label_ranking_loss, skm.label_ranking_loss),
]
IDS = ["coverage", "lrap", "ranking_loss"]


@st.composite
def ranking_case(draw):
    """An indicator matrix with some empty and some full rows, scores with ties, weights."""
    n = draw(st.integers(1, 12))
    n_labels = draw(st.integers(2, 7))
    y = draw(arrays(np.int8, (n, n_labels), elements=st.integers(0, 1)))
    if draw(st.booleans()):
        y[0] = 0
    if draw(st.booleans()):
        y[-1] = 1
    scale = draw(st.sampled_from([1.0, 0.25, 1e-3, 1e6]))
    scores = draw(arrays(np.int64, (n, n_labels), elements=st.integers(-4, 4))) * scale
    w = None
    if draw(st.booleans()):
        w = draw(arrays(np.int64, n, elements=st.integers(0, 5))).astype(np.float64)
        w[0] = 1.0
    return y, scores, w


@SETTINGS
@given(ranking_case(), st.sampled_from(range(3)))
def test_matches_sklearn_on_random_matrices_with_ties(case, which):
    y, s, w = case
    ours, theirs = PAIRS[which]
    assert ours(y, s, sample_weight=w) == pytest.approx(
        theirs(y, s, sample_weight=w), rel=RTOL, abs=1e-15
    )


@SETTINGS
@given(ranking_case(), st.sampled_from(range(3)))
def test_matches_sklearn_with_continuous_scores_and_bool_labels(case, which):
    y, _, w = case
    s = np.random.default_rng(y.size).random(y.shape)
    ours, theirs = PAIRS[which]
    got = ours(y.astype(bool), s, sample_weight=w)
    assert got == pytest.approx(theirs(y, s, sample_weight=w), rel=RTOL, abs=1e-15)


@pytest.mark.parametrize(("ours", "theirs"), PAIRS, ids=IDS)
@pytest.mark.parametrize(
    "y",
    [
        np.zeros((3, 4)),
        np.ones((3, 4)),
        np.eye(4)[:3],
        [[1, 0, 1, 0]],
        [[2, 0, 2, 0], [0, 2, 2, 2]],
    ],
    ids=["no-true-label", "all-true", "one-each", "single-sample", "non-zero-means-true"],
)
def test_degenerate_rows_match_sklearn(ours, theirs, y):
    y = np.asarray(y)
    s = np.arange(y.size, dtype=float).reshape(y.shape) % 3
    assert ours(y, s) == pytest.approx(theirs(y, s), rel=RTOL)


def test_integer_scores_and_integer_weights_match_sklearn():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, (50, 6))
    s = rng.integers(-3, 3, (50, 6))
    w = rng.integers(1, 4, 50)
    for ours, theirs in PAIRS:
        assert ours(y, s, sample_weight=w) == pytest.approx(theirs(y, s, sample_weight=w))


def test_many_rows_are_processed_in_blocks_like_one():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, (40_000, 9))
    s = np.round(rng.random((40_000, 9)) * 5)
    for ours, theirs in PAIRS[::2]:  # lrap's loop in scikit-learn is slow
        assert ours(y, s) == pytest.approx(theirs(y, s), rel=1e-10)
    lrap = label_ranking_average_precision_score(y[:3000], s[:3000])
    assert lrap == pytest.approx(skm.label_ranking_average_precision_score(y[:3000], s[:3000]))


def test_lrap_one_label_column_is_perfect_as_in_sklearn():
    assert label_ranking_average_precision_score([[1], [0]], [[0.5], [0.2]]) == 1.0


@pytest.mark.parametrize("container", [sp.csr_matrix, sp.csr_array, sp.csc_matrix])
def test_sparse_y_true_where_sklearn_takes_it(container):
    y = np.array([[1, 0, 0], [0, 1, 1]])
    s = np.array([[0.5, 0.9, 0.6], [0.1, 0.3, 0.2]])
    for ours, theirs in PAIRS[1:]:
        assert ours(container(y), s) == pytest.approx(theirs(y, s))
    with pytest.raises(InvalidParameterError, match="The 'y_true' parameter of coverage_error"):
        coverage_error(sp.csr_matrix(y), s)


def test_zero_total_weight():
    y, s, w = [[0, 1], [1, 0]], [[0.1, 0.2], [0.3, 0.1]], [0, 0]
    with pytest.raises(ZeroDivisionError, match="Weights sum to zero, can't be normalized"):
        coverage_error(y, s, sample_weight=w)
    with pytest.raises(ZeroDivisionError, match="Weights sum to zero"):
        label_ranking_loss(y, s, sample_weight=w)
    assert np.isnan(label_ranking_average_precision_score(y, s, sample_weight=w))  # as sklearn


@pytest.mark.parametrize(("ours", "theirs"), PAIRS, ids=IDS)
def test_two_dimensional_weights_raise_a_type_error_as_in_sklearn(ours, theirs):
    y, s, w = [[0, 1], [1, 0]], [[0.1, 0.2], [0.3, 0.1]], [[1], [2]]
    with pytest.raises(TypeError):
        theirs(y, s, sample_weight=w)
    with pytest.raises(InvalidInputTypeError, match="sample_weight must be a 1-D array"):
        ours(y, s, sample_weight=w)


NAN, INF = np.nan, np.inf
ERROR_CASES = [
    ([[0, 1]], [[0.1, NAN]]),
    ([[0, 1]], [[0.1, -INF]]),
    ([[0, NAN]], [[0.1, 0.2]]),
    ([0, 1], [0.1, 0.2]),
    ([[0, 1]], [0.1, 0.2]),
    ([[0, 1], [1, 0]], [[0.1, 0.2]]),
    ([[0, 1]], [[0.1, 0.2, 0.3]]),
    ([[0], [1]], [[0.1], [0.2]]),
    ([[0], [1], [2]], [[0.1], [0.2], [0.3]]),
    ([[1], [0]], [[1, 2], [3, 4]]),
    ([[0, 1, 2]], [[0.1, 0.2, 0.3]]),
    ([[0.5, 1]], [[0.1, 0.2]]),
    ([["a", "b"]], [[0.1, 0.2]]),
    ([[0, 1]], [["a", "b"]]),
    (np.zeros((0, 3)), np.zeros((0, 3))),
    (np.zeros((3, 0)), np.zeros((3, 0))),
    (np.zeros((2, 2, 2)), np.zeros((2, 2, 2))),
    (1, 1),
    ("ab", [[1, 2]]),
    ([[0, 1]], [[1, 2]], [1, 2]),
    ([[0, 1], [1, 0]], [[0.1, 0.2], [0.3, 0.1]], "ab"),
    ([[1 + 1j, 0]], [[0.1, 0.2]]),
]


@pytest.mark.parametrize(("ours", "theirs"), PAIRS, ids=IDS)
@pytest.mark.parametrize("case", ERROR_CASES)
def test_errors_start_with_sklearns_message(ours, theirs, case):
    y, s, *rest = case
    w = rest[0] if rest else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = theirs(y, s, sample_weight=w)
        except ValueError as exc:
            message = str(exc)
        else:
            assert ours(y, s, sample_weight=w) == pytest.approx(expected)
            return
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        ours(y, s, sample_weight=w)
    assert str(info.value).startswith(message)
    assert "To fix:" in str(info.value)
    assert isinstance(info.value, InvalidInputError)
