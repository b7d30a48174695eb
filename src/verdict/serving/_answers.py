"""What v1 and v2 share after parsing: the 422 for rows that do not fit the schema, and the
bookkeeping of a scored request (metrics and the prediction log), done without waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from verdict.data._rows import RowProblem
from verdict.serving._errors import ServiceError
from verdict.serving._predlog import PredictionEntry, PredictionLog
from verdict.serving._schemas import ErrorDetail
from verdict.serving._served import ServedModel
from verdict.serving._telemetry import Telemetry
from verdict.serving._work import Scored

SHOWN = 5
_FIX = {
    "missing_feature": "send every feature of the model (null for a missing value)",
    "wrong_type": "send numbers for numeric features, single values elsewhere, dates as text",
    "missing_value": "send a value for the features the service requires",
    "not_finite": "send finite numbers (null for a missing value)",
    "missing_column": "send every feature of the model",
    "duplicate_column": "send each feature once",
}


def invalid_rows(
    problems: Sequence[RowProblem], where: Callable[[RowProblem], list[str | int]]
) -> ServiceError:
    """The 422 error listing each problem at its place in the body (``where(problem)``)."""
    details = [ErrorDetail(loc=where(p), kind=p.kind, message=str(p)) for p in problems]
    shown = "; ".join(d.message for d in details[:SHOWN])
    more = f"; and {len(details) - SHOWN} more" if len(details) > SHOWN else ""
    kinds = dict.fromkeys(d.kind for d in details)
    fixes = "; ".join(_FIX.get(k, "correct the values") for k in kinds)
    return ServiceError(
        422,
        f"{len(details)} value{'s' if len(details) > 1 else ''} cannot be scored: {shown}{more}. "
        f"To fix: {fixes}.",
        kind="invalid_rows",
        details=details,
    )


def record(
    model: ServedModel,
    scored: Scored,
    proba: list[list[float]],
    request_id: str,
    inputs: Sequence[dict[str, Any]] | None,
    predlog: PredictionLog,
    telemetry: Telemetry,
) -> None:
    """Count the request's rows and queue them for the prediction log (never blocks).

    ``proba`` is ``scored.proba.tolist()``, which the caller has made for its response.
    """
    loaded = model.loaded
    telemetry.scored(loaded.name, loaded.version, scored.labels, scored.unknown)
    now = datetime.now(UTC)
    classes = list(loaded.classes)
    rows = inputs if inputs is not None else [None] * len(proba)
    predlog.record(
        [
            PredictionEntry(request_id, i, loaded.name, loaded.version, now, row, label, p, classes)
            for i, (row, label, p) in enumerate(zip(rows, scored.labels, proba, strict=True))
        ]
    )
