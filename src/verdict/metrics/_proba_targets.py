"""scikit-learn's checks of predicted probabilities against true labels, and their one-hot form.

``multiclass_targets`` is scikit-learn's ``_validate_multiclass_probabilistic_prediction`` (used
by log loss, the Brier score with 2-D probabilities and the D² scores) and ``binary_targets`` its
binary twin (Brier with 1-D probabilities): same checks, same order, same warnings. The one-hot
truth is never built for class labels: ``OneHot`` keeps each row's class code (or the
indicator matrix of a multilabel target), which is all the losses need.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from verdict.errors import InvalidInputError
from verdict.metrics._score_inputs import array_of, label_array, pos_label_or_default
from verdict.metrics._sklearn_checks import (
    check_consistent_length,
    check_sample_weight,
    column_or_1d,
    type_of_target,
)
from verdict.metrics._validation import encode, equal_to, unique_labels

PROBA_FLOATS = (np.float64, np.float32)
_NOT_ONE = "The y_prob values do not sum to one. Make sure to pass probabilities."


@dataclass(frozen=True, slots=True)
class OneHot:
    """The truth as class ``codes`` (one true class per row) or a multilabel ``indicator``,
    the probabilities as (n_samples, n_classes), and the sample weights."""

    codes: np.ndarray | None
    indicator: np.ndarray | None
    proba: np.ndarray
    weights: np.ndarray | None

    def frequencies(self) -> tuple[np.ndarray, np.ndarray]:
        """Per class, the (weighted) number of rows where it is true, and its fraction of all
        rows: the null model's probabilities."""
        counts = self.weighted_counts()
        total = self.proba.shape[0] if self.weights is None else self.weights.sum()
        return counts, counts / total

    def null_proba(self) -> np.ndarray:
        """The null model's probabilities for every row, in the dtype scikit-learn gets."""
        dtype = self.proba.dtype
        if self.weights is not None:
            dtype = np.result_type(dtype, self.weights.dtype)
        freq = self.frequencies()[1].astype(dtype)
        return np.ascontiguousarray(np.broadcast_to(freq, self.proba.shape))

    def weighted_counts(self) -> np.ndarray:
        """Per class, the (weighted) number of rows where it is true."""
        if self.codes is not None:
            return np.bincount(self.codes, weights=self.weights, minlength=self.proba.shape[1])
        if self.weights is None:
            return np.count_nonzero(self.indicator, axis=0).astype(float)
        return (self.indicator * self.weights[:, None]).sum(axis=0)

    def squared_errors(self, proba: np.ndarray | None = None) -> np.ndarray:
        """Per row, the squared distance between ``proba`` (default: the prediction) and the
        one-hot truth, summed as scikit-learn sums it."""
        p = self.proba if proba is None else proba
        if self.indicator is not None:
            diff = self.indicator.astype(p.dtype) - p
            return np.square(diff, out=diff).sum(axis=1)
        if p.shape[1] == 2:  # two columns: each row's two terms, without a row-wise sum
            truth = self.codes.astype(p.dtype)
            return np.square((1 - truth) - p[:, 0]) + np.square(truth - p[:, 1])
        sq = np.multiply(p, p, order="C")
        rows = np.arange(p.shape[0])
        sq[rows, self.codes] = (1 - p[rows, self.codes]) ** 2
        return sq.sum(axis=1)


def average(values: np.ndarray, weights: np.ndarray | None, normalize: bool = True) -> Any:
    """scikit-learn's ``_average``: the (weighted) mean, or the (weighted) sum, as a numpy
    scalar of the dtype scikit-learn computes in (float32 stays float32)."""
    if normalize:
        return np.average(values, weights=weights)
    return values.sum() if weights is None else np.dot(values, weights)


def check_proba_range(p: np.ndarray, low_word: str = "lower", name: str = "y_proba") -> None:
    """Probabilities lie in [0, 1] (scikit-learn says 'less than' in the binary check)."""
    high, low = p.max(), p.min()
    fix = f"{name} must hold probabilities. To fix: pass predict_proba output, not decision scores."
    if high > 1:
        raise InvalidInputError(f"y_prob contains values greater than 1: {high}. {fix}")
    if low < 0:
        raise InvalidInputError(f"y_prob contains values {low_word} than 0: {low}. {fix}")


