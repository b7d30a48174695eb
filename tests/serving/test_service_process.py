"""The real service in its own process, under load: hot reload, graceful shutdown, kill -9,
and schemathesis against its own OpenAPI schema.

Each test starts ``python -m verdict.cli serve --port 0`` on 127.0.0.1 (VERDICT_HOME in a
temporary folder), reads the address it prints, and always stops it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from palmerpenguins import load_penguins

from verdict.pipeline import train
from verdict.registry import Registry
from verdict.serving._keys import KeyStore
from verdict.serving._predlog import PredictionLog
from verdict.serving._state import open_state

FLUSH_SECONDS = 0.2
ROW = {
    "island": "Biscoe", "bill_length_mm": 45.1, "bill_depth_mm": 14.5,
    "flipper_length_mm": 215.0, "body_mass_g": 5000.0, "sex": "female", "year": 2008,
}  # fmt: skip


@dataclass
class Service:
    process: subprocess.Popen
    url: str
    token: str
    home: Path
    stderr: list[str] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """A VERDICT_HOME with penguins v1 (production) and v2, and an API key."""
    root = tmp_path_factory.mktemp("service_home")
    frame = load_penguins()
    with warnings.catch_warnings(), Registry(home=root) as registry:
        warnings.simplefilter("ignore")
        for i, family in enumerate(("softmax", "decision_tree")):
            run = train(frame, "species", models=[family], time_budget=3, cv=3, quiet=True,
                        out=root / f"run{i}")  # fmt: skip
            registry.register(run, "penguins", alias="production" if i == 0 else None)
    return root


def _token(home: Path) -> str:
    engine = open_state(f"sqlite:///{home / 'service.db'}")
    try:
        return KeyStore(engine).create(f"test-{time.monotonic_ns()}").token
    finally:
        engine.dispose()


@contextmanager
def service(home: Path, *args: str) -> Iterator[Service]:
    env = {**os.environ, "VERDICT_HOME": str(home), "VERDICT_LOG_FLUSH_SECONDS": str(FLUSH_SECONDS),
           "VERDICT_RELOAD_SECONDS": "0.5"}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "verdict.cli", "serve", "--port", "0", "--log-level", "warning",
         *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True,
    )  # fmt: skip
    stderr: list[str] = []
    threading.Thread(target=lambda: stderr.extend(process.stderr), daemon=True).start()
    try:
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert match, f"no address printed: {line!r} {''.join(stderr)}"
        svc = Service(process, f"http://127.0.0.1:{match.group(1)}", _token(home), home, stderr)
        _wait_ready(svc)
        yield svc
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def _wait_ready(svc: Service, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{svc.url}/v2/health/ready", headers=svc.headers).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"service not ready: {''.join(svc.stderr)}")


@dataclass
class Load:
    """Threads sending single-row predictions until stopped; every outcome is recorded."""

    svc: Service
    answered: list[tuple[float, str, str]] = field(default_factory=list)  # (time, id, version)
    failures: list[str] = field(default_factory=list)
    refused: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, n_threads: int = 4) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(n_threads)]
        for thread in threads:
            thread.start()
        return threads

    def _loop(self) -> None:
        url = f"{self.svc.url}/v1/models/penguins/predict"
        with httpx.Client(headers=self.svc.headers, timeout=30) as client:
            while not self.stop.is_set():
                try:
                    response = client.post(url, json={"instances": [ROW]})
                except httpx.TransportError:
                    self.refused += 1  # the server is gone: not an answered request
                    time.sleep(0.01)
                    continue
                if response.status_code != 200:
                    self.failures.append(f"{response.status_code} {response.text[:200]}")
                    continue
                body = response.json()
                self.answered.append(
                    (time.time(), body["request_id"], body["predictions"][0]["model_version"])
                )


def _logged_ids(home: Path) -> set[str]:
    engine = open_state(f"sqlite:///{home / 'service.db'}")
    try:
        log = PredictionLog(engine)
        frame = log.predictions("penguins")
        log.close()
        return set(frame["request_id"])
    finally:
        engine.dispose()


def test_hot_reload_under_load_fails_no_request(home):
    with Registry(home=home) as registry, service(home, "--model", "penguins@production") as svc:
        load = Load(svc)
        threads = load.run()
        time.sleep(3.0)
        registry.promote("penguins@v2")
        time.sleep(4.0)
        load.stop.set()
        for thread in threads:
            thread.join(timeout=30)
        registry.promote("penguins@v1")  # leave production as the other tests expect it
    assert load.failures == [], load.failures[:5]
    assert load.refused == 0, (
        f"{load.refused} requests got no answer: {''.join(svc.stderr)[-3000:]}"
    )
    versions = [version for _, _, version in load.answered]
    assert len(versions) > 50
    switch = versions.index("penguins@v2")
    assert set(versions[:switch]) == {"penguins@v1"}
    # after the swap the old version finishes what it holds (about one request per thread),
    # then only the new one answers
    after = versions[switch:]
    assert after.count("penguins@v1") <= 2 * len(threads), versions[switch - 5 : switch + 30]
    assert "penguins@v1" not in after[len(after) // 2 :], versions[switch - 5 : switch + 30]


def test_graceful_shutdown_logs_every_answered_prediction(home):
    with service(home, "--model", "penguins@production") as svc:
        load = Load(svc)
        threads = load.run()
        time.sleep(3.0)
        svc.process.send_signal(signal.SIGTERM)
        # uvicorn re-raises the signal once it has shut down gracefully
        assert svc.process.wait(timeout=60) in (0, -signal.SIGTERM), "".join(svc.stderr)
        load.stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert load.failures == []
    answered = {request_id for _, request_id, _ in load.answered}
    assert len(answered) > 20
    assert answered <= _logged_ids(home)


def test_kill_9_loses_nothing_answered_before_the_last_flush(home):
    with service(home, "--model", "penguins@production") as svc:
        load = Load(svc)
        threads = load.run()
        time.sleep(3.0)
        killed_at = time.time()
        os.killpg(svc.process.pid, signal.SIGKILL)
        svc.process.wait(timeout=30)
        load.stop.set()
        for thread in threads:
            thread.join(timeout=30)
    margin = 0.3  # the commit itself takes time on a loaded 2-core machine
    safe = {rid for t, rid, _ in load.answered if t < killed_at - FLUSH_SECONDS - margin}
    assert len(safe) > 20
    assert safe <= _logged_ids(home)


def test_schemathesis_finds_no_server_error_and_no_schema_violation(home, tmp_path):
    with service(home, "--model", "penguins@production") as svc:
        config = tmp_path / "schemathesis.toml"  # real names, so the model routes are reached
        config.write_text('[parameters]\n"path.name" = "penguins"\n"path.version" = "1"\n')
        done = subprocess.run(
            [str(Path(sys.executable).parent / "schemathesis"), "--config-file", str(config),
             "run",
             f"{svc.url}/openapi.json", "--header", f"Authorization: Bearer {svc.token}",
             "--checks", "not_a_server_error,response_schema_conformance,"
             "status_code_conformance,content_type_conformance",
             "--max-examples", "25", "--seed", "1", "--phases", "examples,coverage,fuzzing",
             "--report", "junit", "--report-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=420, cwd=tmp_path,
        )  # fmt: skip
        assert svc.process.poll() is None, "".join(svc.stderr)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    generated = re.search(r"(\d+) generated, (\d+) passed", done.stdout)
    assert generated and int(generated.group(1)) > 300, done.stdout[-2000:]
