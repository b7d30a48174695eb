"""The Open Inference Protocol v2: health, metadata, both input layouts, outputs, errors."""

from __future__ import annotations

import numpy as np
import pytest
from serving_support import NUMERIC, frame_of, records, service, trained_home


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return trained_home(tmp_path_factory)


@pytest.fixture(scope="module")
def svc(home, tmp_path_factory):
    with service(home, tmp_path_factory.mktemp("v2")) as running:
        yield running


@pytest.fixture(scope="module")
def models(home):
    with home.registry() as registry:
        return {name: registry.load(f"{name}@production") for name in ("penguins", "numeric")}


def per_feature(rows, model):
    """One tensor per feature, datatypes as the metadata advertises."""
    kinds = {t["name"]: t["datatype"] for t in _metadata_inputs(model)}
    return [
        {"name": f, "shape": [len(rows)], "datatype": kinds[f], "data": [r[f] for r in rows]}
        for f in model.schema.features
    ]


def _metadata_inputs(model):
    from verdict.serving._tensors import input_metadata

    return input_metadata(model.schema)


def _outputs(body):
    return {o["name"]: o for o in body["outputs"]}


def test_health_and_server_metadata(svc):
    assert svc.client.get("/v2/health/live").json() == {"live": True}
    assert svc.get("/v2/health/ready").json() == {"ready": True}
    meta = svc.get("/v2").json()
    assert meta["name"] == "verdict" and meta["extensions"] == ["binary_tensor_data"]


def test_model_metadata_and_ready(svc, models):
    meta = svc.get("/v2/models/penguins").json()
    assert meta["name"] == "penguins" and meta["versions"] == ["1"]
    assert [t["name"] for t in meta["inputs"]] == list(models["penguins"].schema.features)
    assert {t["name"]: t["datatype"] for t in meta["inputs"]}["island"] == "BYTES"
    assert meta["outputs"] == [
        {"name": "label", "datatype": "BYTES", "shape": [-1]},
        {"name": "probabilities", "datatype": "FP64", "shape": [-1, 3]},
    ]
    assert svc.get("/v2/models/penguins/versions/1").json() == meta
    assert svc.get("/v2/models/penguins/ready").json() == {"name": "penguins", "ready": True}
    assert svc.get("/v2/models/penguins/versions/1/ready").json()["ready"] is True


def test_unknown_model_or_version_is_a_protocol_error(svc):
    for path in ("/v2/models/nope", "/v2/models/penguins/versions/7/ready"):
        response = svc.get(path)
        assert response.status_code == 404
        body = response.json()
        assert isinstance(body["error"], str) and "To fix:" in body["error"]


def test_infer_per_feature_tensors_equals_the_loaded_model(svc, models):
    model, rows = models["penguins"], records(15)
    body = {"id": "req-7", "inputs": per_feature(rows, model)}
    response = svc.post("/v2/models/penguins/infer", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    head = (answer["model_name"], answer["model_version"], answer["id"])
    assert head == ("penguins", "1", "req-7")
    out = _outputs(answer)
    assert out["label"]["data"] == model.predict(frame_of(rows)).tolist()
    assert out["label"]["shape"] == [15] and out["probabilities"]["shape"] == [15, 3]
    proba = np.array(out["probabilities"]["data"]).reshape(15, 3)
    np.testing.assert_allclose(proba, model.predict_proba(frame_of(rows)), rtol=1e-12, atol=0)


def test_infer_with_one_bytes_matrix(svc, models):
    model, rows = models["penguins"], records(5)
    features = model.schema.features
    matrix = [[r[f] for f in features] for r in rows]
    body = {"inputs": [{"name": "input", "shape": [5, len(features)], "datatype": "BYTES",
                        "data": matrix}]}  # fmt: skip
    answer = svc.post("/v2/models/penguins/versions/1/infer", json=body).json()
    assert _outputs(answer)["label"]["data"] == model.predict(frame_of(rows)).tolist()


def test_infer_with_one_fp32_matrix_for_a_numeric_model(svc, models):
    model = models["numeric"]
    rows = [r for r in records(10, drop=("species", "island", "sex", "year"))
            if None not in r.values()]  # fmt: skip
    flat = [float(np.float32(r[f])) for r in rows for f in NUMERIC]
    body = {"inputs": [{"name": "x", "shape": [len(rows), 4], "datatype": "FP32", "data": flat}]}
    answer = svc.post("/v2/models/numeric/infer", json=body)
    assert answer.status_code == 200, answer.text
    as_sent = frame_of([dict(zip(NUMERIC, flat[i * 4 : i * 4 + 4], strict=True))
                        for i in range(len(rows))])  # fmt: skip
    assert _outputs(answer.json())["label"]["data"] == model.predict(as_sent).tolist()


def test_requested_outputs_only(svc, models):
    body = {"inputs": per_feature(records(2), models["penguins"]),
            "outputs": [{"name": "probabilities"}]}  # fmt: skip
    answer = svc.post("/v2/models/penguins/infer", json=body).json()
    assert [o["name"] for o in answer["outputs"]] == ["probabilities"]
    body["outputs"] = [{"name": "logits"}]
    response = svc.post("/v2/models/penguins/infer", json=body)
    assert response.status_code == 400 and "logits" in response.json()["error"]


def test_tensor_problems_are_field_level(svc, models):
    inputs = per_feature(records(3), models["penguins"])
    inputs[1]["data"][2] = "long"  # bill_length_mm of row 2
    response = svc.post("/v2/models/penguins/infer", json={"inputs": inputs})
    assert response.status_code == 400  # the protocol's status for a request it cannot infer
    body = response.json()
    assert isinstance(body["error"], str)
    detail = body["details"][0]
    assert detail["loc"] == ["body", "inputs", 1, "data", 2] and detail["kind"] == "wrong_type"
    assert "bill_length_mm" in detail["message"]


def test_shape_and_missing_inputs_are_400(svc, models):
    inputs = per_feature(records(3), models["penguins"])
    short = [dict(t) for t in inputs]
    short[0] = {**short[0], "shape": [4]}
    response = svc.post("/v2/models/penguins/infer", json={"inputs": short})
    assert response.status_code == 400 and response.json()["details"][0]["loc"][-1] == "shape"
    missing = svc.post("/v2/models/penguins/infer", json={"inputs": inputs[1:]})
    assert missing.status_code == 400
    assert missing.json()["details"][0]["kind"] == "missing_feature"
    wrong = svc.post("/v2/models/penguins/infer", json={"inputs": [{"name": "m", "shape": [1, 3],
                     "datatype": "BYTES", "data": [1, 2, 3]}]})  # fmt: skip
    assert wrong.status_code == 400 and "matrix" in wrong.json()["error"]
