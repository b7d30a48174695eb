"""The demo's serving step: start ``verdict serve``, create an API key, send a few requests.

The service runs as a real process on a free 127.0.0.1 port, exactly as a user would start it,
and is always stopped (gracefully, so its prediction log is flushed) before the demo goes on.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from verdict.cli._output import console
from verdict.errors import ConfigurationError

READY_SECONDS = 90


@contextmanager
def running_service(*args: str) -> Iterator[str]:
    """``verdict serve --port 0 ARGS`` in a child process; yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "verdict.cli", "serve", "--port", "0", "--log-level", "warning",
         *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        line = process.stdout.readline() if process.stdout else ""
        match = re.search(r"(http://\S+)", line)
        if not match:
            raise ConfigurationError(
                f"verdict serve did not start: {(process.stderr.read() if process.stderr else '')}"
                " To fix: run `verdict serve` yourself to see the problem."
            )
        yield match.group(1)
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # graceful: finish requests, flush the log
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def wait_ready(url: str, headers: dict[str, str]) -> None:
    import httpx

    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/v2/health/ready", headers=headers).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise ConfigurationError(
        f"The service at {url} was not ready within {READY_SECONDS} s. To fix: run "
        "`verdict serve` yourself and read its log."
    )


def create_key(name: str) -> str:
    """A fresh API key for the demo (printed once, as `verdict keys create` does)."""
    from verdict.serving._keys import KeyStore
    from verdict.serving._settings import ServiceSettings
    from verdict.serving._state import open_state

    engine = open_state(ServiceSettings().state_database())
    try:
        return KeyStore(engine, cache_seconds=0).create(name).token
    finally:
        engine.dispose()


def serve_and_ask(ref: str, rows: list[dict[str, Any]], truth: list[Any]) -> None:
    """Start the service, ask without and with a key, send predictions and feedback."""
    import httpx

    token = create_key(f"demo-{int(time.time())}")
    console.print(f"  verdict keys create demo  -> {token[:12]}... (shown once, stored hashed)")
    name = ref.split("@")[0]
    with running_service("--model", ref) as url:
        headers = {"Authorization": f"Bearer {token}"}
        wait_ready(url, headers)
        console.print(f"  verdict serve --model {ref}  -> {url}", highlight=False)
        with httpx.Client(base_url=url, timeout=30) as client:
            refused = client.post(f"/v1/models/{name}/predict", json={"instances": rows[:1]})
            console.print(f"  without a key: HTTP {refused.status_code}", highlight=False)
            answer = client.post(
                f"/v1/models/{name}/predict", json={"instances": rows}, headers=headers
            ).json()
            for row, truth_label in zip(answer["predictions"], truth, strict=True):
                top = max(row["probabilities"].values())
                console.print(
                    f"  row {row['row']}: {row['class']} (p = {top:.3f}, truly {truth_label}) "
                    f"by {row['model_version']}",
                    highlight=False,
                )
            feedback = [
                {"request_id": answer["request_id"], "row": i, "label": label}
                for i, label in enumerate(truth)
            ]
            stored = client.post("/v1/feedback", json={"feedback": feedback}, headers=headers)
            console.print(
                f"  POST /v1/feedback: {json.dumps(stored.json().get('attached'))} labels "
                f"attached to request {answer['request_id'][:8]}...",
                highlight=False,
            )
            metrics = client.get("/metrics", headers=headers).text
            served = [ln for ln in metrics.splitlines() if ln.startswith("verdict_rows_total")]
            console.print(f"  /metrics: {served[0] if served else 'no rows counted'}")
