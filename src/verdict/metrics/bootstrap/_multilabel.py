"""``evaluate(ci=True)`` on label-indicator targets: resampling rows, every label at once.

A multilabel row is a pattern of (true, predicted) bits. Rows with the same pattern are
interchangeable for every count metric, so the patterns are the design's *cells*, as the
(true, predicted) pairs are for one label per row: the resampled weight of each pattern gives,
through one matrix product, every label's true positives, false positives and false negatives
in every resample. Per-row quantities (subset accuracy, Hamming loss, the 'samples' averages,
the label-ranking metrics, log loss and the Brier score) are weighted means of per-row terms;
per-label ROC AUC and average precision reuse the one-sort rank columns of the other targets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from verdict.errors import InvalidInputError
from verdict.metrics._sklearn_checks import check_consistent_length
from verdict.metrics.bootstrap._counts import Tallies, set_metric
from verdict.metrics.bootstrap._engine import CallableStatistic
from verdict.metrics.bootstrap._ranking import MeanStatistic, RankingStatistic, rank_column
from verdict.metrics.bootstrap._resample import Batch, Design, Statistic, make_design

LABEL_MISSING = "a label with positives in y_true has none in the resample"
LABEL_COUNT_METRICS = ("precision", "recall", "f1", "specificity", "jaccard")


def pattern_codes(*indicators: np.ndarray) -> np.ndarray:
    """One integer code per row, equal for rows whose bits agree in every matrix given."""
    packed = np.concatenate([np.packbits(m.astype(bool), axis=1) for m in indicators], axis=1)
    rows = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).ravel()
    return np.unique(rows, return_inverse=True)[1].ravel()


def multilabel_design(
    y_true: np.ndarray, y_pred: np.ndarray | None, weight: np.ndarray | None, *others: np.ndarray
) -> Design:
    """Rows grouped by their (true, predicted) pattern; by their true pattern without y_pred.
    ``others``: more predictions whose bits the cells also share (paired comparisons)."""
    predictions = () if y_pred is None else (y_pred, *others)
    return make_design(pattern_codes(y_true, *predictions), weight)


@dataclass(frozen=True, slots=True, eq=False)
class LabelSpace:
    """Each cell's true positives, false positives and false negatives per label (float)."""

    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    true_present: np.ndarray


def label_space(design: Design, y_true: np.ndarray, y_pred: np.ndarray) -> LabelSpace:
    """The per-label counts of one representative row per cell (all its rows share them)."""
    first = design.layout[design.cell_starts]
    t, p = y_true[first].astype(bool), y_pred[first].astype(bool)
    return LabelSpace(
        (t & p).astype(np.float64),
        (~t & p).astype(np.float64),
        (t & ~p).astype(np.float64),
        y_true.astype(bool).any(axis=0),
    )


def label_tallies(batch: Batch, space: LabelSpace) -> Tallies:
    """Per resample and label, the tallies the count bootstrap reduces (true positives, true
    and predicted totals, the total), computed once per batch for every statistic."""
    key = ("label_tallies", space)
    if key not in batch.cache:
        w = batch.cell_weights()
        tp = w @ space.tp
        batch.cache[key] = Tallies(tp, tp + w @ space.fn, tp + w @ space.fp, w.sum(axis=1))
    return batch.cache[key]


class LabelCountStatistic(Statistic):
    """Precision, recall, F1, specificity or Jaccard averaged over labels ('micro', 'macro',
    'weighted'), with the count bootstrap's formulas (a 0/0 label counts as 0)."""

    needs_rows = False
    degenerate_reason = LABEL_MISSING + ", or the metric is 0/0 on it"

    def __init__(
        self, name: str, metric: str, average: str, space: LabelSpace, weighted: bool
    ) -> None:
        self.name, self.metric, self.average, self.space = name, metric, average, space
        self.needs_rows = weighted  # weighted cells are sums over resampled rows
        self.cell_jackknife = not weighted

    def values(self, batch: Batch) -> np.ndarray:
        t = label_tallies(batch, self.space)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = set_metric(self.metric, self.average, t)
            if self.average != "micro":
                missing = (t.true_sum[:, self.space.true_present] == 0).any(axis=1)
                out = np.where(missing, np.nan, out)
        return np.where(t.total > 0, out, np.nan)


