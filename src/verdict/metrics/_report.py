"""classification_report: scikit-learn's text table and dict, from one count of the pairs."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from verdict.errors import InvalidInputError
from verdict.metrics._confusion import index_of, one_vs_rest_counts
from verdict.metrics._prf import prfs_from_stats
from verdict.metrics._targets import check_targets
from verdict.metrics._validation import labels_arg, zero_division_value

_HEADERS = ["precision", "recall", "f1-score", "support"]
_WARN_ALL = ("precision", "recall", "f-score")


def classification_report(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    target_names: Any = None,
    sample_weight: Any = None,
    digits: int = 2,
    output_dict: bool = False,
    zero_division: Any = "warn",
) -> str | dict[str, Any]:
    """Per-class precision, recall, F1 and support, then accuracy and macro/weighted averages.

    Same text layout and ``output_dict`` structure as scikit-learn's function; the row
    "accuracy" replaces "micro avg" when every present label is reported. A multilabel target
    reports each label column and adds the 'samples' average.
    """
    zero_division_value(zero_division, "classification_report")
    targets = check_targets(y_true, y_pred, sample_weight)
    wanted = labels_arg(labels)
    labels_given = wanted is not None
    if wanted is None:
        wanted = targets.labels
    micro_is_accuracy = not targets.multilabel and (
        not labels_given or bool(np.all(index_of(targets.labels, _sorted(wanted)) >= 0))
    )
    names = _target_names(target_names, wanted, labels_given)
    counts = one_vs_rest_counts(targets, wanted, False)
    p, r, f, s = prfs_from_stats(counts, 1.0, None, _WARN_ALL, zero_division)
    rows = list(zip(names, p, r, f, s, strict=False))
    summary = []
    averages = ["micro", "macro", "weighted"] + (["samples"] if targets.multilabel else [])
    for average in averages:
        heading = "accuracy" if average == "micro" and micro_is_accuracy else f"{average} avg"
        if average == "samples":
            counts = one_vs_rest_counts(targets, wanted, True)
        avg = prfs_from_stats(counts, 1.0, average, _WARN_ALL, zero_division, targets.sample_weight)
        summary.append((heading, avg[0], avg[1], avg[2], np.sum(s)))
    if output_dict:
        return _as_dict(rows, summary)
    return _as_text(rows, summary, names, digits)


def _sorted(labels: np.ndarray) -> np.ndarray:
    try:
        return np.sort(labels)
    except TypeError:
        return labels


def _target_names(target_names: Any, labels: np.ndarray, labels_given: bool) -> list[str]:
    if target_names is None:
        return [f"{label}" for label in labels.tolist()]
    names = [f"{name}" for name in target_names]
    if len(names) != labels.shape[0]:
        if labels_given:
            warnings.warn(
                f"labels size, {labels.shape[0]}, does not match size of target_names, "
                f"{len(names)}",
                UserWarning,
                stacklevel=3,
            )
        else:
            raise InvalidInputError(
                f"Number of classes, {labels.shape[0]}, does not match size of target_names, "
                f"{len(names)}. Try specifying the labels parameter."
            )
    return names


def _as_dict(rows: list[tuple], summary: list[tuple]) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for name, *scores in rows:
        report[name] = dict(zip(_HEADERS, [float(v) for v in scores], strict=True))
    for heading, *scores in summary:
        report[heading] = dict(zip(_HEADERS, [float(v) for v in scores], strict=True))
    if "accuracy" in report:
        report["accuracy"] = report["accuracy"]["precision"]
    return report


def _as_text(rows: list[tuple], summary: list[tuple], names: list[str], digits: int) -> str:
    width = max(max((len(n) for n in names), default=0), len("weighted avg"), digits)
    head_fmt = "{:>{width}s} " + " {:>9}" * len(_HEADERS)
    report = head_fmt.format("", *_HEADERS, width=width) + "\n\n"
    row_fmt = "{:>{width}s} " + " {:>9.{digits}f}" * 3 + " {:>9}\n"
    for row in rows:
        report += row_fmt.format(*row, width=width, digits=digits)
    report += "\n"
    for heading, p, r, f, support in summary:
        if heading == "accuracy":
            fmt = "{:>{width}s} " + " {:>9.{digits}}" * 2 + " {:>9.{digits}f}" + " {:>9}\n"
            report += fmt.format(heading, "", "", f, support, width=width, digits=digits)
        else:
            report += row_fmt.format(heading, p, r, f, support, width=width, digits=digits)
    return report
