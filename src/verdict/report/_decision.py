"""The decision analysis: what each cut or rule costs on the test predictions.

For a binary task the counts at every threshold on a grid give precision, recall, F1 and (with
costs) the expected cost per row, so the report can show where the chosen cut sits on the
curve. For a cost matrix the test rows are decided three ways (argmax, plain Bayes decision,
the fitted rule with its per-class offsets) and each way's average cost is measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from verdict.errors import InvalidInputError
from verdict.metrics import cost_matrix as metrics_cost_matrix
from verdict.report._load import RunData

THRESHOLDS = np.linspace(0.0, 1.0, 201)
DEFAULT_THRESHOLD = 0.5  # the cut a model uses when nobody chooses one


@dataclass(frozen=True)
class ThresholdCurve:
    """Metrics of the rule 'positive when p >= t' for each t of ``thresholds``."""

    thresholds: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    cost: np.ndarray | None


def cost_matrix(run: RunData) -> np.ndarray | None:
    """The run's costs as a K x K matrix (rows true, columns decided), or None if none given.

    Costs the run recorded but ``verdict.metrics.cost_matrix`` cannot read (a hand-edited
    run.json) leave the cost analysis out rather than the whole report.
    """
    params = run.get("lineage", {}).get("params") or {}
    costs = params.get("costs")
    if costs is None:
        return None
    try:
        return metrics_cost_matrix(costs, run.info["data"]["classes"])
    except InvalidInputError:
        return None


def threshold_curve(run: RunData, costs: np.ndarray | None) -> ThresholdCurve:
    """Counts at every grid threshold of the positive class's probability, from two sorts."""
    positive = run.y_true == 1
    score = run.proba[:, 1]
    pos, neg = np.sort(score[positive]), np.sort(score[~positive])
    # rows at or above t: all of them minus those strictly below t
    tp = (pos.size - np.searchsorted(pos, THRESHOLDS, side="left")).astype(np.float64)
    fp = (neg.size - np.searchsorted(neg, THRESHOLDS, side="left")).astype(np.float64)
    fn = pos.size - tp
    tn = neg.size - fp
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1), np.nan)
        recall = tp / max(pos.size, 1)
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), np.nan)
    cost = None
    if costs is not None:
        total = costs[0, 0] * tn + costs[0, 1] * fp + costs[1, 0] * fn + costs[1, 1] * tp
        cost = total / score.shape[0]
    return ThresholdCurve(THRESHOLDS, precision, recall, f1, cost)


def test_cost(run: RunData, costs: np.ndarray, threshold: float) -> float:
    """Average cost per test row of the rule 'positive when p >= threshold'."""
    decided = (run.proba[:, 1] >= threshold).astype(np.int64)
    return _mean_cost(costs, run.y_true, decided)


def rule_costs(run: RunData, costs: np.ndarray, decision: dict[str, Any]) -> dict[str, float]:
    """Average cost per test row of argmax, the Bayes decision and the fitted rule."""
    risk = run.proba @ costs
    out = {
        "argmax (most probable class)": _mean_cost(costs, run.y_true, run.proba.argmax(axis=1)),
        "Bayes decision (least expected cost)": _mean_cost(costs, run.y_true, risk.argmin(axis=1)),
    }
    offsets = np.asarray(decision.get("offsets") or [], dtype=np.float64)
    if offsets.shape == (run.n_classes,) and np.any(offsets != 0):
        out["fitted rule (with per-class offsets)"] = _mean_cost(
            costs, run.y_true, (risk + offsets).argmin(axis=1)
        )
    out["the model's recorded decisions"] = _mean_cost(costs, run.y_true, run.y_pred)
    return out


def _mean_cost(costs: np.ndarray, truth: np.ndarray, decided: np.ndarray) -> float:
    return float(costs[truth, decided].mean())
