"""DeLong's AUC variance against an independent quadratic (Mann-Whitney placement) reference.

The reference compares every positive with every negative (O(m n)), the textbook formula of
DeLong, DeLong & Clarke-Pearson (1988); the implementation under test uses one sort per score
vector. Also: the sort kernel, the multiclass covariance, a coverage simulation and errors.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import integrate, special

from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.metrics import _delong
from verdict.metrics._delong import (
    AucInterval,
    MulticlassAucInterval,
    components,
    delong_roc_ci,
    sorted_groups,
)
from verdict.metrics._ranking_multiclass import roc_auc_score

TOL = 1e-10
KINDS = ["normal", "ties", "ints", "signed_zero", "negative", "float32", "proba", "constant"]


# --------------------------------------------------------------------------- reference


def placements(y_pos: np.ndarray, s: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Quadratic reference: AUC, V10 (per positive) and V01 (per negative)."""
    pos, neg = s[y_pos], s[~y_pos]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    return float(psi.mean()), psi.mean(axis=1), psi.mean(axis=0)


def reference_variance(y_pos: np.ndarray, s: np.ndarray) -> float:
    _, v10, v01 = placements(y_pos, s)
    return float(np.var(v10, ddof=1) / v10.size + np.var(v01, ddof=1) / v01.size)


def reference_components(y_pos: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Per-row influence terms, scaled so that their squares sum to DeLong's variance."""
    auc, v10, v01 = placements(y_pos, s)
    m, n = v10.size, v01.size
    phi = np.empty(s.shape[0])
    phi[y_pos] = (v10 - auc) / np.sqrt(m * (m - 1))
    phi[~y_pos] = (v01 - auc) / np.sqrt(n * (n - 1))
    return phi


def make_scores(rng: np.random.Generator, y: np.ndarray, kind: str) -> np.ndarray:
    n = y.shape[0]
    base = rng.normal(size=n) + 0.8 * y
    if kind == "normal":
        return base
    if kind == "ties":
        return np.round(base, 1)
    if kind == "ints":
        return rng.integers(0, 4, n) + y
    if kind == "signed_zero":  # -0.0 and 0.0 must tie
        return rng.choice([-1.5, -0.0, 0.0, 0.25, 2.0], n) + 0.0 * y
    if kind == "negative":
        return base - 10.0
    if kind == "float32":
        return base.astype(np.float32)
    if kind == "proba":
        return special.expit(np.round(base, 2))
    return np.full(n, 0.3)


def make_binary(rng: np.random.Generator, n: int) -> np.ndarray:
    y = rng.integers(0, 2, n).astype(bool)
    y[:2], y[2:4] = True, False  # at least two of each
    return y


# --------------------------------------------------------------------------- kernel


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", [4, 37, 400])
def test_components_match_quadratic_reference(kind, n):
    rng = np.random.default_rng(n)
    y = make_binary(rng, n)
    s = make_scores(rng, y, kind).astype(np.float64)
    comp = components(s, y.view(np.uint8), int(y.sum()))
    auc, _, _ = placements(y, s)
    assert abs(comp.auc - auc) <= TOL
    np.testing.assert_allclose(comp.aligned(), reference_components(y, s), rtol=0, atol=TOL)
    assert abs(float((comp.phi**2).sum()) - reference_variance(y, s)) <= TOL


@pytest.mark.parametrize("kind", KINDS)
def test_ci_matches_quadratic_reference_and_roc_auc(kind):
    rng = np.random.default_rng(7)
    y = make_binary(rng, 500)
    s = make_scores(rng, y, kind)
    r = delong_roc_ci(y, s)
    auc, _, _ = placements(y, s.astype(np.float64))
    assert isinstance(r, AucInterval)
    assert abs(r.auc - auc) <= TOL
    assert abs(r.variance - reference_variance(y, s.astype(np.float64))) <= TOL
    assert r.auc == pytest.approx(roc_auc_score(y, s), rel=1e-12)
    half = special.ndtri(0.975) * np.sqrt(r.variance)
    assert r.low == pytest.approx(max(0.0, r.auc - half), abs=1e-12)
    assert r.high == pytest.approx(min(1.0, r.auc + half), abs=1e-12)


def test_interval_is_clipped_into_unit_interval():
    y = np.array([0, 0, 0, 1, 1, 1, 0, 1])
    r = delong_roc_ci(y, [0.1, 0.2, 0.3, 0.8, 0.9, 0.7, 0.75, 0.6])  # one swapped pair
    assert r.high == 1.0 and 0 < r.low < r.auc < 1
    perfect = delong_roc_ci(y, y + 0.5)
    assert (perfect.auc, perfect.variance, perfect.low, perfect.high) == (1.0, 0.0, 1.0, 1.0)


def check_sorted_groups(s: np.ndarray) -> None:
    order, is_new = sorted_groups(s)
    assert np.array_equal(np.sort(order), np.arange(s.shape[0]))
    values = s[order]
    assert np.array_equal(values, np.sort(s))
    assert is_new[0] and np.array_equal(is_new[1:], values[1:] != values[:-1])


@settings(max_examples=200, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.integers(1, 300),
        elements=st.one_of(
            st.floats(-1e300, 1e300, allow_subnormal=True),
            st.sampled_from([0.0, -0.0, 1.0, 1.0 + 2**-52, 1.0 - 2**-53, 5e-324, -5e-324]),
        ),
    )
)
def test_sorted_groups_is_an_exact_argsort(s):
    check_sorted_groups(s)


