"""Export a registered model version to ONNX: one portable file any ONNX runtime can serve.

The graph is the whole served model: the preprocessing (``_preprocess``, float64), the
estimator (skl2onnx, with verdict's converters for its logistic estimators), and the decision
policy (``_policy``). Its outputs:

- ``label``: the served class of each row, ``[N]`` (int64 when every class is an int, else
  string) -- the decision policy applied, exactly ``LoadedModel.predict``;
- ``probabilities``: ``[N, K]`` float64, columns in ``LoadedModel.classes`` order.

Its inputs are one ``[N, 1]`` tensor per raw feature column; their types and the encoding of
missing values are in ``_preprocess``'s docstring, and in the file itself (metadata
``verdict.inputs``). ``onnx_predict`` builds them from a DataFrame: the reference for clients.
The policy, the classes, the model's name and version and the schema are stored as JSON in the
model's ``metadata_props``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pandas as pd

from verdict._results import Result
from verdict.data import Schema, level_words
from verdict.errors import ExportError, InvalidInputError
from verdict.registry._loaded import LoadedModel
from verdict.registry.onnx._build import OPSET, OUTPUTS, build_model, model_family
from verdict.registry.onnx._datetime import datetime_feed
from verdict.registry.onnx._policy import label_values
from verdict.registry.onnx._preprocess import InputSpec

PROBA_TOLERANCE = 1e-5
_JSON_KEYS = ("verdict.classes", "verdict.policy", "verdict.schema", "verdict.inputs")


@dataclass(frozen=True)
class OnnxExport(Result):
    """What ``export_onnx`` wrote, and how well it matched the native model.

    Attributes
    ----------
    path : str
        The ONNX file.
    sha256 : str
        Hex digest of its bytes.
    n_bytes : int
    family : str
        The model family (``'softmax'``, ``'random_forest'`` ...).
    inputs : tuple of str
        The graph's input names, one per raw feature column.
    n_checked : int
        Rows on which the ONNX model was compared with the native one (0: not checked).
    labels_equal : bool
        Whether every checked row got the same served class.
    max_abs_proba_diff : float
        Largest absolute probability difference on the checked rows (NaN when unchecked).
    opset : int
        The default-domain ONNX opset.
    """

    path: str
    sha256: str
    n_bytes: int
    family: str
    inputs: tuple[str, ...]
    n_checked: int
    labels_equal: bool
    max_abs_proba_diff: float
    opset: int


def export_onnx(
    loaded: LoadedModel,
    path: str | Path,
    *,
    sample: pd.DataFrame | None = None,
    check: pd.DataFrame | None = None,
) -> OnnxExport:
    """Write ``loaded`` as an ONNX model whose outputs match its ``predict``/``predict_proba``.

    Parameters
    ----------
    loaded : LoadedModel
        A verified model version (``Registry.load``).
    path : str or Path
        Where to write the ``.onnx`` file; written atomically (a temporary file, then
        ``os.replace``), and only once the check passed.
    sample : DataFrame, optional
        Raw feature rows (a few training rows, say) to verify on when ``check`` is None.
    check : DataFrame, optional
        Raw feature rows, such as the held-out test rows: onnxruntime scores them with the
        exported graph and the served classes must equal ``loaded.predict`` and every
        probability be within 1e-5 of ``loaded.predict_proba``.

    Returns
    -------
    OnnxExport

    Raises
    ------
    ExportError
        The model's family or a preprocessing step has no ONNX conversion (the message names
        the supported families), or the exported model disagrees with the native one on the
        check rows (the message gives the figures; nothing is written).
    """
    model = build_model(loaded)
    data = model.SerializeToString()
    rows = check if check is not None else sample
    n_checked, equal, diff = 0, True, math.nan
    if rows is not None:
        n_checked, equal, diff = _compare(loaded, data, rows)
    target = Path(path)
    _write_atomic(target, data)
    return OnnxExport(
        path=str(target),
        sha256=hashlib.sha256(data).hexdigest(),
        n_bytes=len(data),
        family=model_family(loaded),
        inputs=tuple(i.name for i in model.graph.input),
        n_checked=n_checked,
        labels_equal=equal,
        max_abs_proba_diff=diff,
        opset=OPSET,
    )


def _compare(loaded: LoadedModel, data: bytes, rows: pd.DataFrame) -> tuple[int, bool, float]:
    labels, proba = onnx_predict(data, rows)
    native_labels = loaded.predict(rows)
    native_proba = loaded.predict_proba(rows)
    mismatched = int(sum(a != b for a, b in zip(labels, native_labels, strict=True)))
    diff = float(np.max(np.abs(proba - native_proba))) if len(rows) else 0.0
    if mismatched or not diff <= PROBA_TOLERANCE:
        raise ExportError(
            f"The ONNX export of {loaded.ref} ({model_family(loaded)}) does "
            f"not match the native model on {len(rows)} check rows: {mismatched} served "
            f"classes differ and the largest probability difference is {diff:.3g} (allowed: "
            f"{PROBA_TOLERANCE:g}). Nothing was written. To fix: serve the native model, or "
            "report this as a bug in verdict's ONNX export with the model family."
        )
    return len(rows), True, diff


def _write_atomic(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def onnx_predict(
    path_or_bytes: str | Path | bytes, X: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Score raw feature rows with an exported model in onnxruntime.

    The reference for clients: how each column becomes its graph input.

    Parameters
    ----------
    path_or_bytes : str, Path or bytes
        An ``.onnx`` file written by ``export_onnx``, or its bytes.
    X : DataFrame
        Raw rows holding the model's feature columns (others are ignored).

    Returns
    -------
    labels : ndarray of shape (n_rows,), dtype object
        The served classes, as the values of ``LoadedModel.classes``.
    proba : ndarray of shape (n_rows, n_classes)
        Probabilities, columns in ``LoadedModel.classes`` order.
    """
    import onnxruntime

    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    meta = read_metadata(data)
    feeds = onnx_feeds(meta, X)
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    labels, proba = session.run(list(OUTPUTS), feeds)
    classes = meta["verdict.classes"]
    back = dict(zip(label_values(tuple(classes)).tolist(), classes, strict=True))
    return np.asarray([back[v] for v in labels.tolist()], dtype=object), np.asarray(proba)


