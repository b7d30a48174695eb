"""/metrics: requests, latency, rows, predictions per class, errors by kind, unknown
categories, model version info; one registry per app; one JSON log line per request."""

from __future__ import annotations

import json
import logging
import re

import pytest
from prometheus_client.parser import text_string_to_metric_families
from serving_support import records, service, trained_home

from verdict.serving._telemetry import Telemetry

PREDICT = "/v1/models/penguins/predict"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return trained_home(tmp_path_factory)


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """Every sample of the exposition, keyed by name and sorted labels."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(found, name, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_what_happened(home, tmp_path):
    with service(home, tmp_path) as svc:
        rows = records(6)
        good = svc.post(PREDICT, json={"instances": rows}).json()
        svc.post(PREDICT, json={"instances": [{**rows[0], "island": "Atlantis"}]})
        svc.post(PREDICT, json={"instances": [{**rows[0], "year": "last"}]})
        svc.client.get("/v2/models/penguins")  # no key
        response = svc.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    route = "/v1/models/{name}/predict"
    assert value(found, "verdict_requests_total", route=route, method="POST", status="200") == 2
    assert value(found, "verdict_requests_total", route=route, method="POST", status="422") == 1
    assert value(found, "verdict_request_seconds_count", route=route) == 3
    assert value(found, "verdict_rows_total", model="penguins") == 7
    classes = [p["class"] for p in good["predictions"]]
    for label in set(classes):
        counted = value(found, "verdict_predictions_total", model="penguins", version="1",
                        label=label)  # fmt: skip
        assert counted >= classes.count(label)
    assert value(found, "verdict_errors_total", kind="invalid_rows") == 1
    assert value(found, "verdict_errors_total", kind="unauthorized") == 1
    assert value(found, "verdict_unknown_categories_total", model="penguins", column="island") == 1
    info = dict(model="penguins", version="1", ref="penguins@v1", served="penguins@production",
                runtime="native")  # fmt: skip
    assert value(found, "verdict_model_info", **info) == 1
    assert value(found, "verdict_batch_rows_count", model="penguins") == 3


def test_each_app_has_its_own_registry(home, tmp_path):
    with service(home, tmp_path / "a") as first, service(home, tmp_path / "b") as second:
        first.post(PREDICT, json={"instances": records(2)})
        a = samples(first.get("/metrics").text)
        b = samples(second.get("/metrics").text)
    assert value(a, "verdict_rows_total", model="penguins") == 2
    assert value(b, "verdict_rows_total", model="penguins") == 0


def test_retired_versions_leave_the_model_info():
    telemetry = Telemetry()
    telemetry.serving("m", 1, "m@v1", "m@production")
    telemetry.serving("m", 2, "m@v2", "m@production")
    telemetry.retired("m", 1, "m@v1", "m@production")
    text = telemetry.render()[0].decode()
    assert 'ref="m@v2"' in text and 'ref="m@v1"' not in text


def test_one_json_log_line_per_request(home, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="verdict.serving.access"), \
            service(home, tmp_path) as svc:  # fmt: skip
        answer = svc.post(
            PREDICT, json={"instances": records(1)}, headers={"X-Request-ID": "trace-42"}
        )
    lines = [json.loads(r.getMessage()) for r in caplog.records
             if r.name == "verdict.serving.access"]  # fmt: skip
    mine = [line for line in lines if line.get("client_request_id") == "trace-42"]
    assert len(mine) == 1 and mine[0]["request_id"] == answer.headers["x-request-id"]
    assert mine[0]["status"] == 200 and mine[0]["model"] == "penguins"
    assert re.fullmatch(r"/v1/models/\{name\}/predict", mine[0]["route"])
