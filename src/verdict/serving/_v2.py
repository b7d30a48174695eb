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

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from verdict.serving import _inference
from verdict.serving._binary import encode_raw
from verdict.serving._body import json_answer, openapi_body, read_json
from verdict.serving._deps import (
    ModelDep,
    RequestId,
    SettingsDep,
    TelemetryDep,
    VersionDep,
)
from verdict.serving._errors import V2_ERROR_RESPONSES
from verdict.serving._inference import infer_shape
from verdict.serving._middleware import client_request_id
from verdict.serving._schemas import (
    InferenceRequest,
    InferenceResponse,
    ModelMetadata,
    ModelReady,
    ServerLive,
    ServerMetadata,
    ServerReady,
)
from verdict.serving._served import ServedModel
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
    """The server's name, version and protocol extensions."""
    return _inference.server_metadata()


@router.get("/models/{name}", response_model=ModelMetadata)
async def model_metadata(model: ModelDep) -> dict[str, Any]:
    """The model's inputs (one tensor per feature) and outputs (label, probabilities)."""
    return _inference.model_metadata(model)


@router.get("/models/{name}/versions/{version}", response_model=ModelMetadata)
async def version_metadata(model: VersionDep) -> dict[str, Any]:
    """As ``/v2/models/{name}``, for the version answering now."""
    return _inference.model_metadata(model)


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


async def _infer(
    request: Request,
    model: ServedModel,
    settings: Any,
    telemetry: Any,
    request_id: str,
) -> Response:
    prepared = await read_json(
        request,
        infer_shape(settings.max_rows),
        lambda body: _inference.prepare(body, model, settings.max_rows),
        untyped=True,
        binary=True,
    )
    logged = Logged(request_id, client_request_id(request))
    outputs, chunks = [], []
    for out in await _inference.infer(model, prepared, logged, telemetry):
        output: dict[str, Any] = {"name": out.name, "shape": out.shape, "datatype": out.datatype}
        if out.binary:
            chunk = encode_raw(out.datatype, out.data)
            output["parameters"] = {"binary_data_size": len(chunk)}
            chunks.append(chunk)
        else:
            output["data"] = out.data
        outputs.append(output)
    answer = {
        "model_name": model.name,
        "model_version": str(model.version),
        "id": prepared.id if prepared.id is not None else request_id,
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
