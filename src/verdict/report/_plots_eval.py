"""Plots of the test-set evaluation: confusion matrix, per-class metrics with intervals, ROC and
precision-recall curves, the reliability diagram and the decision analysis.

Each function returns one inline ``<svg>`` string, or None when there is nothing to draw.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from verdict.metrics import ReliabilityDiagram
from verdict.report._curves import CurveSet
from verdict.report._decision import DEFAULT_THRESHOLD, ThresholdCurve
from verdict.report._summary import PER_CLASS_METRICS
from verdict.report._svg import (
    ACCENT,
    HEATMAP,
    INK,
    MUTED,
    WARN,
    class_color,
    new_figure,
    to_svg,
)

MAX_POINTS = 1500


def confusion(matrix: list[list[float]], names: list[str]) -> str:
    """Counts and row-normalised shares side by side (rows: truth, columns: prediction)."""
    counts = np.asarray(matrix, dtype=np.float64)
    rows = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    k = len(names)
    side = min(max(3.6, 0.55 * k + 1.8), 7.0)
    with new_figure("confusion", 2 * side + 1.2, side, ncols=2) as (fig, axes):
        _heatmap(axes[0], counts, names, "Counts", lambda v: f"{v:,.0f}")
        _heatmap(axes[1], shares, names, "Share of each true class (row = recall)", _percent)
        fig.tight_layout(w_pad=3)
        return to_svg(fig, "confusion", "Confusion matrix heat maps, counts and row shares")


def _percent(v: float) -> str:
    return f"{v:.0%}" if v >= 0.01 or v == 0 else "<1%"


def _heatmap(ax: Any, values: np.ndarray, names: list[str], title: str, fmt: Any) -> None:
    top = values.max() if values.max() > 0 else 1.0
    # pcolormesh, not imshow: vector cells stay crisp at any zoom (imshow embeds a PNG)
    k = len(names)
    edges = np.arange(k + 1) - 0.5
    ax.pcolormesh(
        edges, edges, values, cmap=HEATMAP, vmin=0, vmax=top, edgecolors="white", linewidth=1.5
    )
    ax.set_xlim(-0.5, k - 0.5)
    ax.set_ylim(k - 0.5, -0.5)  # first class on top, as in the matrix
    ax.set_aspect("equal")
    ax.grid(False)
    size = 11 if len(names) <= 6 else 8.5
    for (i, j), v in np.ndenumerate(values):
        color = "white" if v > 0.55 * top else INK
        ax.text(j, i, fmt(v), ha="center", va="center", color=color, fontsize=size)
    ticks = np.arange(len(names))
    ax.set_xticks(ticks, names, rotation=30 if max(map(len, names)) > 6 else 0, ha="right")
    ax.set_yticks(ticks, names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    for spine in ax.spines.values():
        spine.set_visible(False)


def per_class(rows: list[dict[str, Any]]) -> str:
    """One panel per metric; each class a point with its interval."""
    names = [r["label"] for r in rows]
    y = np.arange(len(names))[::-1]
    height = 1.5 + 0.42 * len(names)
    with new_figure("perclass", 11.0, height, ncols=4, sharey=True) as (fig, axes):
        for ax, metric in zip(axes, PER_CLASS_METRICS, strict=True):
            for k, (yi, row) in enumerate(zip(y, rows, strict=True)):
                ci = row.get(metric)
                if not ci or ci.get("estimate") is None:
                    continue
                est, low, high = ci["estimate"], ci.get("low"), ci.get("high")
                err = None if low is None or high is None else [[est - low], [high - est]]
                # clip_on=False: a point at 1.0, on the axis edge, is drawn whole
                ax.errorbar(
                    est, yi, xerr=err, fmt="o", color=class_color(k), capsize=3, ms=6, clip_on=False
                )
            ax.set_xlim(-0.02, 1.02)
            ax.set_title(metric if metric != "f1" else "F1")
            ax.grid(axis="y", visible=False)
        axes[0].set_yticks(y, names)
        axes[0].set_ylim(-0.6, len(names) - 0.4)
        fig.supxlabel("value on the test set, with its interval", fontsize=11)
        fig.tight_layout()
        return to_svg(fig, "perclass", "Per-class precision, recall, F1 and specificity")


def ranking(curves: CurveSet, names: list[str]) -> str | None:
    """ROC (left) and precision-recall (right), one-vs-rest, with the averages."""
    if not curves.roc:
        return None
    many = len(curves.roc) > 1
    with new_figure("curves", 12.0, 5.2, ncols=2) as (fig, (roc_ax, pr_ax)):
        _curve_panel(roc_ax, curves.roc, curves.roc_average, "AUC")
        _curve_panel(pr_ax, curves.pr, curves.pr_average, "AP")
        roc_ax.plot([0, 1], [0, 1], color=MUTED, lw=1, ls="-", label="chance")
        if len(curves.pr) == 1 and curves.prevalence:
            share = next(iter(curves.prevalence.values()))
            pr_ax.axhline(share, color=MUTED, lw=1, label=f"chance (prevalence {share:.2f})")
        roc_title = "ROC curves (one-vs-rest)" if many else "ROC curve"
        pr_title = "Precision-recall curves" if many else "Precision-recall curve"
        _axes(roc_ax, roc_title, "false positive rate", "true positive rate")
        _axes(pr_ax, pr_title, "recall", "precision")
        roc_ax.legend(loc="lower right")
        pr_ax.legend(loc="lower left")
        fig.tight_layout(w_pad=3)
        return to_svg(fig, "curves", "ROC and precision-recall curves")


def _curve_panel(ax: Any, per_class: list[Any], averages: list[Any], area: str) -> None:
    """Class curves in their class colours; micro (dashed) and macro (dotted) averages in ink."""
    for curve in per_class:
        _line(ax, curve, f"{curve.name} ({area} {curve.area:.3f})")
    for curve, style in zip(averages, ("--", ":"), strict=False):
        label = f"{curve.name} ({area} {curve.area:.3f})"
        ax.plot(*thin(curve.x, curve.y), ls=style, color=INK, lw=2.4, label=label)


def _line(ax: Any, curve: Any, label: str) -> None:
    k = curve.class_index if curve.class_index is not None else 0
    x, y = thin(curve.x, curve.y)
    ax.plot(x, y, color=class_color(k), lw=1.8, label=label)


def thin(x: np.ndarray, y: np.ndarray, most: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``most`` points, evenly spaced along the curve, ends kept: a curve of a large
    test set would otherwise make the SVG megabytes long for no visible difference."""
    if x.shape[0] <= most:
        return x, y
    keep = np.unique(np.linspace(0, x.shape[0] - 1, most).round().astype(np.int64))
    return x[keep], y[keep]


