"""The metric catalogue and the cost parser: every entry's direction is checked, not trusted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from verdict.errors import InvalidParameterError
from verdict.metrics import (
    MetricInfo,
    average_precision_score,
    cost_matrix,
    expected_cost,
    f1_score,
    get_metric,
    metric_names,
)
from verdict.metrics.bootstrap._metrics import COUNT_NAMES, RANKING_NAMES, parse_metric

BINARY = ["no", "yes"]
MULTI = ["a", "b", "c"]
EXTRA = ["top_1_accuracy", "top_2_accuracy"]  # top_<k>_accuracy is a pattern, not a list


def _cases() -> list[tuple[str, list[str]]]:
    cases = []
    for name in [*metric_names(), *EXTRA]:
        entry = get_metric(name)
        if entry.average != "binary" and entry.k < 2:
            cases.append((name, MULTI))
        if entry.k < 2:
            cases.append((name, BINARY))
        elif entry.k < len(MULTI):
            cases.append((name, MULTI))
    return cases


def _predictions(classes: list[str]) -> dict[str, np.ndarray]:
    """The truth, a perfect prediction and a poor one (confidently wrong), labels and proba."""
    k = len(classes)
    codes = np.arange(30) % k
    wrong = (codes + 1) % k
    perfect = np.eye(k)[codes]
    poor = np.full((30, k), 0.1 / max(k - 2, 1) if k > 2 else 0.2)
    poor[np.arange(30), wrong] = 0.7 if k > 2 else 0.8
    if k > 2:  # the true class last: no tie with it, so top-2 misses it too
        poor[np.arange(30), (codes + 2) % k] = 0.2
        poor[np.arange(30), codes] = 0.1
    labels = np.asarray(classes)
    return {
        "y": labels[codes],
        "labels_perfect": labels[codes],
        "labels_poor": labels[wrong],
        "proba_perfect": perfect,
        "proba_poor": poor,
    }


def _value(entry: MetricInfo, classes: list[str], quality: str) -> float:
    data = _predictions(classes)
    kind = "labels" if entry.input == "labels" else "proba"
    costs = 1.0 - np.eye(len(classes)) if entry.needs_costs else None
    return entry.compute(data["y"], data[f"{kind}_{quality}"], labels=classes, cost_matrix=costs)


@pytest.mark.parametrize(("name", "classes"), _cases())
def test_a_perfect_prediction_is_better_in_the_entrys_direction(name, classes):
    entry = get_metric(name)
    perfect = _value(entry, classes, "perfect")
    poor = _value(entry, classes, "poor")
    assert np.isfinite(perfect) and np.isfinite(poor)
    if entry.greater_is_better:
        assert perfect > poor, (name, perfect, poor)
    else:
        assert perfect < poor, (name, perfect, poor)


def test_losses_and_costs_point_down():
    losses = {n for n in metric_names() if not get_metric(n).greater_is_better}
    assert losses == {
        "log_loss",
        "brier_score",
        "hamming_loss",
        "expected_calibration_error",
        "expected_cost",
    }
    assert not get_metric("ece").greater_is_better
    assert not get_metric("brier_score_loss").greater_is_better


def test_names_cover_the_bootstrap_and_the_two_extra_primaries():
    names = metric_names()
    assert names == sorted(names) and len(set(names)) == len(names)
    assert set(COUNT_NAMES) | set(RANKING_NAMES) <= set(names)
    assert {"log_loss", "brier_score", "roc_auc", "average_precision"} <= set(names)
    assert {"expected_calibration_error", "expected_cost"} <= set(names)
    for name in set(names) - {"expected_calibration_error", "expected_cost"}:
        spec = parse_metric(name, "test")
        assert (spec.family == "count") == (get_metric(name).input == "labels"), name


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("mcc", "matthews_corrcoef"),
        ("kappa", "cohen_kappa"),
        ("ece", "expected_calibration_error"),
        ("brier_score_loss", "brier_score"),
        ("roc_auc_ovr", "roc_auc_macro"),
        ("roc_auc_ovr_weighted", "roc_auc_weighted"),
        ("f1", "f1_binary"),
        ("top_5_accuracy", "top_5_accuracy"),
    ],
)
def test_aliases_resolve_to_canonical_entries(alias, name):
    assert get_metric(alias).name == name


def test_entries_describe_inputs_averages_and_labels():
    f1 = get_metric("f1_macro")
    assert f1.function is f1_score and f1.input == "labels" and f1.average == "macro"
    assert f1.averages == ("binary", "micro", "macro", "weighted") and f1.label == "macro F1"
    assert get_metric("roc_auc_binary").label == "ROC AUC"
    assert get_metric("roc_auc").average == "auto"
    assert get_metric("log_loss").input == "probabilities"
    assert get_metric("top_3_accuracy").k == 3
    assert get_metric("top_3_accuracy").label == "top-3 accuracy"
    cost = get_metric("expected_cost")
    assert cost.needs_costs and cost.input == "labels" and cost.function is expected_cost
    with pytest.raises(AttributeError):
        f1.name = "other"  # type: ignore[misc]


def test_compute_takes_the_greater_label_as_positive_and_matches_the_function():
    y = np.array(["no", "yes", "yes", "no", "yes"])
    pred = np.array(["no", "yes", "no", "no", "yes"])
    assert get_metric("f1").compute(y, pred, labels=BINARY) == pytest.approx(
        f1_score(y, pred, pos_label="yes")
    )


@pytest.mark.parametrize("bad", ["nope", "f1_mcro", "top_0_accuracy", 3, None])
def test_unknown_names_list_the_names_on_offer(bad):
    with pytest.raises(InvalidParameterError) as caught:
        get_metric(bad)
    message = str(caught.value)
    assert repr(bad) in message and "f1_macro" in message and "top_<k>_accuracy" in message
    assert "To fix" in message


def test_expected_cost_needs_a_matrix():
    with pytest.raises(InvalidParameterError, match="cost matrix"):
        get_metric("expected_cost").compute(["a"], ["a"], labels=["a", "b"])


# --------------------------------------------------------------------------- cost_matrix


def test_cost_matrix_reads_every_form():
    np.testing.assert_array_equal(cost_matrix({"fp": 1, "fn": 20}, BINARY), [[0, 1], [20, 0]])
    np.testing.assert_array_equal(
        cost_matrix({"fp": 1, "fn": 20}, BINARY, pos_label="no"), [[0, 20], [1, 0]]
    )
    square = [[0, 1, 2], [3, 0, 4], [5, 6, 0]]
    got = cost_matrix(square, [0, 1, 2])
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, square)
    np.testing.assert_array_equal(cost_matrix(np.array(square), MULTI), square)
    table = pd.DataFrame(square, index=["0", "1", "2"], columns=["0.0", "1.0", "2.0"])
    shuffled = table.loc[["2", "0", "1"], ["1.0", "2.0", "0.0"]]
    np.testing.assert_array_equal(cost_matrix(shuffled, [0, 1, 2]), square)


@pytest.mark.parametrize(
    ("costs", "classes", "message"),
    [
        ({"fp": 1, "fn": 2}, MULTI, "exist only for two classes"),
        ({"fp": 1}, BINARY, "exactly the keys 'fp' and 'fn'"),
        ({"fp": 1, "fn": 2, "tp": 0}, BINARY, "exactly the keys 'fp' and 'fn'"),
        ({"fp": -1, "fn": 2}, BINARY, "costs['fp'] must be a finite number >= 0"),
        ({"fp": True, "fn": 2}, BINARY, "costs['fp'] must be a finite number >= 0"),
        ({"fp": float("inf"), "fn": 2}, BINARY, "costs['fp']"),
        ([[0, 1], [1, 0]], MULTI, "2 x 2 matrix but y_true has 3 classes"),
        ([[0, 1, 2]], MULTI, "square matrix"),
        ([[0, -1], [1, 0]], BINARY, "negative cost"),
        ([[0, np.nan], [1, 0]], BINARY, "NaN"),
        ([["a", "b"], ["c", "d"]], BINARY, "numbers"),
        (pd.DataFrame([[0, 1], [1, 0]]), MULTI, "has shape (2, 2) but the target has 3"),
        (pd.DataFrame([[0, 1], [1, 0]], index=BINARY, columns=["no", "x"]), BINARY, "'x'"),
        (pd.DataFrame([[0, 1], [1, 0]], index=["no", "no"], columns=BINARY), BINARY, "once"),
        (pd.DataFrame([["a", 1], [1, 0]], index=BINARY, columns=BINARY), BINARY, "non-numeric"),
        (None, BINARY, "got None"),
        ("fp=1,fn=2", BINARY, "a mapping"),
    ],
)
def test_cost_matrix_errors_say_what_and_how_to_fix(costs, classes, message):
    with pytest.raises(InvalidParameterError) as caught:
        cost_matrix(costs, classes)
    assert message in str(caught.value) and "To fix" in str(caught.value)


def test_expected_cost_is_the_mean_cost_of_the_decisions():
    matrix = cost_matrix({"fp": 1, "fn": 5}, BINARY)
    y = ["no", "yes", "yes", "no"]
    pred = ["yes", "no", "yes", "no"]
    assert expected_cost(y, pred, cost_matrix=matrix, labels=BINARY) == pytest.approx(6 / 4)
    weighted = expected_cost(y, pred, cost_matrix=matrix, labels=BINARY, sample_weight=[1, 3, 1, 1])
    assert weighted == pytest.approx(16 / 6)
    with pytest.raises(InvalidParameterError, match="'maybe'"):
        expected_cost(["maybe"], ["no"], cost_matrix=matrix, labels=BINARY)


def test_multiclass_average_precision_matches_the_function_and_survives_a_missing_class():
    rng = np.random.default_rng(0)
    y = rng.choice(MULTI, 200)
    proba = rng.dirichlet([1, 1, 1], 200)
    weight = rng.random(200)
    for average in ("macro", "weighted"):
        entry = get_metric(f"average_precision_{average}")
        assert entry.compute(y, proba, labels=MULTI, sample_weight=weight) == pytest.approx(
            average_precision_score(y, proba, average=average, sample_weight=weight)
        )
    fold = y != "c"  # a validation fold without class 'c': columns still in MULTI order
    assert 0 < get_metric("average_precision").compute(y[fold], proba[fold], labels=MULTI) < 1
