"""log_loss and brier_score_loss against scikit-learn, including their input errors.

Deliberate difference: 2-D probabilities whose rows do not sum to one only warn in
scikit-learn; verdict refuses them with InvalidInputError (see test_unnormalised_rows_*).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm

import verdict.metrics as vm
from verdict.errors import InvalidInputError


def make_labels(codes: np.ndarray, kind: str):
    if kind == "int":
        return codes
    if kind == "neg":
        return 2 * codes - 3
    if kind == "str":
        return np.array([f"c{i}" for i in codes.tolist()])
    if kind == "pandas-str":
        return pd.Series([f"class {i}" for i in codes.tolist()], dtype=object)
    raise AssertionError(kind)


def make_proba(rng, n: int, k: int, dtype=np.float64) -> np.ndarray:
    """Dirichlet rows with a few certain (one-hot) rows, so clipping at eps is exercised."""
    p = rng.dirichlet(np.full(k, 0.7), n)
    p[:3] = np.eye(k)[rng.integers(0, k, 3)]
    return p.astype(dtype)


def weights_for(rng, kind: str, n: int):
    return {
        "none": None,
        "float": rng.uniform(0.1, 3.0, n),
        "zeros": np.where(rng.random(n) < 0.3, 0.0, rng.uniform(0.1, 3.0, n)),
        "int": rng.integers(0, 4, n),
    }[kind]


# ------------------------------------------------------------------------------------ log_loss


@pytest.mark.parametrize("k", [2, 3, 5, 10])
@pytest.mark.parametrize("kind", ["int", "neg", "str", "pandas-str"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_log_loss_multiclass(same, k, kind, dtype):
    rng = np.random.default_rng([k, len(kind), np.dtype(dtype).itemsize])
    n = 50
    codes = rng.integers(0, k, n)
    codes[:k] = np.arange(k)  # every class occurs in y_true
    y_true, proba = make_labels(codes, kind), make_proba(rng, n, k, dtype)
    for w_kind in ["none", "float", "zeros", "int"]:
        sw = weights_for(rng, w_kind, n)
        for normalize in [True, False]:
            same("log_loss", y_true, proba, sample_weight=sw, normalize=normalize)
    same("log_loss", y_true, proba.tolist() if dtype == np.float64 else proba)
    # columns for a class that y_true lacks are named through labels
    labels = np.unique(make_labels(np.arange(k + 1), kind))
    wider = np.hstack([proba, np.zeros((n, 1), dtype=dtype)])
    same("log_loss", y_true, wider, labels=labels)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_log_loss_binary_shapes(same, dtype):
    rng = np.random.default_rng(1)
    n = 40
    p1 = rng.random(n).astype(dtype)
    p1[:4] = [0, 1, 0, 1]
    for y_true in [
        rng.integers(0, 2, n),
        np.where(rng.random(n) < 0.5, "yes", "no"),
        rng.random(n) < 0.5,
    ]:
        for sw in [None, rng.uniform(0, 2, n)]:
            same("log_loss", y_true, p1, sample_weight=sw)  # 1-D: the greater label
            same("log_loss", y_true, p1[:, None], sample_weight=sw)  # (n, 1) column
            same("log_loss", y_true, np.column_stack([1 - p1, p1]), sample_weight=sw)
    # a single class in y_true is fine once labels names both
    same("log_loss", np.ones(n, dtype=int), p1, labels=[0, 1])
    same("log_loss", np.zeros(n, dtype=int), p1, labels=[0, 1], normalize=False)


def test_log_loss_label_order_warning(same):
    proba = np.array([[0.2, 0.7, 0.1], [0.6, 0.2, 0.2], [0.6, 0.1, 0.3]])
    same("log_loss", [1, 0, 2], proba, labels=[2, 0, 1])  # UserWarning in both


def test_log_loss_y_pred_keyword_is_deprecated():
    y_true, proba = [0, 1, 1], [0.2, 0.7, 0.9]
    with pytest.warns(FutureWarning, match="y_proba"):
        expected = skm.log_loss(y_true, y_pred=proba)
    with pytest.warns(FutureWarning, match="y_proba"):
        ours = vm.log_loss(y_true, y_pred=proba)
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=0)
    for module in (skm, vm):
        with pytest.raises(ValueError, match="y_pred"):
            module.log_loss(y_true, proba, y_pred=proba)


# ------------------------------------------------------------------------------------- Brier


BINARY_TRUTHS = [
    ([0, 1, 1, 0, 1, 0], None),
    ([0, 1, 1, 0, 1, 0], 0),
    ([-1, 1, 1, -1, 1, -1], None),
    ([1, 2, 2, 1, 2, 1], None),  # pos_label defaults to the greater label
    ([1, 2, 2, 1, 2, 1], 1),
    (["no", "yes", "yes", "no", "yes", "no"], "yes"),
    (["no", "yes", "yes", "no", "yes", "no"], "no"),
    (["no", "yes", "yes", "no", "yes", "no"], None),  # strings need pos_label: both raise
    ([True, False, True, True, False, False], None),
    ([True, False, True, True, False, False], False),
    ([0, 0, 0, 0, 0, 0], None),  # one class
    ([3, 3, 3, 3, 3, 3], 3),
    ([0, 1, 2, 0, 1, 2], None),  # multiclass truth with 1-D probabilities: both raise
]


@pytest.mark.parametrize("case", BINARY_TRUTHS, ids=[str(c) for c in BINARY_TRUTHS])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_brier_binary(same, case, dtype):
    y_true, pos_label = case
    rng = np.random.default_rng(len(str(case)))
    p1 = rng.random(6).astype(dtype)
    p1[0] = 1.0
    for sw in [None, rng.uniform(0, 2, 6), np.array([0, 1, 2, 0, 1, 3])]:
        for scale_by_half in ["auto", True, False]:
            kw = {"sample_weight": sw, "pos_label": pos_label, "scale_by_half": scale_by_half}
            same("brier_score_loss", y_true, p1, **kw)
            same("brier_score_loss", y_true, p1[:, None], **kw)


@pytest.mark.parametrize("k", [2, 3, 5, 10])
@pytest.mark.parametrize("kind", ["int", "str", "pandas-str"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_brier_multiclass(same, k, kind, dtype):
    rng = np.random.default_rng([k, len(kind)])
    n = 50
    codes = rng.integers(0, k, n)
    codes[:k] = np.arange(k)
    y_true, proba = make_labels(codes, kind), make_proba(rng, n, k, dtype)
    for w_kind in ["none", "float", "int"]:
        sw = weights_for(rng, w_kind, n)
        for scale_by_half in ["auto", True, False]:
            same("brier_score_loss", y_true, proba, sample_weight=sw, scale_by_half=scale_by_half)
    labels = np.unique(make_labels(np.arange(k + 1), kind))
    wider = np.hstack([proba, np.zeros((n, 1), dtype=dtype)])
    same("brier_score_loss", y_true, wider, labels=labels)
    # Fortran order: per-row sums must still round as sklearn's (C-ordered) sums do
    same("brier_score_loss", y_true, np.asfortranarray(wider), labels=labels)
    # pos_label only concerns 1-D probabilities; it is ignored for 2-D ones
    same("brier_score_loss", y_true, proba, pos_label=make_labels(np.array([0]), "int")[0])


# ------------------------------------------------------------------------ normalisation policy


UNNORMALISED = np.array([[0.5, 0.5, 0.0], [0.2, 0.2, 0.6], [0.3, 0.3, 0.3]])


@pytest.mark.parametrize("func", ["log_loss", "brier_score_loss"])
def test_unnormalised_rows_warn_and_score_as_sklearn_does(same, func):
    """Rows that do not sum to one: scikit-learn's UserWarning, and its value (unnormalised)."""
    same(func, [0, 1, 2], UNNORMALISED)
    with pytest.warns(UserWarning, match="The y_prob values do not sum to one"):
        getattr(vm, func)([0, 1, 2], UNNORMALISED)


