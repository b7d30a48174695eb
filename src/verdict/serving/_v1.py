"""verdict's own API: ``POST /v1/models/{name}/predict`` (records in, one object per row out)
and ``POST /v1/feedback`` (true labels for earlier predictions).

A predict response carries the request id and the version that answered at the top and in
every row (``{"row", "class", "probabilities", "model_version", "request_id"}``), the
request's unknown categories (accepted, scored as values not seen in training) and its
out-of-range numbers (accepted, scored, but far outside anything seen in training). It is sent
only once the rows are in the prediction log.

Feedback is checked at the door as strictly as predictions, so that everything stored can be
read back by monitoring and retraining: a label must be one of the model's classes (``1``,
``1.0`` and ``"1"`` name the class ``1``; the class's own value is stored), features sent with
a label pass the same row checks as features sent for scoring (only the model's features are
stored), and labels for request ids the log does not hold (orphans, kept in case the prediction
is logged later by another replica) are bounded per model (``max_orphan_feedback``; 429 beyond).
"""

from __future__ import annotations

import asyncio
from itertools import count, repeat
from typing import Any

from fastapi import APIRouter, Request, Response

from verdict.data import RowProblem
from verdict.errors import InvalidInputError
from verdict.serving._answers import invalid_rows, score_logged
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
from verdict.serving._feedback_check import OrphanLimitError, check_features, feedback_item_ok
from verdict.serving._json import BodyShape
from verdict.serving._middleware import client_request_id
from verdict.serving._schemas import (
    ErrorDetail,
    FeedbackRequest,
    FeedbackResponse,
    PredictRequest,
    PredictResponse,
)
from verdict.serving._served import ServedModel, ServedModels
from verdict.serving._work import Logged, Rows, Scored
from verdict.state import FeedbackItem

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
        raise invalid_rows(missing, instance_place)
    return Rows(columns, len(instances))


def instance_place(problem: RowProblem) -> list[str | int]:
    """Where a row problem sits in an ``instances`` body (for the 422's ``loc``)."""
    return ["body", "instances", problem.row, problem.column]


def _fits(body: Any) -> bool:
    """Whether ``body`` is a predict request as JSON decodes it (else pydantic decides)."""
    if type(body) is not dict:
        return False
    instances = body.get("instances")
    return type(instances) is list and bool(instances) and all(type(r) is dict for r in instances)


def _is_dict(item: Any) -> bool:
    return type(item) is dict


def _fits_feedback(body: Any) -> bool:
    if type(body) is not dict:
        return False
    items = body.get("feedback")
    return type(items) is list and bool(items) and all(map(feedback_item_ok, items))


def predict_shape(max_rows: int) -> BodyShape:
    """The predict body: ``instances``, at most ``max_rows`` of them."""
    return BodyShape(
        PredictRequest, _fits, {"instances": _is_dict}, {"instances": (max_rows, "max_rows")}
    )


def feedback_shape(max_rows: int) -> BodyShape:
    """The feedback body: ``feedback`` items, at most ``max_rows`` of them."""
    return BodyShape(
        FeedbackRequest, _fits_feedback, {"feedback": feedback_item_ok},
        {"feedback": (max_rows, "max_rows")},
    )  # fmt: skip


@router.post(
    "/models/{name}/predict",
    response_model=PredictResponse,
    openapi_extra=openapi_body(PredictRequest),
)
async def predict(
    request: Request,
    model: ModelDep,
    settings: SettingsDep,
    telemetry: TelemetryDep,
    request_id: RequestId,
) -> Response:
    """Score records: per row the class, the probabilities, the version and the request id."""
    features = model.loaded.schema.features
    rows = await read_json(
        request,
        predict_shape(settings.max_rows),
        lambda body: records_to_rows(body["instances"], features),
    )
    logged = Logged(request_id, client_request_id(request))
    scored = await score_logged(model, rows, logged, telemetry, instance_place)
    proba = scored.proba.tolist()
    return json_answer(_answer(model, scored, proba, request_id))


def _answer(
    model: ServedModel, scored: Scored, proba: list[list[float]], request_id: str
) -> dict[str, Any]:
    """The predict response (``PredictResponse``'s fields, in its order)."""
    names = [str(c) for c in model.loaded.classes]
    ref = model.ref
    if len(scored.labels) != len(proba) or (proba and len(proba[0]) != len(names)):
        raise ValueError("labels, probabilities and classes do not line up")
    per_class = map(dict, map(zip, repeat(names), proba))  # one {class: p} per row
    return {
        "model": model.name,
        "model_version": ref,
        "request_id": request_id,
        "predictions": [
            {"row": i, "class": label, "probabilities": p, "model_version": ref,
             "request_id": request_id}
            for i, label, p in zip(count(), scored.labels, per_class)
        ],
        "unknown_categories": scored.unknown,
        "out_of_range": scored.out_of_range,
    }  # fmt: skip


@router.post(
    "/feedback",
    response_model=FeedbackResponse,
    openapi_extra=openapi_body(FeedbackRequest),
)
async def feedback(
    request: Request,
    served: ServedDep,
    settings: SettingsDep,
    predlog: PredLogDep,
    request_id: RequestId,
) -> Response:
    """Attach true labels to earlier predictions (request id and row) or to rows sent whole."""
    body = await read_json(request, feedback_shape(settings.max_rows))
    items = [_feedback_item(i, item, served) for i, item in enumerate(body["feedback"])]
    problems = check_features(items, served)
    if problems:
        raise invalid_rows(problems, lambda p: ["body", "feedback", p.row, "features", p.column])
    models = served.all()
    only = models[0].name if len(models) == 1 else None
    try:
        result = await asyncio.to_thread(
            predlog.add_feedback, items, classes=served.classes, default_model=only,
            max_orphans=settings.max_orphan_feedback,
        )  # fmt: skip
    except OrphanLimitError as exc:
        raise ServiceError(429, str(exc), kind="orphan_limit") from None
    except InvalidInputError as exc:
        raise ServiceError(422, str(exc), kind="invalid_feedback") from None
    return json_answer({
        "attached": result.attached,
        "with_features": result.with_features,
        "unknown": result.unknown,
        "elsewhere": result.elsewhere,
        "request_id": request_id,
    })  # fmt: skip


def _feedback_item(i: int, item: dict[str, Any], served: ServedModels) -> FeedbackItem:
    """One item for the log; 404 if it names a model that is not served."""
    model = item.get("model")
    if model is not None and served.get(model) is None:
        names = [m.name for m in served.all()]
        detail = ErrorDetail(loc=["body", "feedback", i, "model"], kind="model_not_found",
                             message=f"no model named {model[:64]!r} is served")  # fmt: skip
        raise ServiceError(404, f"Feedback item {i} names the model {model[:64]!r}, which is "
                           f"not served here. To fix: name one of {names}.",
                           kind="model_not_found", details=[detail])  # fmt: skip
    return FeedbackItem(
        label=item["label"], request_id=item.get("request_id"), row=item.get("row", 0),
        features=item.get("features"), model=model,
    )  # fmt: skip
