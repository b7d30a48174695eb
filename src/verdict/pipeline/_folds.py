"""Cross-validate one config: fit a fresh pipeline on each training fold, score its held-out fold.

Each fold clones the whole pipeline, preprocessing included, so nothing learned on one fold's
validation rows (or on any row the search was not given) reaches a fit.
"""

from __future__ import annotations

import contextlib
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from verdict.pipeline._candidates import Trial


def run_config(
    pipeline: Pipeline,
    family: str,
    params: dict[str, Any],
    X: pd.DataFrame,
    y: np.ndarray,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    scorer: Callable[..., float],
    higher: bool,
    n_jobs: int | None,
    *,
    deadline: float | None,
    tiebreak: Callable[..., float] | None = None,
) -> Trial:
    """Score ``pipeline`` (configured with ``params``) on every fold.

    ``tiebreak`` (a log-loss scorer) is scored too when given, for the ranking of families
    the primary metric cannot tell apart. A failure gives a trial with the error; so does a
    config whose folds so far project that it will finish after ``deadline`` (it is
    abandoned, wasting at most the folds in flight).
    """
    start = time.perf_counter()
    scorers = [scorer] if tiebreak is None else [scorer, tiebreak]
    tasks = (delayed(_fold)(pipeline, X, y, tr, te, scorers) for tr, te in splits)
    scores: list[float] = []
    losses: list[float] = []
    fits: list[float] = []
    error = None
    try:
        parallel = Parallel(n_jobs=n_jobs, return_as="generator", pre_dispatch="n_jobs")
        for values, fit in parallel(tasks):
            scores.append(values[0] if higher else -values[0])
            losses.extend(-v for v in values[1:])
            fits.append(fit)
            left = len(splits) - len(scores)
            now = time.perf_counter()
            per_fold = (now - start) / len(scores)  # wall time per fold, parallelism included
            if left and deadline is not None and now + per_fold * left > deadline:
                error = f"abandoned after {len(scores)} of {len(splits)} folds: out of time"
                break
    except Exception as exc:  # any estimator failure is a failed config, not a failed search
        error = f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - start
    fit_seconds = float(np.mean(fits)) if fits else float("nan")
    if error is not None:
        return Trial(family, params, (), fit_seconds, seconds, error)
    return Trial(family, params, tuple(scores), fit_seconds, seconds, tiebreak=tuple(losses))


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
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    scorers: list[Callable[..., float]],
) -> tuple[list[float], float]:
    """Fit a clone on the training rows, score it on the validation rows."""
    model = clone(pipeline)
    # one BLAS/OpenMP thread per fit: parallelism comes from n_jobs, and on a busy machine
    # oversubscribed OpenMP makes small fits (gradient boosting) several times slower
    with threadpool_limits(limits=1), _quiet():
        start = time.perf_counter()
        model.fit(X.iloc[train], y[train])
        fit = time.perf_counter() - start
        X_test, y_test = X.iloc[test], y[test]
        scores = [float(scorer(model, X_test, y_test)) for scorer in scorers]
    return scores, fit
