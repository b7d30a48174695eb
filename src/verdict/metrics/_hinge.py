"""Hinge loss of decision values, binary or multiclass (Crammer & Singer margins).

Binary: the labels become -1 and +1 (the greater label) and each sample loses
``max(0, 1 - y * decision)``. Multiclass: the margin is the true class's decision value minus the
best other class's, and each sample loses ``max(0, 1 - margin)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from verdict.errors import InvalidInputError
from verdict.metrics._score_inputs import array_of
from verdict.metrics._sklearn_checks import check_array, check_consistent_length, column_or_1d
from verdict.metrics._validation import encode


def hinge_loss(
    y_true: Any, pred_decision: Any, *, labels: Any = None, sample_weight: Any = None
) -> float:
    """Average hinge loss (non-regularised); lower is better.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels. Binary: the greater label is the positive class.
    pred_decision : array-like of shape (n_samples,) or (n_samples, n_classes)
        Decision values (e.g. ``decision_function``), one column per sorted class when
        multiclass.
    labels : array-like, default=None
        All the classes, when ``y_true`` lacks some of ``pred_decision``'s columns.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    loss : float
    """
    y = array_of(y_true, "y_true")
    w = None if sample_weight is None else np.asarray(array_of(sample_weight, "sample_weight"))
    decision = array_of(pred_decision, "pred_decision")
    check_consistent_length(y_true=y, pred_decision=decision, sample_weight=w)
    decision = check_array(decision, "pred_decision")
    y = column_or_1d(y, "y_true")
    given = None if labels is None else array_of(labels, "labels")
    classes = np.unique(y if given is None else given)
    if classes.shape[0] > 2:
        margin = _multiclass_margin(y, decision, classes, given is not None)
    else:
        margin = _signs(y) * column_or_1d(decision, "pred_decision")
    losses = np.clip(1 - margin, 0, None)
    return float(np.average(losses, weights=w))


def _signs(y: np.ndarray) -> np.ndarray:
    """scikit-learn's LabelBinarizer(neg_label=-1) first column: +1 / -1 per sample."""
    present = np.unique(y)
    if present.shape[0] == 1:
        return np.full(y.shape[0], -1)
    positive = present[1] if present.shape[0] == 2 else present[0]
    return np.where(y == positive, 1, -1)


def _multiclass_margin(
    y: np.ndarray, decision: np.ndarray, classes: np.ndarray, labels_given: bool
) -> np.ndarray:
    n, k = y.shape[0], classes.shape[0]
    if decision.ndim <= 1:
        raise InvalidInputError(
            "The shape of pred_decision cannot be 1d arraywith a multiclass target. "
            f"pred_decision shape must be (n_samples, n_classes), that is ({n}, {k}). Got: "
            f"{decision.shape}. To fix: pass one column of decision values per class."
        )
    if k != decision.shape[1]:
        if not labels_given:
            raise InvalidInputError(
                "Please include all labels in y_true or pass labels as third argument. "
                f"pred_decision has {decision.shape[1]} columns but y_true {k} classes. To "
                "fix: pass labels= listing every class, one per column."
            )
        raise InvalidInputError(
            "The shape of pred_decision is not consistent with the number of classes. With a "
            "multiclass target, pred_decision shape must be (n_samples, n_classes), that is "
            f"({n}, {k}). Got: {decision.shape}. To fix: pass one column per label."
        )
    codes = encode(y, classes)
    if (codes < 0).any():
        unseen = np.setdiff1d(y, classes)
        raise InvalidInputError(
            f"y contains previously unseen labels: {list(unseen)}. To fix: add them to "
            "labels (and a column for each to pred_decision)."
        )
    rows = np.arange(n)
    others = decision.astype(decision.dtype if decision.dtype.kind == "f" else float)
    true_value = others[rows, codes].copy()
    others[rows, codes] = -np.inf
    return true_value - others.max(axis=1)
