"""The threshold curves of a binary target, and the area under any curve.

``confusion_matrix_at_thresholds``, ``roc_curve``, ``precision_recall_curve`` and ``det_curve``
validate their inputs as scikit-learn does (same checks, same order, its messages first), then
read one ``BinaryCounts`` from the one-sort kernel of ``_ranking``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from verdict._params import BOOLEAN, check
from verdict.errors import InvalidInputError
from verdict.metrics._ranking import BinaryCounts, binary_counts, pr_from_counts, roc_from_counts
from verdict.metrics._score_inputs import array_of, binary_inputs, pos_label_or_default
from verdict.metrics._sklearn_checks import check_consistent_length, column_or_1d, type_of_target
from verdict.metrics._validation import check_pos_label, equal_to

F = TypeVar("F", bound=Callable[..., Any])
Curve = tuple[np.ndarray, np.ndarray, np.ndarray]


def curve_inputs(
    y_true: Any, y_score: Any, pos_label: Any, sample_weight: Any, func: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """scikit-learn's checks of a binary curve: the positive mask, the scores, the weights."""
    check_pos_label(pos_label, func)
    y = array_of(y_true, "y_true")
    kind = type_of_target(y, "y_true")
    if not (kind == "binary" or (kind == "multiclass" and pos_label is not None)):
        raise InvalidInputError(
            f"{kind} format is not supported. {func} scores one class against the rest, so "
            "y_true must be binary. To fix: pass pos_label= the class to score (for a "
            "multiclass y_true), or use roc_auc_score(multi_class='ovr')."
        )
    y_pos = equal_to(y, pos_label_or_default(pos_label, y))
    return binary_inputs(y_pos, y_score, sample_weight)


def curve_counts(
    y_true: Any, y_score: Any, pos_label: Any, sample_weight: Any, func: str
) -> tuple[BinaryCounts, np.dtype]:
    """The counts of a checked binary curve, and the dtype of ``y_score``."""
    y_pos, scores, weights = curve_inputs(y_true, y_score, pos_label, sample_weight, func)
    return binary_counts(y_pos, scores.astype(np.float64, copy=False), weights), scores.dtype


def _keyword_only(*names: str) -> Callable[[F], F]:
    """scikit-learn's FutureWarning for ``names`` passed by position (errors from 1.11)."""

    def wrap(func: F) -> F:
        @functools.wraps(func)
        def inner(y_true: Any, y_score: Any, *args: Any, **kwargs: Any) -> Any:
            if args:
                shown = ", ".join(f"{n}={a}" for n, a in zip(names, args, strict=False))
                warnings.warn(
                    f"Pass {shown} as keyword args. From version 1.11 passing these as "
                    "positional arguments will result in an error",
                    FutureWarning,
                    stacklevel=2,
                )
                kwargs.update(zip(names, args, strict=False))
            return func(y_true, y_score, **kwargs)

        return inner  # type: ignore[return-value]

    return wrap


