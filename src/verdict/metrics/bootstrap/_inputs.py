"""Checked inputs of the bootstrap: the resampling settings (one ``Settings`` record, from the
arguments of ``bootstrap_ci`` or of ``evaluate``), and the problem: the rows' design (cells,
strata, layout) with one vectorised statistic per prediction, or per metric of ``evaluate``."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from verdict import errors
from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.metrics._classes import classes_of, codes_of
from verdict.metrics._confusion import check_label_types
from verdict.metrics._intervals import ANALYTIC_METHODS, BOOTSTRAP_METHODS, check_confidence
from verdict.metrics._probabilistic import check_rows_sum_to_one, proba_array
from verdict.metrics._ranking import finite_scores
from verdict.metrics._sklearn_checks import check_consistent_length, check_sample_weight, to_numpy
from verdict.metrics._topk import _multiclass_hits
from verdict.metrics._validation import (
    check_choice,
    check_flag,
    encode,
    labels_1d,
    labels_arg,
    unique_labels,
)
from verdict.metrics.bootstrap._counts import SET_METRICS, TABLE_METRICS
from verdict.metrics.bootstrap._engine import (
    CallableStatistic,
    Settings,
    check_nonnegative,
    check_resamples,
    make_rng,
)
from verdict.metrics.bootstrap._metrics import (
    RANKING_METRICS,
    MetricSpec,
    count_spaces,
    count_statistic,
    mean_statistic,
    parse_metric,
    ranking_columns,
)
from verdict.metrics.bootstrap._multilabel import multilabel_problem
from verdict.metrics.bootstrap._ranking import MeanStatistic, RankingStatistic
from verdict.metrics.bootstrap._resample import Design, Statistic, make_design


def settings_of(
    func: str, n_resamples: Any, confidence: Any, method: Any, stratified: Any, random_state: Any
) -> Settings:
    """Check the resampling parameters of ``func`` once, at the boundary."""
    check_choice("method", method, BOOTSTRAP_METHODS + ANALYTIC_METHODS, func)
    level = check_confidence(confidence, func)
    check_flag("stratified", stratified, func)
    count = check_resamples(n_resamples, func)
    return Settings(count, level, method, bool(stratified), make_rng(random_state, func), func)


def interval_settings(
    ci: Any, confidence: Any, n_resamples: Any, method: Any, random_state: Any
) -> Settings | None:
    """``evaluate``'s: None when ``ci`` is False; else the checked settings, with the seed
    recorded (one is drawn when none is given) so that any run can be reproduced."""
    func = "evaluate"
    check_flag("ci", ci, func)
    if not ci:
        return None
    level = check_confidence(confidence, func)
    count = check_resamples(n_resamples, func)
    check_choice("ci_method", method, BOOTSTRAP_METHODS, func)
    seed = random_state
    if random_state is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    rng = make_rng(seed, func)
    recorded = None if isinstance(seed, np.random.Generator) else int(seed)
    return Settings(count, level, method, False, rng, func, recorded)


def _weights(sample_weight: Any, n: int) -> np.ndarray | None:
    return check_nonnegative(check_sample_weight(sample_weight, n))


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True, slots=True)
class Problem:
    """The rows' design and one statistic per prediction."""

    design: Design
    stats: list[Statistic]


def build_problem(
    metric: Any,
    y_true: Any,
    preds: Sequence[Any],
    names: Sequence[str],
    sample_weight: Any,
    labels: Any,
    settings: Settings,
) -> Problem:
    """Validate the inputs of a metric and build its design and statistics."""
    if np.ndim(y_true) == 2 and np.shape(y_true)[1] > 1:  # a label-indicator matrix
        w = _weights(sample_weight, np.shape(y_true)[0])
        design, stats = multilabel_problem(
            metric, y_true, preds, names, w, settings.stratified, settings.func
        )
        return Problem(design, stats)
    yt = labels_1d(y_true, "y_true")
    w = _weights(sample_weight, yt.shape[0])
    given = labels_arg(labels)
    if callable(metric):
        return _callable_problem(metric, yt, preds, names, w, settings.stratified)
    if not isinstance(metric, str):
        raise InvalidParameterError(
            f"The 'metric' parameter of {settings.func} must be a metric name or a callable, "
            f"got {metric!r}. To fix: pass e.g. 'f1_macro' or 'roc_auc'."
        )
    spec = parse_metric(metric, settings.func)
    if spec.family == "count":
        return _count_problem(spec, yt, preds, names, w, given, settings.stratified)
    return _score_problem(spec, yt, preds, names, w, given, settings.stratified)


