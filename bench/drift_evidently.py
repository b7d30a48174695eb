"""Evidently's side of ``bench/drift.py``: run in ``bench/.venv-evidently``, print JSON.

Reads a reference frame and a batch of windows (parquet; the windows stacked, each row carrying
its window number in ``__window``) and answers, for every window, Evidently's default column
drift tests and its dataset-drift flag, with nothing configured but the column types::

    python bench/drift_evidently.py SPEC.json > RESULT.json

``SPEC.json``: ``{"numerical": [...], "categorical": [...], "jobs": [{"name": ..., "reference":
path, "windows": path, "mode": "fast" | "report", "ks_only": false}, ...]}``; the answer has one
entry per job, one result per window.

``mode="report"`` runs the public API as a user would: ``Report([DataDriftPreset()],
include_tests=True).run(current, reference)`` on ``Dataset.from_pandas`` with a
``DataDefinition`` naming the columns, then reads the snapshot (each ``ValueDrift`` metric's
method, threshold, score and test status; ``DriftedColumnsCount``'s share and its test, which
fails at a drifted share >= ``drift_share`` = 0.5). It spends most of its time drawing plotly
widgets (~0.3-1 s a window), so ``mode="fast"`` makes the same calls that the preset's metrics
make for their figures, without the widgets: per column, the default ``DataDriftOptions()``
threshold, ``get_stattest(reference, current, type, None)`` (Evidently's default choice of test
from the reference size, the column type and its distinct values), the test on the columns
with missing and infinite values dropped, and ``get_dataset_drift(..., drift_share=0.5)``.
``bench/drift.py`` runs both modes on some windows and requires identical answers.

``ks_only`` forces Evidently's K-S test on numerical columns (``num_method="ks"``), for the
agreement check against verdict's K-S.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def _column_type(name: str, numerical: list[str]):
    from evidently.legacy.core import ColumnType

    return ColumnType.Numerical if name in numerical else ColumnType.Categorical


def run_fast(
    reference: pd.DataFrame,
    window: pd.DataFrame,
    numerical: list[str],
    columns: list[str],
    ks_only: bool,
) -> dict[str, Any]:
    from evidently.legacy.calculations.data_drift import get_dataset_drift
    from evidently.legacy.calculations.stattests import get_stattest
    from evidently.legacy.options.data_drift import DataDriftOptions

    options = DataDriftOptions(num_features_stattest="ks" if ks_only else None)
    out: dict[str, Any] = {}
    for name in columns:
        kind = _column_type(name, numerical)
        ref = reference[name].replace([-np.inf, np.inf], np.nan).dropna()
        cur = window[name].replace([-np.inf, np.inf], np.nan).dropna()
        stattest = get_stattest(ref, cur, kind, options.get_feature_stattest_func(name, kind.value))
        result = stattest(ref, cur, kind, options.get_threshold(name, kind.value))
        out[name] = {
            "method": stattest.display_name,
            "threshold": float(result.actual_threshold),
            "score": float(result.drift_score),
            "drifted": bool(result.drifted),
        }

    class _Drift:  # what get_dataset_drift reads
        def __init__(self, drifted: bool) -> None:
            self.drift_detected = drifted

    drift = get_dataset_drift(
        {k: _Drift(v["drifted"]) for k, v in out.items()},  # type: ignore[misc]
        options.drift_share,
    )
    return {
        "columns": out,
        "n_drifted": int(drift.number_of_drifted_columns),
        "share": float(drift.dataset_drift_score),
        "dataset_drift": bool(drift.dataset_drift),
    }


def run_report(
    reference: Any, window: pd.DataFrame, definition: Any, columns: list[str], ks_only: bool
) -> dict[str, Any]:
    from evidently import Dataset, Report
    from evidently.presets import DataDriftPreset

    preset = DataDriftPreset(num_method="ks") if ks_only else DataDriftPreset()
    current = Dataset.from_pandas(window, data_definition=definition)
    snapshot = Report([preset], include_tests=True).run(current, reference).dict()
    status: dict[str, bool] = {}
    for test in snapshot.get("tests", []):
        fingerprint = test["metric_config"]["metric_id"]
        status[str(fingerprint)] = str(getattr(test["status"], "value", test["status"])) == "FAIL"
    out: dict[str, Any] = {}
    dataset: dict[str, Any] = {}
    for metric in snapshot["metrics"]:
        config = metric["config"]
        kind = config["type"].rsplit(":", 1)[-1]
        failed = status.get(metric["id"])
        if kind == "ValueDrift" and config["column"] in columns:
            out[config["column"]] = {
                "method": config["method"],
                "threshold": float(config["threshold"]),
                "score": float(metric["value"]),
                "drifted": failed,
            }
        elif kind == "DriftedColumnsCount":
            dataset = {
                "n_drifted": int(metric["value"]["count"]),
                "share": float(metric["value"]["share"]),
                "dataset_drift": failed,
            }
    return {"columns": out, **dataset}


def run_job(job: dict[str, Any], numerical: list[str], categorical: list[str]) -> dict[str, Any]:
    columns = [*numerical, *categorical]
    reference = pd.read_parquet(job["reference"])[columns]
    stacked = pd.read_parquet(job["windows"])
    mode, ks_only = job.get("mode", "fast"), bool(job.get("ks_only", False))
    start = time.perf_counter()
    results = []
    if mode == "report":
        from evidently import DataDefinition, Dataset

        definition = DataDefinition(numerical_columns=numerical, categorical_columns=categorical)
        ref = Dataset.from_pandas(reference, data_definition=definition)
        for key, window in stacked.groupby("__window", sort=True):
            answer = run_report(ref, window[columns], definition, columns, ks_only)
            results.append({"window": int(key), **answer})
    else:
        for key, window in stacked.groupby("__window", sort=True):
            answer = run_fast(reference, window[columns], numerical, columns, ks_only)
            results.append({"window": int(key), **answer})
    return {
        "mode": mode,
        "ks_only": ks_only,
        "seconds": time.perf_counter() - start,
        "results": results,
    }


def main() -> None:
    import importlib.metadata as meta

    spec = json.loads(Path(sys.argv[1]).read_text())
    numerical, categorical = spec["numerical"], spec["categorical"]
    jobs = {job["name"]: run_job(job, numerical, categorical) for job in spec["jobs"]}
    versions = {p: meta.version(p) for p in ("evidently", "numpy", "pandas", "scipy")}
    print(json.dumps({"versions": versions, "jobs": jobs}))


if __name__ == "__main__":
    main()