@pytest.mark.parametrize("n", [2**12 + 3, 2**17])
def test_sorted_groups_resorts_collisions(n):
    """Scores that differ only in their lowest bits collide once the row index is packed in."""
    rng = np.random.default_rng(n)
    check_sorted_groups(1.0 + rng.integers(0, 2**10, n) * 2.0**-52)
    check_sorted_groups(-(1.0 + rng.integers(0, 2**10, n) * 2.0**-52))
    check_sorted_groups(rng.random(n))
    check_sorted_groups(np.round(rng.normal(size=n), 2))
    base = rng.uniform(1, 2, n // 2)  # every score collides with its neighbour one ulp away
    check_sorted_groups(rng.permutation(np.concatenate([base, np.nextafter(base, 3)])))


def grouped_reference(y_pos: np.ndarray, s: np.ndarray) -> tuple[float, float]:
    """The quadratic formula over distinct scores (G x G comparisons) for large tied data."""
    values, inverse = np.unique(s, return_inverse=True)
    pos = np.bincount(inverse, weights=y_pos, minlength=values.size)
    neg = np.bincount(inverse, weights=~y_pos, minlength=values.size)
    psi = (values[:, None] > values[None, :]) + 0.5 * (values[:, None] == values[None, :])
    v10 = psi @ neg / neg.sum()  # per distinct score, for a positive holding it
    v01 = psi.T @ pos / pos.sum()  # for a negative
    m, n = pos.sum(), neg.sum()
    auc = float(pos @ v10 / m)
    var = pos @ (v10 - auc) ** 2 / (m * (m - 1)) + neg @ (v01 - auc) ** 2 / (n * (n - 1))
    return auc, float(var)


@pytest.mark.parametrize("kind", ["ties", "ints", "signed_zero", "proba", "mostly_tied"])
def test_hashed_grouping_matches_the_sort_and_the_reference(kind, monkeypatch):
    """From 2**16 rows, scores with few distinct values are grouped by a hash, not a sort."""
    rng = np.random.default_rng(17)
    y = make_binary(rng, 70_000)
    if kind == "mostly_tied":  # the sample sees few values, but there are thousands
        s = np.where(
            rng.random(y.shape[0]) < 0.97, rng.integers(0, 10, y.shape[0]), rng.random(y.shape[0])
        )
    else:
        s = make_scores(rng, y, kind)
    y8, m = y.view(np.uint8), int(y.sum())
    hashed = components(s, y8, m)
    assert hashed.order is None or kind == "mostly_tied"
    monkeypatch.setattr(_delong, "_HASH_FROM", np.inf)
    by_sort = components(s, y8, m)
    assert by_sort.order is not None and hashed.auc == by_sort.auc
    np.testing.assert_allclose(hashed.aligned(), by_sort.aligned(), rtol=0, atol=1e-16)
    auc, var = grouped_reference(y, s)
    assert abs(hashed.auc - auc) <= TOL
    assert abs(float((hashed.phi**2).sum()) - var) <= TOL


def test_hash_collisions_fall_back_to_the_sort(monkeypatch):
    rng = np.random.default_rng(18)
    y = make_binary(rng, 70_000)
    s = np.round(rng.normal(size=y.shape[0]) + y, 1)
    monkeypatch.setattr(_delong, "_HASH_BITS", 3)  # ~80 distinct scores cannot fit 8 slots
    comp = components(s, y.view(np.uint8), int(y.sum()))
    assert comp.order is not None
    assert abs(comp.auc - grouped_reference(y, s)[0]) <= TOL


# --------------------------------------------------------------------------- invariants


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(KINDS[:-1]))
def test_invariant_to_increasing_transforms_and_row_order(seed, kind):
    rng = np.random.default_rng(seed)
    y = make_binary(rng, int(rng.integers(4, 120)))
    s = make_scores(rng, y, kind).astype(np.float64)
    r = delong_roc_ci(y, s)
    moved = delong_roc_ci(y, 4.0 * s - 3.0)  # exact in floating point: the same ties
    perm = rng.permutation(y.shape[0])
    shuffled = delong_roc_ci(y[perm], s[perm])
    for other in (moved, shuffled):
        assert other.auc == pytest.approx(r.auc, abs=1e-12)
        assert other.variance == pytest.approx(r.variance, abs=1e-12)
    assert 0 <= r.low <= r.auc <= r.high <= 1


