"""Differential tests (hypothesis) of the count metrics on multilabel indicator targets.

Random label-indicator matrices (every density, several dtypes, sparse ones, values other than
0/1) go through scikit-learn and verdict by ``check_same`` (tests/conftest.py): values agree to
rtol 1e-12, and so do array dtypes, raised exception types and warnings. Every average
('samples' included), label subsets and orders, sample weights (zeros too), ``zero_division``,
samplewise confusion matrices and ``normalize`` are drawn. ``specificity_score``, ours alone,
is compared with tn / (tn + fp) from scikit-learn's multilabel confusion matrix.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn.metrics as skm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics._classification import _check_set_wise_labels, _nanaverage, _prf_divide

import verdict.metrics as vm
from verdict.metrics._multilabel import column_sums

# `same` is a plain function (tests/conftest.py): sharing it between examples is safe
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
AVERAGES = [None, "binary", "micro", "macro", "weighted", "samples"]
ZERO_DIVISIONS = ["warn", 0, 1, np.nan]
KINDS = ["int", "bool", "float", "uint8", "fortran", "frame", "csr", "twos", "mixed"]


def encode(m: np.ndarray, kind: str, side: str) -> object:
    """A bool matrix in the representation ``kind`` ('mixed': y_pred marks labels with 2)."""
    if kind == "bool":
        return m
    if kind == "float":
        return m.astype(np.float64)
    if kind == "uint8":
        return m.astype(np.uint8)
    if kind == "fortran":
        return np.asfortranarray(m.astype(np.int64))
    if kind == "frame":
        return pd.DataFrame(m.astype(np.int64), columns=[f"label {j}" for j in range(m.shape[1])])
    if kind == "csr":
        return sp.csr_matrix(m.astype(np.int64))
    if kind == "twos" or (kind == "mixed" and side == "pred"):
        return 2 * m.astype(np.int64)
    return m.astype(np.int64)


@st.composite
def cases(draw):
    """(y_true, y_pred, sample_weight, n_labels) of one multilabel task."""
    n = draw(st.integers(1, 25))
    n_labels = draw(st.integers(2, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    density = draw(st.sampled_from([0.0, 0.15, 0.5, 0.85, 1.0]))
    noise = draw(st.sampled_from([0.0, 0.2, 0.5]))
    t = rng.random((n, n_labels)) < density
    p = t ^ (rng.random((n, n_labels)) < noise)
    kind = draw(st.sampled_from(KINDS))
    weights = draw(st.sampled_from(["none", "float", "int", "zeros"]))
    sw = {
        "none": None,
        "float": rng.uniform(0.1, 3.0, n),
        "int": rng.integers(0, 4, n),
        "zeros": np.where(rng.random(n) < 0.4, 0.0, rng.uniform(0.1, 3.0, n)),
    }[weights]
    return encode(t, kind, "true"), encode(p, kind, "pred"), sw, n_labels


@st.composite
def label_args(draw, n_labels: int):
    """None, a subset in any order (duplicates too), or one index out of range."""
    choice = draw(st.sampled_from(["none", "subset", "all-reordered", "out-of-range"]))
    if choice == "none":
        return None
    if choice == "out-of-range":
        return [0, draw(st.sampled_from([-1, n_labels]))]
    indices = st.integers(0, n_labels - 1)
    size = n_labels if choice == "all-reordered" else draw(st.integers(1, n_labels))
    if choice == "all-reordered":
        return draw(st.permutations(range(n_labels)))
    return draw(st.lists(indices, min_size=size, max_size=size))


def ill_defined_messages(func, *args, **kwargs) -> list[str]:
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        with contextlib.suppress(ValueError):  # both libraries refuse some draws
            func(*args, **kwargs)
    return [str(r.message) for r in records if "ill-defined" in str(r.message)]


@SETTINGS
@given(cases(), st.data())
def test_multilabel_confusion_matrix(same, case, data):
    y_true, y_pred, sw, n_labels = case
    labels = data.draw(label_args(n_labels))
    for samplewise in (False, True):
        same(
            "multilabel_confusion_matrix",
            y_true,
            y_pred,
            sample_weight=sw,
            labels=labels,
            samplewise=samplewise,
        )


@SETTINGS
@given(cases(), st.data())
def test_precision_recall_fscore_support(same, case, data):
    y_true, y_pred, sw, n_labels = case
    labels = data.draw(label_args(n_labels))
    beta = data.draw(st.sampled_from([0.5, 1.0, 2.0]))
    for average in AVERAGES:
        for zd in ZERO_DIVISIONS:
            kwargs = {"labels": labels, "average": average, "sample_weight": sw}
            same(
                "precision_recall_fscore_support",
                y_true,
                y_pred,
                beta=beta,
                **kwargs,
                zero_division=zd,
            )
        messages = [
            ill_defined_messages(module.precision_recall_fscore_support, y_true, y_pred, **kwargs)
            for module in (skm, vm)
        ]
        assert messages[0] == messages[1]


@pytest.mark.parametrize(
    "func", ["precision_score", "recall_score", "f1_score", "fbeta_score", "jaccard_score"]
)
@SETTINGS
@given(case=cases(), data=st.data())
def test_single_set_wise_scores(same, func, case, data):
    y_true, y_pred, sw, n_labels = case
    labels = data.draw(label_args(n_labels))
    extra = {"beta": 2.0} if func == "fbeta_score" else {}
    zero_divisions = ZERO_DIVISIONS[:3] if func == "jaccard_score" else ZERO_DIVISIONS
    for average in AVERAGES:
        for zd in zero_divisions:
            same(
                func,
                y_true,
                y_pred,
                labels=labels,
                average=average,
                sample_weight=sw,
                zero_division=zd,
                **extra,
            )


@SETTINGS
@given(cases())
def test_exact_match_metrics(same, case):
    y_true, y_pred, sw, _ = case
    for normalize in (True, False):
        same("accuracy_score", y_true, y_pred, normalize=normalize, sample_weight=sw)
        same("zero_one_loss", y_true, y_pred, normalize=normalize, sample_weight=sw)
    same("hamming_loss", y_true, y_pred, sample_weight=sw)


@SETTINGS
@given(cases())
def test_one_label_per_sample_metrics_refuse(same, case):
    y_true, y_pred, sw, _ = case
    for func in [
        "confusion_matrix",
        "matthews_corrcoef",
        "balanced_accuracy_score",
        "cohen_kappa_score",
    ]:
        assert isinstance(same(func, y_true, y_pred, sample_weight=sw), ValueError)


@SETTINGS
@given(cases(), st.data())
def test_classification_report(case, data):
    y_true, y_pred, sw, n_labels = case
    labels = data.draw(label_args(n_labels))
    zd = data.draw(st.sampled_from([0, 1, np.nan]))
    kwargs = {"labels": labels, "sample_weight": sw, "zero_division": zd}
    try:
        expected = skm.classification_report(y_true, y_pred, output_dict=True, **kwargs)
    except ValueError:
        with pytest.raises(ValueError):
            vm.classification_report(y_true, y_pred, output_dict=True, **kwargs)
        return
    ours = vm.classification_report(y_true, y_pred, output_dict=True, **kwargs)
    assert ours.keys() == expected.keys()
    for row, scores in expected.items():
        assert ours[row].keys() == scores.keys()
        np.testing.assert_allclose(
            list(ours[row].values()), list(scores.values()), rtol=1e-12, atol=0, equal_nan=True
        )
    text = vm.classification_report(y_true, y_pred, digits=4, **kwargs)
    assert text == skm.classification_report(y_true, y_pred, digits=4, **kwargs)


def reference_specificity(
    y_true, y_pred, *, labels=None, average="binary", sample_weight=None, zero_division="warn"
):
    """tn / (tn + fp) from scikit-learn's multilabel_confusion_matrix, averaged as recall is
    (per-sample counts for 'samples', weighted by sample_weight there, by support elsewhere)."""
    labels = _check_set_wise_labels(y_true, y_pred, average, labels, 1)
    mcm = skm.multilabel_confusion_matrix(
        y_true, y_pred, sample_weight=sample_weight, labels=labels, samplewise=average == "samples"
    )
    tn, fp, fn, tp = mcm[:, 0, 0], mcm[:, 0, 1], mcm[:, 1, 0], mcm[:, 1, 1]
    negatives = tn + fp
    if average == "micro":
        tn, negatives = np.array([tn.sum()]), np.array([negatives.sum()])
    spec = _prf_divide(
        tn, negatives, "specificity", "negative", average, ("specificity",), zero_division
    )
    if average is None:
        return spec
    weights = {"weighted": tp + fn, "samples": sample_weight}.get(average)
    return float(_nanaverage(spec, weights=weights))


@SETTINGS
@given(cases(), st.data())
def test_specificity_score(same, case, data):
    y_true, y_pred, sw, n_labels = case
    labels = data.draw(label_args(n_labels))
    for average in AVERAGES:
        for zd in ZERO_DIVISIONS:
            same(
                reference_specificity,
                y_true,
                y_pred,
                ours=vm.specificity_score,
                labels=labels,
                average=average,
                sample_weight=sw,
                zero_division=zd,
            )


def test_specificity_of_a_label_is_recall_of_its_complement():
    """Multilabel specificity per label equals recall with every label flipped."""
    rng = np.random.default_rng(0)
    t, p = rng.random((40, 5)) < 0.3, rng.random((40, 5)) < 0.3
    sw = rng.uniform(0.5, 2.0, 40)
    for average in [None, "micro", "macro", "samples"]:
        spec = vm.specificity_score(t, p, average=average, sample_weight=sw, zero_division=0)
        recall = skm.recall_score(~t, ~p, average=average, sample_weight=sw, zero_division=0)
        np.testing.assert_allclose(spec, recall, rtol=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 3000), st.integers(1, 25), st.integers(0, 2**32 - 1))
def test_weighted_column_sums_add_rows_in_order(n, n_labels, seed):
    """The kernel's weighted label counts equal scikit-learn's row-order bincount to the bit
    (an exact 0 must stay 0 when scikit-learn's does: tn = total - tp - fp - fn)."""
    rng = np.random.default_rng(seed)
    m = rng.random((n, n_labels)) < rng.random()
    w = rng.uniform(0.1, 3.0, n)
    rows, cols = np.nonzero(m)
    expected = np.bincount(cols, weights=w[rows], minlength=n_labels)
    assert np.array_equal(column_sums(m, w), expected)
