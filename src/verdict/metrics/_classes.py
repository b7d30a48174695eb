"""The classes of a metric call and each label's index among them (``evaluate``, the bootstrap)."""

from __future__ import annotations

import numpy as np

from verdict.errors import InvalidInputError
from verdict.metrics._confusion import index_of
from verdict.metrics._validation import encode


def _is_sorted(classes: np.ndarray) -> bool:
    return bool(np.all(classes[:-1] < classes[1:]))


def codes_of(yt: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Index of each true label in ``classes`` (which need not be sorted)."""
    if _is_sorted(classes):
        return encode(yt, classes)
    order = np.argsort(classes)
    sorted_codes = index_of(yt, classes[order])
    return np.where(sorted_codes >= 0, order[np.maximum(sorted_codes, 0)], -1)


def classes_of(
    present: np.ndarray, given: np.ndarray | None, scores: np.ndarray | None
) -> np.ndarray:
    """The classes, in column order: ``given`` (checked to cover ``present``) or ``present``."""
    if given is not None:
        if np.unique(given).shape[0] != given.shape[0]:
            raise InvalidInputError(f"labels has duplicates: {given.tolist()}.")
        missing = present[index_of(present, np.sort(given)) < 0]
        if missing.size:
            raise InvalidInputError(
                f"y_true or y_pred contain labels {missing.tolist()} that are not in labels="
                f"{given.tolist()}. To fix: list every class in labels."
            )
        classes = given
    else:
        classes = present
    if scores is not None and scores.ndim == 2 and scores.shape[1] != classes.shape[0]:
        raise InvalidInputError(
            f"y_score has {scores.shape[1]} columns but there are {classes.shape[0]} classes "
            f"{classes.tolist()}. To fix: pass labels= naming the class of each column."
        )
    if classes.shape[0] < 2:
        raise InvalidInputError(
            f"Only one class ({classes.tolist()}) is present, so classification metrics are "
            "not informative. To fix: pass labels= with every class the model can predict."
        )
    return classes