def test_pos_label_and_string_labels():
    rng = np.random.default_rng(3)
    y = make_binary(rng, 200)
    s = rng.normal(size=200) + y
    names = np.where(y, "spam", "ham")
    assert delong_roc_ci(names, s).auc == delong_roc_ci(y, s).auc  # 'spam' > 'ham'
    flipped = delong_roc_ci(names, s, pos_label="ham")
    assert flipped.auc == pytest.approx(1 - delong_roc_ci(y, s).auc, abs=1e-12)
    assert flipped.variance == pytest.approx(delong_roc_ci(y, s).variance, abs=1e-15)


# --------------------------------------------------------------------------- multiclass


def make_multiclass(rng: np.random.Generator, n: int, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    y = rng.integers(0, k, n)
    y[:k], y[k : 2 * k] = np.arange(k), np.arange(k)
    logits = np.round(rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y], 1)  # ties in every column
    return y, special.softmax(logits, axis=1)


def test_multiclass_matches_per_class_binary_and_reference_covariance():
    rng = np.random.default_rng(11)
    y, p = make_multiclass(rng, 300, 4)
    r = delong_roc_ci(y, p, confidence=0.9)
    assert isinstance(r, MulticlassAucInterval)
    assert r.auc == pytest.approx(roc_auc_score(y, p, multi_class="ovr"), rel=1e-12)
    phi = np.stack([reference_components(y == c, p[:, c]) for c in range(4)])
    np.testing.assert_allclose(r.covariance, phi @ phi.T, rtol=0, atol=TOL)
    assert abs(r.variance - (phi @ phi.T).sum() / 16) <= TOL
    for c, per_class in enumerate(r.per_class):
        binary = delong_roc_ci(y == c, p[:, c], confidence=0.9)
        assert per_class.auc == pytest.approx(binary.auc, abs=1e-12)
        assert per_class.variance == pytest.approx(binary.variance, abs=1e-14)
    assert list(r.classes) == [0, 1, 2, 3]


def test_multiclass_labels_name_the_columns():
    rng = np.random.default_rng(5)
    y, p = make_multiclass(rng, 120)
    names = np.array(["a", "b", "c"])[y]
    r = delong_roc_ci(names, p, labels=["a", "b", "c"])
    assert r.auc == pytest.approx(delong_roc_ci(y, p).auc, abs=1e-12)
    assert list(r.classes) == ["a", "b", "c"]


def test_two_column_scores_are_one_vs_rest():
    rng = np.random.default_rng(2)
    y = make_binary(rng, 100).astype(int)
    p1 = special.expit(rng.normal(size=100) + y)
    r = delong_roc_ci(y, np.c_[1 - p1, p1])
    binary = delong_roc_ci(y, p1)
    assert r.auc == pytest.approx(binary.auc, abs=1e-12)
    assert r.variance == pytest.approx(binary.variance, rel=1e-9)  # the two curves coincide


# --------------------------------------------------------------------------- coverage


def test_binary_interval_covers_the_population_auc():
    """Binormal scores: population AUC = Phi(d / sqrt(2)); 400 seeded repetitions."""
    rng = np.random.default_rng(20260101)
    d, reps = 1.0, 400
    truth = special.ndtr(d / np.sqrt(2))
    y = np.repeat([False, True], [120, 80])
    hits = sum(
        r.low <= truth <= r.high
        for r in (delong_roc_ci(y, rng.normal(size=200) + d * y) for _ in range(reps))
    )
    assert 0.92 <= hits / reps <= 0.98


