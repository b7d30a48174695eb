"""A finished training run: the fitted model, its evaluation, and the directory it was written to.

The run directory is the contract between training and everything after it (the report, the
registry, serving): ``run.json`` holds every number and choice, ``test_predictions.parquet``
the held-out predictions the numbers came from, and ``model.skops`` the fitted pipeline, saved
with skops rather than pickle so that loading it never runs arbitrary code.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verdict._files import private_folder
from verdict.errors import InvalidInputError

if TYPE_CHECKING:  # annotations only: the registry reads runs without scikit-learn or scipy
    import numpy as np
    import pandas as pd
    from sklearn.pipeline import Pipeline

    from verdict.data import Schema
    from verdict.metrics import Evaluation

RUN_FILE = "run.json"
PREDICTIONS_FILE = "test_predictions.parquet"
MODEL_FILE = "model.skops"
REFERENCE_FILE = "reference.parquet"  # a sample of training rows: monitoring's baseline
HOLDOUT_FILE = "test_rows.parquet"  # the held-out rows' features and label, for export checks
REFERENCE_ROWS = 10_000
DEFAULT_ROOT = Path(".verdict") / "runs"  # under VERDICT_HOME when it is set


def default_root() -> Path:
    """Where runs go without ``out``: ``$VERDICT_HOME/runs``, else ``.verdict/runs``."""
    home = os.environ.get("VERDICT_HOME")
    return Path(home) / "runs" if home else DEFAULT_ROOT


@dataclass(frozen=True, eq=False)
class Run:
    """The outcome of :func:`verdict.pipeline.train`.

    Attributes
    ----------
    run_dir : Path
        Where ``run.json``, ``test_predictions.parquet`` and ``model.skops`` were written
        (and where ``verdict report`` writes the report).
    model : sklearn.pipeline.Pipeline
        The best pipeline, refit on every training row. It takes the raw feature columns
        (``schema.features``) as a DataFrame and predicts class labels; ``predict_proba``
        columns follow ``model.classes_``.
    schema : Schema
        The columns the model was trained on; check new data against it.
    evaluation : Evaluation
        The single evaluation on the held-out test set, with confidence intervals.
    info : dict
        Exactly the content of ``run.json``.
    """

    run_dir: Path
    model: Pipeline
    schema: Schema
    evaluation: Evaluation
    info: dict[str, Any] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The content of ``run.json`` (plain JSON types)."""
        return self.info

    @property
    def policy(self) -> Any:
        """The ``DecisionPolicy`` the registry stores with this run: run.json's ``decision``
        (per-class weights, a threshold or a cost rule), argmax when there is none."""
        from verdict.pipeline._policy import DecisionPolicy

        return DecisionPolicy.from_decision(self.info.get("decision"), self.info["data"]["classes"])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """The class served for each row of ``X``: the decision policy applied to the
        probabilities, as the registry, the service and the ONNX export do (``model.predict``
        is plain argmax, which differs when the run tuned a decision)."""
        return self.policy.served(self.model, X)

    def __str__(self) -> str:
        primary = self.info["primary_metric"]
        return (
            f"Run({self.run_dir}: best {self.info['best']!r} on {primary}, test accuracy "
            f"{self.evaluation.accuracy:.4f} on {self.evaluation.n_samples} rows)"
        )


def run_directory(out: str | Path | None) -> Path:
    """The directory to write to: ``out``, or a new ``.verdict/runs/<timestamp>``.

    A given directory may exist but must not already hold a run, so a run is never silently
    overwritten.
    """
    if out is None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        path = default_root() / stamp
    else:
        path = Path(out)
    if (path / RUN_FILE).exists():
        raise InvalidInputError(
            f"out={str(path)!r} already holds a run ({RUN_FILE}). To fix: pass a new directory, "
            f"or remove the old run first."
        )
    if path.exists() and not path.is_dir():
        raise InvalidInputError(
            f"out={str(path)!r} is a file, not a directory. To fix: pass a directory path."
        )
    return path


def write_run(
    path: Path,
    info: dict[str, Any],
    model: Pipeline,
    predictions: pd.DataFrame,
    frames: dict[str, pd.DataFrame] | None = None,
) -> None:
    """Write run.json, the test predictions, the skops model and ``frames`` (file -> table)."""
    import skops.io  # imported here: only writing a run needs it

    try:
        private_folder(path)  # under VERDICT_HOME by default: created 0700
    except OSError as exc:
        raise InvalidInputError(
            f"Cannot create the run directory {str(path)!r}: {exc.strerror or exc}. To fix: "
            f"pass out= a directory you can write to."
        ) from exc
    text = json.dumps(info, indent=2, allow_nan=False, ensure_ascii=False)
    (path / RUN_FILE).write_text(text + "\n", encoding="utf-8")
    predictions.to_parquet(path / PREDICTIONS_FILE, index=False)
    skops.io.dump(model, path / MODEL_FILE)
    for name, frame in (frames or {}).items():
        frame.to_parquet(path / name, index=False)


def run_frames(
    train_frame: pd.DataFrame, X_test: pd.DataFrame, y_test: np.ndarray, target: str, seed: int
) -> dict[str, pd.DataFrame]:
    """The reference sample of training rows and the held-out rows, by file name.

    The reference is what drift is measured against; at most ``REFERENCE_ROWS`` rows, drawn
    with the run's seed so the same run always yields the same sample.
    """
    reference = train_frame
    if len(reference) > REFERENCE_ROWS:
        reference = reference.sample(REFERENCE_ROWS, random_state=seed)
    holdout = X_test.reset_index(drop=True).copy()
    holdout[target] = y_test
    return {
        REFERENCE_FILE: reference.reset_index(drop=True),
        HOLDOUT_FILE: holdout,
    }


def predictions_frame(
    y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray, classes: list[Any]
) -> pd.DataFrame:
    """``y_true``, ``y_pred`` and one ``proba_<label>`` column per class, in ``classes`` order."""
    import pandas as pd

    frame = pd.DataFrame({"y_true": y_true, "y_pred": y_pred})
    for k, label in enumerate(classes):
        frame[f"proba_{label}"] = proba[:, k]
    return frame
