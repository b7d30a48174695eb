"""The arithmetic of confidence-based performance estimation (CBPE).

For each row the predicted class is known and, if the model is calibrated, the true class is
distributed as the row's probabilities. Summing the probabilities of the rows predicted as
class ``p`` gives the expected column ``p`` of the confusion matrix; every count metric follows.
Intervals come from simulating the labels the rows would get (one categorical draw per row and
resample), which is the spread of the performance that the real labels will show on these rows.
"""

from __future__ import annotations

import numpy as np

# how many (resample, row, class) comparisons one simulated block may hold
_BLOCK_CELLS = 4_000_000


def expected_confusion(proba: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """``C[t, p]``: the expected number of rows of true class t predicted as p."""
    n_classes = proba.shape[1]
    onehot = np.zeros((pred.shape[0], n_classes))
    onehot[np.arange(pred.shape[0]), pred] = 1.0
    return proba.T @ onehot


def simulated_confusions(
    proba: np.ndarray, pred: np.ndarray, n_resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """``(n_resamples, K, K)`` confusion matrices with labels drawn from the probabilities."""
    n, k = proba.shape
    cum = np.cumsum(proba, axis=1)[:, :-1]
    block = max(1, _BLOCK_CELLS // max(1, n * k))
    out = np.empty((n_resamples, k, k), dtype=np.int64)
    for start in range(0, n_resamples, block):
        size = min(block, n_resamples - start)
        u = rng.random((size, n))
        true = (u[:, :, None] >= cum[None, :, :]).sum(axis=2)
        cells = true * k + pred[None, :] + (np.arange(size) * k * k)[:, None]
        counts = np.bincount(cells.ravel(), minlength=size * k * k)
        out[start : start + size] = counts.reshape(size, k, k)
    return out


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with 0 where ``den`` is 0 (scikit-learn's zero_division default)."""
    safe = np.where(den > 0, den, 1.0)
    return np.where(den > 0, num / safe, 0.0)


def confusion_metrics(confusion: np.ndarray) -> dict[str, np.ndarray]:
    """Accuracy and macro (and, for two classes, binary) precision, recall and F1.

    ``confusion`` is ``(..., K, K)`` with true classes on the rows; the binary positive class
    is the last one, as in ``evaluate``.
    """
    c = np.asarray(confusion, dtype=np.float64)
    diag = np.diagonal(c, axis1=-2, axis2=-1)
    true_total = c.sum(axis=-1)
    pred_total = c.sum(axis=-2)
    n = true_total.sum(axis=-1)
    precision = _ratio(diag, pred_total)
    recall = _ratio(diag, true_total)
    f1 = _ratio(2 * diag, true_total + pred_total)
    out = {
        "accuracy": _ratio(diag.sum(axis=-1), n),
        "precision_macro": precision.mean(axis=-1),
        "recall_macro": recall.mean(axis=-1),
        "f1_macro": f1.mean(axis=-1),
    }
    if c.shape[-1] == 2:
        out |= {
            "precision_binary": precision[..., -1],
            "recall_binary": recall[..., -1],
            "f1_binary": f1[..., -1],
        }
    return out
