"""Positive and negative likelihood ratios of a binary classifier (LR+ and LR-).

Both come from the 2x2 confusion matrix, which the shared counting kernel (``_confusion``)
provides: LR+ = sensitivity / (1 - specificity), LR- = (1 - sensitivity) / specificity. Where a
ratio divides by zero scikit-learn warns and returns ``replace_undefined_by``; so does this.
"""

from __future__ import annotations

import warnings
from numbers import Real
from typing import Any

import numpy as np

import verdict.errors
from verdict._params import InstanceOf, Satisfies, check
from verdict.errors import InvalidInputError
from verdict.metrics._confusion import index_of, joint_counts
from verdict.metrics._targets import check_targets
from verdict.metrics._validation import labels_arg

_FUNC = "class_likelihood_ratios"
_NAN = np.nan
# scikit-learn's Options(Real, {1.0, np.nan}); booleans are not numbers here.
_ONE_OR_NAN = Satisfies(
    lambda v: isinstance(v, Real) and not isinstance(v, bool | np.bool_) and (v == 1 or v != v),
    "a float among {1.0, nan}",
)
_DICT = InstanceOf(dict, "an instance of 'dict'")
_SUPPRESS = (
    "To suppress this warning or turn it into an error, see Python's `warnings` module and "
    "`warnings.catch_warnings()`."
)
_CONTROL = "Use the `replace_undefined_by` param to control this behavior."


def class_likelihood_ratios(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    sample_weight: Any = None,
    replace_undefined_by: float | dict[str, float] = _NAN,
) -> tuple[float, float]:
    """Binary positive and negative likelihood ratios, ``(LR+, LR-)``.

    Same as ``sklearn.metrics.class_likelihood_ratios``: LR+ = tpr / fpr and LR- = fnr / tnr.
    When a ratio divides by zero (no false positive, no true negative, or no positive sample)
    an ``UndefinedMetricWarning`` says so and the ratio is ``replace_undefined_by``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels; at most two classes.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    labels : array-like of shape (2,), default=None
        ``[negative_class, positive_class]``; by default the sorted labels present.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    replace_undefined_by : np.nan, 1.0 or dict, default=np.nan
        The value of an undefined ratio: NaN, 1.0 for both (the worst scores), or
        ``{"LR+": value, "LR-": value}`` with LR+ in [1, inf] and LR- in [0, 1] (or NaN).

    Returns
    -------
    (positive_likelihood_ratio, negative_likelihood_ratio) : tuple of float
    """
    check(
        "replace_undefined_by",
        replace_undefined_by,
        _FUNC,
        _ONE_OR_NAN,
        _DICT,
        fix='pass np.nan, 1.0 or a dict such as {"LR+": 1.0, "LR-": 1.0}',
    )
    targets = check_targets(y_true, y_pred, sample_weight)
    if targets.kind != "binary":
        _not_binary(targets.kind)
    joint = joint_counts(targets)
    if isinstance(replace_undefined_by, dict):
        lr_pos, lr_neg = _replacements(replace_undefined_by)
    elif replace_undefined_by == 1:
        lr_pos, lr_neg = 1.0, 1.0
    else:
        lr_pos = lr_neg = replace_undefined_by
    tn, fp, fn, tp = _binary_matrix(joint, labels_arg(labels)).ravel()
    return _ratios(tn, fp, fn, tp, lr_pos, lr_neg)


