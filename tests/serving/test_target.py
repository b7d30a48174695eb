"""A replica of a deployment target: every response names the target, every logged row stores
it, and readiness can be opened to probes that cannot send an API key."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from serving_support import records, service, trained_home

from verdict.serving import ServiceSettings
from verdict.serving._app import create_app
from verdict.state import PredictionLog, open_state

PREDICT = "/v1/models/penguins/predict"
HEADER = "X-Verdict-Target"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return trained_home(tmp_path_factory)


@pytest.fixture(scope="module")
def svc(home, tmp_path_factory):
    with service(home, tmp_path_factory.mktemp("target"), target="aws-eu", max_body_bytes=20_000,
                 cors_origins=["https://app.example"]) as running:  # fmt: skip
        yield running


def test_success_and_every_error_carry_the_target(svc):
    answers = {
        200: svc.post(PREDICT, json={"instances": records(2)}),
        401: svc.client.post(PREDICT, json={"instances": records(2)}),
        404: svc.post("/v1/models/nope/predict", json={"instances": records(1)}),
        413: svc.post(PREDICT, content=b"x" * 30_000, headers={"Content-Type": "application/json"}),
        422: svc.post(PREDICT, json={"rows": []}),
    }
    answers["unmatched 404"] = svc.get("/no/such/path")
    answers["v2 404"] = svc.get("/v2/models/nope")
    answers["live"] = svc.client.get("/v2/health/live")
    answers["metrics"] = svc.get("/metrics")
    for status, response in answers.items():
        if isinstance(status, int):
            assert response.status_code == status, (status, response.text)
        assert response.headers[HEADER] == "aws-eu", status
        assert response.headers["X-Request-ID"]
    preflight = svc.client.options(
        PREDICT,
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 200 and preflight.headers[HEADER] == "aws-eu"
    cross = svc.post(PREDICT, json={"instances": records(1)},
                     headers={"Origin": "https://app.example"})  # fmt: skip
    assert HEADER in cross.headers["Access-Control-Expose-Headers"]  # readable by browsers


def test_not_started_503_carries_the_target(home, tmp_path):
    settings = ServiceSettings(home=tmp_path, state_url=f"sqlite:///{tmp_path}/s.db",
                               target="gcp-eu", public_readiness=True)  # fmt: skip
    with home.registry() as registry:
        client = TestClient(create_app(settings, registry), raise_server_exceptions=False)
        refused = client.get("/v2/models/penguins")  # no lifespan: keys cannot be checked
        ready = client.get("/v2/health/ready")  # public: answers, not ready yet
    assert refused.status_code == 503 and refused.headers[HEADER] == "gcp-eu"
    assert ready.status_code == 503 and ready.json() == {"ready": False}
    assert ready.headers[HEADER] == "gcp-eu"


def test_without_a_target_there_is_no_header(home, tmp_path):
    with service(home, tmp_path) as running:
        assert HEADER not in running.post(PREDICT, json={"instances": records(1)}).headers
        assert HEADER not in running.client.get("/v2/health/ready").headers


def test_readiness_needs_a_key_unless_public(home, tmp_path):
    with service(home, tmp_path / "closed") as closed:
        assert closed.client.get("/v2/health/ready").status_code == 401
        assert closed.get("/v2/health/ready").json() == {"ready": True}
    with service(home, tmp_path / "public", public_readiness=True) as public:
        assert public.client.get("/v2/health/ready").json() == {"ready": True}
        assert public.client.get("/v2/health/live").status_code == 200
        assert public.client.get("/v2/models/penguins/ready").status_code == 401  # only server's
        assert public.client.get("/v2").status_code == 401
        paths = public.client.get("/openapi.json", headers=public.auth).json()["paths"]
        assert paths["/v2/health/ready"]["get"]["security"] == []
        assert "security" not in paths["/v2/models/{name}/ready"]["get"]


def test_logged_predictions_and_feedback_store_the_target(home, tmp_path):
    with service(home, tmp_path, target="azure-us") as running:
        answer = running.post(PREDICT, json={"instances": records(3)}).json()
        rid = answer["request_id"]
        items = [
            {"request_id": rid, "row": 1, "label": "Adelie"},
            {"features": records(1)[0], "label": "Chinstrap", "model": "penguins"},
        ]
        assert running.post("/v1/feedback", json={"feedback": items}).status_code == 200
        state_url = running.state_url
    engine = open_state(state_url)
    try:
        log = PredictionLog(engine)
        logged = log.predictions("penguins")
        assert logged["target"].tolist() == ["azure-us"] * 3
        labelled = log.labelled("penguins")
        assert labelled["target"].tolist() == ["azure-us", "azure-us"]
        assert set(labelled["source"]) == {"prediction", "features"}
        with engine.connect() as connection:
            stored = connection.exec_driver_sql("SELECT target, source_id FROM feedback").all()
        assert stored == [("azure-us", None), ("azure-us", None)]
    finally:
        engine.dispose()


@pytest.mark.parametrize("bad", ["", "has space", "x" * 64, "-leading", "new\nline"])
def test_a_target_name_must_be_plain(bad):
    with pytest.raises(ValueError, match="target"):
        ServiceSettings(target=bad)


def test_request_ids_name_the_target_and_feedback_says_where_it_belongs(svc):
    answer = svc.post(PREDICT, json={"instances": records(2)})
    rid = answer.json()["request_id"]
    assert rid.startswith("aws-eu:") and len(rid) == len("aws-eu:") + 32
    items = [
        {"request_id": rid, "row": 1, "label": "Adelie"},
        {"request_id": "gcp-eu:" + "0" * 32, "label": "Gentoo", "model": "penguins"},
        {"request_id": "aws-eu:" + "0" * 32, "label": "Gentoo", "model": "penguins"},
    ]
    body = svc.post("/v1/feedback", json={"feedback": items}).json()
    assert body["attached"] == 1
    assert body["elsewhere"] == [{"request_id": "gcp-eu:" + "0" * 32, "row": 0,
                                  "target": "gcp-eu"}]  # fmt: skip
    assert body["unknown"] == [{"request_id": "aws-eu:" + "0" * 32, "row": 0}]
