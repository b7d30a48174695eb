"""``train``: from a labelled table to a selected, evaluated and explained model, written to disk.

The order of the steps is what keeps the evaluation honest: the table is checked, then the
test rows are set aside; the metric advice, the profile, the search, every refit and the
decision rule see only the training rows; the test rows are predicted once, at the end, and
every number about them (the metrics with intervals, the paired comparisons, the importance)
comes from those predictions.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import Pipeline

from verdict import __version__
from verdict._results import plain
from verdict.data import DataReport, Profile, Schema, check_table, profile_table
from verdict.metrics import Evaluation, MetricAdvice, evaluate, get_metric, recommend_metrics
from verdict.pipeline._calibrate import calibration_effect
from verdict.pipeline._candidates import SearchResult
from verdict.pipeline._compare import BASELINE, STRATIFIED, Outputs, compare
from verdict.pipeline._decision import choose_decision, cost_matrix
from verdict.pipeline._explain import Served, importance, shap_importance
from verdict.pipeline._inputs import Split, check_params, load_table, primary_metric, split
from verdict.pipeline._lineage import fingerprint, lineage
from verdict.pipeline._policy import DecisionPolicy
from verdict.pipeline._progress import Silent, display
from verdict.pipeline._run import Run, predictions_frame, run_directory, run_frames, write_run
from verdict.pipeline._scoring import metric_scorer
from verdict.pipeline._search import check_max_configs, search
from verdict.pipeline._signal import signal_verdict

# The search plans to end by 75% of the budget it is given, leaving a quarter for the refits,
# the evaluation and the explanation. It is given the budget less this share, because those
# steps alone take 10 s of a 60 s budget on a table like digits (two refits, permutation
# importance over 64 columns), a config may run a little past the search's plan, and
# `verdict train` still has to start Python and write the report within the same budget.
RESERVE_SHARE = 0.15
# Below this budget the search runs in this process: joblib's worker processes take a second
# or two to start, which a 5 s budget cannot spare (1 config tried instead of about 10).
PARALLEL_MIN_BUDGET = 15.0
REPORT_SHARE = 0.05  # of the budget, left after the explanation for writing the run and report


@dataclass(frozen=True)
class _Prepared:
    """Everything known before the search: the checked data, its split, the metric."""

    source: str
    n_rows: int
    report: DataReport
    parts: Split
    classes: list[Any]
    costs: np.ndarray | None
    advice: MetricAdvice
    primary: str
    profile: Profile

    @property
    def schema(self) -> Schema:
        return self.report.schema


def train(
    data: str | Path | pd.DataFrame,
    target: str,
    *,
    metric: str = "auto",
    costs: Mapping[str, float] | Any = None,
    models: list[str] | None = None,
    time_budget: float = 60.0,
    test_size: float = 0.2,
    cv: int = 5,
    seed: int = 0,
    out: str | Path | None = None,
    dask: str | None = None,
    quiet: bool = False,
    test_data: pd.DataFrame | None = None,
    n_jobs: int | None = None,
    max_configs: int | None = None,
) -> Run:
    """Train, select, evaluate and explain a classifier for ``target``, and write the run.

    Steps: read and check the table (``check_table``: stopping problems raise, the rest are
    recorded); set aside a stratified hold-out test set; choose the primary metric
    (``recommend_metrics`` on the training labels, with the costs); profile the training rows;
    search model families and their hyperparameters by cross-validation on the training rows;
    refit the best and the runner-up on all training rows; predict the test set once and
    evaluate it with confidence intervals; compare the best model with the runner-up and a
    majority-class baseline by paired tests; with costs, choose the decision threshold (two
    classes) or cost rule (more) on out-of-fold predictions of the training rows; measure
    permutation importance on the test set (and SHAP values when ``shap`` is installed).

    Parameters
    ----------
    data : str, Path or DataFrame
        The labelled table: a CSV, TSV, Parquet or JSON Lines file, or a DataFrame.
    target : str
        The column holding the class labels.
    metric : str, default 'auto'
        The metric to select on; 'auto' takes ``recommend_metrics``'s primary.
    costs : dict, array-like or DataFrame, optional
        What mistakes cost: ``{'fp': x, 'fn': y}`` (two classes; positive = greater label),
        a square matrix (``[i][j]``: cost of predicting class j when the truth is i, classes
        in sorted order), or a DataFrame labelled with the classes (index true, columns
        predicted). Shapes the advice and adds the decision rule.
    models : list of str, optional
        Model families to search (see ``model_families``); all available when None.
    time_budget : float, default 60.0
        Seconds for the whole run. The search plans to end by about two thirds of it
        (``RESERVE_SHARE``), leaving the rest for the refits, evaluation and explanation, and
        for the report that ``verdict train`` writes after.
    test_size : float, default 0.2
        Share of rows held out for the test set (ignored with ``test_data``).
    cv : int, default 5
        Stratified cross-validation folds of the search.
    seed : int, default 0
        Seeds the split, the folds, the search, the estimators and the intervals: the same
        seed on the same data gives the same run (within what the time budget lets the search
        try).
    out : str or Path, optional
        The run directory; ``.verdict/runs/<timestamp>`` when None. Must not hold a run.
    dask : str, optional
        Address of a Dask scheduler to run the search's fits on.
    quiet : bool, default False
        Print nothing; otherwise a progress display on standard error.
    test_data : DataFrame, optional
        Hold-out rows to test on instead of splitting ``data`` (same columns).
    n_jobs : int, optional
        Parallel fits (joblib semantics); None uses every core (one fit per core) from a
        15 s budget up and one below it, or every worker with ``dask``.
    max_configs : int, optional
        Reproducible mode: the search cross-validates exactly this many configs whatever the
        clock says, so the same seed gives the same run.json metrics on any machine (the
        budget then bounds nothing; run.json's ``search.mode`` records which mode ran).

    Returns
    -------
    Run
        The fitted pipeline, the schema, the test evaluation, and the run.json content.

    Raises
    ------
    InvalidInputError
        For data that cannot be trained on (see ``check_table``) or unusable arguments; the
        message ends with how to fix it.
    """
    start = time.perf_counter()
    names = check_params(time_budget, seed, models, n_jobs, dask, quiet)
    check_max_configs(max_configs, "train")
    parallel = dask is None and float(time_budget) >= PARALLEL_MIN_BUDGET
    jobs = (-1 if parallel else None) if n_jobs is None else n_jobs
    run_dir = run_directory(out)
    arguments = {
        "data": None, "target": target, "metric": metric, "costs": None, "models": names,
        "time_budget": time_budget, "test_size": None if test_data is not None else test_size,
        "cv": cv, "seed": seed, "out": None if out is None else str(out), "dask": dask,
        "n_jobs": n_jobs, "test_data": None, "max_configs": max_configs,
    }  # fmt: skip
    with display(quiet) as show:
        prep = _prepare(data, target, metric, costs, test_data, test_size, cv, seed, show)
        arguments.update(_recorded_inputs(prep, costs, test_data))
        remaining = time_budget * (1 - RESERVE_SHARE) - (time.perf_counter() - start)
        show.stage(f"Searching {len(names or []) or 'all'} model families on {prep.primary}")
        result = search(
            prep.parts.X_train, prep.parts.y_train, prep.schema, families=names,
            metric=prep.primary, cv=cv, time_budget=max(remaining, 1.0), seed=seed,
            n_jobs=jobs, dask=dask, progress=show.search, costs=prep.costs,
            max_configs=max_configs,
        )  # fmt: skip
        show.stage(f"Refitting {result.final.name} and evaluating it on the test set")
        deadline = start + time_budget * (1 - REPORT_SHARE) if max_configs is None else None
        done = _assess(prep, result, seed=seed, n_jobs=jobs, show=show, deadline=deadline)
        info = {
            **done.info,
            "lineage": lineage(seed, arguments),
            "time_budget": float(time_budget),
            "elapsed_seconds": time.perf_counter() - start,
        }
        info = json.loads(json.dumps(plain(info), allow_nan=False))  # exactly as on disk
        show.stage(f"Writing the run to {run_dir}")
        parts = prep.parts
        frames = run_frames(parts.train_frame, parts.X_test, parts.y_test, target, seed)
        write_run(run_dir, info, done.model, done.predictions, frames)
    return Run(run_dir, done.model, prep.schema, done.evaluation, info)


def _prepare(
    data: Any,
    target: str,
    metric: Any,
    costs: Any,
    test_data: Any,
    test_size: float,
    cv: int,
    seed: int,
    show: Silent,
) -> _Prepared:
    """Load, check, split; the advice, primary metric and profile from the training rows."""
    show.stage("Reading and checking the data")
    frame, source = load_table(data)
    report = check_table(frame, target, cv=cv, test_size=test_size, warn=False)
    show.findings(report.warnings)
    parts = split(report, frame, test_data, test_size=test_size, seed=seed)
    classes = list(report.schema.classes)
    matrix = cost_matrix(costs, classes)
    advised = costs if isinstance(costs, Mapping) else matrix
    advice = recommend_metrics(parts.y_train, costs=advised)
    primary = primary_metric(metric, advice.primary, len(classes), matrix is not None)
    profile = profile_table(parts.train_frame, target, report.schema, random_state=seed)
    return _Prepared(source, len(frame), report, parts, classes, matrix, advice, primary, profile)


def _recorded_inputs(prep: _Prepared, costs: Any, test_data: Any) -> dict[str, Any]:
    """How data, costs and test_data are written into the lineage (JSON, reproducible)."""
    if costs is None:
        recorded = None
    elif isinstance(costs, Mapping):
        recorded = {"fp": float(costs["fp"]), "fn": float(costs["fn"])}
    else:
        recorded = prep.costs.tolist()  # type: ignore[union-attr]
    shown = None if test_data is None else f"DataFrame ({len(prep.parts.y_test)} labelled rows)"
    return {"data": prep.source, "costs": recorded, "test_data": shown}


@dataclass(frozen=True)
class _Assessed:
    """The refit model, its test evaluation and predictions, and run.json up to ``shap``."""

    model: Pipeline
    evaluation: Evaluation
    predictions: pd.DataFrame
    info: dict[str, Any]


def _assess(
    prep: _Prepared,
    result: SearchResult,
    *,
    seed: int,
    n_jobs: Any,
    show: Silent,
    deadline: float | None,
) -> _Assessed:
    """Refit, predict the test set once, evaluate, compare, decide, explain: run.json's body."""
    parts = prep.parts
    final = result.final
    model = _fit(result.final_pipeline(n_jobs=n_jobs), parts)
    best = _outputs(final.name, model, parts.X_test, prep.classes)
    decision = _weights_decision(final, model, prep)
    weighted = None
    if decision is not None:  # evaluate the class that will be served, not plain argmax
        weighted = DecisionPolicy.from_decision(decision, prep.classes)
        best = Outputs(best.name, weighted.decide(best.proba), best.proba)
    runner_up = _runner_up(result)
    others = []
    if runner_up is not None:
        second = _fit(result.best_pipeline(runner_up), parts)
        others.append(("runner_up", _outputs(runner_up, second, parts.X_test, prep.classes)))
    for role, strategy, name in _baselines(prep.primary):
        baseline = DummyClassifier(strategy=strategy, random_state=seed)
        baseline.fit(parts.X_train, parts.y_train)
        others.append((role, _outputs(name, baseline, parts.X_test, prep.classes)))
    evaluation = evaluate(
        parts.y_test, best.pred, best.proba, labels=prep.classes, ci=True, random_state=seed
    )
    comparisons = compare(
        parts.y_test, prep.primary, best, others, classes=prep.classes, cost=prep.costs,
        seed=seed,
    )  # fmt: skip
    if prep.primary != "log_loss":  # the prior is the bar for the probabilities too
        prior = [o for o in others if o[0] == "baseline"]
        comparisons += compare(
            parts.y_test, "log_loss", best, prior, classes=prep.classes, cost=None, seed=seed
        )
    signal = signal_verdict(comparisons, prep.primary)
    if prep.costs is not None:
        show.stage("Choosing the decision rule on out-of-fold predictions of the training rows")
        decision = choose_decision(
            prep.costs, prep.classes, parts.y_train, final.oof, parts.y_test, best.proba
        )
    show.stage("Measuring permutation importance on the test set")
    info = _info(prep, result, evaluation, comparisons, decision, runner_up)
    info["signal"] = signal
    info["final"]["test"] = calibration_effect(model, parts.X_test, parts.y_test, prep.classes)
    served = model if weighted is None else Served(model, weighted)  # what users get
    info["importance"], info["shap"] = _explain(
        prep, served, seed=seed, n_jobs=n_jobs, deadline=deadline
    )
    predictions = predictions_frame(parts.y_test, best.pred, best.proba, prep.classes)
    return _Assessed(model, evaluation, predictions, info)


def _weights_decision(final: Any, model: Any, prep: _Prepared) -> dict[str, Any] | None:
    """run.json's ``decision`` for per-class weights tuned by the search (None: argmax), the
    weights put in ``prep.classes`` order (the search's are in sorted order, the model's)."""
    if final.weights is None:
        return None
    by_class = dict(zip(plain(list(model.classes_)), final.weights, strict=True))
    return {
        "kind": "weights",
        "classes": prep.classes,
        "weights": [float(by_class[c]) for c in prep.classes],
        "tuned_for": prep.primary,
        "cv_score": final.cv_score,
        "cv_score_argmax": final.cv_score_argmax,
    }


def _baselines(primary: str) -> list[tuple[str, str, str]]:
    """(role, DummyClassifier strategy, name) of the baselines the model is compared with:
    the majority class with the class frequencies as probabilities, and for a metric of labels
    also guessing at random with the class frequencies."""
    rows = [("baseline", "prior", BASELINE)]
    if get_metric(primary).input == "labels":
        rows.append(("stratified", "stratified", STRATIFIED))
    return rows


def _runner_up(result: SearchResult) -> str | None:
    """The best single family other than the final model (for an ensemble: its best config)."""
    names = [c.family for c in result.candidates]
    if result.final.name not in names:  # an ensemble or the prior: compare with the best single
        return names[0] if names else None
    others = [n for n in names if n != result.final.name]
    return others[0] if others else None


def _fit(pipeline: Pipeline, parts: Split) -> Pipeline:
    """Refit on every training row."""
    with warnings.catch_warnings():
        # the search saw the same warnings (convergence ...) and judged the config by its score
        warnings.simplefilter("ignore")
        return pipeline.fit(parts.X_train, parts.y_train)


def _outputs(name: str, model: Any, X: pd.DataFrame, classes: list[Any]) -> Outputs:
    """Test-set labels and probabilities, the columns put in ``classes`` order."""
    proba = np.asarray(model.predict_proba(X), dtype=np.float64)
    position = {c: i for i, c in enumerate(plain(model.classes_))}
    proba = proba[:, [position[c] for c in classes]]
    return Outputs(name, np.asarray(model.predict(X)), proba)


def _explain(
    prep: _Prepared, model: Any, *, seed: int, n_jobs: Any, deadline: float | None
) -> tuple[list[dict[str, Any]], dict[str, float] | None]:
    """Permutation importance on the test set; SHAP values when shap is installed.

    With a ``deadline`` the shuffles are sized to the time left (fewer repeats, then a sample
    of the test rows), from the time one scoring of the test set takes: an ensemble predicts
    several times slower than one model, and the explanation must not eat the budget.
    """
    parts = prep.parts
    n_features = parts.X_test.shape[1]
    n_repeats = 10 if n_features <= 20 else 5 if n_features <= 40 else 2  # ~200 shuffles at most
    scorer = metric_scorer(prep.primary, prep.classes, costs=prep.costs)
    rows: float = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if deadline is not None:
            n_repeats, rows = _shuffles(model, scorer, parts, n_features, n_repeats, deadline)
        ranked = importance(
            model, parts.X_test, parts.y_test, scorer, n_repeats=n_repeats, seed=seed,
            n_jobs=n_jobs, max_samples=rows,
        )  # fmt: skip
        shap = None
        plain_model = model.model if isinstance(model, Served) else model
        if isinstance(plain_model, Pipeline):  # SHAP explains the probabilities
            shap = shap_importance(plain_model, parts.X_train, parts.X_test, seed=seed)
    return ranked, shap


def _shuffles(
    model: Any, scorer: Any, parts: Split, n_features: int, n_repeats: int, deadline: float
) -> tuple[int, float]:
    """Repeats and share of test rows whose shuffles fit before ``deadline`` (one core)."""
    tick = time.perf_counter()
    scorer(model, parts.X_test, parts.y_test)
    per_call = max(time.perf_counter() - tick, 1e-4)
    calls = max(deadline - time.perf_counter(), 0.0) / per_call  # scorings that still fit
    fit = int(calls // max(n_features, 1))
    if fit >= 1:
        return min(n_repeats, fit), 1.0
    floor = min(1.0, 200 / max(len(parts.y_test), 1))  # never fewer than 200 rows
    return 1, max(floor, calls / max(n_features, 1))


def _info(
    prep: _Prepared,
    result: SearchResult,
    evaluation: Evaluation,
    comparisons: list[dict[str, Any]],
    decision: dict[str, Any] | None,
    runner_up: str | None,
) -> dict[str, Any]:
    """run.json in the contract's key order (lineage and times are added by ``train``)."""
    parts = prep.parts
    return {
        "verdict_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "data": {
            "source": prep.source,
            "target": prep.schema.target,
            "classes": prep.classes,
            "n_rows": prep.n_rows,
            "n_train": len(parts.y_train),
            "n_test": len(parts.y_test),
            "fingerprint": fingerprint(parts.train_frame),
        },
        "schema": prep.schema.to_dict(),
        "data_report": prep.report.to_dict(),
        "profile": prep.profile.to_dict(),
        "advice": prep.advice.to_dict(),
        "primary_metric": prep.primary,
        "candidates": [c.to_dict() for c in result.candidates],
        "best": result.final.name,
        "runner_up": runner_up,
        "search": {
            "mode": result.mode,
            "max_configs": result.max_configs,
            "configs_tried": len(result.trials),
        },
        "final": result.final.to_dict(),
        "test": evaluation.to_dict(),
        "comparisons": comparisons,
        "decision": decision,
    }
