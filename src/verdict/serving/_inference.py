"""One inference as the Open Inference Protocol defines it, whatever carried it (REST with JSON
or binary tensors, gRPC with typed or raw contents): the request's inputs checked and turned
into rows, scored by the model's micro-batcher (and logged before the answer), and the outputs
asked for.

The transports only translate: ``_v2`` turns a request body, and ``_grpc`` a
``ModelInferRequest``, into the same plain request (``{"id", "parameters", "inputs",
"outputs"}`` with each input's ``data`` as a flat or nested list), validated by the same
:func:`infer_shape`; :func:`prepare` and :func:`infer` then do everything else, so that a
request gets the same answer, the same errors and the same log rows over either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from verdict import __version__
from verdict.serving._answers import score_logged
from verdict.serving._errors import ServiceError
from verdict.serving._json import BodyShape
from verdict.serving._limits import check_rows_limit
from verdict.serving._schemas import ErrorDetail, InferenceRequest
from verdict.serving._served import ServedModel
from verdict.serving._telemetry import Telemetry
from verdict.serving._tensors import (
    LABEL,
    PROBABILITIES,
    Tensor,
    fits_input,
    fits_output,
    fits_request,
    input_metadata,
    label_datatype,
    output_metadata,
    problem_place,
    tensors_of,
    tensors_to_rows,
)
from verdict.serving._work import Logged, Rows

EXTENSIONS = ("binary_tensor_data",)  # Triton's name for the binary tensor data extension


def server_metadata() -> dict[str, Any]:
    """The server's name, version and protocol extensions (REST and gRPC alike)."""
    return {"name": "verdict", "version": __version__, "extensions": list(EXTENSIONS)}


def model_metadata(model: ServedModel) -> dict[str, Any]:
    """A model's metadata: one input tensor per feature, the label and probability outputs,
    and (REST only; gRPC's message has no field for it) the runtime answering."""
    return {
        "name": model.name,
        "versions": [str(model.version)],
        "platform": "verdict_sklearn",
        "inputs": input_metadata(model.loaded.schema),
        "outputs": output_metadata(model.loaded),
        "parameters": {"runtime": model.runtime},
    }


@dataclass(frozen=True, slots=True)
class Prepared:
    """A checked inference request: its rows, and what to answer with."""

    rows: Rows
    wanted: list[tuple[str, bool]]  # output name, sent as binary data (REST only)
    tensors: list[Tensor]
    layout: str
    id: str | None


@dataclass(frozen=True, slots=True)
class Output:
    """One output tensor of an answer."""

    name: str
    datatype: str
    shape: list[int]
    data: Any  # a list, or a flat float64 array for the probabilities
    binary: bool


def prepare(body: dict[str, Any], model: ServedModel, max_rows: int) -> Prepared:
    """The rows of a validated request (``infer_shape``), or the 4xx saying what is wrong."""
    refuse_unsupported(body)
    wanted = wanted_outputs(body.get("outputs"), body.get("parameters"))
    tensors = tensors_of(body["inputs"], max_rows)
    rows, layout = tensors_to_rows(tensors, model.loaded.schema)
    check_rows_limit(rows.n, max_rows)
    return Prepared(rows, wanted, tensors, layout, body.get("id"))


async def infer(
    model: ServedModel, request: Prepared, logged: Logged, telemetry: Telemetry
) -> list[Output]:
    """Score the request's rows (committed to the prediction log before this returns) and
    give the outputs asked for; a 4xx naming each value that cannot be scored."""
    features = model.loaded.schema.features
    place = problem_place(request.tensors, request.layout, features)
    scored = await score_logged(model, request.rows, logged, telemetry, place)
    n, k = request.rows.n, len(model.loaded.classes)
    values = {
        LABEL: (label_datatype(model.loaded.classes), [n], scored.labels),
        PROBABILITIES: (
            "FP64", [n, k], np.ascontiguousarray(scored.proba, dtype=np.float64).ravel()
        ),
    }  # fmt: skip
    return [Output(name, *values[name], binary) for name, binary in request.wanted]


