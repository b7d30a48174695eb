"""Closed doors, against a real ``verdict serve`` process on 127.0.0.1 and raw sockets.

A client that never finishes its request head is cut at the header deadline (absolute, even
when it trickles a byte at a time) while other clients are answered; a head over 64 KiB or with
more than 100 fields gets 431 at once without being buffered; ordinary requests and keep-alive
reuse are untouched; and ``verdict serve`` and ``python -m verdict.serving`` refuse to start on
an altered artifact.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from process_support import ROW, Service, penguins_home, service

from verdict.registry import Registry

pytestmark = pytest.mark.slow  # real `verdict serve` processes, waiting out header deadlines

TIMEOUT = 1.5  # the header deadline these servers run with (VERDICT_HEADER_TIMEOUT_SECONDS)
SLACK = 1.5  # scheduling slack on a busy machine


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """A VERDICT_HOME with penguins@production and an API key in its state database."""
    return penguins_home(tmp_path_factory.mktemp("doors") / "home")


@pytest.fixture(scope="module")
def server(home) -> Iterator[Service]:
    with service(home, VERDICT_HEADER_TIMEOUT_SECONDS=str(TIMEOUT)) as running:
        yield running


def _read_to_close(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def _answer(raw: bytes) -> tuple[int, dict[str, str], dict]:
    """Status, headers and JSON body of one HTTP response."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, json.loads(body)


def _live_request(extra: bytes = b"", close: bool = True) -> bytes:
    connection = b"Connection: close\r\n" if close else b""
    return b"GET /v2/health/live HTTP/1.1\r\nHost: t\r\n" + extra + connection + b"\r\n"


def test_a_stalled_head_is_closed_at_the_deadline_while_others_are_served(server):
    stalled = [server.connect() for _ in range(20)]
    silent = server.connect()  # never sends a byte
    started = time.monotonic()
    for sock in stalled:
        sock.sendall(b"POST /v1/models/penguins/predict HTTP/1.1\r\nHost: t\r\nX-Half")
    answered = 0
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=5) as client:
        while time.monotonic() - started < TIMEOUT * 0.8:
            answered += client.get("/v2/health/live").status_code == 200
    assert answered >= 5  # served meanwhile

    raw = _read_to_close(stalled[0])
    elapsed = time.monotonic() - started
    assert TIMEOUT - 0.2 <= elapsed <= TIMEOUT + SLACK
    status, headers, body = _answer(raw)
    assert status == 408 and headers["connection"] == "close"
    assert body["error"]["kind"] == "header_timeout" and "To fix:" in body["error"]["message"]
    for sock in stalled[1:]:
        assert _read_to_close(sock).startswith(b"HTTP/1.1 408")
    assert _read_to_close(silent) == b""  # nothing asked, nothing answered: just closed
    assert time.monotonic() - started <= TIMEOUT + SLACK
    for sock in [*stalled, silent]:
        sock.close()


def test_a_slowloris_is_cut_at_the_deadline_not_after_its_last_byte(server):
    head = _live_request(b"X-Slow: " + b"a" * 200 + b"\r\n")
    sock = server.connect()
    started = time.monotonic()
    sent = 0
    while True:
        readable, _, _ = select.select([sock], [], [], 0.3)
        if readable:
            break
        sock.send(head[sent : sent + 1])  # a byte every 0.3 s: each byte would reset a timer
        sent += 1
    closed_after = time.monotonic() - started
    raw = _read_to_close(sock)
    sock.close()
    assert raw.startswith(b"HTTP/1.1 408")
    assert TIMEOUT - 0.2 <= closed_after <= TIMEOUT + SLACK
    assert sent < len(head)


def _send_in_background(sock: socket.socket, data: bytes) -> threading.Thread:
    def push() -> None:
        with contextlib.suppress(OSError):  # the server closed after answering, as intended
            sock.sendall(data)

    thread = threading.Thread(target=push, daemon=True)
    thread.start()
    return thread


