"""The metrics the bootstrap knows by name, and how each becomes a vectorised statistic.

Names (values are those ``evaluate`` reports; the positive class of 'binary' is the last of
``labels``, by default the greater label):

==========================  ===================================================================
count metrics (y_pred)      ``accuracy``, ``hamming_loss``, ``balanced_accuracy``,
                            ``matthews_corrcoef``, ``cohen_kappa``, and
                            ``{precision,recall,f1,specificity,jaccard}_{binary,micro,macro,
                            weighted}``
ranking metrics (scores)    ``roc_auc_{binary,macro,weighted}``,
                            ``average_precision_{binary,macro,weighted}`` (one-vs-rest)
probabilities / scores      ``log_loss``, ``brier_score`` (halved for two classes),
                            ``top_<k>_accuracy`` (e.g. ``top_3_accuracy``)
aliases                     ``precision``, ``recall``, ``f1``, ``specificity``, ``jaccard``
                            (the '_binary' ones), ``roc_auc`` and ``average_precision``
                            ('_binary' for two classes, else '_macro'), ``roc_auc_ovr``,
                            ``roc_auc_ovr_weighted``, ``brier_score_loss``, ``mcc``, ``kappa``
==========================  ===================================================================

For a binary target every ranking average is the positive class's value, as in
``roc_auc_score``.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np

from verdict import errors
from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.metrics._catalogue import ALIASES as CATALOGUE_ALIASES
from verdict.metrics._catalogue import RANKING_AVERAGES, SET_AVERAGES
from verdict.metrics._probabilistic import ProbaTargets, brier_terms, true_class_proba
from verdict.metrics._topk import _multiclass_hits
from verdict.metrics.bootstrap._counts import (
    SET_METRICS,
    TABLE_METRICS,
    CountSpace,
    CountStatistic,
)
from verdict.metrics.bootstrap._ranking import MeanStatistic, RankColumn, rank_column
from verdict.metrics.bootstrap._resample import Design

RANKING_METRICS = ("roc_auc", "average_precision")
COUNT_NAMES = TABLE_METRICS + tuple(f"{m}_{a}" for m in SET_METRICS for a in SET_AVERAGES)
RANKING_NAMES = tuple(f"{m}_{a}" for m in RANKING_METRICS for a in RANKING_AVERAGES)
MEAN_NAMES = ("log_loss", "brier_score", "top_<k>_accuracy")
# the catalogue's aliases (but 'ece': the bootstrap has no calibration error), and the two
# names whose average depends on the number of classes
ALIASES = {
    **{alias: name for alias, name in CATALOGUE_ALIASES.items() if alias != "ece"},
    "roc_auc": "roc_auc_auto",
    "average_precision": "average_precision_auto",
}
_TOP_K = re.compile(r"top_(\d+)_accuracy")


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """A parsed metric name: its family ('count', 'ranking', 'mean'), metric and average."""

    name: str
    family: str
    metric: str
    average: str | None = None
    k: int = 0

    def resolved(self, n_classes: int) -> MetricSpec:
        """Ranking averages collapse to 'binary' for two classes ('auto': binary or macro)."""
        if self.family != "ranking":
            return self
        average = "binary" if n_classes == 2 else self.average
        if average == "auto":
            average = "macro"
        return MetricSpec(f"{self.metric}_{average}", "ranking", self.metric, average)


def parse_metric(metric: str, func: str) -> MetricSpec:
    """The spec of a metric name, aliases resolved; an error lists the names on offer."""
    name = ALIASES.get(metric, metric)
    if name in TABLE_METRICS:
        return MetricSpec(name, "count", name)
    for family, metrics, averages in (
        ("count", SET_METRICS, SET_AVERAGES),
        ("ranking", RANKING_METRICS, (*RANKING_AVERAGES, "auto")),
    ):
        for m in metrics:
            if name.startswith(m + "_") and name[len(m) + 1 :] in averages:
                return MetricSpec(name, family, m, name[len(m) + 1 :])
    if name in ("log_loss", "brier_score"):
        return MetricSpec(name, "mean", name)
    match = _TOP_K.fullmatch(name)
    if match and int(match.group(1)) >= 1:
        return MetricSpec(name, "mean", "top_k_accuracy", k=int(match.group(1)))
    shown = ", ".join(COUNT_NAMES + RANKING_NAMES + MEAN_NAMES)
    raise InvalidParameterError(
        f"The 'metric' parameter of {func} must be a metric name or a callable; got "
        f"{metric!r}. Names: {shown} (aliases: {', '.join(ALIASES)}). To fix: pass one of "
        "these names, or a callable (y_true, y_pred, sample_weight=None) -> float."
    )


# --------------------------------------------------------------------------- count metrics


def count_spaces(design: Design, n_classes: int, n_preds: int) -> list[CountSpace]:
    """One space per prediction; cell codes are ``true * K**m + pred_1 * K**(m-1) ...``."""
    true_of_cell = design.cell_code // n_classes**n_preds
    present = np.bincount(true_of_cell, weights=_cell_weight(design), minlength=n_classes) > 0
    return [
        CountSpace(
            n_classes,
            true_of_cell,
            (design.cell_code // n_classes ** (n_preds - 1 - j)) % n_classes,
            present,
        )
        for j in range(n_preds)
    ]


def count_statistic(spec: MetricSpec, space: CountSpace, weighted: bool) -> CountStatistic:
    """The count metric ``spec`` on one prediction's space."""
    if spec.average == "binary" and space.n_classes != 2:
        raise InvalidInputError(
            f"{spec.name} needs a binary target, but there are {space.n_classes} classes. "
            f"To fix: use {spec.metric}_macro, _weighted or _micro."
        )
    return CountStatistic(spec.name, spec.metric, spec.average, space, weighted)


