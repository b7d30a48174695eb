"""Probabilistic metrics: log loss and the Brier score, on predicted class probabilities.

``log_loss`` and ``brier_score_loss`` check their inputs as scikit-learn does
(``_proba_targets``): binary, multiclass and multilabel-indicator targets, a warning (not an
error) for rows that do not sum to one. The helpers below them serve ``evaluate`` and the
calibration and cost modules, which refuse such rows: a loss computed on them measures nothing.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from verdict.errors import InvalidInputError
from verdict.metrics._proba_targets import (
    PROBA_FLOATS,
    OneHot,
    average,
    binary_targets,
    check_proba_range,
    multiclass_targets,
)
from verdict.metrics._sklearn_checks import (
    check_array,
    check_consistent_length,
    check_finite,
    check_sample_weight,
    to_numpy,
)
from verdict.metrics._validation import (
    check_flag,
    check_pos_label,
    encode,
    labels_1d,
    labels_arg,
    unique_labels,
)


@dataclass(frozen=True, slots=True)
class ProbaTargets:
    """``y_true`` as codes into ``classes`` and probabilities as an (n, k) or (n,) array."""

    codes: np.ndarray
    classes: np.ndarray
    proba: np.ndarray
    sample_weight: np.ndarray | None


def proba_array(y_proba: Any, name: str = "y_proba") -> np.ndarray:
    """Probabilities as float32/float64, 1-D or 2-D, finite and within [0, 1]."""
    p = to_numpy(y_proba, name)
    if p.dtype.kind not in "biuf":
        raise InvalidInputError(f"{name} must be numeric probabilities, got dtype {p.dtype}.")
    if p.dtype not in (np.float32, np.float64):
        p = p.astype(np.float64)
    if p.ndim not in (1, 2) or p.shape[0] == 0:
        raise InvalidInputError(
            f"{name} must be a non-empty 1-D (positive-class) or 2-D (n_samples, n_classes) "
            f"array, got shape {p.shape}."
        )
    check_finite(p, name, fix="pass finite probabilities.")
    check_proba_range(p, name=name)
    return p


def check_rows_sum_to_one(p: np.ndarray, name: str = "y_proba") -> None:
    """Refuse probability rows that do not sum to one (relative tolerance sqrt(eps))."""
    sums = p.sum(axis=1)
    tol = np.sqrt(np.finfo(p.dtype).eps)
    bad = ~np.isclose(sums, 1.0, rtol=tol)
    if bad.any():
        row = int(np.argmax(bad))
        raise InvalidInputError(
            f"{name} rows must sum to 1, but row {row} sums to {sums[row]:.6g} "
            f"({int(bad.sum())} rows in all). To fix: pass predicted probabilities "
            "(predict_proba), or normalise the scores, e.g. with a softmax."
        )


def validate_multiclass_proba(
    y_true: Any, y_proba: Any, sample_weight: Any, labels: Any
) -> ProbaTargets:
    """scikit-learn's multiclass probabilistic checks, with unnormalised rows refused."""
    p = proba_array(y_proba)
    yt = labels_1d(y_true, "y_true")
    n = check_consistent_length(y_true=yt, y_proba=p)
    w = check_sample_weight(sample_weight, n)
    classes = _classes(yt, labels_arg(labels))
    codes = encode(yt, classes)
    if p.ndim == 2 and p.shape[1] > 1:
        check_rows_sum_to_one(p)
        if classes.shape[0] != p.shape[1]:
            raise InvalidInputError(_class_count_message(classes, p.shape[1], labels is None))
    elif classes.shape[0] != 2:
        raise InvalidInputError(_class_count_message(classes, 2, labels is None))
    return ProbaTargets(codes, classes, p.reshape(n, -1) if p.ndim == 2 else p, w)


