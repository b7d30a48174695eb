"""Each family's best config, and the order of the families: best first, ties settled.

Cross-validated means of count metrics (accuracy, F1 ...) move in steps: one more row
misclassified in one fold of one pass moves the mean by about ``1 / (n * repeats)``. Configs
closer than that made the same number of errors, and the metric cannot rank them:

- within a family the tied config tried first wins (the default and the hand-picked starts
  come before random draws);
- between families the tied family with the lower cross-validated log loss wins: a proper
  scoring rule sees what counts cannot (how sure a model is when right, how wrong when
  wrong); without log losses the zoo's cost order (the simpler model) decides.

Outside ties the order is strictly by score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from verdict.pipeline._candidates import Candidate, Trial


def rank_candidates(
    trials: list[Trial], higher: bool, tie: float, order: Mapping[str, int]
) -> list[Candidate]:
    """Best config per family, best family first; within ``tie`` the lower log loss wins."""
    by_family: dict[str, list[Trial]] = {}
    for trial in trials:
        if trial.error is None and not math.isnan(trial.cv_mean):
            by_family.setdefault(trial.family, []).append(trial)
    best = [_tied(group, higher, tie)[0] for group in by_family.values()]
    left = sorted(best, key=lambda t: _key(t, higher), reverse=True)
    ranked = []
    while left:
        tied = _tied(left, higher, tie)
        chosen = min(tied, key=lambda t: (t.cv_log_loss, order.get(t.family, len(order))))
        ranked.append(chosen)
        left.remove(chosen)
    return [
        Candidate(
            t.family,
            t.params,
            t.cv_mean,
            t.cv_std,
            t.cv_scores,
            t.fit_seconds,
            len(by_family[t.family]),
        )
        for t in ranked
    ]


def _tied(trials: list[Trial], higher: bool, tie: float) -> list[Trial]:
    """The trials within ``tie`` of the best score, in their original order."""
    top = max(_signed(t, higher) for t in trials)
    return [t for t in trials if top - _signed(t, higher) < max(tie, 1e-12)]


def _signed(trial: Trial, higher: bool) -> float:
    return trial.cv_mean if higher else -trial.cv_mean


def _key(trial: Trial, higher: bool) -> tuple[float, float]:
    """Score first; equal scores go to the faster fit."""
    return (round(_signed(trial, higher), 12), -trial.fit_seconds)
