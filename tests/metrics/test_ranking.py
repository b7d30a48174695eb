"""Binary ranking metrics against scikit-learn: curves, ROC AUC, average precision, kernel.

``same`` (tests/conftest.py) runs both libraries and compares values to rtol 1e-12, dtypes,
exception types and warnings.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from sklearn.metrics import confusion_matrix_at_thresholds

from verdict.errors import InvalidInputError, InvalidParameterError, UndefinedMetricWarning
from verdict.metrics._curves import precision_recall_curve, roc_curve
from verdict.metrics._ranking import (
    BinaryCounts,
    ap_from_counts,
    auc_from_counts,
    binary_counts,
    pr_from_counts,
    roc_from_counts,
)
from verdict.metrics._ranking_multiclass import average_precision_score, roc_auc_score

RTOL = 1e-12
OURS = {
    "roc_curve": roc_curve,
    "precision_recall_curve": precision_recall_curve,
    "roc_auc_score": roc_auc_score,
    "average_precision_score": average_precision_score,
}
SCORES = ["proba", "normal", "ties", "ints", "float32", "signed_zero"]
WEIGHTS = ["none", "float", "zeros", "int"]


def make_scores(rng: np.random.Generator, n: int, kind: str) -> np.ndarray:
    if kind == "proba":
        return rng.random(n)
    if kind == "normal":
        return rng.normal(size=n) * 3
    if kind == "ties":
        return np.round(rng.normal(size=n), 1)
    if kind == "ints":
        return rng.integers(-3, 4, n)
    if kind == "float32":
        return rng.random(n).astype(np.float32)
    s = rng.choice([-1.5, -0.0, 0.0, 0.25, 2.0], n)  # -0.0 and 0.0 must tie
    return s


def make_weights(rng: np.random.Generator, n: int, kind: str) -> np.ndarray | None:
    if kind == "none":
        return None
    if kind == "float":
        return rng.random(n) * 3
    if kind == "zeros":
        w = rng.random(n)
        w[rng.random(n) < 0.3] = 0.0
        w[0] = 0.5
        return w
    return rng.integers(0, 4, n)


def case(seed: int, score_kind: str, weight_kind: str, n: int = 120):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.35).astype(int)
    y[:2] = [0, 1]
    return y, make_scores(rng, n, score_kind), make_weights(rng, n, weight_kind)


def ours(name: str):
    return OURS[name]


# --------------------------------------------------------------------------- differential


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("score_kind", SCORES)
@pytest.mark.parametrize("weight_kind", WEIGHTS)
def test_binary_metrics_match_sklearn(same, seed, score_kind, weight_kind):
    y, s, w = case(seed, score_kind, weight_kind)
    for drop in (True, False):
        for name in ("roc_curve", "precision_recall_curve"):
            same(name, y, s, ours=ours(name), sample_weight=w, drop_intermediate=drop)
    same("roc_auc_score", y, s, ours=roc_auc_score, sample_weight=w)
    same("average_precision_score", y, s, ours=average_precision_score, sample_weight=w)
    for max_fpr in (0.05, 0.3, 0.999, 1.0):
        same("roc_auc_score", y, s, ours=roc_auc_score, sample_weight=w, max_fpr=max_fpr)


@pytest.mark.parametrize(
    ("labels", "pos_label"),
    [
        ((0, 1), None),
        ((-1, 1), None),
        ((False, True), None),
        ((0.0, 1.0), None),
        ((1, 2), 2),
        ((1, 2), 1),
        (("cat", "dog"), "dog"),
        (("cat", "dog"), "cat"),
        ((3, 7), 5),  # absent positive class: warnings and nan, as in scikit-learn
    ],
)
def test_label_kinds_and_pos_label(same, labels, pos_label):
    rng = np.random.default_rng(7)
    codes = rng.integers(0, 2, 80)
    y = np.array(labels)[codes]
    s = np.round(rng.random(80), 2)
    for name in ("roc_curve", "precision_recall_curve"):
        same(name, y, s, ours=ours(name), pos_label=pos_label)
        same(name, list(y), list(s), ours=ours(name), pos_label=pos_label)
    if pos_label is not None:
        same("average_precision_score", y, s, ours=average_precision_score, pos_label=pos_label)
    same("roc_auc_score", y, s, ours=roc_auc_score)


def test_pandas_inputs(same):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "y": rng.choice(["no", "yes"], 60),
            "s": rng.random(60),
            "w": rng.random(60),
        }
    )
    for name in ("roc_curve", "precision_recall_curve"):
        same(name, frame.y, frame.s, ours=ours(name), pos_label="yes", sample_weight=frame.w)
    same("roc_auc_score", frame.y, frame[["s"]], ours=roc_auc_score, sample_weight=frame.w)
    same("average_precision_score", frame.y == "yes", frame.s, ours=average_precision_score)


def test_multiclass_y_true_with_pos_label_is_one_vs_rest(same):
    rng = np.random.default_rng(5)
    y, s = rng.integers(0, 4, 90), rng.random(90)
    for name in ("roc_curve", "precision_recall_curve"):
        same(name, y, s, ours=ours(name), pos_label=2)


@pytest.mark.parametrize("y", [[1, 1, 1], [0, 0, 0], ["a", "a"]])
def test_one_class(same, y):
    s = np.linspace(0, 1, len(y))
    # As scikit-learn 1.9: an UndefinedMetricWarning and nan
    same("roc_auc_score", y, s, ours=roc_auc_score)
    with pytest.warns(UndefinedMetricWarning, match="Only one class is present in y_true"):
        assert np.isnan(roc_auc_score(y, s))
    if y[0] != "a":
        same("roc_curve", y, s, ours=roc_curve)
        same("precision_recall_curve", y, s, ours=precision_recall_curve)
        same("average_precision_score", y, s, ours=average_precision_score)


def test_constant_scores_and_single_sample(same):
    same("roc_curve", [0, 1, 1, 0], [0.5] * 4, ours=roc_curve)
    same("precision_recall_curve", [0, 1, 1, 0], [0.5] * 4, ours=precision_recall_curve)
    same("roc_auc_score", [0, 1, 1, 0], [0.5] * 4, ours=roc_auc_score)
    same("average_precision_score", [1], [0.3], ours=average_precision_score)


@pytest.mark.parametrize("kind", ["proba", "normal", "ties"])
def test_large_input_exact(kind):
    rng = np.random.default_rng(11)
    n = 200_000
    y = rng.random(n) < 0.2
    s = make_scores(rng, n, kind)
    assert_all_close(roc_curve(y, s), skm.roc_curve(y, s))
    assert_all_close(precision_recall_curve(y, s), skm.precision_recall_curve(y, s))
    assert roc_auc_score(y, s) == pytest.approx(skm.roc_auc_score(y, s), rel=RTOL, abs=0)
    ap, sk_ap = average_precision_score(y, s), skm.average_precision_score(y, s)
    assert ap == pytest.approx(sk_ap, rel=RTOL, abs=0)


# --------------------------------------------------------------------------- kernel


@pytest.mark.parametrize("weight_kind", WEIGHTS)
@pytest.mark.parametrize("score_kind", ["normal", "ties", "signed_zero"])
def test_binary_counts_match_confusion_matrix_at_thresholds(score_kind, weight_kind):
    y, s, w = case(4, score_kind, weight_kind)
    weights = None if w is None else w.astype(np.float64)
    counts = binary_counts(y == 1, s.astype(np.float64), weights)
    _, fps, _, tps, thresholds = confusion_matrix_at_thresholds(y, s, sample_weight=w)
    assert isinstance(counts, BinaryCounts)
    assert_all_close((counts.fps, counts.tps, counts.thresholds), (fps, tps, thresholds))
    assert counts.fps.dtype == counts.tps.dtype == np.float64


def test_counts_feed_every_curve_and_area():
    y, s, w = case(9, "ties", "float")
    counts = binary_counts(y == 1, s, w)
    sk_roc = skm.roc_curve(y, s, sample_weight=w, drop_intermediate=False)
    assert_all_close(roc_from_counts(counts, False), sk_roc)
    sk_pr = skm.precision_recall_curve(y, s, sample_weight=w, drop_intermediate=True)
    assert_all_close(pr_from_counts(counts, True), sk_pr)
    expected = [
        skm.roc_auc_score(y, s, sample_weight=w),
        skm.roc_auc_score(y, s, sample_weight=w, max_fpr=0.2),
        skm.average_precision_score(y, s, sample_weight=w),
    ]
    got = [auc_from_counts(counts), auc_from_counts(counts, 0.2), ap_from_counts(counts)]
    assert_all_close(got, expected)


def assert_all_close(ours_, theirs) -> None:
    assert len(ours_) == len(theirs)
    for a, b in zip(ours_, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=0)


def test_kernel_does_not_modify_inputs():
    y, s, w = case(2, "normal", "zeros")
    y_pos, copies = y == 1, (s.copy(), w.copy())
    binary_counts(y_pos, s)
    binary_counts(y_pos, s, w)
    np.testing.assert_array_equal(s, copies[0])
    np.testing.assert_array_equal(w, copies[1])


# --------------------------------------------------------------------------- errors


def raises(exc: type[Exception], func, *args, match: str, **kwargs) -> str:
    with pytest.raises(exc) as info:
        func(*args, **kwargs)
    message = str(info.value)
    assert match in message, message
    return message


@pytest.mark.parametrize("name", list(OURS))
def test_bad_input_names_the_argument(name):
    func = OURS[name]
    raises(InvalidInputError, func, [0, 1, 1], [0.1, 0.2], match="y_score has 2")
    raises(InvalidInputError, func, [0, 1], [0.1, np.nan], match="y_score contains NaN")
    raises(InvalidInputError, func, [0, 1], [0.1, np.inf], match="y_score contains infinity")
    raises(InvalidInputError, func, [0, 1], [-np.inf, 0.1], match="y_score contains infinity")
    raises(InvalidInputError, func, [], [], match="y_true is empty")
    raises(InvalidInputError, func, [0, 1], ["a", "b"], match="y_score has dtype")
    raises(InvalidInputError, func, [0, 1], [0.1, 0.2], sample_weight=[1.0], match="sample_weight")
    msg = raises(
        InvalidInputError,
        func,
        [0, 1],
        [0.1, 0.2],
        sample_weight=[0, 0],
        match="sample_weight is all zeros",
    )
    assert "To fix" in msg
    msg = raises(InvalidInputError, func, [[0, 1], [1, 0]], [0.1, 0.2], match="y_true")
    assert "multiclass" in msg and "multilabel" in msg


def test_binary_scores_must_be_1d():
    for func in OURS.values():
        raises(InvalidInputError, func, [0, 1, 1], np.ones((3, 2)) / 2, match="y_score")


def test_pos_label_errors():
    raises(InvalidInputError, roc_curve, ["a", "b"], [0.1, 0.2], match="pos_label")
    raises(InvalidInputError, roc_curve, [1, 2], [0.1, 0.2], match="pos_label")
    msg = raises(
        InvalidInputError, precision_recall_curve, [0, 1, 2], [0.1, 0.2, 0.3], match="pos_label"
    )
    assert "To fix" in msg
    raises(InvalidParameterError, roc_curve, [0, 1], [0.1, 0.2], pos_label=[1], match="pos_label")
    raises(InvalidInputError, average_precision_score, ["a", "b"], [0.1, 0.2], match="pos_label")
    raises(
        InvalidParameterError,
        average_precision_score,
        [0, 1],
        [0.1, 0.2],
        pos_label=None,
        match="pos_label",
    )


def test_parameter_errors():
    raises(
        InvalidParameterError,
        roc_curve,
        [0, 1],
        [0.1, 0.2],
        drop_intermediate="yes",
        match="drop_intermediate",
    )
    for bad in (0, 1.5, -0.1, "0.5", False):
        raises(
            InvalidParameterError, roc_auc_score, [0, 1], [0.1, 0.2], max_fpr=bad, match="max_fpr"
        )
    raises(
        InvalidParameterError, roc_auc_score, [0, 1], [0.1, 0.2], average="mcro", match="'average'"
    )
    raises(
        InvalidParameterError,
        roc_auc_score,
        [0, 1],
        [0.1, 0.2],
        multi_class="ova",
        match="'multi_class'",
    )
    raises(
        InvalidParameterError,
        average_precision_score,
        [0, 1],
        [0.1, 0.2],
        average="all",
        match="'average'",
    )


def test_warning_categories():
    with pytest.warns(UndefinedMetricWarning, match="No negative samples"):
        fpr, _, _ = roc_curve([1, 1], [0.1, 0.2])
    assert np.isnan(fpr).all()
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        precision_recall_curve([0, 0], [0.1, 0.2])
    assert [r.category for r in records] == [UserWarning]
