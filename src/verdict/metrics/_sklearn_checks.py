"""scikit-learn's input checks, written once: every metric's boundary is built from these.

``check_array``, ``check_consistent_length``, ``assert_all_finite``, ``column_or_1d``,
``_check_sample_weight`` and ``type_of_target`` as scikit-learn 1.9 applies them: same checks,
same order, and messages that start with its exact text (code matching them keeps working),
then say in verdict's words what was wrong and "To fix: ...".

They are linear passes because a million by twenty matrix goes through them on every call:
one sum answers "all finite?", min and max (and at most one comparison) tell an indicator
matrix or more than two values apart, and no big numeric array is sorted (``np.unique``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from verdict._params import invalid_parameter
from verdict.errors import InvalidInputError, InvalidInputTypeError

MULTILABEL = "multilabel-indicator"
# Binary or multiclass labels, for callers that need not tell them apart (no pass to count).
DISCRETE = "discrete"
NUMERIC = "numeric"
_FINITE_FIX = "drop or impute the rows with missing values, or clip infinite values."
_RESHAPE_HINT = (
    "Reshape your data either using array.reshape(-1, 1) if your data has a single feature "
    "or array.reshape(1, -1) if it contains a single sample."
)

# --------------------------------------------------------------------------- conversion


def is_sparse(values: Any) -> bool:
    """A scipy sparse matrix or array (duck-typed, so that scipy is not imported for it)."""
    return hasattr(values, "toarray") and hasattr(values, "nnz")


def to_numpy(values: Any, name: str, *, sparse_ok: bool = False) -> np.ndarray:
    """``values`` as a numpy array: lists, tuples, arrays, pandas objects, and sparse matrices
    (densified) where ``sparse_ok``."""
    if values is None:
        raise InvalidInputError(f"{name} is None. To fix: pass an array-like of values.")
    if is_sparse(values):
        if sparse_ok:
            return np.asarray(values.toarray())
        raise InvalidInputError(
            f"{name} is a sparse matrix; verdict's metrics take dense 1-D labels or scores. "
            "To fix: pass a dense array (e.g. .toarray())."
        )
    if hasattr(values, "to_numpy") and not isinstance(values, np.ndarray):
        values = values.to_numpy()
    try:
        return np.asarray(values)
    except (ValueError, TypeError) as exc:  # ragged nested lists and the like
        raise InvalidInputError(
            f"{exc}. {name} could not be read as an array. To fix: pass a rectangular array-like."
        ) from exc


def as_array(
    values: Any, name: str, func: str, allowed: str, *, sparse_ok: bool = False
) -> np.ndarray:
    """scikit-learn's parameter check that ``values`` is an array-like (``allowed`` says so in
    its words), then ``to_numpy``."""
    sparse = is_sparse(values)
    if (sparse and not sparse_ok) or not (sparse or _is_array_like(values)):
        raise invalid_parameter(name, values, func, allowed, fix="pass a list or numpy array")
    return to_numpy(values, name, sparse_ok=sparse_ok)


def _is_array_like(values: Any) -> bool:
    has_length = hasattr(values, "__len__") or hasattr(values, "shape")
    return (has_length or hasattr(values, "__array__")) and not np.isscalar(values)


def _to_float(array: np.ndarray, name: str, dtype: Any = np.float64) -> np.ndarray:
    """``array.astype(dtype)``, numpy's error first, as in scikit-learn."""
    try:
        return array.astype(dtype)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"{_numpy_words(exc, array, dtype)}. {name} holds values that are not numbers "
            f"(dtype {array.dtype}). To fix: pass numbers only."
        ) from exc


def _numpy_words(exc: Exception, array: np.ndarray, dtype: Any) -> Exception:
    """numpy's error for the Python values (``'a'``, not ``np.str_('a')``), as scikit-learn,
    which converts the caller's list, shows it."""
    if array.dtype.kind in "US":
        try:
            np.asarray(array.tolist(), dtype=dtype)
        except (TypeError, ValueError) as plain:
            return plain
    return exc


# --------------------------------------------------------------------------- arrays


