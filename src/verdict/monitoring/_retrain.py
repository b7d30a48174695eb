"""Retrain a served model on its labelled feedback and promote the challenger only on evidence.

``retrain`` reads the labelled rows the service logged for a model, keeps the most recent
share of them aside as the evaluation set, trains a challenger on the champion's training rows
plus any new data plus the older feedback, registers it (alias ``challenger``), scores champion
and challenger on the same evaluation rows and lets ``decide_promotion`` decide by a paired
one-sided test on the champion's primary metric. The decision and its evidence are stored as a
``promotion_decision`` event, which ``verdict models show`` prints::

    from verdict.monitoring._retrain import retrain
    result = retrain("penguins", registry=registry, log=log, time_budget=60)
    result.promoted, result.decision.p_value, result.decision.reason

Inputs are checked before anything is trained or registered: a new table without the target
or feature columns or with labels outside the champion's classes, or too few labelled rows for
the evaluation set raise ``InvalidInputError`` and leave the registry unchanged. The feedback
is read as it is stored, whoever wrote it: a label that is not one of the champion's classes
(compared by the pipeline's spelling, so ``1``, ``1.0`` and ``"1"`` name the class ``1``) or
is missing is left out, and a logged feature of an unexpected type is a missing value; both
are counted in ``left_out`` / ``notes`` rather than blocking the retrain (see ``_unexpected``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from verdict._params import Interval, Satisfies, check
from verdict._results import Result
from verdict.data import read_table
from verdict.errors import InvalidInputError
from verdict.monitoring._promotion import PromotionDecision, decide_promotion
from verdict.monitoring._unexpected import (
    NOT_A_CLASS,
    digest_inputs,
    inputs_note,
    labels_note,
    match_labels,
    restricted,
)
from verdict.pipeline import train
from verdict.registry import LoadedModel, Registry
from verdict.state import PredictionLog

EVENT_KIND = "promotion_decision"
CHALLENGER_ALIAS = "challenger"


@dataclass(frozen=True, slots=True)
class RetrainResult(Result):
    """What ``retrain`` did: the two versions compared, the decision and the row counts.

    ``champion`` and ``challenger`` are ``name@vN`` refs; ``n_train`` counts the rows the
    challenger's training run received (reference rows + new data + older feedback, of which
    ``n_feedback_train`` were feedback); ``n_holdout`` the recent labelled rows both models
    were scored on; ``notes`` what was adjusted on the way (e.g. sensitive columns blanked,
    feedback labels left out); ``left_out`` the feedback labels left out, by reason (``'not
    one of the model's classes'``, ``'missing'``).
    """

    champion: str
    challenger: str
    decision: PromotionDecision
    promoted: bool
    n_train: int
    n_feedback_train: int
    n_holdout: int
    metric: str
    run_dir: str
    notes: tuple[str, ...] = ()
    left_out: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Inputs:
    """The checked tables: the challenger's training rows and the evaluation rows."""

    train: pd.DataFrame
    holdout: pd.DataFrame
    n_feedback_train: int
    notes: tuple[str, ...]
    left_out: dict[str, int]


@dataclass(frozen=True, slots=True)
class _Feedback:
    """The usable labelled rows (features + target + ``created``), oldest first."""

    rows: pd.DataFrame
    notes: tuple[str, ...]
    left_out: dict[str, int]