@_keyword_only("pos_label", "sample_weight")
def confusion_matrix_at_thresholds(
    y_true: Any,
    y_score: Any,
    *,
    pos_label: int | float | bool | str | None = None,
    sample_weight: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Binary confusion-matrix counts at every distinct score, taken as a threshold.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels. Unless they are {0, 1} or {-1, 1}, ``pos_label`` must be given.
    y_score : array-like of shape (n_samples,)
        Scores of the positive class.
    pos_label : int, float, bool or str, default=None
        The positive class.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    tns, fps, fns, tps : ndarray
        Weighted true negatives, false positives, false negatives and true positives when
        predicting positive for scores >= each threshold.
    thresholds : ndarray
        Decreasing distinct scores (in ``y_score``'s dtype).
    """
    func = "confusion_matrix_at_thresholds"
    counts, dtype = curve_counts(y_true, y_score, pos_label, sample_weight, func)
    fps, tps = counts.fps, counts.tps
    return fps[-1] - fps, fps, tps[-1] - tps, tps, counts.thresholds.astype(dtype, copy=False)


def roc_curve(
    y_true: Any,
    y_score: Any,
    *,
    pos_label: int | float | bool | str | None = None,
    sample_weight: Any = None,
    drop_intermediate: bool = True,
) -> Curve:
    """Compute the Receiver Operating Characteristic curve of a binary target.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels. Unless they are {0, 1} or {-1, 1}, ``pos_label`` must be given.
    y_score : array-like of shape (n_samples,)
        Scores of the positive class (probabilities or decision values).
    pos_label : int, float, bool or str, default=None
        The positive class.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    drop_intermediate : bool, default=True
        Drop thresholds that are not corners of the curve (they do not change its area).

    Returns
    -------
    fpr, tpr : ndarray
        Increasing false and true positive rates (NaN, with a warning, when y_true lacks
        negatives or positives).
    thresholds : ndarray
        Decreasing thresholds; the first is ``np.inf``.
    """
    check("drop_intermediate", drop_intermediate, "roc_curve", BOOLEAN)
    counts, _ = curve_counts(y_true, y_score, pos_label, sample_weight, "roc_curve")
    return roc_from_counts(counts, bool(drop_intermediate))


def precision_recall_curve(
    y_true: Any,
    y_score: Any,
    *,
    pos_label: int | float | bool | str | None = None,
    sample_weight: Any = None,
    drop_intermediate: bool = False,
) -> Curve:
    """Compute precision-recall pairs at every threshold of a binary target.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels. Unless they are {0, 1} or {-1, 1}, ``pos_label`` must be given.
    y_score : array-like of shape (n_samples,)
        Scores of the positive class.
    pos_label : int, float, bool or str, default=None
        The positive class.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    drop_intermediate : bool, default=False
        Drop thresholds where the true positive count does not change on either side.

    Returns
    -------
    precision : ndarray
        Precision at each increasing threshold, then 1.
    recall : ndarray
        Decreasing recall at each threshold, then 0.
    thresholds : ndarray
        Increasing distinct scores (in ``y_score``'s dtype).
    """
    func = "precision_recall_curve"
    check("drop_intermediate", drop_intermediate, func, BOOLEAN)
    counts, dtype = curve_counts(y_true, y_score, pos_label, sample_weight, func)
    precision, recall, thresholds = pr_from_counts(counts, bool(drop_intermediate))
    return precision, recall, thresholds.astype(dtype, copy=False)


def det_curve(
    y_true: Any,
    y_score: Any,
    pos_label: int | float | bool | str | None = None,
    sample_weight: Any = None,
    drop_intermediate: bool = False,
) -> Curve:
    """Detection error tradeoff: false positive and false negative rates per threshold.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels, with both classes present. Unless they are {0, 1} or {-1, 1},
        ``pos_label`` must be given.
    y_score : array-like of shape (n_samples,)
        Scores of the positive class.
    pos_label : int, float, bool or str, default=None
        The positive class.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    drop_intermediate : bool, default=False
        Drop thresholds where the true positive count does not change on either side.

    Returns
    -------
    fpr : ndarray
        Decreasing false positive rates, from the first threshold with none.
    fnr : ndarray
        Increasing false negative rates (miss rates), up to the last threshold with none.
    thresholds : ndarray
        Increasing thresholds (float64), ``np.inf`` last when it is kept.
    """
    func = "det_curve"
    check("drop_intermediate", drop_intermediate, func, BOOLEAN)
    counts, _ = curve_counts(y_true, y_score, pos_label, sample_weight, func)
    fps = np.concatenate(([0.0], counts.fps))
    tps = np.concatenate(([0.0], counts.tps))
    thresholds = np.concatenate(([np.inf], counts.thresholds.astype(np.float64)))
    if drop_intermediate and fps.shape[0] > 2:
        keep = np.ones(tps.shape[0], dtype=bool)
        step = np.diff(tps) != 0
        keep[1:-1] = step[:-1] | step[1:]
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    if np.unique(array_of(y_true, "y_true")).shape[0] != 2:
        raise InvalidInputError(
            "Only one class is present in y_true. Detection error tradeoff curve is not "
            "defined in that case. It needs positives and negatives. To fix: evaluate on data "
            "with both classes (e.g. a stratified split)."
        )
    first = int(np.searchsorted(fps, fps[0], side="right")) - 1
    last = int(np.searchsorted(tps, tps[-1])) + 1
    kept = slice(first if first > 0 else None, last)
    fns = tps[-1] - tps
    return (
        fps[kept][::-1] / fps[-1],
        fns[kept][::-1] / tps[-1],
        thresholds[kept][::-1],
    )


def auc(x: Any, y: Any) -> float:
    """Area under a curve through the points (x, y), by the trapezoidal rule.

    Parameters
    ----------
    x : array-like of shape (n,)
        Monotonic (increasing or decreasing) x coordinates, at least two.
    y : array-like of shape (n,)
        y coordinates.

    Returns
    -------
    auc : float
    """
    xs, ys = array_of(x, "x"), array_of(y, "y")
    check_consistent_length(x=xs, y=ys)
    xs, ys = column_or_1d(xs, "x"), column_or_1d(ys, "y")
    if xs.shape[0] < 2:
        raise InvalidInputError(
            f"At least 2 points are needed to compute area under curve, but x.shape = "
            f"{xs.shape[0]}. To fix: pass the x and y of two or more points."
        )
    direction = 1
    dx = np.diff(xs)
    if np.any(dx < 0):
        if not np.all(dx <= 0):
            raise InvalidInputError(
                f"x is neither increasing nor decreasing : {xs}. The area under a curve needs "
                "its points in order. To fix: sort the points by x (e.g. x, y = x[o], y[o] "
                "with o = np.argsort(x))."
            )
        direction = -1
    return float(direction * np.trapezoid(ys, xs))