def sum_is_finite(array: np.ndarray) -> bool:
    """No NaN or infinity, nearly always answered by one sum (no temporary). A False may be a
    finite array whose sum overflowed: then look element by element."""
    if array.dtype.kind not in "fc":
        return True
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.add.reduce(array, axis=None)))


def check_finite(
    array: np.ndarray, name: str, input_name: str = "", *, fix: str = _FINITE_FIX
) -> None:
    """scikit-learn's ``assert_all_finite``: NaN or infinity is an error.

    ``input_name`` is the name scikit-learn's message gives ("Input y_true contains NaN.";
    often none), ``name`` the argument verdict's explanation names.
    """
    if sum_is_finite(array):
        return
    if np.isnan(array).any():
        what, found = "NaN", "NaN"
    elif np.isinf(array).any():
        what, found = f"infinity or a value too large for {array.dtype!r}", "infinity"
    else:
        return  # finite values whose sum overflowed
    named = f"{input_name} " if input_name else ""
    raise InvalidInputError(
        f"Input {named}contains {what}. {name} contains {found}, which no metric can score. "
        f"To fix: {fix}"
    )


def empty_error(array: np.ndarray, name: str) -> InvalidInputError:
    """scikit-learn's error for an array without samples."""
    return InvalidInputError(
        f"Found array with 0 sample(s) (shape={array.shape}) while a minimum of 1 is required. "
        f"{name} is empty. To fix: pass at least one sample."
    )


def _inconsistent(lengths: list[int], listed: str, fix: str) -> InvalidInputError:
    return InvalidInputError(
        f"Found input variables with inconsistent numbers of samples: {lengths}. Inputs have "
        f"different numbers of samples: {listed}. To fix: {fix}"
    )


def check_consistent_length(**arrays: np.ndarray | None) -> int:
    """scikit-learn's ``check_consistent_length`` over the named arrays, in its order; returns
    their number of rows. None and arrays of no dimension are left to the checks that follow."""
    lengths = {name: int(a.shape[0]) for name, a in arrays.items() if a is not None and a.ndim}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise _inconsistent(
            list(lengths.values()), listed, "pass one entry per sample in every argument."
        )
    return next(iter(lengths.values()), 0)


def _complex_error(array: np.ndarray, name: str, fix: str) -> InvalidInputError:
    return InvalidInputError(
        f"Complex data not supported\n{array}\n{name} holds complex numbers. To fix: {fix}"
    )


def check_array(
    values: Any,
    name: str,
    *,
    dtype: str | tuple[type, ...] | None = NUMERIC,
    ensure_2d: bool = False,
    finite: bool = True,
    min_samples: int = 1,
    input_name: str = "",
    why_2d: str = "",
) -> np.ndarray:
    """scikit-learn's ``check_array`` (dense input): at most 2-D, real, finite, non-empty.

    ``dtype``: "numeric" keeps numbers as they are (objects become float64, text is refused);
    a tuple of float types keeps those and converts anything else to the first; None keeps the
    dtype. ``finite=False`` and ``min_samples=0`` skip those checks (``column_or_1d``'s
    leniency). ``why_2d`` explains, after scikit-learn's words, why a 2-D array is needed.
    """
    a = to_numpy(values, name)
    if a.dtype.kind == "c":
        raise _complex_error(a, name, "pass their real part (np.real) or magnitude (np.abs).")
    if isinstance(dtype, tuple):
        if a.dtype not in dtype:
            a = _to_float(a, name, dtype[0])
    elif dtype == NUMERIC and a.dtype.kind == "O":
        a = _to_float(a, name)
    if ensure_2d and a.ndim < 2:
        kind = "scalar" if a.ndim == 0 else "1D"
        why = why_2d or (
            f"{name} needs one row per sample and one column per label. To fix: pass a 2-D "
            "array (n_samples, n_labels)."
        )
        raise InvalidInputError(
            f"Expected 2D array, got {kind} array instead:\narray={a}.\n{_RESHAPE_HINT} {why}"
        )
    if dtype == NUMERIC and a.dtype.kind not in "biuf":
        start = (
            "dtype='numeric' is not compatible with arrays of bytes/strings.Convert your data "
            "to numeric values explicitly instead. "
            if a.dtype.kind in "USV"
            else ""
        )
        raise InvalidInputError(
            f"{start}{name} has dtype {a.dtype}, not numbers. To fix: pass numbers (encode "
            "text labels first, e.g. as 0/1 columns)."
        )
    if a.ndim >= 3:
        raise InvalidInputError(
            f"Found array with dim {a.ndim}, while dim <= 2 is required. {name} has shape "
            f"{a.shape}. To fix: pass a 1-D or 2-D array, one row per sample."
        )
    if finite:
        check_finite(a, name, input_name)
    if min_samples:
        _check_not_empty(a, name)
    return a


