"""The numbers the report states: the primary metric with its interval, per-class metrics with
intervals, and the compact ``metrics.json`` summary built from them.

Per-class intervals are not part of ``Evaluation.intervals`` (which holds the averages), so they
are recomputed here from the stored predictions with ``bootstrap_ci``: each class taken
one-vs-rest as a binary problem, with the run's confidence, resample count and seed.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from verdict.errors import VerdictError
from verdict.metrics import bootstrap_ci
from verdict.report._curves import CurveSet
from verdict.report._decision import cost_matrix
from verdict.report._load import RunData

PER_CLASS_METRICS = ("precision", "recall", "f1", "specificity")
_ALIASES = {
    "mcc": "matthews_corrcoef",
    "kappa": "cohen_kappa",
    "brier_score_loss": "brier_score",
    "roc_auc_ovr": "roc_auc_macro",
    "roc_auc_ovr_weighted": "roc_auc_weighted",
}
_SCORE_METRICS = ("roc_auc", "average_precision", "log_loss", "brier_score", "top_")


def interval_settings(run: RunData) -> dict[str, Any]:
    """Confidence, resamples and seed of the run's test intervals (defaults when absent)."""
    test = run.info["test"]
    seed = test.get("interval_seed")
    if seed is None:
        seed = run.get("lineage", {}).get("seed") or 0
    return {
        "confidence": test.get("interval_confidence") or 0.95,
        "n_resamples": test.get("interval_resamples") or 1000,
        "random_state": int(seed),
    }


def metric_key(run: RunData, name: str) -> str:
    """The ``Evaluation.intervals`` key of a metric name ('f1' -> 'f1_binary' ...)."""
    name = _ALIASES.get(name, name)
    intervals = run.info["test"].get("intervals") or {}
    suffix = "binary" if run.binary else "macro"
    for key in (name, f"{name}_{suffix}"):
        if key in intervals:
            return key
    return name


def metric_interval(run: RunData, name: str) -> dict[str, Any] | None:
    """{'metric', 'estimate', 'low', 'high', 'confidence'} of a test metric, or None.

    Read from the run's intervals when there, otherwise bootstrapped from the predictions.
    """
    key = metric_key(run, name)
    stored = (run.info["test"].get("intervals") or {}).get(key)
    if stored is not None and stored.get("estimate") is not None:
        return _record(key, stored)
    if key == "expected_cost":
        return _cost_interval(run)
    score = any(key.startswith(p) for p in _SCORE_METRICS)
    values = (run.proba[:, 1] if run.binary else run.proba) if score else run.y_pred
    found = _bootstrap(key, run.y_true, values, run, np.arange(run.n_classes))
    return None if found is None else _record(key, found)


def _cost_interval(run: RunData) -> dict[str, Any] | None:
    """Average cost per test row of the recorded decisions, bootstrapped like the others."""
    costs = cost_matrix(run)
    if costs is None:
        return None

    def expected_cost(truth: np.ndarray, decided: np.ndarray) -> float:
        return float(costs[truth, decided].mean())

    found = _bootstrap(expected_cost, run.y_true, run.y_pred, run, None)
    return None if found is None else _record("expected_cost", found)


def per_class(run: RunData) -> list[dict[str, Any]]:
    """Per class: support and precision, recall, F1, specificity with intervals.

    A metric whose denominator is empty on the test rows (precision of a class never
    predicted, recall of a class absent from the test set) is None, "undefined", rather than
    the 0 that ``zero_division`` would put in its place.
    """
    rows = []
    for k, name in enumerate(run.names):
        truth = (run.y_true == k).astype(np.int64)
        decided = (run.y_pred == k).astype(np.int64)
        row: dict[str, Any] = {"label": name, "support": int(truth.sum())}
        defined = {
            "precision": decided.any(),
            "recall": truth.any(),
            "f1": truth.any() or decided.any(),
            "specificity": not truth.all(),
        }
        for metric in PER_CLASS_METRICS:
            found = None
            if defined[metric]:
                found = _bootstrap(f"{metric}_binary", truth, decided, run, np.array([0, 1]))
            row[metric] = None if found is None else _record(metric, found)
        rows.append(row)
    return rows


def _bootstrap(
    metric: Any, truth: np.ndarray, values: np.ndarray, run: RunData, labels: np.ndarray | None
) -> dict[str, Any] | None:
    """The interval as a dict, or None when the metric is undefined on these rows."""
    with warnings.catch_warnings():  # degenerate resamples are counted in the result
        warnings.simplefilter("ignore")
        try:
            ci = bootstrap_ci(metric, truth, values, labels=labels, **interval_settings(run))
        except VerdictError:
            return None
    return ci.to_dict()


def _record(name: str, ci: dict[str, Any]) -> dict[str, Any]:
    return {
        "metric": name,
        "estimate": ci.get("estimate"),
        "low": ci.get("low"),
        "high": ci.get("high"),
        "confidence": ci.get("confidence"),
    }


_INTERVAL_FIELDS = ("confidence", "method", "resamples", "seed")


def metrics_summary(
    run: RunData,
    primary: dict[str, Any] | None,
    classes: list[dict[str, Any]],
    curves: CurveSet,
    calibration: dict[str, Any],
) -> dict[str, Any]:
    """The content of ``metrics.json``: what a program needs to judge the run at a glance."""
    info, test = run.info, run.info["test"]
    intervals = test.get("intervals") or {}
    return {
        "verdict_version": info.get("verdict_version"),
        "created": info.get("created"),
        "target": info["data"].get("target"),
        "classes": info["data"]["classes"],
        "n_test": int(run.y_true.shape[0]),
        "best_model": info["best"],
        "runner_up": info.get("runner_up"),
        "primary_metric": primary or {"metric": info["primary_metric"]},
        "test": {
            key: {k: ci.get(k) for k in ("estimate", "low", "high")}
            for key, ci in sorted(intervals.items())
        },
        "interval": {k: test.get(f"interval_{k}") for k in _INTERVAL_FIELDS},
        "per_class": classes,
        "curves": {
            "roc_auc": {c.name: c.area for c in [*curves.roc, *curves.roc_average]},
            "average_precision": {c.name: c.area for c in [*curves.pr, *curves.pr_average]},
        },
        "calibration": calibration,
        "comparisons": info.get("comparisons") or [],
        "decision": info.get("decision"),
        "cv": [
            {k: c.get(k) for k in ("family", "cv_mean", "cv_std")}
            for c in info.get("candidates") or []
        ],
    }
