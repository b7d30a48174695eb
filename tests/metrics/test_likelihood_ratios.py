"""class_likelihood_ratios against scikit-learn: values, weights, labels, every undefined case
with its warning and replacement, and the errors, whose messages start with scikit-learn's."""

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
from verdict.metrics import class_likelihood_ratios

SETTINGS = settings(max_examples=100, deadline=None)
REPLACEMENTS = [
    np.nan,
    1.0,
    1,
    {"LR+": 1.0, "LR-": 1.0},
    {"LR+": np.inf, "LR-": 0.0},
    {"LR+": np.nan, "LR-": 0.5},
]


def both(*args, **kwargs):
    """(verdict's result, its warnings), (scikit-learn's result, its warnings)."""
    out = []
    for func in (class_likelihood_ratios, skm.class_likelihood_ratios):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = func(*args, **kwargs)
        messages = [
            str(w.message) for w in caught if w.category.__name__ == "UndefinedMetricWarning"
        ]
        out.append((result, messages))
    return out


@SETTINGS
@given(
    st.integers(2, 40).flatmap(
        lambda n: st.tuples(
            arrays(np.int8, n, elements=st.integers(0, 1)),
            arrays(np.int8, n, elements=st.integers(0, 1)),
            st.none() | arrays(np.int64, n, elements=st.integers(0, 4)),
        )
    ),
    st.sampled_from(range(len(REPLACEMENTS))),
    st.sampled_from([None, [0, 1], [1, 0]]),
)
def test_matches_sklearn_with_its_warnings(case, replacement, labels):
    y, p, w = case
    if w is not None and not w.any():
        w[0] = 1
    if labels is None and np.unique(np.concatenate([y, p])).size < 2:
        labels = [0, 1]
    (ours, our_warnings), (theirs, their_warnings) = both(
        y, p, sample_weight=w, labels=labels, replace_undefined_by=REPLACEMENTS[replacement]
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert len(our_warnings) == len(their_warnings)
    for mine, reference in zip(our_warnings, their_warnings, strict=True):
        assert mine.startswith(reference)


def test_values_and_float_weights():
    y = np.array([1] * 3 + [0] * 17)
    p = np.array([1] * 2 + [0] * 10 + [1] * 8)
    assert class_likelihood_ratios(y, p) == pytest.approx((34 / 24, 17 / 27))
    w = np.array([1.0] * 15 + [0.5] * 5)
    assert class_likelihood_ratios(y, p, sample_weight=w) == pytest.approx(
        skm.class_likelihood_ratios(y, p, sample_weight=w)
    )


def test_string_labels_and_labels_order():
    y = np.array(["non-cat", "cat", "non-cat", "cat", "non-cat"])
    p = np.array(["cat", "cat", "non-cat", "non-cat", "non-cat"])
    assert class_likelihood_ratios(y, p) == pytest.approx(skm.class_likelihood_ratios(y, p))
    flipped = class_likelihood_ratios(y, p, labels=["non-cat", "cat"])
    assert flipped == pytest.approx((1.5, 0.75))


def test_returns_python_floats():
    pos, neg = class_likelihood_ratios([0, 1, 0, 1, 0], [1, 1, 0, 0, 0])
    assert type(pos) is float and type(neg) is float


def test_no_positive_sample_warns_as_sklearn_and_gives_nan():
    (ours, our_warnings), (_, their_warnings) = both([0, 0, 0, 0], [1, 1, 0, 0], labels=[0, 1])
    assert np.isnan(ours).all()
    assert our_warnings[0].startswith("No samples of the positive class are present")
    assert len(our_warnings) == len(their_warnings)


def test_warning_is_verdicts_and_sklearns_undefined_metric_warning():
    import sklearn.exceptions

    import verdict.errors

    for category in (
        verdict.errors.UndefinedMetricWarning,
        sklearn.exceptions.UndefinedMetricWarning,
    ):
        with pytest.warns(category, match="is ill-defined"):
            class_likelihood_ratios([1, 1, 0], [1, 0, 0])


def test_sparse_or_dense_indicator_matrices_are_not_binary():
    import scipy.sparse as sp

    y, p = [[1, 0], [0, 1]], [[1, 0], [1, 1]]
    for args in ((y, p), (sp.csr_matrix(y), sp.csr_matrix(p))):
        with pytest.raises(InvalidInputError, match="got targets of type: multilabel-indicator"):
            class_likelihood_ratios(*args)


@pytest.mark.parametrize(
    "bad",
    [
        {"LR+": 0.0},
        {"LR-": 0.0},
        {"LR+": -5.0, "LR-": 0.0},
        {"LR+": 1.0, "LR-": "nan"},
        {"LR+": 0.0, "LR-": 0.0},
        {"LR+": 1.0, "LR-": 2.0},
    ],
)
def test_bad_replacement_dict_starts_with_sklearns_message(bad):
    with pytest.raises(ValueError) as expected:
        skm.class_likelihood_ratios([1, 0], [1, 0], replace_undefined_by=bad)
    with pytest.raises(InvalidInputError, match=re.escape(str(expected.value))) as info:
        class_likelihood_ratios([1, 0], [1, 0], replace_undefined_by=bad)
    assert "To fix:" in str(info.value)


@pytest.mark.parametrize("bad", [0.5, "a", None, 2])
def test_bad_replacement_value_starts_with_sklearns_message(bad):
    with pytest.raises(ValueError) as expected:
        skm.class_likelihood_ratios([1, 0], [1, 0], replace_undefined_by=bad)
    with pytest.raises(InvalidParameterError, match=re.escape(str(expected.value))):
        class_likelihood_ratios([1, 0], [1, 0], replace_undefined_by=bad)


@pytest.mark.parametrize(
    ("y", "p", "labels"),
    [
        ([0, 1, 0, 1, 0], [1, 1, 0, 0, 2], None),
        ([[1, 0], [0, 1]], [[1, 0], [1, 1]], None),
        ([1, 1, 1], [1, 1, 1], None),
        ([1, 0, 1], [1, 1, 1], [0]),
        ([1, 0, 1], [1, 1, 1], [0, 1, 2]),
        ([1, 0, 1], [1, 1, 1], [5, 6]),
        ([1, 0, 1], [1, 1, 1], []),
    ],
)
def test_errors_start_with_sklearns_message(y, p, labels):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError) as expected:
            skm.class_likelihood_ratios(y, p, labels=labels)
        with pytest.raises(InvalidInputError) as info:
            class_likelihood_ratios(y, p, labels=labels)
    assert str(info.value).startswith(str(expected.value))
    assert "To fix:" in str(info.value)
