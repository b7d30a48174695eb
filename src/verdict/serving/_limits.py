"""Request limits: the body size (413, whether announced by Content-Length or sent chunked) and
the number of rows per request (413).

The body limit is enforced before any JSON is parsed: a Content-Length over the limit is refused
without reading the body, and a chunked body is read up to the limit and refused as soon as it
goes over. The body read is then handed on to the route unchanged.
"""

from __future__ import annotations

from starlette.types import Message, Receive

from verdict.serving._errors import ServiceError

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def too_large(what: str, got: int, limit: int, setting: str) -> ServiceError:
    """The 413 error for ``got`` over ``limit``, naming the setting that raises it."""
    return ServiceError(
        413,
        f"The {what} is over the limit: {got:,} where at most {limit:,} are accepted. To fix: "
        f"split the request into smaller ones, or raise the limit (VERDICT_{setting.upper()}).",
        kind="too_large",
    )


def check_rows_limit(n_rows: int, limit: int) -> None:
    """Raise the 413 error if a request holds more than ``limit`` rows."""
    if n_rows > limit:
        raise too_large("number of rows in the request", n_rows, limit, "max_rows")


def declared_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The Content-Length header's value, or None if absent or malformed."""
    for key, value in headers:
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def read_body(method: str, headers: list, receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or raise the 413 error once it exceeds ``limit`` bytes.

    Returns None for methods without a body (nothing is read then).
    """
    if method not in _BODY_METHODS:
        return None
    length = declared_length(headers)
    if length is not None and length > limit:
        raise too_large("request body (bytes)", length, limit, "max_body_bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large("request body (bytes)", size, limit, "max_body_bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields ``body`` once, then defers to the real one (disconnects)."""
    sent = False

    async def receive_again() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive_again
