"""Bad input to the count metrics: where scikit-learn raises, we raise a ValueError subclass
whose message names the argument. Intentional differences are tested at the end."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm

import verdict.metrics as vm
from verdict.errors import InvalidInputError, InvalidParameterError

PAIR_FUNCS = [
    "accuracy_score",
    "balanced_accuracy_score",
    "matthews_corrcoef",
    "cohen_kappa_score",
    "hamming_loss",
    "zero_one_loss",
    "confusion_matrix",
    "multilabel_confusion_matrix",
    "precision_recall_fscore_support",
    "precision_score",
    "recall_score",
    "f1_score",
    "jaccard_score",
]
SET_WISE = [
    "precision_recall_fscore_support",
    "precision_score",
    "recall_score",
    "f1_score",
    "fbeta_score",
    "jaccard_score",
]

# (id, y_true, y_pred, kwargs, words our message must contain)
BAD_INPUTS = [
    ("lengths", [0, 1, 1], [0, 1], {}, ["y_true has 3", "y_pred has 2"]),
    ("nan-true", [0.0, np.nan, 1.0], [0, 1, 1], {}, ["y_true", "NaN"]),
    ("nan-pred", [0, 1, 1], [0.0, 1.0, np.nan], {}, ["y_pred", "NaN"]),
    ("none-true", [None, 1, 0], [0, 1, 1], {}, ["y_true", "missing"]),
    ("pandas-na", pd.Series([1, pd.NA, 0], dtype="Int64"), [1, 1, 0], {}, ["y_true", "NaN"]),
    ("inf", [0, 1, np.inf], [0, 1, 1], {}, ["y_true", "infinity"]),
    ("continuous-true", [0.5, 1.0, 2.0], [0, 1, 2], {}, ["y_true", "continuous"]),
    ("continuous-pred", [0, 1, 1], [0.1, 0.9, 0.8], {}, ["y_pred", "continuous"]),
    (
        "2d-multioutput",
        [[0, 2], [1, 1], [2, 0]],
        [[0, 2], [1, 1], [2, 0]],
        {},
        ["y_true", "multiclass-multioutput"],
    ),
    ("2d-vs-1d", [0, 1, 1], [[0, 1], [1, 1], [0, 0]], {}, ["y_pred", "multilabel-indicator"]),
    ("empty", [], [], {}, ["y_true", "empty"]),
    ("str-vs-int", ["a", "b", "a"], [0, 1, 0], {}, ["y_true", "y_pred", "string"]),
    ("complex", np.array([1 + 1j, 2, 2]), [1, 2, 2], {}, ["y_true", "complex"]),
    ("weight-length", [0, 1, 1], [0, 1, 1], {"sample_weight": [1, 2]}, ["sample_weight"]),
    ("weight-2d", [0, 1, 1], [0, 1, 1], {"sample_weight": [[1, 2, 3]]}, ["sample_weight"]),
    (
        "weight-nan",
        [0, 1, 1],
        [0, 1, 1],
        {"sample_weight": [1, np.nan, 2]},
        ["sample_weight", "NaN"],
    ),
    ("weight-zeros", [0, 1, 1], [0, 1, 1], {"sample_weight": [0, 0, 0]}, ["sample_weight"]),
]


@pytest.mark.parametrize("func", PAIR_FUNCS)
@pytest.mark.parametrize("case", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_labels_and_weights(same, func, case):
    _, y_true, y_pred, kwargs, words = case
    if func in SET_WISE:
        kwargs = kwargs | {"average": "macro"}
    exc = same(func, y_true, y_pred, **kwargs)
    assert isinstance(exc, InvalidInputError), f"sklearn raised, we returned {exc!r}"
    for word in words:
        assert word in str(exc), (word, str(exc))
    assert "To fix" in str(exc)


@pytest.mark.parametrize("func", [*SET_WISE, "specificity_score"])
def test_unknown_average_message(func):
    kwargs = {"beta": 2} if func == "fbeta_score" else {}
    expected = re.escape(f"The 'average' parameter of {func} must be one of {{") + r".*'macro'.*"
    expected += re.escape("}. Got 'mcro' instead.")
    with pytest.raises(InvalidParameterError, match=expected):
        getattr(vm, func)([0, 1, 2], [0, 1, 1], average="mcro", **kwargs)
    if hasattr(skm, func):
        with pytest.raises(ValueError, match="average"):
            getattr(skm, func)([0, 1, 2], [0, 1, 1], average="mcro", **kwargs)


# (function, kwargs, word our message must contain); sklearn raises a ValueError for each
BAD_PARAMETERS = [
    ("precision_score", {"zero_division": "foo"}, "zero_division"),
    ("recall_score", {"zero_division": 2}, "zero_division"),
    ("fbeta_score", {"beta": -1}, "beta"),
    ("fbeta_score", {"beta": np.nan}, "beta"),
    ("fbeta_score", {"beta": "2"}, "beta"),
    ("precision_recall_fscore_support", {"beta": -0.5}, "beta"),
    ("confusion_matrix", {"normalize": "rows"}, "normalize"),
    ("confusion_matrix", {"labels": []}, "labels"),
    ("confusion_matrix", {"labels": [5, 6]}, "labels"),
    ("confusion_matrix", {"labels": ["a"]}, "labels"),
    ("cohen_kappa_score", {"weights": "cubic"}, "weights"),
    ("cohen_kappa_score", {"replace_undefined_by": 2}, "replace_undefined_by"),
    ("cohen_kappa_score", {"labels": [7]}, "labels"),
    ("multilabel_confusion_matrix", {"samplewise": True}, "samplewise"),
    ("precision_score", {"average": "samples"}, "average"),
    ("f1_score", {"average": "binary"}, "average='binary'"),
    ("precision_score", {"average": None, "labels": [[0, 1]]}, "labels"),
    ("precision_score", {"pos_label": [1]}, "pos_label"),
    ("recall_score", {"pos_label": 5}, "pos_label"),  # y_true/y_pred are made binary below
    ("accuracy_score", {"normalize": "yes"}, "normalize"),
    ("zero_one_loss", {"normalize": 1}, "normalize"),
    ("balanced_accuracy_score", {"adjusted": "x"}, "adjusted"),
    ("multilabel_confusion_matrix", {"samplewise": "no"}, "samplewise"),
]


@pytest.mark.parametrize("case", BAD_PARAMETERS, ids=[f"{c[0]}-{c[2]}" for c in BAD_PARAMETERS])
def test_bad_parameters(same, case):
    func, kwargs, word = case
    y_true, y_pred = (
        ([0, 1, 1, 0], [0, 1, 0, 0]) if "pos_label" in kwargs else ([0, 1, 2], [0, 2, 2])
    )
    if func == "fbeta_score":  # multiclass input: only the beta should be at fault
        kwargs = {"average": "macro"} | kwargs
    exc = same(func, y_true, y_pred, **kwargs)
    assert isinstance(exc, InvalidInputError), f"sklearn raised, we returned {exc!r}"
    assert word in str(exc), str(exc)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"average": "mcro"},
        {"zero_division": "x"},
        {"pos_label": [1]},
        {"average": "samples"},
        {"average": "binary"},
    ],
)
def test_specificity_bad_parameters(kwargs):
    """specificity_score is ours alone; it validates like recall_score."""
    word = next(iter(kwargs))
    with pytest.raises(InvalidInputError, match=word):
        vm.specificity_score([0, 1, 2], [0, 2, 2], **kwargs)
    with pytest.raises(ValueError):
        skm.recall_score([0, 1, 2], [0, 2, 2], **kwargs)


# ------------------------------------------------------------------ intentional differences


def test_label_indicator_matrix_is_scored(same):
    """A 2-D 0/1 matrix is a multilabel target, as in sklearn (verdict once refused it);
    metrics that read one label per sample refuse it with sklearn's message."""
    y = np.array([[0, 1], [1, 1], [1, 0]])
    for func in ["accuracy_score", "hamming_loss", "multilabel_confusion_matrix"]:
        same(func, y, y[::-1])
    same("f1_score", y, y[::-1], average="samples")
    for func in ["confusion_matrix", "matthews_corrcoef", "cohen_kappa_score"]:
        with pytest.raises(InvalidInputError, match=r"^multilabel-indicator is not supported"):
            getattr(vm, func)(y, y)