def read_metadata(data: bytes) -> dict[str, Any]:
    model = onnx.load_from_string(data)
    props = {p.key: p.value for p in model.metadata_props}
    missing = [k for k in _JSON_KEYS if k not in props]
    if missing:
        raise InvalidInputError(
            f"The ONNX model lacks the metadata {missing} that verdict's export writes. To "
            "fix: pass a file written by export_onnx (verdict export ... --format onnx)."
        )
    return {k: json.loads(v) if k in _JSON_KEYS else v for k, v in props.items()}


def onnx_feeds(meta: dict[str, Any], X: pd.DataFrame) -> dict[str, np.ndarray]:
    """The graph inputs for the rows of ``X``, from the export's metadata."""
    specs = [InputSpec(s["name"], s["column"], s["kind"]) for s in meta["verdict.inputs"]]
    absent = [s.column for s in specs if s.column not in X.columns]
    if absent:
        raise InvalidInputError(
            f"X lacks the feature columns {absent} the exported model takes. To fix: pass "
            "rows with every feature column of the model's schema."
        )
    schema = Schema.from_dict(meta["verdict.schema"])
    return {s.name: _feed(s, X[s.column], schema) for s in specs}


def _feed(spec: InputSpec, values: pd.Series, schema: Schema) -> np.ndarray:
    if spec.kind == "numeric":
        try:
            return values.to_numpy(dtype=np.float64, na_value=np.nan).reshape(-1, 1)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"Column {spec.column!r} is numeric in the model but holds values that are "
                f"not numbers ({exc}). To fix: pass numbers (NaN for missing)."
            ) from exc
    if spec.kind == "datetime":
        return datetime_feed(values, schema.column(spec.column).datetime_format)
    words = level_words(values).fillna("")
    return words.astype(str).to_numpy(dtype=object).reshape(-1, 1)
