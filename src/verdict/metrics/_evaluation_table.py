"""Rich rendering of an Evaluation; imported only when Rich prints one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.table import Table

if TYPE_CHECKING:
    from verdict.metrics._evaluation import Evaluation

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


def _summary(result: Evaluation) -> Table:
    title = f"{result.task} evaluation: {result.n_samples} samples" + (
        " (weighted)" if result.weighted else ""
    )
    table = Table(title=title, title_justify="left")
    columns = (
        ["binary", "micro", "macro", "weighted"]
        if result.task == "binary"
        else ["micro", "macro", "weighted"]
    )
    table.add_column("metric")
    for c in columns:
        table.add_column(c, justify="right")
    for name in (
        "precision",
        "recall",
        "f1",
        "specificity",
        "jaccard",
        "roc_auc",
        "average_precision",
    ):
        values = getattr(result, name)
        if values:
            table.add_row(name, *[_num(values.get(c)) for c in columns])
    for name in (
        "accuracy",
        "balanced_accuracy",
        "matthews_corrcoef",
        "cohen_kappa",
        "hamming_loss",
        "log_loss",
        "brier_score",
    ):
        value = getattr(result, name)
        if value is not None:
            table.add_row(name, _num(value), *[""] * (len(columns) - 1))
    for k, value in result.top_k_accuracy.items():
        table.add_row(f"top_{k}_accuracy", _num(value), *[""] * (len(columns) - 1))
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
    table = Table(title="confusion matrix (rows: true, columns: predicted)", title_justify="left")
    table.add_column("")
    for label in result.labels:
        table.add_column(str(label), justify="right")
    for label, row in zip(result.labels, result.confusion_matrix, strict=True):
        table.add_row(str(label), *[f"{v:.6g}" for v in row])
    return table
