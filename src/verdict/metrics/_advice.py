"""Which metric to report: advice from the class balance, the number of classes and the costs.

The rules follow the notes verdict was specified from: accuracy suits balanced classes and
misleads on imbalanced ones; precision matters when false positives are costly, recall when
misses are, F1 when both should be balanced; MCC suits imbalanced data; multiclass metrics are
averaged per class (macro) so that rare classes count; log loss judges the probabilities
themselves. Stated costs turn the choice into arithmetic: the expected cost is the metric and
the threshold (or the multiclass decision) is the one that minimises it.

Metric names are those ``bootstrap_ci`` accepts (scikit-learn's scorer names where they
exist): 'accuracy', 'balanced_accuracy', 'precision', 'recall', 'f1', 'specificity',
'matthews_corrcoef', 'roc_auc', 'average_precision' (PR-AUC), the macro forms 'f1_macro',
'recall_macro', 'roc_auc_ovr', 'average_precision_macro', 'log_loss' and 'brier_score'; plus
'expected_calibration_error' and 'expected_cost' (see ``CostSensitiveDecision.evaluate``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from verdict._results import Result
from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.metrics._cost_matrix import cost_matrix
from verdict.metrics._validation import (
    check_flag,
    check_pos_label,
    encode,
    labels_1d,
    unique_labels,
)

# The largest class at least this many times the smallest counts as imbalanced: at 2:1 a
# model that always predicts the majority already scores 67% accuracy in a binary task.
IMBALANCE_RATIO = 2.0
# Below this many rows in a class, any metric of that class is too noisy to trust alone.
SMALL_CLASS = 30


@dataclass(frozen=True, slots=True)
class MetricAdvice(Result):
    """The recommendation and the facts it rests on.

    ``decision`` is the call that turns scores into decisions for the chosen metric (None when
    argmax of the probabilities is already right). ``cost_asymmetry`` is the dearest mistake
    over the cheapest (binary: max(fp, fn) / min(fp, fn); multiclass: over the off-diagonal
    costs less the diagonal of their row), None without costs.
    """

    _hidden: ClassVar[tuple[str, ...]] = ("rationale", "class_shares", "labels")

    primary: str
    secondary: list[str]
    rationale: list[str]
    decision: str | None
    task: str
    n_samples: int
    n_classes: int
    labels: list[Any]
    class_shares: dict[Any, float]
    imbalance_ratio: float
    imbalanced: bool
    minority_label: Any
    positive_label: Any
    cost_asymmetry: float | None
    needs_probabilities: bool


@dataclass(frozen=True, slots=True)
class _Facts:
    labels: list[Any]
    counts: np.ndarray
    positive: Any
    costs: np.ndarray | None  # regret matrix C[i, j] - C[i, i], labels sorted
    asymmetry: float | None
    k: int
    shares: np.ndarray
    ratio: float
    imbalanced: bool

    def label(self, i: int) -> Any:
        return self.labels[i]


def recommend_metrics(
    y_true: Any,
    *,
    costs: Mapping[str, float] | Any = None,
    needs_probabilities: bool = False,
    pos_label: int | float | bool | str | None = None,
) -> MetricAdvice:
    """Recommend a primary metric, secondary metrics and a decision rule, with reasons.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        The true labels of the data the model will be judged on (at least two classes).
    costs : dict, array-like or labelled table, default=None
        What mistakes cost, in any form ``cost_matrix`` reads. Binary: ``{'fp': x, 'fn': y}``,
        the cost of one false positive and of one false negative of ``pos_label``. Any number
        of classes: a (k, k) matrix with ``C[i, j]`` = cost of predicting class j when the
        truth is class i, rows and columns in sorted label order (for two classes fp = C[0, 1]
        - C[0, 0], fn = C[1, 0] - C[1, 1] when the positive class is the greater label), or a
        DataFrame whose index (true class) and columns (predicted class) name the classes.
    needs_probabilities : bool, default=False
        True when the predicted probabilities themselves are used downstream (risk scores,
        expected values, a later decision), so they must be calibrated, not only ranked well.
    pos_label : int, float, bool or str, default=None
        Binary only: the positive class; default the greater label, as ``predict_proba`` orders
        the columns.

    Returns
    -------
    MetricAdvice
        ``primary``, ``secondary``, plain-language ``rationale`` sentences, a ``decision`` hint
        and the facts used (class shares, imbalance ratio, cost asymmetry ...).
    """
    check_flag("needs_probabilities", needs_probabilities, "recommend_metrics")
    facts = _facts(y_true, costs, pos_label)
    primary, secondary = _choose(facts, bool(needs_probabilities))
    return MetricAdvice(
        primary=primary,
        secondary=secondary,
        rationale=_rationale(facts, bool(needs_probabilities)),
        decision=_decision(facts, bool(needs_probabilities)),
        task="binary" if facts.k == 2 else "multiclass",
        n_samples=int(facts.counts.sum()),
        n_classes=facts.k,
        labels=facts.labels,
        class_shares={lab: float(s) for lab, s in zip(facts.labels, facts.shares, strict=True)},
        imbalance_ratio=facts.ratio,
        imbalanced=facts.imbalanced,
        minority_label=facts.label(int(np.argmin(facts.counts))),
        positive_label=facts.positive,
        cost_asymmetry=facts.asymmetry,
        needs_probabilities=bool(needs_probabilities),
    )


# --------------------------------------------------------------------------- facts


def _facts(y_true: Any, costs: Any, pos_label: Any) -> _Facts:
    check_pos_label(pos_label, "recommend_metrics")
    y = labels_1d(y_true, "y_true")
    classes = unique_labels(y)
    if classes.shape[0] < 2:
        raise InvalidInputError(
            f"y_true holds a single class ({classes[0]!r}); no metric can judge a classifier "
            "on it. To fix: pass the labels of data that holds every class."
        )
    counts = np.bincount(encode(y, classes), minlength=classes.shape[0]).astype(np.float64)
    labels = [c.item() if isinstance(c, np.generic) else c for c in classes]
    positive = _positive(labels, pos_label)
    regret = None if costs is None else _regret(costs, labels, positive)
    asymmetry = None if regret is None else _asymmetry(regret)
    ratio = float(counts.max() / counts.min())
    shares = counts / counts.sum()
    return _Facts(
        labels,
        counts,
        positive,
        regret,
        asymmetry,
        len(labels),
        shares,
        ratio,
        ratio >= IMBALANCE_RATIO,
    )


def _positive(labels: list[Any], pos_label: Any) -> Any:
    if len(labels) != 2:
        if pos_label is not None:
            raise InvalidParameterError(
                f"pos_label is for binary targets, but y_true has {len(labels)} classes. "
                "To fix: drop pos_label (multiclass metrics are averaged over classes)."
            )
        return None
    if pos_label is None:
        return labels[1]
    if pos_label not in labels:
        raise InvalidParameterError(
            f"pos_label={pos_label!r} is not a class of y_true ({labels}). To fix: pass one "
            "of the labels."
        )
    return pos_label


def _regret(costs: Any, labels: list[Any], positive: Any) -> np.ndarray:
    """Costs as a (k, k) matrix of extra cost over the right decision, labels sorted."""
    matrix = cost_matrix(costs, labels, pos_label=positive)
    regret = matrix - np.diagonal(matrix)[:, None]
    if regret.min() < 0:
        i, j = np.unravel_index(int(np.argmin(regret)), regret.shape)
        raise InvalidInputError(
            f"costs[{i}, {j}] < costs[{i}, {i}]: predicting {labels[j]!r} for a true "
            f"{labels[i]!r} would cost less than the right answer. To fix: give every mistake "
            "a cost at least that of the correct decision in its row."
        )
    if not (regret > 0).any():
        raise InvalidInputError(
            "costs make every mistake free (no decision costs more than the right one). "
            "To fix: state what each kind of mistake costs."
        )
    return regret


def _asymmetry(regret: np.ndarray) -> float:
    off = regret[~np.eye(regret.shape[0], dtype=bool)]
    low, high = off.min(), off.max()
    return float("inf") if low <= 0 else float(high / low)


def _fp_fn(facts: _Facts) -> tuple[float, float]:
    pos = facts.labels.index(facts.positive)
    assert facts.costs is not None
    return float(facts.costs[1 - pos, pos]), float(facts.costs[pos, 1 - pos])


# --------------------------------------------------------------------------- choice


def _choose(facts: _Facts, needs_probabilities: bool) -> tuple[str, list[str]]:
    binary = facts.k == 2
    if binary:
        base = ["matthews_corrcoef", "average_precision", "f1", "balanced_accuracy"]
        if not facts.imbalanced:
            base = ["accuracy", "f1", "roc_auc", "matthews_corrcoef"]
    else:
        base = ["f1_macro", "balanced_accuracy", "matthews_corrcoef", "average_precision_macro"]
        if not facts.imbalanced:
            base = ["accuracy", "f1_macro", "roc_auc_ovr", "balanced_accuracy"]
    if facts.costs is not None:
        base = ["expected_cost", *_cost_side(facts), *base]
    if needs_probabilities:
        base = ["log_loss", "brier_score", "expected_calibration_error", *base]
    ordered = list(dict.fromkeys(base))
    return ordered[0], ordered[1:]


def _cost_side(facts: _Facts) -> list[str]:
    """The metric that watches the dearer error: recall for misses, precision for alarms."""
    if facts.k != 2:
        return ["recall_macro"]
    fp, fn = _fp_fn(facts)
    if fn > fp:
        return ["recall"]
    if fp > fn:
        return ["precision", "specificity"]
    return []


def _decision(facts: _Facts, needs_probabilities: bool) -> str | None:
    if facts.k == 2:
        if facts.costs is not None:
            fp, fn = _fp_fn(facts)
            args = f"objective='cost', cost_fp={fp:g}, cost_fn={fn:g}"
        elif needs_probabilities:
            return None
        else:
            args = "objective='f1'" if facts.imbalanced else "objective='cost'"
        implied = facts.positive == 1 and facts.labels in ([0, 1], [-1, 1])
        pos = "" if implied else f", pos_label={facts.positive!r}"
        return f"optimal_threshold(y_valid, score_valid, {args}{pos})"
    if facts.costs is not None:
        return "CostSensitiveDecision(cost_matrix).fit(y_valid, proba_valid).predict(proba)"
    return None


# --------------------------------------------------------------------------- rationale


def _rationale(facts: _Facts, needs_probabilities: bool) -> list[str]:
    sentences = [_balance_sentence(facts)]
    sentences += _imbalance_sentences(facts) if facts.imbalanced else _balanced_sentences(facts)
    if facts.costs is not None:
        sentences += _binary_cost_sentences(facts) if facts.k == 2 else _matrix_sentences(facts)
    elif facts.k == 2:
        sentences.append(
            "No costs were given. If false positives are costly (you must be sure before "
            "acting), favour precision; if misses are costly, favour recall; F1 balances the "
            "two. Price both errors (costs={'fp': ..., 'fn': ...}) to get the threshold of "
            "least expected cost."
        )
    if needs_probabilities:
        sentences.append(
            "The probabilities themselves are used downstream, so they must be right, not only "
            "well ranked: log loss (a strictly proper score) judges them directly, the Brier "
            "score is its bounded counterpart, and the expected calibration error tells how far "
            "predicted probabilities are from observed frequencies."
        )
    sentences += _small_class_sentences(facts)
    return sentences


def _balance_sentence(facts: _Facts) -> str:
    top = int(np.argmax(facts.counts))
    low = int(np.argmin(facts.counts))
    baseline = (
        f"a model that always predicts {facts.label(top)!r} would score accuracy "
        f"{facts.shares[top]:.3f}"
    )
    kind = "binary" if facts.k == 2 else f"{facts.k}-class"
    if facts.imbalanced:
        return (
            f"The {kind} target is imbalanced: {facts.label(low)!r} makes up "
            f"{100 * facts.shares[low]:.1f}% of the rows (largest class / smallest = "
            f"{facts.ratio:.1f}), so {baseline} without learning anything."
        )
    return (
        f"The {kind} target is roughly balanced (largest class / smallest = {facts.ratio:.2f}); "
        f"{baseline}, so accuracy is meaningful here."
    )


def _imbalance_sentences(facts: _Facts) -> list[str]:
    if facts.k == 2:
        out = [
            "Accuracy misleads on imbalanced data. The Matthews correlation coefficient uses "
            "all four cells of the confusion matrix and stays near 0 for a model that ignores "
            "the rare class: the fairest single summary of the decisions.",
            "To judge the scores, prefer the area under the precision-recall curve (average "
            "precision) to ROC-AUC: the many easy negatives keep ROC-AUC high even when most "
            "positive predictions are wrong.",
        ]
        rare = facts.label(int(np.argmin(facts.counts)))
        if rare != facts.positive:
            out.append(
                f"The positive class {facts.positive!r} is the common one; precision, recall, "
                f"F1 and average precision describe the positive class, so consider "
                f"pos_label={rare!r}."
            )
        return out
    return [
        "Accuracy is dominated by the common classes. Macro averages give every class the same "
        "weight, so rare classes count as much as common ones: macro F1 weighs every class "
        "alike, balanced accuracy is the macro-averaged recall, and MCC summarises the whole "
        "confusion matrix.",
        "Read the confusion matrix per class to see which classes are mistaken for which.",
    ]


def _balanced_sentences(facts: _Facts) -> list[str]:
    if facts.k == 2:
        return [
            "With balanced classes accuracy is a fair summary; F1 shows the balance of "
            "precision and recall on the positive class, and ROC-AUC how well the scores "
            "separate the classes across all thresholds."
        ]
    return [
        "With balanced classes accuracy is a fair summary; the macro-averaged F1 and the "
        "per-class confusion matrix show whether some class is served worse than the others."
    ]


def _binary_cost_sentences(facts: _Facts) -> list[str]:
    fp, fn = _fp_fn(facts)
    trade = "Both errors cost the same, so the expected cost is the error rate times that cost."
    if fn > fp:
        trade = (
            f"A miss (false negative) costs {_ratio_text(fn, fp)} a false alarm, so recall "
            "matters more than precision: catch as many positives as possible, accepting some "
            "false positives."
        )
    elif fp > fn:
        trade = (
            f"A false positive costs {_ratio_text(fp, fn)} a miss, so precision (and "
            "specificity) matter more than recall: be sure before predicting positive."
        )
    return [
        trade,
        "The expected cost (cost_fp x FP + cost_fn x FN, per sample) is what the mistakes "
        "cost, so it is the metric. Choose the threshold that minimises it on validation data "
        "with optimal_threshold(objective='cost'), not the default 0.5 cut; for well-"
        f"calibrated probabilities the best cut is cost_fp / (cost_fp + cost_fn) = "
        f"{fp / (fp + fn):.3g}.",
    ]


def _matrix_sentences(facts: _Facts) -> list[str]:
    assert facts.costs is not None
    diagonal = np.eye(facts.k, dtype=bool)
    off = np.where(diagonal, -np.inf, facts.costs)
    i, j = np.unravel_index(int(np.argmax(off)), off.shape)
    cheapest = float(facts.costs[~diagonal].min())
    spread = (
        "every mistake costs the same, so the expected cost is the error rate times that cost"
        if facts.asymmetry == 1
        else f"the dearest mistake, predicting {facts.label(j)!r} for a true "
        f"{facts.label(i)!r}, costs {_ratio_text(off[i, j], cheapest)} the cheapest"
    )
    return [
        f"The cost matrix prices each kind of mistake: {spread}. The expected cost per sample "
        "is the metric.",
        "CostSensitiveDecision picks, for each row, the class of least expected cost instead "
        "of the most probable one; fit it on validation data to also learn per-class "
        "offsets that correct imperfect probabilities.",
    ]


def _ratio_text(high: float, low: float) -> str:
    return "infinitely more than" if low <= 0 else f"{high / low:.3g} times"


def _small_class_sentences(facts: _Facts) -> list[str]:
    small = [(facts.label(i), int(c)) for i, c in enumerate(facts.counts) if c < SMALL_CLASS]
    if not small:
        return []
    shown = ", ".join(f"{lab!r} ({n} rows)" for lab, n in small[:5])
    return [
        f"Few rows in {shown}: any metric of such a class is uncertain, so report intervals "
        "(bootstrap_ci) with the numbers and prefer a larger validation set."
    ]
