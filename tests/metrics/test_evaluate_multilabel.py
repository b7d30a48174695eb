"""``evaluate`` on label-indicator targets: every value equals scikit-learn's call, and every
bootstrap statistic equals the metric recomputed on the resampled rows."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from verdict.errors import InvalidInputError
from verdict.metrics import evaluate
from verdict.metrics.bootstrap._multilabel import multilabel_design, multilabel_statistics
from verdict.metrics.bootstrap._resample import Batch
from verdict.metrics.evaluation._multilabel import row_ranking

AVERAGES = ("micro", "macro", "weighted", "samples")


def _sklearn(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


def _evaluate(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return evaluate(*args, **kwargs)


@st.composite
def multilabel_case(draw):
    n = draw(st.integers(2, 40))
    n_labels = draw(st.integers(2, 6))
    t = draw(arrays(np.int8, (n, n_labels), elements=st.integers(0, 1)))
    p = draw(arrays(np.int8, (n, n_labels), elements=st.integers(0, 1)))
    # few distinct score values, so ties within rows and within columns are frequent
    s = draw(arrays(np.float64, (n, n_labels), elements=st.sampled_from([0.0, 0.2, 0.5, 0.7, 1.0])))
    w = draw(st.none() | arrays(np.int64, n, elements=st.integers(1, 4)))
    return t, p, s, w


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(multilabel_case())
def test_every_value_is_scikit_learns(case):
    t, p, s, w = case
    e = _evaluate(t, p, s, sample_weight=w)
    assert e.task == "multilabel"
    close = dict(rel=1e-12, abs=1e-12)
    assert e.accuracy == pytest.approx(skm.accuracy_score(t, p, sample_weight=w), **close)
    assert e.hamming_loss == pytest.approx(skm.hamming_loss(t, p, sample_weight=w), **close)
    mcm = skm.multilabel_confusion_matrix(t, p, sample_weight=w)
    np.testing.assert_allclose(e.confusion_matrix, mcm)
    for average in AVERAGES:
        prfs = _sklearn(skm.precision_recall_fscore_support, t, p, average=average, sample_weight=w)
        assert e.precision[average] == pytest.approx(prfs[0], **close)
        assert e.recall[average] == pytest.approx(prfs[1], **close)
        assert e.f1[average] == pytest.approx(prfs[2], **close)
        jac = _sklearn(skm.jaccard_score, t, p, average=average, sample_weight=w)
        assert e.jaccard[average] == pytest.approx(jac, **close)
    per_label = _sklearn(skm.precision_recall_fscore_support, t, p, average=None, sample_weight=w)
    np.testing.assert_allclose([c.f1 for c in e.per_class], per_label[2], rtol=1e-12)
    np.testing.assert_allclose([c.support for c in e.per_class], per_label[3], rtol=1e-12)
    for name, func in (
        ("coverage_error", skm.coverage_error),
        ("label_ranking_average_precision", skm.label_ranking_average_precision_score),
        ("label_ranking_loss", skm.label_ranking_loss),
    ):
        assert getattr(e, name) == pytest.approx(func(t, s, sample_weight=w), **close), name
    flat_w = None if w is None else np.repeat(w, t.shape[1])
    ll = skm.log_loss(t.ravel(), s.ravel(), sample_weight=flat_w, labels=[0, 1])
    assert e.log_loss == pytest.approx(ll, **close)
    brier = skm.brier_score_loss(t.ravel(), s.ravel(), sample_weight=flat_w, labels=[0, 1])
    assert e.brier_score == pytest.approx(brier, **close)


@pytest.mark.filterwarnings("ignore:ROC AUC and average precision are undefined")
@settings(max_examples=150, deadline=None)
@given(multilabel_case())
def test_ranking_values_are_scikit_learns_where_defined(case):
    t, _, s, w = case
    e = _evaluate(t, None, s, sample_weight=w)
    defined = (t.any(axis=0)) & (~t.all(axis=0))
    for k in np.flatnonzero(defined):
        auc = skm.roc_auc_score(t[:, k], s[:, k], sample_weight=w)
        assert e.per_class[k].roc_auc == pytest.approx(auc, rel=1e-12, abs=1e-12)
    if defined.all():
        for average in ("micro", "macro", "weighted"):
            for key, func in (
                ("roc_auc", skm.roc_auc_score),
                ("average_precision", skm.average_precision_score),
            ):
                expected = _sklearn(func, t, s, average=average, sample_weight=w)
                assert getattr(e, key)[average] == pytest.approx(expected, rel=1e-12, abs=1e-12)
    expected_ap = _sklearn(skm.average_precision_score, t, s, average="samples", sample_weight=w)
    assert e.average_precision["samples"] == pytest.approx(expected_ap, rel=1e-12, abs=1e-12)
    rows_defined = t.any(axis=1) & ~t.all(axis=1)
    if rows_defined.all():
        expected = skm.roc_auc_score(t, s, average="samples", sample_weight=w)
        assert e.roc_auc["samples"] == pytest.approx(expected, rel=1e-12, abs=1e-12)
    elif rows_defined.any():  # evaluate leaves the single-class rows out, and says so
        sub = rows_defined
        expected = skm.roc_auc_score(
            t[sub], s[sub], average="samples", sample_weight=None if w is None else w[sub]
        )
        assert e.roc_auc["samples"] == pytest.approx(expected, rel=1e-12, abs=1e-12)
        with pytest.warns(UserWarning, match="leaves them out"):
            evaluate(t, None, s, sample_weight=w)


def test_row_ranking_handles_blocks_of_rows(monkeypatch):
    """The pairwise comparisons run block by block; the result does not depend on the block."""
    rng = np.random.default_rng(3)
    t = (rng.random((500, 7)) < 0.3).astype(int)
    s = rng.integers(0, 5, (500, 7)) / 4
    whole = row_ranking(t.astype(bool), s)
    import verdict.metrics._label_ranking as ranking

    monkeypatch.setattr(ranking, "_BLOCK_ELEMENTS", 7 * 3)  # 3 rows per block
    blocks = row_ranking(t.astype(bool), s)
    for name in whole:
        np.testing.assert_array_equal(whole[name], blocks[name])


@pytest.mark.parametrize("weighted", [False, True])
def test_bootstrap_statistics_equal_the_metric_on_the_resampled_rows(weighted):
    """Each statistic, given a resample's row counts, equals scikit-learn on those rows."""
    rng = np.random.default_rng(0)
    n, n_labels = 300, 4
    t = (rng.random((n, n_labels)) < [0.2, 0.4, 0.5, 0.7]).astype(int)
    s = np.round(np.clip(0.35 * t + 0.65 * rng.random((n, n_labels)), 0, 1), 2)
    p = (s > 0.5).astype(int)
    w = rng.integers(1, 4, n).astype(float) if weighted else None
    e = _evaluate(t, p, s, sample_weight=w)
    averages = {
        m: list(getattr(e, m))
        for m in (
            "precision",
            "recall",
            "f1",
            "specificity",
            "jaccard",
            "roc_auc",
            "average_precision",
        )
    }
    from verdict.metrics.evaluation._multilabel import (
        _count_metrics,
        _probabilistic_metrics,
        _ranking_metrics,
    )

    row_terms: dict = {}
    tb, pb = t.astype(bool), p.astype(bool)
    names = list(range(n_labels))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _count_metrics(tb, pb, w, names, {}, {}, row_terms, {})
        _ranking_metrics(tb, s, w, names, {}, {}, row_terms, {})
    _probabilistic_metrics(tb, s, w, {}, row_terms)
    design = multilabel_design(tb, pb, w)
    stats = multilabel_statistics(design, tb, pb, s, averages, row_terms)
    assert {
        "f1_macro",
        "precision_micro",
        "jaccard_weighted",
        "roc_auc_macro",
        "accuracy",
        "label_ranking_loss",
        "log_loss",
        "f1_samples",
    } <= {x.name for x in stats}
    for trial in range(3):
        counts = rng.multinomial(n, np.full(n, 1 / n))  # one pair-bootstrap resample
        layout_rows = counts[design.layout][None, :].astype(np.int64)
        cell_counts = np.add.reduceat(layout_rows, design.cell_starts, axis=1)
        batch = Batch(design, cell_counts, layout_rows)
        keep = np.repeat(np.arange(n), counts)
        rt, rp, rs = t[keep], p[keep], s[keep]
        rw = None if w is None else w[keep]
        redo = _evaluate(rt, rp, rs, sample_weight=rw)
        for stat in stats:
            metric, _, average = stat.name.rpartition("_")
            if average in AVERAGES:
                expected = getattr(redo, metric)[average]
            else:
                expected = getattr(redo, stat.name)
            got = float(stat.values(batch)[0])
            assert got == pytest.approx(expected, rel=1e-9, abs=1e-12), (trial, stat.name)


