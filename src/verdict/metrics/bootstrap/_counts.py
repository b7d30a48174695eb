"""Count metrics on many resampled confusion matrices at once.

A resample of a count metric is fully described by the resampled weight of each confusion
cell; from those, three per-class tallies (true positives, true totals, predicted totals) and
the grand total give every count metric, vectorised over all resamples. The formulas and
conventions are the engine's (``_prf``, ``_agreement``): a 0/0 ratio of one class counts as 0,
as scikit-learn's default ``zero_division`` does.

A resample is *degenerate* for a class-averaged metric (the 'binary', 'macro' and 'weighted'
averages, balanced accuracy) when a class present in ``y_true`` is missing from it: the
class's recall is then undefined and the average would silently change meaning. Cohen's kappa
is degenerate when its chance agreement is 1. Degenerate resamples come out as NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from verdict.metrics.bootstrap._resample import Batch, Statistic

SET_METRICS = ("precision", "recall", "f1", "specificity", "jaccard")
TABLE_METRICS = (
    "accuracy",
    "hamming_loss",
    "balanced_accuracy",
    "matthews_corrcoef",
    "cohen_kappa",
)
CLASS_MISSING = "a class of y_true is missing from the resample"


@dataclass(frozen=True, slots=True, eq=False)
class CountSpace:
    """The classes of a count metric and which confusion entry each resampled cell feeds."""

    n_classes: int
    true_of_cell: np.ndarray
    pred_of_cell: np.ndarray
    true_present: np.ndarray


@dataclass(frozen=True, slots=True)
class Tallies:
    """Per-class true positives, true and predicted totals, and the total, per resample."""

    tp: np.ndarray
    true_sum: np.ndarray
    pred_sum: np.ndarray
    total: np.ndarray


def segment_sum(weights: np.ndarray, labels: np.ndarray, n_labels: int) -> np.ndarray:
    """Sum the columns of ``weights`` (r, m) by their label: an (r, n_labels) array."""
    r = weights.shape[0]
    index = (np.arange(r)[:, None] * n_labels + labels[None, :]).ravel()
    flat = np.bincount(index, weights=weights.ravel(), minlength=r * n_labels)
    return flat.reshape(r, n_labels)


def tallies(batch: Batch, space: CountSpace) -> Tallies:
    """The tallies of one prediction on a batch, computed once per batch."""
    cache_key = ("tallies", space)
    if cache_key not in batch.cache:
        w = batch.cell_weights()
        k = space.n_classes
        hit = space.true_of_cell == space.pred_of_cell
        tp = segment_sum(w[:, hit], space.true_of_cell[hit], k)
        true_sum = segment_sum(w, space.true_of_cell, k)
        pred_sum = segment_sum(w, space.pred_of_cell, k)
        batch.cache[cache_key] = Tallies(tp, true_sum, pred_sum, true_sum.sum(axis=1))
    return batch.cache[cache_key]


class CountStatistic(Statistic):
    """A named count metric, e.g. ('f1', 'macro'), on the tallies of one prediction."""

    needs_rows = False
    degenerate_reason = CLASS_MISSING + ", or the metric is 0/0 on it"

    def __init__(
        self, name: str, metric: str, average: str | None, space: CountSpace, weighted: bool
    ) -> None:
        self.name, self.metric, self.average, self.space = name, metric, average, space
        self.needs_rows = weighted  # weighted cells are sums over resampled rows
        self.cell_jackknife = not weighted

    def values(self, batch: Batch) -> np.ndarray:
        t = tallies(batch, self.space)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.average is None:
                out = _table_metric(self.metric, t, self.space)
            else:
                out = set_metric(self.metric, self.average, t)
                if self.average != "micro":
                    out = np.where(_class_missing(t, self.space), np.nan, out)
        return np.where(t.total > 0, out, np.nan)


def _class_missing(t: Tallies, space: CountSpace) -> np.ndarray:
    return (t.true_sum[:, space.true_present] == 0).any(axis=1)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` with 0/0 taken as 0 (scikit-learn's zero_division)."""
    safe = np.where(denominator == 0, 1.0, denominator)
    return np.where(denominator == 0, 0.0, numerator / safe)


def _per_class(metric: str, t: Tallies) -> tuple[np.ndarray, np.ndarray]:
    """Numerator and denominator of the metric per class."""
    tp, true_sum, pred_sum = t.tp, t.true_sum, t.pred_sum
    if metric == "precision":
        return tp, pred_sum
    if metric == "recall":
        return tp, true_sum
    if metric == "f1":
        return 2.0 * tp, true_sum + pred_sum
    if metric == "jaccard":
        return tp, true_sum + pred_sum - tp
    negatives = t.total[:, None] - true_sum
    return negatives - (pred_sum - tp), negatives  # specificity: tn / (tn + fp)


def set_metric(metric: str, average: str, t: Tallies) -> np.ndarray:
    numerator, denominator = _per_class(metric, t)
    if average == "micro":
        return _ratio(numerator.sum(axis=1), denominator.sum(axis=1))
    per_class = _ratio(numerator, denominator)
    if average == "binary":
        return per_class[:, -1]
    if average == "macro":
        return per_class.mean(axis=1)
    support = t.true_sum
    return (per_class * support).sum(axis=1) / support.sum(axis=1)


def _table_metric(metric: str, t: Tallies, space: CountSpace) -> np.ndarray:
    correct = t.tp.sum(axis=1)
    if metric == "accuracy":
        return correct / t.total
    if metric == "hamming_loss":
        return 1.0 - correct / t.total
    if metric == "balanced_accuracy":
        present = space.true_present
        recall = t.tp[:, present] / t.true_sum[:, present]
        return recall.mean(axis=1)  # NaN when a class is missing: degenerate
    if metric == "matthews_corrcoef":
        return _mcc(t, correct)
    return _kappa(t, correct)


def _mcc(t: Tallies, correct: np.ndarray) -> np.ndarray:
    """Multiclass MCC (R_K), 0 when either side has a single class (the engine's rule)."""
    n = t.pred_sum.sum(axis=1)
    cov_ytyp = correct * n - (t.true_sum * t.pred_sum).sum(axis=1)
    cov_ypyp = n * n - (t.pred_sum * t.pred_sum).sum(axis=1)
    cov_ytyt = n * n - (t.true_sum * t.true_sum).sum(axis=1)
    denominator = cov_ypyp * cov_ytyt
    defined = denominator > 0  # >= 0 exactly; float weights can round a single class below 0
    safe = np.where(defined, denominator, 1.0)
    return np.where(defined, cov_ytyp / np.sqrt(safe), 0.0)


def _kappa(t: Tallies, correct: np.ndarray) -> np.ndarray:
    """Cohen's kappa ``1 - disagreement / expected disagreement``; NaN when the latter is 0."""
    total = t.total
    expected = total - (t.true_sum * t.pred_sum).sum(axis=1) / total
    observed = total - correct
    undefined = expected <= 1e-12 * total
    return np.where(undefined, np.nan, 1.0 - observed / np.where(undefined, 1.0, expected))
