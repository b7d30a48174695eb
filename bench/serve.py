"""``verdict serve`` against MLflow's scoring server, loaded with wrk on 127.0.0.1.

Both servers serve the same fitted pipeline: palmerpenguins' logistic (``softmax``) model,
trained once by ``verdict.pipeline.train`` and registered in a throwaway registry. verdict
serves it with ``python -m verdict.cli serve --model penguins@production`` (the secure
default: an API key is created and sent as ``Authorization: Bearer``); MLflow serves it with
``mlflow models serve --env-manager local`` from the benchmark's own virtual environment
(``bench/.venv-mlflow``, created here if missing: MLflow plus verdict in editable mode, so the
pipeline's classes import), saved as a pyfunc that returns the label and every class's
probability (``bench/serve_mlflow_model.py``). Each server answers, for every row, the class
and the probabilities of the three classes, checked against the pipeline's own
``predict_proba`` before timing. Both run the same number of uvicorn workers (1 by default).

Scenarios (wrk ``-t1``, ``bench/serve_wrk.lua`` posts a fixed body and prints percentiles):

- ``single``: one row per request at 16 connections: requests/s, p50, p99;
- ``batch-1000``: 1,000 rows per request (drawn with replacement from the complete penguins
  rows, seed 0): rows/s = requests/s x 1000.

verdict is measured through v1 (``POST /v1/models/penguins/predict``) and, for single rows, also
v2 (``POST /v2/models/penguins/infer``). The machine has two cores and wrk takes one of them,
so the servers never take load together: each round starts every server (idle ones cost
nothing), then for each scenario measures one server after the other (each measurement
preceded by its own warm-up, which also drains what the previous scenario left queued), so a
machine whose speed drifts over minutes (a shared VM) hits every server's figure of a scenario
alike; the order alternates between rounds. Figures are medians over the rounds.
``--verdict-env VERDICT_X=...`` changes a service setting for
diagnosis; the recorded figures use none (the shipped defaults: API keys on, prediction log
on, micro-batching ``auto``). ``--baseline-src CHECKOUT`` also serves verdict from another
checkout, interleaved scenario by scenario, and prints this one's figures as ratios of it:
how a change is measured against what it changes. Not part of ``make test``.

    .venv/bin/python bench/serve.py                       # 3 rounds x 10 s per scenario
    .venv/bin/python bench/serve.py --rounds 1 --duration 3 --warmup 1   # a quick look
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from peer_env import ensure_venv, say, venv_has

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
LUA = BENCH / "serve_wrk.lua"
MODEL_NAME = "penguins"
REF = f"{MODEL_NAME}@production"
BATCH_ROWS = 1000


# -- the benchmark's MLflow environment ------------------------------------------------------


def ensure_mlflow_venv(venv: Path, reinstall: bool) -> Path:
    """Create ``venv`` with MLflow and verdict (editable) unless it already has them."""
    python = ensure_venv(venv, "MLflow", ["mlflow"], "import mlflow.pyfunc", reinstall=reinstall)
    here = str(ROOT / "src")
    check = f"import verdict.registry, sys; sys.exit(not verdict.__file__.startswith({here!r}))"
    if reinstall or not venv_has(python, check):
        say(f"[setup] pip install -e {ROOT} into {venv}")
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-e", str(ROOT)], check=True)
    say(f"[setup] MLflow environment ready: {venv}")
    return python


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


def parse_mlflow(answer: dict, classes: list[str]) -> tuple[list, np.ndarray]:
    rows = answer["predictions"]
    return [r["label"] for r in rows], np.array([[r[c] for c in classes] for r in rows])


# -- processes --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
                if status == 200:
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


# -- the runs --------------------------------------------------------------------------------


@dataclass
class Scenario:
    server: str
    scenario: str
    path: str
    body_file: Path
    rows: int
    connections: int
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


def check_answers(
    name: str,
    server: Server,
    path: str,
    body: bytes,
    parse: Callable,
    loaded: Any,
    batch: pd.DataFrame,
) -> str:
    """POST the 1,000-row body once; labels and probabilities must match the pipeline's."""
    headers = {"Content-Type": "application/json", **server.headers}
    status, raw = http("POST", f"http://127.0.0.1:{server.port}{path}", body, headers)
    if status != 200:
        raise RuntimeError(f"{name} {path} answered {status}: {raw[:500]!r}")
    classes = [str(c) for c in loaded.classes]
    labels, proba = parse(json.loads(raw), classes)
    want = loaded.predict_proba(batch)
    want_labels = [str(c) for c in loaded.predict(batch)]
    diff = float(np.max(np.abs(proba - want)))
    if diff > 1e-9 or [str(x) for x in labels] != want_labels:
        raise RuntimeError(f"{name} {path}: answers differ from the pipeline's (max |dp| {diff})")
    return f"{name} {path}: 1000 rows match the pipeline (labels equal, max |dp| {diff:.1e})"


