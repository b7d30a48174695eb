"""Run statistics over bootstrap resamples and turn their distributions into intervals.

``run`` is the one resample-then-bound loop, read from one ``Settings`` record: several
statistics share one ``Resampler``, so ``evaluate(ci=True)`` gets every metric's interval from
the same resamples and ``paired_bootstrap_ci`` scores both models on each. Degenerate resamples
(NaN) are counted, left out, and reported.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np

from verdict import errors
from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.metrics._intervals import bca_bounds, percentile_bounds
from verdict.metrics.bootstrap._counts import CLASS_MISSING
from verdict.metrics.bootstrap._resample import (
    Batch,
    Design,
    Resampler,
    Statistic,
    cell_jackknife,
    row_jackknife,
)

# Above this share of degenerate resamples the warning says the interval may mislead.
_MANY_DEGENERATE = 0.1


@dataclass(frozen=True, slots=True)
class Settings:
    """Validated resampling parameters of ``func``; ``seed`` is the one ``evaluate`` records."""

    n_resamples: int
    confidence: float
    method: str
    stratified: bool
    rng: np.random.Generator
    func: str
    seed: int | None = None


def run(
    design: Design,
    stats: list[Statistic],
    estimates: Any,
    settings: Settings,
    stacklevel: int = 3,
) -> list[tuple[np.ndarray, Bounds]]:
    """Resampled values and bounds of each statistic, all from the same resamples.

    ``stacklevel`` is the caller's user seen from here (3 when the public function calls
    ``run``), so that a BCa warning points at the user's line.
    """
    values = resample_values(design, stats, settings.n_resamples, settings.rng)
    jack: list[Any] = [None] * len(stats)
    if settings.method == "bca":
        jack = jackknife_values(design, stats, settings.rng)
    out = []
    for i, stat in enumerate(stats):  # a loop: warnings' stacklevel stays fixed
        found = bounds(stat, estimates[i], values[i], jack[i], settings, stacklevel + 1)
        out.append((values[i], found))
    return out


def resample_values(
    design: Design, stats: list[Statistic], n_resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """Every statistic on the same ``n_resamples`` resamples: shape (n_stats, n_resamples)."""
    resampler = Resampler(design, n_resamples, rng)
    with_rows = any(s.needs_rows for s in stats)
    out = np.empty((len(stats), n_resamples))
    for where, batch in resampler.batches(with_rows):
        for i, stat in enumerate(stats):
            out[i, where] = stat.values(batch)
    return out


def jackknife_values(
    design: Design, stats: list[Statistic], rng: np.random.Generator
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Leave-one-out values and their multiplicities, per statistic (for BCa)."""
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    by_cell = [i for i, s in enumerate(stats) if s.cell_jackknife]
    if by_cell:
        batch, multiplicity = cell_jackknife(design)
        for i in by_cell:
            out[i] = (stats[i].values(batch), multiplicity)
    by_row = [i for i, s in enumerate(stats) if not s.cell_jackknife]
    if by_row:
        batches, n_groups = row_jackknife(design, rng)
        values = np.empty((len(by_row), n_groups))
        for where, batch in batches:
            for j, i in enumerate(by_row):
                values[j, where] = stats[i].values(batch)
        for j, i in enumerate(by_row):
            out[i] = (values[j], np.ones(n_groups))
    return [out[i] for i in range(len(stats))]


def check_nonnegative(w: np.ndarray | None) -> np.ndarray | None:
    """Refuse negative sample weights, which a bootstrap cannot resample."""
    if w is not None and (w < 0).any():
        raise InvalidInputError(
            "sample_weight has negative entries, which a bootstrap cannot resample. To fix: "
            "pass non-negative weights (or leave the intervals out)."
        )
    return w


def check_resamples(n_resamples: Any, func: str) -> int:
    """The number of resamples: an int of at least 2."""
    if isinstance(n_resamples, Integral) and not isinstance(n_resamples, bool) and n_resamples >= 2:
        return int(n_resamples)
    raise InvalidParameterError(
        f"The 'n_resamples' parameter of {func} must be an int of at least 2. Got "
        f"{n_resamples!r} instead. To fix: pass e.g. n_resamples=1000."
    )


def make_rng(random_state: Any, func: str) -> np.random.Generator:
    """A Generator from None, a non-negative int or a Generator."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or (
        isinstance(random_state, Integral)
        and not isinstance(random_state, bool)
        and random_state >= 0
    ):
        return np.random.default_rng(random_state)
    raise InvalidParameterError(
        f"The 'random_state' parameter of {func} must be None, a non-negative int or a "
        f"numpy.random.Generator. Got {random_state!r} instead. To fix: pass e.g. "
        "random_state=0 for reproducible resamples."
    )


def checked_estimate(stat: Statistic, design: Design) -> float:
    """The statistic on the data as given; an undefined one is an input error."""
    value = stat.estimate(design)
    if not np.isfinite(value):
        raise InvalidInputError(
            f"{stat.name} is undefined ({value}) on the data as given, so it has no confidence "
            "interval. To fix: check that y_true holds every class the metric needs (both "
            "classes for ROC AUC), or choose a metric that is defined on these data."
        )
    return value


@dataclass(frozen=True, slots=True)
class Bounds:
    """An interval's bounds, its degenerate count and, when any, the warning to give."""

    low: float
    high: float
    n_degenerate: int
    message: str | None


