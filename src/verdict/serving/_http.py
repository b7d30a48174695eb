"""The HTTP/1.1 connection under the service: uvicorn's httptools protocol with its doors shut.

uvicorn holds a connection for as long as its client takes to send the request head, and
buffers a head of any size (httptools even joins a long header value by repeated
concatenation). :class:`GuardedHttpToolsProtocol` closes both doors below ASGI:

- **Header deadline.** A request head (request line and headers) must arrive complete within
  ``header_timeout_seconds`` of its first byte, or of the connection's opening for the first
  request. The deadline is absolute: a client trickling one byte a second is cut at it like
  one that stalls. A client that sent part of a head gets ``408``; one that sent nothing is
  closed silently. Between requests uvicorn's keep-alive timeout (5 s) closes idle
  connections, and the deadline starts again with the next request's first byte. One sweep
  per server enforces every connection's clock (every quarter of the deadline, at most every
  0.5 s), so a request costs a clock read rather than a timer.
- **Head limits.** A head over ``max_header_bytes`` or with more than ``max_headers`` fields
  gets ``431`` and the connection is closed. Bytes are counted before the parser sees them and
  at most ``max_header_bytes`` of a head are fed to it (a head pipelined behind a body, inside
  one read, is counted as parsed instead), so a 100 MiB header costs what a 64 KiB one does.

Refusals carry the service's error shape (``ErrorResponse``) and ``Connection: close``; the
connection then stops reading requests, half-closes, discards what the client still sends for
at most ``LINGER_SECONDS`` (so the client reads the answer instead of a reset) and closes.
:func:`guarded_protocol` gives what ``uvicorn.Config(http=...)`` takes.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from verdict.serving._schemas import ErrorBody, ErrorResponse

__all__ = ["GuardedHttpToolsProtocol", "HeadLimits", "guarded_protocol"]

access_log = logging.getLogger("verdict.serving.access")
LINGER_SECONDS = 2.0  # how long a refused client may keep sending before the socket closes
_FIELD_OVERHEAD = 3  # ":" and CRLF at least: the parsed size never exceeds the raw one


@dataclass(frozen=True)
class HeadLimits:
    """How long and how large a request head may be.

    Attributes
    ----------
    timeout_seconds : float
        A head must be complete this long after its first byte (``header_timeout_seconds``).
    max_bytes : int
        The request line and headers together, at most (``max_header_bytes``).
    max_count : int
        Header fields per request, at most (``max_headers``).
    target : str or None
        Sent as ``X-Verdict-Target`` on refusals, like every other response of the service.
    """

    timeout_seconds: float = 10.0
    max_bytes: int = 64 * 1024
    max_count: int = 100
    target: str | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> HeadLimits:
        """The limits a :class:`~verdict.serving._settings.ServiceSettings` names."""
        return cls(
            timeout_seconds=settings.header_timeout_seconds,
            max_bytes=settings.max_header_bytes,
            max_count=settings.max_headers,
            target=settings.target,
        )


def guarded_protocol(limits: HeadLimits) -> Callable[..., asyncio.Protocol]:
    """What ``uvicorn.Config(http=...)`` takes: the guarded protocol bound to ``limits``.

    A ``functools.partial`` of a module-level class, so it pickles to ``--workers`` processes.
    """
    return functools.partial(GuardedHttpToolsProtocol, limits=limits)


class _HeadRefusedError(Exception):
    """Raised inside a parser callback to stop parsing a head that is over a limit."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header deadline and head limits (module docstring).

    Parameters
    ----------
    config, server_state, app_state, _loop
        As uvicorn passes them to every HTTP protocol.
    limits : HeadLimits
        The deadline and the size limits of a request head.
    """

    def __init__(
        self,
        config: Any,
        server_state: Any,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: HeadLimits | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = limits or HeadLimits()
        self._in_head = True  # the next byte read belongs to a request head
        self._head_started = False  # a byte of the current request arrived
        self._head_bytes = 0  # bytes of the current head fed to the parser
        self._head_seen = 0  # the same, as the parser reported them (url, names, values)
        self._head_fields = 0
        self._heads = 0  # messages completed: tells whether a new head began inside a feed
        self._head_since: float | None = None  # when the pending head's clock started
        self._refusal: tuple[int, str, str] | None = None
        self._refused = False  # answered with an error: nothing more is parsed

    # -- connection --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_deadline()  # the first head's clock starts at the connection

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # what the client still sends is read and dropped
        self._unset_keepalive_if_required()
        rest = memoryview(data)
        while rest and not self.transport.is_closing():
            if self._in_head:
                self._arm_deadline()
                room = self.limits.max_bytes - self._head_bytes
                piece, rest = rest[:room], rest[room:]
            else:
                piece, rest = rest, rest[:0]
            heads, in_head = self._heads, self._in_head
            if not self._feed(piece):
                return
            if in_head and self._in_head and heads == self._heads:
                self._head_bytes += len(piece)
            if self._in_head and self._head_bytes >= self.limits.max_bytes:
                self._refuse(*self._too_large())  # the parser holds max_bytes and wants more
                return

    def _feed(self, piece: memoryview) -> bool:
        """Parse ``piece``; False when the connection must not be read further."""
        try:
            self.parser.feed_data(piece)
        except httptools.HttpParserUpgrade:
            self._cancel_deadline()
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return False
        except httptools.HttpParserError:
            if self._refusal is not None:
                self._refuse(*self._refusal)
            else:
                self.logger.warning("Invalid HTTP request received.")
                self.send_400_response("Invalid HTTP request received.")
            return False
        return True

    # -- parser callbacks --------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_started = True
        self._head_seen = 0
        self._head_fields = 0
        self._arm_deadline()  # a pipelined head may begin after a body, inside one read

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_fields += 1
        if self._head_fields > self.limits.max_count:
            self._refusal = self._too_large()
            raise _HeadRefusedError
        self._count(len(name) + len(value) + _FIELD_OVERHEAD)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._cancel_deadline()
        cycle = self.cycle
        super().on_headers_complete()
        if self.cycle is not None and self.cycle is not cycle:
            _write_head_with_body(self.cycle)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True
        self._head_started = False
        self._head_bytes = 0
        self._heads += 1

    def _count(self, size: int) -> None:
        """Add to the head's size as parsed: catches a pipelined head that began mid-read."""
        self._head_seen += size
        if self._head_seen > self.limits.max_bytes:
            self._refusal = self._too_large()
            raise _HeadRefusedError

    # -- the deadline ------------------------------------------------------------------

    def _arm_deadline(self) -> None:
        """Start the pending head's clock (once); one sweep per server enforces every clock,
        so a request costs a clock read, not a timer."""
        if self._head_since is None:
            self._head_since = self.loop.time()
            _ensure_sweep(self.server_state, self.loop, self.limits.timeout_seconds)

    def _cancel_deadline(self) -> None:
        self._head_since = None

    def overdue(self, now: float) -> bool:
        """Whether the pending head has been arriving for longer than the deadline."""
        since = self._head_since
        return since is not None and now - since >= self.limits.timeout_seconds

    def _on_deadline(self) -> None:
        self._head_since = None
        if self.transport.is_closing() or not self._in_head:
            return
        if not self._head_started:
            self.transport.close()  # nothing of a request arrived: nobody to answer
            return
        seconds = f"{self.limits.timeout_seconds:g}"
        self._refuse(
            408,
            "header_timeout",
            f"The request headers did not arrive complete within {seconds} s. To fix: send the "
            "whole request line and headers at once, or raise the server's "
            "VERDICT_HEADER_TIMEOUT_SECONDS (verdict serve --header-timeout).",
        )

    # -- refusing ----------------------------------------------------------------------

    def _too_large(self) -> tuple[int, str, str]:
        most = self.limits
        return (
            431,
            "headers_too_large",
            f"The request headers are too large: at most {most.max_bytes} bytes for the request "
            f"line and headers together and {most.max_count} header fields are accepted. To "
            "fix: send fewer or shorter headers (data belongs in the body).",
        )

    def _refuse(self, status: int, kind: str, message: str) -> None:
        """Answer ``status`` in the service's error shape, then stop reading and close."""
        self._cancel_deadline()
        self._refused = True
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined head went wrong while an earlier response is being written: that
            # response ends the connection; nothing is answered out of turn.
            self.cycle.keep_alive = False
            return
        rid = uuid.uuid4().hex  # like every request id the service gives: its own
        body = ErrorResponse(
            error=ErrorBody(kind=kind, message=message, request_id=rid)
        ).model_dump_json()
        self.transport.write(self._head_of(status, len(body), rid) + body.encode())
        self._log(status, kind, rid)
        self._linger()

    def _head_of(self, status: int, length: int, rid: str) -> bytes:
        lines = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            lines.append(name + b": " + value + b"\r\n")
        lines.append(b"content-type: application/json\r\n")
        lines.append(b"content-length: %d\r\n" % length)
        lines.append(b"connection: close\r\n")
        lines.append(b"x-request-id: " + rid.encode("latin-1") + b"\r\n")
        if self.limits.target:
            lines.append(b"x-verdict-target: " + self.limits.target.encode("latin-1") + b"\r\n")
        return b"".join(lines) + b"\r\n"

    def _linger(self) -> None:
        """Half-close, drop what still arrives for a moment, then close (a lingering close)."""
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self.flow.resume_reading()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def _log(self, status: int, kind: str, rid: str) -> None:
        if access_log.isEnabledFor(logging.INFO):
            client = f"{self.client[0]}:{self.client[1]}" if self.client else None
            line = {"request_id": rid, "status": status, "kind": kind, "client": client}
            access_log.info(json.dumps(line, separators=(",", ":")))


