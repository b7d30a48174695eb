"""optimal_threshold against a brute force over every distinct threshold (sklearn's counts)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from sklearn.metrics import confusion_matrix

from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.metrics._thresholds import OBJECTIVES, optimal_threshold

KWARGS = {
    "f1": {},
    "fbeta": {"beta": 2.0},
    "youden": {},
    "cost": {"cost_fp": 1.0, "cost_fn": 4.0},
    "precision_at_recall": {"min_recall": 0.8},
    "recall_at_precision": {"min_precision": 0.6},
}


def brute_force(y_pos, score, w, objective, kw):
    """Every distinct score (and +inf) as a cut, counted by sklearn; the rule's optimum."""
    rows = []
    for t in np.concatenate(([np.inf], np.unique(score)[::-1])):
        tn, fp, fn, tp = confusion_matrix(
            y_pos, score >= t, labels=[False, True], sample_weight=w
        ).ravel()
        precision = tp / (tp + fp) if tp + fp > 0 else 0.0
        recall = tp / (tp + fn)
        b2 = kw.get("beta", 1.0) ** 2
        value = {
            "f1": 2 * tp / (2 * tp + fp + fn),
            "fbeta": (1 + b2) * tp / ((1 + b2) * tp + b2 * fn + fp),
            "youden": recall - fp / (fp + tn),
            "cost": (kw.get("cost_fp", 1.0) * fp + kw.get("cost_fn", 1.0) * fn)
            / (tp + fp + fn + tn),
            "precision_at_recall": precision,
            "recall_at_precision": recall,
        }[objective]
        feasible = {
            "precision_at_recall": recall >= kw.get("min_recall", 0),
            "recall_at_precision": tp + fp > 0 and precision >= kw.get("min_precision", 0),
        }.get(objective, True)
        secondary = {"precision_at_recall": recall, "recall_at_precision": precision}.get(
            objective, 0.0
        )
        key = -value if objective == "cost" else value
        rows.append((t, key, secondary, value, feasible, (tp, fp, fn, tn)))
    feasible = [r for r in rows if r[4]]
    best_key = max(r[1] for r in feasible)
    tied = [r for r in feasible if r[1] == best_key]
    best_secondary = max(r[2] for r in tied)
    return next(r for r in tied if r[2] == best_secondary)  # rows run from the largest cut


def check_against_brute_force(y, score, w, objective, exact=True):
    kw = KWARGS[objective]
    choice = optimal_threshold(y, score, objective=objective, sample_weight=w, **kw)
    t, _, _, value, _, counts = brute_force(y == 1, score, w, objective, kw)
    if exact:
        assert choice.threshold == t
        assert choice.value == pytest.approx(value, rel=1e-12, abs=1e-15)
        assert (choice.tp, choice.fp, choice.fn, choice.tn) == pytest.approx(counts, rel=1e-12)
    else:  # float weights: sums may differ in the last bit, so compare the optimum's value
        assert choice.value == pytest.approx(value, rel=1e-9, abs=1e-12)
    # the reported counts are what the documented rule `score >= threshold` gives
    tn, fp, fn, tp = confusion_matrix(
        y == 1, score >= choice.threshold, labels=[False, True], sample_weight=w
    ).ravel()
    assert (choice.tp, choice.fp, choice.fn, choice.tn) == pytest.approx((tp, fp, fn, tn), rel=1e-9)
    return choice


