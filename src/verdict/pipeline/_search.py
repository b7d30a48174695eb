"""Model selection: a time-aware search over model families and their hyperparameters.

Strategy, and why. The tables verdict targets are mostly small to medium (hundreds to tens
of thousands of rows), where the family matters more than fine tuning and where subsampled
rungs (successive halving on rows) rank configs by noise: on 150 training rows a third of the
data says little about the whole. So every config is scored by full stratified k-fold CV
(repeated 3 times below 500 rows and twice below 1,000, where one k-fold is too noisy to rank
configs), and the budget is spent in two stages:

1. every family's default config, cheapest family first, so a good model exists within
   seconds (the defaults are strong: on the benchmark tables they are within a point or two
   of the best config found);
2. then the *focus*, three families (the two best so far on the primary metric and the best
   on log loss, see ``_plan``), share the remaining time equally (so a cheap family gets many
   configs and an expensive one a few), each trying its hand-picked ``starts`` before random
   draws from its ``space``; the focus is re-ranked after every config, so a family that
   improves can displace another.

The fidelity that is cheap to lower without ranking configs by noise is the number of folds:
a config expected to take more than ``RACE_SHARE`` of the search races the best configs so
far on the same folds, and is dropped as soon as it trails both the best primary score and the
best log loss by two standard errors (``_folds.Race``), so a hopeless expensive config costs a
fold or two rather than five.

Time is planned, not hoped for: the search aims to finish within 75% of ``time_budget``
(the rest is for the refit and evaluation that ``train`` does after); a config is started
only if the time predicted for it (from its family's past configs, or from the family's
relative cost before the first) fits, and a config whose folds so far say it will not be done
by 85% of the budget is abandoned between folds. At least one config always completes,
whatever the budget.

Folds run in parallel in joblib's worker processes (``n_jobs``); with
``dask='tcp://host:port'`` the same code runs under ``joblib.parallel_backend('dask')`` on a
Dask cluster.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
from joblib import effective_n_jobs, parallel_backend
from sklearn.model_selection import RepeatedStratifiedKFold

from verdict._params import Interval, check
from verdict.data import Schema
from verdict.errors import ConfigurationError, InvalidInputError
from verdict.metrics import cost_matrix
from verdict.models import Family, model_families
from verdict.pipeline._candidates import SearchResult, Trial, make_pipeline
from verdict.pipeline._final import Library, choose_final, prior_oof
from verdict.pipeline._folds import DROPPED, Race, run_config
from verdict.pipeline._plan import Planner
from verdict.pipeline._rank import rank_candidates
from verdict.pipeline._scoring import (
    canonical_metric,
    greater_is_better,
    label_score,
    metric_info,
    metric_scorer,
    proba_score,
)

SEARCH_SHARE = 0.75  # of time_budget: plan to be done by then
ABANDON_SHARE = 0.85  # a config projected to end after this share is dropped between folds
# a config expected to take more than this share of the search's time races the best so far
# fold by fold (``Race``); cheaper ones always finish, for the ensemble's sake
RACE_SHARE = 0.05


def search(
    X: pd.DataFrame,
    y: Any,
    schema: Schema,
    *,
    families: Sequence[str] | Mapping[str, Family] | None = None,
    metric: str,
    cv: int = 5,
    time_budget: float = 60.0,
    seed: int = 0,
    n_jobs: int | None = None,
    dask: str | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    costs: Any = None,
    clip_outliers: bool | float = True,
    max_configs: int | None = None,
) -> SearchResult:
    """Cross-validate model families and configs within a time budget; best family first.

    Parameters
    ----------
    X : DataFrame
        Training rows only (the hold-out test set must never be passed here); must hold the
        schema's feature columns.
    y : array-like of shape (n_samples,)
        Training labels, no missing values.
    schema : Schema
        The table's schema; the preprocessing is built from it.
    families : sequence of str or mapping of str to Family, optional
        Family names (see ``model_families``) or ready ``Family`` objects; all available
        when None.
    metric : str
        The metric to optimise: a name of the bootstrap table ('f1_macro', 'accuracy',
        'roc_auc_macro', 'log_loss' ...), 'expected_calibration_error' or 'expected_cost'.
        Losses are minimised.
    cv : int, default=5
        Stratified folds (shuffled with ``seed``).
    time_budget : float, default=60.0
        Seconds for the whole training run; the search plans to use 75% of it.
    seed : int, default=0
        Seeds the folds, the random configs and every estimator.
    n_jobs : int, optional
        Parallel fold fits (joblib semantics: None is 1 unless a backend says otherwise, -1
        all cores).
    dask : str, optional
        Address of a Dask scheduler ('tcp://host:8786'): run on that cluster.
    progress : callable, optional
        Called with a dict after each config: ``family``, ``params``, ``score``, ``cv_std``,
        ``failed``, ``dropped`` (it fell behind the best on its first folds and was stopped),
        ``best_family``, ``best_score``, ``n_configs``, ``seconds`` (of this
        config), ``elapsed``, ``time_budget``, ``metric``.
    costs : mapping or array-like, optional
        The cost matrix (or ``{'fp', 'fn'}``) when ``metric='expected_cost'``.
    clip_outliers : bool or float, default=True
        Passed to ``build_preprocessor``.
    max_configs : int, optional
        Reproducible mode: cross-validate exactly this many configs (fewer if the families
        run out), whatever the clock says, so that a seed gives the same search on any
        machine; ``time_budget`` then only sizes nothing. None: search within the budget.

    Returns
    -------
    SearchResult
        ``candidates`` (best first, one per family) and ``best_pipeline(family)``; ``final``,
        the ensemble and calibration chosen on out-of-fold probabilities, and
        ``final_pipeline()``. Each config's ``cv_scores`` has ``cv`` scores per repeat of the
        folds (see ``repeats``).
    """
    start = time.perf_counter()
    X, y = _check_inputs(X, y, schema, cv, time_budget)
    check_max_configs(max_configs)
    classes = np.unique(y)
    y_index = np.searchsorted(classes, y)
    zoo = _families(families, len(classes), seed, len(y))
    name = canonical_metric(metric)
    matrix = None if costs is None else cost_matrix(costs, classes.tolist())
    score = proba_score(name, len(classes), costs=matrix)
    metric_scorer(name, classes, costs=costs)  # refuses a metric that needs missing costs
    tie = _tie(name, len(y))
    higher = greater_is_better(name)
    folds = RepeatedStratifiedKFold(n_splits=cv, n_repeats=repeats(len(y)), random_state=seed)
    splits = list(folds.split(np.zeros(len(y)), y))
    planner = Planner(zoo, higher, seed)
    library = Library(higher, tie)
    timed = max_configs is None
    soft = start + SEARCH_SHARE * time_budget
    hard = start + ABANDON_SHARE * time_budget
    with _parallel(dask, n_jobs, scatter=[X, y_index]) as jobs:
        while (timed or planner.n_trials < max_configs) and (
            choice := planner.next(
                soft - time.perf_counter() if timed else math.inf, first=not planner.scored
            )
        ):
            family, params = choice
            pipeline = make_pipeline(schema, zoo[family], params, clip_outliers)
            deadline = hard if planner.scored and timed else None
            expensive = planner.predict(family) > RACE_SHARE * (soft - start)
            race = _race(library.trials, higher, tie) if timed and expensive else None
            trial, oof = run_config(
                pipeline, family, params, X, y_index, splits, score, jobs,
                n_classes=len(classes), deadline=deadline, race=race,
            )  # fmt: skip
            planner.record(trial)
            library.add(trial, oof)
            _report(progress, trial, planner, start, time_budget, name)
    trials = library.trials
    order = {n: i for i, n in enumerate(zoo)}
    candidates = rank_candidates(trials, higher, tie, order)
    if not candidates:
        errors = "; ".join(f"{t.family}: {t.error}" for t in trials[:3])
        raise InvalidInputError(
            f"Every model failed to train on this data ({errors}). To fix: check the table "
            "with `verdict.data.check_table` and the errors above."
        )
    # a metric of labels to maximise, no costs: blend on log loss, serve it by decision weights
    labels = metric_info(name).input == "labels" and higher and matrix is None
    decide = label_score(name, len(classes)) if labels else None
    refit_seconds = (
        (1.0 - SEARCH_SHARE) * time_budget * effective_n_jobs(jobs) if timed else math.inf
    )
    final = choose_final(
        library, prior_oof(y_index, splits, len(classes)), y_index, score,
        higher=higher, tie=tie, seed=seed, max_refit_seconds=refit_seconds,
        decision_score=decide,
    )  # fmt: skip
    return SearchResult(
        metric=name,
        greater_is_better=higher,
        candidates=tuple(candidates),
        trials=tuple(trials),
        cv=cv,
        time_budget=float(time_budget),
        elapsed_seconds=time.perf_counter() - start,
        schema=schema,
        families=zoo,
        clip_outliers=clip_outliers,
        final=final,
        mode="time_budget" if timed else "max_configs",
        max_configs=max_configs,
    )


def _race(trials: Sequence[Trial], higher: bool, tie: float) -> Race | None:
    """The bars of the best config on the primary metric and of the best on log loss.

    Only in the timed mode: a reproducible run (``max_configs``) finishes every config, so
    that which configs it tries does not depend on what the clock allowed before."""
    done = [t for t in trials if t.error is None and t.tiebreak and math.isfinite(t.cv_mean)]
    if not done:
        return None
    sign = 1.0 if higher else -1.0
    best = max(done, key=lambda t: sign * t.cv_mean)
    honest = min(done, key=lambda t: t.cv_log_loss)
    return Race(best.cv_scores, higher, tie, honest.tiebreak)


def check_max_configs(max_configs: Any, func: str = "search") -> None:
    """Refuse a ``max_configs`` that is not a positive integer (None: search on the clock)."""
    fix = "pass e.g. max_configs=20, or leave it out to search within the time budget"
    check("max_configs", max_configs, func, Interval(Integral, 1, None), None, fix=fix)


def repeats(n_rows: int) -> int:
    """How many times to repeat the k folds: more on small tables, where one CV is noisy."""
    return 3 if n_rows < 500 else 2 if n_rows < 1000 else 1


def _check_inputs(
    X: Any, y: Any, schema: Schema, cv: Any, time_budget: Any
) -> tuple[pd.DataFrame, np.ndarray]:
    if not isinstance(X, pd.DataFrame):
        raise InvalidInputError(
            f"X must be a pandas DataFrame of the feature columns; got {type(X).__name__}. "
            "To fix: pass the training frame (e.g. DataReport.clean(frame) without the target)."
        )
    missing = [c for c in schema.features if c not in X.columns]
    if missing:
        raise InvalidInputError(
            f"X lacks the schema's feature columns {missing}. To fix: pass the frame the "
            "schema was inferred from."
        )
    labels = np.asarray(y)
    if labels.ndim != 1 or len(labels) != len(X):
        raise InvalidInputError(
            f"y must be 1-dimensional with one label per row of X ({len(X)}); got shape "
            f"{labels.shape}. To fix: pass the target column of the same rows."
        )
    if pd.isna(labels).any():
        raise InvalidInputError(
            "y has missing labels. To fix: drop the unlabelled rows before searching."
        )
    _check_numbers(cv, time_budget)
    counts = pd.Series(labels).value_counts()
    if len(counts) < 2 or counts.min() < cv:
        raise InvalidInputError(
            f"y needs at least two classes with at least cv={cv} rows each for stratified "
            f"folds; class counts are {counts.to_dict()}. To fix: lower cv, gather more rows "
            "of the rare classes, or merge them."
        )
    return X.reset_index(drop=True), labels


def _check_numbers(cv: Any, time_budget: Any) -> None:
    check("cv", cv, "search", Interval(Integral, 2, None, closed="left"), fix="pass e.g. cv=5")
    seconds = Interval(Real, 0, None, closed="neither")  # finite: the budget must run out
    check("time_budget", time_budget, "search", seconds, fix="pass e.g. time_budget=60 (seconds)")


def _families(
    families: Sequence[str] | Mapping[str, Family] | None, k: int, seed: int, n: int
) -> dict[str, Family]:
    if isinstance(families, Mapping):
        return dict(sorted(families.items(), key=lambda item: item[1].cost))
    if isinstance(families, str):
        families = [families]
    return model_families(families, n_classes=k, seed=seed, n_samples=n)


@contextlib.contextmanager
def _parallel(dask: str | None, n_jobs: int | None, scatter: list[Any]) -> Iterator[int | None]:
    """Joblib's default backend, or a Dask cluster's when an address is given.

    On Dask the training data is sent to the workers once (``scatter``), not with every fold.
    """
    if dask is None:
        # joblib's processes (loky), not threads: LightGBM is not safe to train from several
        # threads of one process at once (it crashed the interpreter on a 20,000-row table)
        yield n_jobs
        return
    try:
        from dask.distributed import Client
    except ImportError as exc:
        raise ConfigurationError(
            f"dask={dask!r} asks for a Dask cluster, but dask.distributed is not installed. "
            "To fix: pip install 'dask[distributed]', or leave dask unset to run locally."
        ) from exc
    try:
        client = Client(dask, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConfigurationError(
            f"Cannot connect to the Dask scheduler at {dask!r}: {exc}. To fix: start it "
            "(`dask scheduler`) and check the address, or leave dask unset to run locally."
        ) from exc
    try:
        with parallel_backend("dask", scatter=scatter):
            yield -1 if n_jobs is None else n_jobs
    finally:
        client.close()


def _tie(metric: str, n_rows: int) -> float:
    """The resolution of a count metric's CV mean: one row's error in one fold of one pass.

    Below it two configs made the same errors; other metrics have no such step (0).
    """
    info = metric_info(metric)
    if info.input != "labels" or info.needs_costs:
        return 0.0
    return 1.0 / (n_rows * repeats(n_rows))


def _report(
    progress: Callable[[dict[str, Any]], None] | None,
    trial: Trial,
    planner: Planner,
    start: float,
    budget: float,
    metric: str,
) -> None:
    if progress is None:
        return
    best = planner.best_trial
    progress(
        {
            "family": trial.family,
            "params": dict(trial.params),
            "score": None if trial.error else trial.cv_mean,
            "cv_std": None if trial.error else trial.cv_std,
            "failed": trial.error is not None,
            "dropped": trial.error is not None and trial.error.startswith(DROPPED),
            "best_family": None if best is None else best.family,
            "best_score": None if best is None else best.cv_mean,
            "n_configs": planner.n_trials,
            "seconds": trial.seconds,
            "elapsed": time.perf_counter() - start,
            "time_budget": budget,
            "metric": metric,
        }
    )
