"""What v1 and v2 share after parsing: the 422 for rows that do not fit the schema, and the
bookkeeping of a scored request (metrics and the prediction log), done without waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import chain
from operator import methodcaller
from typing import Any

from verdict.data._rows import RowProblem
from verdict.serving._errors import ServiceError
from verdict.serving._predlog import PredictionBatch, PredictionLog
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
    request_id: str,
    inputs: Mapping[str, list[Any]] | Sequence[Mapping[str, Any]] | None,
    predlog: PredictionLog,
    telemetry: Telemetry,
) -> None:
    """Count the request's rows and queue them for the prediction log as one batch (never
    blocks).

    ``inputs`` are the features as columns (feature -> one value per row, e.g.
    ``Rows.columns``; cheapest), as records (one mapping per row) or None when not logged.
    The probabilities are taken from ``scored`` (the log keeps the array itself).
    """
    loaded = model.loaded
    telemetry.scored(loaded.name, loaded.version, scored.labels, scored.unknown)
    columns = _columns(inputs) if inputs is not None else None
    predlog.record(
        [PredictionBatch(request_id, loaded.name, loaded.version, datetime.now(UTC), columns,
                         scored.labels, scored.proba, list(loaded.classes))]
    )  # fmt: skip


def _columns(inputs: Mapping[str, list[Any]] | Sequence[Mapping[str, Any]]) -> dict[str, list]:
    """The inputs as columns; records become one list per key (None where a row lacks it)."""
    if isinstance(inputs, Mapping):
        return dict(inputs)
    names = dict.fromkeys(chain.from_iterable(inputs))
    return {name: list(map(methodcaller("get", name), inputs)) for name in names}
