"""Rich rendering of an Evaluation; imported only when Rich prints one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.table import Table

if TYPE_CHECKING:
    from verdict.metrics.evaluation._result import Evaluation

_PER_CLASS = {
    "precision": "prec",
    "recall": "recall",
    "f1": "f1",
    "specificity": "spec",
    "jaccard": "jacc",
    "roc_auc": "auc",
    "average_precision": "ap",
}


def evaluation_tables(result: Evaluation) -> Group:
    """Summary, per-class and confusion-matrix tables."""
    parts: list[Any] = [_summary(result), _per_class(result)]
    if result.confusion_matrix is not None:
        parts.append(_confusion(result))
    return Group(*parts)


def _num(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and value != value:
        return "nan"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _with_interval(result: Evaluation, key: str, value: Any) -> str:
    """``0.8123 [0.791, 0.832]`` when the metric has an interval, else the value alone."""
    ci = result.intervals.get(key)
    if ci is None or value is None:
        return _num(value)
    if ci.low != ci.low or ci.high != ci.high:  # no interval: too many degenerate resamples
        return f"{_num(value)} [n/a]"
    return f"{_num(value)} [{ci.low:.3f}, {ci.high:.3f}]"


_AVERAGED = ("precision", "recall", "f1", "specificity", "jaccard", "roc_auc", "average_precision")
_SCALARS = (
    "accuracy",
    "balanced_accuracy",
    "matthews_corrcoef",
    "cohen_kappa",
    "hamming_loss",
    "log_loss",
    "brier_score",
    "coverage_error",
    "label_ranking_average_precision",
    "label_ranking_loss",
)


def _averages(result: Evaluation) -> list[str]:
    if result.task == "binary":
        return ["binary", "micro", "macro", "weighted"]
    if result.task == "multilabel":
        return ["micro", "macro", "weighted", "samples"]
    return ["micro", "macro", "weighted"]


def _summary(result: Evaluation) -> Table:
    title = f"{result.task} evaluation: {result.n_samples} samples" + (
        " (weighted)" if result.weighted else ""
    )
    if result.intervals:
        return _summary_with_intervals(result, title)
    table = Table(title=title, title_justify="left")
    columns = _averages(result)
    table.add_column("metric")
    for c in columns:
        table.add_column(c, justify="right")
    for name in _AVERAGED:
        values = getattr(result, name)
        if values:
            table.add_row(name, *[_num(values.get(c)) for c in columns])
    for name in _SCALARS:
        value = getattr(result, name)
        if value is not None:
            table.add_row(name, _num(value), *[""] * (len(columns) - 1))
    for k, value in result.top_k_accuracy.items():
        table.add_row(f"top_{k}_accuracy", _num(value), *[""] * (len(columns) - 1))
    return table


def _summary_with_intervals(result: Evaluation, title: str) -> Table:
    """One row per metric and average, so that value and interval fit in 80 columns."""
    table = Table(
        title=title,
        title_justify="left",
        caption=f"[{result.interval_description()}]",
        caption_justify="left",
    )
    table.add_column("metric")
    table.add_column("average")
    table.add_column(f"value [{result.interval_confidence * 100:g}% interval]", justify="right")
    for name in _AVERAGED:
        values = getattr(result, name)
        shown = [c for c in _averages(result) if values.get(c) is not None]
        for i, c in enumerate(shown):
            cell = _with_interval(result, f"{name}_{c}", values[c])
            table.add_row(name if i == 0 else "", c, cell, end_section=i == len(shown) - 1)
    for name in _SCALARS:
        value = getattr(result, name)
        if value is not None:
            table.add_row(name, "", _with_interval(result, name, value))
    for k, value in result.top_k_accuracy.items():
        table.add_row(f"top_{k}_accuracy", "", _with_interval(result, f"top_{k}_accuracy", value))
    return table


def _per_class(result: Evaluation) -> Table:
    present = [m for m in _PER_CLASS if any(getattr(c, m) is not None for c in result.per_class)]
    table = Table(
        title="per class, one-vs-rest (prec: precision, spec: specificity, jacc: "
        "Jaccard, ap: average precision)",
        title_justify="left",
    )
    table.add_column("class")
    for name in present:
        table.add_column(_PER_CLASS[name], justify="right")
    table.add_column("n", justify="right")
    for c in result.per_class:
        table.add_row(str(c.label), *[_num(getattr(c, m)) for m in present], f"{c.support:.6g}")
    return table


def _confusion(result: Evaluation) -> Table:
    if result.task == "multilabel":
        return _label_confusion(result)
    table = Table(title="confusion matrix (rows: true, columns: predicted)", title_justify="left")
    table.add_column("")
    for label in result.labels:
        table.add_column(str(label), justify="right")
    for label, row in zip(result.labels, result.confusion_matrix, strict=True):
        table.add_row(str(label), *[f"{v:.6g}" for v in row])
    return table


def _label_confusion(result: Evaluation) -> Table:
    """Multilabel: each label's [[tn, fp], [fn, tp]] on one line."""
    table = Table(title="per label confusion (one-vs-rest)", title_justify="left")
    for name in ("label", "tn", "fp", "fn", "tp"):
        table.add_column(name, justify="left" if name == "label" else "right")
    for label, m in zip(result.labels, result.confusion_matrix, strict=True):
        table.add_row(str(label), *[f"{v:.6g}" for v in m.ravel()])
    return table