def _ratios(tn: Any, fp: Any, fn: Any, tp: Any, lr_pos: Any, lr_neg: Any) -> tuple[float, float]:
    """The two ratios from the counts, warning (in scikit-learn's words) where undefined."""
    support_pos, support_neg = tp + fn, tn + fp
    if support_pos == 0:
        _warn(
            "No samples of the positive class are present in `y_true`. "
            "`positive_likelihood_ratio` and `negative_likelihood_ratio` are both set to "
            f"`np.nan`. {_CONTROL} {_SUPPRESS}"
        )
    with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 without positives: nan
        if fp == 0:
            beginning = (
                "No samples were predicted for the positive class and "
                "`positive_likelihood_ratio` is "
                if tp == 0
                else "`positive_likelihood_ratio` is ill-defined and "
            )
            _warn(f"{beginning}set to `np.nan`. {_CONTROL} {_SUPPRESS}")
            positive = lr_pos
        else:
            positive = (tp * support_neg) / (fp * support_pos)
        if tn == 0:
            _warn(
                "`negative_likelihood_ratio` is ill-defined and set to `np.nan`. "
                f"{_CONTROL} {_SUPPRESS}"
            )
            negative = lr_neg
        else:
            negative = (fn * support_neg) / (tn * support_pos)
    return float(positive), float(negative)


def _warn(message: str) -> None:
    # Looked up at warn time: verdict.errors may define it lazily (as scikit-learn's subclass).
    warnings.warn(message, verdict.errors.UndefinedMetricWarning, stacklevel=4)


def _not_binary(kind: str) -> None:
    raise InvalidInputError(
        "class_likelihood_ratios only supports binary classification problems, got targets "
        f"of type: {kind}. Likelihood ratios compare one positive class with one negative "
        "class; pooling more classes could reverse them (Simpson's paradox). To fix: pass "
        "two classes, or compute the ratios one class against the rest."
    )


def _replacements(values: dict[str, Any]) -> tuple[Any, Any]:
    """``{"LR+": a, "LR-": b}`` with a in [1, inf] and b in [0, 1]; NaN allowed for either."""
    lr_pos, lr_neg = values.get("LR+"), values.get("LR-")
    if not ("LR+" in values and "LR-" in values and _between(lr_pos, 1.0, None)) or not (
        _between(lr_neg, 0.0, 1.0)
    ):
        raise InvalidInputError(
            "The dictionary passed as `replace_undefined_by` needs to be in the form "
            "`{'LR+': `value_1`, 'LR-': `value_2`}` where the value for `LR+` ranges from "
            "`1.0` to `np.inf` or is `np.nan` and the value for `LR-` ranges from `0.0` to "
            f"`1.0` or is `np.nan`; got `{values}`. To fix: pass e.g. "
            "{'LR+': 1.0, 'LR-': 1.0} (a useless model) or {'LR+': np.inf, 'LR-': 0.0} "
            "(a perfect one)."
        )
    return lr_pos, lr_neg


def _between(value: Any, low: float, high: float | None) -> bool:
    if not isinstance(value, Real):
        return False
    if value != value:  # NaN
        return True
    return value >= low and (high is None or value <= high)


def _binary_matrix(joint: Any, labels: np.ndarray | None) -> np.ndarray:
    """The 2x2 confusion matrix over ``labels`` ([negative, positive]) or the present ones."""
    if labels is None:
        cm = joint.weighted
    else:
        pos = index_of(labels, joint.labels)
        if not (pos >= 0).any() or not joint.true_present[pos[pos >= 0]].any():
            raise InvalidInputError(
                "At least one label specified must be in y_true: none of labels="
                f"{labels.tolist()} occurs in y_true. To fix: pass labels that occur in the data."
            )
        cm = joint.select(labels)
    if cm.shape == (1, 1):  # scikit-learn's confusion_matrix warns before the ratios fail
        warnings.warn(
            "A single label was found in 'y_true' and 'y_pred'. For the confusion matrix to "
            "have the correct shape, use the 'labels' parameter to pass all known labels.",
            UserWarning,
            stacklevel=3,
        )
    if cm.shape != (2, 2):
        start = (
            f"not enough values to unpack (expected 4, got {cm.size})"
            if cm.size < 4
            else "too many values to unpack (expected 4)"
        )
        raise InvalidInputError(
            f"{start}: the confusion matrix is {cm.shape[0]}x{cm.shape[1]}, but the ratios "
            "need exactly two classes. To fix: pass labels=[negative_class, positive_class]."
        )
    return cm
