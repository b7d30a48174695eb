"""Is there anything here? The chosen model against guessing, on the held-out rows.

A search always returns a best model, even on a table whose features say nothing about the
target; the report must then say so plainly instead of presenting the winner of a lottery.
The model counts as having found a signal when a paired test on the held-out rows shows it
better than guessing on the primary metric (better than every baseline: the majority class,
and guessing at random with the class frequencies when the metric reads labels) or better than
the class-frequency prior on log loss. When neither holds, the verdict is "no signal": ``train``
says so first, the report's headline says so, and ``verdict train --register`` needs
``--force`` to register the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from verdict.metrics import get_metric

NO_SIGNAL = "no model here beats guessing the class frequencies: do not deploy"
_BASELINE_ROLES = ("baseline", "stratified")


def signal_verdict(comparisons: Sequence[dict[str, Any]], primary: str) -> dict[str, Any]:
    """run.json's ``signal``: ``found`` (bool), whether the model beat guessing on the primary
    metric and on log loss, and the sentence to show."""
    on_primary = _beats(comparisons, primary)
    on_log_loss = _beats(comparisons, "log_loss")
    found = bool(on_primary or on_log_loss)
    if found:
        beaten = " and ".join(
            name for name, ok in ((primary, on_primary), ("log loss", on_log_loss)) if ok
        )
        message = f"the model beats guessing the class frequencies on {beaten} (held-out rows)"
    else:
        message = NO_SIGNAL
    return {
        "found": found,
        "beats_baselines_on_primary": bool(on_primary),
        "beats_prior_on_log_loss": bool(on_log_loss),
        "message": message,
    }


def _beats(comparisons: Sequence[dict[str, Any]], metric: str) -> bool:
    """Whether every bootstrap comparison with a baseline on ``metric`` excludes 'no better'."""
    rows = [
        c
        for c in comparisons
        if c.get("against") in _BASELINE_ROLES
        and c.get("metric") == metric
        and c.get("test") == "paired_bootstrap"
    ]
    if not rows:
        return False
    higher = get_metric(metric).greater_is_better
    return all(_better(row, higher) for row in rows)


def _better(row: dict[str, Any], higher: bool) -> bool:
    low, high = row.get("low"), row.get("high")
    if low is None or high is None:
        return False
    return low > 0 if higher else high < 0
