"""``verdict serve`` against its peers on the same fitted pipeline, loaded on 127.0.0.1.

Every server serves the same fitted pipeline: palmerpenguins' logistic (``softmax``) model,
trained once by ``verdict.pipeline.train`` and registered in a throwaway registry, then written
as a joblib file that each peer loads. verdict serves it with ``python -m verdict.cli serve
--model penguins@production`` (the secure default: an API key is created and sent as
``Authorization: Bearer``; prediction log on; micro-batching ``auto``). The peers, each run from
its own virtual environment ``bench/.venv-<peer>`` (created here when missing: the peer from
PyPI plus verdict in editable mode, so the pipeline's classes import), one worker each:

- ``floor`` (``bench/serve_peer_floor.py``): a raw ASGI app under uvicorn (uvloop, httptools),
  orjson in and out, ``predict_proba`` on the event loop; no framework, auth, validation, log
  or batching: what serving one request costs at the least (the peers do not batch either;
  verdict's micro-batching gathers concurrent single rows into one ``predict_proba``);
- ``bentoml`` (``bench/serve_peer_bentoml.py``): a ``@bentoml.service`` (workers=1) whose sync
  API takes the rows as a DataFrame (``DataframeSchema(orient="records")``), ``bentoml serve``;
- ``litserve`` (``bench/serve_peer_litserve.py``): a ``ls.LitAPI`` under ``ls.LitServer``, one
  inference worker behind one API server process, no batching (``max_batch_size=1``, LitServe's
  default);
- ``kserve`` (``bench/serve_peer_kserve.py``): a custom ``kserve.Model`` under
  ``kserve.ModelServer(workers=1)``, Open Inference Protocol v2 over REST and over its gRPC
  server (``grpc_port``, same process);
- ``mlflow`` (only with ``--only``, e.g. ``--only verdict,mlflow``): ``mlflow models serve
  --env-manager local`` on a pyfunc returning label and probabilities
  (``bench/serve_mlflow_model.py``).

Bodies: verdict v1 ``{"instances": [records]}``; verdict v2 and KServe v2 one JSON tensor per
feature (FP64/INT64/BYTES, shape ``[n]``); floor, BentoML and LitServe ``{"rows": [records]}``
(a JSON list of records), answered with ``{"predictions": [{"label", "probabilities":
{class: p}}]}``; MLflow ``{"dataframe_split": ...}``. Every server answers, for every row, the
class and the three class probabilities; before timing, each one's answer to the 1,000-row
body is checked against the pipeline's own ``predict_proba`` (labels equal, probabilities
within 1e-12), over each protocol it is timed on.

Scenarios, HTTP (wrk ``-t1``, ``bench/serve_wrk.lua`` posts a fixed body, prints percentiles):

- ``single``: one row per request at 16 connections: requests/s, p50, p99;
- ``batch-1000``: 1,000 rows per request (drawn with replacement from the complete penguins
  rows, seed 0): rows/s = requests/s x 1000.

gRPC (``inference.GRPCInferenceService/ModelInfer`` from KServe's ``grpc_predict_v2.proto``,
model ``penguins``, one typed tensor per feature): the same two scenarios, loaded by
``bench/serve_grpc_load.py``, a Python ``grpc.aio`` client run in KServe's environment (its
stubs): one process, one channel, 16 calls kept in flight; requests/s, p50, p99 (rows/s for
batches). It is heavier per call than wrk (each round line gives its CPU share), so gRPC and
HTTP figures compare less well than gRPC figures between servers. Against KServe's gRPC server
and verdict's (``verdict serve --grpc-port PORT``, a separate verdict process, API key in the
metadata ``authorization: Bearer KEY``); verdict's gRPC rows are skipped, with a line saying
so, while its ``serve --help`` has no ``--grpc-port``. A server that does not start or answers
wrongly in the first round is left out of the run with its reason printed.

verdict is measured through v1 (``POST /v1/models/penguins/predict``) and v2 (``POST
/v2/models/penguins/infer``), with each runtime of ``--runtimes`` (native: the pipeline; onnx:
its checked export; the peers all run the pipeline). The table gives verdict's throughput as a
ratio of the best of BentoML, LitServe and KServe on the same scenario and transport ("vs best
peer") and of the floor's ("vs floor", HTTP). The machine has two cores and the load generator
takes one of them, so the servers never take load together: each round starts every server
(idle ones cost nothing: measured < 0.3% of a core each), then for each scenario measures one
server after the other (each measurement preceded by its own warm-up, which also drains what
the previous scenario left queued), so a machine whose speed drifts over minutes (a shared VM)
hits every server's figure of a scenario alike; the order alternates between rounds. Figures
are medians over the rounds. ``--verdict-env VERDICT_X=...`` changes a service setting for
diagnosis; the recorded figures use none (the shipped defaults). ``--baseline-src CHECKOUT``
also serves verdict from another checkout, interleaved scenario by scenario, and prints this
one's figures as ratios of it: how a change is measured against what it changes. Not part of
``make test``.

    .venv/bin/python bench/serve.py                       # 3 rounds x 10 s per scenario
    .venv/bin/python bench/serve.py --rounds 1 --duration 3 --warmup 1   # a quick look
    .venv/bin/python bench/serve.py --only verdict,mlflow  # verdict against MLflow
    git worktree add /tmp/before HEAD~5 && .venv/bin/python bench/serve.py --only verdict \
        --runtimes native --baseline-src /tmp/before --rounds 6     # this change vs before
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from peer_env import ensure_venv, say, venv_has

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
LUA = BENCH / "serve_wrk.lua"
GRPC_LOAD = BENCH / "serve_grpc_load.py"
MODEL_NAME = "penguins"
REF = f"{MODEL_NAME}@production"
BATCH_ROWS = 1000

DEFAULT_SERVERS = ("verdict", "floor", "bentoml", "litserve", "kserve")
SERVERS = (*DEFAULT_SERVERS, "mlflow")
PEERS = ("bentoml", "litserve", "kserve")  # "vs best peer": the best of these
# Per peer environment: what pip installs beside verdict, and what must import there.
PEER_ENVS = {
    "floor": (["uvicorn[standard]", "orjson"], "import uvicorn, orjson, uvloop, httptools"),
    "bentoml": (["bentoml"], "import bentoml"),
    "litserve": (["litserve"], "import litserve"),
    "kserve": (
        ["kserve"],
        "import kserve, grpc; from kserve.protocol.grpc import grpc_predict_v2_pb2",
    ),
    "mlflow": (["mlflow"], "import mlflow.pyfunc"),
}
VERSIONS = [
    "bentoml", "litserve", "kserve", "mlflow", "grpcio", "protobuf", "fastapi", "starlette",
    "uvicorn", "uvloop", "httptools", "orjson", "pydantic", "scikit-learn", "numpy", "pandas",
]  # fmt: skip
SLOTS = [("http", "single"), ("http", "batch-1000"), ("grpc", "single"), ("grpc", "batch-1000")]


# -- the peers' environments -----------------------------------------------------------------


def ensure_peer_venv(peer: str, venv: Path, reinstall: bool) -> Path:
    """Create ``venv`` with ``peer`` and verdict (editable) unless it already has them."""
    packages, probe = PEER_ENVS[peer]
    python = ensure_venv(venv, peer, packages, probe, reinstall=reinstall)
    ignore = venv / ".gitignore"  # keeps `git status` clean, as Python 3.13's venv does
    if not ignore.exists():
        ignore.write_text("*\n")
    here = str(ROOT / "src")
    check = f"import verdict.registry, sys; sys.exit(not verdict.__file__.startswith({here!r}))"
    if reinstall or not venv_has(python, check):
        say(f"[setup] pip install -e {ROOT} into {venv}")
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-e", str(ROOT)], check=True)
    say(f"[setup] {peer} environment ready: {venv}")
    return python


def verdict_has_grpc(python: str) -> bool:
    """Whether this checkout's ``verdict serve`` takes ``--grpc-port`` (its ``--help`` says)."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    done = subprocess.run(
        [python, "-m", "verdict.cli", "serve", "--help"], env=env, capture_output=True, text=True
    )
    return "--grpc-port" in done.stdout + done.stderr