def multilabel_statistics(
    design: Design,
    y_true: np.ndarray,
    y_pred: np.ndarray | None,
    scores: np.ndarray | None,
    averages: dict[str, list[str]],
    row_terms: dict[str, np.ndarray],
) -> list[Statistic]:
    """One statistic per scalar ``evaluate`` reported on a multilabel target.

    ``averages`` maps a per-label metric to the averages reported ('micro', 'macro',
    'weighted', 'samples'); ``row_terms`` maps every per-row mean (subset accuracy, the
    'samples' averages, label-ranking metrics, log loss ...) to its row values.
    """
    weighted = design.weight is not None
    stats: list[Statistic] = []
    if y_pred is not None:
        space = label_space(design, y_true, y_pred)
        for metric in LABEL_COUNT_METRICS:
            for average in averages.get(metric, ()):
                if average in ("micro", "macro", "weighted"):
                    name = f"{metric}_{average}"
                    stats.append(LabelCountStatistic(name, metric, average, space, weighted))
    if scores is not None:
        truth = y_true.astype(bool)
        defined = truth.any(axis=0) & ~truth.all(axis=0)
        columns = [rank_column(design, truth[:, k], scores[:, k]) for k in np.flatnonzero(defined)]
        for metric in ("roc_auc", "average_precision"):
            for average in averages.get(metric, ()):
                if average in ("macro", "weighted") and columns:
                    stats.append(RankingStatistic(f"{metric}_{average}", metric, average, columns))
    for name, terms in row_terms.items():
        if np.isfinite(terms).all():
            stats.append(MeanStatistic(name, design, terms))
    return stats


LABEL_METRICS = ("accuracy", "hamming_loss", *LABEL_COUNT_METRICS)
_AVERAGE_SUFFIXES = ("_micro", "_macro", "_weighted", "_samples")
_MULTILABEL_ALIASES = {
    "f1": "f1_macro",
    "precision": "precision_macro",
    "recall": "recall_macro",
    "jaccard": "jaccard_macro",
    "specificity": "specificity_macro",
    "roc_auc": "roc_auc_macro",
    "average_precision": "average_precision_macro",
    "lrap": "label_ranking_average_precision",
}


def multilabel_problem(
    metric: str | Callable[..., Any],
    y_true: Any,
    preds: Sequence[Any],
    names: Sequence[str],
    weight: np.ndarray | None,
    stratified: bool,
    func: str,
) -> tuple[Design, list[Statistic]]:
    """``bootstrap_ci`` / ``paired_bootstrap_ci`` on a label-indicator ``y_true``: the rows'
    design and one statistic per prediction, each as ``evaluate(ci=True)`` computes it."""
    from verdict.metrics.evaluation._multilabel import (  # evaluation imports the bootstrap
        indicator,
        multilabel_scores,
        multilabel_terms,
    )

    if stratified:
        raise InvalidInputError(
            f"{func}(stratified=True) keeps each class's count fixed, but a multilabel row "
            "has several labels. To fix: leave stratified=False for a multilabel y_true."
        )
    t = indicator(y_true, "y_true")
    if callable(metric):
        others = [np.asarray(p) for p in preds]
        check_consistent_length(y_true=t, **dict(zip(names, others, strict=True)))
        raw = np.asarray(y_true)
        design = multilabel_design(t, None, weight)
        return design, [CallableStatistic(metric, raw, other, weight) for other in others]
    name = _multilabel_name(metric)
    family = name.rsplit("_", 1)[0] if name.endswith(_AVERAGE_SUFFIXES) else name
    if family in LABEL_METRICS:
        given = [indicator(p, n, t.shape[1]) for p, n in zip(preds, names, strict=True)]
        check_consistent_length(y_true=t, **dict(zip(names, given, strict=True)))
        design = multilabel_design(t, given[0], weight, *given[1:])
        per_prediction = [(p, None, multilabel_terms(t, p, None, weight, False)) for p in given]
    else:
        scores = [multilabel_scores(p, t.shape[1]) for p in preds]
        check_consistent_length(y_true=t, **dict(zip(names, scores, strict=True)))
        design = multilabel_design(t, None, weight)
        proba = family in ("log_loss", "brier_score")
        per_prediction = [(None, s, multilabel_terms(t, None, s, weight, proba)) for s in scores]
    chosen = []
    for p, s, (_, _, row_terms, averages) in per_prediction:
        found = multilabel_statistics(design, t, p, s, averages, row_terms)
        match = [stat for stat in found if stat.name == name]
        if not match:
            raise InvalidInputError(
                f"{func} has no interval of {metric!r} for this multilabel target; it offers "
                f"{sorted(stat.name for stat in found)}. (Micro-averaged ROC AUC and average "
                "precision pool the label columns, and a metric undefined on the data has no "
                "interval.) To fix: pass one of those names."
            )
        chosen.append(match[0])
    return design, chosen


def _multilabel_name(metric: Any) -> str:
    if not isinstance(metric, str):
        raise InvalidInputError(
            f"metric must be a metric name or a callable, got {metric!r}. To fix: pass e.g. "
            "'f1_samples' or a function of (y_true, y_pred)."
        )
    return _MULTILABEL_ALIASES.get(metric, metric)
