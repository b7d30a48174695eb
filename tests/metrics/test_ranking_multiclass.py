"""Multiclass ROC AUC (ovr, ovo), average precision and top-k accuracy against scikit-learn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from verdict.errors import InvalidInputError, InvalidParameterError, UndefinedMetricWarning
from verdict.metrics._ranking_multiclass import average_precision_score, roc_auc_score
from verdict.metrics._topk import top_k_accuracy_score

AUC = roc_auc_score
AP = average_precision_score
TOPK = top_k_accuracy_score


def proba_case(seed: int, n_classes: int, n: int = 150, ties: bool = False, weights: str = "none"):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    y[:n_classes] = np.arange(n_classes)
    p = rng.random((n, n_classes)) ** 2
    if ties:
        p = np.round(p, 1) + 0.05
    p /= p.sum(axis=1, keepdims=True)
    w = None
    if weights == "float":
        w = rng.random(n) * 2
    elif weights == "zeros":
        w = rng.random(n)
        w[rng.random(n) < 0.3] = 0.0
        w[:n_classes] = 1.0
    return y, p, w


@pytest.mark.parametrize("n_classes", [3, 5, 10])
@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("weights", ["none", "float", "zeros"])
def test_multiclass_auc_and_ap_match_sklearn(same, n_classes, seed, ties, weights):
    y, p, w = proba_case(seed, n_classes, ties=ties, weights=weights)
    for average in ("macro", "weighted", "micro", None):
        same("roc_auc_score", y, p, ours=AUC, multi_class="ovr", average=average, sample_weight=w)
    for average in ("macro", "weighted"):
        same("roc_auc_score", y, p, ours=AUC, multi_class="ovo", average=average)
    for average in ("macro", "weighted", "micro", "samples", None):
        same("average_precision_score", y, p, ours=AP, average=average, sample_weight=w)


@pytest.mark.parametrize("seed", range(2))
def test_labels_with_a_class_absent_from_y_true(same, seed):
    y, p, _ = proba_case(seed, 4)
    y[y == 2] = 1  # class 2 keeps its column but has no sample
    labels = [0, 1, 2, 3]
    for average in ("macro", "weighted", "micro", None):
        same("roc_auc_score", y, p, ours=AUC, multi_class="ovr", average=average, labels=labels)
    same("roc_auc_score", y, p, ours=AUC, multi_class="ovo", labels=labels)
    for k in (1, 2, 3):
        same("top_k_accuracy_score", y, p, ours=TOPK, k=k, labels=labels)


def test_binary_y_true_with_more_score_columns_needs_labels(same):
    y, p, _ = proba_case(1, 3)
    y = y % 2
    same("roc_auc_score", y, p, ours=AUC, multi_class="ovr", labels=[0, 1, 2])
    same("roc_auc_score", y, p, ours=AUC, multi_class="ovr")  # error in both
    same("top_k_accuracy_score", y, p, ours=TOPK, labels=[0, 1, 2])


def test_string_labels_and_pandas(same):
    y, p, w = proba_case(3, 3, weights="float")
    names = np.array(["ant", "bee", "cat"])[y]
    frame = pd.DataFrame(p, columns=["ant", "bee", "cat"])
    series = pd.Series(names)
    same("roc_auc_score", series, frame, ours=AUC, multi_class="ovr", sample_weight=pd.Series(w))
    same("roc_auc_score", list(names), frame, ours=AUC, multi_class="ovo", average="weighted")
    same("average_precision_score", series, frame, ours=AP)
    same("top_k_accuracy_score", series, frame, ours=TOPK, k=1, labels=["ant", "bee", "cat"])


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("n_classes", [3, 6])
def test_top_k_matches_sklearn(same, seed, n_classes):
    y, p, w = proba_case(seed, n_classes, ties=True, weights="float")
    for k in range(1, n_classes + 1):  # k >= n_classes warns in both
        for normalize in (True, False):
            same("top_k_accuracy_score", y, p, ours=TOPK, k=k, normalize=normalize)
            same(
                "top_k_accuracy_score",
                y,
                p,
                ours=TOPK,
                k=k,
                normalize=normalize,
                sample_weight=w,
            )


@pytest.mark.parametrize(
    "scores",
    [
        np.array([0.2, 0.7, 0.5, 0.9, 0.1, 0.5]),
        np.array([-2.0, 1.5, 0.0, 3.0, -0.5, 0.2]),
        np.array([[0.2], [0.7], [0.5], [0.9], [0.1], [0.5]]),
    ],
)
@pytest.mark.parametrize("y", [[0, 1, 1, 0, 0, 1], ["a", "b", "b", "a", "a", "b"]])
def test_top_k_binary(same, scores, y):
    for k in (1, 2):
        same("top_k_accuracy_score", y, scores, ours=TOPK, k=k)
    same("top_k_accuracy_score", y, scores, ours=TOPK, k=1, normalize=False)


# --------------------------------------------------------------------------- errors


def raises(exc: type[Exception], func, *args, match: str, **kwargs) -> str:
    with pytest.raises(exc) as info:
        func(*args, **kwargs)
    message = str(info.value)
    assert match in message, message
    return message


def test_multiclass_auc_errors_name_the_argument():
    y, p, w = proba_case(0, 3, n=30, weights="float")
    msg = raises(InvalidParameterError, AUC, y, p, match="multi_class")
    assert "To fix" in msg
    raises(InvalidParameterError, AUC, y, p, multi_class="ovr", max_fpr=0.5, match="max_fpr")
    raises(InvalidInputError, AUC, y, p * 2, multi_class="ovr", match="sum to 1")
    raises(InvalidInputError, AUC, y, p[:, 0], multi_class="ovr", match="y_score")
    two = p[:, :2] / p[:, :2].sum(axis=1, keepdims=True)
    raises(InvalidInputError, AUC, y, two, multi_class="ovr", match="2 columns")
    raises(InvalidParameterError, AUC, y, p, multi_class="ovr", average="samples", match="average")
    raises(InvalidParameterError, AUC, y, p, multi_class="ovo", average="micro", match="average")
    raises(NotImplementedError, AUC, y, p, multi_class="ovo", average=None, match="average=None")
    raises(InvalidInputError, AUC, y, p, multi_class="ovo", sample_weight=w, match="sample_weight")


def test_labels_errors():
    y, p, _ = proba_case(0, 3, n=30)
    for func, kwargs in ((AUC, {"multi_class": "ovr"}), (TOPK, {})):
        raises(InvalidInputError, func, y, p, labels=[0, 2, 1], match="sorted", **kwargs)
        raises(InvalidInputError, func, y, p, labels=[0, 1, 1], match="duplicates", **kwargs)
        raises(InvalidInputError, func, y, p, labels=[0, 1, 2, 3], match="4 classes", **kwargs)
        raises(InvalidInputError, func, y, p, labels=[1, 2, 3], match="not in labels", **kwargs)
        raises(InvalidInputError, func, y, p, labels=["a", "b", "c"], match="mix", **kwargs)
        raises(InvalidInputError, func, y, p, labels=[], match="labels", **kwargs)


def test_average_precision_multiclass_errors():
    y, p, _ = proba_case(0, 3, n=30)
    raises(InvalidParameterError, AP, y, p, pos_label=2, match="pos_label")
    raises(InvalidInputError, AP, y, p[:, :2], match="`y_score` needs to be of shape")
    raises(InvalidInputError, AP, y, p[:, 0], match="`y_score` needs to be of shape")


def test_top_k_errors():
    y, p, _ = proba_case(0, 3, n=30)
    for bad in (0, -1, 1.5, True, "2"):
        raises(InvalidParameterError, TOPK, y, p, k=bad, match="'k'")
    raises(InvalidParameterError, TOPK, y, p, normalize="yes", match="normalize")
    raises(InvalidInputError, TOPK, y, p[:, 0], match="y_score")
    raises(InvalidInputError, TOPK, y % 2, p, match="y_score")
    raises(InvalidInputError, TOPK, y, p[:10], match="y_score has 10")
    raises(InvalidInputError, TOPK, y, np.where(p > 0.5, np.nan, p), match="NaN")
    w = np.r_[np.ones(15), -np.ones(15)]
    raises(ZeroDivisionError, TOPK, y, p, sample_weight=w, match="Weights sum to zero")
    with pytest.warns(UndefinedMetricWarning, match="perfect score"):
        assert TOPK(y, p, k=3) == 1.0