def _cell_weight(design: Design) -> np.ndarray:
    if design.weight is None:
        return design.cell_sizes.astype(np.float64)
    return np.add.reduceat(design.weight, design.cell_starts)


# --------------------------------------------------------------------------- ranking metrics


def ranking_columns(
    design: Design, codes: np.ndarray, scores: np.ndarray, classes: np.ndarray, name: str
) -> list[RankColumn]:
    """Binary: the positive class's column; multiclass: one per class defined on the data."""
    n_classes = classes.shape[0]
    if n_classes == 2:
        column = scores if scores.ndim == 1 else scores[:, -1]
        return [rank_column(design, codes == 1, column)]
    if scores.ndim != 2:
        raise InvalidInputError(
            f"{name} is 1-D but the target has {n_classes} classes. To fix: pass one score "
            "column per class."
        )
    support = np.bincount(codes, weights=_row_weight(design), minlength=n_classes)
    defined = (support > 0) & (support < support.sum())
    if not defined.all():
        warnings.warn(
            f"ROC AUC and average precision are undefined for classes "
            f"{classes[~defined].tolist()}, which have no sample in y_true; the averages "
            "leave them out.",
            errors.UndefinedMetricWarning,
            stacklevel=5,
        )
    return [rank_column(design, codes == k, scores[:, k]) for k in np.flatnonzero(defined)]


def _row_weight(design: Design) -> np.ndarray | None:
    if design.weight is None:
        return None
    w = np.empty(design.n)
    w[design.layout] = design.weight
    return w


# --------------------------------------------------------------------------- row means


def mean_statistic(
    spec: MetricSpec, design: Design, codes: np.ndarray, classes: np.ndarray, scores: np.ndarray
) -> MeanStatistic:
    """Log loss, Brier score or top-k accuracy as a mean of per-row terms."""
    if spec.metric == "top_k_accuracy":
        if scores.ndim != 2 or not 1 <= spec.k < classes.shape[0]:
            raise InvalidInputError(
                f"{spec.name} needs one score column per class and k below the number of "
                f"classes ({classes.shape[0]}). To fix: pass 2-D scores and a smaller k."
            )
        return MeanStatistic(spec.name, design, _multiclass_hits(codes, scores, spec.k))
    targets = ProbaTargets(codes, classes, scores, None)
    if spec.metric == "log_loss":
        eps = np.finfo(scores.dtype).eps
        terms = -np.log(np.clip(true_class_proba(targets), eps, 1 - eps))
        return MeanStatistic(spec.name, design, terms)
    scale = 0.5 if classes.shape[0] < 3 else 1.0
    return MeanStatistic(spec.name, design, brier_terms(targets), scale)
