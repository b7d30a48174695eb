"""evaluate() against the individual scikit-learn metrics it replaces."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm

from verdict.errors import InvalidInputError
from verdict.metrics import Evaluation, evaluate

RTOL = 1e-12


def _binary(n: int, seed: int, ties: bool = False):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(int)
    s = np.clip(0.35 * y + 0.65 * rng.random(n), 0, 1)
    if ties:
        s = np.round(s, 1)
    return y, (s > 0.5).astype(int), s


def _multiclass(n: int, k: int, seed: int):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += 1.0
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    return y, p.argmax(axis=1), p


def _close(a, b):
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=0)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ties", [False, True])
def test_binary_matches_sklearn(seed, weighted, ties):
    y, yp, s = _binary(500, seed, ties)
    w = np.random.default_rng(seed).random(500) if weighted else None
    if weighted:
        w[:20] = 0
    r = evaluate(y, yp, s, sample_weight=w)
    assert r.task == "binary" and r.labels == [0, 1] and r.positive_label == 1
    _close(r.confusion_matrix, skm.confusion_matrix(y, yp, sample_weight=w))
    _close(r.accuracy, skm.accuracy_score(y, yp, sample_weight=w))
    _close(r.balanced_accuracy, skm.balanced_accuracy_score(y, yp, sample_weight=w))
    _close(r.matthews_corrcoef, skm.matthews_corrcoef(y, yp, sample_weight=w))
    _close(r.cohen_kappa, skm.cohen_kappa_score(y, yp, sample_weight=w))
    for avg in ("binary", "micro", "macro", "weighted"):
        p, rc, f, _ = skm.precision_recall_fscore_support(y, yp, average=avg, sample_weight=w)
        _close([r.precision[avg], r.recall[avg], r.f1[avg]], [p, rc, f])
        _close(r.jaccard[avg], skm.jaccard_score(y, yp, average=avg, sample_weight=w))
    _close(r.roc_auc["binary"], skm.roc_auc_score(y, s, sample_weight=w))
    _close(r.average_precision["binary"], skm.average_precision_score(y, s, sample_weight=w))
    _close(r.log_loss, skm.log_loss(y, s, sample_weight=w))
    _close(r.brier_score, skm.brier_score_loss(y, s, sample_weight=w))
    fpr, tpr, thr = skm.roc_curve(y, s, sample_weight=w)
    curve = r.roc_curves[1]
    _close(curve.fpr, fpr)
    _close(curve.tpr, tpr)
    _close(curve.thresholds, thr)
    prec, rec, pthr = skm.precision_recall_curve(y, s, sample_weight=w, drop_intermediate=True)
    _close(r.pr_curves[1].precision, prec)
    _close(r.pr_curves[1].recall, rec)
    _close(r.pr_curves[1].thresholds, pthr)


@pytest.mark.parametrize("k", [3, 5, 10])
@pytest.mark.parametrize("weighted", [False, True])
def test_multiclass_matches_sklearn(k, weighted):
    y, yp, p = _multiclass(800, k, k)
    w = np.random.default_rng(k).random(800) if weighted else None
    r = evaluate(y, yp, p, sample_weight=w)
    assert r.task == "multiclass" and len(r.per_class) == k
    for avg in ("micro", "macro", "weighted"):
        pr, rc, f, _ = skm.precision_recall_fscore_support(y, yp, average=avg, sample_weight=w)
        _close([r.precision[avg], r.recall[avg], r.f1[avg]], [pr, rc, f])
    for avg in ("macro", "weighted"):
        _close(
            r.roc_auc[avg], skm.roc_auc_score(y, p, multi_class="ovr", average=avg, sample_weight=w)
        )
        _close(
            r.average_precision[avg],
            skm.average_precision_score(y, p, average=avg, sample_weight=w),
        )
    for kk, value in r.top_k_accuracy.items():
        _close(value, skm.top_k_accuracy_score(y, p, k=kk, sample_weight=w))
    _close(r.log_loss, skm.log_loss(y, p, sample_weight=w))
    _close(r.brier_score, skm.brier_score_loss(y, p, sample_weight=w))
    support = np.bincount(y, weights=w, minlength=k)
    _close([c.support for c in r.per_class], support)
    per_class_auc = [skm.roc_auc_score(y == c, p[:, c], sample_weight=w) for c in range(k)]
    _close([c.roc_auc for c in r.per_class], per_class_auc)
    mcm = skm.multilabel_confusion_matrix(y, yp, sample_weight=w)
    spec = mcm[:, 0, 0] / (mcm[:, 0, 0] + mcm[:, 0, 1])
    _close([c.specificity for c in r.per_class], spec)


def test_string_labels_and_pandas_and_given_order():
    y, yp, p = _multiclass(300, 3, 1)
    names = np.array(["cat", "dog", "emu"])
    order = ["emu", "cat", "dog"]
    scores = pd.DataFrame(p[:, [2, 0, 1]], columns=order)
    r = evaluate(pd.Series(names[y]), pd.Series(names[yp]), scores, labels=order)
    assert r.labels == order
    _close(r.roc_auc["macro"], skm.roc_auc_score(y, p, multi_class="ovr"))
    _close(r.log_loss, skm.log_loss(y, p))
    _close(r.confusion_matrix, skm.confusion_matrix(names[y], names[yp], labels=order))


def test_labels_only_or_scores_only():
    y, yp, s = _binary(200, 3)
    hard = evaluate(y, yp)
    assert hard.roc_auc == {} and hard.log_loss is None and hard.accuracy is not None
    soft = evaluate(y, y_score=s)
    assert soft.accuracy is None and soft.confusion_matrix is None
    assert soft.roc_auc["binary"] == pytest.approx(skm.roc_auc_score(y, s), rel=RTOL)
    decision = evaluate(y, y_score=4 * s - 2, proba=False)
    assert decision.log_loss is None
    assert decision.roc_auc["binary"] == pytest.approx(soft.roc_auc["binary"], rel=RTOL)


def test_result_converts_to_json_and_prints():
    y, yp, p = _multiclass(200, 3, 2)
    r = evaluate(y, yp, p)
    assert isinstance(r, Evaluation)
    data = json.loads(r.to_json())
    assert data["labels"] == [0, 1, 2]
    assert "roc_curves" not in data
    assert "roc_curves" in json.loads(r.to_json(curves=True))
    assert "accuracy" in str(r)
    assert set(r.summary()) >= {"accuracy", "f1", "roc_auc", "log_loss"}


def test_class_absent_from_truth_is_reported_not_hidden():
    y = np.array([0, 1, 0, 1, 0, 1])
    yp = np.array([0, 1, 2, 1, 0, 1])
    p = np.full((6, 3), 1 / 3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = evaluate(y, yp, p)
    assert r.per_class[2].roc_auc is None
    assert any("undefined for classes [2]" in str(w.message) for w in caught)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"y_true": [0, 1], "y_pred": [0, 1, 1]}, "different numbers of samples"),
        ({"y_true": [0, 1, 0], "y_score": [0.1, np.nan, 0.3]}, "y_score contains NaN"),
        ({"y_true": [0, 1, 0], "y_score": [0.1, 1.5, 0.3]}, "proba=False"),
        ({"y_true": [0, 1, 2], "y_score": [[0.5, 0.6, 0.1]] * 3}, "sum to 1"),
        ({"y_true": [0, 0, 0], "y_pred": [0, 0, 0]}, "Only one class"),
        ({"y_true": [0, 1, 2], "y_score": np.eye(2)[[0, 1, 1]]}, "columns"),
        ({"y_true": [0, 1]}, "needs y_pred, y_score or both"),
        ({"y_true": [], "y_pred": []}, "empty"),
        ({"y_true": [0, 1, 2], "y_pred": [0, 1, 2], "labels": [0, 1]}, "not in labels"),
    ],
)
def test_bad_input_gets_a_clear_error(kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        evaluate(**kwargs)
