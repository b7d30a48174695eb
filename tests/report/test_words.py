"""The report's words for metrics come from the metric catalogue, directions included."""

from __future__ import annotations

import pytest

from verdict.metrics import get_metric, metric_names
from verdict.report._plots import cv_scores
from verdict.report._words import comparison_sentence, lower_is_better, metric_label


@pytest.mark.parametrize("name", metric_names())
def test_direction_and_label_are_the_catalogues(name):
    entry = get_metric(name)
    assert lower_is_better(name) == (not entry.greater_is_better)
    assert metric_label(name) == entry.label


def test_calibration_error_and_cost_are_losses_and_unknown_names_read_as_scores():
    # before the catalogue the report read ECE as "higher is better"
    assert lower_is_better("expected_calibration_error") and lower_is_better("ece")
    assert lower_is_better("expected_cost")
    assert not lower_is_better("something_else") and metric_label("some_name") == "some name"
    assert metric_label("roc_auc_ovr") == "macro ROC AUC" and metric_label("mcc") == "MCC"


def test_the_cv_chart_of_ece_says_lower_is_better():
    candidates = [{"family": "softmax", "cv_mean": 0.05, "cv_std": 0.01, "cv_scores": [0.05]}]
    svg = cv_scores(candidates, "expected_calibration_error", "softmax")
    assert svg is not None and "lower is better" in svg and "higher is better" not in svg


def test_a_lower_cost_beats_the_baseline():
    comparison = {
        "model": "softmax",
        "against": "baseline",
        "against_model": "majority_class",
        "metric": "expected_cost",
        "difference": -0.4,
        "low": -0.6,
        "high": -0.2,
        "p_value": 0.001,
    }
    assert comparison_sentence(comparison).startswith("softmax beats the majority-class")