@pytest.mark.parametrize("func", ["log_loss", "brier_score_loss"])
def test_rows_within_tolerance_are_accepted(same, func):
    """Rounding noise below sqrt(eps) of the dtype is not an error, as in sklearn."""
    p = UNNORMALISED.copy()
    p[2] = [0.3, 0.3, 0.4 + 1e-9]
    same(func, [0, 1, 2], p)
    same(func, [0, 1, 2], (p + np.float32(1e-5) * np.eye(3)).astype(np.float32))


# ------------------------------------------------------------------------------- input errors


PROBA_ERRORS = [
    # (y_true, y_proba, kwargs, words our message must contain)
    ([0, 1, 1], [0.2, 1.2, 0.5], {}, ["y_proba", "greater than 1"]),
    ([0, 1, 1], [0.2, -0.1, 0.5], {}, ["y_proba", "lower than 0"]),
    ([0, 1, 1], [0.2, np.nan, 0.5], {}, ["y_proba", "NaN"]),
    ([0, 1, 1], [0.2, np.inf, 0.5], {}, ["y_proba", "infinity"]),
    ([0, 1, 2], [[0.2, 0.8], [0.5, 0.5], [1.0, 0.0]], {}, ["y_true", "classes"]),
    ([0, 1, 1], [[0.2, 0.8], [0.5, 0.5]], {}, ["y_true has 3", "y_proba has 2"]),
    ([0, 1, 1], [0.2, 0.5, 0.5], {"sample_weight": [1, 2]}, ["sample_weight"]),
    ([0, 1, 1], [0.2, 0.5, 0.5], {"sample_weight": [0, 0, 0]}, ["sample_weight"]),
    ([0, 1, 1], [0.2, 0.5, 0.5], {"sample_weight": [1, np.nan, 1]}, ["sample_weight", "NaN"]),
    ([0, 1, 5], [[0.2, 0.8], [0.5, 0.5], [0.5, 0.5]], {"labels": [0, 1]}, ["y_true", "labels"]),
    ([0.5, 1, 1], [0.2, 0.5, 0.5], {}, ["y_true", "continuous"]),
    ([np.nan, 1, 1], [0.2, 0.5, 0.5], {}, ["y_true", "NaN"]),
    ([], [], {}, ["empty"]),
]


