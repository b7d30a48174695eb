"""Differential tests: every count metric of verdict.metrics against scikit-learn.

Each case is run through both libraries by ``check_same`` (tests/conftest.py), which compares
values to rtol 1e-12 (atol 0), array dtypes, raised exception types and the warnings emitted.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from sklearn.metrics._classification import _check_set_wise_labels, _nanaverage, _prf_divide

import verdict.metrics as vm

SEEDS = range(2)
ZERO_DIVISIONS = ["warn", 0, 1, np.nan]
AVERAGES = [None, "binary", "micro", "macro", "weighted"]
WEIGHTS = ["none", "float", "zeros", "int"]


def zero_divisions(func: str) -> list:
    """sklearn's jaccard_score refuses zero_division=nan; see test_jaccard_zero_division_nan."""
    return ZERO_DIVISIONS[:3] if func == "jaccard_score" else ZERO_DIVISIONS


def encode(codes: np.ndarray, kind: str) -> object:
    """Class indices 0..k-1 as labels of the given kind (int, str, bool, pandas ...)."""
    codes = np.asarray(codes)
    if kind == "int":
        return codes
    if kind == "neg":
        return 3 * codes - 7
    if kind == "pm1":
        return np.where(codes == 1, 1, -1)
    if kind == "bool":
        return codes.astype(bool)
    if kind == "float":
        return codes.astype(np.float64) + 2.0
    if kind == "uint8":
        return codes.astype(np.uint8)
    if kind == "str":
        return np.array([f"c{i}" for i in codes.tolist()])
    if kind == "pandas-int":
        return pd.Series(codes, index=np.arange(codes.size)[::-1])
    if kind == "pandas-str":
        return pd.Series([f"class {i}" for i in codes.tolist()], dtype=object)
    raise AssertionError(kind)


def label(i: int, kind: str) -> object:
    """One label of the given kind, for ``labels`` and ``pos_label``."""
    value = encode(np.array([i]), kind)
    value = value.iloc[0] if isinstance(value, pd.Series) else value[0]
    return value.item() if hasattr(value, "item") else value


# (id, n_classes, which side misses the last class, label kind)
SCENARIOS = [
    ("bin", 2, None, "int"),
    ("bin-bool", 2, None, "bool"),
    ("bin-str", 2, None, "str"),
    ("bin-pm1", 2, None, "pm1"),
    ("3", 3, None, "int"),
    ("3-pandas-str", 3, None, "pandas-str"),
    ("3-pandas-int-absent-pred", 3, "pred", "pandas-int"),
    ("5-neg", 5, None, "neg"),
    ("5-float", 5, None, "float"),
    ("5-absent-pred", 5, "pred", "int"),
    ("5-absent-true", 5, "true", "str"),
    ("10", 10, None, "uint8"),
    ("10-str", 10, None, "str"),
]
SCENARIO_IDS = [s[0] for s in SCENARIOS]


def make_case(scenario: tuple, seed: int, weights: str = "none", n: int = 60):
    """Noisy predictions of random truth; returns (y_true, y_pred, sample_weight, kind, k)."""
    _, k, absent, kind = scenario
    rng = np.random.default_rng([seed, k, len(kind)])
    y_true = rng.integers(0, k, n)
    y_pred = np.where(rng.random(n) < 0.4, rng.integers(0, k, n), y_true)
    if absent == "pred":
        y_pred[y_pred == k - 1] = 0
        y_true[0] = k - 1
    elif absent == "true":
        y_true[y_true == k - 1] = 0
        y_pred[0] = k - 1
    sw = {
        "none": None,
        "float": rng.uniform(0.1, 3.0, n),
        "zeros": np.where(rng.random(n) < 0.3, 0.0, rng.uniform(0.1, 3.0, n)),
        "int": rng.integers(0, 4, n),
    }[weights]
    return encode(y_true, kind), encode(y_pred, kind), sw, kind, k


def label_variants(kind: str, k: int) -> dict[str, list | None]:
    """``labels`` arguments: default, a subset, a reordering and a superset with absent labels."""
    variants = {
        "none": None,
        "subset": [label(i, kind) for i in range(min(k, 3) - 1)],
        "reordered": [label(i, kind) for i in reversed(range(k))],
    }
    if kind not in ("bool", "pm1"):
        variants["superset"] = [label(i, kind) for i in [k + 3, *range(k), k + 1]]
    return variants