def test_mixed_object_labels_raise_value_error():
    """sklearn fails sorting mixed labels with a bare TypeError; ours is a ValueError that
    names the argument."""
    mixed = np.array(["a", 1, "b"], dtype=object)
    with pytest.raises((TypeError, ValueError)):
        skm.accuracy_score(mixed, mixed)
    with pytest.raises(InvalidInputError, match="y_true mixes string and number labels"):
        vm.accuracy_score(mixed, mixed)


def test_weights_summing_to_zero_raise_value_error():
    """Negative weights that cancel out: sklearn raises ZeroDivisionError, ours a ValueError."""
    with pytest.raises(ZeroDivisionError):
        skm.accuracy_score([0, 1, 1], [0, 1, 1], sample_weight=[1, -1, 0])
    with pytest.raises(InvalidInputError, match="sample_weight sums to zero"):
        vm.accuracy_score([0, 1, 1], [0, 1, 1], sample_weight=[1, -1, 0])


def test_zero_division_true_is_refused():
    """sklearn lets zero_division=True through (True == 1); ours asks for 0, 1, nan or 'warn'."""
    assert skm.precision_score([0, 0], [0, 0], zero_division=True) == 1.0
    with pytest.raises(InvalidParameterError, match="zero_division"):
        vm.precision_score([0, 0], [0, 0], zero_division=True)
