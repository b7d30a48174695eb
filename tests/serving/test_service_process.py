"""The real service in its own process, under load: hot reload, graceful shutdown, kill -9,
hostile floods, and schemathesis against its own OpenAPI schema (then monitor and retrain on
what it stored).

Each test starts ``python -m verdict.serving --port 0`` on 127.0.0.1 (VERDICT_HOME in a
temporary folder), reads the address it prints, and always stops it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from palmerpenguins import load_penguins
from process_support import ROW, Service, service

from verdict.pipeline import train
from verdict.registry import Registry
from verdict.state import PredictionLog, open_state

pytestmark = pytest.mark.slow  # real `verdict serve` processes, floods, schemathesis


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


def test_kill_9_loses_no_answered_prediction(home):
    with service(home, "--model", "penguins@production") as svc:
        load = Load(svc)
        threads = load.run(4)
        time.sleep(3.0)
        os.killpg(svc.process.pid, signal.SIGKILL)  # at an arbitrary moment of the stream
        svc.process.wait(timeout=30)
        load.stop.set()
        for thread in threads:
            thread.join(timeout=30)
    answered = {rid for _, rid, _ in load.answered}
    assert len(answered) > 20 and load.failures == []
    audit = home / "audit.jsonl"  # read back the way an auditor would
    exported = subprocess.run(
        [sys.executable, "-m", "verdict.cli", "logs", "export", "penguins", "-o", str(audit)],
        env={**os.environ, "VERDICT_HOME": str(home)}, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    logged = {json.loads(line)["request_id"] for line in audit.read_text().splitlines()}
    missing = answered - logged
    print(f"\nkill -9 under 4 streams: {len(answered)} answered 200, {len(missing)} missing")
    assert not missing, sorted(missing)[:5]  # every 200 was committed before it was sent


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
    # what schemathesis made the service store, monitoring and retraining must digest
    copy = tmp_path / "home"
    shutil.copytree(home, copy, ignore=shutil.ignore_patterns("*.sock"))
    env = {**os.environ, "VERDICT_HOME": str(copy)}
    env.pop("VERDICT_DEBUG", None)
    for args in (["monitor", "penguins@production", "--window", "30", "--out",
                  str(tmp_path / "monitor.html")],
                 ["retrain", "penguins", "--time-budget", "3"]):  # fmt: skip
        ran = subprocess.run([sys.executable, "-m", "verdict.cli", *args], env=env, cwd=copy,
                             capture_output=True, text=True, timeout=300)  # fmt: skip
        output = ran.stdout + ran.stderr
        assert ran.returncode in (0, 1, 2) and "Traceback" not in output, output[-3000:]


def _zeros(n: int) -> bytes:
    return b'{"instances": [' + b",".join([b"0"] * n) + b"]}"


@pytest.mark.parametrize("max_rows", ["10000", "5000000"])
def test_a_zero_flood_is_refused_fast_while_good_requests_keep_their_latency(home, max_rows):
    bodies = {
        "/v1/models/penguins/predict": _zeros(200_000),
        "/v1/feedback": _zeros(200_000).replace(b"instances", b"feedback"),
        "/v2/models/penguins/infer": _zeros(200_000).replace(b"instances", b"inputs"),
    }
    with service(home, "--model", "penguins@production", VERDICT_MAX_ROWS=max_rows) as svc:
        good_url = f"{svc.url}/v1/models/penguins/predict"
        with httpx.Client(headers=svc.headers, timeout=30) as client:
            quiet = [_timed(client, good_url) for _ in range(30)]
            bad: list[tuple[float, int, int]] = []
            stop = threading.Event()

            def flood() -> None:  # one hostile client, back to back on every route
                with httpx.Client(headers={**svc.headers, "Content-Type": "application/json"},
                                  timeout=30) as attacker:  # fmt: skip
                    while not stop.is_set():
                        for path, body in bodies.items():
                            started = time.perf_counter()
                            answer = attacker.post(f"{svc.url}{path}", content=body)
                            took = time.perf_counter() - started
                            bad.append((took, answer.status_code, len(answer.content)))

            attacker = threading.Thread(target=flood)
            attacker.start()
            time.sleep(0.5)
            loud = [_timed(client, good_url) for _ in range(30)]
            stop.set()
            attacker.join(timeout=60)
    quiet_p50, loud_p50 = sorted(quiet)[15], sorted(loud)[15]
    slowest, largest = max(t for t, _, _ in bad), max(n for _, _, n in bad)
    print(f"\nmax_rows {max_rows}: good p50 {quiet_p50 * 1e3:.1f} ms alone, "
          f"{loud_p50 * 1e3:.1f} ms under {len(bad)} flood requests (max "
          f"{slowest * 1e3:.0f} ms, {largest} bytes)")  # fmt: skip
    assert bad and {code for _, code, _ in bad} <= {400, 413, 422}  # 400: /v2's own status
    assert max(t for t, _, _ in bad) < 1.0
    assert max(n for _, _, n in bad) < 8192
    # before: one such body stalled every other request for seconds (validation on the loop)
    assert loud_p50 < max(3 * quiet_p50, quiet_p50 + 0.1) and max(loud) < 1.0


def _timed(client: httpx.Client, url: str) -> float:
    started = time.perf_counter()
    response = client.post(url, json={"instances": [ROW]})
    assert response.status_code == 200, response.text
    return time.perf_counter() - started


@pytest.mark.parametrize("max_rows", ["10000", "5000000"])
def test_four_million_zeros_cost_seconds_and_little_memory(home, max_rows):
    body = _zeros(4_000_000)
    assert len(body) < 8 * 1024 * 1024  # under the body limit
    with service(home, "--model", "penguins@production", VERDICT_MAX_ROWS=max_rows) as svc:
        before = svc.memory_kib()[0] / 1024
        started = time.perf_counter()
        answer = httpx.post(f"{svc.url}/v1/models/penguins/predict", content=body,
                            headers={**svc.headers, "Content-Type": "application/json"},
                            timeout=60)  # fmt: skip
        took = time.perf_counter() - started
        peak = svc.memory_kib()[1] / 1024
    print(f"\nmax_rows {max_rows}: {answer.status_code} in {took:.2f} s, {len(answer.content)} "
          f"bytes; server memory {before:.0f} MiB before, {peak:.0f} MiB at its peak")  # fmt: skip
    assert answer.status_code in (413, 422) and len(answer.content) < 8192
    assert took < 5.0
    assert peak - before < 300


def test_one_poisoned_request_among_sixteen_fails_alone(home):
    poisoned = json.dumps({"instances": [ROW]}).replace('"Biscoe"', '"\\ud800"')
    good = json.dumps({"instances": [ROW]})
    bodies = [poisoned if i % 16 == 5 else good for i in range(64)]
    with service(home, "--model", "penguins@production", "--batching", "on",
                 "--batch-budget-ms", "20") as svc:  # fmt: skip
        headers = {**svc.headers, "Content-Type": "application/json"}
        url = f"{svc.url}/v1/models/penguins/predict"
        with httpx.Client(headers=headers, timeout=30) as client, ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(lambda b: client.post(url, content=b), bodies))
    for body, answer in zip(bodies, answers, strict=True):
        if body is poisoned:
            assert answer.status_code == 422, answer.text
            detail = answer.json()["error"]["details"][0]
            assert detail["loc"] == ["body", "instances", 0, "island"]
            assert detail["kind"] == "invalid_text"
        else:
            assert answer.status_code == 200, answer.text