def _classes(yt: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
    if labels is None:
        classes = unique_labels(yt)
    else:
        classes = np.unique(labels)
        if classes.shape[0] != labels.shape[0] or not np.all(classes == labels):
            warnings.warn(
                f"Labels passed were {labels.tolist()}. But this function assumes labels are "
                f"ordered lexicographically. Pass the ordered labels={classes.tolist()} and "
                "ensure that the columns of y_prob correspond to this ordering.",
                UserWarning,
                stacklevel=4,
            )
        missing = encode(yt, classes) < 0
        if missing.any():
            raise InvalidInputError(
                f"y_true contains values {sorted(set(yt[missing].tolist()))} not belonging to "
                f"the passed labels {labels.tolist()}. To fix: add them to labels."
            )
    if classes.shape[0] == 1:
        if labels is None:
            raise InvalidInputError(
                f"y_true contains only one label ({classes[0]!r}). Please provide the list of "
                "all expected class labels explicitly through the labels argument."
            )
        raise InvalidInputError(
            f"The labels array needs to contain at least two labels, got {classes.tolist()}."
        )
    return classes


def _class_count_message(classes: np.ndarray, n_columns: int, inferred: bool) -> str:
    if inferred:
        return (
            f"y_true and y_proba contain different number of classes: {classes.shape[0]} vs "
            f"{n_columns}. Please provide the true labels explicitly through the labels "
            f"argument. Classes found in y_true: {classes.tolist()}"
        )
    return (
        "The number of classes in labels is different from that in y_proba "
        f"({n_columns} columns). Classes found in labels: {classes.tolist()}"
    )


def _average(values: np.ndarray, weights: np.ndarray | None, normalize: bool = True) -> float:
    if not normalize:
        return float(values.sum() if weights is None else np.dot(values, weights))
    return float(np.average(values, weights=weights))


def true_class_proba(targets: ProbaTargets) -> np.ndarray:
    """Probability given to each sample's true class."""
    p, codes = targets.proba, targets.codes
    if p.ndim == 1:
        return np.where(codes == 1, p, 1 - p)
    if p.shape[1] == 1:
        return np.where(codes == 1, p[:, 0], 1 - p[:, 0])
    return np.take_along_axis(p, codes[:, None], axis=1)[:, 0]


def log_loss(
    y_true: Any,
    y_proba: Any = None,
    *,
    normalize: bool = True,
    sample_weight: Any = None,
    labels: Any = None,
    y_pred: Any = "deprecated",
) -> float:
    """Cross-entropy (log loss) of predicted probabilities; lower is better.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_labels)
        True labels, or a 0/1 indicator matrix (multilabel: each relevant label counts).
    y_proba : array-like of shape (n_samples, n_classes) or (n_samples,)
        Probabilities, columns in sorted label order; 1-D: the probability of the greater of
        two labels. Clipped to [eps, 1 - eps] of their dtype, as in scikit-learn.
    normalize : bool, default=True
        Return the mean loss per sample; otherwise the (weighted) sum.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    labels : array-like, default=None
        The classes, when ``y_true`` lacks some of ``y_proba``'s columns.
    y_pred : array-like
        Deprecated name of ``y_proba``.

    Returns
    -------
    loss : float
    """
    check_flag("normalize", normalize, "log_loss")
    y_proba = renamed_y_pred(y_proba, y_pred)
    p = check_array(y_proba, "y_proba", dtype=PROBA_FLOATS)
    return float(onehot_log_loss(multiclass_targets(y_true, p, sample_weight, labels), normalize))


def onehot_log_loss(targets: OneHot, normalize: bool = True) -> Any:
    """Log loss of checked targets: -log of each true class's clipped probability, summed per
    row (a multilabel row sums over its relevant labels)."""
    p = targets.proba
    eps = np.finfo(p.dtype).eps
    if targets.codes is not None and p.shape[1] == 2:  # a select is cheaper than a gather
        true_p = np.where(targets.codes.astype(bool), p[:, 1], p[:, 0])
        loss = -np.log(np.clip(true_p, eps, 1 - eps))
    elif targets.codes is not None:
        true_p = p[np.arange(p.shape[0]), targets.codes]
        loss = -np.log(np.clip(true_p, eps, 1 - eps))
    else:
        mask = targets.indicator
        logs = np.log(np.clip(p[mask], eps, 1 - eps))
        rows = np.repeat(np.arange(p.shape[0]), np.count_nonzero(mask, axis=1))
        loss = -np.bincount(rows, weights=logs, minlength=p.shape[0])
    return average(loss, targets.weights, normalize)


def log_loss_from_targets(targets: ProbaTargets, normalize: bool = True) -> float:
    """Log loss of validated probabilities."""
    eps = np.finfo(targets.proba.dtype).eps
    p_true = np.clip(true_class_proba(targets), eps, 1 - eps)
    return _average(-np.log(p_true), targets.sample_weight, normalize)


def renamed_y_pred(y_proba: Any, y_pred: Any) -> Any:
    if isinstance(y_pred, str) and y_pred == "deprecated":
        if y_proba is None:
            raise InvalidInputError("y_proba is required. To fix: pass predicted probabilities.")
        return y_proba
    if y_proba is not None:
        raise InvalidInputError(
            "Cannot use both `y_pred` and `y_proba`. `y_pred` is deprecated, use `y_proba` "
            "instead. To fix: pass the probabilities once, as y_proba."
        )
    warnings.warn(
        "`y_pred` was renamed to `y_proba` in version 1.9 and will be removed in 1.11. "
        "Use `y_proba` instead.",
        FutureWarning,
        stacklevel=3,
    )
    return y_pred


def brier_score_loss(
    y_true: Any,
    y_proba: Any,
    *,
    sample_weight: Any = None,
    pos_label: Any = None,
    labels: Any = None,
    scale_by_half: bool | str = "auto",
) -> float:
    """Mean squared difference between predicted probabilities and the one-hot truth.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_labels)
        True labels, or a 0/1 indicator matrix.
    y_proba : array-like of shape (n_samples,) or (n_samples, n_classes)
        1-D: the probability of ``pos_label``. 2-D: one column per sorted class.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    pos_label : int, float, bool or str, default=None
        The positive class of a 1-D ``y_proba`` (default: 1 for {0, 1} or {-1, 1} labels,
        else the greater label).
    labels : array-like, default=None
        The classes of a 2-D ``y_proba``, when ``y_true`` lacks some.
    scale_by_half : bool or 'auto', default='auto'
        Halve the score ('auto': with two columns), so a binary score lies in [0, 1].

    Returns
    -------
    score : float
    """
    check_pos_label(pos_label, "brier_score_loss")
    check_flag("scale_by_half", scale_by_half, "brier_score_loss", ("auto",))
    p = check_array(y_proba, "y_proba", dtype=PROBA_FLOATS)
    if p.ndim == 1 or p.shape[1] == 1:
        targets = binary_targets(y_true, p, sample_weight, pos_label)
    else:
        targets = multiclass_targets(y_true, p, sample_weight, labels)
    score = average(targets.squared_errors(), targets.weights)
    half = targets.proba.shape[1] < 3 if scale_by_half == "auto" else bool(scale_by_half)
    return float(score * 0.5 if half else score)


def brier_terms(targets: ProbaTargets) -> np.ndarray:
    """Per-sample squared distance between the probability row and the one-hot truth."""
    p = targets.proba
    if p.ndim == 1 or p.shape[1] == 1:
        y = (targets.codes == 1).astype(p.dtype)
        p1 = p.reshape(-1)
        d0, d1 = (1 - y) - (1 - p1), y - p1
        return d0 * d0 + d1 * d1
    sq = np.multiply(p, p, order="C")  # row sums in C order, as sklearn sums (rounding)
    rows = np.arange(p.shape[0])
    sq[rows, targets.codes] = (1 - p[rows, targets.codes]) ** 2
    return sq.sum(axis=1)
