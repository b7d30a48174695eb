"""The planner: after the defaults, which families share the time."""

from __future__ import annotations

import math

from scipy.stats import loguniform
from sklearn.linear_model import LogisticRegression

from verdict.pipeline import Family, Trial
from verdict.pipeline._plan import Planner


def _planner(names: list[str]) -> Planner:
    space = {"C": loguniform(1e-3, 1e3)}
    families = {n: Family(n, LogisticRegression(), space, needs_scaling=True) for n in names}
    return Planner(families, higher=True, seed=0)


def _tried(planner: Planner, scores: dict[str, tuple[float, float]]) -> None:
    for name, (score, loss) in scores.items():
        family, params = planner.next(math.inf)
        assert family == name and params == {}  # the defaults come first, in order
        planner.record(Trial(name, params, (score,) * 5, 0.01, 0.1, tiebreak=(loss,) * 5))


def _focus(planner: Planner, rounds: int = 12) -> set[str]:
    seen = set()
    for _ in range(rounds):
        family, params = planner.next(math.inf)
        seen.add(family)
        planner.record(Trial(family, params, (0.0,) * 5, 0.01, 0.1, tiebreak=(9.0,) * 5))
    return seen


def test_the_best_family_on_log_loss_shares_the_time_with_the_two_best_on_the_metric():
    planner = _planner(["a", "b", "c", "d"])
    # a and b lead on the metric, c is third; d is last on it but has the honest probabilities
    _tried(planner, {"a": (0.8, 1.0), "b": (0.7, 1.1), "c": (0.6, 1.2), "d": (0.5, 0.4)})
    assert _focus(planner) == {"a", "b", "d"}


def test_when_a_leader_is_also_the_most_honest_the_third_best_joins():
    planner = _planner(["a", "b", "c", "d"])
    _tried(planner, {"a": (0.8, 0.3), "b": (0.7, 1.1), "c": (0.6, 1.2), "d": (0.5, 1.3)})
    assert _focus(planner) == {"a", "b", "c"}
