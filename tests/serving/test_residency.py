"""Residency's second line at the replica (``verdict.serving._residency``): only requests that
carry the gateway secret are answered (403 ``not_from_gateway``), the open probes excepted, and a
request marked with a strict zone other than the replica's own is refused (421 ``wrong_zone``;
400 ``bad_zone`` when the zone header is ambiguous), before the API key or the body is looked at.
"""

from __future__ import annotations

import asyncio
import re

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError
from serving_support import records, service, trained_home

from verdict.errors import ConfigurationError
from verdict.serving import ServiceSettings
from verdict.serving._app import create_app
from verdict.serving._errors import is_v2
from verdict.serving._residency import SECRET_HEADER, ResidencyGuard, guarded
from verdict.state import PredictionLog, open_state

PREDICT = "/v1/models/penguins/predict"
ZONE = "X-Verdict-Zone"
SECRET = "s3cret-Of-the-gateway_0123456789"
ORIGIN = "https://app.example"
ENV = ("VERDICT_ZONE", "VERDICT_STRICT_ZONES", "VERDICT_ZONE_HEADER", "VERDICT_GATEWAY_SECRET")


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return trained_home(tmp_path_factory)


@pytest.fixture(scope="module")
def us(home, tmp_path_factory):
    """A replica of target aws-us in zone us, in a deployment where eu is strict."""
    with service(home, tmp_path_factory.mktemp("residency_us"), target="aws-us", zone="us",
                 strict_zones=["eu"], gateway_secret=SECRET, max_body_bytes=20_000,
                 cors_origins=[ORIGIN]) as running:  # fmt: skip
        yield running


