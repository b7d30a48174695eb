"""The client against a real service process (``python -m verdict.serving``, as ``verdict
serve`` runs it): what it reads back matches the wire, its feedback lands in the state
database, and the service's refusals arrive as ServiceErrors with the service's own words.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import httpx
import pytest
from palmerpenguins import load_penguins

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "serving"))

from process_support import ROW, service
from serving_support import records, trained_home

from verdict.client import Client
from verdict.errors import ServiceError
from verdict.state import PredictionLog, open_state

pytestmark = pytest.mark.slow  # a real service process
CLASSES = {"Adelie", "Chinstrap", "Gentoo"}
MAX_ROWS = 50


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    home = trained_home(tmp_path_factory).root
    with service(home, VERDICT_MAX_ROWS=str(MAX_ROWS)) as running:
        yield running


@pytest.fixture
def client(svc):
    with Client(svc.url, api_key=svc.token) as client:
        yield client


def _tensors(row: dict) -> list[dict]:
    kinds = {"island": "BYTES", "sex": "BYTES", "year": "INT64"}
    return [
        {"name": name, "shape": [1], "datatype": kinds.get(name, "FP64"), "data": [value]}
        for name, value in row.items()
    ]


def test_predict_reads_back_what_the_wire_carries(svc, client):
    rows = records(20)
    answer = client.predict("penguins", rows, request_id="mine-1")
    raw = httpx.post(f"{svc.url}/v1/models/penguins/predict", json={"instances": rows},
                     headers=svc.headers, timeout=30).json()  # fmt: skip
    assert len(answer) == 20 and answer.model == "penguins"
    assert answer.model_version == raw["model_version"] and answer.model_version.startswith(
        "penguins@v"
    )
    assert answer.labels == [p["class"] for p in raw["predictions"]]
    assert set(answer.labels) == CLASSES and set(answer.classes) == CLASSES
    for probabilities in answer.probabilities:
        assert math.isclose(sum(probabilities.values()), 1.0, rel_tol=1e-9)
    assert answer.request_id and answer.request_id != raw["request_id"]  # the service's own
    assert {p.request_id for p in answer.predictions} == {answer.request_id}
    assert answer.client_request_id == "mine-1" and answer.target is None


def test_a_dataframe_with_missing_values_is_scored(client):
    frame = load_penguins().drop(columns="species").head(10)
    assert frame.isna().any().any()  # row 3 is all missing: imputed as in training
    answer = client.predict("penguins", frame)
    assert len(answer) == 10 and set(answer.labels) <= CLASSES


def test_feedback_lands_in_the_state_database(svc, client):
    answer = client.predict("penguins", records(3))
    receipt = client.feedback(answer, answer.labels)
    assert (receipt.attached, receipt.with_features, receipt.unknown) == (3, 0, [])
    orphan = client.feedback("never-answered", "Adelie", model="penguins")
    assert orphan.attached == 0 and orphan.unknown == [("never-answered", 0)]
    engine = open_state(f"sqlite:///{svc.home / 'service.db'}")
    try:
        labelled = PredictionLog(engine).labelled("penguins")
    finally:
        engine.dispose()
    mine = labelled[labelled["request_id"] == answer.request_id].sort_values("row")
    assert mine["true_label"].tolist() == answer.labels


def test_health_and_the_v2_protocol_with_a_pinned_version(client):
    health = client.health()
    assert health.live and health.ready
    version = client.predict("penguins", [ROW]).model_version.split("@v")[1]
    inference = client.infer("penguins", _tensors(ROW), version=version, id="mine-2")
    assert inference.model_name == "penguins" and inference.model_version == version
    assert inference.id == "mine-2" and inference.request_id
    assert inference.outputs["label"].data == client.predict("penguins", [ROW]).labels
    assert inference.outputs["probabilities"].shape == [1, 3]
    with pytest.raises(ServiceError) as caught:
        client.infer("penguins", _tensors(ROW), version=int(version) + 1)
    assert caught.value.status == 404 and caught.value.kind == "version_not_found"


def test_without_a_key_only_liveness_answers(svc):
    with Client(svc.url, api_key="") as anonymous:
        with pytest.raises(ServiceError) as caught:
            anonymous.health()
        assert caught.value.status == 401 and caught.value.kind == "unauthorized"
        with pytest.raises(ServiceError) as caught:
            anonymous.predict("penguins", [ROW])
    error = caught.value
    assert error.status == 401 and error.request_id and "To fix:" in str(error)


@pytest.mark.parametrize(
    ("model", "rows", "status", "kind"),
    [
        ("nope", [ROW], 404, "model_not_found"),
        ("penguins", [{**ROW, "bill_length_mm": "long"}], 422, "invalid_rows"),
        ("penguins", [ROW] * (MAX_ROWS + 1), 413, "too_large"),
    ],
)
def test_refusals_carry_the_services_status_kind_and_request_id(client, model, rows, status, kind):
    with pytest.raises(ServiceError) as caught:
        client.predict(model, rows)
    error = caught.value
    assert (error.status, error.kind) == (status, kind), str(error)
    assert error.request_id and error.message.rstrip(".").split("To fix:")[1].strip()
    if status == 422:
        assert error.details[0]["loc"] == ["body", "instances", 0, "bill_length_mm"]
        assert error.details[0]["kind"] == "wrong_type"
