"""The arguments of ``train`` checked once, the table loaded, and the hold-out split made.

The split is the first thing done to the rows after the checks, so that the test rows are set
aside before anything is learned: the profile, the search and every refit see the training
rows only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from verdict._params import BOOLEAN, InstanceOf, Interval, Satisfies, check
from verdict.data import DataReport, read_table
from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.pipeline._scoring import metric_info


@dataclass(frozen=True)
class Split:
    """Training and test rows: features (the schema's columns) and labels."""

    X_train: pd.DataFrame
    y_train: np.ndarray
    X_test: pd.DataFrame
    y_test: np.ndarray
    train_frame: pd.DataFrame  # features and target, for the profile and the fingerprint
    test_index: pd.Index  # the test rows' labels in the table they came from


def load_table(data: Any) -> tuple[pd.DataFrame, str]:
    """The table and a description of where it came from (the path, or 'DataFrame')."""
    if isinstance(data, pd.DataFrame):
        return data, f"DataFrame ({len(data)} rows x {data.shape[1]} columns)"
    if isinstance(data, str | Path):
        return read_table(data), str(data)
    raise InvalidInputError(
        f"data must be a path to a CSV, Parquet or JSON Lines file, or a pandas DataFrame; got "
        f"{type(data).__name__}. To fix: pass a file path or a DataFrame."
    )


_INT = Interval(Integral, None, None, closed="neither")
_FAMILY_NAMES = Satisfies(
    lambda m: isinstance(m, Sequence) and all(isinstance(x, str) for x in m),
    "a list of family names",
)


def check_params(
    time_budget: Any, seed: Any, models: Any, n_jobs: Any, dask: Any, quiet: Any
) -> list[str] | None:
    """Raise on arguments train cannot use; the family names as a list (None: all)."""
    seconds = Interval(Real, 0, None, closed="neither")  # finite: the budget must run out
    check("time_budget", time_budget, "train", seconds, fix="pass e.g. time_budget=60 (seconds)")
    check("seed", seed, "train", Interval(Integral, 0, None, closed="left"), fix="pass e.g. seed=0")
    check("n_jobs", n_jobs, "train", _INT, None, fix="pass e.g. n_jobs=-1 for all cores")
    address = InstanceOf(str, "a scheduler address")
    check("dask", dask, "train", None, address, fix="pass e.g. dask='tcp://host:8786'")
    check("quiet", quiet, "train", BOOLEAN, fix="pass e.g. quiet=True")
    if models is None:
        return None
    if isinstance(models, str):
        models = [m.strip() for m in models.split(",") if m.strip()]
    fix = "pass e.g. models=['softmax', 'random_forest']"
    return list(check("models", models, "train", _FAMILY_NAMES, fix=fix))


def primary_metric(metric: Any, advised: str, n_classes: int, has_costs: bool) -> str:
    """The canonical primary metric: ``metric``, or the advised one for 'auto'.

    Averages that depend on the number of classes ('auto') are resolved, so that run.json
    names exactly the number reported.
    """
    metric_name = InstanceOf(str, "'auto' or a metric name")
    check("metric", metric, "train", metric_name, fix="pass e.g. metric='f1_macro'")
    info = metric_info(advised if metric == "auto" else metric)
    name = info.name
    if info.needs_costs and not has_costs:
        raise InvalidParameterError(
            "metric='expected_cost' needs the costs of mistakes. To fix: pass costs= "
            "({'fp': x, 'fn': y} or a cost matrix), or choose another metric."
        )
    if info.average == "auto":
        name = f"{name}_{'binary' if n_classes == 2 else 'macro'}"
    if info.average == "binary" and n_classes != 2:
        base = name[: -len("_binary")]
        raise InvalidParameterError(
            f"metric={metric!r} is a binary metric, but the target has {n_classes} classes. "
            f"To fix: use {base}_macro, {base}_weighted or {base}_micro."
        )
    return name


def split(
    report: DataReport,
    frame: pd.DataFrame,
    test_data: Any,
    *,
    test_size: float,
    seed: int,
) -> Split:
    """Stratified hold-out split of the clean table, or ``test_data`` as the test set."""
    schema = report.schema
    clean = report.clean(frame)
    if test_data is None:
        train, test = train_test_split(
            clean, test_size=test_size, stratify=clean[schema.target], random_state=seed
        )
    else:
        train, test = clean, _test_rows(report, test_data)
    features = list(schema.features)
    return Split(
        X_train=train[features].reset_index(drop=True),
        y_train=train[schema.target].to_numpy(),
        X_test=test[features].reset_index(drop=True),
        y_test=test[schema.target].to_numpy(),
        train_frame=train.reset_index(drop=True),
        test_index=test.index,
    )


def _test_rows(report: DataReport, test_data: Any) -> pd.DataFrame:
    schema = report.schema
    if not isinstance(test_data, pd.DataFrame):
        raise InvalidInputError(
            f"test_data must be a pandas DataFrame; got {type(test_data).__name__}. To fix: "
            "pass the hold-out rows as a DataFrame with the same columns as data."
        )
    missing = [c for c in (*schema.features, schema.target) if c not in test_data.columns]
    if missing:
        raise InvalidInputError(
            f"test_data lacks the columns {missing} that the training data has. To fix: pass "
            "hold-out rows with the same columns as data (target included)."
        )
    test = report.clean(test_data)
    known = {str(c) for c in schema.classes}
    unknown = sorted({str(v) for v in test[schema.target].unique()} - known)
    if unknown or test.empty:
        why = "has no labelled rows"
        if unknown:
            why = f"holds classes {unknown} that the training data lacks"
        raise InvalidInputError(
            f"test_data {why}. To fix: pass labelled hold-out rows whose classes all occur in "
            f"data ({list(schema.classes)})."
        )
    return test
