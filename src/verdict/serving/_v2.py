"""The Open Inference Protocol v2 REST API (KServe / Triton): health, metadata and inference.

``/v2/health/live`` needs no API key (nor ``/v2/health/ready`` with ``public_readiness``);
every other route does. Errors follow the protocol: ``{"error": "<message>"}`` (with ``kind``,
``details`` and ``request_id`` alongside). Readiness answers 503 with ``{"ready": false}``
while the service starts or shuts down. A version in the path must be the version answering now
(``404`` otherwise, naming it). The inference response's ``id`` is the request's ``id``, or the
service's request id (``X-Request-ID``) when it has none; feedback refers to predictions by the
``X-Request-ID``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from verdict import __version__
from verdict.serving._answers import counted, invalid_rows
from verdict.serving._binary import encode_raw
from verdict.serving._body import json_answer, openapi_body, read_json
from verdict.serving._deps import (
    ModelDep,
    RequestId,
    SettingsDep,
    TelemetryDep,
    VersionDep,
)
from verdict.serving._errors import V2_ERROR_RESPONSES, ServiceError
from verdict.serving._json import BodyShape
from verdict.serving._limits import check_rows_limit
from verdict.serving._middleware import client_request_id
from verdict.serving._schemas import (
    ErrorDetail,
    InferenceRequest,
    InferenceResponse,
    ModelMetadata,
    ModelReady,
    ServerLive,
    ServerMetadata,
    ServerReady,
)
from verdict.serving._served import ServedModel
from verdict.serving._tensors import (
    LABEL,
    PROBABILITIES,
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
from verdict.serving._work import Logged

router = APIRouter(prefix="/v2", tags=["v2"], responses=V2_ERROR_RESPONSES)
EXTENSIONS = ("binary_tensor_data",)  # Triton's name for the binary tensor data extension
_NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {"model": ServerReady, "description": "Not ready (starting or shutting down)."}
}


@router.get("/health/live", response_model=ServerLive)
async def live() -> dict[str, bool]:
    """Liveness: the process answers (no API key needed)."""
    return {"live": True}


@router.get("/health/ready", response_model=ServerReady, responses=_NOT_READY)
async def ready(request: Request) -> Any:
    """Readiness: every served model is loaded and the service is not shutting down."""
    if not request.app.state.accepting:
        return JSONResponse({"ready": False}, status_code=503)
    return {"ready": True}


@router.get("", response_model=ServerMetadata)
async def server_metadata() -> dict[str, Any]:
    """The server's name, version and protocol extensions."""
    return {"name": "verdict", "version": __version__, "extensions": list(EXTENSIONS)}


def _metadata(model: ServedModel) -> dict[str, Any]:
    return {
        "name": model.name,
        "versions": [str(model.version)],
        "platform": "verdict_sklearn",
        "inputs": input_metadata(model.loaded.schema),
        "outputs": output_metadata(model.loaded),
        "parameters": {"runtime": model.runtime},
    }


@router.get("/models/{name}", response_model=ModelMetadata)
async def model_metadata(model: ModelDep) -> dict[str, Any]:
    """The model's inputs (one tensor per feature) and outputs (label, probabilities)."""
    return _metadata(model)


@router.get("/models/{name}/versions/{version}", response_model=ModelMetadata)
async def version_metadata(model: VersionDep) -> dict[str, Any]:
    """As ``/v2/models/{name}``, for the version answering now."""
    return _metadata(model)


@router.get("/models/{name}/ready", response_model=ModelReady)
async def model_ready(model: ModelDep) -> dict[str, Any]:
    """Whether the model is ready to infer (it is, once served)."""
    return {"name": model.name, "ready": True}


@router.get("/models/{name}/versions/{version}/ready", response_model=ModelReady)
async def version_ready(model: VersionDep) -> dict[str, Any]:
    """As ``/v2/models/{name}/ready``, for the version answering now."""
    return {"name": model.name, "ready": True}


_INFER: dict[str, Any] = {
    "response_model": InferenceResponse,
    "response_model_exclude_none": True,
    "openapi_extra": openapi_body(InferenceRequest),
}


@router.post("/models/{name}/infer", **_INFER)
async def infer(
    request: Request,
    model: ModelDep,
    settings: SettingsDep,
    telemetry: TelemetryDep,
    request_id: RequestId,
) -> Response:
    """Score named tensors; outputs ``label`` and ``probabilities``."""
    return await _infer(request, model, settings, telemetry, request_id)


@router.post("/models/{name}/versions/{version}/infer", **_INFER)
async def infer_version(
    request: Request,
    model: VersionDep,
    settings: SettingsDep,
    telemetry: TelemetryDep,
    request_id: RequestId,
) -> Response:
    """As ``/v2/models/{name}/infer``, for the version answering now."""
    return await _infer(request, model, settings, telemetry, request_id)


def infer_shape(max_tensors: int) -> BodyShape:
    """The inference body: ``inputs`` and ``outputs``, at most ``max_tensors`` of each."""
    limits = {"inputs": (max_tensors, "max_rows"), "outputs": (max_tensors, "max_rows")}
    lists = {"inputs": fits_input, "outputs": fits_output}
    return BodyShape(InferenceRequest, fits_request, lists, limits)


async def _infer(
    request: Request,
    model: ServedModel,
    settings: Any,
    telemetry: Any,
    request_id: str,
) -> Response:
    schema = model.loaded.schema

    def prepare(body: dict[str, Any]) -> tuple[Any, ...]:
        _refuse_unsupported(body)
        wanted = _wanted_outputs(body.get("outputs"), body.get("parameters"))
        tensors = tensors_of(body["inputs"], settings.max_rows)
        rows, layout = tensors_to_rows(tensors, schema)
        check_rows_limit(rows.n, settings.max_rows)
        return body, wanted, tensors, rows, layout

    body, wanted, tensors, rows, layout = await read_json(
        request, infer_shape(settings.max_rows), prepare, untyped=True, binary=True
    )
    logged = Logged(request_id, client_request_id(request))
    scored = await model.score(replace(rows, logged=logged))  # logged when it returns
    if scored.problems:
        raise invalid_rows(scored.problems, problem_place(tensors, layout, schema.features))
    counted(model, scored, telemetry)
    k = len(model.loaded.classes)
    values = {
        LABEL: (label_datatype(model.loaded.classes), [rows.n], scored.labels),
        PROBABILITIES: (
            "FP64",
            [rows.n, k],
            np.ascontiguousarray(scored.proba, dtype=np.float64).ravel(),
        ),
    }
    outputs, chunks = [], []
    for name, as_binary in wanted:
        datatype, shape, data = values[name]
        output: dict[str, Any] = {"name": name, "shape": shape, "datatype": datatype}
        if as_binary:
            chunk = encode_raw(datatype, data)
            output["parameters"] = {"binary_data_size": len(chunk)}
            chunks.append(chunk)
        else:
            output["data"] = data
        outputs.append(output)
    rid = body.get("id")
    answer = {
        "model_name": model.name,
        "model_version": str(model.version),
        "id": rid if rid is not None else request_id,
        "outputs": outputs,
    }
    if not chunks:
        return json_answer(answer)
    head = orjson.dumps(answer, option=orjson.OPT_SERIALIZE_NUMPY)
    return Response(
        b"".join([head, *chunks]),
        media_type="application/octet-stream",
        headers={"Inference-Header-Content-Length": str(len(head))},
    )


_SEQUENCE = ("sequence_id", "sequence_start", "sequence_end")


def _refuse_unsupported(body: dict[str, Any]) -> None:
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


def _wanted_outputs(
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