def one_per_scenario(params):
    return pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)(params)


# --------------------------------------------------------------------------- confusion matrices


@one_per_scenario
@pytest.mark.parametrize("weights", WEIGHTS)
def test_confusion_matrix(same, scenario, weights):
    for seed in SEEDS:
        y_true, y_pred, sw, kind, k = make_case(scenario, seed, weights)
        for normalize in [None, "true", "pred", "all"]:
            cm = same("confusion_matrix", y_true, y_pred, sample_weight=sw, normalize=normalize)
            if normalize is None:  # dtype is checked by `same`; int weights give int64
                assert cm.dtype == (np.float64 if weights in ("float", "zeros") else np.int64)
        for labels in label_variants(kind, k).values():
            same("confusion_matrix", y_true, y_pred, labels=labels, sample_weight=sw)


@one_per_scenario
@pytest.mark.parametrize("weights", WEIGHTS)
def test_multilabel_confusion_matrix(same, scenario, weights):
    for seed in SEEDS:
        y_true, y_pred, sw, kind, k = make_case(scenario, seed, weights)
        for labels in label_variants(kind, k).values():
            # Values agree; the dtype does not always: scikit-learn returns float64 whenever
            # weights are given (even integer ones) or no sample is correct, we keep int64 for
            # integer counts, as confusion_matrix does.
            mcm = same(
                "multilabel_confusion_matrix",
                y_true,
                y_pred,
                labels=labels,
                sample_weight=sw,
                check_dtype=False,
            )
            assert mcm.dtype == (np.int64 if weights == "none" else np.float64)


def test_confusion_matrix_single_label_warns(same):
    same("confusion_matrix", [1, 1, 1], [1, 1, 1])
    same("confusion_matrix", ["a", "a"], ["a", "a"], labels=["a"])


# ------------------------------------------------------------------- precision, recall, F-beta


def prf_kwargs(average, kind):
    """pos_label is only passed with average='binary' (elsewhere it triggers a UserWarning)."""
    return (
        {"average": average, "pos_label": label(1, kind)}
        if average == "binary"
        else {"average": average}
    )


@one_per_scenario
@pytest.mark.parametrize("average", AVERAGES)
def test_precision_recall_fscore_support(same, scenario, average):
    for seed, weights in enumerate(WEIGHTS):
        y_true, y_pred, sw, kind, _ = make_case(scenario, seed, weights)
        for zd in ZERO_DIVISIONS:
            result = same(
                "precision_recall_fscore_support",
                y_true,
                y_pred,
                sample_weight=sw,
                zero_division=zd,
                **prf_kwargs(average, kind),
            )
            # only average='binary' on a multiclass target is an error
            assert isinstance(result, Exception) == (average == "binary" and scenario[1] > 2)


@pytest.mark.parametrize("func", ["precision_score", "recall_score", "f1_score", "jaccard_score"])
@one_per_scenario
def test_single_set_wise_scores(same, func, scenario):
    y_true, y_pred, sw, kind, _ = make_case(scenario, 7, "int")
    for average in AVERAGES:
        for zd in zero_divisions(func):
            same(
                func,
                y_true,
                y_pred,
                sample_weight=sw,
                zero_division=zd,
                **prf_kwargs(average, kind),
            )


@pytest.mark.parametrize("beta", [0, 0.5, 1, 2, np.inf])
@pytest.mark.parametrize(
    "scenario",
    [SCENARIOS[0], SCENARIOS[4], SCENARIOS[9], SCENARIOS[10]],
    ids=["bin", "3", "5-absent-pred", "5-absent-true"],
)
def test_fbeta(same, beta, scenario):
    y_true, y_pred, sw, kind, _ = make_case(scenario, 3, "zeros")
    for average in AVERAGES:
        for zd in ZERO_DIVISIONS:
            kw = prf_kwargs(average, kind) | {"sample_weight": sw, "zero_division": zd}
            same("fbeta_score", y_true, y_pred, beta=beta, **kw)
        same("precision_recall_fscore_support", y_true, y_pred, beta=beta, average=average)


