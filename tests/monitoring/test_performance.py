"""Performance monitoring: CBPE before labels, live performance and its drop test after."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from verdict.errors import InvalidInputError
from verdict.monitoring.performance._checks import (
    CalibrationCheck,
    calibration_check,
    estimate_performance,
    live_performance,
)

CLASSES = np.array(["x", "y", "z"])
# the label relationship: class logits are X @ WEIGHTS
WEIGHTS = np.array([[1.5, -1.0, 0.0], [0.0, 1.5, -1.0], [0.0, 0.0, 0.5], [0.0, 0.0, 0.0]])


def draw_labels(proba: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One label per row drawn from its probabilities (a perfectly calibrated stream)."""
    return (rng.random(proba.shape[0])[:, None] >= proba.cumsum(axis=1)[:, :-1]).sum(axis=1)


def random_proba(n: int, k: int, rng: np.random.Generator, scale: float = 2.0) -> np.ndarray:
    p = np.exp(rng.normal(0.0, scale, (n, k)))
    return p / p.sum(axis=1, keepdims=True)


def table(n: int, seed: int, weights: np.ndarray = WEIGHTS) -> pd.DataFrame:
    """Four numeric features; the label is drawn from a softmax of ``X @ weights``."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    logits = X @ weights
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    y = draw_labels(p / p.sum(axis=1, keepdims=True), rng)
    frame = pd.DataFrame(X, columns=list("abcd"))
    frame["label"] = CLASSES[y]
    return frame


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from verdict.pipeline import train

    out = tmp_path_factory.mktemp("monitoring-runs") / "run"
    return train(
        table(3000, 0),
        "label",
        metric="log_loss",  # selected on log loss: a calibrated model, whatever the load
        models=["softmax"],
        time_budget=5,
        quiet=True,
        out=out,
        n_jobs=1,
    )


def window(run, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X = frame.drop(columns="label")
    return frame["label"].to_numpy(), run.model.predict(X), run.model.predict_proba(X)


def stored_predictions(run) -> pd.DataFrame:
    return pd.read_parquet(run.run_dir / "test_predictions.parquet")


# --------------------------------------------------------------------------- CBPE


def test_cbpe_interval_covers_the_realised_accuracy_about_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    calibration = CalibrationCheck(0.01, 0.05, True, 1000, "calibrated")
    hits = {"accuracy": 0, "f1_macro": 0}
    reps = 200
    for rep in range(reps):
        proba = random_proba(300, 3, rng)
        y = draw_labels(proba, rng)
        est = estimate_performance(
            proba, CLASSES, calibration=calibration, n_resamples=400, random_state=rep
        )
        pred = proba.argmax(axis=1)
        truth = {
            "accuracy": np.mean(y == pred),
            "f1_macro": np.mean(
                [
                    2 * np.sum((y == k) & (pred == k)) / (np.sum(y == k) + np.sum(pred == k))
                    for k in range(3)
                ]
            ),
        }
        for name in hits:
            ci = est.intervals[name]
            hits[name] += ci.low <= truth[name] <= ci.high
    for name, count in hits.items():
        # 95% of 200: sd 1.5 points; the interval of a discrete statistic errs on the wide side
        assert 0.90 <= count / reps <= 0.995, (name, count)


def test_cbpe_point_estimate_is_the_expected_confusion_matrix():
    rng = np.random.default_rng(2)
    proba = random_proba(500, 2, rng)
    calibration = CalibrationCheck(0.01, 0.05, True, 1000, "calibrated")
    est = estimate_performance(proba, ["no", "yes"], calibration=calibration)
    assert est.metrics["accuracy"] == pytest.approx(proba.max(axis=1).mean())
    assert est.expected_confusion.sum() == pytest.approx(500)
    assert {"f1_binary", "precision_binary", "recall_binary", "f1_macro"} <= set(est.metrics)
    assert est.reliable and "do not trust" not in est.message
    # a decision policy that always says "yes": recall of yes is 1, accuracy its mean proba
    policy = np.full(500, "yes")
    est = estimate_performance(proba, ["no", "yes"], calibration=calibration, policy_labels=policy)
    assert est.metrics["recall_binary"] == 1.0
    assert est.metrics["accuracy"] == pytest.approx(proba[:, 1].mean())


def test_a_miscalibrated_model_is_flagged_unreliable():
    rng = np.random.default_rng(3)
    proba = random_proba(2000, 3, rng, scale=1.0)
    y = draw_labels(proba, rng)
    sharp = proba**4 / (proba**4).sum(axis=1, keepdims=True)  # overconfident
    check = calibration_check(CLASSES[y], sharp, CLASSES)
    assert not check.calibrated and check.ece > 0.05 and "not calibrated" in check.message
    assert calibration_check(CLASSES[y], proba, CLASSES).calibrated
    est = estimate_performance(sharp[:1000], CLASSES, calibration=check)
    assert not est.reliable and "do not trust" in est.message
    realised = np.mean(y[:1000] == sharp[:1000].argmax(axis=1))
    assert est.metrics["accuracy"] > realised + 0.05  # overconfidence inflates the estimate


def test_a_model_sure_when_wrong_is_not_usable_before_labels():
    # an unpruned tree: every probability 0 or 1, wrong on 2 of 69 held-out rows. Its ECE
    # (0.029) passes 0.05, yet an estimate from it would claim accuracy 1 with no doubt.
    y = np.array([0, 1, 2] * 23)
    hard = np.eye(3)[y]
    hard[[5, 40]] = np.eye(3)[[(y[5] + 1) % 3, (y[40] + 1) % 3]]
    check = calibration_check(CLASSES[y], hard, CLASSES)
    assert check.ece <= 0.05 and not check.calibrated
    assert "wrong 2 time(s) with probability >= 0.999" in check.message
    assert "To fix:" in check.message
    est = estimate_performance(hard, CLASSES, calibration=check)
    assert not est.reliable


def test_calibration_check_on_a_trained_models_test_predictions(run):
    frame = stored_predictions(run)
    proba = frame[[f"proba_{c}" for c in CLASSES]].to_numpy()
    check = calibration_check(frame["y_true"], proba, CLASSES)
    assert check.n == len(frame) and 0 <= check.ece < 0.1


# --------------------------------------------------------------------------- live performance


def test_a_change_of_the_label_relationship_is_detected_in_1000_rows(run):
    shifted = WEIGHTS[:, [1, 0, 2]]  # classes x and y trade their relationship to the features
    for metric in ("f1_macro", "accuracy", "log_loss", "roc_auc_macro"):
        y, pred, proba = window(run, table(1000, 10, shifted))
        live = live_performance(
            y,
            pred,
            proba,
            CLASSES,
            test_predictions=stored_predictions(run),
            primary_metric=metric,
            n_resamples=500,
        )
        assert live.dropped and live.p_value < 0.01, live.message
        assert live.high < 0 if live.higher_is_better else live.low > 0
        assert live.evaluation.n_samples == 1000 and "accuracy" in live.evaluation.intervals
        assert "got worse" in live.message
        assert live.to_dict()["evaluation"]["n_samples"] == 1000


def predictions_frame(run, frame: pd.DataFrame) -> pd.DataFrame:
    """Held-out predictions in the layout of test_predictions.parquet."""
    y, pred, proba = window(run, frame)
    out = pd.DataFrame({"y_true": y, "y_pred": pred})
    for k, label in enumerate(CLASSES):
        out[f"proba_{label}"] = proba[:, k]
    return out


def test_a_change_for_a_subset_of_rows_is_detected(run):
    shifted = WEIGHTS[:, [1, 0, 2]]
    changed = np.random.default_rng(7).random(1000) < 0.3  # 30% of the rows follow the new rule
    mixed = pd.concat([table(1000, 11)[~changed], table(1000, 12, shifted)[changed]])
    y, pred, proba = window(run, mixed)
    live = live_performance(
        y,
        pred,
        proba,
        CLASSES,
        test_predictions=stored_predictions(run),
        primary_metric="f1_macro",
        n_resamples=500,
    )
    assert live.dropped, live.message


def test_an_unchanged_window_is_flagged_only_at_about_the_nominal_rate(run):
    # a fresh test set and window each time: the p-value's rate over both draws is the nominal
    flagged, p_values = 0, []
    for seed in range(100, 140):
        y, pred, proba = window(run, table(1000, seed))
        live = live_performance(
            y,
            pred,
            proba,
            CLASSES,
            test_predictions=predictions_frame(run, table(600, seed + 5000)),
            primary_metric="f1_macro",
            n_resamples=300,
            random_state=seed,
        )
        flagged += live.dropped
        p_values.append(live.p_value)
    # nominal 5% of 40 is 2; P(Binomial(40, 0.05) >= 7) < 0.003
    assert flagged <= 6, (flagged, sorted(p_values)[:8])
    assert 0.25 < np.median(p_values) < 0.75


def test_labels_outside_the_classes_are_named(run):
    y, pred, proba = window(run, table(50, 5))
    y = y.astype(object)
    y[:3] = "w"
    with pytest.raises(InvalidInputError, match=r"outside the model's classes.*'w'.*To fix"):
        live_performance(
            y,
            pred,
            proba,
            CLASSES,
            test_predictions=stored_predictions(run),
            primary_metric="accuracy",
        )
    with pytest.raises(InvalidInputError, match="'w'"):
        calibration_check(y, proba, CLASSES)


def test_an_empty_window_and_bad_inputs_are_clear_errors(run):
    frame = stored_predictions(run)
    with pytest.raises(InvalidInputError, match=r"empty.*To fix"):
        live_performance(
            [], [], np.empty((0, 3)), CLASSES, test_predictions=frame, primary_metric="accuracy"
        )
    calibration = CalibrationCheck(0.01, 0.05, True, 1000, "calibrated")
    with pytest.raises(InvalidInputError, match=r"empty.*To fix"):
        estimate_performance(np.empty((0, 3)), CLASSES, calibration=calibration)
    y, pred, proba = window(run, table(20, 6))
    with pytest.raises(InvalidInputError, match="lacks the columns"):
        live_performance(
            y,
            pred,
            proba,
            CLASSES,
            test_predictions=frame.drop(columns="proba_z"),
            primary_metric="accuracy",
        )
    with pytest.raises(InvalidInputError, match="shape"):
        live_performance(
            y, pred, proba[:, :2], CLASSES, test_predictions=frame, primary_metric="accuracy"
        )
    with pytest.raises(InvalidInputError, match="sum to 1"):
        estimate_performance(proba * 2 / 3, CLASSES, calibration=calibration)


@pytest.mark.parametrize(
    ("metric", "loss", "reads"),
    [
        ("f1_macro", False, "labels"),
        ("roc_auc", False, "proba"),
        ("top_2_accuracy", False, "proba"),
        ("log_loss", True, "proba"),
        ("hamming_loss", True, "labels"),
        ("expected_calibration_error", True, "proba"),
        ("expected_cost", True, "labels"),
    ],
)
def test_direction_and_input_come_from_the_metric_catalogue(metric, loss, reads):
    from verdict.monitoring.performance._inputs import lower_is_better, metric_input

    pred, proba = np.array([0, 1]), np.array([[0.9, 0.1], [0.2, 0.8]])
    assert lower_is_better(metric) is loss
    assert metric_input(metric, pred, proba) is (pred if reads == "labels" else proba)