def machine_facts(mlflow_python: Path) -> dict:
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
        "import importlib.metadata as m, json, platform; "
        "print(json.dumps({'python': platform.python_version(), **{p: m.version(p) for p in "
        "['mlflow', 'fastapi', 'uvicorn', 'scikit-learn', 'numpy', 'pandas']}}))"
    )
    mlflow_env = json.loads(
        subprocess.run([str(mlflow_python), "-c", code], capture_output=True, text=True).stdout
    )
    import importlib.metadata as meta

    ours = {p: meta.version(p) for p in ["fastapi", "uvicorn", "scikit-learn", "numpy", "pandas"]}
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(mem_gib(), 1),
        "python": platform.python_version(),
        "verdict_env": ours,
        "mlflow_env": mlflow_env,
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
    bodies: dict,
) -> tuple[Any, list[Scenario], list[tuple]]:
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
    checks = [(f"{label} v1", v1, bodies["v1-batch"], parse_v1)]
    if not args.no_v2:
        scenarios += [
            Scenario(f"{label} v2", "single", v2, home / "v2-single.json", 1, single),
            Scenario(f"{label} v2", "batch-1000", v2, home / "v2-batch.json", BATCH_ROWS, batch),
        ]
        checks.append((f"{label} v2", v2, bodies["v2-batch"], parse_v2))
    return make_verdict, scenarios, checks


def baseline_plan(
    args: Any, python: str, verdict_env: dict, home: Path, bodies: dict
) -> tuple[Any, list[Scenario], list[tuple]]:
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
    return verdict_plan(args, "baseline", "native", python, env, base, bearer, bodies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="Repetitions (medians over them).")
    parser.add_argument("--duration", type=float, default=10.0, help="Seconds per wrk run.")
    parser.add_argument("--warmup", type=float, default=5.0, help="Warm-up seconds per scenario.")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--batch-connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads.")
    parser.add_argument("--workers", type=int, default=1, help="Workers of each server.")
    parser.add_argument("--no-v2", action="store_true", help="Skip verdict's v2 runs.")
    parser.add_argument(
        "--runtimes", default="native,onnx",
        help="verdict runtimes to measure, comma-separated (native: the pipeline; onnx: its "
        "verified ONNX export).",
    )  # fmt: skip
    parser.add_argument("--only", choices=["verdict", "mlflow"], help="Run one server only.")
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
    parser.add_argument("--reinstall", action="store_true", help="Reinstall the MLflow env.")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder.")
    parser.add_argument("--json", help="Write the figures to this file.")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk).")

    started = time.perf_counter()
    mlflow_python = ensure_mlflow_venv(args.mlflow_venv.resolve(), args.reinstall)
    facts = machine_facts(mlflow_python)
    say(f"[machine] {json.dumps(facts)}")

    home = Path(tempfile.mkdtemp(prefix="verdict-bench-serve-"))
    servers: list[Server] = []
    try:
        results = run_all(args, home, mlflow_python, servers)
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


def run_all(args, home: Path, mlflow_python: Path, servers: list[Server]) -> list[dict]:
    loaded = prepare_model(home)
    features = [c.name for c in loaded.schema.columns]
    single, batch = request_rows(features)
    bodies: dict[str, bytes] = {}
    for key, make, frame in [
        ("v1-single", body_v1, single),
        ("v1-batch", body_v1, batch),
        ("v2-single", body_v2, single),
        ("v2-batch", body_v2, batch),
        ("mlflow-single", body_mlflow, single),
        ("mlflow-batch", body_mlflow, batch),
    ]:
        bodies[key] = json.dumps(make(frame)).encode()
        (home / f"{key}.json").write_bytes(bodies[key])

    base_env = {k: v for k, v in os.environ.items() if not k.startswith("VERDICT_")}
    plans: dict[str, tuple[Callable[[], Server], list[Scenario], list]] = {}

    if args.only in (None, "mlflow"):
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
        checks = [("mlflow", "/invocations", bodies["mlflow-batch"], parse_mlflow)]
        plans["mlflow"] = (make_mlflow, scenarios, checks)

    if args.only in (None, "verdict"):
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
            plans[label] = verdict_plan(
                args, label, runtime, python, verdict_env, home, bearer, bodies
            )
        if args.baseline_src:
            plans["baseline"] = baseline_plan(args, python, verdict_env, home, bodies)

    order = list(plans)
    for round_ in range(args.rounds):
        names = order if round_ % 2 == 0 else order[::-1]
        running: dict[str, Server] = {}
        try:
            for name in names:
                make, _, checks = plans[name]
                server = running[name] = make()
                servers.append(server)
                ready = server.start()
                say(f"[round {round_ + 1}] {name} ready in {ready:.1f} s on port {server.port}")
                if round_ == 0:
                    for label, path, body, parse in checks:
                        say("[check] " + check_answers(label, server, path, body, parse,
                                                       loaded, batch))  # fmt: skip
            # Scenario by scenario, each server in turn (the others idle): machine drift over
            # a round hits every server's figure of a scenario alike.
            for i in range(len(plans[names[0]][1])):
                for name in names:
                    measure(args, running[name], plans[name][1][i], round_)
        finally:
            for server in running.values():
                server.stop()
                servers.remove(server)
    return [s.figures() for name in order for s in plans[name][1]]