def _data(seed, n=200, levels=12):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    score = (
        np.round(rng.random(n) * 0.6 + 0.4 * y, 2)
        if levels is None
        else (rng.integers(0, levels, n) + 2 * y) / (levels + 2)
    )  # few distinct values: many ties within and across classes
    return y, score


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("seed", range(4))
def test_every_objective_matches_brute_force(objective, seed):
    y, score = _data(seed, levels=None if seed % 2 else 12)
    check_against_brute_force(y, score, None, objective)


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_every_objective_with_integer_weights(objective):
    y, score = _data(7)
    w = np.random.default_rng(7).integers(0, 4, y.shape[0])  # zeros too
    check_against_brute_force(y, score, w, objective)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(0, 6), st.integers(0, 5)), min_size=2, max_size=40
    ),
    st.floats(0, 10),
    st.floats(0, 10),
)
@example(  # equal costs 3c + 2c and 5c that round differently: still a tie
    [(False, 0, 2), (False, 1, 3), (True, 0, 2), (True, 1, 4)],
    0.3504783581083926,
    0.3504783581083926,
)
def test_cost_is_the_minimum_over_all_thresholds(rows, cost_fp, cost_fn):
    y = np.array([r[0] for r in rows], dtype=int)
    score = np.array([r[1] for r in rows], dtype=float) / 6
    w = np.array([r[2] for r in rows], dtype=float)
    assume(w[y == 1].sum() > 0 and w[y == 0].sum() > 0 and cost_fp + cost_fn > 0)
    choice = optimal_threshold(
        y, score, objective="cost", cost_fp=cost_fp, cost_fn=cost_fn, sample_weight=w
    )
    costs = []
    cuts = np.concatenate(([np.inf], np.unique(score)[::-1]))
    for t in cuts:
        _, fp, fn, _ = confusion_matrix(y, score >= t, labels=[0, 1], sample_weight=w).ravel()
        costs.append(cost_fp * fp + cost_fn * fn)
    assert choice.total_cost == pytest.approx(min(costs), rel=1e-12, abs=1e-12)
    assert choice.expected_cost == pytest.approx(min(costs) / w.sum(), rel=1e-12, abs=1e-12)
    larger = [c for t, c in zip(cuts, costs, strict=True) if t > choice.threshold]
    assert all(c > choice.total_cost for c in larger)  # ties go to the largest cut


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(OBJECTIVES))
def test_float_weights_reach_the_brute_force_optimum(seed, objective):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 60)
    y[:2] = [0, 1]
    score = rng.integers(0, 8, 60) / 8
    w = rng.random(60)
    try:
        check_against_brute_force(y, score, w, objective, exact=False)
    except InvalidInputError as exc:  # the precision floor may be out of reach
        assert objective == "recall_at_precision" and "No threshold" in str(exc)


def test_known_costs_pick_the_cheapest_cut():
    # scores that rank perfectly: the cut between the classes costs nothing
    y = np.array([0, 0, 0, 1, 1])
    choice = optimal_threshold(y, [0.1, 0.2, 0.3, 0.7, 0.9], objective="cost", cost_fn=5)
    assert (choice.threshold, choice.total_cost, choice.expected_cost) == (0.7, 0.0, 0.0)
    assert (choice.precision, choice.recall, choice.specificity, choice.f1) == (1, 1, 1, 1)


def test_predicting_nothing_is_an_option():
    choice = optimal_threshold([0, 1, 0, 1], [0.9, 0.1, 0.8, 0.2], objective="cost", cost_fp=10)
    assert choice.threshold == np.inf
    assert (choice.tp, choice.fp, choice.fn, choice.tn) == (0, 0, 2, 2)
    assert choice.total_cost == 2 and choice.precision == 0


def test_free_false_positives_predict_everything_positive():
    choice = optimal_threshold([0, 1, 0, 1], [0.9, 0.1, 0.8, 0.2], objective="cost", cost_fp=0)
    assert choice.threshold == 0.1 and choice.fn == 0 and choice.total_cost == 0


def test_ties_in_the_objective_go_to_the_largest_threshold():
    # one error at 0.9 (a miss) and one at 0.7 (a false alarm): equal cost, 0.9 is kept
    choice = optimal_threshold([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1], objective="cost")
    assert (choice.threshold, choice.total_cost) == (0.9, 1.0)


def test_ties_go_to_the_secondary_criterion_first():
    y = np.array([1, 1, 0, 1, 1, 0])
    score = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    # precision 1 at 0.9 and at 0.8: the higher recall (0.8) wins
    choice = optimal_threshold(y, score, objective="precision_at_recall", min_recall=0.25)
    assert (choice.threshold, choice.precision, choice.recall) == (0.8, 1.0, 0.5)
    # recall 1 at 0.5 and at 0.4: the higher precision (0.5) wins
    choice = optimal_threshold(y, score, objective="recall_at_precision", min_precision=0.6)
    assert (choice.threshold, choice.recall, choice.precision) == (0.5, 1.0, 0.8)


