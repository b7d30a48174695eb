"""``python -m verdict.serving`` as a real process on an ephemeral 127.0.0.1 port: it announces
its address, answers liveness, logs JSON lines only, hands its flags to several workers, and
stops cleanly on SIGTERM, as the local deployment's supervisor stops it. uvicorn re-raises the
signal it caught once it has shut down, so one server ends "killed by SIGTERM" (as
``verdict serve`` does) and the supervisor of several workers exits 0.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from process_support import penguins_home

ANNOUNCED = re.compile(r"^verdict serving on http://127\.0\.0\.1:(\d+) \((\d+) worker\(s\)\)$")


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """A VERDICT_HOME with penguins@production."""
    return penguins_home(tmp_path_factory.mktemp("run_process") / "home")


@contextmanager
def started(home: Path, *flags: str) -> Iterator[tuple[subprocess.Popen, str, list[str]]]:
    """``python -m verdict.serving --port 0 *flags``: the process, its URL and its stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERDICT_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "verdict.serving", "--port", "0", *flags],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**env, "VERDICT_HOME": str(home)}, start_new_session=True,
    )  # fmt: skip
    stderr: list[str] = []
    reader = threading.Thread(target=lambda: stderr.extend(process.stderr), daemon=True)
    reader.start()
    try:
        line = process.stdout.readline().strip()
        found = ANNOUNCED.match(line)
        assert found, f"no address announced: {line!r} {''.join(stderr)}"
        yield process, f"http://127.0.0.1:{found.group(1)}", stderr
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        reader.join(timeout=10)


def wait_for(url: str, process: subprocess.Popen, status: int = 200) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the service exited"
        try:
            if httpx.get(url, timeout=2).status_code == status:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} never answered {status}")


def stop(process: subprocess.Popen) -> int:
    """SIGTERM, as ``verdict deploy down`` and the supervisor send it; the exit status."""
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=60)


def shut_down(lines: list[dict]) -> bool:
    """Whether uvicorn logged a complete graceful shutdown."""
    return any(line.get("message") == "Application shutdown complete." for line in lines)


def test_it_answers_liveness_on_an_ephemeral_port_and_stops_cleanly_on_sigterm(home):
    with started(home) as (process, url, stderr):
        assert int(url.rsplit(":", 1)[1]) != 8000
        wait_for(f"{url}/v2/health/live", process)
        assert httpx.get(f"{url}/v2/health/ready", timeout=10).status_code == 401  # auth is on
        assert stop(process) == -signal.SIGTERM
    assert process.stdout.read() == ""  # the address is the only line on stdout
    lines = [json.loads(text) for text in stderr if text.strip()]  # JSON lines only
    assert all({"ts", "level"} <= set(line) for line in lines)
    assert any(line.get("path") == "/v2/health/live" for line in lines)  # the access log
    assert shut_down(lines), lines
    assert not [line for line in lines if line["level"] in ("error", "critical")], lines


def test_several_workers_are_handed_the_flags(home):
    with started(home, "--workers", "2", "--no-auth") as (process, url, stderr):
        wait_for(f"{url}/v2/health/ready", process)  # 200 without a key: --no-auth reached them
        metrics = httpx.get(f"{url}/metrics", timeout=10)
        assert metrics.status_code == 200 and "verdict_requests_total" in metrics.text
        assert stop(process) == 0
    lines = [json.loads(text) for text in stderr if text.strip()]
    assert sum(line.get("message") == "Application startup complete." for line in lines) == 2
    assert shut_down(lines), lines
    assert not [line for line in lines if line["level"] in ("error", "critical")], lines
