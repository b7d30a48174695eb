"""Security: API keys on every endpoint but liveness (401 without or unknown, 403 revoked),
413 for bodies (announced or chunked) and rows, no stack traces, CORS off unless configured."""

from __future__ import annotations

import pytest
from serving_support import records, service, trained_home

from verdict.serving._deps import get_served
from verdict.state import KeyStore, open_state

PREDICT = "/v1/models/penguins/predict"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return trained_home(tmp_path_factory)


@pytest.fixture(scope="module")
def svc(home, tmp_path_factory):
    with service(home, tmp_path_factory.mktemp("security"), max_rows=50,
                 max_body_bytes=64_000) as running:  # fmt: skip
        yield running


def endpoints(app) -> list[tuple[str, str]]:
    """(method, concrete path) of every route the app declares, and the docs."""
    out = [("GET", "/openapi.json"), ("GET", "/docs")]
    for template, operations in app.openapi()["paths"].items():
        path = template.replace("{name}", "penguins").replace("{version}", "1")
        out += [(method.upper(), path) for method in operations]
    return out


def test_every_endpoint_but_liveness_needs_a_key(svc):
    revoked = _revoked_token(svc)
    checked = 0
    for method, path in endpoints(svc.app):
        open_ = path == "/v2/health/live"
        for headers, status in [
            ({}, 401),
            ({"Authorization": "Bearer vdk_000000000000_wrong"}, 401),
            ({"X-API-Key": revoked}, 403),
        ]:
            response = svc.client.request(method, path, headers=headers, json={})
            assert response.status_code == (200 if open_ else status), (method, path, headers)
            if not open_:
                assert "To fix:" in response.text
        checked += 1
    assert checked == 16  # 14 operations (KServe V1 included) and the two documentation pages
    assert svc.client.get("/v2", headers={"X-API-Key": svc.token}).status_code == 200


def _revoked_token(svc) -> str:
    engine = open_state(svc.state_url)
    keys = KeyStore(engine, cache_seconds=0)
    created = keys.create("to-revoke")
    keys.revoke(created.key_id)
    engine.dispose()
    svc.app.state.keys._loaded = float("-inf")  # see the revocation now, not within 1 s
    return created.token


def test_unauthorized_carries_the_error_shape(svc):
    v1 = svc.client.post(PREDICT, json={"instances": records(1)})
    assert v1.json()["error"]["kind"] == "unauthorized"
    assert v1.headers["www-authenticate"] == "Bearer"
    v2 = svc.client.get("/v2/models/penguins")
    assert isinstance(v2.json()["error"], str) and v2.json()["kind"] == "unauthorized"


def test_announced_body_over_the_limit_is_413(svc):
    big = b'{"instances": [' + b" " * 70_000 + b"]}"
    response = svc.post(PREDICT, content=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["kind"] == "too_large"


def test_chunked_body_over_the_limit_is_413(svc):
    def chunks():
        yield b'{"instances": ['
        for _ in range(100):
            yield b" " * 1000

    response = svc.post(PREDICT, content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_rows_over_the_limit_are_413(svc):
    response = svc.post(PREDICT, json={"instances": records(1) * 51})
    assert response.status_code == 413 and "VERDICT_MAX_ROWS" in response.text
    row = records(1)[0]
    inputs = [{"name": k, "shape": [51], "datatype": "BYTES", "data": [v] * 51}
              for k, v in row.items()]  # fmt: skip
    v2 = svc.post("/v2/models/penguins/infer", json={"inputs": inputs})
    assert v2.status_code == 413 and isinstance(v2.json()["error"], str)
    assert svc.post(PREDICT, json={"instances": records(1) * 50}).status_code == 200


def test_internal_errors_show_no_stack_trace(svc):
    def broken():
        raise RuntimeError("secret internals at /srv/app.py line 12")

    svc.app.dependency_overrides[get_served] = broken
    try:
        response = svc.post(PREDICT, json={"instances": records(1)})
        v2 = svc.post("/v2/models/penguins/infer", json={"inputs": []})
    finally:
        svc.app.dependency_overrides.clear()
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["kind"] == "internal" and error["request_id"] in error["message"]
    for text in (response.text, v2.text):
        assert "Traceback" not in text and "secret" not in text and "RuntimeError" not in text
    assert svc.post(PREDICT, json={"instances": records(1)}).status_code == 200


def test_cors_is_off_by_default(svc):
    response = svc.post(PREDICT, json={"instances": records(1)},
                        headers={"Origin": "https://evil.example"})  # fmt: skip
    assert "access-control-allow-origin" not in response.headers


def test_cors_when_configured(home, tmp_path):
    origin = "https://app.example"
    with service(home, tmp_path, cors_origins=[origin]) as running:
        preflight = running.client.options(
            PREDICT,
            headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                     "Access-Control-Request-Headers": "authorization,content-type"},
        )  # fmt: skip
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == origin
        simple = running.post(PREDICT, json={"instances": records(1)}, headers={"Origin": origin})
        assert simple.headers["access-control-allow-origin"] == origin
        refused = running.client.get("/v2", headers={"Origin": origin})  # 401 still has CORS
        assert refused.status_code == 401 and "access-control-allow-origin" in refused.headers
        other = running.post(PREDICT, json={"instances": records(1)},
                             headers={"Origin": "https://evil.example"})  # fmt: skip
        assert "access-control-allow-origin" not in other.headers


def test_openapi_declares_the_key_schemes(svc):
    schema = svc.get("/openapi.json").json()
    assert set(schema["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    assert schema["paths"]["/v2/health/live"]["get"]["security"] == []


def test_auth_off_serves_without_keys(home, tmp_path):
    with service(home, tmp_path, auth=False) as running:
        assert running.client.get("/v2/models/penguins").status_code == 200
