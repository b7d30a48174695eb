"""The scoring routes answered directly (``serving._hot``) answer exactly as through FastAPI's
router: same statuses, bodies, headers and metrics, successes and errors alike."""

from __future__ import annotations

import pytest
from serving_support import records, service, trained_home

from verdict.serving import _deps

V1 = "/v1/models/penguins/predict"
V2 = "/v2/models/penguins/infer"
FEATURES = ["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g",
            "sex", "year"]  # fmt: skip


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    home = trained_home(tmp_path_factory)
    with service(home, tmp_path_factory.mktemp("hot")) as running:
        yield running


def _v2_body(rows):
    types = {"island": "BYTES", "sex": "BYTES"}
    return {"inputs": [{"name": f, "shape": [len(rows)], "datatype": types.get(f, "FP64"),
                        "data": [r[f] for r in rows]} for f in FEATURES]}  # fmt: skip


CASES = [
    ("POST", V1, {"json": {"instances": records(3)}}),
    ("POST", V1, {"json": {"instances": [{**records(1)[0], "island": "Atlantis"}]}}),
    ("POST", V1, {"json": {"instances": [{"island": "Biscoe"}]}}),
    ("POST", V1, {"json": {"instances": []}}),
    ("POST", V1, {"content": b"{not json", "headers": {"Content-Type": "application/json"}}),
    ("POST", V1, {"content": b"{}", "headers": {"Content-Type": "text/plain"}}),
    ("POST", "/v1/models/nope/predict", {"json": {"instances": records(1)}}),
    ("POST", V2, {"json": _v2_body(records(2))}),
    ("POST", V2, {"json": {"inputs": []}}),
    ("POST", "/v2/models/penguins/versions/1/infer", {"json": _v2_body(records(1))}),
    ("POST", "/v2/models/penguins/versions/9/infer", {"json": _v2_body(records(1))}),
    ("POST", "/v2/models/nope/infer", {"json": _v2_body(records(1))}),
]


def _seen(response):
    body = response.json()
    headers = {k: v for k, v in response.headers.items() if k not in ("x-request-id", "date")}
    rid = response.headers["x-request-id"]
    return response.status_code, headers, _scrub(body, rid)


def _scrub(value, rid):
    if isinstance(value, dict):
        return {k: _scrub(v, rid) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, rid) for v in value]
    return "RID" if value == rid else value.replace(rid, "RID") if isinstance(value, str) else value


@pytest.mark.parametrize(("method", "path", "kwargs"), CASES)
def test_direct_answers_as_the_router(svc, method, path, kwargs):
    direct = _seen(svc.client.request(method, path, **_with_auth(svc, kwargs)))
    svc.app.dependency_overrides[_deps.get_settings] = _deps.get_settings  # forces the router
    try:
        routed = _seen(svc.client.request(method, path, **_with_auth(svc, kwargs)))
    finally:
        svc.app.dependency_overrides.clear()
    assert direct == routed


def _with_auth(svc, kwargs):
    return {**kwargs, "headers": {**svc.auth, **kwargs.get("headers", {})}}


def test_metrics_name_the_route(svc):
    svc.post(V1, json={"instances": records(1)})
    metrics = svc.get("/metrics").text
    assert 'route="/v1/models/{name}/predict"' in metrics
    assert 'route="unmatched"' not in metrics.split("verdict_request_seconds")[0]
