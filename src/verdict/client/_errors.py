"""Every failure of a request as one :class:`verdict.errors.ServiceError`, never an httpx one.

The service answers errors in one JSON shape per API: ``{"error": {"kind", "message",
"details", "request_id"}}`` outside ``/v2``, ``{"error": "<message>", "kind", "details",
"request_id"}`` under it (HAProxy gateways answer in the first shape too). Both become a
``ServiceError`` carrying the status, kind, message, details, request id and answering target.
An answer in neither shape (a proxy's HTML page, say) keeps its status and a short excerpt;
a request that got no HTTP answer at all (refused, timed out, TLS failed) has ``status`` None.
"""

from __future__ import annotations

from typing import Any

import httpx

from verdict.client._answers import TARGET_HEADER
from verdict.errors import ServiceError

_EXCERPT = 200  # characters of an answer that is not the service's JSON
_KIND_BY_STATUS = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    413: "too_large", 421: "misdirected", 422: "invalid", 429: "too_many",
    500: "internal", 502: "bad_gateway", 503: "unavailable", 504: "gateway_timeout",
}  # fmt: skip


def refusal(reply: httpx.Response) -> ServiceError:
    """The error for a non-2xx ``reply``, with the service's own words where it sent them."""
    status = reply.status_code
    fields = _error_fields(_json(reply))
    request_id = fields.get("request_id") or reply.headers.get("X-Request-ID")
    kind = fields.get("kind") or _KIND_BY_STATUS.get(status, "error")
    message = fields.get("message")
    if not message:
        excerpt = " ".join(reply.text.split())[:_EXCERPT] or "an empty body"
        message = (
            f"The answer is not the service's error JSON: {excerpt!r}. To fix: check that "
            f"{_origin(reply.request)} is a verdict service (or its gateway) and read its log."
        )
    where = f"{reply.request.method} {reply.request.url}"
    said = f"request id {request_id}: " if request_id else ""
    return ServiceError(
        f"{where} answered HTTP {status} ({kind}); {said}{message}",
        status=status, kind=kind, message=message, details=fields.get("details"),
        request_id=request_id, target=reply.headers.get(TARGET_HEADER),
    )  # fmt: skip


def bad_answer(reply: httpx.Response, problem: str) -> ServiceError:
    """A 2xx answer this client cannot read (not the body the service's API promises)."""
    return ServiceError(
        f"{reply.request.method} {reply.request.url} answered HTTP {reply.status_code} with "
        f"a body this client cannot read ({problem}). To fix: check that "
        f"{_origin(reply.request)} is a verdict service of a matching version.",
        status=reply.status_code, kind="bad_answer",
        request_id=reply.headers.get("X-Request-ID"), target=reply.headers.get(TARGET_HEADER),
    )  # fmt: skip


def unreached(
    exc: httpx.TransportError, method: str, url: str, timeout: float | None
) -> ServiceError:
    """The error for a request that got no HTTP answer."""
    where = f"{method} {url}"
    if isinstance(exc, httpx.TimeoutException):
        kind = "timeout"
        text = (
            f"{where} got no answer {_within(timeout)} ({type(exc).__name__}). To fix: check "
            "that the service is up and not overloaded, or give the Client a longer timeout."
        )
    elif isinstance(exc, httpx.ConnectError) and _is_tls(exc):
        kind = "tls"
        text = (
            f"{where}: the TLS handshake failed ({exc}). To fix: pass verify= the CA "
            "certificate the service presents (a local deployment's gateway: its ca.pem), or "
            "use http:// for a service without TLS."
        )
    elif isinstance(exc, httpx.ConnectError):
        kind = "unreachable"
        text = (
            f"{where}: could not connect ({exc}). To fix: start the service (`verdict serve`, "
            "or `verdict deploy up`), or correct the URL and port given to the Client."
        )
    else:
        kind = "transport"
        text = (
            f"{where}: the connection broke before an answer came ({type(exc).__name__}: "
            f"{exc}). To fix: retry; if it persists, read the service's log."
        )
    return ServiceError(text, kind=kind)


def _within(timeout: float | None) -> str:
    return f"within {timeout:g} s" if timeout is not None else "in time"


def _json(reply: httpx.Response) -> Any:
    try:
        return reply.json()
    except ValueError:
        return None


def _error_fields(body: Any) -> dict[str, Any]:
    """kind, message, details and request_id from either error shape (empty if neither)."""
    if not isinstance(body, dict):
        return {}
    error = body.get("error")
    if isinstance(error, dict):  # verdict's shape
        found = error
    elif isinstance(error, str):  # the Open Inference Protocol's, with siblings
        found = {**body, "message": error}
    else:
        return {}
    details = found.get("details")
    return {
        "kind": _text(found.get("kind")),
        "message": _text(found.get("message")),
        "details": [d for d in details if isinstance(d, dict)] if isinstance(details, list) else [],
        "request_id": _text(found.get("request_id")),
    }


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _is_tls(exc: Exception) -> bool:
    text = str(exc).upper()
    return "SSL" in text or "CERTIFICATE" in text or "TLS" in text


def _origin(request: httpx.Request) -> str:
    url = request.url
    return f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}"
