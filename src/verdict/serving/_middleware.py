"""The envelope of every request: its id, the API key, the body limit, metrics, one JSON log
line, and a 500 without a traceback when something unexpected fails.

The API key (``Authorization: Bearer <key>`` or ``X-API-Key: <key>``) is checked here, on every
path but liveness (``/v2/health/live``; readiness too when the settings make it public), before
the body is read: a request without a key gets 401, with an unknown key 401, with a revoked key
403, whatever its body or path. ``TargetHeader`` tags every response with the target.

A plain ASGI middleware (no ``BaseHTTPMiddleware``: it costs a task per request). The request
id is always the service's own, a fresh ``uuid4().hex`` (prefixed ``<target>:`` in a
deployment, so that feedback reaching another target knows where it belongs), stored in
``request.state.request_id`` and returned in the ``X-Request-ID`` header: it is unique, so
feedback and the prediction log can rely on it. A client's own ``X-Request-ID`` (1-128
characters of letters, digits and ``._:-``) is kept beside it, never instead: in
``request.state.client_request_id``, echoed in ``X-Client-Request-ID``, logged with the
prediction and in the access log.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from verdict.serving._errors import ServiceError, error_response, internal_error
from verdict.serving._limits import read_body, replay
from verdict.serving._telemetry import Telemetry
from verdict.state import KeyStore

access_log = logging.getLogger("verdict.serving.access")
error_log = logging.getLogger("verdict.serving.errors")
_GOOD_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
OPEN_PATHS = frozenset({"/v2/health/live"})
READY_PATH = "/v2/health/ready"  # opened too with ``public_readiness``


def open_paths(public_readiness: bool) -> frozenset[str]:
    """The paths answered without an API key."""
    return (OPEN_PATHS | {READY_PATH}) if public_readiness else OPEN_PATHS


def client_id(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The client's own X-Request-ID if usable, else None."""
    for key, value in headers:
        if key == b"x-request-id":
            text = value.decode("latin-1")
            return text if _GOOD_ID.match(text) else None
    return None


def client_request_id(request: Any) -> str | None:
    """The client's own X-Request-ID of a request the middleware saw (or None)."""
    return getattr(request.state, "client_request_id", None)


