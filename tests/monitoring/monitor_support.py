"""Shared by the monitoring orchestration tests: a registered model and logged traffic.

Traffic is written to a real prediction log (SQLite) the way the service writes it: one
batch per request, scored by the registered version, with optional true labels fed back.
"""

from __future__ import annotations

import uuid
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from palmerpenguins import load_penguins

from verdict.pipeline import train
from verdict.registry import LoadedModel, Registry
from verdict.state import FeedbackItem, PredictionBatch, PredictionLog, open_state

NUMERIC = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


@dataclass
class World:
    """A VERDICT_HOME with ``penguins@production`` and an empty prediction log."""

    home: Path
    registry: Registry
    log: PredictionLog

    def close(self) -> None:
        self.log.close()
        self.registry.close()


def make_world(root: Path) -> World:
    frame = load_penguins()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = train(frame, "species", models=["softmax"], time_budget=5, cv=3, quiet=True,
                    out=root / "run", seed=0)  # fmt: skip
    registry = Registry(home=root)
    registry.register(run, "penguins", alias="production")
    log = PredictionLog(open_state(f"sqlite:///{root / 'service.db'}"))
    log.start()
    return World(root, registry, log)


def population(n: int, seed: int) -> pd.DataFrame:
    """``n`` labelled penguins drawn like the training table (with a little numeric jitter)."""
    rng = np.random.default_rng(seed)
    frame = load_penguins()  # missing values included: they are part of the distribution
    rows = frame.iloc[rng.integers(0, len(frame), n)].reset_index(drop=True)
    for column in NUMERIC:
        rows[column] = rows[column] + rng.normal(0, 0.02 * rows[column].std(), n)
    return rows


def send(
    world: World,
    rows: pd.DataFrame,
    *,
    start: datetime,
    per_request: int = 50,
    labels: pd.Series | None = None,
) -> None:
    """Score ``rows`` with penguins@production, log them as requests, feed back ``labels``."""
    loaded: LoadedModel = world.registry.load("penguins@production")
    features = list(loaded.schema.features)
    feedback = []
    for i, lo in enumerate(range(0, len(rows), per_request)):
        part = rows.iloc[lo : lo + per_request]
        proba = loaded.predict_proba(part[features])
        request_id = uuid.uuid4().hex
        columns = {f: part[f].tolist() for f in features}
        world.log.record([PredictionBatch(
            request_id, loaded.name, loaded.version, start + timedelta(seconds=i), columns,
            list(loaded.policy.decide(proba)), proba, list(loaded.classes),
        )])  # fmt: skip
        if labels is not None:
            truth = labels.iloc[lo : lo + per_request].tolist()
            feedback += [FeedbackItem(t, request_id=request_id, row=j) for j, t in enumerate(truth)]
    world.log.flush()
    if feedback:
        world.log.add_feedback(feedback)


def utc(minutes: int) -> datetime:
    return datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=minutes)
