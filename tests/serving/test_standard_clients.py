"""Standard inference clients work against ``verdict serve`` unchanged.

One real service (HTTP, gRPC on ``VERDICT_GRPC_PORT=0``, Prometheus on
``VERDICT_METRICS_PORT=0``) scores 24 complete palmerpenguins rows through Triton's
``tritonclient`` (HTTP binary, HTTP JSON, HTTP with the outputs left to the server, gRPC) and
KServe's SDK (REST v2 binary and JSON, gRPC typed and raw, V1 ``:predict``), each in the
separate ``.venv-clients`` (clients_support.py) through client_driver.py: every mode must give
the labels and probabilities that ``verdict predict`` writes for the same rows, within 1e-9.
Also: no key is refused on gRPC (UNAUTHENTICATED) as on HTTP (401), and the metrics port answers
without a key in the Prometheus text format and, when asked, in OpenMetrics.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pandas as pd
import pytest
from clients_support import clients_python, run_driver
from process_support import penguins_home, service

from verdict.state import KeyStore, open_state

pytestmark = pytest.mark.slow

MODEL = "penguins"
CLASSES = ["Adelie", "Chinstrap", "Gentoo"]
TOLERANCE = 1e-9

# tritonclient modes and kserve modes run in two driver processes (one cannot import both)
TRITON_SCORING = ["triton_http_binary", "triton_http_json", "triton_http_server_outputs",
                  "triton_grpc", "grpc_x_api_key"]  # fmt: skip
TRITON_REFUSALS = ["grpc_no_key", "grpc_revoked_key"]
KSERVE_SCORING = ["kserve_rest", "kserve_rest_json", "kserve_grpc", "kserve_grpc_raw",
                  "kserve_v1", "kserve_v1_lists"]  # fmt: skip
GRPC_MODES = {"triton_grpc", "grpc_x_api_key", "grpc_no_key", "grpc_revoked_key",
              "kserve_grpc", "kserve_grpc_raw"}  # fmt: skip


def _rows() -> pd.DataFrame:
    """24 complete penguins rows spread over the three species (the data is sorted by them)."""
    from palmerpenguins import load_penguins

    rows = load_penguins().dropna().drop(columns=["species"]).iloc[::14].head(24)
    return rows.reset_index(drop=True)


def _expected(home: Path, rows: pd.DataFrame, tmp: Path) -> tuple[list[str], list[list[float]]]:
    """``verdict predict`` on the rows: labels and probabilities in the model's class order."""
    data, out = tmp / "rows.parquet", tmp / "scored.parquet"
    rows.to_parquet(data, index=False)
    done = subprocess.run(
        [sys.executable, "-m", "verdict.cli", "predict", MODEL, str(data), "-o", str(out),
         "--quiet"],
        capture_output=True, text=True, env={**os.environ, "VERDICT_HOME": str(home)},
    )  # fmt: skip
    assert done.returncode == 0, f"verdict predict failed:\n{done.stdout}\n{done.stderr}"
    scored = pd.read_parquet(out)
    classes = [c.removeprefix("proba_") for c in scored.columns if c.startswith("proba_")]
    assert classes == CLASSES
    probabilities = scored[[f"proba_{c}" for c in classes]].to_numpy(dtype=float).tolist()
    return scored["class"].astype(str).tolist(), probabilities