@pytest.mark.parametrize("func", ["precision_recall_fscore_support", "f1_score", "jaccard_score"])
@pytest.mark.parametrize(
    "scenario",
    [SCENARIOS[4], SCENARIOS[5], SCENARIOS[10], SCENARIOS[11]],
    ids=["3", "3-pandas-str", "5-absent-true", "10"],
)
def test_set_wise_labels_argument(same, func, scenario):
    y_true, y_pred, sw, kind, k = make_case(scenario, 11, "float")
    for labels in label_variants(kind, k).values():
        for average in [None, "micro", "macro", "weighted"]:
            for zd in ["warn", 1 if func == "jaccard_score" else np.nan]:
                same(
                    func,
                    y_true,
                    y_pred,
                    labels=labels,
                    average=average,
                    sample_weight=sw,
                    zero_division=zd,
                )


# Tiny degenerate inputs, where 0/0 ratios and the zero_division rule decide the result.
DEGENERATE = [
    ([0, 0, 0], [0, 0, 0]),
    ([1, 1, 1], [1, 1, 1]),
    ([0, 0, 0], [1, 1, 1]),
    ([1, 1, 0], [0, 0, 0]),
    ([0, 0, 0], [0, 1, 0]),
    ([0, 1, 2], [1, 2, 0]),
    ([0, 1, 2, 2], [0, 1, 1, 1]),
    (["a", "a"], ["b", "b"]),
]


@pytest.mark.parametrize("case", DEGENERATE, ids=[str(c) for c in DEGENERATE])
@pytest.mark.parametrize(
    "func",
    [
        "precision_recall_fscore_support",
        "precision_score",
        "recall_score",
        "f1_score",
        "jaccard_score",
    ],
)
def test_set_wise_degenerate(same, case, func):
    y_true, y_pred = case
    # sklearn's support becomes float64 when no sample is predicted correctly (an artefact of
    # its bincount path); ours stays int64 without weights. Values are compared all the same.
    # The single scores share prfs' arithmetic, so for them only the warnings ('warn') remain.
    full = func in ("precision_recall_fscore_support", "jaccard_score")
    for average in AVERAGES:
        for zd in zero_divisions(func) if full else ["warn"]:
            for labels in [None, [y_true[0]]]:
                same(
                    func,
                    y_true,
                    y_pred,
                    average=average,
                    zero_division=zd,
                    labels=labels,
                    check_dtype=func != "precision_recall_fscore_support",
                )
    same("fbeta_score", y_true, y_pred, beta=2, average="macro")


def test_jaccard_zero_division_nan():
    """Intentional superset: sklearn's jaccard_score refuses zero_division=nan, we accept it
    like the other set-wise scores (0/0 classes become nan, the others are unchanged)."""
    y_true, y_pred = [0, 1, 1, 2], [0, 1, 1, 1]
    with pytest.raises(ValueError):
        skm.jaccard_score(y_true, y_pred, average=None, labels=[0, 1, 2, 3], zero_division=np.nan)
    ours = vm.jaccard_score(y_true, y_pred, average=None, labels=[0, 1, 2, 3], zero_division=np.nan)
    expected = skm.jaccard_score(y_true, y_pred, average=None, labels=[0, 1, 2, 3], zero_division=0)
    expected[3] = np.nan
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=0)


def test_undefined_metric_warning_messages_match():
    for y_true, y_pred in DEGENERATE:
        for average in AVERAGES:
            for func in ["precision_recall_fscore_support", "f1_score", "jaccard_score"]:
                messages = []
                for module in (skm, vm):
                    with warnings.catch_warnings(record=True) as rec:
                        warnings.simplefilter("always")
                        with contextlib.suppress(ValueError):  # binary on multiclass
                            getattr(module, func)(y_true, y_pred, average=average)
                    messages.append(
                        [str(r.message) for r in rec if "ill-defined" in str(r.message)]
                    )
                assert messages[0] == messages[1]


