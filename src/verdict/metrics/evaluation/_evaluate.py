"""``evaluate``: every metric in one pass over shared kernels.

The count metrics come from one joint bincount; each score column is sorted once and its
ROC curve, AUC, precision-recall curve and average precision all come from that sort.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from verdict import errors
from verdict.errors import InvalidInputError
from verdict.metrics._agreement import (
    balanced_accuracy_from_matrix,
    kappa_from_matrix,
    mcc_from_counts,
)
from verdict.metrics._classes import classes_of, codes_of
from verdict.metrics._confusion import (
    JointCounts,
    joint_counts,
    validate_targets,
)
from verdict.metrics._prf import jaccard_from_counts, prfs_from_counts, specificity_from_counts
from verdict.metrics._probabilistic import (
    ProbaTargets,
    brier_terms,
    check_rows_sum_to_one,
    log_loss_from_targets,
    proba_array,
)
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
from verdict.metrics._topk import true_class_rank
from verdict.metrics._validation import labels_1d, labels_arg, unique_labels
from verdict.metrics.bootstrap import evaluation_intervals, interval_settings
from verdict.metrics.evaluation._multilabel import evaluate_multilabel
from verdict.metrics.evaluation._result import (
    ClassMetrics,
    Evaluation,
    PrecisionRecallCurve,
    RocCurve,
)

_AVERAGES = ("micro", "macro", "weighted")
_TOP_K = (2, 3, 5)


def evaluate(
    y_true: Any,
    y_pred: Any = None,
    y_score: Any = None,
    *,
    labels: Any = None,
    sample_weight: Any = None,
    proba: bool = True,
    ci: bool = False,
    confidence: float = 0.95,
    n_resamples: int = 1000,
    ci_method: str = "percentile",
    random_state: Any = None,
) -> Evaluation:
    """Compute every classification metric the inputs allow, per class and averaged.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_labels)
        True class labels, or a label-indicator matrix (0/1, one column per label) for a
        multilabel target. Multilabel: every label is taken one-vs-rest; averages add
        'samples' (per row, then over rows); ``accuracy`` is the subset accuracy,
        ``confusion_matrix`` the per-label 2x2 matrices (``multilabel_confusion_matrix``),
        scores add coverage error, label-ranking average precision and ranking loss, and
        probabilities each label's binary log loss and Brier score averaged over labels and
        rows (scikit-learn's ``log_loss(y_true.ravel(), y_score.ravel())``). ROC AUC 'samples'
        leaves out rows whose labels are all one class, and says so (scikit-learn's is nan).
    y_pred : array-like of shape (n_samples,), optional
        Predicted labels: confusion matrix, accuracy, precision, recall, F1, specificity,
        Jaccard, MCC, kappa, balanced accuracy and Hamming loss.
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes), optional
        Scores: ROC AUC, average precision and their curves (one-vs-rest per class), and
        top-k accuracy. 1-D scores are those of the positive class ``labels[-1]`` of a binary
        task; 2-D columns follow ``labels``.
    labels : array-like, optional
        The classes, in the order of the ``y_score`` columns. Defaults to the sorted labels
        present in ``y_true`` and ``y_pred``. Multilabel: names of the label columns, in order
        (default 0 .. n_labels - 1).
    sample_weight : array-like of shape (n_samples,), optional
    proba : bool, default=True
        Whether ``y_score`` holds probabilities, which adds log loss and the Brier score.
        Pass False for decision-function scores.
    ci : bool, default=False
        Add a bootstrap confidence interval to every scalar metric (``Evaluation.intervals``,
        keyed like 'accuracy', 'f1_macro', 'roc_auc_binary', 'top_3_accuracy'). All metrics
        share one set of pair-bootstrap resamples; see ``bootstrap_ci``.
    confidence : float, default=0.95
        Nominal coverage of the intervals.
    n_resamples : int, default=1000
        Bootstrap resamples.
    ci_method : {'percentile', 'bca'}, default='percentile'
        How an interval is read from the resampled values.
    random_state : None, int or numpy.random.Generator
        Seed of the resampling; when None a seed is drawn and recorded in
        ``Evaluation.interval_seed``, so any run can be reproduced.

    Returns
    -------
    Evaluation
        A typed result; ``.to_dict()``, ``.to_json()``, ``print(...)`` and Rich rendering.
    """
    if y_pred is None and y_score is None:
        raise InvalidInputError(
            "evaluate needs y_pred, y_score or both. To fix: pass predicted labels and/or "
            "predicted scores or probabilities."
        )
    settings = interval_settings(ci, confidence, n_resamples, ci_method, random_state)
    if _is_indicator_matrix(y_true):
        return evaluate_multilabel(y_true, y_pred, y_score, labels, sample_weight, proba, settings)
    yt = labels_1d(y_true, "y_true")
    joint = targets = None
    if y_pred is not None:
        targets = validate_targets(yt, y_pred, sample_weight)
        joint = joint_counts(targets)
    scores = _score_array(y_score, yt.shape[0])
    w = check_sample_weight(sample_weight, yt.shape[0])
    present = joint.labels if joint is not None else unique_labels(yt)
    classes = classes_of(present, labels_arg(labels), scores)
    task = "binary" if classes.shape[0] == 2 else "multiclass"
    codes = codes_of(yt, classes)
    parts: dict[str, Any] = {}
    per_class: dict[str, list[Any]] = {}
    if joint is not None:
        _count_metrics(joint, classes, task, parts, per_class)
    if scores is not None:
        _ranking_metrics(codes, scores, w, classes, task, parts, per_class)
        if proba:
            _probabilistic_metrics(codes, scores, w, classes, parts)
    support = _support(codes, w, classes.shape[0])
    uncertainty = {}
    if settings is not None:
        pred_codes = None if targets is None else codes_of(targets.y_pred, classes)
        uncertainty = evaluation_intervals(settings, codes, pred_codes, scores, w, classes, parts)
    return Evaluation(
        task=task,
        labels=classes.tolist(),
        n_samples=int(yt.shape[0]),
        weighted=w is not None,
        per_class=_per_class(classes, support, per_class),
        **parts,
        **uncertainty,
    )


def _is_indicator_matrix(y_true: Any) -> bool:
    """A 2-D ``y_true`` with several columns is a multilabel target (one column per label)."""
    shape = np.shape(y_true) if not hasattr(y_true, "shape") else y_true.shape
    return len(shape) == 2 and shape[1] > 1


def _score_array(y_score: Any, n_samples: int) -> np.ndarray | None:
    if y_score is None:
        return None
    s = to_numpy(y_score, "y_score")
    if s.dtype.kind not in "biuf" or s.ndim not in (1, 2):
        raise InvalidInputError(
            f"y_score must be numeric, 1-D or 2-D; got dtype {s.dtype} and shape {s.shape}."
        )
    check_consistent_length(y_true=np.empty(n_samples), y_score=s)
    s = s.astype(np.float64, copy=False) if s.dtype != np.float32 else s
    check_finite(
        s, "y_score", fix="pass finite scores (check the model's output for missing rows)."
    )
    return s


def _count_metrics(
    joint: JointCounts, classes: np.ndarray, task: str, parts: dict, per_class: dict
) -> None:
    cm_present = joint.weighted
    parts["confusion_matrix"] = joint.select(classes)
    total = cm_present.sum()
    parts["accuracy"] = float(np.trace(cm_present) / total)
    parts["hamming_loss"] = 1.0 - parts["accuracy"]
    parts["balanced_accuracy"] = balanced_accuracy_from_matrix(cm_present)
    parts["matthews_corrcoef"] = mcc_from_counts(joint)
    parts["cohen_kappa"] = kappa_from_matrix(cm_present.astype(np.float64), None, np.nan)
    warn = ("precision", "recall", "f-score")
    p, r, f, _ = prfs_from_counts(joint, 1.0, classes, None, warn, "warn")
    per_class.update(precision=p, recall=r, f1=f)
    per_class["specificity"] = specificity_from_counts(joint, classes, None, "warn")
    per_class["jaccard"] = jaccard_from_counts(joint, classes, None, "warn")
    averages = _AVERAGES + (("binary",) if task == "binary" else ())
    for name in ("precision", "recall", "f1", "specificity", "jaccard"):
        parts[name] = {a: _average_of(joint, classes, name, a) for a in averages}


def _average_of(joint: JointCounts, classes: np.ndarray, metric: str, average: str) -> float:
    wanted = classes[-1:] if average == "binary" else classes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.UndefinedMetricWarning)  # said once, per class
        if metric == "specificity":
            return specificity_from_counts(joint, wanted, average, "warn")
        if metric == "jaccard":
            return jaccard_from_counts(joint, wanted, average, "warn")
        index = {"precision": 0, "recall": 1, "f1": 2}[metric]
        return prfs_from_counts(joint, 1.0, wanted, average, (), "warn")[index]


def _ranking_metrics(
    codes: np.ndarray,
    scores: np.ndarray,
    w: np.ndarray | None,
    classes: np.ndarray,
    task: str,
    parts: dict,
    per_class: dict,
) -> None:
    if task == "binary":
        column = scores if scores.ndim == 1 else scores[:, 1]
        columns = {1: column}
    elif scores.ndim == 1:
        raise InvalidInputError(
            "y_score is 1-D but the task is multiclass. To fix: pass one score column per class."
        )
    else:
        columns = dict(enumerate(scores.T))
    auc = np.full(classes.shape[0], np.nan)
    ap = np.full(classes.shape[0], np.nan)
    roc_curves, pr_curves = {}, {}
    for k, column in columns.items():
        counts = binary_counts(codes == k, np.ascontiguousarray(column), w)
        label = classes[k].item() if hasattr(classes[k], "item") else classes[k]
        roc_curves[label] = RocCurve(*roc_from_counts(counts, True))
        pr_curves[label] = PrecisionRecallCurve(*pr_from_counts(counts, True))
        if _both_classes(counts):
            auc[k], ap[k] = auc_from_counts(counts), ap_from_counts(counts)
    parts["roc_curves"], parts["pr_curves"] = roc_curves, pr_curves
    per_class["roc_auc"], per_class["average_precision"] = auc, ap
    support = _support(codes, w, classes.shape[0])
    if task == "binary":
        parts["roc_auc"] = {"binary": float(auc[1])}
        parts["average_precision"] = {"binary": float(ap[1])}
        return
    parts["roc_auc"] = _class_averages(auc, support, classes, "roc_auc")
    parts["average_precision"] = _class_averages(ap, support, classes, "average_precision")
    parts["top_k_accuracy"] = _top_k(codes, scores, w)


def _both_classes(counts: Any) -> bool:
    return bool(counts.tps[-1] > 0 and counts.fps[-1] > 0)


def _class_averages(values: np.ndarray, support: np.ndarray, classes: np.ndarray, name: str):
    defined = ~np.isnan(values)
    if not defined.any():
        return {}
    if not defined.all():
        warnings.warn(
            f"{name} is undefined for classes {classes[~defined].tolist()}, which have no "
            "positive (or no negative) sample in y_true; the averages leave them out.",
            errors.UndefinedMetricWarning,
            stacklevel=4,
        )
    return {
        "macro": float(np.mean(values[defined])),
        "weighted": float(np.average(values[defined], weights=support[defined])),
    }


def _top_k(codes: np.ndarray, scores: np.ndarray, w: np.ndarray | None) -> dict[int, float]:
    """Top-k accuracy for several k from one rank per row."""
    rank = true_class_rank(codes, scores)
    return {k: float(np.average(rank < k, weights=w)) for k in _TOP_K if k < scores.shape[1]}


def _probabilistic_metrics(
    codes: np.ndarray,
    scores: np.ndarray,
    w: np.ndarray | None,
    classes: np.ndarray,
    parts: dict,
) -> None:
    try:
        p = proba_array(scores, "y_score")
        if p.ndim == 2:
            check_rows_sum_to_one(p, "y_score")
    except InvalidInputError as exc:
        raise InvalidInputError(
            f"{exc} If y_score holds decision scores rather than probabilities, pass "
            "proba=False to skip log loss and the Brier score."
        ) from exc
    targets = ProbaTargets(codes, classes, p, w)
    parts["log_loss"] = log_loss_from_targets(targets)
    brier = float(np.average(brier_terms(targets), weights=w))
    parts["brier_score"] = brier * 0.5 if classes.shape[0] < 3 else brier


def _support(codes: np.ndarray, w: np.ndarray | None, n_classes: int) -> np.ndarray:
    valid = codes >= 0
    return np.bincount(
        codes[valid], weights=None if w is None else w[valid], minlength=n_classes
    ).astype(np.float64)


def _per_class(classes: np.ndarray, support: np.ndarray, values: dict) -> list[ClassMetrics]:
    out = []
    for k, label in enumerate(classes.tolist()):
        fields = {name: _scalar(arr[k]) for name, arr in values.items()}
        out.append(ClassMetrics(label=label, support=float(support[k]), **fields))
    return out


def _scalar(value: Any) -> float | None:
    value = float(value)
    return None if np.isnan(value) else value
