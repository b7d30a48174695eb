"""The one counting kernel: a weighted bincount of (true, predicted) pairs.

Every metric that comes from the confusion matrix (accuracy, precision, recall, F, specificity,
Jaccard, MCC, kappa ...) is a small reduction over ``JointCounts``; nothing else counts labels.
Label-indicator (multilabel) targets are counted by ``_multilabel``; ``one_vs_rest_counts``
gives either task's per-class (or per-sample) ``(tp, fp, fn, tn)``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from verdict.errors import InvalidInputError
from verdict.metrics._multilabel import Counts, indicator_counts
from verdict.metrics._targets import Targets, check_targets
from verdict.metrics._validation import (
    SMALL_RANGE,
    check_choice,
    check_flag,
    encode,
    labels_arg,
)
from verdict.metrics._validation import check_label_types as check_label_types  # bootstrap's

# Joint (true, pred) index space stays below this many cells on the bincount fast path.
_MAX_JOINT_CELLS = 1 << 20


@dataclass(frozen=True, slots=True)
class JointCounts:
    """Confusion matrix over the sorted union of labels present in ``y_true`` or ``y_pred``.

    ``counts`` is unweighted (it decides which labels are present, as scikit-learn does even for
    zero-weight rows); ``weighted`` carries the sample weights and is ``counts`` itself when there
    are none. Rows are true labels, columns predicted labels.
    """

    labels: np.ndarray
    counts: np.ndarray
    weighted: np.ndarray

    @property
    def true_present(self) -> np.ndarray:
        return self.counts.sum(axis=1) > 0

    def total(self) -> Any:
        return self.weighted.sum()

    def select(self, labels: np.ndarray) -> np.ndarray:
        """The weighted matrix over ``labels`` in that order; absent labels give zeros."""
        pos = index_of(labels, self.labels)
        out = np.zeros((labels.shape[0], labels.shape[0]), dtype=self.weighted.dtype)
        ok = pos >= 0
        out[np.ix_(ok, ok)] = self.weighted[np.ix_(pos[ok], pos[ok])]
        return out


def validate_targets(y_true: Any, y_pred: Any, sample_weight: Any = None) -> Targets:
    """Check and convert a pair of 1-D label arrays and their weights, once, at the boundary."""
    targets = check_targets(y_true, y_pred, sample_weight)
    if targets.multilabel:
        raise _not_supported(targets.kind)
    return targets


def _not_supported(kind: str) -> InvalidInputError:
    return InvalidInputError(
        f"{kind} is not supported. This metric reads one label per sample. To fix: score each "
        "label column on its own, or use a metric that takes label-indicator matrices."
    )


def joint_counts(targets: Targets) -> JointCounts:
    """Count (true, predicted) pairs with one bincount over a joint index."""
    yt, yp, sw = targets.y_true, targets.y_pred, targets.sample_weight
    fast = _small_int_joint(yt, yp)
    if fast is not None:
        index, lo, width = fast
    else:
        labels = targets.labels
        width, lo = labels.shape[0], 0
        index = encode(yt, labels) * width + encode(yp, labels)
    counts = np.bincount(index, minlength=width * width).reshape(width, width)
    present = (counts.sum(axis=1) > 0) | (counts.sum(axis=0) > 0)
    if fast is not None:
        labels = (np.flatnonzero(present) + lo).astype(np.result_type(yt.dtype, yp.dtype))
        counts = counts[np.ix_(present, present)]
    weighted = counts
    if sw is not None:
        weighted = _weighted_bincount(index, sw, width * width).reshape(width, width)
        if fast is not None:
            weighted = weighted[np.ix_(present, present)]
    return JointCounts(labels, counts, weighted)


def _weighted_bincount(index: np.ndarray, sw: np.ndarray, size: int) -> np.ndarray:
    """Summed weights per index: float64, or int64 (wrapping as scikit-learn's) for integers."""
    if sw.dtype.kind not in "biu":
        return np.bincount(index, weights=sw, minlength=size)
    bound = max(-int(sw.min()), int(sw.max())) * sw.shape[0]
    if bound < 1 << 53:  # every partial sum is exact in float64
        return np.bincount(index, weights=sw, minlength=size).astype(np.int64)
    out = np.zeros(size, dtype=np.int64)
    np.add.at(out, index, sw.astype(np.int64))
    return out


def _small_int_joint(yt: np.ndarray, yp: np.ndarray) -> tuple[np.ndarray, int, int] | None:
    """Joint index ``(t - lo) * width + (p - lo)`` when both are integers of a small range."""
    if yt.dtype.kind not in "iub" or yp.dtype.kind not in "iub":
        return None
    if yt.dtype.kind == "b":
        yt = yt.view(np.uint8)
    if yp.dtype.kind == "b":
        yp = yp.view(np.uint8)
    lo = min(int(yt.min()), int(yp.min()))
    hi = max(int(yt.max()), int(yp.max()))
    width = hi - lo + 1
    if width > SMALL_RANGE or width * width > _MAX_JOINT_CELLS or max(-lo, hi) >= 1 << 62:
        return None
    index = yt.astype(np.intp) if yt.dtype != np.intp else yt * width
    if yt.dtype != np.intp:
        index *= width
    index += yp if yp.dtype.itemsize < 8 or yp.dtype == np.intp else yp.astype(np.intp)
    if lo:
        index -= lo * (width + 1)
    return index, lo, width


def index_of(values: np.ndarray, sorted_labels: np.ndarray) -> np.ndarray:
    """Position of each requested label among the present ones; -1 where absent."""
    if values.dtype.kind in "US" and sorted_labels.dtype.kind not in "US":
        return np.full(values.shape, -1, dtype=np.intp)
    if sorted_labels.dtype.kind in "US" and values.dtype.kind not in "US":
        return np.full(values.shape, -1, dtype=np.intp)
    idx = np.searchsorted(sorted_labels, values)
    idx = np.minimum(idx, sorted_labels.shape[0] - 1)
    return np.where(sorted_labels[idx] == values, idx, -1)


def confusion_matrix(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    sample_weight: Any = None,
    normalize: str | None = None,
) -> np.ndarray:
    """Compute the confusion matrix, ``C[i, j]`` = samples of true class i predicted as j.

    Same signature and result as ``sklearn.metrics.confusion_matrix``; computed with one
    bincount instead of a sparse matrix. Integer counts stay ``int64`` unless the weights are
    floats. ``normalize`` in {'true', 'pred', 'all'} divides by rows, columns or the total.
    """
    check_choice("normalize", normalize, ["true", "pred", "all", None], "confusion_matrix")
    joint = joint_counts(validate_targets(y_true, y_pred, sample_weight))
    wanted = labels_arg(labels)
    if wanted is None:
        cm = joint.weighted
    else:
        pos = index_of(wanted, joint.labels)
        if not (pos >= 0).any() or not joint.true_present[pos[pos >= 0]].any():
            raise InvalidInputError(
                "At least one label specified must be in y_true: none of labels="
                f"{wanted.tolist()} occurs in y_true. To fix: pass labels that occur in the data."
            )
        cm = joint.select(wanted)
    cm = _normalize(cm, normalize)
    if cm.shape == (1, 1):
        warnings.warn(
            "A single label was found in 'y_true' and 'y_pred'. For the confusion matrix to "
            "have the correct shape, use the 'labels' parameter to pass all known labels.",
            UserWarning,
            stacklevel=2,
        )
    return cm


def _normalize(cm: np.ndarray, normalize: str | None) -> np.ndarray:
    if normalize is None:
        return cm
    with np.errstate(all="ignore"):
        if normalize == "true":
            cm = cm / cm.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            cm = cm / cm.sum(axis=0, keepdims=True)
        else:
            cm = cm / cm.sum()
    return np.nan_to_num(cm)


def class_counts(joint: JointCounts, labels: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """Per-class one-vs-rest (tp, fp, fn, tn) for ``labels`` (all present labels when None)."""
    w = joint.weighted
    if w is not joint.counts:  # weighted sums are float, even for integer weights (sklearn's)
        w = w.astype(np.float64, copy=False)
    diag, pred_sum, true_sum = np.diagonal(w), w.sum(axis=0), w.sum(axis=1)
    total = w.sum()
    if labels is not None:
        pos = index_of(labels, joint.labels)
        ok = pos >= 0
        diag, pred_sum, true_sum = (_take_or_zero(a, pos, ok) for a in (diag, pred_sum, true_sum))
    tp = diag
    fp = pred_sum - tp
    fn = true_sum - tp
    tn = total - tp - fp - fn
    return tp, fp, fn, tn


def _take_or_zero(values: np.ndarray, pos: np.ndarray, ok: np.ndarray) -> np.ndarray:
    out = np.zeros(pos.shape[0], dtype=values.dtype)
    out[ok] = values[pos[ok]]
    return out


def one_vs_rest_counts(targets: Targets, labels: np.ndarray | None, samplewise: bool) -> Counts:
    """Per class (all present ones when ``labels`` is None) or, ``samplewise`` on a multilabel
    target, per sample: ``(tp, fp, fn, tn)``, as scikit-learn's multilabel confusion matrix."""
    if targets.multilabel:
        return indicator_counts(targets, labels, samplewise)
    if samplewise:
        raise InvalidInputError(
            "Samplewise metrics are not available outside of multilabel classification: "
            "samplewise=True and average='samples' need a label-indicator matrix. To fix: "
            "leave samplewise=False, or choose another average."
        )
    return class_counts(joint_counts(targets), labels)


def multilabel_confusion_matrix(
    y_true: Any,
    y_pred: Any,
    *,
    sample_weight: Any = None,
    labels: Any = None,
    samplewise: bool = False,
) -> np.ndarray:
    """One-vs-rest 2x2 confusion matrices, ``[[tn, fp], [fn, tp]]`` per class or label.

    Same as ``sklearn.metrics.multilabel_confusion_matrix``: binary and multiclass labels
    (``labels`` may name absent classes) and label-indicator matrices (``labels`` picks columns;
    ``samplewise=True`` gives one matrix per sample).
    """
    check_flag("samplewise", samplewise, "multilabel_confusion_matrix")
    targets = check_targets(y_true, y_pred, sample_weight)
    tp, fp, fn, tn = one_vs_rest_counts(targets, labels_arg(labels), samplewise)
    return np.stack([tn, fp, fn, tp]).T.reshape(-1, 2, 2)
