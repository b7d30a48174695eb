"""``evaluate`` on label-indicator targets: every label taken one-vs-rest, and every row.

Per label, the counts are column sums of the (true, predicted) bit products, and each score
column is sorted once for its ROC and precision-recall curves. Per row, the 'samples' averages,
subset accuracy, Hamming loss and the label-ranking metrics are computed for all rows at once
(rows' labels compared pairwise within blocks of rows), so a bootstrap can resample rows.
Values equal scikit-learn's calls (tests/metrics/test_evaluate_multilabel.py); where a
'samples' or 'macro' ranking average is undefined for some rows or labels, ``evaluate`` leaves
them out and says which, as it does for a class missing from a multiclass ``y_true``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from verdict import errors
from verdict.errors import InvalidInputError
from verdict.metrics._label_ranking import (
    coverage_per_row,
    lrap_per_row,
    rank_rows,
    row_blocks,
    tied_pairs,
    wrongly_ordered_pairs,
)
from verdict.metrics._multilabel import indicator_counts
from verdict.metrics._ranking import (
    ap_from_counts,
    auc_from_counts,
    binary_counts,
    pr_from_counts,
    roc_from_counts,
)
from verdict.metrics._sklearn_checks import (
    check_consistent_length,
    check_finite,
    check_sample_weight,
    to_numpy,
)
from verdict.metrics._targets import Targets
from verdict.metrics.evaluation._result import (
    ClassMetrics,
    Evaluation,
    PrecisionRecallCurve,
    RocCurve,
)

_AVERAGES = ("micro", "macro", "weighted", "samples")
_ROW_METRICS = (
    "roc_auc",
    "average_precision",
    "coverage_error",
    "label_ranking_average_precision",
    "label_ranking_loss",
)


def indicator(values: Any, name: str, n_labels: int | None = None) -> np.ndarray:
    """A label-indicator matrix (0/1 or bool, 2-D) as bool, checked once."""
    m = to_numpy(values, name)
    if m.ndim != 2:
        raise InvalidInputError(
            f"{name} must be a label-indicator matrix of shape (n_samples, n_labels) like "
            f"y_true, got shape {m.shape}. To fix: pass one 0/1 column per label."
        )
    if n_labels is not None and m.shape[1] != n_labels:
        raise InvalidInputError(
            f"{name} has {m.shape[1]} label columns but y_true has {n_labels}. To fix: pass "
            "the same label columns, in the same order."
        )
    if m.dtype.kind not in "biuf" or not np.isin(m, (0, 1)).all():
        raise InvalidInputError(
            f"{name} is 2-D but not a label-indicator matrix: it must hold only 0 and 1. "
            "To fix: binarise the labels (e.g. sklearn.preprocessing.MultiLabelBinarizer); "
            "multiclass-multioutput targets are not supported."
        )
    return m.astype(bool, copy=False)


def evaluate_multilabel(
    y_true: Any,
    y_pred: Any,
    y_score: Any,
    labels: Any,
    sample_weight: Any,
    proba: bool,
    settings: Any,
) -> Evaluation:
    """``evaluate`` for a 2-D indicator ``y_true`` (see ``evaluate`` for the arguments)."""
    t = indicator(y_true, "y_true")
    n, n_labels = t.shape
    if n == 0:
        raise InvalidInputError(
            "Found empty input array (e.g., `y_true` or `y_pred`) while a minimum of 1 sample "
            "is required. To fix: pass at least one row."
        )
    p = None if y_pred is None else indicator(y_pred, "y_pred", n_labels)
    s = None if y_score is None else multilabel_scores(y_score, n_labels)
    check_consistent_length(
        y_true=t, **({} if p is None else {"y_pred": p}), **({} if s is None else {"y_score": s})
    )
    w = check_sample_weight(sample_weight, n)
    names = _label_names(labels, n_labels)
    parts, per_label, row_terms, averages = multilabel_terms(t, p, s, w, proba, names)
    support = _weighted_sum(t, w)
    uncertainty = {}
    if settings is not None:
        from verdict.metrics.bootstrap import multilabel_evaluation_intervals

        uncertainty = multilabel_evaluation_intervals(settings, t, p, s, w, averages, row_terms)
    return Evaluation(
        task="multilabel",
        labels=names,
        n_samples=int(n),
        weighted=w is not None,
        per_class=[
            ClassMetrics(
                label=name,
                support=float(support[k]),
                **{metric: _scalar(values[k]) for metric, values in per_label.items()},
            )
            for k, name in enumerate(names)
        ],
        **parts,
        **uncertainty,
    )


def multilabel_terms(
    t: np.ndarray,
    p: np.ndarray | None,
    s: np.ndarray | None,
    w: np.ndarray | None,
    proba: bool,
    names: list[Any] | None = None,
) -> tuple[dict, dict, dict, dict]:
    """Every multilabel metric the inputs allow: ``(parts, per_label, row_terms, averages)``,
    the values, the per-label values, the per-row terms of the row means and the averages
    reported per metric. ``evaluate`` and ``bootstrap_ci`` both read them."""
    names = list(range(t.shape[1])) if names is None else names
    parts: dict[str, Any] = {}
    per_label: dict[str, np.ndarray] = {}
    row_terms: dict[str, np.ndarray] = {}
    averages: dict[str, list[str]] = {}
    if p is not None:
        _count_metrics(t, p, w, names, parts, per_label, row_terms, averages)
    if s is not None:
        _ranking_metrics(t, s, w, names, parts, per_label, row_terms, averages)
        if proba:
            _probabilistic_metrics(t, s, w, parts, row_terms)
    return parts, per_label, row_terms, averages


def multilabel_scores(y_score: Any, n_labels: int) -> np.ndarray:
    s = to_numpy(y_score, "y_score")
    if s.dtype.kind not in "biuf" or s.ndim != 2 or s.shape[1] != n_labels:
        raise InvalidInputError(
            f"y_score of a multilabel target must be numeric with one column per label "
            f"({n_labels}); got dtype {s.dtype} and shape {s.shape}. To fix: pass the "
            "scores or probabilities of every label column."
        )
    s = s.astype(np.float64, copy=False)
    check_finite(
        s, "y_score", fix="pass finite scores (check the model's output for missing rows)."
    )
    return s


def _label_names(labels: Any, n_labels: int) -> list[Any]:
    if labels is None:
        return list(range(n_labels))
    names = to_numpy(labels, "labels")
    if names.ndim != 1 or names.shape[0] != n_labels:
        raise InvalidInputError(
            f"labels names the label columns of a multilabel target, so it needs "
            f"{n_labels} entries; got shape {names.shape}. To fix: pass one name per column, "
            "or leave labels=None to number them."
        )
    return names.tolist()


def _weighted_sum(m: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """Column sums of a bool matrix, weighted by the rows' weights."""
    if w is None:
        return np.count_nonzero(m, axis=0).astype(np.float64)
    return w.astype(np.float64) @ m


