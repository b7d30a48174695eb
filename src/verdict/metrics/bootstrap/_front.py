"""The bootstrap's front end: intervals for any metric (``bootstrap_ci``), for the difference
of two models (``paired_bootstrap_ci``) and for every metric of ``evaluate(ci=True)``; each
checks its settings, builds its problem (``_inputs``) and runs the one engine (``_engine.run``).

Fast by construction, not by sampling less. A pair-bootstrap resample draws n rows with
replacement; drawing instead the counts of the confusion cells (one multinomial over the
(true, predicted) pairs) is the same distribution, so count metrics never touch the rows and
are computed for all resamples at once from their resampled confusion matrices. Ranking
metrics sort each score column once and recompute from the resample's row counts used as
weights. A callable metric is called on each resample's rows (the generic path).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from verdict import errors
from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.metrics._intervals import (
    ANALYTIC_METHODS,
    BOOTSTRAP_METHODS,
    ConfidenceInterval,
    PairedInterval,
    proportion_bounds,
)
from verdict.metrics._validation import check_choice, check_flag
from verdict.metrics.bootstrap._counts import Tallies, tallies
from verdict.metrics.bootstrap._engine import (
    Bounds,
    Difference,
    Settings,
    check_nonnegative,
    checked_estimate,
    run,
    warn,
)
from verdict.metrics.bootstrap._inputs import build_problem, evaluation_problem, settings_of
from verdict.metrics.bootstrap._metrics import parse_metric
from verdict.metrics.bootstrap._multilabel import multilabel_design, multilabel_statistics
from verdict.metrics.bootstrap._resample import Design, Statistic, full_batch

Metric = str | Callable[..., float]


def bootstrap_ci(
    metric: Metric,
    y_true: Any,
    y_pred_or_score: Any,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    method: str = "percentile",
    stratified: bool = False,
    sample_weight: Any = None,
    labels: Any = None,
    random_state: Any = None,
    return_distribution: bool = False,
) -> ConfidenceInterval:
    """Confidence interval of a metric by the pair bootstrap, or analytically for proportions.

    Parameters
    ----------
    metric : str or callable
        A metric name (see below) or ``fn(y_true, y_pred_or_score[, sample_weight=w]) ->
        float`` (``sample_weight`` is passed only when given); a callable is called once per
        resample. Names: ``accuracy``, ``hamming_loss``, ``balanced_accuracy``,
        ``matthews_corrcoef``, ``cohen_kappa``, ``{precision,recall,f1,specificity,jaccard}_
        {binary,micro,macro,weighted}`` (predicted labels); ``roc_auc_{binary,macro,
        weighted}``, ``average_precision_{...}`` (scores, one-vs-rest); ``log_loss``,
        ``brier_score`` (probabilities), ``top_<k>_accuracy`` (scores); aliases ``f1``,
        ``precision``, ``recall``, ``roc_auc``, ``average_precision`` ... Values are those
        ``evaluate`` reports.
    y_true : array-like of shape (n_samples,) or (n_samples, n_labels)
        True labels, or a label-indicator matrix: then the rows are resampled and the names
        are ``evaluate``'s multilabel ones (``f1_samples``, ``jaccard_micro``,
        ``roc_auc_macro``, ``coverage_error``, ``label_ranking_loss`` ...; aliases average
        'macro'), with the same values and, for one seed, the same intervals.
    y_pred_or_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Predicted labels for count metrics; scores or probabilities (binary: 1-D, of the
        positive class ``labels[-1]``; multiclass: one column per class) for the others.
    n_resamples : int, default=1000
        Bootstrap resamples.
    confidence : float, default=0.95
        Nominal coverage.
    method : {'percentile', 'bca', 'wilson', 'clopper-pearson'}, default='percentile'
        'percentile': the central range of the resampled values. 'bca': bias-corrected and
        accelerated (jackknife acceleration), better when the metric's distribution is skewed
        or biased. 'wilson' and 'clopper-pearson': analytic, no resampling, for the metrics
        that are proportions (``accuracy``, ``hamming_loss``, ``precision_binary``,
        ``recall_binary``, ``specificity_binary`` and the micro averages of precision, recall
        and F1), unweighted; they are the better choice for those, especially near 0 or 1.
    stratified : bool, default=False
        Resample within each class of ``y_true``, keeping the class counts fixed (the right
        model when the test set was drawn per class; it also avoids resamples missing a class).
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights; rows are resampled with equal probability and keep their weight.
    labels : array-like, optional
        Named metrics only: the classes (and the order of score columns), as in ``evaluate``.
    random_state : None, int or numpy.random.Generator
        Seed of the resampling.
    return_distribution : bool, default=False
        Keep the resampled values (NaN on degenerate resamples) in ``distribution``.

    Returns
    -------
    ConfidenceInterval
        ``estimate``, ``low``, ``high``, and how many resamples were degenerate (undefined
        metric, e.g. a class missing): those are left out, with an ``UndefinedMetricWarning``.

    Examples
    --------
    >>> ci = bootstrap_ci("f1_macro", y_true, y_pred, random_state=0)  # doctest: +SKIP
    >>> ci.low, ci.high  # doctest: +SKIP
    """
    func = "bootstrap_ci"
    settings = settings_of(func, n_resamples, confidence, method, stratified, random_state)
    check_flag("return_distribution", return_distribution, func)
    if method in ANALYTIC_METHODS:
        return _analytic(metric, y_true, y_pred_or_score, sample_weight, labels, settings)
    problem = build_problem(
        metric, y_true, [y_pred_or_score], ["y_pred_or_score"], sample_weight, labels, settings
    )
    stat = problem.stats[0]
    estimate = checked_estimate(stat, problem.design)
    values, found = run(problem.design, [stat], [estimate], settings)[0]
    warn(found.message)
    distribution = values if return_distribution else None
    return ConfidenceInterval(
        stat.name, estimate, **_drawn(found, settings), distribution=distribution
    )


def paired_bootstrap_ci(
    metric: Metric,
    y_true: Any,
    pred_a: Any,
    pred_b: Any,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    method: str = "percentile",
    stratified: bool = False,
    sample_weight: Any = None,
    labels: Any = None,
    random_state: Any = None,
    return_distribution: bool = False,
) -> PairedInterval:
    """Interval of the difference ``metric(a) - metric(b)`` of two models on the same rows.

    Every resample draws one set of rows and scores both models on it, so the interval
    reflects how differently the two models do on the same samples, not the spread of each.
    A difference whose interval excludes 0 is one the test set supports. Parameters are
    those of ``bootstrap_ci`` (``method`` is 'percentile' or 'bca'); ``pred_a`` and
    ``pred_b`` are both predicted labels or both scores, as the metric needs.

    Returns
    -------
    PairedInterval
        ``estimate_a``, ``estimate_b``, ``difference`` (a - b), ``low``, ``high``, and the
        shares of resamples on which a's metric is higher (``share_a_higher``) or lower
        (``share_b_higher``) than b's.
    """
    func = "paired_bootstrap_ci"
    check_choice("method", method, BOOTSTRAP_METHODS, func)
    settings = settings_of(func, n_resamples, confidence, method, stratified, random_state)
    check_flag("return_distribution", return_distribution, func)
    problem = build_problem(
        metric, y_true, [pred_a, pred_b], ["pred_a", "pred_b"], sample_weight, labels, settings
    )
    a, b = problem.stats
    est_a, est_b = checked_estimate(a, problem.design), checked_estimate(b, problem.design)
    diff = Difference(a, b)
    values, found = run(problem.design, [diff], [est_a - est_b], settings)[0]
    warn(found.message)
    valid = values[~np.isnan(values)]
    return PairedInterval(
        diff.name,
        est_a,
        est_b,
        est_a - est_b,
        **_drawn(found, settings),
        share_a_higher=_share(valid > 0),
        share_b_higher=_share(valid < 0),
        distribution=values if return_distribution else None,
    )


def _drawn(found: Bounds, settings: Settings) -> dict[str, Any]:
    """The fields every bootstrap interval shares: its bounds and how they were drawn."""
    return {
        "low": found.low,
        "high": found.high,
        "confidence": settings.confidence,
        "method": settings.method,
        "n_resamples": settings.n_resamples,
        "n_degenerate": found.n_degenerate,
    }


def _share(mask: np.ndarray) -> float:
    return float(np.mean(mask)) if mask.shape[0] else float("nan")


# --------------------------------------------------------------------------- evaluate


def evaluation_intervals(
    settings: Settings,
    codes: np.ndarray,
    pred_codes: np.ndarray | None,
    scores: np.ndarray | None,
    w: np.ndarray | None,
    classes: np.ndarray,
    parts: dict[str, Any],
) -> dict[str, Any]:
    """``evaluate(ci=True)``: the ``Evaluation`` fields that hold the intervals and how they
    were made. The rows are grouped by their (true, predicted) cell, so count metrics read
    only the resampled cell counts; the same resamples' row counts feed the ranking metrics
    and the per-row means, so every interval describes the same bootstrap world."""
    problem = evaluation_problem(codes, pred_codes, scores, w, classes, parts)
    return _intervals_of(settings, problem.design, problem.stats)


def multilabel_evaluation_intervals(
    settings: Settings,
    y_true: np.ndarray,
    y_pred: np.ndarray | None,
    scores: np.ndarray | None,
    w: np.ndarray | None,
    averages: dict[str, list[str]],
    row_terms: dict[str, np.ndarray],
) -> dict[str, Any]:
    """``evaluate(ci=True)`` on a label-indicator target: rows grouped by their (true,
    predicted) bit pattern, so the per-label count metrics read only the resampled pattern
    counts; per-row means and per-label rank columns share the same resamples."""
    check_nonnegative(w)
    design = multilabel_design(y_true, y_pred, w)
    stats = multilabel_statistics(design, y_true, y_pred, scores, averages, row_terms)
    return _intervals_of(settings, design, stats)


def _intervals_of(settings: Settings, design: Design, all_stats: list[Statistic]) -> dict:
    estimates = _estimates(design, all_stats)
    stats = [s for s, e in zip(all_stats, estimates, strict=True) if np.isfinite(e)]
    estimates = estimates[np.isfinite(estimates)]
    intervals, notes = {}, []
    found_all = run(design, stats, estimates, settings, stacklevel=5)
    for stat, estimate, (_, found) in zip(stats, estimates, found_all, strict=True):
        intervals[stat.name] = ConfidenceInterval(
            stat.name, float(estimate), **_drawn(found, settings)
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
        errors.UndefinedMetricWarning,
        stacklevel=5,
    )


# --------------------------------------------------------------------------- analytic

# successes and trials of each proportion, from the per-class tallies on the data
_PROPORTIONS = {
    "accuracy": lambda t: (t.tp.sum(), t.total),
    "hamming_loss": lambda t: (t.total - t.tp.sum(), t.total),
    "precision_micro": lambda t: (t.tp.sum(), t.total),
    "recall_micro": lambda t: (t.tp.sum(), t.total),
    "f1_micro": lambda t: (t.tp.sum(), t.total),
    "precision_binary": lambda t: (t.tp[-1], t.pred_sum[-1]),
    "recall_binary": lambda t: (t.tp[-1], t.true_sum[-1]),
    "specificity_binary": lambda t: (
        t.total - t.true_sum[-1] - t.pred_sum[-1] + t.tp[-1],
        t.total - t.true_sum[-1],
    ),
}


def _analytic(
    metric: Any, y_true: Any, y_pred: Any, sample_weight: Any, labels: Any, settings: Settings
) -> ConfidenceInterval:
    name = parse_metric(metric, settings.func).name if isinstance(metric, str) else None
    if name not in _PROPORTIONS:
        raise InvalidParameterError(
            f"method={settings.method!r} is an analytic interval for proportions, which "
            f"{metric!r} is not. To fix: use it with one of {', '.join(_PROPORTIONS)}, or "
            "use method='percentile' or 'bca'."
        )
    if sample_weight is not None:
        raise InvalidInputError(
            f"method={settings.method!r} needs unweighted counts, but sample_weight was "
            "given. To fix: use method='percentile' or 'bca' for weighted data."
        )
    problem = build_problem(name, y_true, [y_pred], ["y_pred_or_score"], None, labels, settings)
    stat = problem.stats[0]
    full = tallies(full_batch(problem.design, False), stat.space)
    t = Tallies(full.tp[0], full.true_sum[0], full.pred_sum[0], full.total[0])
    successes, trials = (round(float(v)) for v in _PROPORTIONS[name](t))
    if trials == 0:
        raise InvalidInputError(
            f"{name} is undefined on these data: it is a proportion of zero trials (e.g. no "
            "predicted or no actual positive). To fix: check the labels and the positive class."
        )
    low, high = proportion_bounds(successes, trials, settings.confidence, settings.method)
    return ConfidenceInterval(
        name, successes / trials, low, high, settings.confidence, settings.method, 0
    )
