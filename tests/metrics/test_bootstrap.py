"""bootstrap_ci: every named metric is exact on the data and on each resample (against
scikit-learn on the resampled rows), and the resampling plans draw what they claim."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from sklearn.preprocessing import label_binarize

from verdict.errors import UndefinedMetricWarning
from verdict.metrics import brier_score_loss, specificity_score
from verdict.metrics.bootstrap._front import bootstrap_ci
from verdict.metrics.bootstrap._inputs import build_problem, settings_of
from verdict.metrics.bootstrap._metrics import COUNT_NAMES, RANKING_NAMES
from verdict.metrics.bootstrap._resample import Resampler

AVERAGES = ("binary", "micro", "macro", "weighted")


def multiclass(n=120, k=3, seed=0, ties=False):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += 1.5
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    if ties:
        p = np.round(p, 1)
        p /= p.sum(axis=1, keepdims=True)
    return y, p.argmax(axis=1), p


def binary(n=120, seed=0, ties=False):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(int)
    s = np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1)
    if ties:
        s = np.round(s, 1)
    return y, (s > 0.5).astype(int), s


def reference(name, y, yp, p, w, classes):
    """scikit-learn (or the engine, for what sklearn lacks) on one set of rows."""
    labels = classes
    if name in ("accuracy", "hamming_loss", "balanced_accuracy", "matthews_corrcoef"):
        return _table(name, y, yp, w)
    if name == "cohen_kappa":
        return skm.cohen_kappa_score(y, yp, sample_weight=w)
    metric, average = name.rsplit("_", 1)
    if metric in ("roc_auc", "average_precision"):
        return _ranking(metric, average, y, p, w, classes)
    kw = {"average": average, "labels": labels, "sample_weight": w}
    if average == "binary":
        kw.update(pos_label=classes[-1], labels=None)
    if metric == "specificity":
        return specificity_score(y, yp, zero_division=0, **kw)
    func = {"precision": skm.precision_score, "recall": skm.recall_score, "f1": skm.f1_score}
    func["jaccard"] = skm.jaccard_score
    return func[metric](y, yp, zero_division=0, **kw)


def _table(name, y, yp, w):
    if name == "accuracy":
        return skm.accuracy_score(y, yp, sample_weight=w)
    if name == "hamming_loss":
        return skm.hamming_loss(y, yp, sample_weight=w)
    if name == "balanced_accuracy":
        return skm.balanced_accuracy_score(y, yp, sample_weight=w)
    return skm.matthews_corrcoef(y, yp, sample_weight=w)


def _ranking(metric, average, y, p, w, classes):
    if p.ndim == 1:
        func = skm.roc_auc_score if metric == "roc_auc" else skm.average_precision_score
        return func(y, p, sample_weight=w)
    if metric == "roc_auc":
        return skm.roc_auc_score(y, p, multi_class="ovr", average=average, sample_weight=w)
    onehot = label_binarize(y, classes=classes)
    return skm.average_precision_score(onehot, p, average=average, sample_weight=w)


def count_names(k):
    return [n for n in COUNT_NAMES if k == 2 or not n.endswith("_binary")]


# --------------------------------------------------------------------------- point estimates


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("k", [2, 3, 5])
def test_count_estimates_match_sklearn(k, weighted):
    y, yp, p = multiclass(200, k, seed=k)
    w = np.random.default_rng(1).random(200) if weighted else None
    classes = np.arange(k)
    for name in count_names(k):
        ci = bootstrap_ci(name, y, yp, sample_weight=w, n_resamples=20, random_state=0)
        ref = reference(name, y, yp, p, w, classes)
        assert ci.estimate == pytest.approx(ref, rel=1e-12, abs=1e-14), name


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ties", [False, True])
def test_ranking_and_mean_estimates_match_sklearn(weighted, ties):
    w = np.random.default_rng(2).random(150) if weighted else None
    y, _, s = binary(150, seed=3, ties=ties)
    for name in ("roc_auc_binary", "average_precision_binary"):
        ci = bootstrap_ci(name, y, s, sample_weight=w, n_resamples=20, random_state=0)
        assert ci.estimate == pytest.approx(reference(name, y, None, s, w, [0, 1]), rel=1e-12)
    assert bootstrap_ci("log_loss", y, s, sample_weight=w, n_resamples=20).estimate == (
        pytest.approx(skm.log_loss(y, s, sample_weight=w), rel=1e-12)
    )
    assert bootstrap_ci("brier_score", y, s, sample_weight=w, n_resamples=20).estimate == (
        pytest.approx(skm.brier_score_loss(y, s, sample_weight=w), rel=1e-12)
    )
    y, _, p = multiclass(150, 4, seed=4, ties=ties)
    for name in ("roc_auc_macro", "roc_auc_weighted", "average_precision_macro"):
        ci = bootstrap_ci(name, y, p, sample_weight=w, n_resamples=20, random_state=0)
        ref = reference(name, y, None, p, w, np.arange(4))
        assert ci.estimate == pytest.approx(ref, rel=1e-12), name
    top = bootstrap_ci("top_2_accuracy", y, p, sample_weight=w, n_resamples=20)
    assert top.estimate == pytest.approx(
        skm.top_k_accuracy_score(y, p, k=2, sample_weight=w), rel=1e-12
    )
    brier = bootstrap_ci("brier_score_loss", y, p, sample_weight=w, n_resamples=20)
    assert brier.estimate == pytest.approx(brier_score_loss(y, p, sample_weight=w), rel=1e-12)


def test_aliases():
    y, yp, s = binary()
    same = [("f1", "f1_binary"), ("roc_auc", "roc_auc_binary"), ("mcc", "matthews_corrcoef")]
    for alias, name in same:
        data = s if "roc" in name else yp
        a = bootstrap_ci(alias, y, data, n_resamples=50, random_state=1)
        b = bootstrap_ci(name, y, data, n_resamples=50, random_state=1)
        assert (a.metric, a.low, a.high) == (b.metric, b.low, b.high)
    # for two classes every ranking average is the positive class's value
    assert bootstrap_ci("roc_auc_macro", y, s, n_resamples=10).metric == "roc_auc_binary"
    ym, _, p = multiclass()
    assert bootstrap_ci("roc_auc", ym, p, n_resamples=10).metric == "roc_auc_macro"
    assert bootstrap_ci("roc_auc_ovr_weighted", ym, p, n_resamples=10).metric == (
        "roc_auc_weighted"
    )


# --------------------------------------------------------------------------- every resample


def resampled_rows(metric, y, data, w=None, stratified=False, n_resamples=40):
    """(statistic values, row indices) for each resample, from the private plan."""
    settings = settings_of("t", n_resamples, 0.95, "percentile", stratified, 0)
    problem = build_problem(metric, y, [data], ["y_pred_or_score"], w, None, settings)
    stat = problem.stats[0]
    out = []
    for _, batch in Resampler(problem.design, n_resamples, np.random.default_rng(5)).batches(True):
        values = stat.values(batch)
        for i in range(batch.size):
            rows = np.repeat(problem.design.layout, batch.rows[i].astype(np.intp))
            assert rows.shape[0] == y.shape[0]
            out.append((values[i], rows))
    return out


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("k", [2, 3])
def test_every_resampled_count_metric_matches_sklearn_on_its_rows(k, weighted):
    y, yp, _ = multiclass(60, k, seed=10 + k)
    w = np.random.default_rng(3).random(60) if weighted else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in count_names(k):
            checked = 0
            for value, rows in resampled_rows(name, y, yp, w):
                ww = None if w is None else w[rows]
                if np.isnan(value):  # degenerate: a class of y_true is missing from the rows
                    assert np.unique(y[rows]).shape[0] < k or name == "cohen_kappa"
                    continue
                ref = reference(name, y[rows], yp[rows], None, ww, np.arange(k))
                assert value == pytest.approx(ref, rel=1e-9, abs=1e-12), name
                checked += 1
            assert checked > 20, name


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ties", [False, True])
def test_every_resampled_ranking_metric_matches_sklearn_on_its_rows(weighted, ties):
    w = np.random.default_rng(4).random(80) if weighted else None
    yb, _, s = binary(80, seed=6, ties=ties)
    ym, _, p = multiclass(80, 3, seed=7, ties=ties)
    cases = [(n, yb, s) for n in RANKING_NAMES if n.endswith("binary")]
    cases += [(n, ym, p) for n in RANKING_NAMES if not n.endswith("binary")]
    cases += [("log_loss", ym, p), ("top_2_accuracy", ym, p), ("brier_score", yb, s)]
    for name, y, data in cases:
        for value, rows in resampled_rows(name, y, data, w):
            ww = None if w is None else w[rows]
            if np.isnan(value):
                assert np.unique(y[rows]).shape[0] < np.unique(y).shape[0]
                continue
            if name == "log_loss":
                ref = skm.log_loss(y[rows], data[rows], sample_weight=ww, labels=[0, 1, 2])
            elif name == "top_2_accuracy":
                ref = skm.top_k_accuracy_score(
                    y[rows], data[rows], k=2, sample_weight=ww, labels=[0, 1, 2]
                )
            elif name == "brier_score":
                ref = skm.brier_score_loss(y[rows], data[rows], sample_weight=ww)
            else:
                ref = reference(name, y[rows], None, data[rows], ww, np.unique(y))
            assert value == pytest.approx(ref, rel=1e-9, abs=1e-12), name


def test_stratified_resamples_keep_class_counts():
    y, yp, _ = multiclass(90, 3, seed=1)
    counts = np.bincount(y)
    for _, rows in resampled_rows("f1_macro", y, yp, stratified=True):
        assert np.array_equal(np.bincount(y[rows], minlength=3), counts)
    seen = {
        tuple(np.bincount(y[rows], minlength=3)) for _, rows in resampled_rows("f1_micro", y, y)
    }
    assert len(seen) > 1  # unstratified: class counts vary


def test_resamples_are_uniform_over_rows():
    """Cells first, then rows within cells, is the pair bootstrap: each row drawn 1/n."""
    y, yp, _ = multiclass(30, 3, seed=2)
    hits = np.zeros(30)
    for _, rows in resampled_rows("accuracy", y, yp, n_resamples=4000):
        hits += np.bincount(rows, minlength=30)
    expected = 4000 * np.ones(30)  # n draws per resample, 1/n each
    chi2 = ((hits - expected) ** 2 / expected).sum()
    assert chi2 < 70  # 29 degrees of freedom: the 99.99% quantile is about 67


# --------------------------------------------------------------------------- behaviour


def test_seed_reproduces_and_generator_is_accepted():
    y, yp, _ = binary(200, seed=9)
    a = bootstrap_ci("f1", y, yp, random_state=3, return_distribution=True)
    b = bootstrap_ci("f1", y, yp, random_state=3, return_distribution=True)
    np.testing.assert_array_equal(a.distribution, b.distribution)
    c = bootstrap_ci("f1", y, yp, random_state=np.random.default_rng(3), return_distribution=True)
    np.testing.assert_array_equal(a.distribution, c.distribution)
    d = bootstrap_ci("f1", y, yp, random_state=4, return_distribution=True)
    assert not np.array_equal(a.distribution, d.distribution)
    assert bootstrap_ci("f1", y, yp).distribution is None


def test_count_interval_ignores_row_order():
    y, yp, _ = multiclass(150, 3, seed=3)
    order = np.random.default_rng(0).permutation(150)
    a = bootstrap_ci("f1_macro", y, yp, random_state=1)
    b = bootstrap_ci("f1_macro", y[order], yp[order], random_state=1)
    assert (a.low, a.high) == (b.low, b.high)


def test_string_labels_match_integer_labels():
    y, yp, p = multiclass(150, 3, seed=4)
    names = np.array(["ant", "bee", "cat"])
    a = bootstrap_ci("recall_macro", y, yp, random_state=1, method="bca")
    b = bootstrap_ci("recall_macro", names[y], names[yp], random_state=1, method="bca")
    assert (a.estimate, a.low, a.high) == (b.estimate, b.low, b.high)
    c = bootstrap_ci("roc_auc", names[y], p, random_state=1)
    assert c.estimate == pytest.approx(skm.roc_auc_score(y, p, multi_class="ovr"))


def test_percentile_interval_is_the_central_range_of_the_distribution():
    y, yp, _ = multiclass(150, 3, seed=5)
    ci = bootstrap_ci("accuracy", y, yp, random_state=0, return_distribution=True)
    low, high = np.quantile(ci.distribution, [0.025, 0.975])
    assert (ci.low, ci.high) == (low, high)
    assert ci.n_resamples == 1000 and ci.method == "percentile" and ci.confidence == 0.95


def test_callable_metric_generic_path():
    y, yp, _ = multiclass(150, 3, seed=6)

    def macro_f1(a, b):
        return skm.f1_score(a, b, average="macro")

    ci = bootstrap_ci(macro_f1, y, yp, random_state=0, n_resamples=300)
    named = bootstrap_ci("f1_macro", y, yp, random_state=0, n_resamples=300)
    assert ci.metric == "macro_f1" and ci.estimate == pytest.approx(named.estimate, rel=1e-12)
    assert abs(ci.low - named.low) < 0.03 and abs(ci.high - named.high) < 0.03
    seen = []

    def weighted_mean(a, b, sample_weight):
        seen.append(sample_weight.shape[0])
        return float(np.average(a == b, weights=sample_weight))

    w = np.random.default_rng(0).random(150)
    ci = bootstrap_ci(weighted_mean, y, yp, sample_weight=w, n_resamples=20, method="bca")
    assert ci.estimate == pytest.approx(skm.accuracy_score(y, yp, sample_weight=w))
    assert set(seen) == {150, 149}  # resamples, then the leave-one-out jackknife of BCa


@pytest.mark.parametrize("metric", ["f1_macro", "roc_auc", "log_loss"])
def test_bca_and_percentile_agree_roughly(metric):
    y, yp, p = multiclass(300, 3, seed=8)
    data = yp if metric == "f1_macro" else p
    a = bootstrap_ci(metric, y, data, random_state=0)
    b = bootstrap_ci(metric, y, data, random_state=0, method="bca")
    width = a.high - a.low
    assert abs(a.low - b.low) < 0.25 * width and abs(a.high - b.high) < 0.25 * width


def test_cell_jackknife_equals_leave_one_row_out():
    """BCa's acceleration from per-cell deletions is the row jackknife's, computed exactly."""
    from verdict.metrics._intervals import acceleration
    from verdict.metrics.bootstrap._resample import cell_jackknife

    y, yp, _ = multiclass(70, 3, seed=9)
    settings = settings_of("t", 10, 0.95, "bca", False, 0)
    problem = build_problem("f1_macro", y, [yp], ["y"], None, None, settings)
    batch, multiplicity = cell_jackknife(problem.design)
    ours = acceleration(problem.stats[0].values(batch), multiplicity)
    loo = [skm.f1_score(np.delete(y, i), np.delete(yp, i), average="macro") for i in range(70)]
    assert ours == pytest.approx(acceleration(np.array(loo), np.ones(70)), rel=1e-10)


def test_ranking_jackknife_is_leave_one_row_out_for_small_samples():
    from verdict.metrics.bootstrap._resample import row_jackknife

    y, _, s = binary(50, seed=2, ties=True)
    settings = settings_of("t", 10, 0.95, "bca", False, 0)
    problem = build_problem("roc_auc", y, [s], ["s"], None, None, settings)
    batches, n_groups = row_jackknife(problem.design, np.random.default_rng(0))
    values = np.concatenate([problem.stats[0].values(b) for _, b in batches])
    removed = problem.design.layout  # group g leaves out the row at layout position g
    loo = [skm.roc_auc_score(np.delete(y, r), np.delete(s, r)) for r in removed]
    np.testing.assert_allclose(values, loo, rtol=1e-12)
    assert n_groups == 50


def test_large_sample_uses_grouped_jackknife():
    rng = np.random.default_rng(0)
    y = (rng.random(5000) < 0.3).astype(int)
    s = rng.normal(size=5000) + y
    ci = bootstrap_ci("roc_auc", y, s, method="bca", random_state=0, n_resamples=200)
    pc = bootstrap_ci("roc_auc", y, s, random_state=0, n_resamples=200)
    assert ci.low < ci.estimate < ci.high
    assert abs(ci.low - pc.low) < 0.01 and abs(ci.high - pc.high) < 0.01


def test_undefined_classes_are_left_out_with_a_warning():
    y, _, p = multiclass(90, 3, seed=3)
    p4 = np.column_stack([p * 0.9, np.full(90, 0.1)])
    with pytest.warns(UndefinedMetricWarning, match=r"undefined for classes \[3\]"):
        ci = bootstrap_ci("roc_auc_macro", y, p4, labels=[0, 1, 2, 3], n_resamples=30)
    assert ci.estimate == pytest.approx(skm.roc_auc_score(y, p, multi_class="ovr"))