def retrain(
    name: str,
    *,
    registry: Registry,
    log: PredictionLog,
    data: pd.DataFrame | str | Path | None = None,
    holdout: float = 0.3,
    min_holdout: int = 100,
    time_budget: float = 60,
    seed: int = 0,
    alias: str = "production",
    alpha: float = 0.05,
    models: list[str] | None = None,
    out: str | Path | None = None,
    quiet: bool = True,
) -> RetrainResult:
    """Train a challenger on data plus feedback; promote it only if significantly better.

    Parameters
    ----------
    name : str
        The registered model.
    registry : Registry
        Where the champion is read and the challenger registered.
    log : PredictionLog
        The service's prediction log holding the labelled feedback.
    data : DataFrame, str or Path, optional
        New labelled rows (same target column and features) added to the training rows.
    holdout : float, default 0.3
        Share of the labelled feedback, the most recent by time, set aside for evaluation.
    min_holdout : int, default 100
        The fewest evaluation rows accepted.
    time_budget : float, default 60
        Seconds for the challenger's training run.
    seed : int, default 0
        Seeds the training run and the paired bootstrap.
    alias : str, default 'production'
        The champion's alias, moved to the challenger when it wins.
    alpha : float, default 0.05
        One-sided significance level of the promotion test.
    models : list of str, optional
        Model families to search; the champion's recorded ones when None.
    out : str or Path, optional
        The challenger's run directory (``train``'s default when None).
    quiet : bool, default True
        Silence the training run's progress.

    Returns
    -------
    RetrainResult
        The refs compared, the ``PromotionDecision`` and whether ``alias`` moved.
    """
    _check_options(holdout, min_holdout)
    champion = registry.load(f"{name}@{alias}")
    inputs = _inputs(champion, registry, log, data, holdout, min_holdout)
    metric = str(champion.info["primary_metric"])
    run = _fit(champion, inputs.train, metric, models, time_budget, seed, out, quiet)
    # forced: whether the challenger is any good is the promotion test's to say, below
    version = registry.register(
        run, name, alias=CHALLENGER_ALIAS, description="retrain", force=True
    )
    challenger = registry.load(version)
    decision = _decide(champion, challenger, inputs.holdout, metric, alpha, seed)
    if decision.promote:
        registry.promote(challenger.ref, alias, reason=decision.reason)
    result = RetrainResult(
        champion.ref, challenger.ref, decision, decision.promote, len(inputs.train),
        inputs.n_feedback_train, len(inputs.holdout), metric, str(run.run_dir), inputs.notes,
        inputs.left_out,
    )  # fmt: skip
    _record(registry, name, version.version, alias, result)
    return result


_SHARE = Satisfies(
    Interval(Real, 0, 1, closed="neither").is_satisfied_by, "a share strictly between 0 and 1"
)
_POSITIVE = Satisfies(Interval(Integral, 1, None).is_satisfied_by, "a positive integer")


def _check_options(holdout: float, min_holdout: int) -> None:
    fix = "pass e.g. holdout=0.3 (the most recent 30% of the labelled rows are kept for evaluation)"
    check("holdout", holdout, "retrain", _SHARE, fix=fix)
    check("min_holdout", min_holdout, "retrain", _POSITIVE, fix="pass e.g. min_holdout=100")


def _inputs(
    champion: LoadedModel,
    registry: Registry,
    log: PredictionLog,
    data: Any,
    holdout: float,
    min_holdout: int,
) -> _Inputs:
    """Feedback split by time, plus the reference rows and ``data``: all checked first."""
    feedback = _feedback(champion, log)
    older, recent = _split(champion.name, feedback, holdout, min_holdout)
    columns = [*champion.schema.features, champion.schema.target]
    parts = [registry.frame(registry.get(champion.ref))[columns]]
    if data is not None:
        parts.append(_new_data(champion, data))
    parts.append(older[columns])
    table = pd.concat(parts, ignore_index=True)
    recent = recent[columns].reset_index(drop=True)
    return _Inputs(table, recent, len(older), feedback.notes, feedback.left_out)


def _feedback(champion: LoadedModel, log: PredictionLog) -> _Feedback:
    """The labelled rows whose label is a class, features digested, oldest first."""
    schema = champion.schema
    frame = log.labelled(champion.name)
    labels = match_labels(frame["true_label"], champion.classes)
    frame = frame.loc[labels.kept].reset_index(drop=True)
    hidden = [f for f in schema.features if f in set(schema.sensitive)]
    shown = restricted(schema, [f for f in schema.features if f not in hidden])
    digested = digest_inputs(frame, shown, unknown=np.nan)
    rows = pd.DataFrame({"created": frame["created"]})
    for feature in schema.features:
        rows[feature] = np.nan if feature in hidden else digested.frame[feature]
    rows[schema.target] = labels.values[labels.kept]
    notes = [labels_note("feedback labels", labels, champion.classes),
             inputs_note(digested.unexpected, None)]  # fmt: skip
    if hidden and len(rows):
        notes.append(
            f"sensitive feature(s) {', '.join(hidden)} are logged hashed, so they are missing "
            f"in the {len(rows)} feedback rows (the model's imputation fills them)"
        )
    order = np.argsort(rows["created"].to_numpy(), kind="stable")
    rows = rows.iloc[order].reset_index(drop=True)
    return _Feedback(rows, tuple(n for n in notes if n), labels.left_out)