def infer_shape(max_tensors: int) -> BodyShape:
    """The inference body: ``inputs`` and ``outputs``, at most ``max_tensors`` of each."""
    limits = {"inputs": (max_tensors, "max_rows"), "outputs": (max_tensors, "max_rows")}
    lists = {"inputs": fits_input, "outputs": fits_output}
    return BodyShape(InferenceRequest, fits_request, lists, limits)


_SEQUENCE = ("sequence_id", "sequence_start", "sequence_end")


def refuse_unsupported(body: dict[str, Any]) -> None:
    """A 400 for what this service cannot honour (rather than ignore): sequences and shared
    memory."""
    tensors = [*body["inputs"], *(body.get("outputs") or [])]
    if any("shared_memory_region" in (t.get("parameters") or {}) for t in tensors):
        raise ServiceError(
            400,
            "Shared-memory tensors (shared_memory_region) are not supported: the service may "
            "run on another machine than its clients. To fix: send the data in the request, "
            "as JSON or binary tensor data.",
            kind="unsupported",
        )
    parameters = body.get("parameters") or {}
    asked = [p for p in _SEQUENCE if p in parameters]
    if asked:
        raise ServiceError(
            400,
            f"The request parameters {asked} ask for a stateful (sequence) model; verdict's "
            "models are stateless. To fix: leave out sequence_id, sequence_start and "
            "sequence_end.",
            kind="unsupported",
        )


def _as_binary(parameters: Any, default: bool) -> bool:
    """Whether an output is sent as binary data: its own ``binary_data`` parameter, else the
    request's ``binary_data_output``."""
    if type(parameters) is dict and "binary_data" in parameters:
        return _flag(parameters["binary_data"], "binary_data")
    return default


def _flag(value: Any, name: str) -> bool:
    if type(value) is not bool:
        raise ServiceError(
            400,
            f"The parameter {name} must be true or false, not {str(value)[:32]!r}. To fix: send "
            "a JSON boolean.",
            kind="invalid_parameter",
        )
    return value


def wanted_outputs(
    asked: list[dict[str, Any]] | None, parameters: dict[str, Any] | None
) -> list[tuple[str, bool]]:
    """The outputs asked for (both when none are named), each with whether it goes as binary
    data; 400 for an unknown name or a classification request."""
    default = (
        _flag(parameters.get("binary_data_output", False), "binary_data_output")
        if (parameters)
        else False
    )
    if not asked:
        return [(LABEL, default), (PROBABILITIES, default)]
    names = [o["name"] for o in asked]
    unknown = [(i, n) for i, n in enumerate(names) if n not in (LABEL, PROBABILITIES)]
    if unknown:
        details = [
            ErrorDetail(loc=["body", "outputs", i, "name"], kind="unknown_output",
                        message=f"no output named {n[:64]!r}")
            for i, n in unknown
        ]  # fmt: skip
        raise ServiceError(
            422,
            f"Unknown outputs {[n[:64] for _, n in unknown[:5]]}"
            f"{f' and {len(unknown) - 5:,} more' if len(unknown) > 5 else ''}. To fix: ask for "
            f"'{LABEL}' and/or '{PROBABILITIES}'.",
            kind="unknown_output",
            details=details,
        )
    for o in asked:
        if (o.get("parameters") or {}).get("classification"):
            raise ServiceError(
                400,
                "The classification extension (top-k classes per row) is not supported. To "
                f"fix: ask for '{PROBABILITIES}', which holds every class's probability in the "
                "order of the model's classes (GET /v2/models/NAME).",
                kind="unsupported",
            )
    wanted: dict[str, bool] = {}
    for o in asked:
        wanted.setdefault(o["name"], _as_binary(o.get("parameters"), default))
    return list(wanted.items())