POS_LABEL_CASES = [
    ([0, 1, 1, 0, 1], [1, 1, 0, 0, 1], 0),
    ([0, 1, 1, 0, 1], [1, 1, 0, 0, 1], 1),
    ([-1, 1, 1, -1], [1, 1, -1, -1], -1),
    (["neg", "pos", "pos"], ["pos", "pos", "neg"], "pos"),
    (["neg", "pos", "pos"], ["pos", "pos", "neg"], "neg"),
    ([True, False, True], [True, True, False], False),
    ([True, False, True], [True, True, False], True),
    ([0, 0, 0], [0, 0, 0], 1),  # pos_label absent from a single-class input: allowed
    ([2, 2, 2], [2, 2, 2], 2),
    ([1, 2, 1], [2, 2, 1], 2),
    ([1, 2, 1], [2, 2, 1], 0),  # not a label of a binary input: both raise
    (["neg", "pos"], ["pos", "pos"], 1),  # default pos_label with string labels: both raise
    ([0, 1, 2], [0, 1, 1], 1),  # multiclass with average='binary': both raise
    ([0, 1, 1], [0, 1, 0], None),  # None is no label: both raise
]


@pytest.mark.parametrize("case", POS_LABEL_CASES, ids=[str(c) for c in POS_LABEL_CASES])
def test_pos_label(same, case):
    y_true, y_pred, pos_label = case
    for func in [
        "precision_recall_fscore_support",
        "precision_score",
        "recall_score",
        "f1_score",
        "jaccard_score",
    ]:
        same(func, y_true, y_pred, pos_label=pos_label, average="binary")
    same("fbeta_score", y_true, y_pred, beta=0.5, pos_label=pos_label)
    # pos_label is ignored (with a UserWarning in both) when average != 'binary'
    same("precision_score", y_true, y_pred, pos_label=pos_label, average="macro")


# --------------------------------------------------------------------------------- specificity


