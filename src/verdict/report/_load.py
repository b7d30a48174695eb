"""Read a finished run directory: ``run.json`` and ``test_predictions.parquet``, checked once.

The report is built from these two files alone (no model is loaded or refitted), so a run
copied to another machine, or produced by an older verdict, can still be reported on. Labels
are turned into class indices here: every later step works on codes ``0..K-1`` in the order
of ``run.json``'s ``data.classes`` and shows ``names[k]`` to people.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from verdict.errors import InvalidInputError

RUN_FILE = "run.json"
PREDICTIONS_FILE = "test_predictions.parquet"
REQUIRED_KEYS = ("data", "primary_metric", "best", "test")


@dataclass(frozen=True)
class RunData:
    """What the report needs from a run directory, validated.

    ``y_true`` and ``y_pred`` are class codes into ``names`` (the stringified classes of
    ``info['data']['classes']``); ``proba`` has one column per class in that order.
    """

    run_dir: Path
    info: dict[str, Any]
    names: list[str]
    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return len(self.names)

    @property
    def binary(self) -> bool:
        """Two classes; the positive one is the last (as in ``predict_proba``)."""
        return self.n_classes == 2

    def get(self, key: str, default: Any = None) -> Any:
        """A top-level ``run.json`` entry, ``default`` when absent or null."""
        value = self.info.get(key)
        return default if value is None else value


def load_run(run_dir: str | Path) -> RunData:
    """Read and check ``run_dir``; every problem is an ``InvalidInputError`` that says the fix."""
    path = Path(run_dir)
    if not path.is_dir():
        raise InvalidInputError(
            f"run_dir {str(path)!r} is not a directory. To fix: pass the folder that "
            f"'verdict train' wrote (it holds {RUN_FILE} and {PREDICTIONS_FILE})."
        )
    info = _read_info(path / RUN_FILE)
    names = [str(c) for c in info["data"]["classes"]]
    frame = _read_predictions(path / PREDICTIONS_FILE)
    y_true, y_pred, proba = _columns(frame, names, path / PREDICTIONS_FILE)
    return RunData(path, info, names, y_true, y_pred, proba)


def _read_info(file: Path) -> dict[str, Any]:
    if not file.is_file():
        raise InvalidInputError(
            f"{file} does not exist. To fix: pass a run directory written by 'verdict "
            "train', or train again if the run was interrupted before it finished."
        )
    try:
        info = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInputError(
            f"{file} cannot be read as JSON ({exc}). To fix: restore the file from the run "
            "that wrote it, or train again."
        ) from None
    if not isinstance(info, dict):
        raise InvalidInputError(f"{file} holds no JSON object. To fix: train again.")
    missing = [k for k in REQUIRED_KEYS if info.get(k) is None]
    classes = info.get("data", {}).get("classes") if isinstance(info.get("data"), dict) else None
    if missing or not isinstance(classes, list) or len(classes) < 2:
        what = f"lacks {missing}" if missing else "has no list of two or more data.classes"
        raise InvalidInputError(
            f"{file} {what}. To fix: pass a run directory written by 'verdict train' "
            "(this file may come from another tool or an interrupted run)."
        )
    return info


def _read_predictions(file: Path) -> pd.DataFrame:
    if not file.is_file():
        raise InvalidInputError(
            f"{file} does not exist. To fix: pass a complete run directory; the report "
            "needs the test-set predictions that 'verdict train' writes."
        )
    try:
        return pd.read_parquet(file)
    except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
        raise InvalidInputError(
            f"{file} cannot be read as Parquet ({type(exc).__name__}: {exc}). To fix: "
            "restore the file from the run that wrote it, or train again."
        ) from None


def _columns(
    frame: pd.DataFrame, names: list[str], file: Path
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes of y_true and y_pred and the probability matrix, with the columns checked."""
    wanted = ["y_true", "y_pred", *(f"proba_{n}" for n in names)]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"{file} lacks the columns {missing} (it has {list(frame.columns)}). To fix: "
            "pass the predictions file of the same run as run.json."
        )
    if len(frame) == 0:
        raise InvalidInputError(f"{file} has no rows. To fix: train again with a test set.")
    proba = frame[wanted[2:]].to_numpy(dtype=np.float64)
    if not np.isfinite(proba).all():
        raise InvalidInputError(
            f"{file} has missing or infinite probabilities. To fix: train again; a model "
            "should give a probability for every test row."
        )
    return _codes(frame["y_true"], names, file), _codes(frame["y_pred"], names, file), proba


def _codes(values: pd.Series, names: list[str], file: Path) -> np.ndarray:
    index = {name: k for k, name in enumerate(names)}
    text = [_label_text(v, index) for v in values.tolist()]
    unknown = sorted({t for t in text if t not in index})
    if unknown:
        raise InvalidInputError(
            f"{file} column {values.name!r} holds labels {unknown[:5]} that are not classes of "
            f"the run ({names}). To fix: pass the predictions file of the same run as run.json."
        )
    return np.array([index[t] for t in text], dtype=np.int64)


def _label_text(value: Any, index: dict[str, int]) -> str:
    """A label as its class name; 1.0 read back from Parquet matches the class '1'."""
    text = str(value)
    if text not in index and isinstance(value, float) and value.is_integer():
        return str(int(value))
    return text
