"""KServe's V1 protocol: ``:predict`` with instances as objects or lists, and model status."""

from __future__ import annotations

import json

import numpy as np
import pytest
from serving_support import frame_of, records, service, trained_home


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return trained_home(tmp_path_factory)


@pytest.fixture(scope="module")
def svc(home, tmp_path_factory):
    with service(home, tmp_path_factory.mktemp("kserve")) as running:
        yield running


@pytest.fixture(scope="module")
def model(home):
    with home.registry() as registry:
        return registry.load("penguins@production")


def _expected(model, rows):
    frame = frame_of(rows)[list(model.schema.features)]
    return model.predict(frame).tolist(), model.predict_proba(frame)


def test_objects_and_lists_give_the_pipeline_s_answers(svc, model):
    rows = records(15)
    status = svc.get("/v1/models/penguins").json()
    assert status["ready"] is True and status["inputs"] == list(model.schema.features)
    assert status["classes"] == list(model.classes)
    as_lists = [[r[f] for f in status["inputs"]] for r in rows]
    labels, proba = _expected(model, rows)
    for instances in (rows, as_lists):
        response = svc.post(
            "/v1/models/penguins:predict", content=json.dumps({"instances": instances})
        )  # no Content-Type, as some clients send
        assert response.status_code == 200, response.text
        predictions = response.json()["predictions"]
        assert [p["label"] for p in predictions] == labels
        assert np.allclose([p["probabilities"] for p in predictions], proba, rtol=0, atol=1e-12)


def test_errors_have_the_protocol_shape(svc):
    short = svc.post("/v1/models/penguins:predict", json={"instances": [["Biscoe", 40.0]]})
    assert short.status_code == 400 and "one value per feature" in short.json()["error"]
    mixed = svc.post("/v1/models/penguins:predict", json={"instances": [["Biscoe"], {"a": 1}]})
    assert mixed.status_code == 400 and "error" in mixed.json()
    empty = svc.post("/v1/models/penguins:predict", json={"instances": []})
    assert empty.status_code == 400
    wrong = svc.post("/v1/models/penguins:predict", json={"instances": [{**records(1)[0],
                     "bill_length_mm": "long"}]})  # fmt: skip
    assert wrong.status_code == 400 and "bill_length_mm" in wrong.json()["error"]
    unknown = svc.post("/v1/models/nope:predict", json={"instances": records(1)})
    assert unknown.status_code == 404 and "No model named 'nope'" in unknown.json()["error"]
    assert svc.get("/v1/models/nope").status_code == 404


def test_verdict_s_own_v1_is_unchanged(svc):
    response = svc.post("/v1/models/penguins/predict", json={"instances": records(2)})
    assert response.status_code == 200 and "class" in response.json()["predictions"][0]
    bad = svc.post("/v1/models/penguins/predict", json={"instances": [{"x": 1}]})
    assert bad.status_code == 422 and bad.json()["error"]["kind"] == "invalid_rows"
