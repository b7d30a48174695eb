"""paired_bootstrap_ci: both models on the same resampled rows; the interval of a - b."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as skm

from verdict.metrics.bootstrap._front import bootstrap_ci, paired_bootstrap_ci


def two_models(n=300, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(int)
    base = rng.normal(size=n) + 1.2 * y
    score_a = base + 0.3 * rng.normal(size=n)
    score_b = base + 0.8 * rng.normal(size=n)
    return y, score_a, score_b


def test_difference_of_estimates_and_shares():
    y, a, b = two_models()
    d = paired_bootstrap_ci("roc_auc", y, a, b, random_state=0, return_distribution=True)
    assert d.estimate_a == pytest.approx(skm.roc_auc_score(y, a), rel=1e-12)
    assert d.estimate_b == pytest.approx(skm.roc_auc_score(y, b), rel=1e-12)
    assert d.difference == pytest.approx(d.estimate_a - d.estimate_b, rel=1e-12)
    assert d.share_a_higher == pytest.approx(np.mean(d.distribution > 0))
    assert d.share_a_higher + d.share_b_higher <= 1
    assert d.low < d.difference < d.high
    assert "distribution" not in str(d)


@pytest.mark.parametrize("metric", ["f1_macro", "roc_auc", "log_loss", "accuracy"])
def test_paired_distribution_is_a_minus_b_on_the_same_rows(metric):
    """The paired draws equal the separate ones when b is a itself shifted by nothing."""
    y, a, b = two_models(200, seed=1)
    if metric in ("f1_macro", "accuracy"):
        a, b = (a > 0.5).astype(int), (b > 0.5).astype(int)
    if metric == "log_loss":
        a, b = 1 / (1 + np.exp(-a)), 1 / (1 + np.exp(-b))
    same = paired_bootstrap_ci(metric, y, a, a, random_state=2, return_distribution=True)
    assert same.difference == 0 and same.low == 0 and same.high == 0
    assert same.share_a_higher == 0 and same.share_b_higher == 0
    paired = paired_bootstrap_ci(metric, y, a, b, random_state=2)
    sep_a = bootstrap_ci(metric, y, a, random_state=2)
    sep_b = bootstrap_ci(metric, y, b, random_state=3)
    # correlated models: the paired interval is narrower than the separate ones combined
    assert paired.high - paired.low < np.hypot(sep_a.width, sep_b.width)


def test_paired_count_metric_matches_sklearn_on_resampled_rows():
    from verdict.metrics.bootstrap._engine import Difference
    from verdict.metrics.bootstrap._inputs import build_problem, settings_of
    from verdict.metrics.bootstrap._resample import Resampler

    rng = np.random.default_rng(4)
    y = rng.integers(0, 3, 80)
    pa = np.where(rng.random(80) < 0.7, y, rng.integers(0, 3, 80))
    pb = np.where(rng.random(80) < 0.6, y, rng.integers(0, 3, 80))
    settings = settings_of("t", 30, 0.95, "percentile", False, 0)
    problem = build_problem("f1_macro", y, [pa, pb], ["pred_a", "pred_b"], None, None, settings)
    diff = Difference(*problem.stats)
    for _, batch in Resampler(problem.design, 30, np.random.default_rng(0)).batches(True):
        values = diff.values(batch)
        for i in range(batch.size):
            rows = np.repeat(problem.design.layout, batch.rows[i].astype(np.intp))
            if np.isnan(values[i]):
                continue
            ref = skm.f1_score(y[rows], pa[rows], average="macro") - skm.f1_score(
                y[rows], pb[rows], average="macro"
            )
            assert values[i] == pytest.approx(ref, abs=1e-12)


def test_paired_callable_and_bca():
    y, a, b = two_models(150, seed=5)
    d = paired_bootstrap_ci(skm.roc_auc_score, y, a, b, random_state=0, n_resamples=200)
    named = paired_bootstrap_ci("roc_auc", y, a, b, random_state=0, n_resamples=200)
    assert d.metric == "roc_auc_score" and d.difference == pytest.approx(named.difference)
    bca = paired_bootstrap_ci("roc_auc", y, a, b, random_state=0, method="bca")
    assert bca.method == "bca" and bca.low < bca.difference < bca.high