def _count_problem(
    spec: MetricSpec,
    yt: np.ndarray,
    preds: Sequence[Any],
    names: Sequence[str],
    w: np.ndarray | None,
    given: np.ndarray | None,
    stratified: bool,
) -> Problem:
    ys = [labels_1d(p, name) for p, name in zip(preds, names, strict=True)]
    check_consistent_length(y_true=yt, **dict(zip(names, ys, strict=True)))
    for y in ys:
        check_label_types(yt, y)
    classes = classes_of(unique_labels(yt, *ys), given, None)
    n_classes = classes.shape[0]
    true_codes = codes_of(yt, classes)
    code = true_codes.astype(np.int64)
    for y in ys:
        code = code * n_classes + codes_of(y, classes)
    design = make_design(code, w, true_codes if stratified else None)
    spaces = count_spaces(design, n_classes, len(ys))
    return Problem(design, [count_statistic(spec, space, w is not None) for space in spaces])


def _score_problem(
    spec: MetricSpec,
    yt: np.ndarray,
    preds: Sequence[Any],
    names: Sequence[str],
    w: np.ndarray | None,
    given: np.ndarray | None,
    stratified: bool,
) -> Problem:
    proba = spec.metric in ("log_loss", "brier_score")
    scores = [_scores(p, name, yt.shape[0], proba) for p, name in zip(preds, names, strict=True)]
    for s, name in zip(scores, names, strict=True):
        classes = classes_of(unique_labels(yt), given, s)
        if s.ndim == 1 and classes.shape[0] != 2:
            raise InvalidInputError(
                f"{name} is 1-D but y_true has {classes.shape[0]} classes {classes.tolist()}. "
                "To fix: pass one score column per class (a 1-D score is for a binary target)."
            )
    spec = spec.resolved(classes.shape[0])
    codes = codes_of(yt, classes)
    key = None
    if spec.family == "ranking" and classes.shape[0] == 2 and len(scores) == 1:
        key = scores[0] if scores[0].ndim == 1 else scores[0][:, -1]  # layout sorted by score
    design = make_design(codes, w, codes if stratified else None, key)
    stats: list[Statistic] = []
    for s, name in zip(scores, names, strict=True):  # a loop: warnings' stacklevel stays fixed
        if spec.family == "mean":
            stats.append(mean_statistic(spec, design, codes, classes, s))
        else:
            columns = ranking_columns(design, codes, s, classes, name)
            stats.append(RankingStatistic(spec.name, spec.metric, spec.average, columns))
    return Problem(design, stats)


def _scores(values: Any, name: str, n: int, proba: bool) -> np.ndarray:
    """Finite scores (or probabilities in [0, 1], rows summing to 1), 1-D or 2-D, n rows."""
    s = proba_array(values, name) if proba else finite_scores(values, name)
    if s.ndim == 2 and s.shape[1] == 1:
        s = s.ravel()
    if s.ndim not in (1, 2):
        raise InvalidInputError(
            f"{name} must be 1-D or 2-D scores, got shape {s.shape}. To fix: pass one score "
            "per sample (binary) or one column per class."
        )
    check_consistent_length(y_true=np.empty(n), **{name: s})
    if proba and s.ndim == 2:
        check_rows_sum_to_one(s, name)
    return s


def _callable_problem(
    metric: Callable[..., Any],
    yt: np.ndarray,
    preds: Sequence[Any],
    names: Sequence[str],
    w: np.ndarray | None,
    stratified: bool,
) -> Problem:
    others = [to_numpy(p, name) for p, name in zip(preds, names, strict=True)]
    check_consistent_length(y_true=yt, **dict(zip(names, others, strict=True)))
    codes = encode(yt, unique_labels(yt))
    design = make_design(codes, w, codes if stratified else None)
    return Problem(design, [CallableStatistic(metric, yt, other, w) for other in others])


def evaluation_problem(
    codes: np.ndarray,
    pred_codes: np.ndarray | None,
    scores: np.ndarray | None,
    w: np.ndarray | None,
    classes: np.ndarray,
    parts: dict[str, Any],
) -> Problem:
    """``evaluate``'s: rows grouped by (true, predicted) cell, one statistic per scalar metric
    it computed (``parts``), so that all share one set of resamples."""
    check_nonnegative(w)
    n_classes = classes.shape[0]
    cells = codes.astype(np.int64)
    if pred_codes is not None:
        cells = cells * n_classes + pred_codes
    design = make_design(cells, w)
    weighted = design.weight is not None
    stats: list[Statistic] = []
    if pred_codes is not None:
        space = count_spaces(design, n_classes, 1)[0]  # shared: tallies computed once
        for name in TABLE_METRICS:
            stats.append(count_statistic(MetricSpec(name, "count", name), space, weighted))
        for metric in SET_METRICS:
            for average in parts[metric]:
                spec = MetricSpec(f"{metric}_{average}", "count", metric, average)
                stats.append(count_statistic(spec, space, weighted))
    if scores is not None:
        stats += _score_statistics(design, codes, scores, classes, parts)
    return Problem(design, stats)


def _score_statistics(
    design: Design,
    codes: np.ndarray,
    scores: np.ndarray,
    classes: np.ndarray,
    parts: dict[str, Any],
) -> list[Statistic]:
    stats: list[Statistic] = []
    if parts.get("roc_auc"):
        with warnings.catch_warnings():  # evaluate has said which classes are undefined
            warnings.simplefilter("ignore", errors.UndefinedMetricWarning)
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
