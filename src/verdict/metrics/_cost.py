"""Multiclass decisions of least expected cost, from predicted probabilities and a cost matrix.

Orientation: ``cost_matrix[i, j]`` is the cost of **predicting class j when the truth is class
i** (rows are true classes, columns decisions, as in ``confusion_matrix``), so the cost of a
set of decisions is ``(confusion_matrix * cost_matrix).sum()``. Given probabilities ``p`` the
expected cost of deciding ``j`` is ``risk[j] = sum_i p[i] * C[i, j]`` (``risk = proba @ C``), and
the Bayes decision takes the ``j`` of least risk. If the probabilities are right, no other rule
has a lower expected cost; argmax is the special case of the 0-1 cost matrix.

Probabilities are seldom exactly right, so ``fit`` can learn one additive offset per class on
validation data (``argmin_j risk[j] + offset[j]``): the per-class thresholds of a multiclass
decision. It searches one class at a time, exactly (every breakpoint of the empirical cost in
that offset), and only accepts a change that lowers the empirical cost, so the fitted rule
never costs more than the plain Bayes decision on the data it was fitted on.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from typing import Any, ClassVar

import numpy as np

from verdict._params import Interval, check
from verdict._results import Result
from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.metrics._probabilistic import check_rows_sum_to_one, proba_array
from verdict.metrics._sklearn_checks import check_consistent_length, check_sample_weight, to_numpy
from verdict.metrics._validation import (
    check_flag,
    encode,
    labels_1d,
    labels_arg,
    unique_labels,
)


@dataclass(frozen=True, slots=True)
class CostDecisionResult(Result):
    """Decisions scored on labelled rows.

    ``expected_cost`` is the observed average cost per sample, ``sum_n w_n C[y_n, pred_n] /
    sum_n w_n``; ``model_expected_cost`` is the average the model itself expects from its
    probabilities, ``mean_n risk[n, pred_n]`` (equal in expectation when it is calibrated).
    ``confusion_matrix`` is over ``labels`` (rows true, columns decided, weighted).
    ``macro_f1`` averages the classes present in the truth or the decisions.
    """

    _hidden: ClassVar[tuple[str, ...]] = ("labels", "offsets")

    expected_cost: float
    total_cost: float
    model_expected_cost: float
    accuracy: float
    macro_f1: float
    confusion_matrix: np.ndarray
    labels: list[Any]
    offsets: np.ndarray


class CostSensitiveDecision:
    """Turn class probabilities into the class of minimum expected cost (Bayes decision).

    Parameters
    ----------
    cost_matrix : array-like of shape (n_classes, n_classes)
        ``cost_matrix[i, j]`` is the cost of predicting class ``j`` when the truth is class
        ``i``; finite and non-negative. The diagonal may be non-zero (a correct decision can
        have a cost, e.g. a handling fee); only cost differences between decisions matter.
    labels : array-like of shape (n_classes,), default=None
        The classes in the order of the matrix's rows and columns and of the probability
        columns. When None, ``fit`` takes the sorted labels of ``y_true`` (as ``predict_proba``
        orders them) and an unfitted rule predicts column indices.
    learn_offsets : bool, default=True
        Whether ``fit`` learns per-class offsets on the validation data; False keeps the
        plain Bayes decision (fit then only records the classes and the costs).
    max_iter : int, default=10
        Most passes of the coordinate search over the classes in ``fit``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, in the matrix's order.
    offsets_ : ndarray of shape (n_classes,)
        Learned additive offsets on the risk; zeros for the plain Bayes decision.
    bayes_cost_, fit_cost_ : float
        Average cost per sample on the fitting data of the plain Bayes decision and of the
        fitted rule (``fit_cost_ <= bayes_cost_`` always).
    n_iter_ : int
        Passes the coordinate search ran.

    Examples
    --------
    Missing a sick patient (truth 1, decided 0) costs 10, a false alarm costs 1:

    >>> rule = CostSensitiveDecision([[0, 1], [10, 0]], labels=["healthy", "sick"])
    >>> rule.predict([[0.85, 0.15], [0.95, 0.05]]).tolist()
    ['sick', 'healthy']
    """

    def __init__(
        self,
        cost_matrix: Any,
        *,
        labels: Any = None,
        learn_offsets: bool = True,
        max_iter: int = 10,
    ) -> None:
        self.cost_matrix = cost_matrix
        self.labels = labels
        self.learn_offsets = learn_offsets
        self.max_iter = max_iter

    # ------------------------------------------------------------------ estimator protocol

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters (scikit-learn's estimator protocol)."""
        return {
            "cost_matrix": self.cost_matrix,
            "labels": self.labels,
            "learn_offsets": self.learn_offsets,
            "max_iter": self.max_iter,
        }

    def set_params(self, **params: Any) -> CostSensitiveDecision:
        """Set constructor parameters; unknown names raise."""
        unknown = sorted(set(params) - set(self.get_params()))
        if unknown:
            raise InvalidParameterError(
                f"Invalid parameter(s) {unknown} for CostSensitiveDecision. To fix: use "
                f"{sorted(self.get_params())}."
            )
        for name, value in params.items():
            setattr(self, name, value)
        return self

    # ------------------------------------------------------------------ decisions

    def risk(self, proba: Any) -> np.ndarray:
        """Expected cost of each decision for each row: ``proba @ cost_matrix``, (n, k)."""
        cost = cost_matrix_array(self.cost_matrix)
        return _proba(proba, cost.shape[0]) @ cost

    def decision_function(self, proba: Any) -> np.ndarray:
        """Risk plus the learned offsets; the decision is its argmin (ties: lowest index)."""
        return self.risk(proba) + getattr(self, "offsets_", 0.0)

    def predict(self, proba: Any) -> np.ndarray:
        """The class of least expected cost for each row of probabilities.

        Parameters
        ----------
        proba : array-like of shape (n_samples, n_classes)
            Predicted probabilities, columns in the order of the cost matrix (a 1-D array of
            positive-class probabilities is accepted for two classes).

        Returns
        -------
        ndarray of shape (n_samples,)
            Class labels (column indices when no labels are known yet).
        """
        codes = np.argmin(self.decision_function(proba), axis=1)
        classes = self._classes()
        return codes if classes is None else classes[codes]

    def expected_cost(
        self, y_true: Any, proba: Any = None, *, y_pred: Any = None, sample_weight: Any = None
    ) -> float:
        """Average observed cost per sample of this rule's decisions on ``proba``, or of the
        decisions ``y_pred`` made elsewhere (argmax, another rule) under the same costs."""
        result = self.evaluate(y_true, proba, y_pred=y_pred, sample_weight=sample_weight)
        return result.expected_cost

    def evaluate(
        self, y_true: Any, proba: Any = None, *, y_pred: Any = None, sample_weight: Any = None
    ) -> CostDecisionResult:
        """Score decisions: expected cost, accuracy, macro-F1 and the confusion matrix.

        Pass ``proba`` to score this rule's own decisions, or ``y_pred`` (class labels) to
        score other decisions under the same cost matrix; ``model_expected_cost`` is NaN then.
        """
        if (proba is None) == (y_pred is None):
            raise InvalidParameterError(
                "Pass exactly one of proba (this rule decides) and y_pred (decisions made "
                "elsewhere). To fix: drop one of them."
            )
        cost = cost_matrix_array(self.cost_matrix)
        classes = self._classes_for(y_true)
        offsets = getattr(self, "offsets_", np.zeros(cost.shape[0]))
        model_cost = float("nan")
        if y_pred is None:
            score = _proba(proba, cost.shape[0]) @ cost
            pred = np.argmin(score + offsets, axis=1)
        else:
            pred = _codes(labels_1d(y_pred, "y_pred"), classes, "y_pred")
        codes, w = _targets(y_true, classes, pred.shape[0], sample_weight)
        if y_pred is None:
            model_cost = float(np.average(score[np.arange(pred.shape[0]), pred], weights=w))
        return decision_summary(codes, pred, cost, classes, w, model_cost, offsets)

    # ------------------------------------------------------------------ fitting

    def fit(self, y_true: Any, proba: Any, *, sample_weight: Any = None) -> CostSensitiveDecision:
        """Record the classes and, if ``learn_offsets``, learn per-class offsets.

        Use held-out (validation) data: offsets learned on the model's training rows correct
        nothing. The empirical cost after fitting is never above the plain Bayes decision's.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels of the validation rows.
        proba : array-like of shape (n_samples, n_classes)
            The model's predicted probabilities for those rows.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.

        Returns
        -------
        self
        """
        cost = cost_matrix_array(self.cost_matrix)
        check_flag("learn_offsets", self.learn_offsets, "CostSensitiveDecision")
        max_iter = _max_iter(self.max_iter)
        classes = self._classes_for(y_true, fitting=True)
        p = _proba(proba, cost.shape[0])
        codes, w = _targets(y_true, classes, p.shape[0], sample_weight)
        w = np.ones(p.shape[0]) if w is None else w.astype(np.float64)
        risk = p @ cost
        offsets = np.zeros(cost.shape[0])
        bayes = _mean_cost(risk, offsets, codes, cost, w)
        n_iter = 0
        if self.learn_offsets:
            offsets, n_iter = _coordinate_search(risk, codes, cost, w, max_iter)
        fitted = _mean_cost(risk, offsets, codes, cost, w)
        if not fitted < bayes:  # guard the guarantee against rounding
            offsets, fitted = np.zeros(cost.shape[0]), bayes
        self.classes_ = classes
        self.offsets_ = offsets
        self.bayes_cost_, self.fit_cost_, self.n_iter_ = bayes, fitted, n_iter
        return self

    # ------------------------------------------------------------------ helpers

    def _classes(self) -> np.ndarray | None:
        if hasattr(self, "classes_"):
            return self.classes_
        return _labels(self.labels, cost_matrix_array(self.cost_matrix).shape[0])

    def _classes_for(self, y_true: Any, fitting: bool = False) -> np.ndarray:
        """The classes to score ``y_true`` against: fitted, given, or the sorted labels."""
        k = cost_matrix_array(self.cost_matrix).shape[0]
        if not fitting and hasattr(self, "classes_"):
            return self.classes_
        given = _labels(self.labels, k)
        if given is not None:
            return given
        found = unique_labels(labels_1d(y_true, "y_true"))
        if found.shape[0] != k:
            raise InvalidInputError(
                f"y_true holds {found.shape[0]} classes ({found.tolist()[:10]}) but the cost "
                f"matrix is {k} x {k}, so the classes cannot be matched to its rows. To fix: "
                "pass labels= the classes in the matrix's order."
            )
        return found


