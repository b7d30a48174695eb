"""scikit-learn's input checks for the score metrics (curves, AUC, AP, log loss, Brier ...).

The score metrics accept what scikit-learn accepts (binary, multiclass and multilabel-indicator
targets, lists, pandas objects) and refuse what it refuses, in the same order, so that the first
error a caller meets is scikit-learn's. Every message starts with scikit-learn's own words (code
matching them keeps working) and goes on in verdict's: what was wrong, and "To fix: ...".

Checks are linear passes (min, max, one comparison) rather than ``np.unique``: on a million by
twenty indicator matrix, scikit-learn's ``type_of_target`` alone costs a sort of every cell.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from numbers import Number
from typing import Any

import numpy as np

from verdict import errors
from verdict.errors import InvalidInputError, InvalidInputTypeError
from verdict.metrics._validation import to_numpy, unique_labels

ONE_D_FIX = "To fix: pass one value per sample as a 1-D array (e.g. proba[:, 1])."


def warn_undefined(message: str, stacklevel: int = 3) -> None:
    """Warn with verdict's UndefinedMetricWarning (looked up now: it may subclass sklearn's)."""
    warnings.warn(message, errors.UndefinedMetricWarning, stacklevel=stacklevel)


def array_of(values: Any, name: str) -> np.ndarray:
    """``values`` as a numpy array; bytes labels are refused as scikit-learn refuses them."""
    a = to_numpy(values, name)
    first = a.flat[0] if a.size and a.ndim == 1 else None
    if isinstance(first, bytes):
        raise InvalidInputTypeError(
            "Support for labels represented as bytes is not supported. Convert the labels to "
            f"a string or integer format. {name} holds bytes such as {first!r}. To fix: "
            "decode them (e.g. np.char.decode(y, 'utf-8')) or map them to integers."
        )
    return a


# --------------------------------------------------------------------------- target type


def target_type(y: np.ndarray, input_name: str = "y_true", name: str = "") -> str:
    """scikit-learn's ``type_of_target`` for a dense array, without sorting it.

    One of 'binary', 'multiclass', 'multilabel-indicator', 'continuous',
    'continuous-multioutput', 'multiclass-multioutput' or 'unknown'. ``input_name`` is the
    name scikit-learn's NaN message gives, ``name`` the argument verdict's explanation names.
    """
    if y.ndim == 1 and y.size and y.dtype == object:
        first = y[0]
        if isinstance(first, Sequence) and not isinstance(first, str):
            raise InvalidInputError(
                "You appear to be using a legacy multi-label data representation. Sequence of "
                "sequences are no longer supported; use a binary array or sparse matrix instead "
                "- the MultiLabelBinarizer transformer can convert to this format. To fix: "
                "pass a 0/1 indicator matrix of shape (n_samples, n_labels)."
            )
    columns = y.ndim == 2 and y.shape[1] > 1
    if columns and y.shape[0] and is_indicator(y):
        return "multilabel-indicator"
    if y.ndim not in (1, 2):
        return "unknown"
    if not min(y.shape):
        return "binary" if y.ndim == 1 else "unknown"
    if y.dtype == object and not isinstance(y.flat[0], str):
        return "unknown"
    suffix = "-multioutput" if columns else ""
    if y.dtype.kind == "f" and (np.any(y != np.trunc(y)) or not np.isfinite(y).all()):
        assert_finite(y, input_name, name)
        return "continuous" + suffix
    if columns or more_than_two_values(y):
        return "multiclass" + suffix
    return "binary"


def is_indicator(y: np.ndarray) -> bool:
    """At most two distinct values, and integers (scikit-learn's ``is_multilabel``)."""
    if y.dtype.kind == "b":
        return True
    if y.dtype.kind not in "iuf":
        return False
    if y.dtype.kind == "f" and not np.all(np.isfinite(y) & (y == np.trunc(y))):
        return False
    return not more_than_two_values(y)


def more_than_two_values(y: np.ndarray) -> bool:
    """Whether ``y`` holds three or more distinct values (two linear passes for numbers)."""
    if y.dtype.kind in "biuf":
        low, high = y.min(), y.max()
        if low == high or (y.dtype.kind in "iu" and int(high) - int(low) == 1):
            return False
        return bool(np.any((y != low) & (y != high)))
    return np.unique(y).shape[0] > 2


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


# --------------------------------------------------------------------------- arrays


def consistent_length(**arrays: np.ndarray | None) -> int:
    """All given arrays (by name, in scikit-learn's order) have one number of rows; return it."""
    given = {name: a for name, a in arrays.items() if a is not None}
    lengths = [int(a.shape[0]) for a in given.values()]
    if len(set(lengths)) > 1:
        listed = ", ".join(f"{name} has {a.shape[0]}" for name, a in given.items())
        raise InvalidInputError(
            f"Found input variables with inconsistent numbers of samples: {lengths}. {listed}. "
            "To fix: pass one entry per sample in every argument."
        )
    return lengths[0]


def column_or_1d(y: np.ndarray, name: str = "y") -> np.ndarray:
    """A 1-D array or an (n, 1) column, raveled."""
    if y.ndim == 1:
        return y
    if y.ndim == 2 and y.shape[1] == 1:
        return y.ravel()
    raise InvalidInputError(
        f"y should be a 1d array, got an array of shape {y.shape} instead. {name} must hold "
        f"one value per sample here. {ONE_D_FIX}"
    )


def assert_finite(a: np.ndarray, input_name: str = "", name: str = "") -> None:
    """scikit-learn's ``assert_all_finite``: NaN or infinity in a float array is an error.

    ``input_name`` is the name scikit-learn's message gives (often none); ``name`` the
    argument verdict's explanation names.
    """
    if a.dtype.kind not in "fc" or np.isfinite(a.sum()):
        return
    has_nan = bool(np.isnan(a).any())
    what = "NaN" if has_nan else f"infinity or a value too large for {a.dtype!r}"
    named = f"{input_name} " if input_name else ""
    explained = f"{name or input_name or 'The input'} contains {'NaN' if has_nan else 'infinity'}"
    raise InvalidInputError(
        f"Input {named}contains {what}. {explained}, but metrics need finite values. To fix: "
        "drop or impute the rows with missing values, or clip infinite scores."
    )


def label_array(y: np.ndarray, name: str = "y_true") -> np.ndarray:
    """scikit-learn's ``check_array`` of labels (any dtype): non-empty, and finite if floats."""
    if y.shape[0] == 0:
        raise _empty(y, name)
    assert_finite(y, name=name)
    return y


def _empty(a: np.ndarray, name: str) -> InvalidInputError:
    return InvalidInputError(
        f"Found array with 0 sample(s) (shape={a.shape}) while a minimum of 1 is required. "
        f"{name} is empty. To fix: pass at least one sample."
    )


def float_array(
    values: Any,
    name: str,
    *,
    ensure_2d: bool = False,
    input_name: str = "",
    floats: tuple[type, ...] = (),
    checked: bool = True,
) -> np.ndarray:
    """scikit-learn's ``check_array`` for scores: numeric, at most 2-D, non-empty, finite.

    ``floats``: the float dtypes kept as they are; any other dtype becomes the first of them.
    Without ``floats``, numbers keep their dtype (integers stay integers) as in scikit-learn.
    ``checked=False`` only converts (``column_or_1d``'s leniency: empty or NaN pass).
    """
    a = to_numpy(values, name)
    if a.dtype.kind == "c":
        raise InvalidInputError(
            f"Complex data not supported\n{a}\n{name} must hold real numbers. To fix: pass "
            "their real part (np.real) or magnitude (np.abs)."
        )
    if a.dtype.kind in "OUS":
        try:
            a = a.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(
                "dtype='numeric' is not compatible with arrays of bytes/strings.Convert your "
                f"data to numeric values explicitly instead. {name} has dtype {a.dtype}, not "
                "numbers. To fix: pass scores or probabilities as numbers."
            ) from exc
    if a.dtype.kind not in "biuf":
        raise InvalidInputError(
            f"{name} has dtype {a.dtype}, which is not numeric. To fix: pass numbers."
        )
    if floats and a.dtype not in floats:
        a = a.astype(floats[0])
    if a.ndim > 2:
        raise InvalidInputError(
            f"Found array with dim {a.ndim}. None expected <= 2. {name} must be 1-D or 2-D. "
            "To fix: pass one row per sample."
        )
    if not checked:
        return a
    if ensure_2d and a.ndim < 2:
        raise InvalidInputError(
            f"Expected 2D array, got {a.ndim}D array instead:\narray={a}.\nReshape your data "
            "either using array.reshape(-1, 1) if your data has a single feature or "
            "array.reshape(1, -1) if it contains a single sample. y_true is a multilabel "
            f"indicator matrix, so {name} must be a matrix of shape (n_samples, n_labels). To "
            "fix: pass one column of scores per label, or binary or multiclass y_true as 1-D."
        )
    if a.shape[0] == 0:
        raise _empty(a, name)
    if a.ndim == 2 and a.shape[1] == 0:
        raise InvalidInputError(
            f"Found array with 0 feature(s) (shape={a.shape}) while a minimum of 1 is "
            f"required. {name} has no columns. To fix: pass at least one column."
        )
    assert_finite(a, input_name, name)
    return a


def sample_weights(
    sample_weight: Any, n_samples: int, *, allow_all_zero: bool = False
) -> np.ndarray | None:
    """scikit-learn's ``_check_sample_weight``: None, a number or n finite weights."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, Number) and not isinstance(sample_weight, complex):
        w = np.full(n_samples, sample_weight, dtype=np.float64)
    else:
        w = float_array(sample_weight, "sample_weight", input_name="sample_weight")
        if w.ndim != 1:
            raise InvalidInputError(
                f"Sample weights must be 1D array or scalar, got {w.ndim}D array. Expected "
                f"either a scalar value or a 1D array of length {n_samples}. To fix: pass one "
                "weight per sample."
            )
        if w.shape != (n_samples,):
            raise InvalidInputError(
                f"sample_weight.shape == {w.shape}, expected {(n_samples,)}! To fix: pass one "
                "weight per sample."
            )
    if not allow_all_zero and not w.any():
        raise InvalidInputError(
            "Sample weights must contain at least one non-zero number. sample_weight is all "
            "zeros, so every sample would be ignored. To fix: give some samples a non-zero "
            "weight."
        )
    return w


def binary_inputs(
    y_pos: np.ndarray, y_score: Any, sample_weight: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """A binary curve's checks once y_true is a positive mask: lengths, 1-D, finite, weights."""
    scores = array_of(y_score, "y_score")
    weights = None if sample_weight is None else array_of(sample_weight, "sample_weight")
    consistent_length(y_true=y_pos, y_score=scores, sample_weight=weights)
    y_pos = column_or_1d(y_pos, "y_true")
    if not y_pos.shape[0]:
        label_array(y_pos)
    scores = float_array(column_or_1d(scores, "y_score"), "y_score")
    if weights is not None:
        weights = sample_weights(column_or_1d(weights, "sample_weight"), y_pos.shape[0])
    return y_pos, scores, weights


def weights_1d(sample_weight: Any) -> np.ndarray | None:
    """``column_or_1d(sample_weight)`` as scikit-learn applies it before any length check."""
    if sample_weight is None:
        return None
    w = float_array(sample_weight, "sample_weight", checked=False)
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


def equal_to(y: np.ndarray, label: Any) -> np.ndarray:
    """``y == label`` elementwise as booleans (all False when the types cannot match)."""
    if y.dtype.kind != "O" and (y.dtype.kind in "US") != isinstance(label, str):
        return np.zeros(y.shape, dtype=bool)
    return np.asarray(y == label, dtype=bool)
