"""ROC AUC and average precision for binary, multiclass and multilabel-indicator targets.

Each is a short dispatch, in scikit-learn's order of checks, over ``_binary_average``: a binary
target is one problem; a multilabel target (or a multiclass one binarised one-vs-rest) is one
problem per column, averaged, or one flattened problem ('micro'); one-vs-one ROC AUC is the Hand
& Till mean over pairs of classes.
"""

from __future__ import annotations

import warnings
from itertools import combinations
from numbers import Real
from typing import Any

import numpy as np

from verdict._params import Interval, invalid_parameter
from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.metrics._binary_average import average_binary, binary_area
from verdict.metrics._rank_sums import ONE_CLASS
from verdict.metrics._score_inputs import (
    array_of,
    binary_inputs,
    indicator_mask,
    label_array,
    warn_undefined,
    weights_1d,
)
from verdict.metrics._sklearn_checks import (
    MULTILABEL,
    check_array,
    check_consistent_length,
    check_sample_weight,
    column_or_1d,
    require_same_shape,
    type_of_target,
)
from verdict.metrics._validation import (
    check_choice,
    check_pos_label,
    encode,
    equal_to,
    labels_arg,
    unique_labels,
)

_AVERAGES = ("micro", "macro", "samples", "weighted", None)
_MAX_FPR = Interval(Real, 0, 1, closed="right")
_SHAPE_FIX = "To fix: pass one column of scores per class, in sorted class order."
_WHY_2D = (
    "y_true is a multilabel indicator matrix, so y_score must be a matrix of shape "
    "(n_samples, n_labels). To fix: pass one column of scores per label, or binary or "
    "multiclass y_true as 1-D."
)


def roc_auc_score(
    y_true: Any,
    y_score: Any,
    *,
    average: str | None = "macro",
    sample_weight: Any = None,
    max_fpr: float | None = None,
    multi_class: str = "raise",
    labels: Any = None,
) -> float | np.ndarray:
    """Area under the ROC curve, for binary, multiclass and multilabel-indicator targets.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_labels)
        True labels (the greater of two classes is positive), or a 0/1 indicator matrix.
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Binary: the score of the greater class. Multiclass: class probabilities whose rows
        sum to 1, columns in the order of ``labels`` (default: sorted labels of ``y_true``).
        Multilabel: one score per label.
    average : {'macro', 'weighted', 'micro', 'samples'} or None, default='macro'
        How per-label (or per-class) areas are averaged; ignored for a binary target.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights (not supported with ``multi_class='ovo'``).
    max_fpr : float in (0, 1], default=None
        Standardised partial AUC up to this false positive rate (not for multiclass).
    multi_class : {'raise', 'ovr', 'ovo'}, default='raise'
        How to handle a multiclass target.
    labels : array-like of shape (n_classes,), default=None
        Multiclass only: the classes indexing the columns of ``y_score``, sorted.

    Returns
    -------
    auc : float, or ndarray of per-label values when ``average=None``. NaN, with an
        UndefinedMetricWarning, where ``y_true`` holds a single class.
    """
    func = "roc_auc_score"
    check_choice("average", average, _AVERAGES, func)
    check_choice("multi_class", multi_class, ("raise", "ovr", "ovo"), func)
    # not check(): max_fpr=True has always meant 1 here, as in scikit-learn
    if max_fpr is not None and not (isinstance(max_fpr, Real) and 0 < max_fpr <= 1):
        raise invalid_parameter("max_fpr", max_fpr, func, [_MAX_FPR, None])
    y = array_of(y_true, "y_true")
    kind = type_of_target(y, "y_true")
    y = label_array(y)
    s = check_array(y_score, "y_score")
    w = weights_1d(sample_weight)
    if kind == "multiclass" or (kind == "binary" and s.ndim == 2 and s.shape[1] > 2):
        return _multiclass_auc(y, s, w, max_fpr, multi_class, average, labels)
    if kind == "binary":
        classes = unique_labels(column_or_1d(y, "y_true"))
        if classes.shape[0] != 2:
            warn_undefined(ONE_CLASS)
            return float("nan")
        y_pos, scores, weights = binary_inputs(equal_to(y, classes[-1]), s, w)
        return binary_area("auc", y_pos, scores.astype(float, copy=False), weights, max_fpr)
    mask, scores, weights = _indicator_inputs(y, kind, s, w, average, func)
    return average_binary("auc", mask, scores, weights, average, max_fpr)