def bounds(
    stat: Statistic,
    estimate: float,
    values: np.ndarray,
    jackknife: tuple[np.ndarray, np.ndarray] | None,
    settings: Settings,
    stacklevel: int,
) -> Bounds:
    """Interval bounds from the non-degenerate values; say how many were left out."""
    valid = values[~np.isnan(values)]
    n_degenerate = values.shape[0] - valid.shape[0]
    message = degenerate_message(stat, n_degenerate, values.shape[0], settings.stratified)
    if valid.shape[0] < 2:
        return Bounds(float("nan"), float("nan"), n_degenerate, message)
    if settings.method == "bca" and jackknife is not None:
        low, high = bca_bounds(
            valid,
            estimate,
            *jackknife,
            settings.confidence,
            stat.name,
            stacklevel=stacklevel + 1,
        )
    else:
        low, high = percentile_bounds(valid, settings.confidence)
    return Bounds(low, high, n_degenerate, message)


def degenerate_message(
    stat: Statistic, n_degenerate: int, n_resamples: int, stratified: bool
) -> str | None:
    """The warning for degenerate resamples, or None when there were none."""
    if n_degenerate == 0:
        return None
    valid = n_resamples - n_degenerate
    text = (
        f"{stat.name}: {n_degenerate} of {n_resamples} bootstrap resamples "
        f"({n_degenerate / n_resamples:.1%}) were degenerate ({stat.degenerate_reason}) "
        "and were left out of the interval."
    )
    if valid < 2:
        text += " Fewer than two resamples remain, so there is no interval: low and high are NaN."
    elif n_degenerate / n_resamples > _MANY_DEGENERATE:
        text += (
            " With this many, the interval describes only the resamples on which the metric "
            "is defined and may be too narrow."
        )
    if CLASS_MISSING in stat.degenerate_reason and not stratified:
        return text + " To fix: pass stratified=True, which keeps each class's count fixed."
    return text + " To fix: use more data, or a metric defined on every resample."


def warn(message: str | None) -> None:
    """Issue the degenerate-resample warning, if any, at the caller's caller."""
    if message is not None:
        warnings.warn(message, errors.UndefinedMetricWarning, stacklevel=3)


class Difference(Statistic):
    """``a - b`` of two statistics on the same resamples (paired comparison)."""

    def __init__(self, a: Statistic, b: Statistic) -> None:
        self.a, self.b = a, b
        self.name = a.name
        self.needs_rows = a.needs_rows or b.needs_rows
        self.cell_jackknife = a.cell_jackknife and b.cell_jackknife
        self.degenerate_reason = a.degenerate_reason

    def values(self, batch: Batch) -> np.ndarray:
        return self.a.values(batch) - self.b.values(batch)

    def estimate(self, design: Design) -> float:
        return self.a.estimate(design) - self.b.estimate(design)


class CallableStatistic(Statistic):
    """A user's metric ``fn(y_true, y_other[, sample_weight=...])``, called once per resample.

    The generic path: rows are rebuilt from the row counts. A resample on which the callable
    raises ``ValueError`` or ``ZeroDivisionError`` or returns NaN counts as degenerate; its
    warnings are silenced (the call on the data as given keeps them).
    """

    needs_rows = True
    degenerate_reason = "the metric raised a ValueError or returned NaN on it"

    def __init__(
        self,
        fn: Callable[..., Any],
        y_true: np.ndarray,
        other: np.ndarray,
        weight: np.ndarray | None,
    ) -> None:
        self.name = getattr(fn, "__name__", type(fn).__name__)
        self.fn, self.y_true, self.other, self.weight = fn, y_true, other, weight

    def _call(self, rows: np.ndarray | slice) -> Any:
        if self.weight is None:
            return self.fn(self.y_true[rows], self.other[rows])
        return self.fn(self.y_true[rows], self.other[rows], sample_weight=self.weight[rows])

    def estimate(self, design: Design) -> float:
        value = self._call(slice(None))
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"The metric {self.name} returned {value!r}, but it must return one number. "
                "To fix: return a float (e.g. pass average='macro' to a per-class metric)."
            ) from exc

    def values(self, batch: Batch) -> np.ndarray:
        out = np.empty(batch.size)
        layout = batch.design.layout
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i in range(batch.size):
                rows = np.repeat(layout, batch.rows[i].astype(np.intp))
                try:
                    out[i] = float(self._call(rows))
                except (ValueError, ZeroDivisionError):
                    out[i] = np.nan
        return out
