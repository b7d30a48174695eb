"""Checks shared by performance monitoring and promotion: labels against the model's classes,
probability matrices, stored test predictions, and what a metric name needs (read from the
metric catalogue, ``verdict.metrics.get_metric``).

Labels are matched to the classes through a pandas index, so a label read back from Parquet
as ``1.0`` still matches the class ``1``; anything else is named in the error.
"""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from verdict._params import Interval, check
from verdict.errors import InvalidInputError
from verdict.metrics import get_metric

_ROW_SUM_TOLERANCE = 1e-4


def check_classes(classes: Any) -> np.ndarray:
    """The model's classes as a 1-D array of at least two distinct labels."""
    values = np.asarray(list(classes) if not isinstance(classes, np.ndarray) else classes)
    if values.ndim != 1 or values.shape[0] < 2 or len(pd.unique(values)) != values.shape[0]:
        raise InvalidInputError(
            f"classes must list two or more distinct labels, got {list(np.ravel(values))!r}. "
            "To fix: pass the model's classes (``model.classes_``, or run.json's data.classes)."
        )
    return values


def label_codes(values: Any, classes: np.ndarray, name: str) -> np.ndarray:
    """Index of each label in ``classes``; labels outside them are named in the error."""
    labels = pd.Series(np.asarray(values, dtype=object).ravel() if np.ndim(values) else [])
    if labels.shape[0] == 0:
        raise InvalidInputError(
            f"{name} is empty: there are no labelled rows to measure. To fix: wait until "
            "feedback labels have arrived for this window, or choose a longer window."
        )
    codes = pd.Index(classes).get_indexer(labels)
    if (codes < 0).any():
        unknown = sorted({str(v) for v in labels[codes < 0]})
        shown = ", ".join(repr(u) for u in unknown[:10]) + (" ..." if len(unknown) > 10 else "")
        raise InvalidInputError(
            f"{name} holds {int((codes < 0).sum())} labels outside the model's classes "
            f"{list(classes)!r}: {shown}. To fix: correct or drop those rows (a new class "
            "needs a model retrained with it), and check that the labels are spelled as in "
            "training."
        )
    return codes.astype(np.int64)


def window_rows(values: Any, name: str) -> int:
    """The number of rows of a window; an empty window is an error."""
    n = int(np.shape(values)[0]) if np.ndim(values) else 0
    if n == 0:
        raise InvalidInputError(
            f"{name} is empty: there are no rows in this window. To fix: wait until "
            "predictions (or feedback labels) have arrived, or choose a longer window."
        )
    return n


def check_proba(proba: Any, n_rows: int, n_classes: int, name: str) -> np.ndarray:
    """A finite (n_rows, n_classes) matrix of probabilities whose rows sum to one."""
    try:
        p = np.asarray(proba, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"{name} must be numeric probabilities. To fix: pass ``model.predict_proba(X)``."
        ) from None
    if p.shape != (n_rows, n_classes):
        raise InvalidInputError(
            f"{name} has shape {p.shape}, expected ({n_rows}, {n_classes}): one row per "
            "labelled row and one column per class. To fix: pass ``predict_proba`` of the "
            "same rows, columns in the order of ``classes``."
        )
    if not np.isfinite(p).all() or (p < 0).any() or (p > 1).any():
        raise InvalidInputError(
            f"{name} holds values outside [0, 1] or NaN. To fix: pass probabilities, not "
            "decision scores or logits."
        )
    if np.abs(p.sum(axis=1) - 1).max() > _ROW_SUM_TOLERANCE:
        raise InvalidInputError(
            f"{name} has rows that do not sum to 1. To fix: pass every class's probability "
            "(the full ``predict_proba`` matrix), columns in the order of ``classes``."
        )
    return p


def check_alpha(value: Any, name: str, func: str) -> float:
    """A level strictly between 0 and 1."""
    example = 0.95 if name == "confidence" else 0.05
    level = Interval(Real, 0, 1, closed="neither")
    return float(check(name, value, func, level, fix=f"pass e.g. {name}={example}"))


def stored_test_columns(
    frame: pd.DataFrame, classes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``y_true`` and ``y_pred`` codes and the probabilities of stored test predictions."""
    wanted = ["y_true", "y_pred", *(f"proba_{c}" for c in classes)]
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInputError(
            "test_predictions must be a DataFrame. To fix: pass the version's "
            "test_predictions.parquet read with pandas.read_parquet."
        )
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"test_predictions lacks the columns {missing} (it has {list(frame.columns)}). "
            "To fix: pass the test_predictions.parquet of the same model version."
        )
    y_true = label_codes(frame["y_true"].to_numpy(), classes, "test_predictions['y_true']")
    y_pred = label_codes(frame["y_pred"].to_numpy(), classes, "test_predictions['y_pred']")
    proba = check_proba(frame[wanted[2:]].to_numpy(), len(frame), len(classes), "test proba")
    return y_true, y_pred, proba


def lower_is_better(metric: str) -> bool:
    """Losses and costs (the metric catalogue's direction): log loss, Brier score, ECE ..."""
    return not get_metric(metric).greater_is_better


def metric_input(metric: str, y_pred: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """What the metric is computed from (the catalogue's input): probabilities or codes."""
    return y_pred if get_metric(metric).input == "labels" else proba


def one_sided_share(values: np.ndarray, alternative: str) -> float:
    """Bootstrap p-value of a one-sided test on resampled differences.

    ``alternative`` 'less' (the true difference is below 0) takes the share of values at or
    above 0, 'greater' the share at or below; ``(count + 1) / (n + 1)``, never exactly 0.
    """
    valid = values[np.isfinite(values)]
    if valid.shape[0] == 0:
        return float("nan")
    against = valid >= 0 if alternative == "less" else valid <= 0
    return float((np.count_nonzero(against) + 1) / (valid.shape[0] + 1))