def _check_not_empty(a: np.ndarray, name: str) -> None:
    if a.ndim == 0:
        raise InvalidInputTypeError(
            "Input should have at least 1 dimension i.e. satisfy `len(x.shape) > 0`, got "
            f"scalar `{a!r}` instead. {name} is a single value. To fix: pass one per sample."
        )
    if a.shape[0] < 1:
        raise empty_error(a, name)
    if a.ndim == 2 and a.shape[1] < 1:
        raise InvalidInputError(
            f"Found array with 0 feature(s) (shape={a.shape}) while a minimum of 1 is "
            f"required. {name} has no columns. To fix: pass at least one column."
        )


def column_or_1d(y: np.ndarray, name: str = "y") -> np.ndarray:
    """scikit-learn's ``column_or_1d``: a 1-D array, or an (n, 1) column raveled."""
    if y.ndim == 1:
        return y
    if y.ndim == 2 and y.shape[1] == 1:
        return y.ravel()
    raise InvalidInputError(
        f"y should be a 1d array, got an array of shape {y.shape} instead. {name} must hold "
        "one value per sample here. To fix: pass one value per sample as a 1-D array (e.g. "
        "proba[:, 1])."
    )


def check_sample_weight(
    sample_weight: Any, n_samples: int, *, allow_all_zero: bool = False
) -> np.ndarray | None:
    """scikit-learn's ``_check_sample_weight``: None, or one finite number per sample, not all
    zero unless ``allow_all_zero``. Integer weights stay integer (counts stay exact); text and
    objects become float64, as scikit-learn converts them."""
    if sample_weight is None:
        return None
    w = to_numpy(sample_weight, "sample_weight")
    if w.dtype.kind in "OUS":
        w = _to_float(w, "sample_weight")
    w = check_array(w, "sample_weight", input_name="sample_weight", min_samples=0)
    if w.ndim != 1:
        raise InvalidInputError(
            f"Sample weights must be 1D array or scalar, got {w.ndim}D array. Expected either "
            f"a scalar value or a 1D array of length {n_samples}. To fix: pass one weight per "
            "sample."
        )
    if w.shape[0] != n_samples:
        listed = f"sample_weight has {w.shape[0]} entries but there are {n_samples} samples"
        raise _inconsistent([n_samples, int(w.shape[0])], listed, "pass one weight per sample.")
    if not allow_all_zero and not w.any():
        raise InvalidInputError(
            "Sample weights must contain at least one non-zero number. sample_weight is all "
            "zeros, so every sample would be ignored. To fix: give some samples a non-zero "
            "weight."
        )
    return w


def average_weights(sample_weight: np.ndarray | None) -> np.ndarray | None:
    """Weights as ``np.average`` takes them, where scikit-learn passes them straight to it
    (their length is checked with the inputs): 1-D numbers, else numpy's TypeError."""
    if sample_weight is None:
        return None
    w = sample_weight
    if w.dtype.kind == "O":
        w = _to_float(w, "sample_weight")
    if w.ndim != 1 or w.dtype.kind not in "biuf":
        raise InvalidInputTypeError(
            "Axis must be specified when shapes of a and weights differ. sample_weight must be "
            f"a 1-D array of numbers, got shape {w.shape} and dtype {w.dtype}. To fix: pass "
            "one weight per sample."
        )
    return w


def require_same_shape(y_true: np.ndarray, y_score: np.ndarray) -> None:
    """One score per label: scikit-learn's check of the ranking metrics."""
    if y_true.shape != y_score.shape:
        raise InvalidInputError(
            f"y_true and y_score have different shape: y_true is {y_true.shape} and y_score "
            f"is {y_score.shape}. To fix: pass one score per label, in the order of y_true's "
            "columns."
        )


