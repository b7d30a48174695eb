"""What v1 and v2 share after parsing: the 422 for rows that do not fit the schema, and the
bookkeeping of a scored request (the prediction log, group-committed before the answer, and
metrics).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import chain
from operator import methodcaller
from typing import Any

from verdict.data._rows import RowProblem
from verdict.serving._errors import MAX_DETAILS, ServiceError
from verdict.serving._predlog import LogUnavailableError, PredictionBatch, PredictionLog
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
    "invalid_text": "send valid Unicode text",
}


def invalid_rows(
    problems: Sequence[RowProblem], where: Callable[[RowProblem], list[str | int]]
) -> ServiceError:
    """The 422 error listing the first problems at their place in the body (``where(problem)``)
    and counting the rest, so that the answer stays small whatever the request's size."""
    listed = problems[:MAX_DETAILS]
    details = [ErrorDetail(loc=where(p), kind=p.kind, message=str(p)) for p in listed]
    n = len(problems)
    shown = "; ".join(d.message for d in details[:SHOWN])
    more = f"; and {n - SHOWN:,} more" if n > SHOWN else ""
    kinds = dict.fromkeys(p.kind for p in problems)
    fixes = "; ".join(_FIX.get(k, "correct the values") for k in kinds)
    return ServiceError(
        422,
        f"{n:,} value{'s' if n > 1 else ''} cannot be scored: {shown}{more}. To fix: {fixes}.",
        kind="invalid_rows",
        details=details,
        more_details=n - len(details),
    )


async def record(
    model: ServedModel,
    scored: Scored,
    request_id: str,
    inputs: Mapping[str, list[Any]] | Sequence[Mapping[str, Any]] | None,
    predlog: PredictionLog,
    telemetry: Telemetry,
    client_request_id: str | None = None,
) -> None:
    """Log the request's rows as one batch and count them; returns once they are committed.

    ``inputs`` are the features as columns (feature -> one value per row, e.g.
    ``Rows.columns``; cheapest), as records (one mapping per row) or None when not logged.
    The probabilities are taken from ``scored`` (the log keeps the array itself).

    Raises
    ------
    ServiceError
        503 when the log could not commit the rows: a prediction is answered only once logged.
    """
    loaded = model.loaded
    columns = _columns(inputs) if inputs is not None else None
    batch = PredictionBatch(request_id, loaded.name, loaded.version, datetime.now(UTC), columns,
                            scored.labels, scored.proba, list(loaded.classes),
                            client_request_id)  # fmt: skip
    try:
        await predlog.commit([batch])
    except LogUnavailableError as exc:
        raise ServiceError(503, str(exc), kind="log_unavailable") from None
    telemetry.scored(loaded.name, loaded.version, scored.labels, scored.unknown,
                     scored.out_of_range)  # fmt: skip


def _columns(inputs: Mapping[str, list[Any]] | Sequence[Mapping[str, Any]]) -> dict[str, list]:
    """The inputs as columns; records become one list per key (None where a row lacks it)."""
    if isinstance(inputs, Mapping):
        return dict(inputs)
    names = dict.fromkeys(chain.from_iterable(inputs))
    return {name: list(map(methodcaller("get", name), inputs)) for name in names}