def test_intervals_cover_every_scalar_and_are_reproducible():
    rng = np.random.default_rng(1)
    t = (rng.random((400, 3)) < 0.4).astype(int)
    s = np.clip(0.4 * t + 0.6 * rng.random((400, 3)), 0, 1)
    p = (s > 0.5).astype(int)
    a = _evaluate(t, p, s, ci=True, n_resamples=200, random_state=7)
    b = _evaluate(t, p, s, ci=True, n_resamples=200, random_state=7)
    assert a.intervals == b.intervals
    for name in (
        "accuracy",
        "hamming_loss",
        "f1_macro",
        "f1_samples",
        "roc_auc_macro",
        "average_precision_samples",
        "coverage_error",
        "log_loss",
    ):
        ci = a.intervals[name]
        assert ci.low <= ci.estimate <= ci.high, name
    # the micro ranking averages pool label columns: no row-resampled interval is claimed
    assert "roc_auc_micro" not in a.intervals


def test_bad_multilabel_input_says_what_to_fix():
    t = np.array([[0, 1], [1, 0]])
    with pytest.raises(InvalidInputError, match="label columns"):
        evaluate(t, np.array([[0, 1, 1], [1, 0, 0]]))
    with pytest.raises(InvalidInputError, match="only 0 and 1"):
        evaluate(np.array([[0, 2], [1, 0]]), t)
    with pytest.raises(InvalidInputError, match="one column per label"):
        evaluate(t, y_score=np.array([0.1, 0.2]))
    with pytest.raises(InvalidInputError, match="not probabilities"):
        evaluate(t, y_score=np.array([[0.1, 2.0], [0.3, 0.4]]))
    with pytest.raises(InvalidInputError, match="2 entries"):
        evaluate(t, t, labels=["a", "b", "c"])
    named = evaluate(t, t, labels=["spam", "eggs"])
    assert named.labels == ["spam", "eggs"] and named.per_class[1].label == "eggs"


