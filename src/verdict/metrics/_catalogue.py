"""The metric catalogue: every metric verdict knows by name, and the facts every layer reads.

One entry per canonical name says which function computes it, what it reads (predicted labels,
scores or probabilities, and whether it needs a cost matrix), which average the name fixes and
which the family accepts, whether a greater value is better, and its name for people. The
search, the report, monitoring and the CLI read these entries (as scikit-learn's callers read
``get_scorer``); none keeps its own list of losses or labels.

Names (``metric_names()`` lists them; the bootstrap knows the same ones, but for the last two):

==========================  ===================================================================
predicted labels            ``accuracy``, ``hamming_loss``, ``balanced_accuracy``,
                            ``matthews_corrcoef``, ``cohen_kappa``,
                            ``{precision,recall,f1,specificity,jaccard}_{binary,micro,macro,
                            weighted}``, ``expected_cost`` (with a cost matrix)
scores                      ``roc_auc_{binary,macro,weighted}``,
                            ``average_precision_{binary,macro,weighted}`` (one-vs-rest),
                            ``roc_auc`` and ``average_precision`` ('binary' for two classes,
                            else 'macro'), ``top_<k>_accuracy`` (any k >= 1, e.g. ``top_3``)
probabilities               ``log_loss``, ``brier_score``, ``expected_calibration_error``
aliases                     ``precision`` ... ``jaccard`` (the '_binary' ones), ``roc_auc_ovr``,
                            ``roc_auc_ovr_weighted``, ``brier_score_loss``, ``mcc``, ``kappa``,
                            ``ece``
==========================  ===================================================================
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from verdict._params import invalid_parameter
from verdict.errors import InvalidParameterError
from verdict.metrics._agreement import (
    accuracy_score,
    balanced_accuracy_score,
    cohen_kappa_score,
    hamming_loss,
    matthews_corrcoef,
)
from verdict.metrics._calibration import expected_calibration_error
from verdict.metrics._cost_matrix import expected_cost
from verdict.metrics._prf import (
    f1_score,
    jaccard_score,
    precision_score,
    recall_score,
    specificity_score,
)
from verdict.metrics._probabilistic import brier_score_loss, log_loss
from verdict.metrics._ranking_multiclass import average_precision_score, roc_auc_score
from verdict.metrics._topk import top_k_accuracy_score

INPUTS = ("labels", "scores", "probabilities")
SET_AVERAGES = ("binary", "micro", "macro", "weighted")
RANKING_AVERAGES = ("binary", "macro", "weighted")
AUTO = "auto"  # 'binary' for two classes, else 'macro'
ALIASES = {
    **{m: f"{m}_binary" for m in ("precision", "recall", "f1", "specificity", "jaccard")},
    "roc_auc_ovr": "roc_auc_macro",
    "roc_auc_ovr_weighted": "roc_auc_weighted",
    "brier_score_loss": "brier_score",
    "mcc": "matthews_corrcoef",
    "kappa": "cohen_kappa",
    "ece": "expected_calibration_error",
}
_TOP_K = re.compile(r"top_(\d+)_accuracy")


@dataclass(frozen=True, slots=True)
class MetricInfo:
    """What one named metric is: its function, input, averages, direction and label.

    Attributes
    ----------
    name : str
        The canonical name (aliases resolved), e.g. ``'f1_macro'``.
    function : callable
        The ``verdict.metrics`` function that computes it, e.g. ``f1_score``.
    input : {'labels', 'scores', 'probabilities'}
        What it reads besides the truth: predicted labels, scores (a probability matrix
        serves; the positive column for two classes) or class probabilities.
    greater_is_better : bool
        False for losses and costs (log loss, Brier score, Hamming loss, calibration error,
        expected cost); a search maximises ``value`` or ``-value`` accordingly.
    label : str
        Its name for people, e.g. ``'macro F1'``, ``'ROC AUC'``.
    average : str or None
        The average the name fixes ('binary', 'micro', 'macro', 'weighted', or 'auto':
        binary for two classes, else macro); None when the metric has none.
    averages : tuple of str
        The averages its family accepts (the sibling names), empty when none.
    needs_costs : bool
        True for ``expected_cost``, which needs a cost matrix (see ``cost_matrix``).
    k : int
        For ``top_<k>_accuracy``: k; else 0.
    """

    name: str
    function: Callable[..., float]
    input: str
    greater_is_better: bool
    label: str
    average: str | None = None
    averages: tuple[str, ...] = ()
    needs_costs: bool = False
    k: int = 0

    def compute(
        self,
        y_true: Any,
        values: Any,
        *,
        labels: Sequence[Any],
        cost_matrix: Any = None,
        sample_weight: Any = None,
    ) -> float:
        """The metric of ``values`` against ``y_true``.

        ``values`` are predicted labels for an input of 'labels', else the probability matrix
        (columns in ``labels`` order; a 1-D array is the positive column of two classes).
        ``labels`` are all classes, sorted; the positive class of 'binary' is the last.
        ``cost_matrix`` (in ``labels`` order) is required when ``needs_costs``.
        """
        classes = np.asarray(labels)
        weight = {} if sample_weight is None else {"sample_weight": sample_weight}
        if self.input == "labels":
            return self._of_labels(y_true, values, classes, cost_matrix, weight)
        p = np.asarray(values, dtype=float)
        if p.ndim == 1:
            p = np.column_stack([1.0 - p, p])
        if self.input == "probabilities":
            return float(self.function(y_true, p, labels=classes, **weight))
        if self.k:
            scores = p[:, 1] if len(classes) == 2 else p  # binary: the positive column
            return float(self.function(y_true, scores, k=self.k, labels=classes, **weight))
        return self._ranking(y_true, p, classes, sample_weight)

    def _of_labels(
        self, y_true: Any, y_pred: Any, classes: np.ndarray, costs: Any, weight: dict
    ) -> float:
        if self.needs_costs:
            if costs is None:
                raise InvalidParameterError(
                    f"{self.name} needs a cost matrix. To fix: pass cost_matrix= (see "
                    "verdict.metrics.cost_matrix), or choose another metric."
                )
            return self.function(y_true, y_pred, cost_matrix=costs, labels=classes, **weight)
        if self.average is None:
            return float(self.function(y_true, y_pred, **weight))
        extra: dict[str, Any] = {"average": self.average, "zero_division": 0}
        if self.average == "binary":
            extra["pos_label"] = classes[-1]
        else:
            extra["labels"] = classes
        return float(self.function(y_true, y_pred, **extra, **weight))

    def _ranking(
        self, y_true: Any, p: np.ndarray, classes: np.ndarray, sample_weight: Any
    ) -> float:
        weight = {} if sample_weight is None else {"sample_weight": sample_weight}
        average = "binary" if len(classes) == 2 else self.average
        average = "macro" if average == AUTO else average
        if average == "binary":
            positive = np.asarray(y_true) == classes[-1]
            return float(self.function(positive, p[:, 1], **weight))
        if self.function is roc_auc_score:
            return float(
                roc_auc_score(
                    y_true, p, average=average, multi_class="ovr", labels=classes, **weight
                )
            )
        return _ovr_average_precision(np.asarray(y_true), p, classes, average, sample_weight)


def _ovr_average_precision(
    y: np.ndarray, p: np.ndarray, classes: np.ndarray, average: str, sample_weight: Any
) -> float:
    """Macro or weighted one-vs-rest AP over the classes present (a fold may lack one)."""
    w = np.ones(y.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
    values, support = [], []
    for column, label in enumerate(classes):
        positive = y == label
        if positive.any():
            values.append(average_precision_score(positive, p[:, column], sample_weight=w))
            support.append(w[positive].sum())
    return float(np.average(values, weights=support if average == "weighted" else None))


def _entry(name: str, function: Callable[..., float], input: str, label: str, **kw: Any):
    return MetricInfo(name, function, input, kw.pop("greater_is_better", True), label, **kw)


def _averaged(
    base: str, function: Callable[..., float], input: str, label: str, averages: tuple[str, ...]
) -> list[MetricInfo]:
    words = {"binary": "", "micro": "micro ", "macro": "macro ", "weighted": "weighted "}
    return [
        MetricInfo(f"{base}_{a}", function, input, True, words[a] + label, a, averages)
        for a in averages
    ]


def _build() -> dict[str, MetricInfo]:
    loss = {"greater_is_better": False}
    ranks, ap = RANKING_AVERAGES, "average precision"
    entries = [
        _entry("accuracy", accuracy_score, "labels", "accuracy"),
        _entry("hamming_loss", hamming_loss, "labels", "Hamming loss", **loss),
        _entry("balanced_accuracy", balanced_accuracy_score, "labels", "balanced accuracy"),
        _entry("matthews_corrcoef", matthews_corrcoef, "labels", "MCC"),
        _entry("cohen_kappa", cohen_kappa_score, "labels", "Cohen's kappa"),
        *_averaged("precision", precision_score, "labels", "precision", SET_AVERAGES),
        *_averaged("recall", recall_score, "labels", "recall", SET_AVERAGES),
        *_averaged("f1", f1_score, "labels", "F1", SET_AVERAGES),
        *_averaged("specificity", specificity_score, "labels", "specificity", SET_AVERAGES),
        *_averaged("jaccard", jaccard_score, "labels", "Jaccard", SET_AVERAGES),
        *_averaged("roc_auc", roc_auc_score, "scores", "ROC AUC", ranks),
        _entry("roc_auc", roc_auc_score, "scores", "ROC AUC", average=AUTO, averages=ranks),
        *_averaged("average_precision", average_precision_score, "scores", ap, ranks),
        _entry("average_precision", average_precision_score, "scores", ap, average=AUTO,
               averages=ranks),
        _entry("log_loss", log_loss, "probabilities", "log loss", **loss),
        _entry("brier_score", brier_score_loss, "probabilities", "Brier score", **loss),
        _entry("expected_calibration_error", expected_calibration_error, "probabilities",
               "expected calibration error", **loss),
        _entry("expected_cost", expected_cost, "labels", "expected cost", needs_costs=True,
               **loss),
    ]  # fmt: skip
    return {e.name: e for e in entries}


_CATALOGUE = _build()


def metric_names() -> list[str]:
    """The canonical names of the catalogue, sorted (``top_<k>_accuracy`` takes any k >= 1).

    Returns
    -------
    list of str
        Every name :func:`get_metric` accepts besides the aliases and ``top_<k>_accuracy``.
    """
    return sorted(_CATALOGUE)


def get_metric(name: str) -> MetricInfo:
    """The catalogue entry of a metric name (aliases such as 'mcc' or 'ece' resolved).

    Parameters
    ----------
    name : str
        A name of :func:`metric_names`, an alias, or ``top_<k>_accuracy`` (k >= 1).

    Returns
    -------
    MetricInfo

    Raises
    ------
    InvalidParameterError
        For an unknown name; the message lists the names on offer.

    Examples
    --------
    >>> get_metric("log_loss").greater_is_better
    False
    >>> get_metric("f1_macro").label
    'macro F1'
    """
    if isinstance(name, str):
        canonical = ALIASES.get(name, name)
        if canonical in _CATALOGUE:
            return _CATALOGUE[canonical]
        match = _TOP_K.fullmatch(canonical)
        if match and int(match.group(1)) >= 1:
            k = int(match.group(1))
            label = f"top-{k} accuracy"
            return MetricInfo(canonical, top_k_accuracy_score, "scores", True, label, k=k)
    names = f"{', '.join(metric_names())}, top_<k>_accuracy (aliases: {', '.join(ALIASES)})"
    fix = "pass one of these names (verdict.metrics.metric_names() lists them)"
    raise invalid_parameter("metric", name, "get_metric", f"a metric name: {names}", fix)
