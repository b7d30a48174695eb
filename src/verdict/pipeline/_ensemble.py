"""Greedy ensemble selection with replacement (Caruana et al., 2004) on out-of-fold probabilities.

Every config the search cross-validated left a probability for each training row from a fit
that did not see it. Averaging several configs' probabilities often beats the best of them
(their errors differ), and these out-of-fold predictions say by how much without another fit:
starting from the best single config, each round adds (again, if it is the best choice) the
library member whose addition gives the best primary metric, log loss settling ties within the
metric's resolution; the best round is kept, so the ensemble is never worse on the search's own
rows than its best member. This is what AutoGluon's ``WeightedEnsemble`` does.

The class-frequency prior is a library member like the others: on a table with little signal
blending it in is what makes the probabilities honest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from verdict.pipeline._calibrate import log_loss_of

ROUNDS = 25  # greedy rounds; AutoGluon's default is 25 too
MAX_MEMBERS = 6  # distinct members: each one is refitted and predicts at serving time

Score = Callable[[np.ndarray, np.ndarray], float]  # (y_index, proba) -> plain metric value


@dataclass(frozen=True)
class Selection:
    """Integer weights per library member (0 for the unused) and the ensemble's OOF scores."""

    weights: tuple[int, ...]
    score: float
    log_loss: float
    oof: np.ndarray  # (repeats, n, k): the weighted average of the members' OOF probabilities


def select_ensemble(
    library: Sequence[np.ndarray],
    y_index: np.ndarray,
    score: Score,
    *,
    higher: bool,
    tie: float,
    costs: Sequence[float] | None = None,
    max_cost: float = math.inf,
    rounds: int = ROUNDS,
) -> Selection:
    """Weights over ``library`` (each (repeats, n, k) OOF probabilities) by greedy selection.

    ``score`` computes the primary metric; ``tie`` is its resolution (count metrics: one row
    of one fold). ``costs`` (the refit seconds of each member) and ``max_cost`` keep the
    ensemble refittable in the time left: a member whose addition would exceed it is skipped.
    """
    costs = list(costs) if costs is not None else [0.0] * len(library)
    counts = np.zeros(len(library), dtype=int)
    total = np.zeros_like(library[0])
    history: list[tuple[np.ndarray, float, float]] = []
    for _ in range(rounds):
        used = {i for i in range(len(library)) if counts[i]}
        spent = sum(costs[i] for i in used)
        options = []
        for i, member in enumerate(library):
            full = len(used) >= MAX_MEMBERS or spent + costs[i] > max_cost
            if used and i not in used and full:  # the first member is always allowed
                continue
            mix = (total + member) / (counts.sum() + 1)
            options.append((i, _mean_score(score, mix, y_index), _mean_loss(mix, y_index)))
        if not options:
            break
        chosen = _best(options, higher, tie)
        counts[chosen[0]] += 1
        total += library[chosen[0]]
        history.append((counts.copy(), chosen[1], chosen[2]))
    index = _best([(i, s, loss) for i, (_, s, loss) in enumerate(history)], higher, tie)[0]
    weights, best_score, best_loss = history[index]
    oof = sum(w * m for w, m in zip(weights, library, strict=True) if w) / weights.sum()
    return Selection(tuple(int(w) for w in weights), best_score, best_loss, oof)


def _best(
    options: list[tuple[int, float, float]], higher: bool, tie: float
) -> tuple[int, float, float]:
    """The option with the best score; within ``tie`` of it, the lowest log loss, then the first."""
    sign = 1.0 if higher else -1.0
    top = max(sign * s for _, s, _ in options)
    tied = [o for o in options if top - sign * o[1] <= max(tie, 1e-12)]
    return min(tied, key=lambda o: o[2])


def _mean_score(score: Score, mix: np.ndarray, y_index: np.ndarray) -> float:
    return float(np.mean([score(y_index, part) for part in mix]))


def _mean_loss(mix: np.ndarray, y_index: np.ndarray) -> float:
    return float(np.mean([log_loss_of(part, y_index) for part in mix]))