def test_rendering_and_json_of_a_multilabel_evaluation():
    t = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0], [0, 0, 1]])
    s = np.array([[0.2, 0.8, 0.6], [0.7, 0.1, 0.9], [0.6, 0.7, 0.3], [0.4, 0.3, 0.8]])
    e = _evaluate(t, (s > 0.5).astype(int), s)
    text = str(e)
    assert "multilabel evaluation of 4 samples" in text and "label_ranking_loss" in text
    assert '"task": "multilabel"' in e.to_json()
    from rich.console import Console

    console = Console(width=100, record=True)
    console.print(e)
    assert "per label confusion" in console.export_text()


def test_bootstrap_ci_on_a_multilabel_target_is_evaluates_interval():
    from verdict.metrics import bootstrap_ci, f1_score, paired_bootstrap_ci

    rng = np.random.default_rng(2)
    t = (rng.random((300, 4)) < 0.4).astype(int)
    p = (rng.random((300, 4)) < 0.4).astype(int)
    s = np.clip(0.3 * t + 0.7 * rng.random((300, 4)), 0, 1)
    e = _evaluate(t, p, s, ci=True, n_resamples=200, random_state=5)
    for name, other in (("f1_samples", p), ("jaccard_micro", p), ("accuracy", p)):
        ci = bootstrap_ci(name, t, other, n_resamples=200, random_state=5)
        assert (ci.estimate, ci.low, ci.high) == pytest.approx(
            (e.intervals[name].estimate, e.intervals[name].low, e.intervals[name].high)
        )
    ci = bootstrap_ci("roc_auc_macro", t, s, n_resamples=200, random_state=5)
    assert ci.estimate == pytest.approx(skm.roc_auc_score(t, s, average="macro"), rel=1e-12)
    ci = bootstrap_ci("coverage_error", t, s, n_resamples=100, random_state=5)
    assert ci.estimate == pytest.approx(skm.coverage_error(t, s), rel=1e-12)
    samples_f1 = bootstrap_ci(
        lambda a, b: f1_score(a, b, average="samples"), t, p, n_resamples=100, random_state=5
    )
    assert samples_f1.estimate == pytest.approx(skm.f1_score(t, p, average="samples"))
    better = t.copy()
    better[:30] = 1 - better[:30]
    paired = paired_bootstrap_ci("f1_samples", t, better, p, n_resamples=200, random_state=5)
    assert paired.low > 0 and paired.share_a_higher == 1
    with pytest.raises(InvalidInputError, match="stratified=False"):
        bootstrap_ci("f1_macro", t, p, stratified=True)
    with pytest.raises(InvalidInputError, match="Micro-averaged ROC AUC"):
        bootstrap_ci("roc_auc_micro", t, s)
