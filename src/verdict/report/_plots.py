"""Plots of the data and of the model search: class balance, missingness, association with the
target, cross-validation scores of the candidates, and the paired test-set comparisons.

Each function takes plain values from ``run.json`` and returns one inline ``<svg>`` string
(or None when there is nothing to draw, so the page can say so in words instead).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from verdict.report._svg import ACCENT, INK, MUTED, WARN, class_color, new_figure, to_svg
from verdict.report._words import lower_is_better, metric_label

MAX_BARS = 20


def _bar_height(n: int) -> float:
    return 1.1 + 0.34 * n


def class_balance(names: list[str], counts: list[int]) -> str:
    """Horizontal bars: rows per class, labelled with the count and the share."""
    total = max(sum(counts), 1)
    with new_figure("balance", 5.4, _bar_height(len(names))) as (fig, ax):
        y = np.arange(len(names))[::-1]
        ax.barh(y, counts, color=[class_color(k) for k in range(len(names))], height=0.62)
        for yi, n in zip(y, counts, strict=True):
            ax.text(n, yi, f"  {n:,} ({n / total:.0%})", va="center", color=INK, fontsize=10)
        ax.set_yticks(y, names)
        ax.set_xlim(0, max(counts) * 1.3)
        ax.set_xlabel("labelled rows")
        ax.set_title("Class balance")
        ax.grid(axis="y", visible=False)
        return to_svg(fig, "balance", "Bar chart of rows per class")


def missingness(missing: dict[str, float]) -> str | None:
    """Share of missing values per column, for the columns that have any (None if none do)."""
    items = sorted(((v, k) for k, v in missing.items() if v and v > 0), reverse=True)[:MAX_BARS]
    if not items:
        return None
    shares, names = [v for v, _ in items][::-1], [k for _, k in items][::-1]
    with new_figure("missing", 5.4, _bar_height(len(names))) as (fig, ax):
        colors = [WARN if s >= 0.2 else ACCENT for s in shares]
        ax.barh(names, shares, color=colors, height=0.62)
        for i, s in enumerate(shares):
            ax.text(s, i, f"  {s:.1%}", va="center", fontsize=10, color=INK)
        ax.set_xlim(0, min(1.0, max(shares) * 1.35 + 0.02))
        ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.set_xlabel("share of rows missing")
        ax.set_title("Missing values by column")
        ax.grid(axis="y", visible=False)
        return to_svg(fig, "missing", "Bar chart of the share of missing values per column")


def association(scores: dict[str, float]) -> str | None:
    """Mutual information of each feature with the target, strongest first."""
    items = sorted(((v, k) for k, v in scores.items() if v is not None), reverse=True)
    items = items[:MAX_BARS]
    if not items:
        return None
    values, names = [v for v, _ in items][::-1], [k for _, k in items][::-1]
    with new_figure("association", 7.0, _bar_height(len(names))) as (fig, ax):
        ax.barh(names, values, color=ACCENT, height=0.62)
        ax.set_xlabel("mutual information with the target (nats)")
        ax.set_title("Which features carry information about the target")
        ax.grid(axis="y", visible=False)
        return to_svg(fig, "association", "Bar chart of feature-target mutual information")


def cv_scores(candidates: list[dict[str, Any]], metric: str, best: str) -> str | None:
    """Each candidate family's cross-validated score: fold scores, mean and one std."""
    rows = [c for c in candidates if c.get("cv_mean") is not None]
    if not rows:
        return None
    with new_figure("cv", 7.5, _bar_height(len(rows)) + 0.3) as (fig, ax):
        y = np.arange(len(rows))[::-1]
        for yi, cand in zip(y, rows, strict=True):
            color = ACCENT if cand.get("family") == best else MUTED
            folds = [s for s in cand.get("cv_scores") or [] if s is not None]
            jitter = np.linspace(-0.12, 0.12, len(folds)) if folds else []
            ax.scatter(folds, yi + np.asarray(jitter), s=24, color=color, alpha=0.6, lw=0)
            ax.errorbar(
                cand["cv_mean"],
                yi,
                xerr=cand.get("cv_std") or 0.0,
                fmt="o",
                color=color,
                ms=8,
                capsize=4,
                lw=2,
            )
        ax.set_yticks(y, [str(c.get("family")) for c in rows])
        better = "lower" if lower_is_better(metric) else "higher"
        ax.set_xlabel(
            f"cross-validated {metric_label(metric)}, {better} is better (mean ± 1 sd; dots: folds)"
        )
        ax.set_title("Candidate models on the training folds")
        ax.grid(axis="y", visible=False)
        return to_svg(fig, "cv", "Cross-validation scores of each candidate model")