@pytest.mark.parametrize("case", PROBA_ERRORS, ids=[str(c[3]) for c in PROBA_ERRORS])
def test_log_loss_bad_input(same, case):
    y_true, proba, kwargs, words = case
    exc = same("log_loss", y_true, proba, **kwargs)
    assert isinstance(exc, InvalidInputError), exc
    for word in words:
        assert word in str(exc)


@pytest.mark.parametrize("case", PROBA_ERRORS, ids=[str(c[3]) for c in PROBA_ERRORS])
def test_brier_bad_input(same, case):
    y_true, proba, kwargs, words = case
    exc = same("brier_score_loss", y_true, proba, **kwargs)
    assert isinstance(exc, InvalidInputError), exc
    assert any(word in str(exc) for word in words)


def test_single_class_needs_labels(same):
    exc = same("log_loss", [1, 1, 1], [[0.2, 0.8]] * 3)
    assert "labels" in str(exc)
    exc = same("log_loss", [1, 1, 1], [0.3, 0.6, 0.9], labels=[1])
    assert "labels" in str(exc)
    exc = same("brier_score_loss", [0, 0, 1], [[0.2, 0.5, 0.3]] * 3, labels=[0, 1, 2, 3])
    assert "labels" in str(exc)


@pytest.mark.parametrize(
    ("func", "kwargs", "word"),
    [
        ("log_loss", {"normalize": "x"}, "normalize"),
        ("brier_score_loss", {"scale_by_half": "x"}, "scale_by_half"),
        ("brier_score_loss", {"pos_label": [1]}, "pos_label"),
    ],
)
def test_bad_parameters(same, func, kwargs, word):
    exc = same(func, [0, 1, 1], [0.1, 0.8, 0.6], **kwargs)
    assert isinstance(exc, InvalidInputError) and word in str(exc)