def cost_matrix_array(cost_matrix: Any, name: str = "cost_matrix") -> np.ndarray:
    """Validate a cost matrix: square, at least 2 x 2, finite and non-negative; float64."""
    c = to_numpy(cost_matrix, name)
    if c.dtype.kind not in "biuf":
        raise InvalidInputError(
            f"{name} must hold numbers, got dtype {c.dtype}. To fix: pass a numeric matrix."
        )
    if c.ndim != 2 or c.shape[0] != c.shape[1] or c.shape[0] < 2:
        raise InvalidInputError(
            f"{name} must be a square matrix of at least 2 x 2 (one row and one column per "
            f"class), got shape {c.shape}. To fix: pass C[i, j] = cost of predicting class j "
            "when the truth is class i."
        )
    c = c.astype(np.float64)
    if not np.isfinite(c).all():
        raise InvalidInputError(f"{name} contains NaN or infinity. To fix: pass finite costs.")
    if c.min() < 0:
        i, j = np.unravel_index(int(np.argmin(c)), c.shape)
        raise InvalidInputError(
            f"{name} has a negative cost ({c[i, j]:g} at [{i}, {j}]). To fix: express gains "
            "as smaller costs; shift a row by a constant if needed (that changes no decision)."
        )
    return c


def _labels(labels: Any, k: int) -> np.ndarray | None:
    arr = labels_arg(labels)
    if arr is None:
        return None
    if arr.shape[0] != k or np.unique(arr).shape[0] != k:
        raise InvalidInputError(
            f"labels must name each of the cost matrix's {k} classes once, got "
            f"{arr.tolist()}. To fix: pass {k} distinct labels in the matrix's order."
        )
    return arr