def reference_specificity(
    y_true,
    y_pred,
    *,
    labels=None,
    pos_label=1,
    average="binary",
    sample_weight=None,
    zero_division="warn",
):
    """tn / (tn + fp) from sklearn's multilabel_confusion_matrix, averaged as recall_score is
    (same label resolution, 0/0 rule and warning, NaN-skipping mean, 'weighted' by support)."""
    labels = _check_set_wise_labels(y_true, y_pred, average, labels, pos_label)
    mcm = skm.multilabel_confusion_matrix(
        y_true, y_pred, sample_weight=sample_weight, labels=labels
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
    return float(_nanaverage(spec, weights=tp + fn if average == "weighted" else None))


@one_per_scenario
def test_specificity_score(same, scenario):
    for weights in ["none", "zeros"]:
        y_true, y_pred, sw, kind, k = make_case(scenario, 5, weights)
        for average in AVERAGES:
            for zd in ZERO_DIVISIONS:
                same(
                    reference_specificity,
                    y_true,
                    y_pred,
                    ours=vm.specificity_score,
                    sample_weight=sw,
                    zero_division=zd,
                    **prf_kwargs(average, kind),
                )
        for labels in label_variants(kind, k).values():
            same(
                reference_specificity,
                y_true,
                y_pred,
                ours=vm.specificity_score,
                labels=labels,
                average=None,
                sample_weight=sw,
            )


@pytest.mark.parametrize("case", DEGENERATE + [(c[0], c[1]) for c in POS_LABEL_CASES[:9]])
def test_specificity_degenerate_and_pos_label(same, case):
    y_true, y_pred = case[0], case[1]
    for average in AVERAGES:
        for zd in ZERO_DIVISIONS:
            same(
                reference_specificity,
                y_true,
                y_pred,
                ours=vm.specificity_score,
                average=average,
                zero_division=zd,
                pos_label=y_true[0],
            )


# ------------------------------------------------------------------- accuracy-like, MCC, kappa


@one_per_scenario
@pytest.mark.parametrize("weights", WEIGHTS)
def test_accuracy_and_losses(same, scenario, weights):
    for seed in SEEDS:
        y_true, y_pred, sw, _, _ = make_case(scenario, seed, weights)
        for normalize in [True, False]:
            same("accuracy_score", y_true, y_pred, normalize=normalize, sample_weight=sw)
            same("zero_one_loss", y_true, y_pred, normalize=normalize, sample_weight=sw)
        same("hamming_loss", y_true, y_pred, sample_weight=sw)


@one_per_scenario
@pytest.mark.parametrize("weights", WEIGHTS)
def test_balanced_accuracy_and_mcc(same, scenario, weights):
    for seed in SEEDS:
        y_true, y_pred, sw, _, _ = make_case(scenario, seed, weights)
        for adjusted in [False, True]:
            same("balanced_accuracy_score", y_true, y_pred, sample_weight=sw, adjusted=adjusted)
        same("matthews_corrcoef", y_true, y_pred, sample_weight=sw)


def sklearn_mcc_quiet(*args, **kwargs):
    """sklearn's MCC, minus the confusion_matrix "single label" UserWarning it leaks."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="A single label was found")
        return skm.matthews_corrcoef(*args, **kwargs)


@pytest.mark.parametrize("case", DEGENERATE, ids=[str(c) for c in DEGENERATE])
def test_agreement_degenerate(same, case):
    y_true, y_pred = case
    for sw in [None, np.arange(1, len(y_true) + 1), np.r_[0.0, np.ones(len(y_true) - 1)]]:
        for normalize in [True, False]:
            same("accuracy_score", y_true, y_pred, normalize=normalize, sample_weight=sw)
            same("zero_one_loss", y_true, y_pred, normalize=normalize, sample_weight=sw)
        same("hamming_loss", y_true, y_pred, sample_weight=sw)
        for adjusted in [False, True]:
            same("balanced_accuracy_score", y_true, y_pred, sample_weight=sw, adjusted=adjusted)
        same(sklearn_mcc_quiet, y_true, y_pred, ours=vm.matthews_corrcoef, sample_weight=sw)
        for weights in [None, "linear", "quadratic"]:
            same("cohen_kappa_score", y_true, y_pred, weights=weights, sample_weight=sw)


@one_per_scenario
def test_cohen_kappa(same, scenario):
    for w_kind in ["none", "float", "int"]:
        y_true, y_pred, sw, kind, k = make_case(scenario, 2, w_kind)
        for weights in [None, "linear", "quadratic"]:
            for labels in label_variants(kind, k).values():
                same(
                    "cohen_kappa_score",
                    y_true,
                    y_pred,
                    labels=labels,
                    weights=weights,
                    sample_weight=sw,
                )
    same("cohen_kappa_score", y_true, y_pred, labels=[label(0, kind)], replace_undefined_by=0.5)


def test_cohen_kappa_undefined(same):
    for replace in [np.nan, 0.0, -1.0, 1.0]:
        same("cohen_kappa_score", [1, 1], [1, 1], replace_undefined_by=replace)
        same("cohen_kappa_score", [1, 2], [3, 3], labels=[1, 2], replace_undefined_by=replace)
    same("cohen_kappa_score", [1, 2], [1, 2], labels=[5, 6])  # no label in y1: both raise


# ----------------------------------------------------------------------- weights and long runs


@pytest.mark.parametrize(
    "func",
    [
        "confusion_matrix",
        "multilabel_confusion_matrix",
        "precision_recall_fscore_support",
        "jaccard_score",
        "accuracy_score",
        "balanced_accuracy_score",
        "matthews_corrcoef",
        "cohen_kappa_score",
        "hamming_loss",
        "zero_one_loss",
    ],
)
def test_all_zero_weights_raise_like_sklearn(same, func):
    kwargs = (
        {"average": "macro"} if func in ("precision_recall_fscore_support", "jaccard_score") else {}
    )
    exc = same(func, [0, 1, 2], [0, 2, 1], sample_weight=[0, 0, 0], **kwargs)
    assert isinstance(exc, ValueError) and "sample_weight" in str(exc)


def test_larger_inputs_and_wide_label_ranges(same):
    """Paths the small cases miss: many rows, labels beyond the bincount fast path."""
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 6, 5000)
    y_pred = np.where(rng.random(5000) < 0.3, rng.integers(0, 6, 5000), y_true)
    sw = rng.uniform(0, 2, 5000)
    for shift in [0, 10_000, -(10**12)]:  # contiguous, wider than SMALL_RANGE, huge negative
        spread = np.array([0, 1, 2, 3, 9_000, 20_000]) + shift
        yt, yp = spread[y_true], spread[y_pred]
        same("confusion_matrix", yt, yp, sample_weight=sw)
        same("precision_recall_fscore_support", yt, yp, sample_weight=sw, average=None)
        same("f1_score", yt, yp, average="weighted")
        same("matthews_corrcoef", yt, yp, sample_weight=sw)
        same("cohen_kappa_score", yt, yp, weights="quadratic", sample_weight=sw)
        same("balanced_accuracy_score", yt, yp)
        same("confusion_matrix", yt, yp, labels=spread[[5, 0, 3]] + np.r_[0, 1, 0])
