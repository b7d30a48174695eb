"""Where to cut a binary score: the threshold that optimises a chosen objective.

Every candidate threshold is evaluated at once from the one-sort kernel ``binary_counts``: its
cumulative (fps, tps) give the confusion matrix at each distinct score, and "predict nothing
positive" (threshold ``+inf``) is prepended. The decision rule is **positive when score >=
threshold**, the rule behind ``roc_curve``'s thresholds, so a returned threshold can be pasted
into ``y_score >= threshold`` and reproduces the reported counts exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np

from verdict._params import Interval, invalid_parameter
from verdict._results import Result
from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.metrics._ranking import (
    binary_counts,
    check_pos_label,
    positive_mask,
    scores_1d,
    weights_or_none,
)
from verdict.metrics._sklearn_checks import check_consistent_length
from verdict.metrics._validation import check_choice, labels_1d, unique_labels

OBJECTIVES = ("f1", "fbeta", "youden", "cost", "precision_at_recall", "recall_at_precision")
_FUNC = "optimal_threshold"
# Relative tolerance under which two objective values are the same value, rounded differently.
_TIE = 64 * float(np.finfo(np.float64).eps)


@dataclass(frozen=True, slots=True)
class ThresholdChoice(Result):
    """The chosen cut and what it gives on the data it was chosen on.

    ``value`` is the objective at the chosen point (for ``'cost'`` the expected cost).
    ``expected_cost`` is the average cost per sample, ``(cost_fp * fp + cost_fn * fn) / n``
    (weighted), so with the default unit costs it is the error rate; ``total_cost`` is the sum.
    ``threshold`` is ``inf`` when predicting no positive at all is best (precision is then
    reported as 0). Counts are weighted; ``n_thresholds`` is the number of candidates tried
    (the distinct scores of rows with non-zero weight, plus ``inf``).
    """

    threshold: float
    objective: str
    value: float
    expected_cost: float
    total_cost: float
    precision: float
    recall: float
    specificity: float
    f1: float
    tp: float
    fp: float
    fn: float
    tn: float
    pos_label: Any
    n_thresholds: int


@dataclass(frozen=True, slots=True)
class _Table:
    """Confusion counts at every candidate threshold (decreasing; index 0 is ``+inf``)."""

    thresholds: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    tn: np.ndarray

    @property
    def positives(self) -> float:
        return float(self.tp[-1] + self.fn[-1])

    @property
    def negatives(self) -> float:
        return float(self.fp[-1] + self.tn[-1])

    @property
    def total(self) -> float:
        return self.positives + self.negatives


def optimal_threshold(
    y_true: Any,
    y_score: Any,
    *,
    objective: str = "f1",
    beta: float = 1.0,
    cost_fp: float = 1.0,
    cost_fn: float = 1.0,
    min_recall: float | None = None,
    min_precision: float | None = None,
    pos_label: int | float | bool | str | None = None,
    sample_weight: Any = None,
) -> ThresholdChoice:
    """Choose the decision threshold of a binary score that optimises ``objective``.

    A model's default cut (0.5 on a probability) is rarely the one a task needs: when false
    positives are costly precision matters, when misses are costly recall does, and when both
    errors have a price the right cut is the one of least expected cost. All distinct scores are
    tried in one pass after a single sort, plus predicting nothing positive.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels. Unless they are {0, 1} or {-1, 1}, ``pos_label`` must be given.
    y_score : array-like of shape (n_samples,)
        Scores of the positive class (probabilities or decision values).
    objective : {'f1', 'fbeta', 'youden', 'cost', 'precision_at_recall', \
'recall_at_precision'}, default='f1'
        'f1' / 'fbeta': maximise F1 / F-beta. 'youden': maximise TPR - FPR (Youden's J).
        'cost': minimise ``cost_fp * fp + cost_fn * fn``. 'precision_at_recall': maximise
        precision subject to recall >= ``min_recall``. 'recall_at_precision': maximise recall
        subject to precision >= ``min_precision``.
    beta : float, default=1.0
        Weight of recall in 'fbeta' (beta > 1 favours recall); only used by 'fbeta'.
    cost_fp, cost_fn : float, default=1.0
        Cost of one false positive and of one false negative (non-negative, finite). They
        define the objective of 'cost' and the reported ``expected_cost`` of every objective.
    min_recall, min_precision : float in [0, 1], default=None
        The constraint of 'precision_at_recall' / 'recall_at_precision' (required there,
        refused elsewhere).
    pos_label : int, float, bool or str, default=None
        The positive class.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights; every count and cost is weighted.

    Returns
    -------
    ThresholdChoice
        The threshold (predict positive when ``y_score >= threshold``), the objective's value,
        expected cost, precision, recall, specificity, F1 and the four counts at that point.
        Ties in the objective go to the secondary criterion (recall for
        'precision_at_recall', precision for 'recall_at_precision'), then to the largest
        threshold, i.e. the fewest positive predictions.

    Raises
    ------
    InvalidInputError
        When ``y_true`` is not binary or lacks one class, or when no threshold satisfies the
        precision constraint.
    InvalidParameterError
        For an unknown objective or a missing or misplaced parameter.
    """
    beta, cost_fp, cost_fn = _check_parameters(
        objective, beta, cost_fp, cost_fn, min_recall, min_precision, pos_label
    )
    label, table = _table(y_true, y_score, pos_label, sample_weight)
    cost = cost_fp * table.fp + cost_fn * table.fn
    key, secondary, feasible = _objective(table, objective, beta, cost, min_recall, min_precision)
    best = _best(key, secondary, feasible)
    value = cost[best] / table.total if objective == "cost" else key[best]
    return _choice(table, best, objective, float(value), cost, label)


def _check_parameters(
    objective: Any,
    beta: Any,
    cost_fp: Any,
    cost_fn: Any,
    min_recall: Any,
    min_precision: Any,
    pos_label: Any,
) -> tuple[float, float, float]:
    """Validate every parameter before touching the data; return beta and the two costs."""
    check_choice("objective", objective, OBJECTIVES, _FUNC)
    check_pos_label(pos_label, _FUNC)
    beta = _positive_number("beta", beta)
    if objective != "fbeta" and beta != 1.0:
        raise InvalidParameterError(
            f"beta={beta} is only used by objective='fbeta', but objective={objective!r}. "
            "To fix: pass objective='fbeta', or leave beta at 1."
        )
    cost_fp, cost_fn = _cost("cost_fp", cost_fp), _cost("cost_fn", cost_fn)
    if objective == "cost" and cost_fp == 0 and cost_fn == 0:
        raise InvalidParameterError(
            "cost_fp and cost_fn are both 0, so every threshold costs nothing. To fix: pass "
            "the cost of a false positive and of a false negative."
        )
    _constraint("min_recall", min_recall, objective)
    _constraint("min_precision", min_precision, objective)
    return beta, cost_fp, cost_fn


_POSITIVE = Interval(Real, 0, None, closed="neither")
_COST = Interval(Real, 0, None, closed="left")
_FRACTION = Interval(Real, 0, 1, closed="both")


def _positive_number(name: str, value: Any) -> float:
    if _POSITIVE.is_satisfied_by(value):
        return float(value)
    raise invalid_parameter(name, value, _FUNC, "a finite number > 0", f"pass e.g. {name}=2.0")


def _cost(name: str, value: Any) -> float:
    if _COST.is_satisfied_by(value):
        return float(value)
    allowed = "a finite number >= 0 (the cost of one such error)"
    raise invalid_parameter(name, value, _FUNC, allowed, f"pass e.g. {name}=1.0")


_CONSTRAINED = {"min_recall": "precision_at_recall", "min_precision": "recall_at_precision"}


def _constraint(name: str, value: Any, objective: str) -> None:
    """``min_recall``/``min_precision``: required by their objective, refused by the others."""
    owner = _CONSTRAINED[name]
    if objective != owner:
        if value is not None:
            raise InvalidParameterError(
                f"{name} is only used by objective={owner!r}, but objective={objective!r}. "
                f"To fix: drop {name}, or pass objective={owner!r}."
            )
        return
    if value is None:
        raise InvalidParameterError(
            f"objective={owner!r} needs {name}. To fix: pass {name}= the smallest acceptable "
            "value, e.g. 0.9."
        )
    if not _FRACTION.is_satisfied_by(value):
        raise invalid_parameter(name, value, _FUNC, "a number in [0, 1]", f"pass e.g. {name}=0.9")


def _table(y_true: Any, y_score: Any, pos_label: Any, sample_weight: Any) -> tuple[Any, _Table]:
    """Validate the data; return the positive label and the count table."""
    y = labels_1d(y_true, "y_true")
    s = scores_1d(y_score)
    n = check_consistent_length(y_true=y, y_score=s)
    w = weights_or_none(sample_weight, n)
    if w is not None and w.min() < 0:
        raise InvalidInputError(
            "sample_weight contains negative values; a threshold cannot trade off negative "
            "counts. To fix: pass non-negative weights."
        )
    classes = unique_labels(y)
    if classes.shape[0] > 2:
        shown = ", ".join(repr(c) for c in classes[:10].tolist())
        raise InvalidInputError(
            f"y_true has {classes.shape[0]} classes ({shown}), but optimal_threshold cuts one "
            "binary score. To fix: for a multiclass decision use CostSensitiveDecision on the "
            "predicted probabilities, or binarise y_true (one class against the rest) first."
        )
    y_pos = positive_mask(y, pos_label)
    label = 1 if pos_label is None else pos_label
    counts = binary_counts(y_pos, s, w)
    if counts.tps[-1] <= 0 or counts.fps[-1] <= 0:
        missing = "positive" if counts.tps[-1] <= 0 else "negative"
        raise InvalidInputError(
            f"y_true has no {missing} samples{' with non-zero weight' if w is not None else ''} "
            f"(the positive class is {label!r}), so no threshold can be chosen. To fix: "
            "choose thresholds on data holding both classes, and check pos_label."
        )
    return label, _counts_table(counts.tps, counts.fps, counts.thresholds)


def _counts_table(tps: np.ndarray, fps: np.ndarray, thresholds: np.ndarray) -> _Table:
    tp = np.concatenate(([0.0], tps))
    fp = np.concatenate(([0.0], fps))
    return _Table(np.concatenate(([np.inf], thresholds)), tp, fp, tp[-1] - tp, fp[-1] - fp)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with 0 where ``den`` is 0 (the undefined precision of no prediction)."""
    return np.divide(num, den, out=np.zeros(num.shape), where=den > 0)


def _objective(
    t: _Table,
    objective: str,
    beta: float,
    cost: np.ndarray,
    min_recall: float | None,
    min_precision: float | None,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(key to maximise, secondary key to maximise among ties, feasibility mask)."""
    recall = t.tp / t.positives
    if objective == "f1":
        return _ratio(2 * t.tp, 2 * t.tp + t.fp + t.fn), None, None
    if objective == "fbeta":
        b2 = beta * beta
        return _ratio((1 + b2) * t.tp, (1 + b2) * t.tp + b2 * t.fn + t.fp), None, None
    if objective == "youden":
        return recall - t.fp / t.negatives, None, None
    if objective == "cost":
        return -cost, None, None
    precision = _ratio(t.tp, t.tp + t.fp)
    if objective == "precision_at_recall":
        return precision, recall, recall >= min_recall
    feasible = (precision >= min_precision) & (t.tp + t.fp > 0)
    if not feasible.any():
        best = int(np.argmax(precision))
        raise InvalidInputError(
            f"No threshold reaches precision >= {min_precision}: the highest precision is "
            f"{precision[best]:.4g} (at threshold {t.thresholds[best]:.6g}). To fix: lower "
            "min_precision, or improve the model's ranking."
        )
    return recall, precision, feasible


def _best(values: np.ndarray, secondary: np.ndarray | None, feasible: np.ndarray | None) -> int:
    """Index of the best feasible candidate: key, then secondary key, then largest threshold.

    Keys within a few rounding errors of the best count as tied (``3c + 2c`` and ``5c`` are
    the same cost), so equal choices go to the largest threshold however they were summed.
    """
    keep = np.ones(values.shape, dtype=bool) if feasible is None else feasible
    keep &= values >= _near_max(values[keep])
    if secondary is not None:
        keep &= secondary >= _near_max(secondary[keep])
    return int(np.argmax(keep))  # the first, i.e. the largest threshold


def _near_max(values: np.ndarray) -> float:
    top = float(values.max())
    return top - _TIE * float(np.abs(values).max())


def _choice(
    t: _Table, i: int, objective: str, value: float, cost: np.ndarray, label: Any
) -> ThresholdChoice:
    tp, fp, fn, tn = (float(a[i]) for a in (t.tp, t.fp, t.fn, t.tn))
    n = t.total
    return ThresholdChoice(
        threshold=float(t.thresholds[i]),
        objective=objective,
        value=value,
        expected_cost=float(cost[i] / n),
        total_cost=float(cost[i]),
        precision=tp / (tp + fp) if tp + fp > 0 else 0.0,
        recall=tp / (tp + fn),
        specificity=tn / (tn + fp),
        f1=2 * tp / (2 * tp + fp + fn),
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        pos_label=label.item() if isinstance(label, np.generic) else label,
        n_thresholds=int(t.thresholds.shape[0]),
    )
