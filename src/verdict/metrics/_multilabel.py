"""Counts of label-indicator targets, per label or per sample, in a few vectorised passes.

Column sums of bool matrices give each label's one-vs-rest ``(tp, fp, fn, tn)``; row sums give
each sample's (``average='samples'``, ``samplewise=True``). Every set-wise metric reduces these
exactly as it reduces a 1-D confusion matrix. Weighted column sums accumulate row after row
(``einsum``), the order of scikit-learn's sparse bincount, so they equal its sums to the bit;
dtypes follow scikit-learn's (integer counts unweighted, float64 weighted).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from verdict.errors import InvalidInputError
from verdict.metrics._targets import Targets

Counts = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def label_columns(targets: Targets, labels: np.ndarray | None) -> np.ndarray | None:
    """The columns ``labels`` asks for (None: all), checked as scikit-learn checks them."""
    if labels is None:
        return None
    present = targets.labels
    if labels.dtype.kind not in "iub" and not (
        labels.dtype.kind == "f" and np.all(labels == np.floor(labels))
    ):
        raise InvalidInputError(
            "All labels must be in [0, n labels) for multilabel targets. Got labels="
            f"{labels.tolist()}. A label of a multilabel target is its column index. "
            "To fix: pass column indices."
        )
    wanted = labels.astype(np.intp)
    full = np.concatenate([wanted, np.setdiff1d(present, wanted, assume_unique=True)])
    if full.shape != present.shape or np.any(full != present):
        top, bottom = int(full.max()), int(full.min())
        if top > present[-1] or bottom < 0:
            got = f"{top} > {present[-1]}" if top > present[-1] else f"{bottom} < 0"
            raise InvalidInputError(
                f"All labels must be in [0, n labels) for multilabel targets. Got {got}. A "
                "label of a multilabel target is its column index. To fix: pass indices "
                f"from 0 to {present[-1]}."
            )
    return wanted


def indicator_counts(targets: Targets, labels: np.ndarray | None, samplewise: bool) -> Counts:
    """Per label (or, ``samplewise``, per sample) ``(tp, fp, fn, tn)`` of a multilabel target."""
    cols = label_columns(targets, labels)
    t, p, w = targets.y_true, targets.y_pred, targets.sample_weight
    if cols is not None:  # take keeps rows contiguous (fancy indexing would not)
        t, p = t.take(cols, axis=1), p.take(cols, axis=1)
    both = t & p
    if samplewise:
        tp, true_sum, pred_sum = (np.count_nonzero(m, axis=1) for m in (both, t, p))
        total: Any = t.shape[1]
        if w is not None:  # scikit-learn scales its int32 row counts by the weights
            tp, true_sum, pred_sum = (a.astype(np.int32) * w for a in (tp, true_sum, pred_sum))
            total = w * t.shape[1]
    else:
        tp, true_sum, pred_sum = (column_sums(m, w) for m in (both, t, p))
        total = t.shape[0] if w is None else w.sum()
    fp, fn = pred_sum - tp, true_sum - tp
    counts = (tp, fp, fn, total - tp - fp - fn)
    dtype = np.result_type(*counts)  # one dtype, as in scikit-learn's stacked matrices
    return tuple(np.asarray(a, dtype=dtype) for a in counts)  # type: ignore[return-value]


def column_sums(m: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """Per column: true entries (int), or their weights' sum accumulated in row order.

    On a C-ordered matrix of two or more columns, einsum adds one row after the other into the
    column totals; a single column would be summed pairwise, so it goes through bincount.
    """
    if w is None or not m.any():  # scikit-learn's weighted bincount of nothing is int64
        return np.count_nonzero(m, axis=0)
    w = w.astype(np.float64, copy=False)
    if m.shape[1] == 1:
        return np.bincount(np.zeros(np.count_nonzero(m), np.intp), weights=w[m[:, 0]])
    return np.einsum("i,ij->j", w, np.ascontiguousarray(m))


def row_mismatches(targets: Targets) -> np.ndarray:
    """Per sample, how many labels differ between ``y_true`` and ``y_pred``."""
    return np.count_nonzero(targets.mismatch(), axis=1)
