"""Open Inference Protocol tensors to rows and back.

Two input layouts are accepted (the model metadata lists the first):

- one tensor per feature, named as the feature, shape ``[n]`` or ``[n, 1]``; any datatype
  whose values fit the feature (``FP32``/``FP64``/``INT64`` for numbers, ``BYTES`` for text,
  ``BOOL`` for booleans). Inputs that are not features are ignored, as v1 ignores extra keys;
- one tensor (any name that is not a feature) of shape ``[n, k]`` holding the ``k`` features
  in the order of the metadata's inputs: ``FP32``/``FP64`` when every feature is numeric,
  else ``BYTES`` (numbers may be sent as numbers or as text).

``data`` is row-major, flat or nested. Outputs: ``label`` (shape ``[n]``; ``BYTES`` for text
labels, ``INT64``, ``BOOL`` or ``FP64`` otherwise) and ``probabilities`` (``FP64``, shape
``[n, classes]``, row-major, columns in the order of the model's classes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, get_args

from verdict.data import ColumnKind, RowProblem, Schema
from verdict.registry import LoadedModel
from verdict.serving._answers import invalid_rows
from verdict.serving._errors import ServiceError
from verdict.serving._limits import check_rows_limit
from verdict.serving._schemas import ErrorDetail, V2Datatype
from verdict.serving._work import Rows

LABEL, PROBABILITIES = "label", "probabilities"
_DATATYPES = frozenset(get_args(V2Datatype))


@dataclass(frozen=True, slots=True)
class Tensor:
    """One input tensor of a request (``RequestInput``'s fields that scoring reads)."""

    name: str
    shape: list[int]
    data: list[Any]


def tensors_of(inputs: list[dict[str, Any]], max_rows: int) -> list[Tensor]:
    """The request's input tensors (validated JSON objects): a 422 when two share a name, a
    413 when a shape announces more than ``max_rows`` rows (before any data is read)."""
    seen: dict[str, int] = {}
    for i, t in enumerate(inputs):
        if t["name"] in seen:
            raise _error(
                f"inputs {seen[t['name']]} and {i} are both named {t['name'][:64]!r}, so which "
                "one counts is ambiguous",
                ["body", "inputs", i, "name"],
                kind="duplicate_input",
            )
        seen[t["name"]] = i
        if t["shape"] and t["shape"][0] > max_rows:
            check_rows_limit(t["shape"][0], max_rows)
    return [Tensor(t["name"], t["shape"], t["data"]) for t in inputs]


def fits_request(body: Any) -> bool:
    """Whether ``body`` is an inference request as JSON decodes it, in its plain form (any
    other is left to ``InferenceRequest``'s validation, which coerces or refuses it)."""
    if type(body) is not dict:
        return False
    rid, inputs, outputs = body.get("id"), body.get("inputs"), body.get("outputs")
    if not (rid is None or (type(rid) is str and len(rid) <= 128)):
        return False
    if not _optional_dict(body.get("parameters")) or type(inputs) is not list or not inputs:
        return False
    if not all(_fits_input(t) for t in inputs):
        return False
    return outputs is None or (type(outputs) is list and all(_fits_output(o) for o in outputs))


def _optional_dict(value: Any) -> bool:
    return value is None or type(value) is dict


def fits_input(t: Any) -> bool:
    """Whether ``t`` is an input tensor as ``RequestInput`` accepts it unchanged."""
    return _fits_input(t)


def fits_output(o: Any) -> bool:
    """Whether ``o`` is a requested output as ``RequestOutput`` accepts it unchanged."""
    return _fits_output(o)


def _fits_input(t: Any) -> bool:
    if type(t) is not dict or type(t.get("name")) is not str or type(t.get("data")) is not list:
        return False
    shape = t.get("shape")
    return (
        type(shape) is list
        and 1 <= len(shape) <= 2
        and all(type(d) is int for d in shape)
        and type(t.get("datatype")) is str
        and t["datatype"] in _DATATYPES
        and _optional_dict(t.get("parameters"))
    )


def _fits_output(o: Any) -> bool:
    return type(o) is dict and type(o.get("name")) is str and _optional_dict(o.get("parameters"))


def datatype_of_dtype(dtype: str, kind: ColumnKind) -> str:
    """The v2 datatype advertised for a feature (what the training column held)."""
    if kind is ColumnKind.BOOLEAN or dtype == "bool":
        return "BOOL"
    if kind in (ColumnKind.NUMERIC, ColumnKind.CATEGORICAL):
        if dtype.lower().startswith(("int", "uint")):
            return "INT64"
        if dtype.lower().startswith("float"):
            return "FP64"
    return "BYTES"


def input_metadata(schema: Schema) -> list[dict[str, Any]]:
    """One tensor per feature, in the order the matrix layout uses."""
    return [
        {"name": c.name, "datatype": datatype_of_dtype(c.dtype, c.kind), "shape": [-1]}
        for c in (schema.column(name) for name in schema.features)
    ]


def label_datatype(classes: tuple[Any, ...]) -> str:
    """The v2 datatype of the label output."""
    if all(isinstance(c, bool) for c in classes):
        return "BOOL"
    if all(isinstance(c, int) and not isinstance(c, bool) for c in classes):
        return "INT64"
    if all(isinstance(c, int | float) and not isinstance(c, bool) for c in classes):
        return "FP64"
    return "BYTES"


def output_metadata(loaded: LoadedModel) -> list[dict[str, Any]]:
    """The two outputs: the label and the probabilities."""
    return [
        {"name": LABEL, "datatype": label_datatype(loaded.classes), "shape": [-1]},
        {"name": PROBABILITIES, "datatype": "FP64", "shape": [-1, len(loaded.classes)]},
    ]


def _error(message: str, loc: list[str | int], kind: str = "invalid_tensor") -> ServiceError:
    detail = ErrorDetail(loc=loc, kind=kind, message=message)
    return ServiceError(422, f"{message}. To fix: see GET /v2/models/NAME for the inputs.",
                        kind=kind, details=[detail])  # fmt: skip


def flat(data: list[Any]) -> list[Any]:
    """Row-major ``data`` with one level of nested lists (a matrix's rows) flattened; deeper
    nesting is left as list values, which the shape check or the row checks then refuse."""
    if list not in set(map(type, data)):  # one C-level pass over a flat tensor
        return data
    out: list[Any] = []
    for v in data:
        if type(v) is list:
            out.extend(v)
        else:
            out.append(v)
    return out


def _values(tensor: Tensor, index: int) -> list[Any]:
    """The tensor's data, flat, checked against its shape."""
    values = flat(tensor.data)
    expected = math.prod(tensor.shape)
    if any(d < 0 for d in tensor.shape) or expected != len(values):
        raise _error(
            f"input {tensor.name!r} has shape {tensor.shape} ({expected} values) but "
            f"{len(values)} values in data",
            ["body", "inputs", index, "shape"],
        )
    return values


def tensors_to_rows(inputs: list[Tensor], schema: Schema) -> tuple[Rows, str]:
    """The request's rows, and the layout used (``'features'`` or ``'matrix'``)."""
    features = schema.features
    if len(inputs) == 1 and inputs[0].name not in features:
        return _matrix(inputs[0], features), "matrix"
    return _per_feature(inputs, features), "features"


def _matrix(tensor: Tensor, features: tuple[str, ...]) -> Rows:
    values = _values(tensor, 0)
    k = len(features)
    if len(tensor.shape) != 2 or tensor.shape[1] != k:
        raise _error(
            f"input {tensor.name!r} is not a feature, so it must be a matrix of shape [n, {k}] "
            f"holding the features {list(features)} in that order; its shape is {tensor.shape}",
            ["body", "inputs", 0, "shape"],
        )
    n = tensor.shape[0]
    columns = {f: values[j::k] for j, f in enumerate(features)}
    return Rows(columns, n)


def _per_feature(inputs: list[Tensor], features: tuple[str, ...]) -> Rows:
    by_name = {t.name: (i, t) for i, t in enumerate(inputs)}
    missing = [f for f in features if f not in by_name]
    if missing:
        problems = [RowProblem(None, f, "missing_feature", "no input tensor") for f in missing]
        raise invalid_rows(problems, lambda p: ["body", "inputs", p.column])
    columns, n = {}, None
    for f in features:
        index, tensor = by_name[f]
        if len(tensor.shape) == 2 and tensor.shape[1] != 1:
            raise _error(
                f"input {f!r} has shape {tensor.shape}; a feature's tensor has shape [n] or [n, 1]",
                ["body", "inputs", index, "shape"],
            )
        columns[f] = _values(tensor, index)
        if n is None:
            n = len(columns[f])
        elif len(columns[f]) != n:
            raise _error(
                f"input {f!r} has {len(columns[f])} rows where the other inputs have {n}",
                ["body", "inputs", index, "shape"],
            )
    return Rows(columns, n or 0)


def problem_place(inputs: list[Tensor], layout: str, features: tuple[str, ...]) -> Any:
    """Where a row problem sits in the request body (for the 422's ``loc``)."""
    index = {t.name: i for i, t in enumerate(inputs)}
    k = len(features)
    position = {f: j for j, f in enumerate(features)}

    def place(p: RowProblem) -> list[str | int]:
        if layout == "matrix":
            return ["body", "inputs", 0, "data", (p.row or 0) * k + position[p.column]]
        return ["body", "inputs", index[p.column], "data", p.row or 0]

    return place