def _wait_line(lines: list[str], pattern: str, svc, timeout: float = 15.0) -> re.Match | None:
    """The first stdout line matching ``pattern`` (None if none came within ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in list(lines):
            if match := re.search(pattern, line):
                return match
        if svc.process.poll() is not None:
            break
        time.sleep(0.05)
    return None


def _revoked(home: Path) -> str:
    engine = open_state(f"sqlite:///{home / 'service.db'}")
    try:
        keys = KeyStore(engine)
        created = keys.create(f"revoked-{time.monotonic_ns()}")
        keys.revoke(created.key_id)
        return created.token
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The service, its gRPC address and metrics URL, the expected answers and every
    client mode's result (the two driver processes run at once)."""
    clients_python()  # build (or check) the client venv first: its failure is the message
    root = tmp_path_factory.mktemp("clients")
    home = penguins_home(root / "home")
    rows = _rows()
    labels, probabilities = _expected(home, rows, root)
    revoked = _revoked(home)  # before the service starts: it never saw the key active
    lines: list[str] = []
    variables = {"VERDICT_GRPC_PORT": "0", "VERDICT_METRICS_PORT": "0"}
    with service(home, stdout=lines, **variables) as svc:
        found = _wait_line(lines, r"verdict grpc on (\S+):(\d+)", svc)
        grpc_address = f"{found.group(1)}:{found.group(2)}" if found else None
        found = _wait_line(lines, r"verdict metrics on (http://\S+/metrics)", svc)
        metrics_url = found.group(1) if found else None
        missing = f"no such line on stdout: {lines!r}\nstderr: {''.join(svc.stderr)}"
        metadata = httpx.get(f"{svc.url}/v2/models/{MODEL}", headers=svc.headers).json()
        job = {
            "http_url": svc.url,
            "grpc_address": grpc_address,
            "api_key": svc.token,
            "revoked_key": revoked,
            "model": MODEL,
            "inputs": [{"name": i["name"], "datatype": i["datatype"]} for i in metadata["inputs"]],
            "rows": json.loads(rows.to_json(orient="records")),
        }
        results = {}
        groups = [TRITON_SCORING + TRITON_REFUSALS, KSERVE_SCORING]
        if grpc_address is None:  # the HTTP modes still run; the gRPC ones fail with the reason
            results = {m: {"error": f"no 'verdict grpc on' line: {missing}"} for m in GRPC_MODES}
            groups = [[m for m in group if m not in GRPC_MODES] for group in groups]
        with ThreadPoolExecutor(len(groups)) as pool:
            answers = list(pool.map(lambda modes: run_driver({**job, "modes": modes}), groups))
        results |= {mode: r for a in answers for mode, r in a["results"].items()}
        yield {
            "svc": svc,
            "metrics_url": metrics_url,
            "metrics_missing": f"no 'verdict metrics on' line: {missing}",
            "metadata": metadata,
            "labels": labels,
            "probabilities": probabilities,
            "results": results,
            "rows": len(rows),
        }


def _scored(served, mode: str) -> dict:
    result = served["results"][mode]
    assert "error" not in result, f"{mode}: {result['error']}\n{result.get('traceback', '')}"
    return result


@pytest.mark.parametrize("mode", TRITON_SCORING + KSERVE_SCORING)
def test_client_answers_as_verdict_predict(served, mode):
    result = _scored(served, mode)
    assert len(served["labels"]) == served["rows"] >= 20
    assert set(served["labels"]) == set(CLASSES)
    assert result["labels"] == served["labels"]
    got, want = result["probabilities"], served["probabilities"]
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert len(g) == len(CLASSES), (i, g)
        assert max(abs(a - b) for a, b in zip(g, w, strict=True)) <= TOLERANCE, (i, g, w)


def test_triton_http_binary_both_ways(served):
    """Binary inputs and outputs (the client's defaults), JSON both ways when asked, and binary
    outputs when the client leaves the outputs to the server (binary_data_output)."""
    inputs = [{"name": i["name"], "datatype": i["datatype"]} for i in served["metadata"]["inputs"]]
    binary = _scored(served, "triton_http_binary")
    assert binary["binary_outputs"] == ["label", "probabilities"]
    assert binary["model_metadata_inputs"] == inputs
    assert _scored(served, "triton_http_json")["binary_outputs"] == []
    chosen = _scored(served, "triton_http_server_outputs")
    assert chosen["output_names"] == ["label", "probabilities"]
    assert chosen["binary_outputs"] == ["label", "probabilities"]


