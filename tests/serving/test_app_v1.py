"""The v1 API: predict equals the loaded model, field-level 422s, feedback, the prediction log,
hot reload without a failed request, and one round trip against a real ``verdict serve``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time

import httpx
import numpy as np
import pytest
from serving_support import frame_of, records, service, trained_home

from verdict.state import KeyStore, PredictionLog, open_state

PREDICT = "/v1/models/penguins/predict"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return trained_home(tmp_path_factory)


@pytest.fixture(scope="module")
def svc(home, tmp_path_factory):
    with service(home, tmp_path_factory.mktemp("v1")) as running:
        yield running


@pytest.fixture(scope="module")
def loaded(home):
    with home.registry() as registry:
        return registry.load("penguins@production")


def test_predict_equals_the_loaded_model(svc, loaded):
    rows = records(20)
    response = svc.post(PREDICT, json={"instances": rows})
    assert response.status_code == 200, response.text
    body = response.json()
    rid = response.headers["x-request-id"]
    assert body["request_id"] == rid and body["model_version"] == loaded.ref == "penguins@v1"
    expected_labels = loaded.predict(frame_of(rows)).tolist()
    expected_proba = loaded.predict_proba(frame_of(rows))
    assert [p["class"] for p in body["predictions"]] == expected_labels
    got = np.array([[p["probabilities"][c] for c in loaded.classes] for p in body["predictions"]])
    np.testing.assert_allclose(got, expected_proba, rtol=1e-12, atol=0)
    assert [p["row"] for p in body["predictions"]] == list(range(20))
    assert {p["request_id"] for p in body["predictions"]} == {rid}
    assert {p["model_version"] for p in body["predictions"]} == {"penguins@v1"}


def test_a_client_request_id_is_kept_beside_the_servers_own(svc):
    sent = {"instances": records(1)}
    first = svc.post(PREDICT, json=sent, headers={"X-Request-ID": "abc-1"})
    again = svc.post(PREDICT, json=sent, headers={"X-Request-ID": "abc-1"})
    ids = [r.headers["x-request-id"] for r in (first, again)]
    assert ids[0] != ids[1] and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert [r.json()["request_id"] for r in (first, again)] == ids
    assert first.headers["x-client-request-id"] == again.headers["x-client-request-id"] == "abc-1"
    bad = svc.post(PREDICT, json=sent, headers={"X-Request-ID": "a b\n"})
    assert re.fullmatch(r"[0-9a-f]{32}", bad.headers["x-request-id"])
    assert "x-client-request-id" not in bad.headers


def test_unknown_category_is_accepted_and_reported(svc):
    row = {**records(1)[0], "island": "Atlantis"}
    response = svc.post(PREDICT, json={"instances": [row]})
    assert response.status_code == 200
    assert response.json()["unknown_categories"] == {"island": 1}


def _problem(response, kind):
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["kind"] == "invalid_rows" and "To fix:" in error["message"]
    return [d for d in error["details"] if d["kind"] == kind]


def test_wrong_type_is_a_field_level_422(svc):
    rows = records(3)
    rows[1]["bill_length_mm"] = "long"
    rows[2]["sex"] = ["male"]
    details = _problem(svc.post(PREDICT, json={"instances": rows}), "wrong_type")
    assert [d["loc"] for d in details] == [
        ["body", "instances", 1, "bill_length_mm"],
        ["body", "instances", 2, "sex"],
    ]
    assert "expected a number, got 'long'" in details[0]["message"]


def test_missing_feature_is_a_field_level_422(svc):
    rows = records(2)
    del rows[1]["island"]
    details = _problem(svc.post(PREDICT, json={"instances": rows}), "missing_feature")
    assert [d["loc"] for d in details] == [["body", "instances", 1, "island"]]


def _raw(body) -> dict:
    """A body with NaN/Infinity written as Python's json writes them (not standard JSON)."""
    return {"content": json.dumps(body), "headers": {"Content-Type": "application/json"}}


def test_nan_is_imputed_but_infinity_is_refused(svc):
    rows = records(2)
    rows[0]["bill_length_mm"] = float("nan")  # a missing value: imputed as in training
    assert svc.post(PREDICT, **_raw({"instances": rows})).status_code == 200
    rows[1]["body_mass_g"] = float("inf")
    details = _problem(svc.post(PREDICT, **_raw({"instances": rows})), "not_finite")
    assert [d["loc"] for d in details] == [["body", "instances", 1, "body_mass_g"]]


def test_missing_value_in_a_required_feature_is_refused(home, tmp_path):
    rows = records(2)
    rows[1]["island"] = None
    with service(home, tmp_path, required={"penguins": ["island"]}) as running:
        details = _problem(running.post(PREDICT, json={"instances": rows}), "missing_value")
    assert [d["loc"] for d in details] == [["body", "instances", 1, "island"]]


