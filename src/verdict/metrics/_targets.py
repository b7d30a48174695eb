"""The one check of every count metric's ``(y_true, y_pred)``: scikit-learn's ``_check_targets``.

It names the task — 'binary', 'multiclass' or 'multilabel-indicator' — and refuses what
scikit-learn refuses, in scikit-learn's order and with messages that start with its text, so
code written against scikit-learn sees the same errors. Label-indicator matrices become bool
matrices ("label present" is a non-zero value, as in scikit-learn's sparse encoding) once, here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from verdict.errors import InvalidInputError, InvalidInputTypeError
from verdict.metrics._sklearn_checks import (
    DISCRETE,
    MULTILABEL,
    check_consistent_length,
    check_sample_weight,
    indicator_values,
    is_sparse,
    to_numpy,
    type_of_target,
)
from verdict.metrics._validation import check_label_types, labels_1d, unique_labels


@dataclass(slots=True)
class Targets:
    """Validated targets and weights, as every count metric receives them.

    For binary and multiclass targets, ``y_true``/``y_pred`` are 1-D label arrays; ``labels``,
    the sorted union of their labels, is found on first use (accuracy never needs it). For a
    multilabel target they are C-ordered bool matrices, ``labels`` is ``arange(n_labels)`` and
    ``values`` keeps the original matrices when they hold values other than 0 and 1 (exact-match
    metrics compare values).
    """

    y_true: np.ndarray
    y_pred: np.ndarray
    sample_weight: np.ndarray | None
    multilabel: bool = False
    values: tuple[np.ndarray, np.ndarray] | None = None
    _labels: np.ndarray | None = None

    @property
    def n_samples(self) -> int:
        return int(self.y_true.shape[0])

    @property
    def labels(self) -> np.ndarray:
        if self._labels is None:
            self._labels = unique_labels(self.y_true, self.y_pred)
        return self._labels

    @property
    def kind(self) -> str:
        """scikit-learn's target type: 'binary', 'multiclass' or 'multilabel-indicator'."""
        if self.multilabel:
            return MULTILABEL
        return "binary" if self.labels.shape[0] <= 2 else "multiclass"

    def mismatch(self) -> np.ndarray:
        """Multilabel: where the two matrices differ (by value, as scikit-learn compares)."""
        if self.values is None:
            return self.y_true ^ self.y_pred
        return self.values[0] != self.values[1]


def check_targets(y_true: Any, y_pred: Any, sample_weight: Any = None) -> Targets:
    """Check and convert a pair of targets and their weights, once, at the boundary."""
    (yt, sparse_t), (yp, sparse_p) = _as_array(y_true, "y_true"), _as_array(y_pred, "y_pred")
    w = None if sample_weight is None else to_numpy(sample_weight, "sample_weight")
    check_consistent_length(y_true=yt, y_pred=yp, sample_weight=w)
    (kind_t, binary_t), (kind_p, binary_p) = _target_type(yt, "y_true"), _target_type(yp, "y_pred")
    if yt.shape[0] == 0 or yp.shape[0] == 0:
        raise InvalidInputError(
            "Found empty input array (e.g., `y_true` or `y_pred`) while a minimum of 1 sample "
            "is required. To fix: pass at least one sample."
        )
    sw = check_sample_weight(w, yt.shape[0])
    if kind_t != kind_p:
        name_t, name_p = _name(kind_t, yt), _name(kind_p, yp)
        raise InvalidInputError(
            f"Classification metrics can't handle a mix of {name_t} and {name_p} targets: "
            f"y_true is {name_t} and y_pred is {name_p}, but both must describe the same "
            "task. To fix: pass predicted classes (not scores) in the format of y_true."
        )
    if kind_t == MULTILABEL:
        return _multilabel_targets(yt, yp, sw, binary_t and binary_p)
    if kind_t != DISCRETE:
        raise InvalidInputError(
            f"{kind_t} is not supported: y_true and y_pred are {kind_t}, and count metrics "
            "score binary, multiclass and multilabel-indicator (0/1 matrix) targets. To fix: "
            "score each output column on its own."
        )
    if sparse_t or sparse_p:
        raise InvalidInputTypeError(
            "Sparse input is only supported when targets are of multilabel type. To fix: "
            "pass dense 1-D labels."
        )
    yt, yp = labels_1d(yt, "y_true"), labels_1d(yp, "y_pred")
    check_label_types(yt, yp)
    return Targets(yt, yp, sw)


def _as_array(values: Any, name: str) -> tuple[np.ndarray, bool]:
    """A dense array of ``values`` (sparse matrices too), and whether it was sparse."""
    sparse = is_sparse(values)
    if values is None or isinstance(values, (str, bytes)):
        array = np.asarray(None)
    else:
        try:
            array = to_numpy(values, name, sparse_ok=True)
        except InvalidInputError:  # ragged nested sequences: the legacy multilabel format
            array = np.empty(len(values), dtype=object)
            array[:] = list(values)
    if array.ndim == 0:
        raise InvalidInputError(
            f"Expected array-like (array or non-string sequence), got {values!r} for {name}. "
            "To fix: pass one label per sample."
        )
    return array, sparse


def _target_type(y: np.ndarray, name: str) -> tuple[str, bool]:
    """scikit-learn's ``type_of_target``, with binary and multiclass as one kind (DISCRETE).

    Also returns, for an indicator matrix, whether its values are exactly 0 and 1.
    """
    if y.ndim == 2 and y.shape[1] > 1:
        found = indicator_values(y)
        if found is not None:
            return MULTILABEL, found
    return type_of_target(y, name, name, count=False), False


def _name(kind: str, y: np.ndarray) -> str:
    """scikit-learn's name of a target type ('binary' or 'multiclass' for label arrays)."""
    if kind != DISCRETE:
        return kind
    try:
        return "binary" if np.unique(labels_1d(y, "y")).shape[0] <= 2 else "multiclass"
    except (InvalidInputError, TypeError):
        return "multiclass"


def _multilabel_targets(
    yt: np.ndarray, yp: np.ndarray, sw: np.ndarray | None, binary: bool
) -> Targets:
    if yt.shape[1] != yp.shape[1]:
        raise InvalidInputError(
            "Multi-label binary indicator input with different numbers of labels: y_true has "
            f"{yt.shape[1]} label columns and y_pred {yp.shape[1]}. To fix: pass the same "
            "label columns, in the same order."
        )
    t, p = _present(yt, binary), _present(yp, binary)
    values = None if binary else (yt, yp)
    return Targets(t, p, sw, True, values, np.arange(yt.shape[1]))


def _present(y: np.ndarray, binary: bool) -> np.ndarray:
    """Where a label is present (non-zero), as a C-ordered bool matrix."""
    if y.dtype.kind == "b" or (binary and y.dtype.itemsize == 1):
        return np.ascontiguousarray(y).view(bool)
    return np.ascontiguousarray(y != 0)