def _indicator_inputs(
    y: np.ndarray, kind: str, y_score: Any, w: np.ndarray | None, average: Any, func: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """scikit-learn's checks of an indicator ``y_true`` against its scores and weights."""
    if kind != MULTILABEL:
        raise InvalidInputError(
            f"{kind} format is not supported. {func} takes a binary, multiclass or "
            "multilabel-indicator y_true. To fix: pass class labels, or a 0/1 matrix of shape "
            "(n_samples, n_labels)."
        )
    s = array_of(y_score, "y_score")
    n = check_consistent_length(y_true=y, y_score=s, sample_weight=w)
    s = check_array(s, "y_score", ensure_2d=True, why_2d=_WHY_2D)
    require_same_shape(y, s)
    weights = check_sample_weight(w, n, allow_all_zero=average == "samples")
    mask = indicator_mask(y, func, pos_label_free=func == "roc_auc_score")
    return mask, s.astype(np.float64, copy=False), weights


def _multiclass_auc(
    y: np.ndarray,
    s: np.ndarray,
    w: np.ndarray | None,
    max_fpr: float | None,
    multi_class: str,
    average: str | None,
    labels: Any,
) -> float | np.ndarray:
    if max_fpr is not None and max_fpr != 1:
        raise InvalidParameterError(
            "Partial AUC computation not available in multiclass setting, 'max_fpr' must be "
            f"set to `None`, received `max_fpr={max_fpr}` instead. A partial area is defined "
            "for one binary curve. To fix: leave max_fpr=None."
        )
    if multi_class == "raise":
        raise InvalidParameterError(
            "multi_class must be in ('ovo', 'ovr'). y_true is multiclass, so roc_auc_score "
            "needs to know how to pair the classes. To fix: pass multi_class='ovr' "
            "(one-vs-rest) or 'ovo' (one-vs-one)."
        )
    if s.ndim != 2:
        raise InvalidInputError(_needs_columns(s.shape))
    y = column_or_1d(y, "y_true")
    if not np.allclose(1, s.sum(axis=1)):
        raise InvalidInputError(
            "Target scores need to be probabilities for multiclass roc_auc, i.e. they should "
            "sum up to 1.0 over classes. The rows of y_score do not sum to 1. To fix: pass "
            "predict_proba output, or normalise scores with a softmax."
        )
    allowed = (("micro",) if multi_class == "ovr" else ()) + ("macro", "weighted", None)
    if average not in allowed:
        raise InvalidParameterError(
            f"average must be one of {allowed} for multiclass problems. "
            f"average={average!r} is not defined with multi_class={multi_class!r}. "
            "To fix: pass one of those."
        )
    if average is None and multi_class == "ovo":
        raise NotImplementedError(
            "average=None is not implemented for multi_class='ovo'. To fix: use "
            "average='macro' or 'weighted', or multi_class='ovr' for per-class scores."
        )
    classes = given_classes(labels, y, s.shape[1], roc=True)
    if multi_class == "ovo":
        if w is not None:
            raise InvalidInputError(
                "sample_weight is not supported for multiclass one-vs-one ROC AUC, "
                "'sample_weight' must be None in this case. To fix: leave sample_weight=None, "
                "or use multi_class='ovr'."
            )
        check_consistent_length(y_true=y, y_score=s)
        return _ovo_auc(encode(y, classes), s.astype(float, copy=False), average)
    one_hot = encode(y, classes)[:, None] == np.arange(classes.shape[0])
    n = check_consistent_length(y_true=one_hot, y_score=s, sample_weight=w)
    weights = check_sample_weight(w, n)
    return average_binary("auc", one_hot, s.astype(float, copy=False), weights, average)


def _needs_columns(shape: tuple[int, ...]) -> str:
    return (
        "`y_score` needs to be of shape `(n_samples, n_classes)`, since `y_true` contains "
        f"multiple classes. Got `y_score.shape={shape}`. {_SHAPE_FIX}"
    )


def given_classes(labels: Any, y: np.ndarray, n_columns: int, *, roc: bool) -> np.ndarray:
    """The classes naming ``y_score``'s columns: ``labels`` (checked) or those of ``y_true``.

    ``roc`` picks roc_auc_score's wording of the count mismatches, else top_k_accuracy_score's.
    """
    fix = "To fix: pass labels= listing every class once, sorted, one per column of y_score."
    given = labels_arg(labels)
    if given is None:
        classes = unique_labels(y)
        if classes.shape[0] != n_columns:
            head = (
                "Number of classes in y_true not equal to the number of columns in 'y_score'"
                if roc
                else f"Number of classes in 'y_true' ({classes.shape[0]}) not equal to the "
                f"number of classes in 'y_score' ({n_columns}).You can provide a list of all "
                "known classes by assigning it to the `labels` parameter."
            )
            raise InvalidInputError(
                f"{head}. y_true has {classes.shape[0]} classes and y_score {n_columns} "
                f"columns. {fix}"
            )
        return classes
    given = column_or_1d(given, "labels")
    classes = np.unique(given)
    if classes.shape[0] != given.shape[0]:
        raise InvalidInputError(
            f"Parameter 'labels' must be unique. labels has duplicates: {given.tolist()}. {fix}"
        )
    if not np.array_equal(classes, given):
        raise InvalidInputError(
            f"Parameter 'labels' must be ordered. labels must be sorted, as y_score's columns "
            f"are: {classes.tolist()}. {fix}"
        )
    if classes.shape[0] != n_columns:
        head = (
            f"Number of given labels, {classes.shape[0]}, not equal to the number of columns "
            f"in 'y_score', {n_columns}"
            if roc
            else f"Number of given labels ({classes.shape[0]}) not equal to the number of "
            f"classes in 'y_score' ({n_columns})."
        )
        raise InvalidInputError(
            f"{head}. labels lists {classes.shape[0]} classes for {n_columns} columns. {fix}"
        )
    if (y.dtype.kind in "OUS") != (classes.dtype.kind in "OUS"):
        missing = "y_true and labels mix string and number labels"
    else:
        unknown = np.setdiff1d(y, classes)
        missing = f"y_true has classes not in labels (e.g. {unknown[:3].tolist()})"
        if not unknown.shape[0]:
            return classes
    raise InvalidInputError(
        f"'y_true' contains labels not in parameter 'labels'. {missing}. To fix: list every "
        "class of y_true in labels (with a column for each in y_score)."
    )


def class_codes(y: np.ndarray, labels: Any, n_columns: int) -> tuple[np.ndarray, int]:
    """Code each label by its column in ``y_score``: ``labels`` if given, else sorted y_true."""
    given = labels_arg(labels)
    if given is None:
        classes = unique_labels(y)
        if classes.size != n_columns:
            raise InvalidInputError(
                f"y_true has {classes.size} classes but y_score has {n_columns} columns. "
                "To fix: pass labels= listing every class in column order (needed when "
                "y_true lacks a class)."
            )
        return encode(y, classes), n_columns
    classes = np.unique(given)
    if classes.size != given.size:
        raise InvalidInputError("labels contains duplicates. To fix: list each class once.")
    if not np.array_equal(classes, given):
        raise InvalidInputError(
            "labels must be sorted: they index the columns of y_score in sorted order. "
            f"To fix: pass labels={classes.tolist()!r} and order y_score's columns to match."
        )
    if classes.size != n_columns:
        raise InvalidInputError(
            f"labels has {classes.size} classes but y_score has {n_columns} columns. "
            "To fix: pass one label per column of y_score."
        )
    if (y.dtype.kind in "US") != (classes.dtype.kind in "US"):
        raise InvalidInputError(
            "y_true and labels mix string and number labels. To fix: use one type for both."
        )
    codes = encode(y, classes)
    if (codes < 0).any():
        missing = y[np.argmax(codes < 0)]
        raise InvalidInputError(
            f"y_true contains a label not in labels (e.g. {missing!r}). To fix: add it to "
            "labels (and a column for it to y_score)."
        )
    return codes, n_columns


def _ovo_auc(y_enc: np.ndarray, s: np.ndarray, average: str) -> float:
    """Hand & Till (2001): mean over class pairs of the two one-vs-one AUCs."""
    present = np.flatnonzero(np.bincount(y_enc, minlength=s.shape[1]))
    pair_scores, prevalence = [], []
    for a, b in combinations(present.tolist(), 2):
        in_pair = (y_enc == a) | (y_enc == b)
        is_a = y_enc[in_pair] == a
        sub = s[in_pair]
        auc_a = binary_area("auc", is_a, np.ascontiguousarray(sub[:, a]))
        auc_b = binary_area("auc", ~is_a, np.ascontiguousarray(sub[:, b]))
        pair_scores.append((auc_a + auc_b) / 2)
        prevalence.append(is_a.shape[0] / y_enc.shape[0])
    if not pair_scores:  # one class present: scikit-learn averages nothing
        if average == "weighted":
            raise ZeroDivisionError(
                "Weights sum to zero, can't be normalized. y_true holds a single class, so "
                "there is no pair of classes to compare. To fix: evaluate on data with at "
                "least two classes."
            )
        warnings.warn("Mean of empty slice.", RuntimeWarning, stacklevel=3)
        return float("nan")
    weights = prevalence if average == "weighted" else None
    return float(np.average(pair_scores, weights=weights))


def average_precision_score(
    y_true: Any,
    y_score: Any,
    *,
    average: str | None = "macro",
    pos_label: int | float | bool | str = 1,
    sample_weight: Any = None,
) -> float | np.ndarray:
    """Average precision: the mean precision over thresholds, weighted by the recall gained.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_labels)
        True labels, binary or multiclass (binarised one-vs-rest), or a 0/1 indicator matrix.
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Binary: the positive class's score. Otherwise one column per sorted class or label.
    average : {'macro', 'weighted', 'micro', 'samples'} or None, default='macro'
        How per-label (or per-class) values are averaged; ignored for a binary target.
    pos_label : int, float, bool or str, default=1
        The positive class of a binary target; must stay 1 otherwise.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    average_precision : float, or ndarray of per-label values when ``average=None``.
    """
    func = "average_precision_score"
    check_choice("average", average, _AVERAGES, func)
    if pos_label is None:
        raise invalid_parameter("pos_label", None, func, "an int, float, bool or str")
    check_pos_label(pos_label, func)
    w = weights_1d(sample_weight)
    y = array_of(y_true, "y_true")
    kind = type_of_target(y, "y_true")
    if kind == "binary":
        present = unique_labels(column_or_1d(y, "y_true"))
        if present.shape[0] == 2 and not equal_to(present, pos_label).any():
            raise InvalidInputError(
                f"pos_label={pos_label} is not a valid label. It should be one of {present}. "
                "To fix: pass pos_label= the positive class."
            )
        y_pos, scores, weights = binary_inputs(equal_to(y, pos_label), y_score, w)
        return binary_area("ap", y_pos, scores.astype(float, copy=False), weights)
    if kind in (MULTILABEL, "multiclass") and pos_label != 1:
        raise InvalidParameterError(
            f"Parameter pos_label is fixed to 1 for {kind} y_true. Do not set pos_label or "
            "set pos_label to 1. Each label is scored against the rest. To fix: leave "
            "pos_label at its default."
        )
    s: Any = y_score
    if kind == "multiclass":
        present = unique_labels(column_or_1d(y, "y_true"))
        s = array_of(y_score, "y_score")
        if s.shape != (y.shape[0], present.shape[0]):
            raise InvalidInputError(_needs_columns(s.shape))
        y = encode(column_or_1d(y, "y_true"), present)[:, None] == np.arange(present.shape[0])
        kind = MULTILABEL
    mask, scores, weights = _indicator_inputs(y, kind, s, w, average, func)
    return average_binary("ap", mask, scores, weights, average)
