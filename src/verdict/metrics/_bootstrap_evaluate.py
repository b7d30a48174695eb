"""``evaluate(ci=True)``: an interval for every scalar metric, all from one set of resamples.

The rows are grouped by their (true, predicted) cell, so the count metrics read only the
resampled cell counts; when scores are present the same resamples' row counts feed the ranking
metrics and the per-row means. Every interval therefore describes the same bootstrap world.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from verdict.errors import UndefinedMetricWarning
from verdict.metrics._bootstrap_counts import SET_METRICS, TABLE_METRICS
from verdict.metrics._bootstrap_engine import (
    bounds,
    check_nonnegative,
    check_resamples,
    jackknife_values,
    make_rng,
    resample_values,
)
from verdict.metrics._bootstrap_metrics import (
    RANKING_METRICS,
    MetricSpec,
    count_spaces,
    count_statistic,
    mean_statistic,
    ranking_columns,
)
from verdict.metrics._bootstrap_ranking import MeanStatistic, RankingStatistic
from verdict.metrics._bootstrap_resample import Design, Statistic, full_batch, make_design
from verdict.metrics._intervals import BOOTSTRAP_METHODS, ConfidenceInterval, check_confidence
from verdict.metrics._probabilistic import proba_array
from verdict.metrics._topk import _multiclass_hits
from verdict.metrics._validation import check_choice, check_flag


@dataclass(frozen=True, slots=True)
class IntervalSettings:
    """Validated ``ci`` arguments of ``evaluate``; ``seed`` is recorded for reproducibility."""

    confidence: float
    n_resamples: int
    method: str
    seed: int | None
    rng: np.random.Generator


def interval_settings(
    ci: Any, confidence: Any, n_resamples: Any, method: Any, random_state: Any
) -> IntervalSettings | None:
    """None when ``ci`` is False; otherwise the checked settings (a seed is drawn if none)."""
    func = "evaluate"
    check_flag("ci", ci, func)
    if not ci:
        return None
    level = check_confidence(confidence, func)
    count = check_resamples(n_resamples, func)
    check_choice("ci_method", method, BOOTSTRAP_METHODS, func)
    seed = random_state
    if random_state is None:  # draw one, so that the result can say how to reproduce it
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    rng = make_rng(seed, func)
    recorded = None if isinstance(seed, np.random.Generator) else int(seed)
    return IntervalSettings(level, count, method, recorded, rng)


def evaluation_intervals(
    settings: IntervalSettings,
    codes: np.ndarray,
    pred_codes: np.ndarray | None,
    scores: np.ndarray | None,
    w: np.ndarray | None,
    classes: np.ndarray,
    parts: dict[str, Any],
) -> dict[str, Any]:
    """The ``Evaluation`` fields that hold the intervals and how they were made."""
    check_nonnegative(w)
    n_classes = classes.shape[0]
    cells = codes.astype(np.int64)
    if pred_codes is not None:
        cells = cells * n_classes + pred_codes
    design = make_design(cells, w)
    stats = _statistics(design, pred_codes is not None, codes, scores, classes, parts)
    estimates = _estimates(design, stats)
    stats = [s for s, e in zip(stats, estimates, strict=True) if np.isfinite(e)]
    estimates = estimates[np.isfinite(estimates)]
    values = resample_values(design, stats, settings.n_resamples, settings.rng)
    jack: list[Any] = [None] * len(stats)
    if settings.method == "bca":
        jack = jackknife_values(design, stats, settings.rng)
    intervals, notes = {}, []
    for i, stat in enumerate(stats):
        found = bounds(
            stat, estimates[i], values[i], settings.confidence, settings.method, jack[i], False
        )
        intervals[stat.name] = ConfidenceInterval(
            stat.name,
            float(estimates[i]),
            found.low,
            found.high,
            settings.confidence,
            settings.method,
            settings.n_resamples,
            found.n_degenerate,
        )
        if found.n_degenerate:
            notes.append(f"{stat.name} {found.n_degenerate}")
    _warn_degenerate(notes, settings.n_resamples)
    return {
        "intervals": intervals,
        "interval_method": settings.method,
        "interval_confidence": settings.confidence,
        "interval_resamples": settings.n_resamples,
        "interval_seed": settings.seed,
    }


def _statistics(
    design: Design,
    has_pred: bool,
    codes: np.ndarray,
    scores: np.ndarray | None,
    classes: np.ndarray,
    parts: dict[str, Any],
) -> list[Statistic]:
    weighted = design.weight is not None
    stats: list[Statistic] = []
    if has_pred:
        space = count_spaces(design, classes.shape[0], 1)[0]  # shared: tallies computed once
        for name in TABLE_METRICS:
            stats.append(count_statistic(MetricSpec(name, "count", name), space, weighted))
        for metric in SET_METRICS:
            for average in parts[metric]:
                spec = MetricSpec(f"{metric}_{average}", "count", metric, average)
                stats.append(count_statistic(spec, space, weighted))
    if scores is None:
        return stats
    if parts.get("roc_auc"):
        with warnings.catch_warnings():  # evaluate has said which classes are undefined
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            columns = ranking_columns(design, codes, scores, classes, "y_score")
        for metric in RANKING_METRICS:
            for average in parts[metric]:
                stats.append(RankingStatistic(f"{metric}_{average}", metric, average, columns))
    for k in parts.get("top_k_accuracy", {}):
        hits = _multiclass_hits(codes, scores, k)
        stats.append(MeanStatistic(f"top_{k}_accuracy", design, hits))
    if "log_loss" in parts:
        p = proba_array(scores, "y_score")
        for name in ("log_loss", "brier_score"):
            stats.append(mean_statistic(MetricSpec(name, "mean", name), design, codes, classes, p))
    return stats


def _estimates(design: Design, stats: list[Statistic]) -> np.ndarray:
    """Every statistic on the data as given, from one shared full batch."""
    batch = full_batch(design, any(s.needs_rows for s in stats))
    with np.errstate(all="ignore"):
        return np.array([float(s.values(batch)[0]) for s in stats])


def _warn_degenerate(notes: list[str], n_resamples: int) -> None:
    if not notes:
        return
    warnings.warn(
        f"evaluate(ci=True): some bootstrap resamples (of {n_resamples}) were degenerate "
        f"and were left out of these intervals: {', '.join(notes)}. A resample is "
        "degenerate when the metric is undefined on it, typically because a class of y_true "
        "is missing from it. To fix: use a larger test set, or bootstrap_ci(..., "
        "stratified=True), which keeps each class's count fixed.",
        UndefinedMetricWarning,
        stacklevel=4,
    )
