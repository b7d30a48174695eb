"""Boundary checks of class labels and parameters: convert once, raise one clear error, trust.

Every public metric calls these helpers before touching its kernels. They are written for speed
on large integer label arrays (no sort, no Python loop), because they run on every call. The
array checks scikit-learn makes (finiteness, lengths, sample weights) live in ``_sklearn_checks``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np

from verdict._params import BOOLEAN, InstanceOf, Options, check, invalid_parameter
from verdict.errors import InvalidInputError
from verdict.metrics._sklearn_checks import check_finite, empty_error, to_numpy

# Integer labels spanning at most this many values are handled by bincount instead of a sort.
SMALL_RANGE = 1 << 12


def labels_1d(values: Any, name: str) -> np.ndarray:
    """Return class labels as a validated 1-D array (bool, integer, integral float or string)."""
    y = to_numpy(values, name)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise InvalidInputError(
            f"{name} must be 1-D class labels, got an array of shape {y.shape}. verdict's "
            "metrics handle binary and multiclass targets, not multilabel or multioutput. "
            "To fix: pass one label per sample (for a label-indicator matrix, evaluate each "
            "column on its own)."
        )
    if y.shape[0] == 0:
        raise empty_error(y, name)
    kind = y.dtype.kind
    if kind == "f":
        _check_integral_floats(y, name)
    elif kind == "O":
        y = _object_labels(y, name)
    elif kind == "c" or kind not in "biuUS":
        raise InvalidInputError(
            f"{name} has dtype {y.dtype}, which cannot hold class labels. To fix: pass "
            "integer, boolean or string labels."
        )
    return y


def _check_integral_floats(y: np.ndarray, name: str) -> None:
    check_finite(y, name, name)
    fractional = y != np.floor(y)
    if fractional.any():
        example = y[fractional][0]
        raise InvalidInputError(
            f"{name} contains continuous values (e.g. {example!r}), but classification "
            "metrics need class labels. To fix: pass predicted classes here, or pass scores "
            "and probabilities to a ranking or probabilistic metric (y_score / y_proba)."
        )


def _object_labels(y: np.ndarray, name: str) -> np.ndarray:
    """Validate labels held in an object array; return a string or numeric array when uniform."""
    is_str = np.fromiter((isinstance(v, str) for v in y), dtype=bool, count=y.shape[0])
    if is_str.all():
        return y.astype(str)
    missing = np.fromiter(
        (v is None or (isinstance(v, float) and v != v) for v in y), dtype=bool, count=y.shape[0]
    )
    if missing.any():
        raise InvalidInputError(
            f"{name} contains missing values (None or NaN) at position "
            f"{int(np.argmax(missing))}. To fix: drop or impute rows with missing labels."
        )
    if is_str.any():
        raise InvalidInputError(
            f"{name} mixes string and number labels (e.g. {y[np.argmax(is_str)]!r} and "
            f"{y[np.argmin(is_str)]!r}). To fix: convert all labels to one type."
        )
    try:
        numeric = y.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"{name} holds objects that are not class labels ({type(y[0]).__name__}). "
            "To fix: pass integer, boolean or string labels."
        ) from exc
    _check_integral_floats(numeric, name)
    return np.asarray(y.tolist())


def check_label_types(y_true: np.ndarray, y_pred: np.ndarray) -> None:
    """Refuse comparing string labels with numeric ones, which can never match."""
    true_str = y_true.dtype.kind in "US"
    pred_str = y_pred.dtype.kind in "US"
    if true_str != pred_str:
        raise InvalidInputError(
            "Mix of label input types (string and number); Got "
            f"{np.unique(y_true)} and {np.unique(y_pred)}. y_true has "
            f"{'string' if true_str else 'numeric'} labels and y_pred has "
            f"{'string' if pred_str else 'numeric'} labels. To fix: convert both to one type."
        )


def unique_labels(*ys: np.ndarray) -> np.ndarray:
    """Sorted union of the labels present in ``ys`` (bincount for small integer ranges)."""
    if all(y.dtype.kind in "iub" for y in ys):
        lo = min(int(y.min()) for y in ys)
        hi = max(int(y.max()) for y in ys)
        dtype = np.result_type(*[y.dtype for y in ys])
        if hi - lo <= 1:  # the least and greatest labels are both present: nothing to count
            return np.asarray(sorted({lo, hi})).astype(dtype)
        if hi - lo < SMALL_RANGE:
            present = np.zeros(hi - lo + 1, dtype=bool)
            for y in ys:
                present |= np.bincount(_shift(y, lo), minlength=hi - lo + 1) > 0
            return (np.flatnonzero(present) + lo).astype(dtype)
    return np.unique(np.concatenate([np.asarray(y).ravel() for y in ys]))


def _shift(y: np.ndarray, lo: int) -> np.ndarray:
    if y.dtype.kind == "b":
        y = y.view(np.uint8)
    return y - lo if lo else y


def encode(y: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Index of each value of ``y`` in the sorted ``labels``; -1 where it is not a label."""
    if y.dtype.kind in "iub" and labels.dtype.kind in "iub" and labels.size:
        lo, hi = int(labels[0]), int(labels[-1])
        if hi - lo < SMALL_RANGE and int(y.min()) >= lo and int(y.max()) <= hi:
            table = np.full(hi - lo + 1, -1, dtype=np.intp)
            table[labels.astype(np.int64) - lo] = np.arange(labels.size)
            return table[_shift(y, lo)]
    idx = np.searchsorted(labels, y)
    idx[idx == labels.size] = 0
    found = labels[idx] == y if labels.size else np.zeros(y.shape, dtype=bool)
    return np.where(found, idx, -1).astype(np.intp, copy=False)