def test_string_labels_pos_label_and_minus_one():
    y = np.array(["no", "yes", "no", "yes", "yes"])
    score = [0.1, 0.8, 0.4, 0.35, 0.9]
    a = optimal_threshold(y, score, pos_label="yes")
    b = optimal_threshold(np.where(y == "yes", 1, -1), score)
    assert a.threshold == b.threshold == 0.35 and a.pos_label == "yes" and b.pos_label == 1
    flipped = optimal_threshold(y, -np.asarray(score), pos_label="no")
    assert flipped.pos_label == "no" and flipped.tp == 2


def test_result_is_printable_and_json_ready():
    choice = optimal_threshold([0, 1, 0, 1], [0.9, 0.1, 0.8, 0.2], objective="cost", cost_fp=10)
    assert str(choice).startswith("ThresholdChoice(threshold=inf, objective='cost'")
    assert choice.to_dict()["threshold"] is None  # inf has no JSON form
    assert choice.to_dict()["tp"] == 0


def test_large_input_one_pass():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200_000)
    score = rng.random(200_000) + 0.5 * y
    choice = optimal_threshold(y, score, objective="youden")
    assert choice.n_thresholds == np.unique(score).shape[0] + 1
    assert 0.5 < choice.threshold < 1.0


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"objective": "accuracy"}, "The 'objective' parameter of optimal_threshold"),
        ({"objective": "precision_at_recall"}, "needs min_recall"),
        ({"objective": "recall_at_precision"}, "needs min_precision"),
        ({"objective": "f1", "min_recall": 0.5}, "min_recall is only used by"),
        ({"objective": "cost", "min_precision": 0.5}, "min_precision is only used by"),
        ({"objective": "precision_at_recall", "min_recall": 1.5}, "must be a number in [0, 1]"),
        ({"objective": "f1", "beta": 2.0}, "beta=2.0 is only used by objective='fbeta'"),
        ({"objective": "fbeta", "beta": 0}, "must be a finite number > 0"),
        ({"objective": "cost", "cost_fp": -1.0}, "'cost_fp' parameter"),
        ({"objective": "cost", "cost_fn": float("nan")}, "'cost_fn' parameter"),
        ({"objective": "cost", "cost_fp": 0, "cost_fn": 0}, "both 0"),
        ({"pos_label": [1]}, "'pos_label' parameter"),
    ],
)
def test_bad_parameters(kwargs, message):
    with pytest.raises(InvalidParameterError) as info:
        optimal_threshold([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], **kwargs)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("y", "score", "kwargs", "message"),
    [
        ([0, 1, 2, 1], [0.1, 0.9, 0.2, 0.8], {}, "3 classes"),
        ([0, 1, 2, 1], [0.1, 0.9, 0.2, 0.8], {"pos_label": 1}, "CostSensitiveDecision"),
        ([0, 0, 0], [0.1, 0.9, 0.2], {}, "no positive samples"),
        ([1, 1, 1], [0.1, 0.9, 0.2], {}, "no negative samples"),
        (["a", "b"], [0.1, 0.9], {}, "pos_label is not specified"),
        (["a", "b"], [0.1, 0.9], {"pos_label": "c"}, "no positive samples"),
        ([0, 1], [[0.1, 0.9], [0.2, 0.8]], {}, "must be 1-D"),
        ([0, 1, 1], [0.1, 0.9], {}, "different numbers of samples"),
        ([0, 1], [0.1, np.nan], {}, "NaN"),
        ([0, 1], [0.1, 0.9], {"sample_weight": [1, -1]}, "non-negative"),
        ([0, 1], [0.1, 0.9], {"sample_weight": [0, 1]}, "no negative samples with non-zero"),
        (
            [0, 1, 0, 1],
            [0.9, 0.1, 0.8, 0.2],
            {"objective": "recall_at_precision", "min_precision": 0.9},
            "No threshold reaches precision >= 0.9",
        ),
    ],
)
def test_bad_input(y, score, kwargs, message):
    with pytest.raises(InvalidInputError) as info:
        optimal_threshold(y, score, **kwargs)
    assert message in str(info.value)
