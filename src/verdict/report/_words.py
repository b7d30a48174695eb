"""Numbers into words: metric names people know, intervals, p-values and comparison sentences.

Shared by the HTML page and the model card so that both say the same thing the same way.
"""

from __future__ import annotations

import math
from typing import Any

from verdict.errors import InvalidInputError
from verdict.metrics import MetricInfo, get_metric


def _entry(name: str) -> MetricInfo | None:
    """The catalogue's entry of ``name``; None for a name it does not know."""
    try:
        return get_metric(name)
    except InvalidInputError:
        return None


def metric_label(name: str) -> str:
    """'f1_macro' -> 'macro F1', 'roc_auc_binary' -> 'ROC AUC', 'top_3_accuracy' -> ...

    The catalogue's label; a name it does not know is shown with spaces for underscores.
    """
    entry = _entry(name)
    return name.replace("_", " ") if entry is None else entry.label


def lower_is_better(name: str) -> bool:
    """Whether a smaller value of the metric is the better one (losses, costs, ECE).

    The catalogue's direction; a name it does not know is read as a score (higher is better).
    """
    entry = _entry(name)
    return entry is not None and not entry.greater_is_better


def num(value: Any, digits: int = 3) -> str:
    """A number for people: fixed digits, '—' when absent or undefined."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}f}"


def count(n: int, singular: str, plural: str | None = None) -> str:
    """'1 row', '3 rows', '1 model family', '2 model families'."""
    if n == 1:
        return f"1 {singular}"
    many = plural or (singular[:-1] + "ies" if singular.endswith("y") else singular + "s")
    return f"{n:,} {many}"


def short(value: Any) -> str:
    """A measurement for a summary table: about four significant digits, no exponent."""
    if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
        return num(value)
    size = abs(value)
    digits = 0 if size >= 1000 else 1 if size >= 100 else 2 if size >= 1 else 3
    return f"{value:,.{digits}f}" if size >= 10_000 else f"{value:.{digits}f}"


def params_text(params: dict[str, Any] | None) -> str:
    """'C=0.89, max_depth=3': hyperparameters with floats cut to four significant digits."""
    return ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in (params or {}).items()
    )


def interval(low: Any, high: Any, digits: int = 3) -> str:
    """'[0.912, 0.981]', or '' when the interval is unknown."""
    if low is None or high is None:
        return ""
    return f"[{num(float(low), digits)}, {num(float(high), digits)}]"


def with_interval(estimate: Any, low: Any, high: Any, digits: int = 3) -> str:
    """'0.951 [0.912, 0.981]'."""
    bounds = interval(low, high, digits)
    return f"{num(estimate, digits)} {bounds}".strip()


def p_text(p: Any) -> str:
    """'p < 0.001', 'p = 0.032', or '' when no p-value was computed."""
    if p is None or not math.isfinite(float(p)):
        return ""
    p = float(p)
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


def against_text(comparison: dict[str, Any]) -> str:
    """Who a comparison is against, in words."""
    name = comparison.get("against_model") or "the other model"
    if comparison.get("against") == "baseline":
        return (
            "the majority-class baseline" if "majority" in str(name) else f"the baseline ({name})"
        )
    if comparison.get("against") == "runner_up":
        return f"the runner-up ({name})"
    return str(name)


def verdict_of(comparison: dict[str, Any], alpha: float = 0.05) -> str:
    """'better', 'worse' or 'tie': does the test set support a difference, and which way?"""
    diff = comparison.get("difference")
    if diff is None:
        return "tie"
    low, high, p = comparison.get("low"), comparison.get("high"), comparison.get("p_value")
    if low is not None and high is not None:
        supported = low > 0 or high < 0
    else:
        supported = p is not None and p < alpha
    if not supported or diff == 0:
        return "tie"
    better = diff < 0 if lower_is_better(str(comparison.get("metric", ""))) else diff > 0
    return "better" if better else "worse"


def comparison_sentence(comparison: dict[str, Any]) -> str:
    """'softmax beats the majority-class baseline by 0.52 macro F1 [0.45, 0.60], p < 0.001.'

    A gain or a shortfall is stated as a positive size with its interval in the same
    direction (for a loss, a gain is a decrease); a tie shows the signed difference a - b.
    """
    model = comparison.get("model", "the model")
    name = str(comparison.get("metric", ""))
    other = against_text(comparison)
    diff, low, high = (comparison.get(k) for k in ("difference", "low", "high"))
    metric = metric_label(name)
    if diff is None:
        return f"{model} was compared with {other} on {metric}; no difference was computed."
    outcome = verdict_of(comparison)
    gain = -1.0 if lower_is_better(name) else 1.0  # turns a - b into "how much a is better"
    sign = {"better": gain, "worse": -gain}.get(outcome, 1.0)
    bounds = "" if low is None or high is None else interval(*sorted((sign * low, sign * high)))
    p = p_text(comparison.get("p_value"))
    tail = (f" {bounds}" if bounds else "") + (f", {p}" if p else "")
    value = num(sign * float(diff))
    if outcome == "better":
        return f"{model} beats {other} by {value} {metric}{tail}."
    if outcome == "worse":
        return f"{model} trails {other} by {value} {metric}{tail}."
    return (
        f"{model} and {other} cannot be told apart on this test set: the difference in "
        f"{metric} is {value}{tail}."
    )
