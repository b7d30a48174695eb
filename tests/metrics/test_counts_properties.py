"""Property tests (hypothesis) for the count metrics: bounds, invariances and identities.

Tolerances: with unit or integer weights every count is an exact integer in float64, so
ratios are compared with rtol 1e-12 (atol 0). Where float weights are summed in another order,
or a signed metric subtracts nearly equal terms (MCC, kappa near 0), an absolute 1e-12 is
allowed too: those values are differences of O(1) quantities rounded to ~1e-16.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import verdict.metrics as vm

SETTINGS = settings(max_examples=50, deadline=None)
RATIO_FUNCS = ["precision_score", "recall_score", "f1_score", "jaccard_score", "specificity_score"]
AVERAGES = ["micro", "macro", "weighted"]
SLACK = 1e-12  # bounds: a ratio of rounded sums may overshoot by an ulp or two
# MCC and kappa subtract nearly equal products, the losses are 1 - accuracy, and tn is
# total - tp - fp - fn (as in sklearn's multilabel_confusion_matrix), so ~1e-16 noise can
# appear where the exact value is 0
CANCELLING = ("mcc", "kappa", "zero_one_loss", "hamming_loss", "specificity")

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@st.composite
def targets(draw, weights: str = "none", max_classes: int = 6):
    """(y_true, y_pred, sample_weight or None, k) with labels in 0..k-1."""
    k = draw(st.integers(2, max_classes))
    n = draw(st.integers(1, 30))
    labels = st.lists(st.integers(0, k - 1), min_size=n, max_size=n)
    y_true, y_pred = np.array(draw(labels)), np.array(draw(labels))
    if weights == "int":
        sw = np.array(draw(st.lists(st.integers(1, 5), min_size=n, max_size=n)))
    elif weights == "float":
        sw = np.array(draw(st.lists(st.floats(0.01, 10.0), min_size=n, max_size=n)))
    else:
        sw = None
    return y_true, y_pred, sw, k


def all_scores(y_true, y_pred, sw=None) -> dict[str, object]:
    """Every count metric on one input, keyed by name (per-class arrays included)."""
    out: dict[str, object] = {}
    for func in RATIO_FUNCS:
        for average in [None, *AVERAGES]:
            out[f"{func}:{average}"] = getattr(vm, func)(
                y_true, y_pred, average=average, sample_weight=sw, zero_division=0
            )
    out["accuracy"] = vm.accuracy_score(y_true, y_pred, sample_weight=sw)
    out["balanced_accuracy"] = vm.balanced_accuracy_score(y_true, y_pred, sample_weight=sw)
    out["hamming_loss"] = vm.hamming_loss(y_true, y_pred, sample_weight=sw)
    out["zero_one_loss"] = vm.zero_one_loss(y_true, y_pred, sample_weight=sw)
    out["mcc"] = vm.matthews_corrcoef(y_true, y_pred, sample_weight=sw)
    for weights in [None, "linear", "quadratic"]:
        out[f"kappa-{weights or 'plain'}"] = vm.cohen_kappa_score(
            y_true, y_pred, weights=weights, sample_weight=sw
        )
    return out


def assert_scores_equal(a: dict, b: dict, rtol: float = 1e-12, signed_atol: float = 0.0):
    """``signed_atol`` applies to the results that subtract nearly equal terms."""
    assert a.keys() == b.keys()
    for key in a:
        atol = signed_atol if key.startswith(CANCELLING) else 0.0
        np.testing.assert_allclose(
            a[key], b[key], rtol=rtol, atol=atol, equal_nan=True, err_msg=key
        )


# ------------------------------------------------------------------------------------- bounds


@SETTINGS
@given(targets(weights="float"))
def test_bounds(case):
    y_true, y_pred, sw, _ = case
    for key, value in all_scores(y_true, y_pred, sw).items():
        value = np.atleast_1d(value)
        lo = -1.0 if key.startswith(("mcc", "kappa")) else 0.0
        finite = value[~np.isnan(value)]
        assert np.all(finite >= lo - SLACK) and np.all(finite <= 1 + SLACK), (key, value)
        if not key.startswith("kappa"):  # kappa alone is nan when undefined
            assert not np.isnan(value).any(), key


# --------------------------------------------------------------------------------- invariances


@SETTINGS
@given(targets(weights="int"), st.data())
def test_renaming_classes_permutes_per_class_results(case, data):
    """A bijection of class names leaves every average unchanged and permutes per-class
    arrays; the new names are strings, so their sorted order differs too."""
    y_true, y_pred, sw, k = case
    perm = np.array(data.draw(st.permutations(range(k))))
    names = np.array([f"class-{p}" for p in perm])
    before = all_scores(y_true, y_pred, sw)
    after = all_scores(names[y_true], names[y_pred], sw)
    present = np.union1d(y_true, y_pred)
    where = np.searchsorted(np.sort(names[present]), names[present])  # old rank -> new rank
    for key in before:
        if key.endswith(":None"):
            np.testing.assert_allclose(
                after[key][where], before[key], rtol=1e-12, atol=0, err_msg=key
            )
            after[key] = before[key]
        elif key in ("kappa-linear", "kappa-quadratic"):
            # weighted kappa depends on the order of the classes, so only its value for an
            # order-preserving renaming is invariant; that is checked separately
            after[key] = before[key]
    assert_scores_equal(before, after, signed_atol=SLACK)


@SETTINGS
@given(targets(weights="int"))
def test_order_preserving_renaming_keeps_weighted_kappa(case):
    y_true, y_pred, sw, _ = case
    for weights in ["linear", "quadratic"]:
        before = vm.cohen_kappa_score(y_true, y_pred, weights=weights, sample_weight=sw)
        after = vm.cohen_kappa_score(
            10 * y_true - 3, 10 * y_pred - 3, weights=weights, sample_weight=sw
        )
        np.testing.assert_allclose(after, before, rtol=1e-12, atol=0, equal_nan=True)


@SETTINGS
@given(targets(weights="int"))
def test_duplicating_rows_changes_nothing(case):
    y_true, y_pred, sw, _ = case
    before = all_scores(y_true, y_pred, sw)
    doubled = all_scores(np.tile(y_true, 2), np.tile(y_pred, 2), np.tile(sw, 2))
    assert_scores_equal(before, doubled, signed_atol=SLACK)
    # ... and equals weighting every row by two
    assert_scores_equal(before, all_scores(y_true, y_pred, 2 * sw), signed_atol=SLACK)


@SETTINGS
@given(targets(weights="float"), st.floats(1e-3, 1e3))
def test_scaling_weights_changes_nothing(case, scale):
    y_true, y_pred, sw, _ = case
    assert_scores_equal(
        all_scores(y_true, y_pred, sw),
        all_scores(y_true, y_pred, scale * sw),
        rtol=1e-10,
        signed_atol=1e-10,
    )


@SETTINGS
@given(targets(weights="float"))
def test_unit_weights_equal_no_weights(case):
    y_true, y_pred, sw, _ = case
    ones = np.ones_like(sw)
    assert_scores_equal(
        all_scores(y_true, y_pred), all_scores(y_true, y_pred, ones), signed_atol=SLACK
    )


# ---------------------------------------------------------------------------------- identities


@SETTINGS
@given(targets(weights="float"))
def test_accuracy_is_trace_over_total(case):
    y_true, y_pred, sw, _ = case
    cm = vm.confusion_matrix(y_true, y_pred, sample_weight=sw)
    accuracy = vm.accuracy_score(y_true, y_pred, sample_weight=sw)
    np.testing.assert_allclose(accuracy, np.trace(cm) / cm.sum(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        vm.zero_one_loss(y_true, y_pred, sample_weight=sw), 1 - accuracy, rtol=1e-12, atol=1e-15
    )
    np.testing.assert_allclose(
        vm.hamming_loss(y_true, y_pred, sample_weight=sw), 1 - accuracy, rtol=1e-12, atol=1e-15
    )
    count = vm.accuracy_score(y_true, y_pred, normalize=False)
    assert count == np.trace(vm.confusion_matrix(y_true, y_pred))


@SETTINGS
@given(targets(weights="int"))
def test_micro_averages_equal_accuracy(case):
    """With every present label included, micro precision = recall = F1 = accuracy."""
    y_true, y_pred, sw, _ = case
    accuracy = vm.accuracy_score(y_true, y_pred, sample_weight=sw)
    for func in ["precision_score", "recall_score", "f1_score"]:
        value = getattr(vm, func)(y_true, y_pred, average="micro", sample_weight=sw)
        np.testing.assert_allclose(value, accuracy, rtol=1e-12, atol=0)


@SETTINGS
@given(targets(weights="int"))
def test_symmetric_metrics(case):
    y_true, y_pred, sw, _ = case
    for func in ["accuracy_score", "matthews_corrcoef", "cohen_kappa_score", "hamming_loss"]:
        forward = getattr(vm, func)(y_true, y_pred, sample_weight=sw)
        backward = getattr(vm, func)(y_pred, y_true, sample_weight=sw)
        np.testing.assert_allclose(forward, backward, rtol=1e-12, atol=SLACK, equal_nan=True)
    cm = vm.confusion_matrix(y_true, y_pred, sample_weight=sw)
    np.testing.assert_array_equal(vm.confusion_matrix(y_pred, y_true, sample_weight=sw), cm.T)


@SETTINGS
@given(targets(weights="int"))
def test_one_vs_rest_counts_agree_with_confusion_matrix(case):
    y_true, y_pred, sw, _ = case
    cm = vm.confusion_matrix(y_true, y_pred, sample_weight=sw)
    tp = np.diag(cm)
    fp, fn = cm.sum(axis=0) - tp, cm.sum(axis=1) - tp
    tn = cm.sum() - tp - fp - fn
    mcm = vm.multilabel_confusion_matrix(y_true, y_pred, sample_weight=sw)
    np.testing.assert_array_equal(mcm, np.stack([tn, fp, fn, tp], axis=1).reshape(-1, 2, 2))
    _, _, _, support = vm.precision_recall_fscore_support(
        y_true, y_pred, sample_weight=sw, zero_division=0
    )
    np.testing.assert_array_equal(support, tp + fn)


@SETTINGS
@given(targets(weights="int", max_classes=2))
def test_specificity_is_recall_of_the_other_class(case):
    y_true, y_pred, sw, _ = case
    for pos, neg in [(0, 1), (1, 0)]:
        spec = vm.specificity_score(
            y_true, y_pred, pos_label=pos, sample_weight=sw, zero_division=0
        )
        rec = vm.recall_score(y_true, y_pred, pos_label=neg, sample_weight=sw, zero_division=0)
        np.testing.assert_allclose(spec, rec, rtol=1e-12, atol=0)


def test_mcc_is_zero_when_rounding_leaves_a_single_class_a_negative_variance():
    # One true class, float weights: n**2 - t.t is 0 exactly but about -1e-12 in floats, and
    # the square root of the product was nan (found by test_bounds above).
    weights = np.array([1.7489756, 5.20403968, 5.87751307])
    value = vm.matthews_corrcoef(np.zeros(3, int), np.array([0, 0, 1]), sample_weight=weights)
    assert value == 0.0
