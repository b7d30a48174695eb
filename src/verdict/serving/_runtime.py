"""What scores a micro-batch's checked rows: the scikit-learn pipeline, or its ONNX export.

:func:`runtime_for` gives a :class:`Runtime` for a loaded version. ``'native'`` calls the
pipeline (``predict_proba``, then the decision policy). ``'onnx'`` exports the version with
``export_onnx``, which refuses unless the graph matches the pipeline on the version's held-out
rows (labels equal, probabilities within 1e-5), and scores with one onnxruntime session (CPU,
one thread: the service's threads already run batches side by side). A version that cannot be
exported is logged and served natively.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from verdict.data import check_rows
from verdict.errors import ExportError
from verdict.registry import LoadedModel, Registry, export_onnx
from verdict.serving._direct import direct_proba

logger = logging.getLogger("verdict.serving.runtime")
CHECK_ROWS = 512  # rows the direct path must score exactly as the pipeline before serving

Predict = Callable[[pd.DataFrame], tuple[np.ndarray, list[Any]]]
"""Checked rows -> (probabilities ``[n, classes]``, served labels as JSON-ready values)."""


@dataclass(frozen=True)
class Runtime:
    """How a served version scores rows: ``name`` ('native' or 'onnx') and ``predict``."""

    name: str
    predict: Predict


def native(loaded: LoadedModel, check: pd.DataFrame | None = None) -> Runtime:
    """The pipeline itself: ``predict_proba`` and the decision policy.

    The pipeline's steps are called directly (``_direct``: the same transforms, without the
    wrappers' per-call cost) when its structure allows, and when they give exactly the
    pipeline's probabilities on the rows of ``check`` (if given); otherwise through
    ``LoadedModel.predict_proba``.
    """
    proba_of = _direct(loaded, check) or loaded.predict_proba

    def predict(frame: pd.DataFrame) -> tuple[np.ndarray, list[Any]]:
        proba = proba_of(frame)
        labels = loaded.policy.decide(proba)
        plain = labels.tolist() if isinstance(labels, np.ndarray) else list(labels)
        return proba, plain

    return Runtime("native", predict)


def _direct(
    loaded: LoadedModel, check: pd.DataFrame | None
) -> Callable[[pd.DataFrame], np.ndarray] | None:
    """``loaded.predict_proba`` through the pipeline's steps called directly, or None."""
    direct = direct_proba(loaded.model)
    if direct is None:
        return None
    own = [c.item() if isinstance(c, np.generic) else c for c in loaded.model.classes_]
    order = [own.index(c) for c in loaded.classes]

    def proba(frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(direct(frame), dtype=np.float64)[:, order]

    if check is not None and len(check):
        try:
            rows = check_rows(check, loaded.schema).frame
            same = np.array_equal(proba(rows), loaded.predict_proba(rows), equal_nan=True)
        except Exception:  # the pipeline refuses these rows: nothing to compare on
            logger.debug("%s: direct path not compared", loaded.ref, exc_info=True)
            same = False
        if not same:
            logger.warning("%s: its steps called directly do not score as its pipeline does; "
                           "scored through the pipeline", loaded.ref)  # fmt: skip
            return None
    return proba


def _check_rows_of(loaded: LoadedModel, registry: Registry) -> pd.DataFrame | None:
    """Up to ``CHECK_ROWS`` rows to compare the direct path with the pipeline on: the
    version's held-out rows, else its training reference sample (None without either)."""
    for args in ((loaded.ref, "test_rows.parquet"), (loaded.ref,)):
        try:
            frame = registry.frame(*args)
        except Exception:  # an older version without them
            continue
        return frame.drop(columns=[loaded.schema.target], errors="ignore").head(CHECK_ROWS)
    return None


def runtime_for(loaded: LoadedModel, wanted: str, registry: Registry) -> Runtime:
    """The runtime ``wanted`` for ``loaded``; native when the ONNX export is refused."""
    if wanted != "onnx":
        return native(loaded, _check_rows_of(loaded, registry))
    try:
        return onnx_runtime(loaded, _holdout(loaded, registry))
    except ExportError as exc:
        logger.warning("%s is served natively: %s", loaded.ref, exc)
        return native(loaded, _check_rows_of(loaded, registry))


def _holdout(loaded: LoadedModel, registry: Registry) -> pd.DataFrame | None:
    """The version's held-out rows without the target (None if it has none)."""
    try:
        frame = registry.frame(loaded.ref, "test_rows.parquet")
    except Exception as exc:  # an older version without held-out rows
        logger.warning("%s has no held-out rows to check its ONNX export on: %s", loaded.ref, exc)
        return None
    return frame.drop(columns=[loaded.schema.target], errors="ignore")


def onnx_runtime(loaded: LoadedModel, check: pd.DataFrame | None) -> Runtime:
    """Export ``loaded`` (checked on ``check``) and score with one onnxruntime session.

    Raises
    ------
    ExportError
        The version cannot be exported, or its export disagrees with the pipeline.
    """
    import onnxruntime

    from verdict.registry.onnx import onnx_feeds
    from verdict.registry.onnx import read_metadata as _read_metadata

    with tempfile.TemporaryDirectory(prefix="verdict-onnx-") as folder:
        path = Path(folder) / "model.onnx"
        export_onnx(loaded, path, check=check)
        data = path.read_bytes()
    meta = _read_metadata(data)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    classes = meta["verdict.classes"]
    from verdict.registry.onnx import label_values

    back = dict(zip(label_values(tuple(classes)).tolist(), classes, strict=True))

    def predict(frame: pd.DataFrame) -> tuple[np.ndarray, list[Any]]:
        labels, proba = session.run(["label", "probabilities"], onnx_feeds(meta, frame))
        return np.asarray(proba, dtype=np.float64), [back[v] for v in labels.tolist()]

    return Runtime("onnx", predict)