def _ordinal_truth() -> float:
    """Population macro AUC of the three-class model in the test below."""
    phi = special.ndtr
    auc_end = (4 / 7) * phi(1 / np.sqrt(2)) + (3 / 7) * phi(np.sqrt(2))
    # class 1 scores -|x|, x ~ N(0, 1); the others |x| with x ~ N(+-1, 1)
    density = lambda t: np.exp(-((t - 1) ** 2) / 2) / np.sqrt(2 * np.pi)  # noqa: E731
    auc_mid, _ = integrate.quad(lambda t: (2 * phi(abs(t)) - 1) * density(t), -12, 14)
    return float((2 * auc_end + auc_mid) / 3)


def test_macro_interval_covers_the_population_macro_auc():
    """Strongly correlated per-class AUCs: assuming independence would undercover badly."""
    rng = np.random.default_rng(99)
    truth, reps, n = _ordinal_truth(), 400, 240
    hits = 0
    for _ in range(reps):
        y = rng.choice(3, n, p=[0.3, 0.4, 0.3])
        x = rng.normal(size=n) + np.array([-1.0, 0.0, 1.0])[y]
        r = delong_roc_ci(y, np.c_[-x, -np.abs(x), x])
        hits += r.low <= truth <= r.high
    assert 0.92 <= hits / reps <= 0.98


# --------------------------------------------------------------------------- results and errors


def test_results_print_on_one_line_and_convert_to_json():
    rng = np.random.default_rng(1)
    y, p = make_multiclass(rng, 60)
    r = delong_roc_ci(y, p)
    assert "\n" not in str(r) and str(r).startswith("MulticlassAucInterval(auc=")
    assert "covariance" not in str(r) and "per_class" not in str(r)
    data = json.loads(json.dumps(r.to_dict()))
    assert len(data["per_class"]) == 3 and len(data["covariance"]) == 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"y_true": [0, 1, 0, 1], "y_score": [0.1, 0.2, 0.3, 0.4], "confidence": 1.0},
            "confidence",
        ),
        (
            {"y_true": [0, 1, 0, 1], "y_score": [0.1, 0.2, 0.3, 0.4], "confidence": True},
            "confidence",
        ),
        ({"y_true": [0, 1, 0, 0], "y_score": [0.1, 0.2, 0.3, 0.4]}, "two positive"),
        ({"y_true": [1, 1, 1, 1], "y_score": [0.1, 0.2, 0.3, 0.4]}, "distinct labels"),
        ({"y_true": [0, 1, 2, 1], "y_score": [0.1, 0.2, 0.3, 0.4]}, "pos_label"),
        ({"y_true": [0, 1, 0, 1], "y_score": [0.1, 0.2, 0.3, 0.4], "pos_label": 7}, "two positive"),
        ({"y_true": [0, 1, 0, 1], "y_score": [0.1, np.nan, 0.3, 0.4]}, "NaN"),
        ({"y_true": [0, 1, 0, 1], "y_score": [0.1, 0.2, 0.3]}, "different numbers"),
        ({"y_true": [0, 1, 0, 1], "y_score": np.zeros((4, 2, 2))}, "1-D .binary. or 2-D"),
        ({"y_true": [0, 1, 0, 1], "y_score": ["a", "b", "c", "d"]}, "not numbers"),
        ({"y_true": [0, 1, 0, 1], "y_score": [0.1, 0.2, 0.3, 0.4], "labels": [0, 1]}, "labels"),
        ({"y_true": [0, 1, 2, 1], "y_score": np.full((4, 3), 1 / 3), "pos_label": 1}, "pos_label"),
        ({"y_true": [0, 1, 2, 1], "y_score": np.full((4, 2), 0.5)}, "columns"),
        ({"y_true": [0, 1, 2, 1, 0, 1], "y_score": np.full((6, 3), 1 / 3)}, "class 2"),
        ({"y_true": [0.5, 1, 0, 1], "y_score": [0.1, 0.2, 0.3, 0.4]}, "continuous"),
    ],
)
def test_bad_input_names_the_problem(kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        delong_roc_ci(**kwargs)


def test_bad_confidence_is_a_parameter_error():
    with pytest.raises(InvalidParameterError, match="To fix"):
        delong_roc_ci([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], confidence=95)