def multiclass_targets(y_true: Any, p: np.ndarray, sample_weight: Any, labels: Any) -> OneHot:
    """scikit-learn's multiclass (and multilabel) checks; ``p`` is already a float array."""
    check_proba_range(p)
    y = array_of(y_true, "y_true")
    w = None if sample_weight is None else array_of(sample_weight, "sample_weight")
    n = check_consistent_length(y_proba=p, y_true=y, sample_weight=w)
    weights = check_sample_weight(w, n)
    codes, indicator, classes = _binarize(y, labels)
    if p.ndim == 1:
        p = p[:, None]
    one_column = p.shape[1] == 1
    if one_column:  # (1 - p, p): its rows sum to one by construction, nothing to check
        p = np.stack([1 - p[:, 0], p[:, 0]], axis=1)
    tol = np.sqrt(np.finfo(p.dtype).eps)
    if not one_column and not np.all(np.isclose(p.sum(axis=1), 1, rtol=tol)):
        warnings.warn(_NOT_ONE, UserWarning, stacklevel=4)
    if classes.shape[0] != p.shape[1]:
        if labels is None:
            raise InvalidInputError(
                f"y_true and y_prob contain different number of classes: {classes.shape[0]} "
                f"vs {p.shape[1]}. Please provide the true labels explicitly through the labels "
                f"argument. Classes found in y_true: {classes}. To fix: pass labels= naming the "
                "class of each column of y_prob."
            )
        raise InvalidInputError(
            "The number of classes in labels is different from that in y_prob. Classes found "
            f"in labels: {classes}. y_prob has {p.shape[1]} columns. To fix: pass one label "
            "per column."
        )
    return OneHot(codes, indicator, p, weights)


def _binarize(
    y: np.ndarray, labels: Any
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray]:
    """scikit-learn's LabelBinarizer: class codes (or the indicator matrix) and the classes."""
    if labels is None:
        classes = _fitted_classes(y, "y_true")
    else:
        given = array_of(labels, "labels")
        classes = _fitted_classes(given, "labels")
        if classes.shape != given.shape or not np.all(classes == given):
            warnings.warn(
                f"Labels passed were {labels}. But this function assumes labels are ordered "
                f"lexicographically. Pass the ordered labels={classes.tolist()} and ensure that "
                "the columns of y_prob correspond to this ordering.",
                UserWarning,
                stacklevel=5,
            )
        if y.ndim == 1 and not np.isin(y, given).all():
            undeclared = set(y.tolist()) - set(given.tolist())
            raise InvalidInputError(
                f"y_true contains values {undeclared} not belonging to the passed labels "
                f"{labels}. To fix: add them to labels."
            )
    if classes.shape[0] == 1:
        if labels is None:
            raise InvalidInputError(
                f"y_true contains only one label ({classes[0]}). Please provide the list of all "
                "expected class labels explicitly through the labels argument. To fix: pass "
                "labels= listing every class y_prob has a column for."
            )
        raise InvalidInputError(
            f"The labels array needs to contain at least two labels, got {classes}. To fix: "
            "list every class y_prob has a column for."
        )
    if y.ndim == 2 and y.shape[1] > 1:  # a multilabel indicator is its own one-hot form
        return None, y == 1, classes
    return encode(column_or_1d(y, "y_true"), classes), None, classes


def _fitted_classes(y: np.ndarray, name: str) -> np.ndarray:
    """``LabelBinarizer().fit(y).classes_``: the sorted labels, or range(n_labels)."""
    kind = type_of_target(y, "y", name)
    if "multioutput" in kind:
        raise InvalidInputError(
            "Multioutput target data is not supported with label binarization. y_true must "
            "hold one class per sample, or be a 0/1 indicator matrix. To fix: pass class labels."
        )
    if y.shape[0] == 0:
        raise InvalidInputError(f"y has 0 samples: {y!r}. To fix: pass at least one sample.")
    if kind == "multilabel-indicator":
        return np.arange(y.shape[1])
    if kind not in ("binary", "multiclass"):
        raise InvalidInputError(
            f"Unknown label type: {kind}. y_true must hold class labels. To fix: pass the true "
            "classes, not scores."
        )
    return unique_labels(column_or_1d(y, "y_true"))


def binary_targets(y_true: Any, p: np.ndarray, sample_weight: Any, pos_label: Any) -> OneHot:
    """scikit-learn's binary checks for 1-D probabilities of the positive class."""
    y = label_array(column_or_1d(array_of(y_true, "y_true"), "y_true"))
    p = column_or_1d(p, "y_proba")
    w = None if sample_weight is None else array_of(sample_weight, "sample_weight")
    n = check_consistent_length(y_proba=p, y_true=y, sample_weight=w)
    weights = check_sample_weight(w, n)
    kind = type_of_target(y, "y_true")
    if kind != "binary":
        raise InvalidInputError(
            f"The type of the target inferred from y_true is {kind} but should be binary "
            "according to the shape of y_prob. To fix: pass a 2-D y_proba with one column per "
            "class."
        )
    check_proba_range(p, "less")
    try:
        pos_label = pos_label_or_default(pos_label, y)
    except InvalidInputError:
        classes = unique_labels(y)
        if classes.dtype.kind in "OUS":
            raise
        pos_label = classes[-1]  # scikit-learn's fallback: the greater label
    codes = equal_to(y, pos_label).astype(np.intp)
    return OneHot(codes, None, np.stack([1 - p, p], axis=1), weights)