def test_schema_errors_use_the_error_shape(svc):
    response = svc.post(PREDICT, json={"rows": []})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["details"][0]["loc"] == ["body", "instances"]
    assert svc.post("/v1/models/nope/predict", json={"instances": records(1)}).status_code == 404


def test_feedback_and_the_prediction_log(home, tmp_path):
    with service(home, tmp_path) as running:
        answer = running.post(PREDICT, json={"instances": records(3)}).json()
        rid = answer["request_id"]
        items = [
            {"request_id": rid, "row": 1, "label": "Adelie"},
            {"request_id": "never-answered", "label": "Gentoo", "model": "penguins"},
            {"features": records(1)[0], "label": "Chinstrap", "model": "penguins"},
        ]
        response = running.post("/v1/feedback", json={"feedback": items})
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["attached"], body["with_features"]) == (1, 1)
        assert body["unknown"] == [{"request_id": "never-answered", "row": 0}]
        bad = running.post("/v1/feedback", json={"feedback": [{"label": "Adelie"}]})
        assert bad.status_code == 422
        assert bad.json()["error"]["details"][0]["loc"][:3] == ["body", "feedback", 0]
        elsewhere = {"features": records(1)[0], "label": "Adelie", "model": "nope"}
        assert running.post("/v1/feedback", json={"feedback": [elsewhere]}).status_code == 404
        state_url = running.state_url
    log = PredictionLog(open_state(state_url))  # after shutdown: everything was flushed
    logged = log.predictions("penguins")
    mine = logged[logged["request_id"] == rid].sort_values("row")
    assert mine["row"].tolist() == [0, 1, 2]
    assert mine["label"].tolist() == [p["class"] for p in answer["predictions"]]
    labelled = log.labelled("penguins")
    assert "Adelie" in labelled.loc[labelled["request_id"] == rid, "true_label"].tolist()


def test_hot_reload_without_failed_requests(home, tmp_path):
    with home.registry() as registry:
        registry.register(home.root / "run_full", "reloading", alias="production")
    failures, versions, stop = [], set(), threading.Event()
    url = "/v1/models/reloading/predict"
    with service(home, tmp_path, models=["reloading@production"], reload_seconds=0.1) as running:

        def hammer() -> None:
            while not stop.is_set():
                response = running.post(url, json={"instances": records(2)})
                if response.status_code != 200:
                    failures.append(response.text)
                else:
                    versions.add(response.json()["model_version"])

        threads = [threading.Thread(target=hammer) for _ in range(3)]
        for thread in threads:
            thread.start()
        with home.registry() as registry:
            registry.register(home.root / "run_full", "reloading", alias="production")
        deadline = time.monotonic() + 20
        while "reloading@v2" not in versions and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        for thread in threads:
            thread.join()
        ready = running.get("/v2/models/reloading").json()
    assert not failures
    assert versions == {"reloading@v1", "reloading@v2"}
    assert ready["versions"] == ["2"]


@pytest.mark.slow
def test_real_server_round_trip(home, tmp_path):
    state = open_state(f"sqlite:///{tmp_path}/service.db")  # the default state under VERDICT_HOME
    token = KeyStore(state).create("real").token
    state.dispose()
    env = {**os.environ, "VERDICT_HOME": str(tmp_path), "VERDICT_REGISTRY_URL": home.url,
           "VERDICT_ARTIFACT_STORE": str(home.artifacts)}  # fmt: skip
    command = [sys.executable, "-m", "verdict.cli", "serve", "--port", "0",
               "--model", "penguins@production"]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=tmp_path)  # fmt: skip
    try:
        line = process.stdout.readline()
        port = int(re.search(r":(\d+) ", line).group(1))
        base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}
        _wait_live(base, process)
        row = records(1)[0]
        inputs = [
            {"name": k, "shape": [1], "datatype": "BYTES" if isinstance(v, str) else "FP64",
             "data": [v]}
            for k, v in row.items()
        ]  # fmt: skip
        v2 = httpx.post(f"{base}/v2/models/penguins/infer", json={"inputs": inputs},
                        headers=headers, timeout=30)  # fmt: skip
        v1 = httpx.post(f"{base}{PREDICT}", json={"instances": [row]}, headers=headers, timeout=30)
        assert v2.status_code == 200 and v1.status_code == 200, (v2.text, v1.text)
        assert v2.json()["outputs"][0]["data"] == [v1.json()["predictions"][0]["class"]]
        assert httpx.get(f"{base}/metrics", timeout=10).status_code == 401
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert '"request_id"' in process.stderr.read()  # one JSON line per request


def _wait_live(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()
        try:
            if httpx.get(f"{base}/v2/health/ready", timeout=2).status_code in (200, 401):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("the server did not start in 30 s")


def test_an_error_carries_its_request_id_once(svc):
    bad = svc.post(PREDICT, json={"instances": [{"bill_length_mm": "long"}]})
    assert bad.status_code == 422
    assert len(bad.headers.get_list("x-request-id")) == 1
    assert bad.headers["x-request-id"] == bad.json()["error"]["request_id"]
