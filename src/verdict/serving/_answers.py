"""What v1 and v2 share after parsing: the 422 for rows that do not fit the schema, and the
metrics of a scored request (its rows are already logged: the micro-batch that scored them
committed them, see ``ServedModels``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from verdict.data import RowProblem
from verdict.serving._errors import MAX_DETAILS, ServiceError
from verdict.serving._schemas import ErrorDetail
from verdict.serving._served import ServedModel
from verdict.serving._telemetry import Telemetry
from verdict.serving._work import Logged, Rows, Scored

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


async def score_logged(
    model: ServedModel,
    rows: Rows,
    logged: Logged,
    telemetry: Telemetry,
    where: Callable[[RowProblem], list[str | int]],
) -> Scored:
    """Score ``rows`` (committed to the prediction log with ``logged`` before this returns),
    count them, or raise the 422 placing each problem in the body with ``where``: what every
    scoring route does after parsing."""
    scored = await model.score(replace(rows, logged=logged))
    if scored.problems:
        raise invalid_rows(scored.problems, where)
    counted(model, scored, telemetry)
    return scored


def counted(model: ServedModel, scored: Scored, telemetry: Telemetry) -> None:
    """Count a scored request's rows, classes, unknown categories and out-of-range numbers
    (its rows are already in the prediction log: the micro-batch committed them)."""
    loaded = model.loaded
    telemetry.scored(loaded.name, loaded.version, scored.labels, scored.unknown,
                     scored.out_of_range)  # fmt: skip