def test_a_one_mebibyte_header_gets_431_at_once(server):
    sock = server.connect()
    started = time.monotonic()
    pushing = _send_in_background(sock, _live_request(b"X-Big: " + b"a" * (1 << 20) + b"\r\n"))
    raw = _read_to_close(sock)
    elapsed = time.monotonic() - started
    pushing.join(timeout=10)
    sock.close()
    status, headers, body = _answer(raw)
    assert status == 431 and headers["connection"] == "close"
    assert headers["content-type"] == "application/json"
    error = body["error"]
    assert error["kind"] == "headers_too_large" and error["details"] == []
    assert "65536 bytes" in error["message"] and "To fix:" in error["message"]
    assert error["request_id"] == headers["x-request-id"]
    assert elapsed < 1.0 + SLACK


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_a_huge_header_is_refused_without_being_buffered(server):
    size = 64 << 20
    before = server.memory_kib()[1]
    sock = server.connect()
    pushing = _send_in_background(sock, _live_request(b"X-Huge: " + b"a" * size + b"\r\n"))
    raw = _read_to_close(sock)
    pushing.join(timeout=30)
    sock.close()
    assert raw.startswith(b"HTTP/1.1 431")
    grown = (server.memory_kib()[1] - before) * 1024
    assert grown < size / 8, f"the server's peak memory grew by {grown >> 20} MiB"


def test_more_than_100_headers_get_431_and_100_pass(server):
    fields = b"".join(b"X-Field-%d: v\r\n" % i for i in range(98))  # + Host + Connection
    sock = server.connect()
    sock.sendall(_live_request(fields))
    assert _read_to_close(sock).startswith(b"HTTP/1.1 200")
    sock.close()
    sock = server.connect()
    sock.sendall(_live_request(fields + b"X-One-Too-Many: v\r\n"))
    status, _, body = _answer(_read_to_close(sock))
    sock.close()
    assert status == 431 and body["error"]["kind"] == "headers_too_large"
    assert "100 header fields" in body["error"]["message"]


def test_ordinary_requests_and_keep_alive_reuse_still_work(server):
    headers = {"Authorization": f"Bearer {server.token}", "User-Agent": "x" * 4000}
    headers |= {f"X-Ordinary-{i}": "value" for i in range(40)}
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", headers=headers) as client:
        answer = client.post("/v1/models/penguins/predict", json={"instances": [ROW]})
        assert answer.status_code == 200, answer.text
        assert client.get("/v2/health/ready").status_code == 200
    sock = server.connect()  # one connection, idle longer than the header deadline between
    ready = b"GET /v2/health/ready HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n\r\n"
    for _ in range(3):
        sock.sendall(ready % server.token.encode())
        answer = b""
        while b'"ready"' not in answer:
            chunk = sock.recv(65536)
            assert chunk, "the server closed a keep-alive connection between requests"
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200")
        time.sleep(TIMEOUT + 0.3)  # idle: uvicorn's keep-alive (5 s) applies, not the deadline
    sock.close()


@pytest.mark.parametrize(
    "entry", [("verdict.cli", "serve"), ("verdict.serving",)], ids=["cli", "serving"]
)
def test_serve_refuses_an_altered_artifact_before_saying_it_serves(home, tmp_path, entry):
    copy = tmp_path / "home"
    shutil.copytree(home, copy)
    with Registry(home=copy) as registry:
        version = registry.get("penguins@production")
        stored = Path(registry.store.location(version.artifacts["model.skops"]["sha256"]))
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0x01
    stored.write_bytes(bytes(data))
    env = {**os.environ, "VERDICT_HOME": str(copy), "COLUMNS": "400"}
    result = subprocess.run(
        [sys.executable, "-m", *entry, "--port", "0"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "serving on" not in result.stdout
    message = " ".join(result.stderr.split())
    assert message.startswith("error:") and "Traceback" not in message
    assert "penguins@v1" in message and "model.skops is altered" in message
    assert "To fix:" in message
