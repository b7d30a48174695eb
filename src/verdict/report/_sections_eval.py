"""The page's sections about the chosen model on the test set: confusion matrix, per-class
metrics, ROC and PR curves, calibration, the decision analysis, feature importance, model card.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from verdict.report import _plots as plots
from verdict.report import _plots_eval as eplots
from verdict.report._analysis import Analysis
from verdict.report._card import Card, to_html
from verdict.report._decision import rule_costs, test_cost, threshold_curve
from verdict.report._html import esc, figure, note, section, table
from verdict.report._summary import PER_CLASS_METRICS
from verdict.report._words import count, metric_label, num, with_interval


def confusion(a: Analysis) -> str:
    """Heat maps of the test confusion matrix, with the most frequent mistake in words."""
    matrix = a.run.info["test"].get("confusion_matrix")
    if matrix is None:
        k = a.run.n_classes
        matrix = np.bincount(a.run.y_true * k + a.run.y_pred, minlength=k * k).reshape(k, k)
    counts = np.asarray(matrix, dtype=np.float64)
    off = counts.copy()
    np.fill_diagonal(off, 0)
    if off.max() > 0:
        i, j = np.unravel_index(int(off.argmax()), off.shape)
        worst = (
            f"The most frequent mistake: {count(int(off[i, j]), 'row')} of class {a.run.names[i]} "
            f"predicted as {a.run.names[j]}."
        )
    else:
        worst = "No test row was misclassified."
    svg = eplots.confusion(counts.tolist(), a.run.names)
    caption = "Rows are the true class, columns the prediction; the diagonal is correct."
    return section("confusion-matrix", f"<p>{esc(worst)}</p>" + figure(svg, caption, ""))


def per_class(a: Analysis) -> str:
    """Precision, recall, F1 and specificity per class, each with its interval."""
    head = ["class", "test rows", *("F1" if m == "f1" else m for m in PER_CLASS_METRICS)]
    rows = []
    for row in a.classes:
        cells = [row["label"], num(row["support"])]
        for metric in PER_CLASS_METRICS:
            ci = row.get(metric)
            cells.append(
                "undefined" if not ci else with_interval(ci["estimate"], ci["low"], ci["high"])
            )
        rows.append(cells)
    worst = min(
        (r for r in a.classes if r.get("f1")), key=lambda r: r["f1"]["estimate"], default=None
    )
    text = (
        f"The weakest class is {worst['label']} (F1 {num(worst['f1']['estimate'])})."
        if worst and len(a.classes) > 2
        else ""
    )
    return section(
        "per-class",
        (f"<p>{esc(text)}</p>" if text else "")
        + figure(
            eplots.per_class(a.classes),
            "Each class one-vs-rest; bars are intervals. "
            "Specificity is the share of the other classes' rows not predicted as it.",
            "",
        )
        + table(head, rows, range(1, 6))
        + note(
            "Per-class intervals are bootstrapped from the stored test predictions, one "
            "class against the rest, with the run's confidence level and seed."
        ),
    )


def roc_pr(a: Analysis) -> str:
    """One-vs-rest ROC and PR curves with micro and macro averages."""
    curves = a.curves
    if a.run.binary:
        text = (
            f"Curves for the positive class, {a.run.names[-1]}: how well the probability "
            "ranks positives above negatives at every possible threshold."
        )
    else:
        text = (
            "One curve per class against the rest. The micro average pools every "
            "(row, class) pair, so large classes weigh more; the macro average is the mean "
            "of the class curves, so every class counts the same."
        )
    svg = eplots.ranking(curves, a.run.names)
    caption = (
        "AUC: area under the ROC curve (0.5 is chance). AP: average precision, the "
        "area under the precision-recall curve (chance is the class's share)."
    )
    empty = "No curve can be drawn: the test set lacks a class."
    return section("roc-pr", f"<p>{esc(text)}</p>" + figure(svg, caption, empty))


def calibration(a: Analysis) -> str:
    """The reliability diagram and what its ECE means."""
    diag = a.reliability
    ece = diag.expected_calibration_error
    quality = (
        "well calibrated"
        if ece < 0.03
        else ("roughly calibrated" if ece < 0.08 else "poorly calibrated")
    )
    what = (
        "the predicted probability of the positive class"
        if a.run.binary
        else "the model's confidence in its top class"
    )
    outcome = "positive" if a.run.binary else "correct"
    text = (
        f"Is {what} right? Among test rows given about 80%, about 80% should turn out "
        f"{outcome}. Expected calibration error {ece:.3f}: {quality} "
        f"(largest gap in a bin {diag.max_calibration_error:.3f})."
    )
    caption = (
        "Points on the diagonal are calibrated; orange ticks show each bin's gap. "
        "Bins with few rows (bottom) are noisy."
    )
    return section(
        "calibration",
        f"<p>{esc(text)}</p>" + figure(eplots.reliability(diag, a.run.binary), caption, ""),
    )


def decision(a: Analysis) -> str:
    """The chosen threshold or cost rule, and what it gives on the test rows."""
    chosen = a.run.info.get("decision")
    parts = []
    if not chosen:
        parts.append(
            note(
                "No costs were given, so the model predicts its most probable class (a 0.5 "
                "threshold for two classes). If the two kinds of error have different prices, "
                "pass them to train (costs=) to choose the cut of least expected cost on "
                "validation data."
            )
        )
    elif chosen.get("kind") == "cost":
        parts.append(_cost_rule(a, chosen))
    elif chosen.get("kind") == "weights":
        parts.append(_weights_rule(a, chosen))
    else:
        parts.append(_threshold_rule(a, chosen))
    if a.run.binary:
        level = _binary_cut(chosen)
        curve = threshold_curve(a.run, a.costs)
        parts.append(
            figure(
                eplots.thresholds(curve, level),
                "Recomputed from the test predictions for every threshold; the chosen cut was "
                "picked on validation data, so the test curve is an honest check of it.",
                "",
            )
        )
    return section("decision", "\n".join(parts))


_CHOICE_FIELDS = (
    ("expected_cost", "expected cost per row"),
    ("precision", "precision"),
    ("recall", "recall"),
    ("specificity", "specificity"),
    ("f1", "F1"),
)


def _threshold_rule(a: Analysis, chosen: dict[str, Any]) -> str:
    level = chosen.get("threshold")
    text = (
        f"Decision threshold {num(level)} on the probability of {chosen.get('pos_label')}, "
        f"chosen on validation data to optimise {chosen.get('objective')} "
        "(predict it when the probability is at least the threshold)."
    )
    if a.costs is not None and level is not None:
        at, default = test_cost(a.run, a.costs, level), test_cost(a.run, a.costs, 0.5)
        text += (
            f" On the test rows it costs {at:.3f} per row, against {default:.3f} at the "
            "default 0.5."
        )
    head = [label for key, label in _CHOICE_FIELDS if chosen.get(key) is not None]
    cells = [num(chosen[key]) for key, _ in _CHOICE_FIELDS if chosen.get(key) is not None]
    counts = [chosen.get(k) for k in ("tp", "fp", "fn", "tn")]
    if all(c is not None for c in counts):
        head.append("TP / FP / FN / TN")
        cells.append(" / ".join(f"{c:,.0f}" for c in counts))
    return (
        f"<p>{esc(text)}</p>"
        + table(head, [cells], range(len(head)))
        + note("These figures are from the validation rows the threshold was chosen on.")
    )


def _binary_cut(chosen: dict[str, Any] | None) -> float | None:
    """The cut on the second class's probability that the recorded decision amounts to: the
    threshold itself, or for weights (w0, w1) the point w0 / (w0 + w1) where p1 * w1 overtakes
    p0 * w0; None for argmax (the figure marks 0.5)."""
    if not chosen:
        return None
    if chosen.get("kind") == "threshold":
        return chosen.get("threshold")
    weights = chosen.get("weights") or []
    if chosen.get("kind") == "weights" and len(weights) == 2:
        return float(weights[0]) / (float(weights[0]) + float(weights[1]))
    return None


def _weights_rule(a: Analysis, chosen: dict[str, Any]) -> str:
    metric = metric_label(str(chosen.get("tuned_for")))
    text = (
        f"No costs were given and {metric} is a metric of labels, so the model predicts the "
        "class of greatest probability times a per-class weight. The weights were chosen on "
        f"out-of-fold predictions of the training rows to raise {metric} "
        f"({num(chosen.get('cv_score_argmax'))} for the most probable class, "
        f"{num(chosen.get('cv_score'))} with the weights, on the rows they were tuned on, so "
        "optimistic) without predicting fewer of those rows right, and kept because weights "
        "tuned on half of the rows also gained on the other half; the probabilities "
        "themselves are unchanged, and the test figures above are of the weighted decision."
    )
    weights = chosen.get("weights") or []
    rows = [[name, num(float(w), 3)] for name, w in zip(a.run.names, weights, strict=False)]
    return f"<p>{esc(text)}</p>" + table(["class", "weight"], rows, [1])


def _cost_rule(a: Analysis, chosen: dict[str, Any]) -> str:
    text = (
        "The decision takes the class of least expected cost under the cost matrix"
        + (
            ", with per-class offsets fitted on validation data."
            if any(chosen.get("offsets") or [])
            else "."
        )
        + f" Expected cost per row on validation data: {num(chosen.get('expected_cost'))}."
    )
    out = [f"<p>{esc(text)}</p>"]
    if a.costs is not None:
        head = ["true \\ decided", *a.run.names]
        rows = [
            [name, *(num(float(v), 2) for v in row)]
            for name, row in zip(a.run.names, a.costs, strict=True)
        ]
        out.append(table(head, rows, range(1, len(head))))
        out.append(
            figure(
                eplots.rule_costs(rule_costs(a.run, a.costs, chosen)),
                "Average cost per test row of each way to turn probabilities into a "
                "class (lower is better).",
                "",
            )
        )
    return "\n".join(out)


def importance(a: Analysis) -> str:
    """Permutation importance on the test set, and SHAP values when present."""
    info = a.run.info
    metric = info["primary_metric"]
    rows = info.get("importance") or []
    parts = [
        figure(
            plots.importance(rows, metric),
            f"How much worse the test {metric_label(metric)} gets when one feature's values are "
            "shuffled, breaking its link to the target. Near zero: the model does not rely on "
            "it (or a correlated feature stands in for it).",
            "No feature importance was recorded for this run.",
        )
    ]
    shap = info.get("shap")
    if shap:
        parts.append(
            figure(
                plots.shap_values(shap),
                "Mean absolute SHAP value: how far, on "
                "average, each feature moves the model's output.",
                "",
            )
        )
    else:
        parts.append(note("SHAP values were not computed (install 'shap' to add them)."))
    return section("importance", "\n".join(parts))


def model_card(card: Card) -> str:
    """The model card, as also written to model_card.md."""
    return section("model-card", f"<p><strong>{esc(card.title)}</strong></p>" + to_html(card))