def _mean(values: np.ndarray, w: np.ndarray | None) -> float:
    return float(np.average(values, weights=w))


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """0/0 counts as 0, scikit-learn's default ``zero_division``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            denominator == 0, 0.0, numerator / np.where(denominator == 0, 1, denominator)
        )


def _count_metrics(
    t: np.ndarray,
    p: np.ndarray,
    w: np.ndarray | None,
    names: list[Any],
    parts: dict,
    per_label: dict,
    row_terms: dict,
    averages: dict,
) -> None:
    targets = Targets(t, p, None if w is None else w, multilabel=True)
    tp, fp, fn, tn = (a.astype(np.float64) for a in indicator_counts(targets, None, False))
    true_sum = tp + fn
    unweighted = Targets(t, p, None, multilabel=True)  # per row: counts, weighed by the mean
    rows_tp, rows_fp, rows_fn, _ = (
        a.astype(np.float64) for a in indicator_counts(unweighted, None, True)
    )
    rows_true, rows_pred = rows_tp + rows_fn, rows_tp + rows_fp
    n_labels = t.shape[1]
    mismatches = rows_fp + rows_fn
    row_terms["accuracy"] = (mismatches == 0).astype(np.float64)
    row_terms["hamming_loss"] = mismatches / n_labels
    parts["accuracy"] = _mean(row_terms["accuracy"], w)
    parts["hamming_loss"] = _mean(row_terms["hamming_loss"], w)
    parts["confusion_matrix"] = np.stack([tn, fp, fn, tp], axis=1).reshape(-1, 2, 2)
    if w is None or w.dtype.kind in "biu":
        parts["confusion_matrix"] = parts["confusion_matrix"].astype(np.int64)
    formulas = {
        "precision": (tp, tp + fp, rows_tp, rows_pred),
        "recall": (tp, tp + fn, rows_tp, rows_true),
        "f1": (2 * tp, 2 * tp + fp + fn, 2 * rows_tp, rows_true + rows_pred),
        "specificity": (tn, tn + fp, None, None),
        "jaccard": (tp, tp + fp + fn, rows_tp, rows_true + rows_pred - rows_tp),
    }
    undefined: dict[str, list[Any]] = {}
    for metric, (num, den, row_num, row_den) in formulas.items():
        values = _ratio(num, den)
        per_label[metric] = values
        if (den == 0).any():
            undefined[metric] = [names[k] for k in np.flatnonzero(den == 0)]
        summary = {
            "micro": float(_ratio(num.sum(), den.sum())),
            "macro": float(values.mean()),
            "weighted": float(_ratio((values * true_sum).sum(), true_sum.sum())),
        }
        if row_num is not None:
            row_terms[f"{metric}_samples"] = _ratio(row_num, row_den)
            summary["samples"] = _mean(row_terms[f"{metric}_samples"], w)
        parts[metric] = summary
        averages[metric] = list(summary)
    if undefined:
        said = "; ".join(f"{m} of labels {v}" for m, v in undefined.items())
        warnings.warn(
            f"Some label metrics are ill-defined (0/0) and set to 0.0: {said}. They have no "
            "predicted or no true samples. Use `zero_division` in the single-metric functions "
            "to control this behaviour.",
            errors.UndefinedMetricWarning,
            stacklevel=4,
        )


def _ranking_metrics(
    t: np.ndarray,
    s: np.ndarray,
    w: np.ndarray | None,
    names: list[Any],
    parts: dict,
    per_label: dict,
    row_terms: dict,
    averages: dict,
) -> None:
    n_labels = t.shape[1]
    auc = np.full(n_labels, np.nan)
    ap = np.full(n_labels, np.nan)
    roc_curves, pr_curves = {}, {}
    for k in range(n_labels):
        counts = binary_counts(t[:, k], s[:, k], w)
        roc_curves[names[k]] = RocCurve(*roc_from_counts(counts, True))
        pr_curves[names[k]] = PrecisionRecallCurve(*pr_from_counts(counts, True))
        if counts.tps[-1] > 0 and counts.fps[-1] > 0:
            auc[k], ap[k] = auc_from_counts(counts), ap_from_counts(counts)
    parts["roc_curves"], parts["pr_curves"] = roc_curves, pr_curves
    per_label["roc_auc"], per_label["average_precision"] = auc, ap
    defined = ~np.isnan(auc)
    if not defined.all():
        warnings.warn(
            f"ROC AUC and average precision are undefined for labels "
            f"{[names[k] for k in np.flatnonzero(~defined)]}, which have no positive (or no "
            "negative) sample in y_true; the macro and weighted averages leave them out.",
            errors.UndefinedMetricWarning,
            stacklevel=4,
        )
    rows = row_ranking(t, s)
    row_auc, row_ap = rows["roc_auc"], rows["average_precision"]
    micro = binary_counts(t.ravel(), s.ravel(), None if w is None else np.repeat(w, n_labels))
    support = _weighted_sum(t, w)
    for metric, values, row_values, micro_value in (
        ("roc_auc", auc, row_auc, auc_from_counts(micro)),
        ("average_precision", ap, row_ap, ap_from_counts(micro)),
    ):
        summary = {"micro": float(micro_value)}
        if defined.any():
            summary["macro"] = float(values[defined].mean())
            summary["weighted"] = float(np.average(values[defined], weights=support[defined]))
        has = ~np.isnan(row_values)
        if has.any():
            summary["samples"] = _mean(row_values[has], None if w is None else w[has])
            if has.all():
                row_terms[f"{metric}_samples"] = row_values
        parts[metric] = summary
        averages[metric] = list(summary)
    if not np.isfinite(row_auc).all():
        warnings.warn(
            "ROC AUC per sample is undefined for rows whose labels are all positive or all "
            "negative; its 'samples' average leaves them out (scikit-learn's would be nan).",
            errors.UndefinedMetricWarning,
            stacklevel=4,
        )
    for name in ("coverage_error", "label_ranking_average_precision", "label_ranking_loss"):
        row_terms[name] = rows[name]
        parts[name] = _mean(rows[name], w)


def row_ranking(t: np.ndarray, s: np.ndarray) -> dict[str, np.ndarray]:
    """Per row: ROC AUC (NaN where undefined) and average precision over its labels, coverage,
    label-ranking average precision and ranking loss, as scikit-learn defines each.

    One sort of each row's labels (``rank_rows``, a block of rows at a time) serves all five:
    the label-ranking metrics' own per-row kernels, and AUC as the share of (true, false)
    pairs ordered right, ties counting half.
    """
    n, n_labels = t.shape
    out = {name: np.empty(n) for name in _ROW_METRICS}
    for lo, hi in row_blocks(t.shape):
        ranked = rank_rows(t[lo:hi], s[lo:hi])
        pairs = (ranked.n_true * (n_labels - ranked.n_true)).astype(np.float64)
        wrong = wrongly_ordered_pairs(ranked)
        correct = pairs - wrong + 0.5 * tied_pairs(ranked)
        lrap = lrap_per_row(ranked)
        with np.errstate(divide="ignore", invalid="ignore"):
            out["roc_auc"][lo:hi] = np.where(pairs > 0, correct / pairs, np.nan)
            out["label_ranking_loss"][lo:hi] = np.where(pairs > 0, wrong / pairs, 0.0)
        # a row's average precision is its LRAP, except without a true label: 0 (scikit-learn)
        out["average_precision"][lo:hi] = np.where(ranked.n_true > 0, lrap, 0.0)
        out["label_ranking_average_precision"][lo:hi] = lrap
        out["coverage_error"][lo:hi] = coverage_per_row(t[lo:hi], s[lo:hi])
    return out


def _probabilistic_metrics(
    t: np.ndarray, s: np.ndarray, w: np.ndarray | None, parts: dict, row_terms: dict
) -> None:
    """Each label's probability on its own: binary log loss and Brier score, averaged over
    labels and rows (scikit-learn's ``log_loss`` / ``brier_score_loss`` of the flattened
    arrays), since the columns of a multilabel model need not sum to one."""
    if (s < 0).any() or (s > 1).any():
        raise InvalidInputError(
            "y_score holds values outside [0, 1], so they are not probabilities. To fix: pass "
            "each label's probability, or proba=False to skip log loss and the Brier score."
        )
    eps = np.finfo(np.float64).eps
    clipped = np.clip(s, eps, 1 - eps)
    bce = -np.where(t, np.log(clipped), np.log1p(-clipped))
    row_terms["log_loss"] = bce.mean(axis=1)
    row_terms["brier_score"] = ((s - t) ** 2).mean(axis=1)
    parts["log_loss"] = _mean(row_terms["log_loss"], w)
    parts["brier_score"] = _mean(row_terms["brier_score"], w)


def _scalar(value: Any) -> float | None:
    value = float(value)
    return None if np.isnan(value) else value