def measure(args: Any, server: Server, s: Scenario, round_: int) -> None:
    """Warm up right before measuring, so the measurement starts on a server that has
    drained whatever the previous scenario left queued; record one run of ``s``."""
    auth = server.headers.get("Authorization")
    url = f"http://127.0.0.1:{server.port}"
    wrk(url + s.path, s.body_file, auth, args.warmup, s.connections, args.threads)
    r = wrk(url + s.path, s.body_file, auth, args.duration, s.connections, args.threads)
    s.runs.append(r)
    say(
        f"[round {round_ + 1}] {s.server:<10} {s.scenario:<10} "
        f"{r['rps']:9.1f} req/s  p50 {r['latency_ms']['p50']:8.2f} ms  "
        f"p99 {r['latency_ms']['p99']:8.2f} ms  "
        f"{r['rps'] * s.rows:11.0f} rows/s"
        + (f"  FAILED {r['failed']}: {r['errors']}" if r["failed"] else "")
    )


def report(results: list[dict], facts: dict, args, wall: float) -> None:
    mlflow = {r["scenario"]: r for r in results if r["server"] == "mlflow"}
    say("")
    say(
        f"Serving, {args.rounds} rounds x {args.duration:g} s per scenario (medians), wrk "
        f"-t{args.threads}, {args.connections} connections (batches: "
        f"{args.batch_connections}), {args.workers} worker(s) per server; wall {wall:.0f} s"
    )
    say(
        f"machine: {facts['cpu']}, {facts['cores']} cores, {facts['memory_gib']} GiB, "
        f"Python {facts['python']}; load average {facts['loadavg_start'][0]:.2f} at the start, "
        f"{facts['loadavg_end'][0]:.2f} at the end"
    )
    say(f"verdict env: {facts['verdict_env']}")
    say(f"MLflow env: {facts['mlflow_env']}; wrk {facts['wrk']}")
    say("")
    say(
        "| server | scenario | requests/s | p50 ms | p99 ms | rows/s | throughput vs MLflow "
        "| MLflow p99 / ours | failed |"
    )
    say("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        peer = mlflow.get(r["scenario"])
        if r["server"] != "mlflow" and peer:
            ratio = f"{r['requests_per_s'] / peer['requests_per_s']:.2f}x"
            p99 = f"{peer['p99_ms'] / r['p99_ms']:.2f}x"
        else:
            ratio = p99 = ""
        say(
            f"| {r['server']} | {r['scenario']} | {r['requests_per_s']:.1f} | {r['p50_ms']:.2f} "
            f"| {r['p99_ms']:.2f} | {r['rows_per_s']:,.0f} | {ratio} | {p99} "
            f"| {r['failed_requests']} |"
        )
    say("")
    say(
        "Each answers, per row, the class and the three class probabilities: verdict v1 one "
        "object per row (class, probabilities, model version, request id), v2 the Open "
        "Inference Protocol's label and probability tensors, MLflow a record of label and "
        "probabilities (pyfunc over the same pickled pipeline)."
    )
    baseline = {(r["server"].split()[-1], r["scenario"]): r for r in results
                if r["server"].startswith("baseline")}  # fmt: skip
    for r in results:
        old = baseline.get((r["server"].split()[-1], r["scenario"]))
        if r["server"].startswith("verdict ") and old:
            say(
                f"vs baseline: {r['server']} {r['scenario']}: throughput "
                f"{r['requests_per_s'] / old['requests_per_s']:.3f}x, p50 "
                f"{r['p50_ms'] / old['p50_ms']:.3f}x, p99 {r['p99_ms'] / old['p99_ms']:.3f}x "
                f"({r['requests_per_s']:.1f} vs {old['requests_per_s']:.1f} req/s)"
            )
    ours = {(r["server"], r["scenario"]): r for r in results if r["server"].startswith("verdict")}
    single = ours.get(("verdict v1", "single"))
    if single and "single" in mlflow:
        speed = single["requests_per_s"] / mlflow["single"]["requests_per_s"]
        p99 = single["p99_ms"] / mlflow["single"]["p99_ms"]
        say(
            f"done-when: single-row throughput {speed:.2f}x MLflow's (target >= 2x: "
            f"{'met' if speed >= 2 else 'MISSED'}); p99 {p99:.2f}x MLflow's (target <= 0.5x: "
            f"{'met' if p99 <= 0.5 else 'MISSED'})"
        )
    for (server, scenario), r in sorted(ours.items()):
        if scenario != "batch-1000":
            continue
        rows = r["rows_per_s"]
        say(
            f"done-when: 1,000-row batches, {server}: {rows:,.0f} rows/s (target >= 100,000: "
            f"{'met' if rows >= 100_000 else 'missed'})"
        )


if __name__ == "__main__":
    main()