class _HeadWithBody:
    """The transport a request's cycle writes to, writing the response head (status line and
    headers) with the first body bytes in one call: one write (one system call, one packet)
    per small response instead of two. The head is never held past the body's first bytes,
    the end of the response or a close."""

    __slots__ = ("_cycle", "_head", "_stage", "_transport")

    def __init__(self, transport: asyncio.Transport, cycle: Any) -> None:
        self._transport, self._cycle = transport, cycle
        self._head = b""
        self._stage = 0  # 0: no head yet, 1: the head is held, 2: written

    def write(self, data: bytes) -> None:
        if self._stage == 1:
            self._stage = 2
            self._transport.write(self._head + data)
            self._head = b""
        elif self._stage == 0 and self._cycle.response_started:
            self._stage, self._head = 1, bytes(data)  # the head: the first write of a response
        else:
            self._transport.write(data)  # "100 Continue" before the response, or the rest

    def flush(self) -> None:
        if self._stage == 1:
            self._stage = 2
            self._transport.write(self._head)
            self._head = b""

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _write_head_with_body(cycle: Any) -> None:
    """Have ``cycle`` (uvicorn's ``RequestResponseCycle``) write its response head together
    with the first body bytes (``_HeadWithBody``)."""
    joined = _HeadWithBody(cycle.transport, cycle)
    done = cycle.on_response

    def on_response() -> None:
        joined.flush()
        done()

    cycle.transport, cycle.on_response = joined, on_response


def _ensure_sweep(server_state: Any, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
    """Start, once per server, the sweep that cuts every overdue head: it looks at each open
    connection every quarter of the deadline (at most every 0.5 s), so a head is cut between
    the deadline and a quarter of it later."""
    if getattr(server_state, "_verdict_head_sweep", False):
        return
    server_state._verdict_head_sweep = True
    every = min(0.5, timeout / 4)

    def sweep() -> None:
        now = loop.time()
        for connection in list(server_state.connections):
            if isinstance(connection, GuardedHttpToolsProtocol) and connection.overdue(now):
                connection._on_deadline()
        loop.call_later(every, sweep)

    loop.call_later(every, sweep)