def _axes(ax: Any, title: str, xlabel: str, ylabel: str) -> None:
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.02)
    ax.set_aspect("equal")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)


def reliability(diagram: ReliabilityDiagram, binary: bool) -> str:
    """Observed frequency against predicted probability per bin, and the bin sizes beneath."""
    centers = 0.5 * (diagram.edges[:-1] + diagram.edges[1:])
    width = np.diff(diagram.edges)
    full = diagram.counts > 0
    what = "predicted probability of the positive class" if binary else "confidence (top class)"
    seen = "observed frequency" if binary else "accuracy"
    kw = {"nrows": 2, "sharex": True, "gridspec_kw": {"height_ratios": [3, 1]}}
    with new_figure("reliability", 6.4, 6.4, **kw) as (fig, (top, bottom)):
        top.plot([0, 1], [0, 1], color=MUTED, lw=1.2, label="perfectly calibrated")
        top.bar(
            centers[full],
            diagram.observed[full],
            width=width[full] * 0.9,
            color=ACCENT,
            alpha=0.25,
            edgecolor=ACCENT,
        )
        top.plot(
            diagram.mean_predicted[full],
            diagram.observed[full],
            "o-",
            color=ACCENT,
            lw=2,
            ms=6,
            label="model",
            clip_on=False,  # confident models put their last point at 1.0: draw it whole
        )
        for x, y in zip(diagram.mean_predicted[full], diagram.observed[full], strict=True):
            top.plot([x, x], [x, y], color=WARN, lw=1.5, clip_on=False)
        top.set_ylim(0, 1.02)
        top.set_ylabel(seen)
        top.set_title(f"Reliability diagram (ECE {diagram.expected_calibration_error:.3f})")
        top.legend(loc="upper left")
        bottom.bar(centers, diagram.counts, width=width * 0.9, color=MUTED)
        bottom.set_ylabel("rows")
        bottom.set_xlabel(what)
        bottom.set_xlim(0, 1)
        fig.tight_layout()
        return to_svg(fig, "reliability", "Reliability diagram with bin counts")


def thresholds(curve: ThresholdCurve, chosen: float | None) -> str:
    """Precision, recall and F1 by threshold; expected cost by threshold when costs exist."""
    panels = 2 if curve.cost is not None else 1
    with new_figure("threshold", 6.0 * panels, 4.4, ncols=panels) as (fig, axes):
        axes = np.atleast_1d(axes)
        ax = axes[0]
        ax.plot(curve.thresholds, curve.precision, color=ACCENT, lw=2, label="precision")
        ax.plot(curve.thresholds, curve.recall, color=class_color(1), lw=2, label="recall")
        ax.plot(curve.thresholds, curve.f1, color=class_color(2), lw=2, label="F1")
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("value on the test set")
        ax.set_title("Metrics by threshold")
        if curve.cost is not None:
            axes[1].plot(curve.thresholds, curve.cost, color=INK, lw=2, label="expected cost")
            axes[1].set_ylabel("average cost per row")
            axes[1].set_ylim(bottom=0)
            axes[1].set_title("Expected cost by threshold")
        for a in axes:
            _marks(a, chosen)
            a.set_xlabel("threshold on the positive class's probability")
            a.set_xlim(0, 1)
            a.legend(loc="best")
        fig.tight_layout(w_pad=3)
        return to_svg(fig, "threshold", "Precision, recall, F1 and cost by decision threshold")


def _marks(ax: Any, chosen: float | None) -> None:
    ax.axvline(DEFAULT_THRESHOLD, color=MUTED, ls="--", lw=1.2, label="default 0.5")
    if chosen is not None and np.isfinite(chosen):
        ax.axvline(chosen, color=WARN, lw=2, label=f"chosen {chosen:.3f}")


def rule_costs(costs: dict[str, float]) -> str:
    """Average cost per test row of each way of deciding, lower is better."""
    names = list(costs)[::-1]
    values = [costs[n] for n in names]
    with new_figure("rulecosts", 7.5, 1.2 + 0.5 * len(names)) as (fig, ax):
        best = min(values)
        ax.barh(names, values, color=[WARN if v == best else MUTED for v in values], height=0.6)
        for i, v in enumerate(values):
            ax.text(v, i, f"  {v:.3f}", va="center", fontsize=10, color=INK)
        ax.set_xlim(0, max(values) * 1.25 if max(values) > 0 else 1)
        ax.set_xlabel("average cost per test row (lower is better)")
        ax.set_title("What each decision rule costs on the test set")
        ax.grid(axis="y", visible=False)
        return to_svg(fig, "rulecosts", "Average test cost of each decision rule")