def _max_iter(value: Any) -> int:
    rounds = Interval(Integral, 1, None, closed="left")
    fix = "pass e.g. max_iter=10"
    return int(check("max_iter", value, "CostSensitiveDecision", rounds, fix=fix))


def _proba(proba: Any, k: int) -> np.ndarray:
    """Probabilities as (n, k) rows summing to one; a 1-D positive-class column when k is 2."""
    p = proba_array(proba, "proba")
    if p.ndim == 1:
        if k != 2:
            raise InvalidInputError(
                f"proba is 1-D but the cost matrix has {k} classes. To fix: pass the "
                f"(n_samples, {k}) probability matrix, e.g. predict_proba(X)."
            )
        p = np.column_stack([1.0 - p, p])
    if p.shape[1] != k:
        raise InvalidInputError(
            f"proba has {p.shape[1]} columns but the cost matrix has {k} classes. To fix: "
            "pass one probability column per class, in the matrix's order."
        )
    check_rows_sum_to_one(p, "proba")
    return p.astype(np.float64, copy=False)


def _targets(
    y_true: Any, classes: np.ndarray, n: int, sample_weight: Any
) -> tuple[np.ndarray, np.ndarray | None]:
    """``y_true`` as column indices into ``classes``; validated non-negative weights."""
    y = labels_1d(y_true, "y_true")
    check_consistent_length(y_true=y, proba=np.empty(n))
    w = check_sample_weight(sample_weight, y.shape[0])
    if w is not None and w.min() < 0:
        raise InvalidInputError("sample_weight must be non-negative. To fix: pass weights >= 0.")
    return _codes(y, classes, "y_true"), w