def token_of(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The API key sent as a bearer token or in X-API-Key, or None."""
    token = None
    for key, value in headers:
        if key == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and credentials.strip():
                return credentials.strip()
        elif key == b"x-api-key":
            token = value.decode("latin-1").strip() or None
    return token


def authenticate(
    keys: KeyStore | None,
    headers: list[tuple[bytes, bytes]],
    max_staleness: float | None = None,
) -> ServiceError | None:
    """None if the request carries a valid key, else the 401, 403 or 503 error to answer.

    With ``max_staleness`` (seconds), a key that is valid or unknown here is refused with 503
    ``keys_stale`` once the keys were last synced from the center longer ago than that: a key
    revoked (or created) centrally since then may not be known here.
    """
    if keys is None:  # the lifespan has not run (or failed): nothing can be checked
        return ServiceError(
            503, "The service is not started. To fix: wait for it to start, then retry."
        )
    check = keys.check(token_of(headers))
    if max_staleness is not None and check.status in ("valid", "unknown"):
        stale = _stale(keys, max_staleness)
        if stale is not None:
            return stale
    if check.status == "valid":
        return None
    if check.status == "revoked":
        return ServiceError(
            403,
            f"The API key {check.key_id} was revoked. To fix: ask the service's operator for a "
            "new key (`verdict keys create NAME`).",
            kind="forbidden",
        )
    said = "No API key was sent" if check.status == "missing" else "The API key is not valid"
    return ServiceError(
        401,
        f"{said}. To fix: send a key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>' "
        "(the operator creates them with `verdict keys create NAME`).",
        kind="unauthorized",
        headers={"WWW-Authenticate": "Bearer"},
    )


def _stale(keys: KeyStore, bound: float) -> ServiceError | None:
    """The 503 for keys last synced more than ``bound`` seconds ago (or never), else None."""
    age = keys.synced_age()
    if age is not None and age <= bound:
        return None
    heard = "has never heard" if age is None else f"has not heard for {age:.0f} s"
    return ServiceError(
        503,
        f"This target {heard} from the center's key list (the bound is {bound:g} s), so a "
        "key revoked there might still open it. To fix: restore the target's link to the "
        "center (`verdict deploy chaos --restore-link TARGET`, or see `verdict deploy "
        "status`); meanwhile send the request to another target.",
        kind="keys_stale",
        headers={"Retry-After": "5"},
    )


class RequestMiddleware:
    """Request id, API key, body limit, telemetry, access log and the last error handler.

    With ``auth``, keys are checked against ``app.state.keys`` (set by the lifespan) on every
    path but ``unlocked``.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        telemetry: Telemetry,
        auth: bool,
        unlocked: frozenset[str] = OPEN_PATHS,
        target: str | None = None,
    ) -> None:
        self.app = app
        self.prefix = f"{target}:" if target else ""  # ids say which target answered
        self.max_body_bytes = max_body_bytes
        self.telemetry = telemetry
        self.auth = auth
        self.unlocked = unlocked

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid, theirs = self.prefix + uuid.uuid4().hex, client_id(scope["headers"])
        state = scope.setdefault("state", {})
        state["request_id"], state["client_request_id"] = rid, theirs
        status = {"code": 500, "sent": False}
        added = [(b"x-request-id", rid.encode("latin-1"))]
        if theirs is not None:
            added.append((b"x-client-request-id", theirs.encode("latin-1")))
        names = {name for name, _ in added}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["sent"] = message["status"], True
                kept = [h for h in message.get("headers", []) if h[0].lower() not in names]
                message["headers"] = [*kept, *added]  # once, even if a handler set them too
            await send(message)

        self.telemetry.in_flight.inc()
        try:
            await self._answer(scope, receive, send_with_id, send, rid, status)
        finally:
            self.telemetry.in_flight.dec()
            self._record(scope, rid, theirs, status["code"], time.perf_counter() - started)

    async def _answer(
        self, scope: Scope, receive: Receive, send_with_id: Send, send: Send, rid: str, status: dict
    ) -> None:
        path = scope["path"]
        try:
            if self.auth and path not in self.unlocked:
                app_state = scope["app"].state
                settings = getattr(app_state, "settings", None)
                bound = getattr(settings, "keys_max_staleness_seconds", None)
                refused = authenticate(app_state.keys, scope["headers"], bound)
                if refused is not None:
                    raise refused
            body = await read_body(scope["method"], scope["headers"], receive, self.max_body_bytes)
            if body is not None:
                receive = replay(body, receive)
            await self.app(scope, receive, send_with_id)
        except ServiceError as exc:  # raised here (401, 403, 413), before any route ran
            self.telemetry.error(exc.kind)
            status["code"] = exc.status
            await error_response(path, rid, exc)(scope, receive, send)
        except Exception:
            error_log.exception("internal error answering request %s (%s)", rid, path)
            self.telemetry.error("internal")
            if status["sent"]:
                raise  # the response has begun: nothing valid can be sent any more
            status["code"] = 500
            await internal_error(path, rid)(scope, receive, send)

    def _record(
        self, scope: Scope, rid: str, theirs: str | None, code: int, seconds: float
    ) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        self.telemetry.request(template, scope["method"], code, seconds)
        if access_log.isEnabledFor(logging.INFO):
            line: dict[str, Any] = {
                "request_id": rid,
                "method": scope["method"],
                "path": scope["path"],
                "route": template,
                "status": code,
                "ms": round(seconds * 1000, 3),
            }
            model = scope.get("path_params", {}).get("name")
            if model is not None:
                line["model"] = model
            if theirs is not None:
                line["client_request_id"] = theirs
            access_log.info(json.dumps(line, separators=(",", ":")))


class TargetHeader:
    """Adds ``X-Verdict-Target`` to every HTTP response: added last, so it is the outermost
    middleware and even CORS preflights and the middleware's own errors carry it."""

    def __init__(self, app: ASGIApp, *, target: str) -> None:
        self.app = app
        self.header = (b"x-verdict-target", target.encode("latin-1"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_target(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.header]
            await send(message)

        await self.app(scope, receive, send_with_target)


class HeadersWithBody:
    """Holds a response's headers until its first body chunk, then sends both back to back.

    The outermost layer: handlers and middleware may await between the two messages, and a
    busy event loop then leaves headers on the wire with no body for milliseconds. A replica
    killed in that gap leaves the gateway with a response it has started forwarding and can no
    longer retry elsewhere; sent together, a killed replica has sent nothing, or everything.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def send_together(message: Message) -> None:
            if message["type"] == "http.response.start":
                held.append(message)
                return
            if held:
                await send(held.pop())
            await send(message)

        await self.app(scope, receive, send_together)
        if held:  # a response that ended without a body message
            await send(held.pop())