@pytest.fixture
def clean_env(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def through(svc, *extra: tuple[str, str]) -> list[tuple[str, str]]:
    """The headers a request forwarded by the gateway carries (key and secret), and ``extra``."""
    return [("Authorization", f"Bearer {svc.token}"), (SECRET_HEADER, SECRET), *extra]


def predict(svc, headers, n: int = 1):
    return svc.client.post(PREDICT, json={"instances": records(n)}, headers=headers)


def endpoints(app) -> list[tuple[str, str]]:
    """(method, concrete path) of every route the app declares, and the docs."""
    out = [("GET", "/openapi.json"), ("GET", "/docs")]
    for template, operations in app.openapi()["paths"].items():
        path = template.replace("{name}", "penguins").replace("{version}", "1")
        out += [(method.upper(), path) for method in operations]
    return out


def kind_of(response) -> str:
    """The error kind in either shape: v1's ``{"error": {...}}`` or v2's ``{"error": "..."}``."""
    body = response.json()
    return body["error"]["kind"] if isinstance(body["error"], dict) else body["kind"]


def message_of(response) -> str:
    body = response.json()
    return body["error"]["message"] if isinstance(body["error"], dict) else body["error"]


def errors_counted(svc) -> dict[str, float]:
    """``verdict_errors_total`` by kind, read through the gateway."""
    text = svc.client.get("/metrics", headers=through(svc)).text
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "verdict_errors_total":
                out[sample.labels["kind"]] = sample.value
    return out


# --- the gateway secret ---------------------------------------------------------------------


def test_without_the_secret_every_path_but_liveness_is_403(us):
    checked = 0
    for method, path in endpoints(us.app):
        auth = [("Authorization", f"Bearer {us.token}")]  # a valid key does not open it
        response = us.client.request(method, path, headers=auth, json={})
        if path == "/v2/health/live":
            assert response.status_code == 200, response.text
            continue
        assert response.status_code == 403, (method, path, response.text)
        assert kind_of(response) == "not_from_gateway", (method, path)
        assert "To fix:" in message_of(response)
        if is_v2(path):  # the inference protocols' shape there (v2, KServe V1)
            assert isinstance(response.json()["error"], str)
        else:
            assert set(response.json()["error"]) >= {"kind", "message", "request_id"}
        assert re.fullmatch(r"aws-us:[0-9a-f]{32}", response.headers["X-Request-ID"])
        assert response.headers["X-Verdict-Target"] == "aws-us"  # outermost layer still runs
        checked += 1
    assert checked == 15  # readiness is not public here: it needs the secret too
    assert us.client.get("/v2/models/penguins", headers=through(us)).status_code == 200


def test_refusals_have_the_v1_error_shape_and_a_fresh_request_id(us):
    first, second = (predict(us, [("Authorization", f"Bearer {us.token}")]) for _ in range(2))
    for response in (first, second):
        assert response.status_code == 403
        error = response.json()["error"]
        assert error["kind"] == "not_from_gateway" and "To fix:" in error["message"]
        assert SECRET_HEADER in error["message"]
        assert error["request_id"] == response.headers["X-Request-ID"]
        assert "predictions" not in response.json()
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


WRONG_SECRETS = {
    "missing": [],
    "empty": [(SECRET_HEADER, "")],
    "last-char": [(SECRET_HEADER, SECRET[:-1] + "X")],  # same length, last character differs
    "prefix": [(SECRET_HEADER, SECRET[:-1])],
    "longer": [(SECRET_HEADER, SECRET + "0")],
    "case": [(SECRET_HEADER, SECRET.upper())],  # values are compared as sent
    "twice": [(SECRET_HEADER, SECRET), (SECRET_HEADER, SECRET)],  # even if right
    "right-wrong": [(SECRET_HEADER, SECRET), (SECRET_HEADER, "wrong-wrong-wrong-wrong")],
    "wrong-right": [(SECRET_HEADER, "wrong-wrong-wrong-wrong"), (SECRET_HEADER, SECRET)],
    "other-header": [("X-Verdict-Gateway", SECRET)],
    "as-bearer": [("Authorization", f"Bearer {SECRET}")],
}


@pytest.mark.parametrize("sent", list(WRONG_SECRETS.values()), ids=list(WRONG_SECRETS))
def test_a_missing_wrong_or_repeated_secret_is_403(us, sent):
    headers = [("X-API-Key", us.token), *sent]
    response = predict(us, headers)
    assert response.status_code == 403, response.text
    assert kind_of(response) == "not_from_gateway"
    assert SECRET not in response.text and "wrong-wrong" not in response.text  # never echoed


def test_the_secret_header_name_is_not_case_sensitive(us):
    headers = [("X-API-Key", us.token), (SECRET_HEADER.lower(), SECRET)]
    assert predict(us, headers).status_code == 200
    headers = [("X-API-Key", us.token), (SECRET_HEADER.upper(), SECRET)]
    assert predict(us, headers).status_code == 200


def test_the_secret_is_checked_before_the_api_key(us):
    assert us.client.get("/v2/models/penguins").status_code == 403  # neither: the secret first
    no_key = us.client.get("/v2/models/penguins", headers=[(SECRET_HEADER, SECRET)])
    assert no_key.status_code == 401 and no_key.json()["kind"] == "unauthorized"
    bad_key = [(SECRET_HEADER, SECRET), ("X-API-Key", "vdk_000000000000_wrong")]
    assert us.client.get("/v2/models/penguins", headers=bad_key).status_code == 401


def test_the_secret_is_checked_before_the_body_is_read(us):
    key = [("X-API-Key", us.token), ("Content-Type", "application/json")]
    too_big = us.client.post(PREDICT, content=b"x" * 30_000, headers=key)
    assert too_big.status_code == 403 and kind_of(too_big) == "not_from_gateway"
    not_json = us.client.post(PREDICT, content=b"{not json", headers=key)
    assert not_json.status_code == 403
    # through the gateway the same requests reach the body checks
    assert us.client.post(PREDICT, content=b"x" * 30_000, headers=[*key, (SECRET_HEADER, SECRET)]
                          ).status_code == 413  # fmt: skip
    assert us.client.post(PREDICT, content=b"{not json", headers=[*key, (SECRET_HEADER, SECRET)]
                          ).status_code == 400  # fmt: skip


def test_a_refused_request_body_is_never_received(home, tmp_path):
    """At the ASGI level: the app answers 403 / 421 without once calling ``receive``."""
    settings = ServiceSettings(home=tmp_path, state_url=f"sqlite:///{tmp_path}/s.db", zone="us",
                               strict_zones=["eu"], gateway_secret=SECRET)  # fmt: skip
    with home.registry() as registry:
        app = create_app(settings, registry)  # not started: a request let through would get 503

        def call(headers: list[tuple[bytes, bytes]]) -> tuple[list[dict], int]:
            scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                     "method": "POST", "scheme": "http", "path": PREDICT, "raw_path":
                     PREDICT.encode(), "query_string": b"", "root_path": "",
                     "headers": [(b"content-type", b"application/json"), *headers],
                     "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}  # fmt: skip
            received, sent = [], []

            async def receive() -> dict:
                received.append(1)
                return {"type": "http.request", "body": b"{}", "more_body": False}

            async def send(message: dict) -> None:
                sent.append(message)

            asyncio.run(app(scope, receive, send))
            return sent, len(received)

        sent, received = call([])
        assert sent[0]["status"] == 403 and received == 0
        secret = (SECRET_HEADER.lower().encode(), SECRET.encode())
        sent, received = call([secret, (b"x-verdict-zone", b"eu")])
        assert sent[0]["status"] == 421 and received == 0
        sent, received = call([secret, (b"x-verdict-zone", b"eu, us")])
        assert sent[0]["status"] == 400 and received == 0
        sent, _ = call([secret, (b"x-verdict-zone", b"us")])  # let through: the app answers
        assert sent[0]["status"] == 503


def test_readiness_needs_the_secret_unless_public(us, home, tmp_path):
    assert us.client.get("/v2/health/ready").status_code == 403  # not public: key and secret
    assert us.client.get("/v2/health/ready", headers=through(us)).json() == {"ready": True}
    with service(home, tmp_path, public_readiness=True, gateway_secret=SECRET) as public:
        assert public.client.get("/v2/health/live").status_code == 200
        assert public.client.get("/v2/health/ready").json() == {"ready": True}  # probes
        for path in ("/v2", "/v2/models/penguins/ready", "/metrics"):  # only those two
            refused = public.client.get(path, headers=public.auth)
            assert refused.status_code == 403 and kind_of(refused) == "not_from_gateway", path


def test_metrics_need_the_secret(us):
    refused = us.client.get("/metrics", headers=[("X-API-Key", us.token)])
    assert refused.status_code == 403 and refused.json()["error"]["kind"] == "not_from_gateway"
    assert "verdict_errors_total" not in refused.text
    scraped = us.client.get("/metrics", headers=through(us))
    assert scraped.status_code == 200 and "verdict_errors_total" in scraped.text


def test_refusals_carry_cors_headers(us):
    refused = predict(us, [("X-API-Key", us.token), ("Origin", ORIGIN)])
    assert refused.status_code == 403
    assert refused.headers["access-control-allow-origin"] == ORIGIN


# --- the zone ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["eu", "EU", " eu ", "Eu\t"])
def test_a_strict_zone_elsewhere_is_421(us, value):
    response = predict(us, through(us, (ZONE, value)))
    assert response.status_code == 421, response.text
    error = response.json()["error"]
    assert error["kind"] == "wrong_zone" and "To fix:" in error["message"]
    assert "zone us" in error["message"] and "eu" in error["message"]
    assert "predictions" not in response.json()
    assert response.headers["X-Verdict-Target"] == "aws-us"


AMBIGUOUS_ZONES = {
    "eu-us": [(ZONE, "eu"), (ZONE, "us")],
    "us-us": [(ZONE, "us"), (ZONE, "us")],  # several lines, even if they agree
    "us-eu": [(ZONE, "us"), (ZONE, "eu")],
    "list": [(ZONE, "eu, us")],
    "list-no-space": [(ZONE, "us,eu")],
    "spaced": [(ZONE, "us eu")],
    "semicolon": [(ZONE, "us;eu")],
    "empty": [(ZONE, "")],
    "blank": [(ZONE, "   ")],
    "quoted": [(ZONE, '"us"')],
    "too-long": [(ZONE, "u" * 33)],
    "leading-dash": [(ZONE, "-us")],
    "latin1": [(ZONE, "\u00e9u".encode("latin-1"))],
}


@pytest.mark.parametrize("sent", list(AMBIGUOUS_ZONES.values()), ids=list(AMBIGUOUS_ZONES))
def test_an_ambiguous_zone_header_is_400(us, sent):
    response = predict(us, through(us, *sent))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["kind"] == "bad_zone" and "To fix:" in error["message"]
    assert ZONE in error["message"]


def test_the_zone_is_checked_before_the_api_key_and_after_the_secret(us):
    no_key = [(SECRET_HEADER, SECRET), (ZONE, "eu")]
    assert predict(us, no_key).status_code == 421
    assert predict(us, [(SECRET_HEADER, SECRET), (ZONE, "eu, us")]).status_code == 400
    no_secret = [("X-API-Key", us.token), (ZONE, "eu")]
    assert kind_of(predict(us, no_secret)) == "not_from_gateway"


@pytest.mark.parametrize("value", ["us", "US", " us ", "Us"])
def test_the_replicas_own_zone_passes(us, value):
    response = predict(us, through(us, (ZONE, value)), n=2)
    assert response.status_code == 200, response.text
    assert len(response.json()["predictions"]) == 2


@pytest.mark.parametrize("value", ["ap", "ch", "AP", "zone-9_x"])
def test_a_zone_that_is_not_strict_passes(us, value):
    assert predict(us, through(us, (ZONE, value))).status_code == 200


def test_no_zone_header_passes(us):
    assert predict(us, through(us)).status_code == 200
    assert us.client.get("/v2/models/penguins", headers=through(us)).status_code == 200


def test_refused_zones_are_not_served_or_logged(home, tmp_path):
    with service(home, tmp_path, target="aws-us", zone="us", strict_zones=["eu"],
                 gateway_secret=SECRET) as svc:  # fmt: skip
        for value in ("eu", "EU", " eu "):
            assert predict(svc, through(svc, (ZONE, value)), n=3).status_code == 421
        for sent in ([(ZONE, "eu"), (ZONE, "us")], [(ZONE, "eu, us")]):
            assert predict(svc, through(svc, *sent), n=3).status_code == 400
        assert predict(svc, [("X-API-Key", svc.token)], n=3).status_code == 403
        served = predict(svc, through(svc, (ZONE, "us")), n=2)
        assert served.status_code == 200
        text = svc.client.get("/metrics", headers=through(svc)).text
        state_url = svc.state_url
    rows = [f for f in text_string_to_metric_families(text) if f.name == "verdict_rows"]
    assert [s.value for f in rows for s in f.samples if s.name == "verdict_rows_total"] == [2]
    engine = open_state(state_url)
    try:
        logged = PredictionLog(engine).predictions("penguins")
        assert len(logged) == 2  # only the request served in its zone
        assert set(logged["request_id"]) == {served.json()["request_id"]}
    finally:
        engine.dispose()


def test_refusals_are_counted_by_kind(us):
    before = errors_counted(us)
    predict(us, [("X-API-Key", us.token)])
    predict(us, [("X-API-Key", us.token), (SECRET_HEADER, "nope-nope-nope-nope")])
    us.client.get("/metrics")
    for _ in range(2):
        predict(us, through(us, (ZONE, "eu")))
    predict(us, through(us, (ZONE, "eu"), (ZONE, "eu")))
    predict(us, through(us, (ZONE, "us")))  # served: counts nothing
    after = errors_counted(us)
    delta = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
    assert delta.get("not_from_gateway") == 3
    assert delta.get("wrong_zone") == 2
    assert delta.get("bad_zone") == 1
    assert {k: v for k, v in delta.items() if v} == {
        "not_from_gateway": 3, "wrong_zone": 2, "bad_zone": 1,
    }  # fmt: skip


def test_at_a_replica_of_the_strict_zone_its_own_requests_pass(home, tmp_path):
    with service(home, tmp_path, zone="eu", strict_zones=["eu", "ch"], auth=False) as eu:
        assert predict(eu, [(ZONE, "eu")]).status_code == 200
        assert predict(eu, [(ZONE, "EU")]).status_code == 200
        assert predict(eu, [(ZONE, "us")]).status_code == 200  # not strict: any target serves it
        assert predict(eu, [(ZONE, "ch")]).status_code == 421  # another strict zone
        assert predict(eu, []).status_code == 200  # no secret configured: none needed


def test_a_replica_without_a_zone_serves_no_strict_zone(home, tmp_path):
    with service(home, tmp_path, strict_zones=["eu"], auth=False) as zoneless:
        refused = predict(zoneless, [(ZONE, "eu")])
        assert refused.status_code == 421 and refused.json()["error"]["kind"] == "wrong_zone"
        assert predict(zoneless, [(ZONE, "us")]).status_code == 200
        assert predict(zoneless, []).status_code == 200


def test_the_zone_header_is_the_configured_one(home, tmp_path):
    with service(home, tmp_path, zone="us", strict_zones=["eu"], zone_header="X-Region",
                 auth=False) as svc:  # fmt: skip
        assert predict(svc, [(ZONE, "eu")]).status_code == 200  # not the header it reads
        assert predict(svc, [("X-Region", "eu")]).status_code == 421
        assert predict(svc, [("x-region", "eu")]).status_code == 421
        bad = predict(svc, [("X-Region", "eu"), ("X-Region", "us")])
        assert bad.status_code == 400 and "X-Region" in bad.json()["error"]["message"]


def test_without_strict_zones_the_zone_header_is_not_checked(home, tmp_path):
    with service(home, tmp_path, zone="us", gateway_secret=SECRET) as svc:
        for sent in ([(ZONE, "eu")], [(ZONE, "eu, us")], [(ZONE, "eu"), (ZONE, "us")]):
            assert predict(svc, through(svc, *sent)).status_code == 200, sent
        assert predict(svc, [("X-API-Key", svc.token), (ZONE, "us")]).status_code == 403


# --- when the guard is installed ----------------------------------------------------------------


def installed(settings: ServiceSettings, home) -> bool:
    with home.registry() as registry:
        app = create_app(settings, registry)
    return any(m.cls is ResidencyGuard for m in app.user_middleware)


def test_the_guard_is_installed_only_when_asked_for(home, tmp_path):
    base = {"home": tmp_path, "state_url": f"sqlite:///{tmp_path}/s.db"}
    nothing = [
        ServiceSettings(**base),
        ServiceSettings(**base, zone="eu"),
        ServiceSettings(**base, zone="eu", zone_header="X-Region", target="aws-eu"),
    ]
    for settings in nothing:
        assert not guarded(settings) and not installed(settings, home)
    for asked in [ServiceSettings(**base, gateway_secret=SECRET),
                  ServiceSettings(**base, strict_zones=["eu"])]:  # fmt: skip
        assert guarded(asked) and installed(asked, home)


def test_without_the_guard_nothing_is_refused_for_residency(home, tmp_path):
    with service(home, tmp_path, zone="us") as plain:
        for sent in ([(ZONE, "eu")], [(ZONE, "eu"), (ZONE, "us")], [(ZONE, "")]):
            assert predict(plain, [("X-API-Key", plain.token), *sent]).status_code == 200
        assert plain.client.get("/v2/health/ready", headers=plain.auth).status_code == 200


def test_a_not_started_app_still_refuses_first(home, tmp_path):
    settings = ServiceSettings(home=tmp_path, state_url=f"sqlite:///{tmp_path}/s.db",
                               gateway_secret=SECRET, public_readiness=True)  # fmt: skip
    with home.registry() as registry:
        client = TestClient(create_app(settings, registry), raise_server_exceptions=False)
        assert client.get("/v2/models/penguins").status_code == 403
        assert client.get("/v2/models/penguins", headers={SECRET_HEADER: SECRET}
                          ).status_code == 503  # fmt: skip
        assert client.get("/v2/health/ready").status_code == 503  # open, and not ready


# --- settings -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["eu,ch", " eu , ch ,", '["eu", "ch"]', ' [ "eu","ch" ] '])
def test_strict_zones_parse_from_commas_or_json(clean_env, value):
    clean_env.setenv("VERDICT_STRICT_ZONES", value)
    clean_env.setenv("VERDICT_ZONE", "us")
    clean_env.setenv("VERDICT_ZONE_HEADER", "X-Region")
    clean_env.setenv("VERDICT_GATEWAY_SECRET", SECRET)
    settings = ServiceSettings()
    assert settings.strict_zones == ["eu", "ch"]
    assert settings.zone == "us" and settings.zone_header == "X-Region"
    assert settings.gateway_secret is not None
    assert settings.gateway_secret.get_secret_value() == SECRET
    assert SECRET not in repr(settings) and SECRET not in str(settings)
    assert guarded(settings)


def test_the_defaults_ask_for_nothing(clean_env):
    settings = ServiceSettings()
    assert settings.strict_zones == [] and settings.zone is None
    assert settings.gateway_secret is None and settings.zone_header == "X-Verdict-Zone"
    clean_env.setenv("VERDICT_STRICT_ZONES", "")  # as rendered when no zone is strict
    assert ServiceSettings().strict_zones == [] and not guarded(ServiceSettings())


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [
        ("VERDICT_ZONE", "EU", "zone"),
        ("VERDICT_ZONE", "eu us", "zone"),
        ("VERDICT_ZONE", "", "zone"),
        ("VERDICT_ZONE", "z" * 33, "zone"),
        ("VERDICT_STRICT_ZONES", "eu,US", "strict_zones"),
        ("VERDICT_STRICT_ZONES", "eu;us", "strict_zones"),
        ("VERDICT_STRICT_ZONES", "eu us", "strict_zones"),
        ("VERDICT_STRICT_ZONES", '["eu", 1]', "strict_zones"),
        ("VERDICT_STRICT_ZONES", '["eu"', "strict_zones"),
        ("VERDICT_ZONE_HEADER", "X Zone", "zone_header"),
        ("VERDICT_ZONE_HEADER", "X-Zone:", "zone_header"),
    ],
)
def test_invalid_zone_settings_are_refused(clean_env, name, value, field):
    clean_env.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        ServiceSettings()
    assert {str(e["loc"][0]) for e in caught.value.errors()} == {field}


@pytest.mark.parametrize("value", ["", "Qz", "fifteen-chars15", "\u00e9" * 15])
def test_a_short_gateway_secret_is_refused_without_showing_it(clean_env, value):
    clean_env.setenv("VERDICT_GATEWAY_SECRET", value)
    with pytest.raises(ValidationError) as caught:
        ServiceSettings()
    assert [e["loc"] for e in caught.value.errors()] == [("gateway_secret",)]
    assert "16" in str(caught.value)
    if value:
        assert value not in str(caught.value) and value not in repr(caught.value.errors())
    with pytest.raises(ValidationError):
        ServiceSettings(gateway_secret=value)
    assert ServiceSettings(gateway_secret="x" * 16).gateway_secret is not None  # 16 is enough


def test_serve_reports_invalid_residency_settings_in_one_line(clean_env):
    from verdict.serving._run import read_settings

    clean_env.setenv("VERDICT_GATEWAY_SECRET", "short-secret")
    clean_env.setenv("VERDICT_STRICT_ZONES", "eu,US")
    with pytest.raises(ConfigurationError) as caught:
        read_settings({})
    message = str(caught.value)
    assert "gateway_secret" in message and "strict_zones" in message and "To fix:" in message
    assert "short-secret" not in message
