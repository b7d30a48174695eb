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
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from verdict import __version__
from verdict.serving._answers import counted, invalid_rows
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
    """The server's name, version and protocol extensions (none)."""
    return {"name": "verdict", "version": __version__, "extensions": []}


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
        wanted = _wanted_outputs(body.get("outputs"))
        tensors = tensors_of(body["inputs"], settings.max_rows)
        rows, layout = tensors_to_rows(tensors, schema)
        check_rows_limit(rows.n, settings.max_rows)
        return body, wanted, tensors, rows, layout

    body, wanted, tensors, rows, layout = await read_json(
        request, infer_shape(settings.max_rows), prepare
    )
    logged = Logged(request_id, client_request_id(request))
    scored = await model.score(replace(rows, logged=logged))  # logged when it returns
    if scored.problems:
        raise invalid_rows(scored.problems, problem_place(tensors, layout, schema.features))
    counted(model, scored, telemetry)
    k = len(model.loaded.classes)
    outputs = {
        LABEL: {"name": LABEL, "shape": [rows.n],
                "datatype": label_datatype(model.loaded.classes), "data": scored.labels},
        PROBABILITIES: {"name": PROBABILITIES, "shape": [rows.n, k], "datatype": "FP64",
                        "data": np.ascontiguousarray(scored.proba, dtype=np.float64).ravel()},
    }  # fmt: skip
    rid = body.get("id")
    return json_answer({
        "model_name": model.name,
        "model_version": str(model.version),
        "id": rid if rid is not None else request_id,
        "outputs": [outputs[name] for name in wanted],
    })  # fmt: skip


def _wanted_outputs(asked: list[dict[str, Any]] | None) -> list[str]:
    """The outputs asked for (both when none are named); 422 for an unknown name."""
    if not asked:
        return [LABEL, PROBABILITIES]
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
    return list(dict.fromkeys(names))