def test_grpc_readiness_and_metadata(served):
    result = _scored(served, "triton_grpc")
    for call in ("server_metadata", "model_metadata"):
        assert "error" not in result[call], (call, result[call])
    assert result["server_live"] is True
    assert result["server_ready"] is True
    assert result["model_ready"] is True
    assert result["server_metadata"]["name"]
    model = result["model_metadata"]
    assert model["name"] == MODEL
    shapes = {  # MessageToJson writes int64 as strings
        t["name"]: (t["datatype"], [int(d) for d in t["shape"]]) for t in model["inputs"]
    }
    assert shapes == {t["name"]: (t["datatype"], t["shape"]) for t in served["metadata"]["inputs"]}
    outputs = {t["name"]: t["datatype"] for t in model["outputs"]}
    assert outputs == {"label": "BYTES", "probabilities": "FP64"}
    # tritonclient sends raw_input_contents: the answer comes raw too
    assert result["raw_output_contents"] == 2
    assert _scored(served, "grpc_x_api_key")["raw_output_contents"] == 2
    assert _scored(served, "kserve_grpc_raw")["raw_outputs"] == 2


@pytest.mark.parametrize(
    ("mode", "seen"),
    [
        ("kserve_rest", ("server_live", "model_ready")),
        ("kserve_rest_json", ("server_live", "model_ready")),
        ("kserve_grpc", ("server_live", "server_ready", "model_ready")),
        ("kserve_grpc_raw", ("server_live", "server_ready", "model_ready")),
        ("kserve_v1", ("model_ready",)),  # GET /v1/models/{name}
    ],
)
def test_kserve_client_sees_ready(served, mode, seen):
    result = _scored(served, mode)
    assert {key: result[key] for key in seen} == dict.fromkeys(seen, True)


def test_v1_model_status(served):
    svc = served["svc"]
    answer = httpx.get(f"{svc.url}/v1/models/{MODEL}", headers=svc.headers)
    assert answer.status_code == 200, answer.text
    status = answer.json()
    assert {k: status[k] for k in ("name", "ready")} == {"name": MODEL, "ready": True}
    assert status["classes"] == ["Adelie", "Chinstrap", "Gentoo"]


def test_no_key_refused_on_grpc_as_on_http(served):
    svc = served["svc"]
    body = {"inputs": [{"name": "year", "datatype": "INT64", "shape": [1], "data": [2008]}]}
    answer = httpx.post(f"{svc.url}/v2/models/{MODEL}/infer", json=body)
    assert answer.status_code == 401, answer.text
    result = served["results"]["grpc_no_key"]
    assert result.get("status") == "StatusCode.UNAUTHENTICATED", result


def test_revoked_key_refused_on_grpc(served):
    result = served["results"]["grpc_revoked_key"]
    assert result.get("status") == "StatusCode.PERMISSION_DENIED", result


def test_metrics_port_prometheus_text(served):
    from prometheus_client.parser import text_string_to_metric_families

    assert served["metrics_url"], served["metrics_missing"]
    answer = httpx.get(served["metrics_url"])  # no key
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain"), answer.headers
    families = list(text_string_to_metric_families(answer.text))
    counters = [f for f in families if f.type == "counter"]
    gauges = [f for f in families if f.type == "gauge"]
    assert any(f.samples for f in counters), [f.name for f in families]
    for family in counters:  # (a labelled counter not yet counted has no samples)
        for sample in family.samples:
            assert sample.name.endswith("_total"), (family.name, sample.name)
    for family in gauges:
        assert not family.name.endswith("_total"), family.name
        for sample in family.samples:
            assert not sample.name.endswith("_total"), (family.name, sample.name)


def test_metrics_port_openmetrics(served):
    from prometheus_client.openmetrics.parser import text_string_to_metric_families

    assert served["metrics_url"], served["metrics_missing"]
    accept = "application/openmetrics-text; version=1.0.0; charset=utf-8"
    answer = httpx.get(served["metrics_url"], headers={"Accept": accept})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/openmetrics-text")
    assert answer.text.rstrip().endswith("# EOF")
    families = list(text_string_to_metric_families(answer.text))
    assert any(f.type == "counter" for f in families), [f.name for f in families]
