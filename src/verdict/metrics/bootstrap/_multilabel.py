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

from dataclasses import dataclass

import numpy as np

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
    y_true: np.ndarray, y_pred: np.ndarray | None, weight: np.ndarray | None
) -> Design:
    """Rows grouped by their (true, predicted) pattern; by their true pattern without y_pred."""
    cells = pattern_codes(y_true) if y_pred is None else pattern_codes(y_true, y_pred)
    return make_design(cells, weight)


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


@dataclass(frozen=True, slots=True)
class LabelTallies:
    """Per resample and label: true positives, false positives, false negatives; totals."""

    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    total: np.ndarray


def label_tallies(batch: Batch, space: LabelSpace) -> LabelTallies:
    """Computed once per batch for every statistic over the same space."""
    key = ("label_tallies", space)
    if key not in batch.cache:
        w = batch.cell_weights()
        batch.cache[key] = LabelTallies(w @ space.tp, w @ space.fp, w @ space.fn, w.sum(axis=1))
    return batch.cache[key]


class LabelCountStatistic(Statistic):
    """Precision, recall, F1, specificity or Jaccard averaged over labels ('micro', 'macro',
    'weighted'), as scikit-learn averages them (a 0/0 label counts as 0)."""

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
        tp, fp, fn = t.tp, t.fp, t.fn
        tn = t.total[:, None] - tp - fp - fn
        if self.average == "micro":
            tp, fp, fn, tn = (a.sum(axis=1, keepdims=True) for a in (tp, fp, fn, tn))
        with np.errstate(divide="ignore", invalid="ignore"):
            per_label = _label_metric(self.metric, tp, fp, fn, tn)
            if self.average == "micro":
                out = per_label[:, 0]
            elif self.average == "macro":
                out = per_label.mean(axis=1)
            else:
                support = tp + fn
                total = support.sum(axis=1)
                out = (per_label * support).sum(axis=1) / np.where(total > 0, total, np.nan)
            if self.average != "micro":
                missing = ((t.tp + t.fn)[:, self.space.true_present] == 0).any(axis=1)
                out = np.where(missing, np.nan, out)
        return np.where(t.total > 0, out, np.nan)


def _label_metric(
    metric: str, tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, tn: np.ndarray
) -> np.ndarray:
    if metric == "precision":
        return _ratio(tp, tp + fp)
    if metric == "recall":
        return _ratio(tp, tp + fn)
    if metric == "f1":
        return _ratio(2 * tp, 2 * tp + fp + fn)
    if metric == "specificity":
        return _ratio(tn, tn + fp)
    return _ratio(tp, tp + fp + fn)  # jaccard


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    safe = np.where(denominator == 0, 1.0, denominator)
    return np.where(denominator == 0, 0.0, numerator / safe)


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
