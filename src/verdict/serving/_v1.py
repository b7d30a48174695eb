"""verdict's own API: ``POST /v1/models/{name}/predict`` (records in, one object per row out)
and ``POST /v1/feedback`` (true labels for earlier predictions).

A predict response carries the request id and the version that answered at the top and in
every row (``{"row", "class", "probabilities", "model_version", "request_id"}``), and the
request's unknown categories (accepted, scored as values not seen in training).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response

from verdict.data._rows import RowProblem
from verdict.errors import InvalidInputError
from verdict.serving import _predlog
from verdict.serving._answers import invalid_rows, record
from verdict.serving._body import json_answer, openapi_body, read_json
from verdict.serving._deps import (
    ModelDep,
    PredLogDep,
    RequestId,
    ServedDep,
    SettingsDep,
    TelemetryDep,
)
from verdict.serving._errors import ERROR_RESPONSES, ServiceError
from verdict.serving._limits import check_rows_limit
from verdict.serving._schemas import (
    ErrorDetail,
    FeedbackRequest,
    FeedbackResponse,
    PredictRequest,
    PredictResponse,
)
from verdict.serving._served import ServedModel, ServedModels
from verdict.serving._work import Rows

router = APIRouter(prefix="/v1", tags=["v1"], responses=ERROR_RESPONSES)
_ABSENT = object()
_ABSENT_MESSAGE = "the feature is missing (send null for a missing value)"


def records_to_rows(instances: list[dict[str, Any]], features: tuple[str, ...]) -> Rows:
    """The records as feature columns; 422 naming each row that lacks a feature."""
    columns = {f: [r.get(f, _ABSENT) for r in instances] for f in features}
    missing = [
        RowProblem(i, f, "missing_feature", _ABSENT_MESSAGE)
        for f, values in columns.items()
        if _ABSENT in values
        for i, v in enumerate(values)
        if v is _ABSENT
    ]
    if missing:
        missing.sort(key=lambda p: (p.row, features.index(p.column)))
        raise invalid_rows(missing, lambda p: ["body", "instances", p.row, p.column])
    return Rows(columns, len(instances))


def _fits(body: Any) -> bool:
    """Whether ``body`` is a predict request as JSON decodes it (else pydantic decides)."""
    if type(body) is not dict:
        return False
    instances = body.get("instances")
    return type(instances) is list and bool(instances) and all(type(r) is dict for r in instances)


@router.post(
    "/models/{name}/predict",
    response_model=PredictResponse,
    openapi_extra=openapi_body(PredictRequest),
)
async def predict(
    request: Request,
    model: ModelDep,
    settings: SettingsDep,
    predlog: PredLogDep,
    telemetry: TelemetryDep,
    request_id: RequestId,
) -> Response:
    """Score records: per row the class, the probabilities, the version and the request id."""
    instances = (await read_json(request, PredictRequest, _fits))["instances"]
    check_rows_limit(len(instances), settings.max_rows)
    rows = records_to_rows(instances, model.loaded.schema.features)
    scored = await model.score(rows)
    if scored.problems:
        raise invalid_rows(scored.problems, lambda p: ["body", "instances", p.row, p.column])
    record(model, scored, request_id, rows.columns if settings.log_inputs else None, predlog,
           telemetry)  # fmt: skip
    proba = scored.proba.tolist()
    return json_answer(_answer(model, scored.labels, proba, scored.unknown, request_id))


def _answer(
    model: ServedModel,
    labels: list[Any],
    proba: list[list[float]],
    unknown: dict[str, int],
    request_id: str,
) -> dict[str, Any]:
    """The predict response (``PredictResponse``'s fields, in its order)."""
    names = [str(c) for c in model.loaded.classes]
    ref = model.ref
    return {
        "model": model.name,
        "model_version": ref,
        "request_id": request_id,
        "predictions": [
            {"row": i, "class": label, "probabilities": dict(zip(names, p, strict=True)),
             "model_version": ref, "request_id": request_id}
            for i, (label, p) in enumerate(zip(labels, proba, strict=True))
        ],
        "unknown_categories": unknown,
    }  # fmt: skip


@router.post("/feedback", response_model=FeedbackResponse)
async def feedback(
    body: FeedbackRequest,
    served: ServedDep,
    settings: SettingsDep,
    predlog: PredLogDep,
    request_id: RequestId,
) -> dict[str, Any]:
    """Attach true labels to earlier predictions (request id and row) or to rows sent whole."""
    check_rows_limit(len(body.feedback), settings.max_rows)
    items = [_feedback_item(i, item, served) for i, item in enumerate(body.feedback)]
    try:
        result = await asyncio.to_thread(predlog.add_feedback, items)
    except InvalidInputError as exc:
        raise ServiceError(422, str(exc), kind="invalid_feedback") from None
    return {
        "attached": result.attached,
        "with_features": result.with_features,
        "unknown": result.unknown,
        "request_id": request_id,
    }


def _feedback_item(i: int, item: Any, served: ServedModels) -> _predlog.FeedbackItem:
    """One item for the log; 404 if it names a model that is not served."""
    model = item.model
    if model is not None and served.get(model) is None:
        names = [m.name for m in served.all()]
        detail = ErrorDetail(loc=["body", "feedback", i, "model"], kind="model_not_found",
                             message=f"no model named {model[:64]!r} is served")  # fmt: skip
        raise ServiceError(404, f"Feedback item {i} names the model {model[:64]!r}, which is "
                           f"not served here. To fix: name one of {names}.",
                           kind="model_not_found", details=[detail])  # fmt: skip
    return _predlog.FeedbackItem(
        label=item.label, request_id=getattr(item, "request_id", None),
        row=getattr(item, "row", 0), features=getattr(item, "features", None), model=model,
    )  # fmt: skip