# -- the model and the request bodies --------------------------------------------------------


def prepare_model(home: Path) -> Any:
    """Train the logistic pipeline, register it as penguins@production; return it loaded."""
    from palmerpenguins import load_penguins

    from verdict.pipeline import train
    from verdict.registry import Registry

    say("[setup] training penguins (softmax, cv=3, seed 0) and registering it")
    run = train(
        load_penguins(),
        "species",
        models=["softmax"],
        time_budget=10,
        cv=3,
        seed=0,
        quiet=True,
        out=home / "run",
    )
    with Registry(f"sqlite:///{home / 'registry.db'}", str(home / "artifacts")) as registry:
        version = registry.register(run, MODEL_NAME, alias="production")
        loaded = registry.load(REF)
    say(f"[setup] registered {version.name}@v{version.version} ({version.family})")
    return loaded


def request_rows(features: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One complete penguin, and 1,000 drawn with replacement from the complete ones."""
    from palmerpenguins import load_penguins

    complete = load_penguins()[features].dropna().reset_index(drop=True)
    batch = complete.sample(BATCH_ROWS, replace=True, random_state=0).reset_index(drop=True)
    return complete.head(1), batch


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records"))


def _v2_datatype(series: pd.Series) -> str:
    if pd.api.types.is_integer_dtype(series):
        return "INT64"
    if pd.api.types.is_float_dtype(series):
        return "FP64"
    return "BYTES"


def body_v1(frame: pd.DataFrame) -> dict:
    return {"instances": _records(frame)}


def body_v2(frame: pd.DataFrame) -> dict:
    columns = json.loads(frame.to_json(orient="split", index=False))
    data = columns["data"]
    return {
        "inputs": [
            {
                "name": name,
                "shape": [len(frame)],
                "datatype": _v2_datatype(frame[name]),
                "data": [row[j] for row in data],
            }
            for j, name in enumerate(columns["columns"])
        ]
    }


def body_rows(frame: pd.DataFrame) -> dict:
    """Floor, BentoML and LitServe: a JSON list of records."""
    return {"rows": _records(frame)}


def body_mlflow(frame: pd.DataFrame) -> dict:
    split = json.loads(frame.to_json(orient="split", index=False))
    return {"dataframe_split": {"columns": split["columns"], "data": split["data"]}}


# -- reading the answers back (to check them against the pipeline) -------------------------


def parse_v1(answer: dict, classes: list[str]) -> tuple[list, np.ndarray]:
    rows = answer["predictions"]
    labels = [r["class"] for r in rows]
    proba = np.array([[r["probabilities"][c] for c in classes] for r in rows])
    return labels, proba


def parse_v2(answer: dict, classes: list[str]) -> tuple[list, np.ndarray]:
    outputs = {o["name"]: o for o in answer["outputs"]}
    label_out = next(o for o in outputs.values() if o["datatype"] == "BYTES")
    labels = list(label_out["data"])
    n = len(labels)
    prob_outs = [o for o in outputs.values() if o["datatype"].startswith("FP")]
    if len(prob_outs) == 1 and prob_outs[0]["shape"] == [n, len(classes)]:
        proba = np.asarray(prob_outs[0]["data"], dtype=float).reshape(n, len(classes))
    else:  # one output per class, named after it
        proba = np.column_stack(
            [next(o for o in prob_outs if c in o["name"])["data"] for c in classes]
        )
    return labels, proba


def parse_rows(answer: dict, classes: list[str]) -> tuple[list, np.ndarray]:
    rows = answer["predictions"]
    labels = [r["label"] for r in rows]
    return labels, np.array([[r["probabilities"][c] for c in classes] for r in rows])


def parse_mlflow(answer: dict, classes: list[str]) -> tuple[list, np.ndarray]:
    rows = answer["predictions"]
    return [r["label"] for r in rows], np.array([[r[c] for c in classes] for r in rows])


# -- processes --------------------------------------------------------------------------------


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(n: int) -> list[int]:
    """``n`` distinct free ports (the sockets are held together while picking)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(n)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def http(
    method: str, url: str, body: bytes | None = None, headers: dict | None = None, timeout=30.0
) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@dataclass
class Server:
    """A server process in its own process group, logging to a file; stopped for sure."""

    name: str
    command: list[str]
    env: dict[str, str]
    cwd: Path
    port: int
    health: str
    headers: dict[str, str] = field(default_factory=dict)
    grpc_port: int | None = None
    log: Path | None = None
    process: subprocess.Popen | None = None

    def start(self, timeout: float = 120.0) -> float:
        self.log = self.cwd / f"{self.name}-{self.port}.log"
        handle = self.log.open("wb")
        began = time.perf_counter()
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            cwd=self.cwd,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        handle.close()
        url = f"http://127.0.0.1:{self.port}{self.health}"
        while time.perf_counter() - began < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited ({self.process.returncode}):\n{self.tail()}"
                )
            try:
                status, _ = http("GET", url, headers=self.headers, timeout=2)
                if status == 200 and (self.grpc_port is None or _port_open(self.grpc_port)):
                    return time.perf_counter() - began
            except OSError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"{self.name} not ready at {url} after {timeout:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM the whole process group, SIGKILL what is left after 15 s; free the port."""
        if self.process is None:
            return
        pgid = self.process.pid  # start_new_session: the group is the leader's pid
        for sig, wait in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, sig)
            deadline = time.monotonic() + wait
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=wait)  # reap the leader
            while time.monotonic() < deadline and _group_alive(pgid):
                time.sleep(0.1)
            if not _group_alive(pgid):
                break
        self.process = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _port_open(self.port):
            time.sleep(0.1)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