def _split(
    name: str, feedback: _Feedback, holdout: float, min_holdout: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Older rows (training) and the most recent ``holdout`` share (evaluation)."""
    rows = feedback.rows
    n = len(rows)
    size = max(math.ceil(holdout * n), min_holdout)
    if n < min_holdout:
        usable, why = ("usable ", f" ({feedback.notes[0]})") if feedback.left_out else ("", "")
        raise InvalidInputError(
            f"{name} has {n} {usable}labelled row(s) in the prediction log{why}, but retrain "
            f"needs at least {min_holdout} recent labelled rows that neither model trained on "
            f"to compare them (min_holdout={min_holdout}). Nothing was trained or registered. "
            "To fix: feed back more true labels (POST /v1/feedback), or lower min_holdout in "
            "the Python API (verdict.monitoring.retrain)."
        )
    return rows.iloc[: n - size], rows.iloc[n - size :]


def _new_data(champion: LoadedModel, data: Any) -> pd.DataFrame:
    """``data`` checked against the champion: its target, its features, its classes."""
    frame = read_table(data) if isinstance(data, (str, Path)) else data
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInputError(
            f"data must be a DataFrame or the path of a table; got {type(data).__name__}. "
            "To fix: pass a CSV, Parquet or JSON Lines file, or a pandas DataFrame."
        )
    schema = champion.schema
    missing = [c for c in (*schema.features, schema.target) if c not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"data lacks the column(s) {missing} that {champion.ref} was trained on. Nothing "
            f"was trained or registered. To fix: add them (the target is {schema.target!r})."
        )
    labelled = frame[frame[schema.target].notna()]
    labels = match_labels(labelled[schema.target], champion.classes)
    odd = labels.left_out.get(NOT_A_CLASS, 0)
    if odd:
        raise InvalidInputError(
            f"The new data holds {odd} label(s) outside the model's classes "
            f"{list(champion.classes)}: {', '.join(labels.examples)}. Nothing was trained or "
            "registered. To fix: correct those labels (or drop those rows); a new class needs "
            "a newly trained model, not a retrain."
        )
    return labelled[list(schema.features)].assign(**{schema.target: labels.values})


def _fit(
    champion: LoadedModel,
    table: pd.DataFrame,
    metric: str,
    models: list[str] | None,
    time_budget: float,
    seed: int,
    out: Any,
    quiet: bool,
) -> Any:
    """Train the challenger with the champion's recipe: metric, costs, families, folds and
    (a reproducible champion) its number of configs."""
    params = champion.info.get("lineage", {}).get("params", {})
    recipe: dict[str, Any] = {"costs": params.get("costs")}
    for key in ("cv", "test_size", "max_configs"):
        if params.get(key) is not None:
            recipe[key] = params[key]
    return train(
        table, champion.schema.target, metric=metric, models=models or params.get("models"),
        time_budget=time_budget, seed=seed, out=out, quiet=quiet, **recipe,
    )  # fmt: skip


def _decide(
    champion: LoadedModel,
    challenger: LoadedModel,
    rows: pd.DataFrame,
    metric: str,
    alpha: float,
    seed: int,
) -> PromotionDecision:
    """Both models scored on the same evaluation rows, then the paired one-sided test."""
    classes = list(champion.classes)
    if set(challenger.classes) != set(classes):
        raise InvalidInputError(
            f"{challenger.ref} learned the classes {list(challenger.classes)}, not "
            f"{classes} like {champion.ref}, so they cannot be compared. To fix: make sure "
            "every class appears in the training rows."
        )
    X = rows[list(champion.schema.features)]
    old = champion.predict_proba(X)
    raw = challenger.predict_proba(rows[list(challenger.schema.features)])
    new = raw[:, [list(challenger.classes).index(c) for c in classes]]
    return decide_promotion(
        rows[champion.schema.target].to_numpy(),
        (champion.policy.decide(old), old),
        (challenger.policy.decide(raw), new),
        classes,
        metric=metric,
        alpha=alpha,
        random_state=seed,
    )


def summary_line(result: RetrainResult) -> str:
    """One line for the registry's history: which versions, on how many rows, and why."""
    verb = "promoted" if result.promoted else "kept"
    return (
        f"{verb}: {result.challenger} vs {result.champion} on {result.n_holdout} recent "
        f"labelled rows; {result.decision.reason}"
    )


def _record(registry: Registry, name: str, version: int, alias: str, result: RetrainResult) -> None:
    """Store the decision with its evidence on the challenger's version."""
    payload = {
        "summary": summary_line(result),
        **result.decision.to_dict(),
        "champion": result.champion,
        "challenger": result.challenger,
        "alias": alias,
        "promoted": result.promoted,
        "n_holdout": result.n_holdout,
        "n_train": result.n_train,
        "n_feedback_train": result.n_feedback_train,
        "notes": list(result.notes),
        "left_out": dict(result.left_out),
    }
    registry.record_event(name, EVENT_KIND, payload, version=version)
