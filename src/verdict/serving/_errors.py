"""Every error the service answers, in one JSON shape per API, and never a traceback.

:func:`error_response` gives a :class:`ServiceError` the shape of the API its path belongs to:
``V2ErrorResponse`` under ``/v2`` (the Open Inference Protocol's ``{"error": "..."}``),
``ErrorResponse`` everywhere else (``/v1``, ``/metrics``, unknown paths). The routes raise
``ServiceError``s, which the handlers of :func:`install_error_handlers` answer, as they answer
FastAPI's request validation errors (422) and Starlette's HTTP errors; the middlewares
(``_middleware``: key, body limit; ``_residency``: gateway secret, zone) answer their refusals
with :func:`error_response` directly, before the app sees the request. Unexpected exceptions
are caught by the request middleware, logged with the request id and answered 500 by
:func:`internal_error`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from verdict.serving._schemas import ErrorDetail, ErrorResponse, V2ErrorResponse

MAX_DETAILS = 20  # field-level problems listed in an error at most; the rest are counted
_KIND_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    421: "misdirected",
    429: "too_many",
    431: "headers_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    500: "internal",
    503: "unavailable",
}
_HTTP_FIXES = {
    400: "send the request the OpenAPI document at /openapi.json describes for this path",
    404: "check the path against the service's OpenAPI document at /openapi.json",
    405: "use the method the OpenAPI document at /openapi.json gives for this path",
}


class ServiceError(Exception):
    """An error the service answers on purpose.

    Parameters
    ----------
    status : int
        The HTTP status.
    message : str
        What was wrong, ending with "To fix: ...".
    kind : str, optional
        A stable machine-readable kind; by default derived from the status.
    details : sequence of ErrorDetail, optional
        Field-level problems (422).
    headers : dict, optional
        Extra response headers (``WWW-Authenticate`` on 401).
    more_details : int, default 0
        Problems found beyond those listed in ``details`` (which stops at
        :data:`MAX_DETAILS`, so an error never grows with the size of the request).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        kind: str | None = None,
        details: Sequence[ErrorDetail] = (),
        headers: dict[str, str] | None = None,
        more_details: int = 0,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind or _KIND_BY_STATUS.get(status, "error")
        self.details = list(details[:MAX_DETAILS])
        self.more_details = more_details + max(0, len(details) - MAX_DETAILS)
        self.headers = headers


def is_v2(path: str) -> bool:
    """Whether ``path`` belongs to an inference protocol whose errors are ``{"error": "..."}``
    with 400 for a request that cannot be scored: the Open Inference Protocol (``/v2``) and
    KServe's V1 (``/v1/models/{name}`` and its ``:predict``)."""
    if path == "/v2" or path.startswith("/v2/"):
        return True
    return path.startswith("/v1/models/") and "/" not in path[len("/v1/models/") :]


def error_response(
    path: str,
    request_id: str,
    error: ServiceError,
) -> JSONResponse:
    """The JSON response for ``error`` in the shape of the API ``path`` belongs to."""
    body: Any
    if is_v2(path):
        body = V2ErrorResponse(
            error=error.message, kind=error.kind, details=error.details,
            more_details=error.more_details, request_id=request_id,
        )  # fmt: skip
    else:
        body = ErrorResponse(
            error={
                "kind": error.kind,
                "message": error.message,
                "details": error.details,
                "more_details": error.more_details,
                "request_id": request_id,
            }
        )
    headers = {**(error.headers or {}), "X-Request-ID": request_id}
    return JSONResponse(
        body.model_dump(mode="json"), status_code=status_for(path, error.status), headers=headers
    )


def status_for(path: str, status: int) -> int:
    """The status answered on ``path``: the Open Inference Protocol answers a request it
    cannot infer on with 400 (its examples and KServe/Triton clients expect it), where
    verdict's own API distinguishes 422 (well-formed but wrong) from 400 (malformed)."""
    return 400 if status == 422 and is_v2(path) else status


def internal_error(path: str, request_id: str) -> JSONResponse:
    """The 500 answer: the request id to quote, nothing about the code."""
    error = ServiceError(
        500,
        f"The service failed to answer this request (request id {request_id}). To fix: retry; "
        "if it persists, give the request id to the service's operator, whose log has the cause.",
    )
    return error_response(path, request_id, error)


def request_id_of(request: Request) -> str:
    """The id the request middleware gave this request."""
    return getattr(request.state, "request_id", "") or "unknown"


def _validation_details(errors: Sequence[Any]) -> list[ErrorDetail]:
    details = []
    for err in errors:
        loc = [p if isinstance(p, int) else str(p) for p in err.get("loc", ())]
        kind = str(err.get("type", "invalid"))
        kind = {"missing": "missing_field", "json_invalid": "invalid_json"}.get(kind, kind)
        details.append(ErrorDetail(loc=loc, kind=kind, message=str(err.get("msg", ""))))
    return details


async def on_service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    telemetry = getattr(request.app.state, "telemetry", None)
    if telemetry is not None:
        telemetry.error(exc.kind)
    return error_response(request.url.path, request_id_of(request), exc)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    details = _validation_details(errors[:MAX_DETAILS])
    shown = "; ".join(f"{'.'.join(map(str, d.loc))}: {d.message}" for d in details[:5])
    error = ServiceError(
        422,
        f"The request body does not match the expected schema: {shown}. To fix: send the "
        "fields the OpenAPI document at /openapi.json describes for this path.",
        details=details,
        more_details=max(0, len(errors) - MAX_DETAILS),
    )
    return await on_service_error(request, error)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    fix = _HTTP_FIXES.get(status, "correct the request and retry")
    detail = exc.detail if isinstance(exc.detail, str) else "the request was refused"
    error = ServiceError(status, f"{detail}. To fix: {fix}.", headers=exc.headers)
    return await on_service_error(request, error)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers of this module on ``app``."""
    app.add_exception_handler(ServiceError, on_service_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in [
        (400, "The body is not JSON, not UTF-8 or too deep, or the zone header is ambiguous."),
        (401, "No API key, or an unknown one."),
        (403, "The API key was revoked, or the request did not come through the gateway."),
        (404, "No such model, or not that version, is served."),
        (413, "The body or the number of rows is over the limit."),
        (421, "The request's zone is strict and served only by that zone's targets."),
        (422, "A field is wrong: the details name each one."),
        (429, "Too many labels for request ids never answered are kept for the model."),
        (500, "An internal error; the log has the cause under the request id."),
        (503, "Not ready, the log could not store the answer, or the keys are stale."),
    ]
}
V2_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {**spec, "model": V2ErrorResponse}
    for status, spec in ERROR_RESPONSES.items()
    if status != 422
}
V2_ERROR_RESPONSES[400] = {
    "model": V2ErrorResponse,
    "description": "The request cannot be inferred on: malformed, or a field is wrong (the "
    "details name each one).",
}
