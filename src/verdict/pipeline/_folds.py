"""Cross-validate one config: fit a fresh pipeline on each training fold, score its held-out fold.

Each fold clones the whole pipeline, preprocessing included, so nothing learned on one fold's
validation rows (or on any row the search was not given) reaches a fit.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from verdict.pipeline._calibrate import log_loss_of
from verdict.pipeline._candidates import Trial

RACE_Z = 2.0  # standard errors behind the best on the folds so far before a config is dropped
DROPPED = "dropped after"  # how the error of a config stopped by ``Race`` begins


@dataclass(frozen=True)
class Race:
    """The bars an expensive config must keep pace with, fold by fold.

    ``primary`` holds the best config's score on each fold (``higher``: whether more is
    better; ``tie``: the metric's resolution) and ``loss`` the per-fold log loss of the config
    with the best log loss. After each fold a config behind both bars on the folds done so far,
    by more than ``RACE_Z`` standard errors of a fold's score, is dropped: it would not be
    chosen, and its probabilities would not help an ensemble. Keeping pace on either bar is
    enough, so a config worse on the primary metric but with honest probabilities survives.
    This is successive halving with folds as the fidelity: all configs meet the same rows.
    """

    primary: tuple[float, ...]
    higher: bool
    tie: float
    loss: tuple[float, ...]

    def verdict(self, scores: Sequence[float], losses: Sequence[float]) -> str | None:
        """Why the config should stop after these folds, or None to go on."""
        done = len(scores)
        if done >= len(self.primary) or done >= len(self.loss):
            return None
        ours, best = _mean(scores), _mean(self.primary[:done])
        behind = best - ours if self.higher else ours - best
        if behind <= self._margin(self.primary, done, self.tie):
            return None
        our_loss, best_loss = _mean(losses), _mean(self.loss[:done])
        if our_loss - best_loss <= self._margin(self.loss, done, 0.0):
            return None
        return (
            f"{DROPPED} {done} of {len(self.primary)} folds: {ours:.4f} on them against "
            f"the best config's {best:.4f}, log loss {our_loss:.4f} against {best_loss:.4f}"
        )

    @staticmethod
    def _margin(bar: Sequence[float], done: int, tie: float) -> float:
        spread = float(np.std(bar, ddof=1)) if len(bar) > 1 else 0.0
        return max(tie, RACE_Z * spread / math.sqrt(done))


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def run_config(
    pipeline: Pipeline,
    family: str,
    params: dict[str, Any],
    X: pd.DataFrame,
    y_index: np.ndarray,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    score: Callable[[np.ndarray, np.ndarray], float],
    n_jobs: int | None,
    *,
    n_classes: int,
    deadline: float | None,
    race: Race | None = None,
) -> tuple[Trial, np.ndarray | None]:
    """Score ``pipeline`` (configured with ``params``) on every fold; keep its OOF probabilities.

    ``y_index`` codes the labels 0..k-1 (sorted classes); ``score(y_index, proba)`` is the
    primary metric's plain value. Each fold's log loss is recorded too (``Trial.tiebreak``),
    and the returned out-of-fold probabilities have shape (repeats, n, k): one prediction of
    every row per pass over the folds. A failure gives a trial with the error (and no
    probabilities); so does a config whose folds so far project that it will finish after
    ``deadline`` (it is abandoned, wasting at most the folds in flight), and one that falls
    behind ``race``'s bars (see ``Race``).
    """
    start = time.perf_counter()
    n_folds = folds_per_repeat(splits, len(y_index))
    oof = np.full((len(splits) // n_folds, len(y_index), n_classes), np.nan)
    tasks = (delayed(_fold)(pipeline, X, y_index, tr, te, n_classes) for tr, te in splits)
    scores: list[float] = []
    losses: list[float] = []
    fits: list[float] = []
    error = None
    try:
        parallel = Parallel(n_jobs=n_jobs, return_as="generator", pre_dispatch="n_jobs")
        for i, (proba, fit) in enumerate(_cancel_quietly(parallel(tasks))):
            held_out = splits[i][1]
            oof[i // n_folds, held_out] = proba
            scores.append(score(y_index[held_out], proba))
            losses.append(log_loss_of(proba, y_index[held_out]))
            fits.append(fit)
            left = len(splits) - len(scores)
            now = time.perf_counter()
            per_fold = (now - start) / len(scores)  # wall time per fold, parallelism included
            if left and deadline is not None and now + per_fold * left > deadline:
                error = f"abandoned after {len(scores)} of {len(splits)} folds: out of time"
                break
            if race is not None and (error := race.verdict(scores, losses)):
                break
    except Exception as exc:  # any estimator failure is a failed config, not a failed search
        error = f"{type(exc).__name__}: {exc}"
    if error is None and not np.all(np.isfinite([*scores, *losses])):
        error = "the metric is undefined on some folds (NaN)"
    seconds = time.perf_counter() - start
    fit_seconds = float(np.mean(fits)) if fits else float("nan")
    if error is not None:
        return Trial(family, params, (), fit_seconds, seconds, error), None
    trial = Trial(family, params, tuple(scores), fit_seconds, seconds, tiebreak=tuple(losses))
    return trial, oof


def _cancel_quietly(results: Iterator[Any]) -> Iterator[Any]:
    """The folds' results; when the loop stops early joblib warns that it cancelled the folds in
    flight, which is the point of stopping (and no concern of the user's)."""
    try:
        yield from results
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            close = getattr(results, "close", None)
            if close is not None:
                close()


def folds_per_repeat(splits: Sequence[tuple[np.ndarray, np.ndarray]], n: int) -> int:
    """How many folds make one pass over the rows (their held-out parts add up to ``n``)."""
    covered = 0
    for i, (_, held_out) in enumerate(splits):
        covered += len(held_out)
        if covered >= n:
            return i + 1
    return len(splits)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence warnings (convergence, degenerate folds) expected while exploring configs.

    ``catch_warnings`` swaps the process-wide filter list and is not thread-safe: on a worker
    thread (Dask's threaded workers) two fits restoring it would corrupt it, so there the
    warnings are silenced for the whole worker process instead.
    """
    if threading.current_thread() is threading.main_thread():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    else:
        warnings.simplefilter("ignore")
        yield


def _fold(
    pipeline: Pipeline,
    X: pd.DataFrame,
    y_index: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    n_classes: int,
) -> tuple[np.ndarray, float]:
    """Fit a clone on the training rows; its probabilities of the validation rows, every
    class's column in code order (a class absent from the training rows gets 0)."""
    model = clone(pipeline)
    # one BLAS/OpenMP thread per fit: parallelism comes from n_jobs, and on a busy machine
    # oversubscribed OpenMP makes small fits (gradient boosting) several times slower
    with threadpool_limits(limits=1), _quiet():
        start = time.perf_counter()
        model.fit(X.iloc[train], y_index[train])
        fit = time.perf_counter() - start
        raw = np.asarray(model.predict_proba(X.iloc[test]), dtype=np.float64)
    proba = np.zeros((len(test), n_classes))
    proba[:, np.asarray(model.classes_, dtype=int)] = raw
    return proba, fit
