"""KServe's V1 protocol (TensorFlow Serving's ``:predict``), for the clients that speak it:
``POST /v1/models/{name}:predict`` with ``{"instances": [...]}`` answers ``{"predictions":
[...]}``, and ``GET /v1/models/{name}`` says whether the model is ready.

An instance is a row as an object (feature name to value, as verdict's own
``/v1/models/{name}/predict`` takes it) or as a list of the feature values in the order
``GET /v1/models/{name}`` gives in ``inputs``; a prediction is ``{"label", "probabilities"}``
with the probabilities in the order of ``classes``. Rows go through the same checks, batcher
and prediction log as every other route. Errors have the protocols' shape,
``{"error": "..."}``, with 400 for a request that cannot be scored.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from verdict.serving._answers import score_logged
from verdict.serving._body import json_answer, openapi_body, read_json
from verdict.serving._deps import ModelDep, RequestId, SettingsDep, TelemetryDep
from verdict.serving._errors import MAX_DETAILS, V2_ERROR_RESPONSES, ServiceError
from verdict.serving._json import BodyShape
from verdict.serving._middleware import client_request_id
from verdict.serving._schemas import ErrorDetail, KServeV1Model, KServeV1Request, KServeV1Response
from verdict.serving._v1 import instance_place, records_to_rows
from verdict.serving._work import Logged, Rows

router = APIRouter(prefix="/v1", tags=["kserve-v1"], responses=V2_ERROR_RESPONSES)


def _fits(body: Any) -> bool:
    if type(body) is not dict:
        return False
    rows = body.get("instances")
    if type(rows) is not list or not rows:
        return False
    kind = type(rows[0])
    return kind in (dict, list) and all(type(r) is kind for r in rows)


def _is_row(item: Any) -> bool:
    return type(item) in (dict, list)


def predict_shape(max_rows: int) -> BodyShape:
    """The ``:predict`` body: ``instances``, at most ``max_rows`` of them."""
    return BodyShape(
        KServeV1Request, _fits, {"instances": _is_row}, {"instances": (max_rows, "max_rows")}
    )


def instances_to_rows(instances: list[Any], features: tuple[str, ...]) -> Rows:
    """Rows sent as objects or as lists in feature order; 400 naming a list of the wrong
    length."""
    if type(instances[0]) is dict:
        return records_to_rows(instances, features)
    k = len(features)
    wrong = [i for i, row in enumerate(instances) if len(row) != k]
    if wrong:
        details = [
            ErrorDetail(loc=["body", "instances", i], kind="wrong_length",
                        message=f"{len(instances[i])} values where the model has {k} features")
            for i in wrong[:MAX_DETAILS]
        ]  # fmt: skip
        raise ServiceError(
            422,
            f"{len(wrong):,} row(s) sent as lists do not have one value per feature (row "
            f"{wrong[0]} has {len(instances[wrong[0]])}, the model has {k}: {list(features)}). "
            "To fix: send each row's values in that order, null for a missing value, or send "
            "rows as objects.",
            kind="wrong_length",
            details=details,
            more_details=len(wrong) - len(details),
        )
    columns = {f: [row[j] for row in instances] for j, f in enumerate(features)}
    return Rows(columns, len(instances))


@router.post(
    "/models/{name}:predict",
    response_model=KServeV1Response,
    openapi_extra=openapi_body(KServeV1Request),
)
async def predict(
    request: Request,
    model: ModelDep,
    settings: SettingsDep,
    telemetry: TelemetryDep,
    request_id: RequestId,
) -> Response:
    """Score instances (objects, or lists in feature order): a label and the class
    probabilities per row."""
    features = model.loaded.schema.features
    rows = await read_json(
        request,
        predict_shape(settings.max_rows),
        lambda body: instances_to_rows(body["instances"], features),
        untyped=True,
    )
    logged = Logged(request_id, client_request_id(request))
    scored = await score_logged(model, rows, logged, telemetry, instance_place)
    proba = scored.proba.tolist()
    return json_answer({
        "predictions": [{"label": label, "probabilities": p}
                        for label, p in zip(scored.labels, proba, strict=True)]
    })  # fmt: skip


@router.get("/models/{name}", response_model=KServeV1Model)
async def model_status(model: ModelDep) -> dict[str, Any]:
    """Whether the model is ready, its classes (the order of the probabilities) and its
    features (the order of a row sent as a list)."""
    return {
        "name": model.name,
        "ready": True,
        "classes": list(model.loaded.classes),
        "inputs": list(model.loaded.schema.features),
    }
