"""The score metrics' compositions of scikit-learn's checks (curves, AUC, AP, log loss ...).

The score metrics accept what scikit-learn accepts (binary, multiclass and multilabel-indicator
targets, lists, pandas objects) and refuse what it refuses, in the same order, so that the first
error a caller meets is scikit-learn's. The checks themselves live in ``_sklearn_checks``; here
are the steps the score metrics share: a binary curve's inputs, an indicator ``y_true`` read as
relevance, the positive label scikit-learn infers.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from verdict import errors
from verdict.errors import InvalidInputError
from verdict.metrics._sklearn_checks import (
    check_array,
    check_consistent_length,
    check_sample_weight,
    column_or_1d,
    empty_error,
    reject_bytes,
    to_numpy,
)
from verdict.metrics._validation import unique_labels


def warn_undefined(message: str, stacklevel: int = 3) -> None:
    """Warn with verdict's UndefinedMetricWarning (looked up now: it may subclass sklearn's)."""
    warnings.warn(message, errors.UndefinedMetricWarning, stacklevel=stacklevel)


def array_of(values: Any, name: str) -> np.ndarray:
    """``values`` as a numpy array; bytes labels are refused as scikit-learn refuses them."""
    a = to_numpy(values, name)
    reject_bytes(a[0] if a.ndim == 1 and a.size else None, name)
    return a


def indicator_mask(y: np.ndarray, func: str, *, pos_label_free: bool = True) -> np.ndarray:
    """A multilabel-indicator ``y_true`` as booleans: 1 is relevant.

    With ``pos_label_free`` (no pos_label to name the positive value) the values must be
    {0, 1} or {-1, 1}, as scikit-learn requires of each column.
    """
    if y.dtype.kind == "b":
        return y
    low, high = y.min(), y.max()
    if pos_label_free and not (low >= -1 and high <= 1 and (low == 0 or high != 0)):
        values = sorted({low.item(), high.item()})
        raise InvalidInputError(
            f"y_true takes value in {{{', '.join(repr(v) for v in values)}}} and pos_label is "
            "not specified: either make y_true take value in {0, 1} or {-1, 1} or pass "
            f"pos_label explicitly. {func} reads a label-indicator y_true as 1 = relevant. "
            "To fix: pass the indicator matrix as 0/1."
        )
    return y == 1


def label_array(y: np.ndarray, name: str = "y_true") -> np.ndarray:
    """scikit-learn's ``check_array`` of labels (any dtype): non-empty, and finite if floats."""
    return check_array(y, name, dtype=None)


def binary_inputs(
    y_pos: np.ndarray, y_score: Any, sample_weight: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """A binary curve's checks once y_true is a positive mask: lengths, 1-D, finite, weights."""
    scores = array_of(y_score, "y_score")
    weights = None if sample_weight is None else array_of(sample_weight, "sample_weight")
    check_consistent_length(y_true=y_pos, y_score=scores, sample_weight=weights)
    y_pos = column_or_1d(y_pos, "y_true")
    if not y_pos.shape[0]:
        raise empty_error(y_pos, "y_true")
    scores = check_array(column_or_1d(scores, "y_score"), "y_score")
    if weights is not None:
        weights = check_sample_weight(column_or_1d(weights, "sample_weight"), y_pos.shape[0])
    return y_pos, scores, weights


def weights_1d(sample_weight: Any) -> np.ndarray | None:
    """``column_or_1d(sample_weight)`` as scikit-learn applies it before any length check."""
    if sample_weight is None:
        return None
    w = check_array(sample_weight, "sample_weight", dtype=None, finite=False, min_samples=0)
    return column_or_1d(w, "sample_weight")


# --------------------------------------------------------------------------- labels


def pos_label_or_default(pos_label: Any, y: np.ndarray) -> Any:
    """scikit-learn's ``_check_pos_label_consistency``: None means 1 for {0, 1} or {-1, 1}."""
    if pos_label is not None:
        return pos_label
    classes = unique_labels(y.ravel()) if y.size else y.ravel()
    standard = classes.size == 0 or (
        classes.dtype.kind not in "OUS"
        and any(
            classes.shape[0] <= len(ok) and bool(np.all(classes == np.asarray(ok)))
            for ok in ([0, 1], [-1, 1], [0], [-1], [1])
        )
    )
    if not standard:
        shown = ", ".join(repr(c) for c in classes.tolist())
        raise InvalidInputError(
            f"y_true takes value in {{{shown}}} and pos_label is not specified: either make "
            "y_true take value in {0, 1} or {-1, 1} or pass pos_label explicitly. Which class "
            "is positive cannot be guessed from these labels. To fix: pass pos_label= the "
            "positive class."
        )
    return 1