def comparisons(items: list[dict[str, Any]]) -> str | None:
    """Forest plot of the paired test-set differences, with their intervals and zero marked."""
    rows = [c for c in items if c.get("difference") is not None]
    if not rows:
        return None
    with new_figure("comparisons", 7.5, 1.3 + 0.55 * len(rows)) as (fig, ax):
        y = np.arange(len(rows))[::-1]
        for yi, c in zip(y, rows, strict=True):
            low, high = c.get("low"), c.get("high")
            diff = c["difference"]
            err = None if low is None or high is None else [[diff - low], [high - diff]]
            ax.errorbar(diff, yi, xerr=err, fmt="o", color=ACCENT, ms=8, capsize=5, lw=2)
        ax.axvline(0.0, color=WARN, lw=1.2, ls="--")
        labels = [
            f"{c.get('model')} - {c.get('against_model')}\n({metric_label(str(c.get('metric')))})"
            for c in rows
        ]
        ax.set_yticks(y, labels)
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.set_xlabel("difference on the test set (model - other), with its interval")
        ax.set_title("Paired comparisons on the same test rows")
        ax.grid(axis="y", visible=False)
        return to_svg(fig, "comparisons", "Differences between models with intervals")


def importance(rows: list[dict[str, Any]], metric: str) -> str | None:
    """Permutation importance: the drop in the metric when a feature is shuffled."""
    rows = [r for r in rows if r.get("mean") is not None][:MAX_BARS]
    if not rows:
        return None
    names = [str(r["feature"]) for r in rows][::-1]
    means = [float(r["mean"]) for r in rows][::-1]
    stds = [float(r.get("std") or 0.0) for r in rows][::-1]
    with new_figure("importance", 7.5, _bar_height(len(rows))) as (fig, ax):
        colors = [ACCENT if m > 0 else MUTED for m in means]
        ax.barh(
            names,
            means,
            xerr=stds,
            color=colors,
            height=0.62,
            capsize=3,
            error_kw={"ecolor": INK, "lw": 1},
        )
        ax.axvline(0.0, color=INK, lw=0.8)
        ax.set_xlabel(f"how much worse test {metric_label(metric)} gets when shuffled")
        ax.set_title("Permutation importance (mean ± sd over repeats)")
        ax.grid(axis="y", visible=False)
        return to_svg(fig, "importance", "Bar chart of permutation importance per feature")


def shap_values(values: dict[str, float]) -> str | None:
    """Mean absolute SHAP value per feature, largest first."""
    items = sorted(((float(v), k) for k, v in values.items() if v is not None), reverse=True)
    items = items[:MAX_BARS]
    if not items:
        return None
    means, names = [v for v, _ in items][::-1], [k for _, k in items][::-1]
    with new_figure("shap", 7.5, _bar_height(len(items))) as (fig, ax):
        ax.barh(names, means, color=class_color(2), height=0.62)
        ax.set_xlabel("mean |SHAP value| (average effect on the model's output)")
        ax.set_title("SHAP feature attribution")
        ax.grid(axis="y", visible=False)
        return to_svg(fig, "shap", "Bar chart of mean absolute SHAP values per feature")