def _codes(y: np.ndarray, classes: np.ndarray, name: str) -> np.ndarray:
    """Column index of each label of ``y`` in ``classes`` (which need not be sorted)."""
    order = np.argsort(classes, kind="stable")
    sorted_classes = classes[order]
    codes = np.full(y.shape[0], -1)
    if (y.dtype.kind in "US") == (sorted_classes.dtype.kind in "US"):
        codes = encode(y, sorted_classes)
    if (codes < 0).any():
        raise InvalidInputError(
            f"{name} contains {y[codes < 0][0].item()!r}, which is not one of the classes "
            f"{classes.tolist()}. To fix: pass labels= every class, in the cost matrix's order."
        )
    return order[codes]


def _mean_cost(
    risk: np.ndarray, offsets: np.ndarray, codes: np.ndarray, cost: np.ndarray, w: np.ndarray
) -> float:
    pred = np.argmin(risk + offsets, axis=1)
    return float(np.dot(w, cost[codes, pred]) / w.sum())


def _coordinate_search(
    risk: np.ndarray, codes: np.ndarray, cost: np.ndarray, w: np.ndarray, max_iter: int
) -> tuple[np.ndarray, int]:
    """Cyclic exact line search over each class's offset; returns offsets and passes run."""
    offsets = np.zeros(cost.shape[0])
    current = _mean_cost(risk, offsets, codes, cost, w)
    for n_iter in range(1, max_iter + 1):
        improved = False
        for j in range(cost.shape[0]):
            candidate = offsets.copy()
            candidate[j], pred = _best_offset(risk, offsets, j, codes, cost, w)
            value = float(np.dot(w, cost[codes, pred]) / w.sum())
            if value < current:
                offsets, current, improved = candidate, value, True
        if not improved:
            return offsets, n_iter
    return offsets, max_iter


def _best_offset(
    risk: np.ndarray,
    offsets: np.ndarray,
    j: int,
    codes: np.ndarray,
    cost: np.ndarray,
    w: np.ndarray,
) -> tuple[float, np.ndarray]:
    """The offset of class ``j`` (others fixed) of least empirical cost, mid-way in its interval,
    and the decisions it gives.

    Row n decides ``j`` while ``offset_j < t_n = min_{l != j}(risk + offset)_l - risk_nj``,
    otherwise its best other class ``o_n``; the cost is a step function of ``offset_j`` with
    steps at the ``t_n``, so sorting them evaluates every interval at once.
    """
    others = risk + offsets
    others[:, j] = np.inf
    other = np.argmin(others, axis=1)
    rows = np.arange(risk.shape[0])
    t = others[rows, other] - risk[:, j]
    order = np.argsort(t)  # ties need no order: costs are read at the end of each group
    t_sorted = t[order]
    switch = (w * (cost[codes, other] - cost[codes, j]))[order]  # cost change when n leaves j
    steps = np.cumsum(switch)
    ends = np.append(np.flatnonzero(t_sorted[1:] != t_sorted[:-1]), t_sorted.shape[0] - 1)
    totals = np.concatenate(([0.0], steps[ends]))  # below all breakpoints, then past each
    best = int(np.argmin(totals))
    if best == 0:
        offset = float(t_sorted[0] - 1.0 - abs(t_sorted[0]))
    elif best == ends.shape[0]:
        offset = float(t_sorted[-1] + 1.0 + abs(t_sorted[-1]))
    else:
        offset = float(0.5 * (t_sorted[ends[best - 1]] + t_sorted[ends[best]]))
    return offset, np.where(t > offset, j, other)


def decision_summary(
    codes: np.ndarray,
    pred: np.ndarray,
    cost: np.ndarray,
    classes: np.ndarray,
    w: np.ndarray | None,
    model_cost: float,
    offsets: np.ndarray,
) -> CostDecisionResult:
    """Expected cost, accuracy, macro-F1 and the confusion matrix of decided codes."""
    k = cost.shape[0]
    cm = np.bincount(codes * k + pred, weights=w, minlength=k * k).reshape(k, k)
    if w is not None and w.dtype.kind in "biu":
        cm = cm.astype(np.int64)
    total = float(cm.sum())
    tp = np.diagonal(cm).astype(np.float64)
    denom = cm.sum(axis=0) + cm.sum(axis=1)  # 2tp + fp + fn
    present = denom > 0
    f1 = 2 * tp[present] / denom[present]
    total_cost = float((cm * cost).sum())
    return CostDecisionResult(
        expected_cost=total_cost / total,
        total_cost=total_cost,
        model_expected_cost=model_cost,
        accuracy=float(tp.sum() / total),
        macro_f1=float(f1.mean()),
        confusion_matrix=cm,
        labels=classes.tolist(),
        offsets=np.asarray(offsets, dtype=np.float64),
    )