def equal_to(y: np.ndarray, label: Any) -> np.ndarray:
    """``y == label`` elementwise as booleans (all False when the types cannot match)."""
    if y.dtype.kind != "O" and (y.dtype.kind in "US") != isinstance(label, str):
        return np.zeros(y.shape, dtype=bool)
    return np.asarray(y == label, dtype=bool)


def check_choice(name: str, value: Any, allowed: Iterable[Any], func: str) -> None:
    """``value`` is one of ``allowed`` (compared by type as well as value)."""
    check(name, value, func, Options(*allowed))


def check_flag(name: str, value: Any, func: str, options: tuple[str, ...] = ()) -> None:
    """A boolean parameter (numpy booleans too), or one of the string ``options``."""
    check(name, value, func, BOOLEAN, *((Options(*options),) if options else ()))


# pos_label names one class, so it is a single label of the types labels may have
_LABEL = InstanceOf((Real, str, np.bool_), "a single label (int, float, bool or str)")


def check_pos_label(pos_label: Any, func: str) -> None:
    """``pos_label`` names one class: a number, bool or string (or None where allowed)."""
    check("pos_label", pos_label, func, _LABEL, None)


_ZERO_DIVISION = Options("warn", 0.0, 1.0, float("nan"))


def zero_division_value(zero_division: Any, func: str) -> float:
    """Validate ``zero_division`` ('warn', 0, 1 or nan) and return the value it stands for."""
    if isinstance(zero_division, str) and zero_division == "warn":
        return 0.0
    if isinstance(zero_division, Real) and not isinstance(zero_division, bool):
        if np.isnan(zero_division):
            return float("nan")
        if zero_division in (0, 1):
            return float(zero_division)
    raise invalid_parameter("zero_division", zero_division, func, [_ZERO_DIVISION])


def labels_arg(
    labels: Sequence[Any] | np.ndarray | None, name: str = "labels"
) -> np.ndarray | None:
    """Validate an explicit ``labels`` argument: 1-D and non-empty."""
    if labels is None:
        return None
    arr = to_numpy(labels, name)
    if arr.ndim != 1:
        raise InvalidInputError(f"{name} must be 1-D, got shape {arr.shape}.")
    if arr.size == 0:
        raise InvalidInputError(
            f"'{name}' should contain at least one label. To fix: pass the class labels to "
            "report, or leave it as None to use those present in the data."
        )
    return arr


def is_integer(value: Any) -> bool:
    """True for Python and numpy integers, but not booleans."""
    return isinstance(value, Integral) and not isinstance(value, bool)