# --------------------------------------------------------------------------- target type


def type_of_target(
    y: np.ndarray, input_name: str = "", name: str = "", *, count: bool = True
) -> str:
    """scikit-learn's ``type_of_target`` for a dense array, without sorting it.

    One of 'binary', 'multiclass', 'multilabel-indicator', 'continuous',
    'continuous-multioutput', 'multiclass-multioutput' or 'unknown'. ``input_name`` is the name
    scikit-learn's NaN message gives, ``name`` the argument verdict's explanation names. With
    ``count=False`` one label per sample is DISCRETE (binary and multiclass are not told apart,
    and object arrays are left to ``labels_1d``, which reads them).
    """
    name = name or input_name or "y"
    columns = y.ndim == 2 and y.shape[1] > 1
    if columns and y.shape[0] and indicator_values(y) is not None:
        return MULTILABEL
    if y.dtype.kind == "c":
        raise _complex_error(y, name, "pass class labels (integers or strings).")
    first = y[0] if y.ndim and y.shape[0] else None
    reject_bytes(first, name)
    if isinstance(first, Sequence) and not isinstance(first, str):
        raise InvalidInputError(
            "You appear to be using a legacy multi-label data representation. Sequence of "
            "sequences are no longer supported; use a binary array or sparse matrix instead - "
            f"the MultiLabelBinarizer transformer can convert to this format. {name} is a "
            "sequence of sequences. To fix: binarise it with MultiLabelBinarizer into a 0/1 "
            "matrix of shape (n_samples, n_labels)."
        )
    if y.ndim not in (1, 2):
        return "unknown"
    if not min(y.shape):
        return ("binary" if count else DISCRETE) if y.ndim == 1 else "unknown"
    if y.dtype == object and not isinstance(y.flat[0], str):
        return "unknown" if count else DISCRETE
    suffix = "-multioutput" if columns else ""
    if y.dtype.kind == "f":
        check_finite(y, name, input_name)
        if np.any(y != np.trunc(y)):
            return "continuous" + suffix
    if columns:
        return "multiclass" + suffix
    if not count:
        return DISCRETE
    return "multiclass" if more_than_two_values(y) else "binary"


def reject_bytes(first: Any, name: str) -> None:
    """scikit-learn's TypeError for labels held as bytes (``first``: the first label)."""
    if isinstance(first, bytes):
        raise InvalidInputTypeError(
            "Support for labels represented as bytes is not supported. Convert the labels to "
            f"a string or integer format. {name} holds bytes such as {first!r}. To fix: decode "
            "them (e.g. np.char.decode(y, 'utf-8')) or map them to integers."
        )


def indicator_values(y: np.ndarray) -> bool | None:
    """For a label-indicator matrix (at most two distinct integral values: scikit-learn's
    ``is_multilabel`` of a 2-D array), whether its values are 0/1; None when ``y`` is none.
    Min and max first: the matrix is not sorted."""
    if y.dtype.kind == "b":
        return True
    if y.dtype.kind not in "iuf":
        return None
    if y.size == 0:
        return True
    lo, hi = y.min(), y.max()
    if y.dtype.kind == "f":
        if not (np.isfinite(lo) and np.isfinite(hi)) or lo != np.floor(lo) or hi != np.floor(hi):
            return None
        if lo != hi and not np.all((y == lo) | (y == hi)):
            return None
    elif int(hi) - int(lo) > 1 and not np.all((y == lo) | (y == hi)):
        return None
    return bool(lo >= 0 and hi <= 1)


def more_than_two_values(y: np.ndarray) -> bool:
    """Whether ``y`` holds three or more distinct values (at most two passes for numbers)."""
    kind = y.dtype.kind
    if kind == "b":
        return False
    if kind in "iuf":
        low, high = y.min(), y.max()
        if low == high or (kind in "iu" and int(high) - int(low) == 1):
            return False
        return bool(np.any((y != low) & (y != high)))
    return np.unique(y).shape[0] > 2
