"""The typed result of ``evaluate``: every metric the inputs allow, per class and averaged."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from verdict._results import plain
from verdict.metrics._intervals import ConfidenceInterval

_AVERAGED = (
    "precision",
    "recall",
    "f1",
    "specificity",
    "jaccard",
    "roc_auc",
    "average_precision",
)


@dataclass(frozen=True, slots=True)
class RocCurve:
    """ROC curve of one class against the rest (scikit-learn's ``roc_curve`` arrays)."""

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray


@dataclass(frozen=True, slots=True)
class PrecisionRecallCurve:
    """Precision-recall curve of one class (scikit-learn's ``precision_recall_curve`` arrays)."""

    precision: np.ndarray
    recall: np.ndarray
    thresholds: np.ndarray


@dataclass(frozen=True, slots=True)
class ClassMetrics:
    """One class taken one-vs-rest. Fields are None when the inputs do not allow them."""

    label: Any
    support: float
    precision: float | None = None
    recall: float | None = None
    f1: float | None = None
    specificity: float | None = None
    jaccard: float | None = None
    roc_auc: float | None = None
    average_precision: float | None = None


@dataclass(frozen=True)
class Evaluation:
    """Everything ``evaluate`` measured. Averages are dicts keyed by 'micro', 'macro',
    'weighted' (and 'binary' for two classes, the positive class being ``labels[-1]``;
    'samples' for a multilabel task, whose ``per_class`` entries are its labels).

    Hard labels give the count metrics; scores add ranking metrics and curves; probabilities
    add log loss and the Brier score. Absent metrics are None, never a made-up number.
    With ``evaluate(ci=True)``, ``intervals`` maps each scalar metric ('accuracy',
    'f1_macro', 'roc_auc_binary', 'top_3_accuracy' ...) to its ``ConfidenceInterval``, and
    the ``interval_*`` fields record how they were made (method, confidence, resamples, seed).
    """

    task: str
    labels: list[Any]
    n_samples: int
    weighted: bool
    per_class: list[ClassMetrics]
    confusion_matrix: np.ndarray | None = None
    accuracy: float | None = None
    balanced_accuracy: float | None = None
    matthews_corrcoef: float | None = None
    cohen_kappa: float | None = None
    hamming_loss: float | None = None
    precision: dict[str, float] = field(default_factory=dict)
    recall: dict[str, float] = field(default_factory=dict)
    f1: dict[str, float] = field(default_factory=dict)
    specificity: dict[str, float] = field(default_factory=dict)
    jaccard: dict[str, float] = field(default_factory=dict)
    roc_auc: dict[str, float] = field(default_factory=dict)
    average_precision: dict[str, float] = field(default_factory=dict)
    top_k_accuracy: dict[int, float] = field(default_factory=dict)
    log_loss: float | None = None
    brier_score: float | None = None
    coverage_error: float | None = None
    label_ranking_average_precision: float | None = None
    label_ranking_loss: float | None = None
    roc_curves: dict[Any, RocCurve] = field(default_factory=dict, repr=False)
    pr_curves: dict[Any, PrecisionRecallCurve] = field(default_factory=dict, repr=False)
    intervals: dict[str, ConfidenceInterval] = field(default_factory=dict)
    interval_method: str | None = None
    interval_confidence: float | None = None
    interval_resamples: int | None = None
    interval_seed: int | None = None

    @property
    def positive_label(self) -> Any:
        """The positive class of a binary task (the greater label, as in predict_proba)."""
        return self.labels[-1] if self.task == "binary" else None

    def interval(self, name: str) -> ConfidenceInterval | None:
        """The interval of a metric by its key ('f1_macro', 'accuracy' ...), if computed."""
        return self.intervals.get(name)

    def summary_key(self, name: str) -> str:
        """The interval key of a ``summary()`` entry: averaged metrics get their average."""
        if name in _AVERAGED:
            return f"{name}_{'binary' if self.task == 'binary' else 'macro'}"
        return name

    def summary(self) -> dict[str, float]:
        """Headline numbers, flat: the binary or macro averages and the whole-table scores."""
        key = "binary" if self.task == "binary" else "macro"
        flat: dict[str, float | None] = {
            "accuracy": self.accuracy,
            "balanced_accuracy": self.balanced_accuracy,
            "precision": self.precision.get(key),
            "recall": self.recall.get(key),
            "f1": self.f1.get(key),
            "specificity": self.specificity.get(key),
            "matthews_corrcoef": self.matthews_corrcoef,
            "cohen_kappa": self.cohen_kappa,
            "roc_auc": self.roc_auc.get(key),
            "average_precision": self.average_precision.get(key),
            "log_loss": self.log_loss,
            "brier_score": self.brier_score,
            "coverage_error": self.coverage_error,
            "label_ranking_average_precision": self.label_ranking_average_precision,
            "label_ranking_loss": self.label_ranking_loss,
        }
        return {name: value for name, value in flat.items() if value is not None}

    def to_dict(self, *, curves: bool = False) -> dict[str, Any]:
        """Plain Python types, JSON-ready; curves are included only when asked (they are long)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in ("roc_curves", "pr_curves") and not curves:
                continue
            out[f.name] = plain(getattr(self, f.name))
        return out

    def to_json(self, *, curves: bool = False, indent: int | None = 2) -> str:
        """JSON text; NaN (an undefined metric) is written as null."""
        return json.dumps(self.to_dict(curves=curves), indent=indent, allow_nan=False)

    def __str__(self) -> str:
        lines = [f"{self.task} evaluation of {self.n_samples} samples, labels {self.labels}"]
        for name, value in self.summary().items():
            ci = self.intervals.get(self.summary_key(name))
            shown = f"{value:.4f}" if ci is None else f"{value:.4f} [{ci.low:.4f}, {ci.high:.4f}]"
            lines.append(f"  {name:<20} {shown}")
        if self.intervals:
            lines.append(f"  ({self.interval_description()})")
        if self.per_class:
            lines.append(
                "  per class: "
                + ", ".join(
                    f"{c.label}: f1={_fmt(c.f1)} auc={_fmt(c.roc_auc)} n={c.support:g}"
                    for c in self.per_class
                )
            )
        return "\n".join(lines)

    def interval_description(self) -> str:
        """E.g. '95% percentile bootstrap, 1000 resamples, seed 0'."""
        if not self.intervals:
            return "no intervals"
        seed = "" if self.interval_seed is None else f", seed {self.interval_seed}"
        return (
            f"{self.interval_confidence * 100:g}% {self.interval_method} bootstrap, "
            f"{self.interval_resamples} resamples{seed}"
        )

    def __rich__(self) -> Any:
        from verdict.metrics.evaluation._table import evaluation_tables  # rich only when shown

        return evaluation_tables(self)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
