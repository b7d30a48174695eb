"""Boundary checks for the logistic estimators: parameters, X, y, sample and class weights.

Every error names the argument, says what was wrong and ends with how to fix it.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from verdict._params import BOOLEAN, Constraint, InstanceOf, Interval, Satisfies, StrOptions, check
from verdict.errors import InvalidInputError

SOLVER_NAMES = ("lbfgs", "newton-cg")


def _is_real(value) -> bool:
    """A real number that is not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_int(value) -> bool:
    """An integer that is not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


# The constructor parameters of the logistic estimators: what each may be, and the fix.
PARAMETERS: dict[str, tuple[tuple[Constraint | None, ...], str]] = {
    "C": ((Interval(numbers.Real, 0, None, closed="right"),), "pass e.g. C=1.0"),
    "tol": ((Interval(numbers.Real, 0, None, closed="left"),), "pass e.g. tol=1e-4"),
    "max_iter": ((Interval(numbers.Integral, 1, None, closed="left"),), "pass e.g. max_iter=100"),
    "solver": ((StrOptions(*SOLVER_NAMES),), "use 'lbfgs'"),
    "fit_intercept": ((BOOLEAN,), "pass True or False"),
    "warm_start": ((BOOLEAN,), "pass True or False"),
    "verbose": ((Interval(numbers.Integral, 0, None, closed="left"),), "pass 0 or 1"),
    "class_weight": (
        (InstanceOf(dict), StrOptions("balanced"), None),
        "map each class to a weight",
    ),
    "n_jobs": (
        (Satisfies(lambda v: _is_int(v) and v != 0, "a non-zero int"), None),
        "pass e.g. n_jobs=-1 or None",
    ),
}


def check_params(est) -> None:
    """Check the constructor parameters shared by the logistic estimators."""
    for name, (allowed, fix) in PARAMETERS.items():
        if hasattr(est, name):  # only the one-vs-rest model has n_jobs
            check(name, getattr(est, name), type(est).__name__, *allowed, fix=fix)


def _check_finite(X, name: str = "X") -> None:
    """Raise when ``X`` holds NaN or infinity."""
    values = X.data if sp.issparse(X) else X
    if np.isfinite(values.sum()) or np.isfinite(values).all():
        return
    n_nan = int(np.isnan(values).sum())
    n_inf = int(np.isinf(values).sum())
    raise InvalidInputError(
        f"Input {name} contains {n_nan} NaN and {n_inf} infinite (inf) value(s); a logistic "
        f"model needs finite features. To fix: impute or drop the missing values (e.g. "
        f"sklearn.impute.SimpleImputer in a Pipeline) and clip or drop infinite ones."
    )


def check_features(est, X, *, reset: bool):
    """Validate ``X`` for prediction (``reset=False``): CSR or dense float, finite."""
    X = validate_data(
        est, X, reset=reset, accept_sparse="csr", dtype=[np.float64, np.float32],
        ensure_all_finite=False,
    )  # fmt: skip
    _check_finite(X)
    return X


def check_training_data(est, X, y):
    """Validate training data; return ``X``, the classes and the integer class codes of ``y``."""
    X, y = validate_data(
        est, X, y, accept_sparse="csr", dtype=[np.float64, np.float32], order="C",
        ensure_all_finite=False,
    )  # fmt: skip
    _check_finite(X)
    check_classification_targets(y)
    classes, codes = np.unique(y, return_inverse=True)
    if classes.size < 2:
        raise InvalidInputError(
            f"y contains only one class ({_key(classes[0])!r}); a classifier needs at least two "
            f"classes. To fix: check the labels or the split that produced y (a stratified "
            f"split keeps every class)."
        )
    return X, classes, codes.astype(np.intp, copy=False)


def check_sample_weight(sample_weight, n_samples: int) -> np.ndarray:
    """Validated sample weights as float64 (ones when None)."""
    if sample_weight is None:
        return np.ones(n_samples)
    sw = np.asarray(sample_weight, dtype=np.float64)
    if sw.ndim != 1 or sw.shape[0] != n_samples:
        raise InvalidInputError(
            f"sample_weight has shape {sw.shape} but X has {n_samples} samples. To fix: pass "
            f"one weight per row of X, a 1-d array of shape ({n_samples},)."
        )
    if not np.isfinite(sw).all():
        raise InvalidInputError(
            "sample_weight contains NaN or infinite values. To fix: pass finite weights."
        )
    if (sw < 0).any():
        raise InvalidInputError(
            f"sample_weight contains {int((sw < 0).sum())} negative value(s) (min "
            f"{sw.min():g}). To fix: pass non-negative weights (0 drops a sample)."
        )
    if not sw.any():
        raise InvalidInputError(
            "sample_weight is zero for every sample. To fix: give at least one sample a "
            "positive weight."
        )
    return sw


def _key(label):
    """A dict key comparable with user keys: numpy scalars become Python scalars."""
    return label.item() if isinstance(label, np.generic) else label


def class_weight_dict(class_weight: dict, classes: np.ndarray) -> np.ndarray:
    """Per-class weights from a ``{label: weight}`` dict (1 for labels not listed)."""
    known = {_key(c): i for i, c in enumerate(classes)}
    unknown = [k for k in class_weight if _key(k) not in known]
    if unknown:
        raise InvalidInputError(
            f"class_weight has key(s) {unknown!r} that are not classes of y "
            f"{[_key(c) for c in classes]!r}. To fix: use only labels present in y as keys."
        )
    weights = np.ones(classes.size)
    for label, value in class_weight.items():
        if not (_is_real(value) and np.isfinite(value) and value >= 0):
            raise InvalidInputError(
                f"class_weight[{label!r}] is {value!r}. To fix: use finite weights >= 0."
            )
        weights[known[_key(label)]] = value
    return weights


def balanced_weights(codes: np.ndarray, sample_weight: np.ndarray, n_classes: int) -> np.ndarray:
    """scikit-learn's 'balanced' weights ``total / (n_classes * weighted class count)``."""
    counts = np.bincount(codes, weights=sample_weight, minlength=n_classes)
    with np.errstate(divide="ignore"):
        return np.where(counts > 0, counts.sum() / (n_classes * counts), 0.0)


def check_class_totals(total: np.ndarray, classes: np.ndarray) -> None:
    """Raise when some class has zero total weight: it could not be learned."""
    empty = classes[total <= 0]
    if empty.size:
        raise InvalidInputError(
            f"The classes {[_key(c) for c in empty]!r} of y have zero total weight after "
            f"sample_weight and class_weight, so the model cannot learn them. To fix: drop "
            f"those rows from X and y, or give them positive weight."
        )
