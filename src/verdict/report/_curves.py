"""ROC, precision-recall and reliability curves recomputed from the stored test predictions.

One-vs-rest per class, plus the two usual averages for more than two classes: *micro*, one
curve over every (row, class) pair (the one-hot truth flattened against the probabilities),
which weights classes by their size; and *macro*, the mean of the per-class curves on a common
grid (true-positive rate on every class's false-positive rates; interpolated precision on a
recall grid), which weights every class equally. A binary task has one curve, the positive
class's (the last class).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from verdict.metrics import (
    ReliabilityDiagram,
    precision_recall_curve,
    reliability_diagram,
    roc_curve,
)
from verdict.report._load import RunData

_RECALL_GRID = np.linspace(0.0, 1.0, 201)


@dataclass(frozen=True)
class Curve:
    """One curve: x and y arrays and the area that summarises it (AUC or AP)."""

    name: str
    x: np.ndarray
    y: np.ndarray
    area: float
    class_index: int | None = None


@dataclass(frozen=True)
class CurveSet:
    """ROC and PR curves: per class, then the averages (empty for a binary task)."""

    roc: list[Curve] = field(default_factory=list)
    pr: list[Curve] = field(default_factory=list)
    roc_average: list[Curve] = field(default_factory=list)
    pr_average: list[Curve] = field(default_factory=list)
    prevalence: dict[int, float] = field(default_factory=dict)


def ranking_curves(run: RunData) -> CurveSet:
    """Per-class one-vs-rest curves and, for multiclass, their micro and macro averages."""
    onehot = np.eye(run.n_classes, dtype=np.int64)[run.y_true]
    classes = [run.n_classes - 1] if run.binary else range(run.n_classes)
    roc, pr, prevalence = [], [], {}
    for k in classes:
        truth = onehot[:, k]
        if truth.min() == truth.max():  # the class is absent (or alone): no curve exists
            continue
        roc.append(_roc(run.names[k], truth, run.proba[:, k], k))
        pr.append(_pr(run.names[k], truth, run.proba[:, k], k))
        prevalence[k] = float(truth.mean())
    if run.binary or len(roc) < 2:
        return CurveSet(roc, pr, prevalence=prevalence)
    micro_roc = _roc("micro average", onehot.ravel(), run.proba.ravel(), None)
    micro_pr = _pr("micro average", onehot.ravel(), run.proba.ravel(), None)
    return CurveSet(
        roc,
        pr,
        [micro_roc, _macro_roc(roc)],
        [micro_pr, _macro_pr(pr)],
        prevalence,
    )


def _roc(name: str, truth: np.ndarray, score: np.ndarray, k: int | None) -> Curve:
    fpr, tpr, _ = roc_curve(truth, score)
    return Curve(name, fpr, tpr, float(np.trapezoid(tpr, fpr)), k)


def _pr(name: str, truth: np.ndarray, score: np.ndarray, k: int | None) -> Curve:
    precision, recall, _ = precision_recall_curve(truth, score)
    # average precision: precision at each threshold weighted by the recall gained there
    ap = float(-np.sum(np.diff(recall) * precision[:-1]))
    return Curve(name, recall, precision, ap, k)


def _macro_roc(curves: list[Curve]) -> Curve:
    """Mean TPR over classes on the union of their FPRs (piecewise-linear, as each curve)."""
    grid = np.unique(np.concatenate([c.x for c in curves]))
    tpr = np.mean([np.interp(grid, c.x, c.y) for c in curves], axis=0)
    grid, tpr = np.concatenate([[0.0], grid]), np.concatenate([[0.0], tpr])
    return Curve("macro average", grid, tpr, float(np.mean([c.area for c in curves])))


def _macro_pr(curves: list[Curve]) -> Curve:
    """Mean interpolated precision (best precision at recall >= r) on a recall grid."""
    rows = []
    for c in curves:
        order = np.argsort(c.x, kind="stable")
        recall, precision = c.x[order], c.y[order]
        envelope = np.maximum.accumulate(precision[::-1])[::-1]
        at = np.minimum(np.searchsorted(recall, _RECALL_GRID, side="left"), recall.size - 1)
        rows.append(envelope[at])
    return Curve(
        "macro average",
        _RECALL_GRID,
        np.mean(rows, axis=0),
        float(np.mean([c.area for c in curves])),
    )


def calibration(run: RunData, n_bins: int = 10) -> ReliabilityDiagram:
    """Binary: the positive class's probability; multiclass: top-label confidence."""
    if run.binary:
        truth = (run.y_true == 1).astype(np.int64)
        return reliability_diagram(truth, run.proba[:, 1], n_bins=n_bins)
    labels = np.arange(run.n_classes)
    return reliability_diagram(run.y_true, run.proba, n_bins=n_bins, labels=labels)