# -- wrk --------------------------------------------------------------------------------------


def wrk(
    url: str, body_file: Path, auth: str | None, seconds: float, connections: int, threads: int
) -> dict:
    env = {**os.environ, "WRK_BODY_FILE": str(body_file), "WRK_AUTH": auth or ""}
    command = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "30s",
        "--latency", "-s", str(LUA), url,
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    result = json.loads(line[len("WRK_JSON ") :])
    result["rps"] = result["requests"] / result["seconds"]
    result["failed"] = sum(result["errors"].values())
    return result


def grpc_load(
    python: Path, port: int, body_file: Path, auth: str | None, warmup: float, seconds: float,
    connections: int,
) -> dict:  # fmt: skip
    """``bench/serve_grpc_load.py``: ``warmup`` s unrecorded, then ``seconds`` s timed."""
    command = [
        str(python), str(GRPC_LOAD), "--target", f"127.0.0.1:{port}", "--model", MODEL_NAME,
        "--body", str(body_file), "--auth", auth or "", "--connections", str(connections),
        "--warmup", f"{warmup:g}", "--duration", f"{seconds:g}",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=warmup + seconds + 120)
    line = next((x for x in done.stdout.splitlines() if x.startswith("GRPC_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"gRPC load failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    result = json.loads(line[len("GRPC_JSON ") :])
    result["rps"] = result["requests"] / result["seconds"]
    result["failed"] = sum(result["errors"].values())
    return result


# -- the runs --------------------------------------------------------------------------------


@dataclass
class Scenario:
    server: str
    scenario: str
    path: str  # HTTP: the URL path; gRPC: the method
    body_file: Path
    rows: int
    connections: int
    transport: str = "http"
    runs: list[dict] = field(default_factory=list)

    def median(self, key: str) -> float:
        if key in ("p50", "p99", "p90", "mean"):
            return statistics.median(r["latency_ms"][key] for r in self.runs)
        return statistics.median(r[key] for r in self.runs)

    def figures(self) -> dict:
        rps = self.median("rps")
        return {
            "server": self.server,
            "scenario": self.scenario,
            "transport": self.transport,
            "path": self.path,
            "rows_per_request": self.rows,
            "connections": self.connections,
            "requests_per_s": rps,
            "p50_ms": self.median("p50"),
            "p99_ms": self.median("p99"),
            "rows_per_s": rps * self.rows,
            "failed_requests": sum(r["failed"] for r in self.runs),
            "runs": self.runs,
        }


@dataclass
class Check:
    """One answer check: the 1,000-row body, sent over ``transport``, read back by ``parse``."""

    label: str
    transport: str  # "http" or "grpc"
    path: str
    body_file: Path
    parse: Any


@dataclass
class Plan:
    """How to start one server, what to measure on it, which answers to check first."""

    make: Any  # () -> Server
    scenarios: list[Scenario]
    checks: list[Check]


@dataclass
class Context:
    args: Any
    loaded: Any
    batch: pd.DataFrame
    grpc_python: Path | None


def check_answers(ctx: Context, server: Server, check: Check) -> str:
    """Send the 1,000-row body once; labels and probabilities must match the pipeline's."""
    if check.transport == "grpc":
        command = [
            str(ctx.grpc_python), str(GRPC_LOAD), "--target", f"127.0.0.1:{server.grpc_port}",
            "--model", MODEL_NAME, "--body", str(check.body_file),
            "--auth", server.headers.get("Authorization", ""), "--check",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=180)
        if done.returncode != 0:
            raise RuntimeError(f"{check.label} gRPC check failed:\n{done.stdout}\n{done.stderr}")
        answer = json.loads(done.stdout)
        where = "ModelInfer"
    else:
        headers = {"Content-Type": "application/json", **server.headers}
        url = f"http://127.0.0.1:{server.port}{check.path}"
        status, raw = http("POST", url, check.body_file.read_bytes(), headers)
        if status != 200:
            raise RuntimeError(f"{check.label} {check.path} answered {status}: {raw[:500]!r}")
        answer = json.loads(raw)
        where = check.path
    classes = [str(c) for c in ctx.loaded.classes]
    labels, proba = check.parse(answer, classes)
    want = ctx.loaded.predict_proba(ctx.batch)
    want_labels = [str(c) for c in ctx.loaded.predict(ctx.batch)]
    if proba.shape != want.shape:
        raise RuntimeError(f"{check.label} {where}: shape {proba.shape}, not {want.shape}")
    diff = float(np.max(np.abs(proba - want)))
    if diff > 1e-12 or [str(x) for x in labels] != want_labels:
        raise RuntimeError(
            f"{check.label} {where}: answers differ from the pipeline's (max |dp| {diff})"
        )
    return (
        f"{check.label} {where}: 1000 rows match the pipeline (labels equal, max |dp| {diff:.1e})"
    )


def machine_facts(pythons: dict[str, Path]) -> dict:
    def cpu_model() -> str:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
        return platform.processor()

    def mem_gib() -> float:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return int(line.split()[1]) / 2**20
        return float("nan")

    code = (
        "import importlib.metadata as m, json, platform, sys\n"
        "out = {'python': platform.python_version()}\n"
        "for p in sys.argv[1:]:\n"
        "    try:\n        out[p] = m.version(p)\n"
        "    except m.PackageNotFoundError:\n        pass\n"
        "print(json.dumps(out))"
    )
    envs = {}
    for name, python in {"verdict": Path(sys.executable), **pythons}.items():
        done = subprocess.run(
            [str(python), "-c", code, *VERSIONS], capture_output=True, text=True, check=True
        )
        envs[name] = json.loads(done.stdout)
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(mem_gib(), 1),
        "python": platform.python_version(),
        "envs": envs,
        "wrk": wrk_version[1] if len(wrk_version) > 1 else "?",
        "loadavg_start": os.getloadavg(),
    }


def verdict_plan(
    args: Any,
    label: str,
    runtime: str,
    python: str,
    env: dict,
    home: Path,
    bearer: str,
) -> Plan:
    """How to start verdict with one runtime, its scenarios and its answer checks."""

    def make_verdict() -> Server:
        port = free_port()
        command = [
            python, "-m", "verdict.cli", "serve", "--model", REF, "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(args.workers), "--runtime", runtime,
        ]  # fmt: skip
        return Server(label, command, env, home, port, "/v2/health/ready",
                      headers={"Authorization": bearer})  # fmt: skip

    v1 = f"/v1/models/{MODEL_NAME}/predict"
    v2 = f"/v2/models/{MODEL_NAME}/infer"
    single, batch = args.connections, args.batch_connections
    scenarios = [
        Scenario(f"{label} v1", "single", v1, home / "v1-single.json", 1, single),
        Scenario(f"{label} v1", "batch-1000", v1, home / "v1-batch.json", BATCH_ROWS, batch),
    ]
    checks = [Check(f"{label} v1", "http", v1, home / "v1-batch.json", parse_v1)]
    if not args.no_v2:
        scenarios += [
            Scenario(f"{label} v2", "single", v2, home / "v2-single.json", 1, single),
            Scenario(f"{label} v2", "batch-1000", v2, home / "v2-batch.json", BATCH_ROWS, batch),
        ]
        checks.append(Check(f"{label} v2", "http", v2, home / "v2-batch.json", parse_v2))
    return Plan(make_verdict, scenarios, checks)


def grpc_scenarios(args: Any, label: str, home: Path) -> tuple[list[Scenario], list[Check]]:
    """The gRPC scenarios (v2 tensors, the v2 REST bodies' content) and their answer check."""
    method = "ModelInfer"
    single, batch = args.connections, args.batch_connections
    scenarios = [
        Scenario(label, "single", method, home / "v2-single.json", 1, single, "grpc"),
        Scenario(label, "batch-1000", method, home / "v2-batch.json", BATCH_ROWS, batch, "grpc"),
    ]
    return scenarios, [Check(label, "grpc", method, home / "v2-batch.json", parse_v2)]


def verdict_grpc_plan(args: Any, python: str, env: dict, home: Path, bearer: str) -> Plan:
    """verdict serving gRPC (``--grpc-port``): its own process, only its gRPC is timed."""

    def make() -> Server:
        port, grpc_port = free_ports(2)
        command = [
            python, "-m", "verdict.cli", "serve", "--model", REF, "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(args.workers), "--runtime", "native",
            "--grpc-port", str(grpc_port),
        ]  # fmt: skip
        return Server("verdict-grpc", command, env, home, port, "/v2/health/ready",
                      headers={"Authorization": bearer}, grpc_port=grpc_port)  # fmt: skip

    return Plan(make, *grpc_scenarios(args, "verdict grpc", home))


def baseline_plan(args: Any, python: str, verdict_env: dict, home: Path) -> Plan:
    """verdict from ``args.baseline_src`` on a copy of the registry, with its own state and key
    (its state schema may differ), measured like this checkout's native runtime."""
    src = (args.baseline_src / "src").resolve()
    if not (src / "verdict").is_dir():
        sys.exit(f"--baseline-src {args.baseline_src}: no src/verdict there.")
    base = home / "baseline"
    base.mkdir()
    shutil.copy(home / "registry.db", base / "registry.db")
    shutil.copytree(home / "artifacts", base / "artifacts")
    for name in ("v1-single", "v1-batch", "v2-single", "v2-batch"):
        shutil.copy(home / f"{name}.json", base / f"{name}.json")
    env = {
        **verdict_env,
        "PYTHONPATH": str(src),
        "VERDICT_HOME": str(base),
        "VERDICT_REGISTRY_URL": f"sqlite:///{base / 'registry.db'}",
        "VERDICT_ARTIFACT_STORE": str(base / "artifacts"),
    }
    created = subprocess.run(
        [python, "-m", "verdict.cli", "keys", "create", "bench", "--json"],
        env=env, cwd=base, capture_output=True, text=True, check=True,
    )  # fmt: skip
    bearer = f"Bearer {json.loads(created.stdout)['token']}"
    say(f"[setup] baseline: verdict from {src}")
    return verdict_plan(args, "baseline", "native", python, env, base, bearer)


def peer_plan(args: Any, peer: str, python: Path, env: dict, home: Path, pipeline: Path) -> Plan:
    """How to start one of the peers on the pickled pipeline, its scenarios and checks."""
    single, batch = args.connections, args.batch_connections
    if peer == "kserve":
        v2 = f"/v2/models/{MODEL_NAME}/infer"

        def make_kserve() -> Server:
            port, grpc_port = free_ports(2)
            command = [
                str(python), str(BENCH / "serve_peer_kserve.py"), "--pipeline", str(pipeline),
                "--http-port", str(port), "--grpc-port", str(grpc_port), "--name", MODEL_NAME,
            ]  # fmt: skip
            return Server("kserve", command, env, home, port, "/v2/health/ready",
                          grpc_port=grpc_port)  # fmt: skip

        scenarios = [
            Scenario("kserve v2", "single", v2, home / "v2-single.json", 1, single),
            Scenario("kserve v2", "batch-1000", v2, home / "v2-batch.json", BATCH_ROWS, batch),
        ]
        checks = [Check("kserve v2", "http", v2, home / "v2-batch.json", parse_v2)]
        if not args.no_grpc:
            more, more_checks = grpc_scenarios(args, "kserve grpc", home)
            scenarios += more
            checks += more_checks
        return Plan(make_kserve, scenarios, checks)

    health = {"floor": "/health", "bentoml": "/readyz", "litserve": "/health"}[peer]
    path = "/predict"

    def make() -> Server:
        port = free_port()
        command = [
            str(python), str(BENCH / f"serve_peer_{peer}.py"), "--pipeline", str(pipeline),
            "--port", str(port),
        ]  # fmt: skip
        return Server(peer, command, env, home, port, health)

    scenarios = [
        Scenario(peer, "single", path, home / "rows-single.json", 1, single),
        Scenario(peer, "batch-1000", path, home / "rows-batch.json", BATCH_ROWS, batch),
    ]
    return Plan(make, scenarios, [Check(peer, "http", path, home / "rows-batch.json", parse_rows)])


def parse_servers(value: str | None) -> list[str]:
    if value is None:
        return list(DEFAULT_SERVERS)
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = sorted(set(names) - set(SERVERS))
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown server(s) {', '.join(unknown)}; choose among {', '.join(SERVERS)}"
        )
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="Repetitions (medians over them).")
    parser.add_argument("--duration", type=float, default=10.0, help="Seconds per run.")
    parser.add_argument("--warmup", type=float, default=5.0, help="Warm-up seconds per scenario.")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--batch-connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads.")
    parser.add_argument("--workers", type=int, default=1, help="Workers of verdict and MLflow.")
    parser.add_argument("--no-v2", action="store_true", help="Skip verdict's v2 runs.")
    parser.add_argument("--no-grpc", action="store_true", help="Skip the gRPC runs.")
    parser.add_argument(
        "--runtimes", default="native,onnx",
        help="verdict runtimes to measure, comma-separated (native: the pipeline; onnx: its "
        "verified ONNX export).",
    )  # fmt: skip
    parser.add_argument(
        "--only",
        type=parse_servers,
        default=None,
        metavar="SERVER[,SERVER...]",
        help=f"Servers to run, among {', '.join(SERVERS)} (default: "
        f"{','.join(DEFAULT_SERVERS)}; MLflow only when named).",
    )
    parser.add_argument(
        "--verdict-env",
        action="append",
        default=[],
        metavar="VERDICT_X=VALUE",
        help="Extra setting for verdict's service, for diagnosis (default: none, as shipped).",
    )
    parser.add_argument(
        "--baseline-src",
        type=Path,
        metavar="CHECKOUT",
        help="Also serve verdict from another checkout (e.g. `git worktree add /tmp/old HEAD~3`), "
        "interleaved round by round with this one, and print the ratios: a change measured "
        "against what it changes, in the same machine state.",
    )
    parser.add_argument("--mlflow-venv", type=Path, default=BENCH / ".venv-mlflow")
    parser.add_argument(
        "--reinstall", action="store_true", help="Reinstall the peers' environments."
    )
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder.")
    parser.add_argument("--json", help="Write the figures to this file.")
    args = parser.parse_args()
    args.only = args.only or list(DEFAULT_SERVERS)
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk).")

    started = time.perf_counter()
    args.verdict_grpc = False
    if "verdict" in args.only and not args.no_grpc:
        args.verdict_grpc = verdict_has_grpc(sys.executable)
        if not args.verdict_grpc:
            say(
                "[skip] verdict gRPC: `verdict serve --help` has no --grpc-port in this "
                "checkout; the `verdict grpc` rows are skipped"
            )
    needs = [p for p in args.only if p != "verdict"]
    if args.verdict_grpc and "kserve" not in needs:
        needs.append("kserve")  # the gRPC load generator runs with KServe's stubs
    pythons = {}
    for peer in needs:
        venv = args.mlflow_venv if peer == "mlflow" else BENCH / f".venv-{peer}"
        pythons[peer] = ensure_peer_venv(peer, venv.resolve(), args.reinstall)
    facts = machine_facts(pythons)
    say(f"[machine] {json.dumps(facts)}")

    home = Path(tempfile.mkdtemp(prefix="verdict-bench-serve-"))
    servers: list[Server] = []
    try:
        results = run_all(args, home, pythons, servers)
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            say(f"[setup] kept {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)
    facts["loadavg_end"] = os.getloadavg()
    wall = time.perf_counter() - started
    report(results, facts, args, wall)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(
                {"machine": facts, "args": vars(args), "wall_s": wall, "results": results},
                f,
                indent=2,
                default=str,
            )


def run_all(args, home: Path, pythons: dict[str, Path], servers: list[Server]) -> list[dict]:
    import joblib

    loaded = prepare_model(home)
    features = [c.name for c in loaded.schema.columns]
    single, batch = request_rows(features)
    for key, make, frame in [
        ("v1-single", body_v1, single),
        ("v1-batch", body_v1, batch),
        ("v2-single", body_v2, single),
        ("v2-batch", body_v2, batch),
        ("rows-single", body_rows, single),
        ("rows-batch", body_rows, batch),
        ("mlflow-single", body_mlflow, single),
        ("mlflow-batch", body_mlflow, batch),
    ]:
        (home / f"{key}.json").write_bytes(json.dumps(make(frame)).encode())
    pipeline = home / "pipeline.joblib"  # what the peers load: the registered pipeline itself
    joblib.dump(loaded.model, pipeline)

    base_env = {k: v for k, v in os.environ.items() if not k.startswith("VERDICT_")}
    plans: dict[str, Plan] = {}

    if "verdict" in args.only:
        verdict_env = {
            **base_env,
            "VERDICT_HOME": str(home),
            "VERDICT_REGISTRY_URL": f"sqlite:///{home / 'registry.db'}",
            "VERDICT_ARTIFACT_STORE": str(home / "artifacts"),
            **dict(item.split("=", 1) for item in args.verdict_env),
        }
        python = sys.executable
        created = subprocess.run(
            [python, "-m", "verdict.cli", "keys", "create", "bench", "--json"],
            env=verdict_env, cwd=home, capture_output=True, text=True, check=True,
        )  # fmt: skip
        token = json.loads(created.stdout)["token"]
        bearer = f"Bearer {token}"
        say(f"[setup] API key created for verdict (key id {token.split('_')[1]})")

        for runtime in args.runtimes.split(","):
            label = "verdict" if runtime == "native" else f"verdict+{runtime}"
            plans[label] = verdict_plan(args, label, runtime, python, verdict_env, home, bearer)
        if args.verdict_grpc:
            plans["verdict-grpc"] = verdict_grpc_plan(args, python, verdict_env, home, bearer)
        if args.baseline_src:
            plans["baseline"] = baseline_plan(args, python, verdict_env, home)

    for peer in ("floor", *PEERS):
        if peer in args.only:
            env = {**base_env, "BENTOML_DO_NOT_TRACK": "True"}
            plans[peer] = peer_plan(args, peer, pythons[peer], env, home, pipeline)

    if "mlflow" in args.only:
        mlflow_python = pythons["mlflow"]
        model_dir = home / "mlflow-model"
        say("[setup] saving the pipeline as an MLflow pyfunc (label + probabilities)")
        subprocess.run(
            [
                str(mlflow_python), str(BENCH / "serve_mlflow_model.py"),
                "--home", str(home), "--ref", REF, "--out", str(model_dir),
            ],
            check=True,
        )  # fmt: skip
        venv_bin = str(mlflow_python.parent)
        mlflow_env = {**base_env, "PATH": f"{venv_bin}:{base_env.get('PATH', '')}"}

        def make_mlflow() -> Server:
            port = free_port()
            command = [
                str(mlflow_python.parent / "mlflow"), "models", "serve", "-m", str(model_dir),
                "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port),
                "--workers", str(args.workers),
            ]  # fmt: skip
            return Server("mlflow", command, mlflow_env, home, port, "/ping")

        scenarios = [
            Scenario("mlflow", "single", "/invocations", home / "mlflow-single.json", 1,
                     args.connections),
            Scenario("mlflow", "batch-1000", "/invocations", home / "mlflow-batch.json",
                     BATCH_ROWS, args.batch_connections),
        ]  # fmt: skip
        checks = [Check("mlflow", "http", "/invocations", home / "mlflow-batch.json", parse_mlflow)]
        plans["mlflow"] = Plan(make_mlflow, scenarios, checks)

    ctx = Context(args, loaded, batch, pythons.get("kserve"))
    order = list(plans)
    args.left_out = {}
    for round_ in range(args.rounds):
        names = list(order if round_ % 2 == 0 else order[::-1])
        running: dict[str, Server] = {}
        try:
            for name in names:
                server = running[name] = plans[name].make()
                servers.append(server)
                try:
                    ready = server.start()
                    say(f"[round {round_ + 1}] {name} ready in {ready:.1f} s on port "
                        f"{server.port}")  # fmt: skip
                    if round_ == 0:
                        for check in plans[name].checks:
                            say("[check] " + check_answers(ctx, server, check))
                except Exception as exc:
                    if round_ > 0:
                        raise
                    # A server that does not start or answers wrongly is left out, loudly.
                    reason = " ".join(str(exc).split())[:2000]
                    say(f"[skip] {name}: left out of the run: {reason}")
                    args.left_out[name] = reason
                    server.stop()
                    servers.remove(server)
                    del running[name], plans[name]
                    order.remove(name)
            names = [n for n in names if n in plans]
            # Scenario by scenario, each server in turn (the others idle): machine drift over
            # a round hits every server's figure of a scenario alike.
            for slot in SLOTS:
                for name in names:
                    for s in plans[name].scenarios:
                        if (s.transport, s.scenario) == slot:
                            measure(ctx, running[name], s, round_)
        finally:
            for server in running.values():
                server.stop()
                servers.remove(server)
    return [s.figures() for name in order for s in plans[name].scenarios]


def measure(ctx: Context, server: Server, s: Scenario, round_: int) -> None:
    """Warm up right before measuring, so the measurement starts on a server that has
    drained whatever the previous scenario left queued; record one run of ``s``."""
    args = ctx.args
    auth = server.headers.get("Authorization")
    if s.transport == "grpc":
        r = grpc_load(ctx.grpc_python, server.grpc_port, s.body_file, auth, args.warmup,
                      args.duration, s.connections)  # fmt: skip
    else:
        url = f"http://127.0.0.1:{server.port}"
        wrk(url + s.path, s.body_file, auth, args.warmup, s.connections, args.threads)
        r = wrk(url + s.path, s.body_file, auth, args.duration, s.connections, args.threads)
    s.runs.append(r)
    say(
        f"[round {round_ + 1}] {s.server:<16} {s.scenario:<10} "
        f"{r['rps']:9.1f} req/s  p50 {r['latency_ms']['p50']:8.2f} ms  "
        f"p99 {r['latency_ms']['p99']:8.2f} ms  "
        f"{r['rps'] * s.rows:11.0f} rows/s"
        + (f"  client CPU {r['client_cpu_s'] / r['seconds']:.0%}" if "client_cpu_s" in r else "")
        + (f"  FAILED {r['failed']}: {r['errors']}" if r["failed"] else "")
    )


TARGETS = {"single": 1.2, "batch-1000": 1.5}  # verdict's throughput / the best peer's
FLOOR_TARGET = 0.6  # verdict's throughput / the floor's


def _is_peer(server: str) -> bool:
    return server.split()[0] in PEERS


def report(results: list[dict], facts: dict, args, wall: float) -> None:
    def key(r: dict) -> tuple[str, str]:
        return r["transport"], r["scenario"]

    best: dict[tuple[str, str], dict] = {}
    for r in results:
        if _is_peer(r["server"]) and (
            key(r) not in best or r["requests_per_s"] > best[key(r)]["requests_per_s"]
        ):
            best[key(r)] = r
    floor = {key(r): r for r in results if r["server"] == "floor"}
    mlflow = {key(r): r for r in results if r["server"] == "mlflow"}

    say("")
    say(
        f"Serving, {args.rounds} rounds x {args.duration:g} s per scenario (medians), HTTP: wrk "
        f"-t{args.threads}, gRPC: one grpc.aio client process; {args.connections} connections "
        f"or calls in flight (batches: {args.batch_connections}), one worker per server; wall "
        f"{wall:.0f} s"
    )
    say(
        f"machine: {facts['cpu']}, {facts['cores']} cores, {facts['memory_gib']} GiB, "
        f"Python {facts['python']}; load average {facts['loadavg_start'][0]:.2f} at the start, "
        f"{facts['loadavg_end'][0]:.2f} at the end; wrk {facts['wrk']}"
    )
    for name, versions in facts["envs"].items():
        say(f"{name} env: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    say("")
    head = "| server | scenario | requests/s | p50 ms | p99 ms | rows/s | vs best peer | vs floor "
    rule = "|---|---|---:|---:|---:|---:|---:|---:|"
    if mlflow:
        head += "| vs MLflow "
        rule += "---:|"
    say(head + "| failed |")
    say(rule + "---:|")
    for r in results:
        peer, base, ml = best.get(key(r)), floor.get(key(r)), mlflow.get(key(r))
        vs_peer = vs_floor = vs_ml = ""
        if r["server"].startswith(("verdict", "baseline")) and peer:
            vs_peer = f"{r['requests_per_s'] / peer['requests_per_s']:.2f}x ({peer['server']})"
        if r["server"] != "floor" and base:
            vs_floor = f"{r['requests_per_s'] / base['requests_per_s']:.2f}x"
        if r["server"] != "mlflow" and ml:
            vs_ml = f"| {r['requests_per_s'] / ml['requests_per_s']:.2f}x "
        elif mlflow:
            vs_ml = "| "
        name = (
            r["server"]
            if r["transport"] == "http" or "grpc" in r["server"]
            else (f"{r['server']} ({r['transport']})")
        )
        say(
            f"| {name} | {r['scenario']} | {r['requests_per_s']:.1f} | {r['p50_ms']:.2f} "
            f"| {r['p99_ms']:.2f} | {r['rows_per_s']:,.0f} | {vs_peer} | {vs_floor} {vs_ml}"
            f"| {r['failed_requests']} |"
        )
    say("")
    say(
        "Each answers, per row, the class and the three class probabilities: verdict v1 one "
        "object per row (class, probabilities, model version, request id), verdict v2, KServe "
        "v2 and both gRPC servers the Open Inference Protocol's label and probability tensors, "
        "floor/BentoML/LitServe one record per row (label, probabilities), MLflow a record of "
        "label and probabilities (pyfunc over the same pickled pipeline). All run the "
        "pipeline's predict_proba except verdict+onnx."
    )
    if not args.verdict_grpc and "verdict" in args.only and not args.no_grpc:
        say("verdict grpc: skipped (`verdict serve` has no --grpc-port in this checkout).")
    for name, reason in args.left_out.items():
        say(f"{name}: left out (did not start, or answered wrongly): {reason}")
    baseline = {(r["server"].split()[-1], r["scenario"]): r for r in results
                if r["server"].startswith("baseline")}  # fmt: skip
    for r in results:
        old = baseline.get((r["server"].split()[-1], r["scenario"]))
        if r["server"].startswith("verdict ") and r["transport"] == "http" and old:
            say(
                f"vs baseline: {r['server']} {r['scenario']}: throughput "
                f"{r['requests_per_s'] / old['requests_per_s']:.3f}x, p50 "
                f"{r['p50_ms'] / old['p50_ms']:.3f}x, p99 {r['p99_ms'] / old['p99_ms']:.3f}x "
                f"({r['requests_per_s']:.1f} vs {old['requests_per_s']:.1f} req/s)"
            )
    for r in results:
        if not r["server"].startswith("verdict"):
            continue
        parts = []
        peer, base = best.get(key(r)), floor.get(key(r))
        if peer:
            ratio, want = r["requests_per_s"] / peer["requests_per_s"], TARGETS[r["scenario"]]
            parts.append(
                f"{ratio:.2f}x the best peer ({peer['server']}, {peer['rows_per_s']:,.0f} "
                f"rows/s; target >= {want:g}x: {'met' if ratio >= want else 'MISSED'})"
            )
        if base:
            ratio = r["requests_per_s"] / base["requests_per_s"]
            parts.append(
                f"{ratio:.2f}x the floor ({base['rows_per_s']:,.0f} rows/s; target >= "
                f"{FLOOR_TARGET:g}x: {'met' if ratio >= FLOOR_TARGET else 'MISSED'})"
            )
        if parts:
            say(f"target: {r['server']} {r['scenario']}, {r['rows_per_s']:,.0f} rows/s: "
                + "; ".join(parts))  # fmt: skip
    single = next((r for r in results if r["server"] == "verdict v1"
                   and r["scenario"] == "single"), None)  # fmt: skip
    if single and ("http", "single") in mlflow:
        ml = mlflow[("http", "single")]
        speed = single["requests_per_s"] / ml["requests_per_s"]
        p99 = single["p99_ms"] / ml["p99_ms"]
        say(
            f"done-when: single-row throughput {speed:.2f}x MLflow's (target >= 2x: "
            f"{'met' if speed >= 2 else 'MISSED'}); p99 {p99:.2f}x MLflow's (target <= 0.5x: "
            f"{'met' if p99 <= 0.5 else 'MISSED'})"
        )


if __name__ == "__main__":
    main()
