"""The score metrics against scikit-learn on multilabel, multiclass and binary targets.

Random inputs come from hypothesis; ``same`` (tests/conftest.py) runs both libraries and
compares values (rtol 1e-12), dtypes, exception types and warnings. Error cases also check that
verdict's message starts with scikit-learn's.
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
AVERAGES = ["micro", "macro", "weighted", "samples", None]
SCORE_KINDS = ["proba", "ties", "negative", "signed_zero"]


def scores_of(draw, shape: tuple[int, ...], kind: str) -> np.ndarray:
    """Scores of ``shape``: continuous probabilities, or small grids where ties are likely."""
    if kind == "proba":
        return draw(arrays(np.float64, shape, elements=st.floats(0, 1, width=32)))
    if kind == "ties":
        return draw(arrays(np.int64, shape, elements=st.integers(0, 4))) / 4.0
    if kind == "negative":
        return draw(arrays(np.int64, shape, elements=st.integers(-6, 6))) * 0.5
    grid = np.array([-1.5, -0.0, 0.0, 0.25, 2.0])  # -0.0 and 0.0 must tie
    return grid[draw(arrays(np.int64, shape, elements=st.integers(0, 4)))]


@st.composite
def multilabel_case(draw, weighted: bool | None = None):
    n = draw(st.integers(2, 30))
    k = draw(st.integers(2, 5))
    y = draw(arrays(np.int64, (n, k), elements=st.integers(0, 1)))
    s = scores_of(draw, (n, k), draw(st.sampled_from(SCORE_KINDS)))
    if weighted is None:
        weighted = draw(st.booleans())
    w = None
    if weighted:
        w = draw(arrays(np.float64, n, elements=st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0])))
        w[0] = 1.0  # never all zero
    return y, s, w


@st.composite
def proba_case(draw, multilabel: bool = False):
    """Probabilities (rows summing to one unless multilabel) and matching true labels."""
    n = draw(st.integers(2, 30))
    k = draw(st.integers(2, 5))
    raw = draw(arrays(np.float64, (n, k), elements=st.floats(0, 1, width=32)))
    if multilabel:
        y = draw(arrays(np.int64, (n, k), elements=st.integers(0, 1)))
        return y, raw, None
    raw += 1e-3
    p = raw / raw.sum(axis=1, keepdims=True)
    y = draw(arrays(np.int64, n, elements=st.integers(0, k - 1)))
    labels = list(range(k)) if np.unique(y).shape[0] < k else None
    return y, p, labels


# --------------------------------------------------------------------------- multilabel


@SETTINGS
@given(case=multilabel_case(), average=st.sampled_from(AVERAGES))
def test_multilabel_auc_and_ap_match_sklearn(same, case, average):
    y, s, w = case
    same("roc_auc_score", y, s, average=average, sample_weight=w)
    same("average_precision_score", y, s, average=average, sample_weight=w)


@SETTINGS
@given(case=multilabel_case(weighted=False), max_fpr=st.sampled_from([0.1, 0.5, 1.0]))
def test_multilabel_partial_auc_matches_sklearn(same, case, max_fpr):
    y, s, _ = case
    for average in AVERAGES:
        same("roc_auc_score", y, s, average=average, max_fpr=max_fpr)


@SETTINGS
@given(case=multilabel_case())
def test_boolean_and_float_indicators_match_sklearn(same, case):
    y, s, w = case
    for indicator in (y.astype(bool), y.astype(float)):
        same("roc_auc_score", indicator, s, sample_weight=w)
        same("average_precision_score", indicator, s, sample_weight=w)


@SETTINGS
@given(case=proba_case(multilabel=True), normalize=st.booleans())
def test_multilabel_probabilistic_losses_match_sklearn(same, case, normalize):
    y, p, _ = case
    w = np.linspace(0.5, 2.0, y.shape[0])
    same("log_loss", y, p, normalize=normalize)
    same("log_loss", y, p, sample_weight=w)
    same("brier_score_loss", y, p, sample_weight=w)
    for scale in (True, False):
        same("brier_score_loss", y, p, scale_by_half=scale)
    if y.any(axis=0).all() and (~y.astype(bool)).any(axis=0).all():  # else a zero null loss
        same("d2_log_loss_score", y, p)
        same("d2_brier_score", y, p, sample_weight=w)


def test_multilabel_columns_with_one_class_warn_and_give_nan(same):
    y = np.array([[0, 1, 1], [0, 0, 1], [0, 1, 1], [0, 0, 1]])
    s = np.array([[0.1, 0.9, 0.2], [0.3, 0.2, 0.4], [0.5, 0.8, 0.6], [0.7, 0.1, 0.8]])
    for average in AVERAGES:
        same("roc_auc_score", y, s, average=average)
        same("average_precision_score", y, s, average=average)


def test_long_columns_scored_on_threads_match_sklearn(same):
    rng = np.random.default_rng(3)
    y = (rng.random((70_000, 3)) < 0.3).astype(np.int8)
    s = np.round(rng.random((70_000, 3)), 3)  # ties
    s[:, 2] -= 0.5  # one column with negative scores
    for average in ("macro", None):
        same("roc_auc_score", y, s, average=average)
        same("average_precision_score", y, s, average=average)
    same("log_loss", y, np.clip(s + 0.5, 0, 1))


# --------------------------------------------------------------------------- multiclass


@SETTINGS
@given(case=proba_case(), dtype=st.sampled_from([np.float64, np.float32]))
def test_multiclass_losses_match_sklearn(same, case, dtype):
    y, p, labels = case
    p = p.astype(dtype)
    w = np.arange(1, y.shape[0] + 1, dtype=float)
    same("log_loss", y, p, labels=labels)
    same("log_loss", y, p, labels=labels, sample_weight=w, normalize=False)
    same("brier_score_loss", y, p, labels=labels, sample_weight=w)
    if np.unique(y).shape[0] > 1:
        same("d2_log_loss_score", y, p, labels=labels, sample_weight=w)
        same("d2_brier_score", y, p, labels=labels)


@SETTINGS
@given(case=proba_case(), multi_class=st.sampled_from(["ovr", "ovo"]))
def test_multiclass_auc_and_ap_match_sklearn(same, case, multi_class):
    y, p, labels = case
    for average in ("macro", "weighted", "micro", None):
        same("roc_auc_score", y, p, multi_class=multi_class, average=average, labels=labels)
    if labels is None:
        for average in AVERAGES:
            same("average_precision_score", y, p, average=average)


@SETTINGS
@given(case=proba_case(), k=st.integers(1, 4))
def test_top_k_matches_sklearn(same, case, k):
    y, p, labels = case
    w = np.linspace(1, 2, y.shape[0])
    same("top_k_accuracy_score", y, p, k=k, labels=labels)
    same("top_k_accuracy_score", y, p, k=k, labels=labels, sample_weight=w, normalize=False)


def test_unnormalised_rows_warn_and_are_not_rescaled(same):
    y, p = [0, 1, 2], np.array([[0.5, 0.5, 0.0], [0.2, 0.2, 0.6], [0.3, 0.3, 0.3]])
    for name in ("log_loss", "brier_score_loss", "d2_log_loss_score", "d2_brier_score"):
        same(name, y, p)
    with pytest.warns(UserWarning, match="The y_prob values do not sum to one"):
        vm.log_loss(y, p)


# --------------------------------------------------------------------------- binary


@st.composite
def binary_case(draw):
    n = draw(st.integers(1, 40))
    y = draw(arrays(np.int64, n, elements=st.integers(0, 1)))
    s = scores_of(draw, (n,), draw(st.sampled_from(SCORE_KINDS)))
    return y, s


@SETTINGS
@given(case=binary_case())
def test_binary_auc_and_ap_fast_path_matches_sklearn(same, case):
    """Unweighted binary scores go through the plain-sort kernel: ties, -0.0, one class."""
    y, s = case
    same("roc_auc_score", y, s)
    same("average_precision_score", y, s)
    same("roc_auc_score", 1 - y, -s)


@SETTINGS
@given(case=binary_case())
def test_binary_losses_match_sklearn(same, case):
    y, s = case
    p = np.clip(np.abs(s) / 2, 0, 1)
    same("brier_score_loss", y, p)
    same("log_loss", y, p, labels=[0, 1])
    same("brier_score_loss", np.where(y == 1, "yes", "no"), p, pos_label="yes")


# --------------------------------------------------------------------------- errors

ML_Y = np.array([[0, 1], [1, 0], [1, 1]])
ML_S = np.array([[0.2, 0.8], [0.6, 0.4], [0.9, 0.7]])
MC_Y = np.array([0, 1, 2, 2])
MC_P = np.array([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]])

ERRORS = [
    ("roc_auc_score", (ML_Y, ML_S[:2]), {}),
    ("roc_auc_score", (ML_Y, ML_S[:, 0]), {}),
    ("roc_auc_score", (ML_Y, ML_S), {"sample_weight": [1, 2]}),
    ("roc_auc_score", (ML_Y, ML_S), {"sample_weight": [0, 0, 0]}),
    ("roc_auc_score", (MC_Y, MC_P), {}),
    ("roc_auc_score", (MC_Y, MC_P), {"multi_class": "ovr", "max_fpr": 0.5}),
    ("roc_auc_score", (MC_Y, MC_P * 2), {"multi_class": "ovr"}),
    ("roc_auc_score", (MC_Y, MC_P[:, 0]), {"multi_class": "ovr"}),
    ("roc_auc_score", (MC_Y, MC_P), {"multi_class": "ovr", "average": "samples"}),
    ("roc_auc_score", (MC_Y, MC_P), {"multi_class": "ovo", "sample_weight": [1, 1, 1, 1]}),
    ("roc_auc_score", (MC_Y, MC_P), {"multi_class": "ovr", "labels": [0, 1, 1]}),
    ("roc_auc_score", (MC_Y, MC_P), {"multi_class": "ovr", "labels": [2, 1, 0]}),
    ("roc_auc_score", (MC_Y, MC_P), {"multi_class": "ovr", "labels": [0, 1]}),
    ("roc_auc_score", (MC_Y, MC_P), {"multi_class": "ovr", "labels": [0, 1, 3]}),
    ("roc_auc_score", ([0, 1], [0.1, np.nan]), {}),
    ("roc_auc_score", ([[0, 1, 2], [2, 1, 0]], [[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]]), {}),
    ("average_precision_score", (ML_Y, ML_S), {"pos_label": 0}),
    ("average_precision_score", (MC_Y, MC_P), {"pos_label": 2}),
    ("average_precision_score", (MC_Y, MC_P[:, :2]), {}),
    ("average_precision_score", ([0, 1], [0.1, 0.2]), {"pos_label": 2}),
    ("average_precision_score", (["a", "b"], [0.1, 0.2]), {}),
    ("top_k_accuracy_score", ([0, 0.5, 1], MC_P[:3]), {}),
    ("top_k_accuracy_score", ([0, 1, 1, 0], MC_P), {}),
    ("top_k_accuracy_score", (MC_Y, MC_P[:, 0]), {}),
    ("top_k_accuracy_score", (np.array([0, 1, 2, 3]), MC_P), {}),
    ("top_k_accuracy_score", (MC_Y, MC_P), {"labels": [0, 1, 2, 3]}),
    ("top_k_accuracy_score", (MC_Y, MC_P), {"labels": [0, 1, 3]}),
    ("log_loss", (MC_Y, MC_P + 1), {}),
    ("log_loss", (MC_Y, MC_P - 0.5), {}),
    ("log_loss", (MC_Y, MC_P[:, :2]), {}),
    ("log_loss", (MC_Y, MC_P), {"labels": [0, 1, 2, 3]}),
    ("log_loss", (["a", "b", "c"], MC_P[:3]), {"labels": ["a", "c", "d"]}),
    ("log_loss", ([2, 2], [[0.2, 0.8], [0.6, 0.4]]), {}),
    ("log_loss", ([2, 2], [[0.2, 0.8], [0.6, 0.4]]), {"labels": [2]}),
    ("log_loss", ([0, 1, 1], [[0.2, 0.8], [0.6, 0.4]]), {}),
    ("log_loss", ([0, 1], [0.2, np.inf]), {}),
    ("log_loss", ([0, 1], [0.2, 0.5]), {"sample_weight": [1, np.nan]}),
    ("brier_score_loss", ([0, 1, 2, 0], [0.8, 0.6, 0.4, 0.2]), {}),
    ("brier_score_loss", ([0, 1, 1], [0.8, 1.6, 0.4]), {}),
    ("brier_score_loss", ([0, 1, 1], [0.8, -0.6, 0.4]), {}),
    ("brier_score_loss", (["a", "b"], [0.8, 0.6]), {}),
    ("brier_score_loss", (["eggs"], [[0.9, 0.1]]), {}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), ERRORS, ids=lambda v: str(v)[:40])
def test_errors_start_with_sklearns_message(same, name, args, kwargs):
    exc = same(name, *args, **kwargs)
    assert isinstance(exc, Exception), f"{name} accepted {args}, {kwargs}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as theirs:
            getattr(skm, name)(*args, **kwargs)
    assert str(exc).startswith(str(theirs.value).rstrip(".")), (str(exc), str(theirs.value))
    assert "To fix" in str(exc)


def test_bytes_labels_raise_sklearns_type_error():
    for func in (vm.roc_curve, vm.precision_recall_curve, vm.roc_auc_score):
        with pytest.raises(TypeError, match="Support for labels represented as bytes"):
            func([b"a", b"b"], [0.1, 0.2])
