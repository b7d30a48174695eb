"""Which config to try next, and whether it still fits in the time left.

First each family's default, cheapest family first; then three families share the remaining
time equally, each trying its hand-picked starts before random draws: the two best so far on
the primary metric and the best on log loss (the third best on the primary metric when that is
one of the two). On metrics such as macro-F1 the families that rank first are often those with
the least honest probabilities, and the final model's ensemble and calibration need a family
tuned for its probabilities too.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from verdict.models import Family
from verdict.pipeline._candidates import Trial

FOCUS = 3  # families that share the time after the defaults
SLACK = 1.5  # a new config of a family may take this many times its slowest so far
_DRAWS = 25  # random draws before a family's (discrete) space counts as exhausted


class Planner:
    """Keeps the trials per family and proposes the next (family, params)."""

    def __init__(self, families: dict[str, Family], higher: bool, seed: int) -> None:
        self.families = families
        self.higher = higher
        self.trials: dict[str, list[Trial]] = {n: [] for n in families}
        self.queue = {n: [dict(s) for s in f.starts] or [{}] for n, f in families.items()}
        self.seen: dict[str, set[str]] = {n: set() for n in families}
        self.rng = {n: np.random.RandomState(seed + i) for i, n in enumerate(families)}
        self.done: set[str] = set()  # families with nothing left to try
        self.focus_seconds = dict.fromkeys(families, 0.0)

    @property
    def n_trials(self) -> int:
        """Configs tried so far."""
        return sum(len(t) for t in self.trials.values())

    @property
    def scored(self) -> bool:
        """Whether any config has produced a score."""
        return self.best_trial is not None

    @property
    def best_trial(self) -> Trial | None:
        """The best successful trial so far."""
        ok = [self._best(n) for n in self.families]
        ok = [t for t in ok if t is not None]
        return max(ok, key=self._score) if ok else None

    def record(self, trial: Trial) -> None:
        """Add a finished trial."""
        if self.trials[trial.family]:  # the defaults stage is not charged to the focus
            self.focus_seconds[trial.family] += trial.seconds
        self.trials[trial.family].append(trial)

    def next(self, remaining: float, *, first: bool = False) -> tuple[str, dict[str, Any]] | None:
        """The next config to try in ``remaining`` seconds, or None when nothing fits.

        ``first`` (no score yet) proposes the cheapest family's default whatever the time.
        """
        for name in self.families:
            if not self.trials[name] and name not in self.done:
                if first or self.predict(name) <= remaining:
                    return name, self._pop(name)
                self.done.add(name)  # its default does not fit; neither will anything else
        alive = [n for n in self.families if self._best(n) is not None and n not in self.done]
        ranked = sorted(alive, key=lambda n: self._score(self._best(n)), reverse=True)
        honest = sorted(alive, key=self._best_loss)[:1]
        # the leaders, then the most honest family, then the next on the metric: three distinct
        chosen = list(dict.fromkeys([*ranked[: FOCUS - 1], *honest, *ranked]))[:FOCUS]
        focus = [n for n in chosen if self.predict(n) <= remaining]
        while focus:
            name = min(focus, key=lambda n: self.focus_seconds[n])
            params = self._pop(name)
            if params is not None:
                return name, params
            self.done.add(name)
            focus.remove(name)
        return None

    def predict(self, name: str) -> float:
        """Seconds a new config of ``name`` is expected to take."""
        own = [t.seconds for t in self.trials[name]]
        if own:
            return SLACK * max(own)
        rates = [
            ts[0].seconds / self.families[n].cost
            for n, ts in self.trials.items()
            if ts and ts[0].error is None
        ]
        # the most optimistic rate: on small tables fixed overheads dominate and cost ratios
        # overstate; a wrong guess costs one fold, since folds that project past the deadline
        # are abandoned
        return self.families[name].cost * min(rates) if rates else 0.0

    def _pop(self, name: str) -> dict[str, Any] | None:
        """The family's next unseen config: a queued start, else a random draw."""
        queue = self.queue[name]
        while queue:
            params = queue.pop(0)
            if self._claim(name, params):
                return params
        family = self.families[name]
        if not family.space:
            return None
        for _ in range(_DRAWS):
            params = draw(family.space, self.rng[name])
            if self._claim(name, params):
                return params
        return None

    def _claim(self, name: str, params: dict[str, Any]) -> bool:
        key = repr(sorted({**self.families[name].estimator.get_params(), **params}.items()))
        if key in self.seen[name]:
            return False
        self.seen[name].add(key)
        return True

    def _best(self, name: str) -> Trial | None:
        ok = [t for t in self.trials[name] if t.error is None and not math.isnan(t.cv_mean)]
        return max(ok, key=self._score) if ok else None

    def _best_loss(self, name: str) -> float:
        """The family's lowest mean out-of-fold log loss (infinite when none was recorded)."""
        return min((t.cv_log_loss for t in self.trials[name] if t.error is None), default=math.inf)

    def _score(self, trial: Trial | None) -> float:
        if trial is None:
            return -math.inf
        return trial.cv_mean if self.higher else -trial.cv_mean


def draw(space: dict[str, Any], rng: np.random.RandomState) -> dict[str, Any]:
    """One random config: a list gives one of its items (drawn again if it is a distribution)."""
    params = {}
    for key in sorted(space):
        value = space[key]
        if isinstance(value, list | tuple):
            value = value[rng.randint(len(value))]
        if hasattr(value, "rvs"):
            value = value.rvs(random_state=rng)
        params[key] = _python(value)
    return params


def _python(value: Any) -> Any:
    """Numpy scalars as Python numbers, so params are JSON-able and print plainly."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float):
        return float(f"{value:.6g}")
    return value
