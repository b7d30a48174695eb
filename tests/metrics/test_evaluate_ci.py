"""evaluate(ci=True): every scalar metric gets its interval, from one set of resamples."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest
from rich.console import Console

from verdict.errors import InvalidInputError, InvalidParameterError, UndefinedMetricWarning
from verdict.metrics import evaluate
from verdict.metrics.bootstrap._front import bootstrap_ci


def multiclass(n=250, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += 1.0
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    return y, p.argmax(axis=1), p


def binary(n=250, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(int)
    s = np.clip(0.35 * y + 0.65 * rng.random(n), 0, 1)
    return y, (s > 0.5).astype(int), s


def flat_values(r):
    """Every scalar metric of an Evaluation, keyed as its interval is."""
    out = {}
    for name in ("accuracy", "balanced_accuracy", "matthews_corrcoef", "cohen_kappa"):
        out[name] = getattr(r, name)
    out["hamming_loss"] = r.hamming_loss
    for name in ("precision", "recall", "f1", "specificity", "jaccard", "roc_auc"):
        out.update({f"{name}_{a}": v for a, v in getattr(r, name).items()})
    out.update({f"average_precision_{a}": v for a, v in r.average_precision.items()})
    out.update({f"top_{k}_accuracy": v for k, v in r.top_k_accuracy.items()})
    out["log_loss"], out["brier_score"] = r.log_loss, r.brier_score
    return {k: v for k, v in out.items() if v is not None}


@pytest.mark.parametrize("task", ["binary", "multiclass"])
@pytest.mark.parametrize("weighted", [False, True])
def test_every_scalar_metric_has_its_interval(task, weighted):
    y, yp, s = binary() if task == "binary" else multiclass(k=4)
    w = np.random.default_rng(1).random(y.shape[0]) if weighted else None
    r = evaluate(y, yp, s, sample_weight=w, ci=True, n_resamples=300, random_state=0)
    values = flat_values(r)
    assert set(r.intervals) == set(values)
    for name, value in values.items():
        ci = r.intervals[name]
        assert ci.metric == name
        assert ci.estimate == pytest.approx(value, rel=1e-12, abs=1e-14), name
        assert ci.low <= ci.high and ci.n_resamples == 300 and ci.method == "percentile"
        assert ci.distribution is None
    assert (r.interval_method, r.interval_confidence, r.interval_resamples) == (
        "percentile",
        0.95,
        300,
    )
    assert r.interval_seed == 0


def test_count_intervals_equal_bootstrap_ci_with_the_same_seed():
    """Count metrics read the resampled cells only: evaluate and bootstrap_ci draw the same."""
    y, yp, p = multiclass(seed=3)
    r = evaluate(y, yp, p, ci=True, random_state=7)
    for name in ("f1_macro", "accuracy", "matthews_corrcoef", "specificity_weighted"):
        alone = bootstrap_ci(name, y, yp, random_state=7)
        assert (r.intervals[name].low, r.intervals[name].high) == (alone.low, alone.high)
    labels_only = evaluate(y, yp, ci=True, random_state=7, ci_method="bca")
    alone = bootstrap_ci("recall_macro", y, yp, random_state=7, method="bca")
    assert labels_only.intervals["recall_macro"].high == alone.high


def test_scores_only_and_decision_scores():
    y, _, p = multiclass(seed=4)
    r = evaluate(y, y_score=p, ci=True, n_resamples=200, random_state=1)
    assert {"roc_auc_macro", "log_loss", "top_2_accuracy"} <= set(r.intervals)
    assert "accuracy" not in r.intervals
    r = evaluate(y, y_score=np.log(p), proba=False, ci=True, n_resamples=200, random_state=1)
    assert "log_loss" not in r.intervals and "roc_auc_weighted" in r.intervals


def test_ci_false_is_unchanged():
    y, yp, p = multiclass(seed=5)
    r = evaluate(y, yp, p)
    assert r.intervals == {} and r.interval_method is None and r.interval_seed is None
    assert "bootstrap" not in str(r)


def test_seed_is_drawn_and_recorded_when_not_given():
    y, yp, _ = multiclass(seed=6)
    r = evaluate(y, yp, ci=True, n_resamples=200)
    again = evaluate(y, yp, ci=True, n_resamples=200, random_state=r.interval_seed)
    assert r.intervals["f1_macro"] == again.intervals["f1_macro"]
    gen = evaluate(y, yp, ci=True, n_resamples=50, random_state=np.random.default_rng(0))
    assert gen.interval_seed is None and gen.intervals


def test_json_str_and_rich_show_intervals():
    y, yp, p = binary(seed=7)
    r = evaluate(y, yp, p, ci=True, n_resamples=200, random_state=0, confidence=0.9)
    data = json.loads(r.to_json())
    assert data["intervals"]["roc_auc_binary"]["low"] == r.intervals["roc_auc_binary"].low
    assert data["interval_confidence"] == 0.9 and data["interval_resamples"] == 200
    text = str(r)
    f1 = r.intervals["f1_binary"]
    assert f"{r.f1['binary']:.4f} [{f1.low:.4f}, {f1.high:.4f}]" in text
    assert "90% percentile bootstrap, 200 resamples, seed 0" in text
    console = Console(width=80, record=True)
    console.print(r)
    table = console.export_text()
    assert f"{r.f1['binary']:.4f} [{f1.low:.3f}, {f1.high:.3f}]" in table
    assert "value [90% interval]" in table
    assert max(len(line) for line in table.splitlines()) <= 80


def test_degenerate_resamples_are_reported_once():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 40)
    y[0] = 2
    yp = np.where(rng.random(40) < 0.8, y, rng.integers(0, 3, 40))
    with pytest.warns(UndefinedMetricWarning) as record:
        r = evaluate(y, yp, ci=True, random_state=0)
    messages = [str(w.message) for w in record if "degenerate" in str(w.message)]
    assert len(messages) == 1 and "f1_macro" in messages[0]
    assert re.search(r"(?<!\w)accuracy", messages[0]) is None  # never degenerate
    assert r.intervals["f1_macro"].n_degenerate > 0
    assert r.intervals["accuracy"].n_degenerate == 0
    assert np.isfinite(r.intervals["f1_macro"].low)


def test_undefined_metrics_get_no_interval():
    y = np.array([0, 0, 1, 1, 0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = evaluate(y, np.zeros(6, dtype=int), ci=True, n_resamples=50, random_state=0)
    assert r.cohen_kappa == 0.0 and "cohen_kappa" in r.intervals


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ci": "yes"}, "'ci'"),
        ({"ci": True, "confidence": 1.5}, "'confidence'"),
        ({"ci": True, "n_resamples": 0}, "'n_resamples'"),
        ({"ci": True, "ci_method": "wilson"}, "'ci_method'"),
        ({"ci": True, "random_state": -3}, "'random_state'"),
    ],
)
def test_ci_parameter_errors(kwargs, match):
    y, yp, _ = multiclass(seed=8)
    with pytest.raises(InvalidParameterError, match=match):
        evaluate(y, yp, **kwargs)


def test_negative_weights_refused_for_intervals():
    y, yp, _ = multiclass(seed=9)
    w = np.ones(y.shape[0])
    w[0] = -1
    evaluate(y, yp, sample_weight=w)  # the point estimates accept them, as scikit-learn does
    with pytest.raises(InvalidInputError, match="non-negative"):
        evaluate(y, yp, sample_weight=w, ci=True)
