"""The client against a fake network (``httpx.MockTransport``): what it sends, how it reads the
service's answers, and how every failure becomes one ServiceError without an httpx traceback.

The bodies below are the service's own error shapes (``serving/_errors.py``): verdict's
``{"error": {...}}`` outside ``/v2`` and the protocol's ``{"error": "...", ...}`` under it.
"""

from __future__ import annotations

import json
import os
import socket
import traceback

import httpx
import numpy as np
import pandas as pd
import pytest

from verdict.client import Client, Feedback, Prediction
from verdict.errors import InvalidInputError, ServiceError, VerdictError

URL = "http://svc.test:8000"
ROW = {"island": "Biscoe", "bill_length_mm": 45.1}


def _predict_answer(n: int = 1, request_id: str = "rid-1") -> dict:
    return {
        "model": "penguins",
        "model_version": "penguins@v2",
        "request_id": request_id,
        "predictions": [
            {"row": i, "class": "Gentoo", "probabilities": {"Adelie": 0.1, "Gentoo": 0.9},
             "model_version": "penguins@v2", "request_id": request_id}
            for i in range(n)
        ],
        "unknown_categories": {"island": 1},
        "out_of_range": {},
    }  # fmt: skip


def _error(
    status: int, kind: str, message: str, *, details=(), rid: str = "rid-9"
) -> httpx.Response:
    body = {"error": {"kind": kind, "message": message, "details": list(details),
                      "more_details": 0, "request_id": rid}}  # fmt: skip
    return httpx.Response(status, json=body, headers={"X-Request-ID": rid})


def _client(handler, **kwargs) -> Client:
    key = kwargs.pop("api_key", "key-1")
    return Client(URL, api_key=key, transport=httpx.MockTransport(handler), **kwargs)


def _refused(handler, call=lambda c: c.predict("penguins", [ROW])) -> ServiceError:
    with _client(handler) as client, pytest.raises(ServiceError) as caught:
        call(client)
    return caught.value


def test_predict_sends_the_records_api_request_and_reads_the_answer():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["request"] = request
        headers = {"X-Request-ID": "rid-1", "X-Verdict-Target": "gcp-eu",
                   "X-Client-Request-ID": "mine-7"}  # fmt: skip
        return httpx.Response(200, json=_predict_answer(2), headers=headers)

    with _client(handler) as client:
        answer = client.predict("penguins", [ROW, {**ROW, "sex": None}], zone="eu",
                                request_id="mine-7")  # fmt: skip
    request = seen["request"]
    assert request.method == "POST" and str(request.url) == f"{URL}/v1/models/penguins/predict"
    assert request.headers["Authorization"] == "Bearer key-1"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Verdict-Zone"] == "eu" and request.headers["X-Request-ID"] == "mine-7"
    assert json.loads(request.content) == {"instances": [ROW, {**ROW, "sex": None}]}
    assert isinstance(answer, Prediction) and len(answer) == 2
    assert answer.model == "penguins" and answer.model_version == "penguins@v2"
    assert answer.request_id == "rid-1" and answer.target == "gcp-eu"
    assert answer.client_request_id == "mine-7"
    assert answer.labels == ["Gentoo", "Gentoo"] and answer.classes == ["Adelie", "Gentoo"]
    assert answer.probabilities[1] == {"Adelie": 0.1, "Gentoo": 0.9}
    assert answer.predictions[1].row == 1 and answer.predictions[0].request_id == "rid-1"
    assert answer.unknown_categories == {"island": 1} and answer.out_of_range == {}


def test_a_dataframe_and_numpy_values_travel_as_json_with_nan_as_null():
    bodies = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json=_predict_answer(2))

    frame = pd.DataFrame({"island": ["Biscoe", None], "bill_length_mm": [45.1, float("nan")]})
    with _client(handler) as client:
        client.predict("penguins", frame)
        client.predict("penguins", [{"bill_length_mm": np.float64("nan"), "year": np.int64(2008)}])
    assert bodies[0]["instances"] == [
        {"island": "Biscoe", "bill_length_mm": 45.1}, {"island": None, "bill_length_mm": None},
    ]  # fmt: skip
    assert bodies[1]["instances"] == [{"bill_length_mm": None, "year": 2008}]


def test_the_model_name_is_one_quoted_path_segment():
    urls = []

    def handler(request: httpx.Request) -> httpx.Response:
        urls.append(request.url.raw_path)
        return httpx.Response(200, json=_predict_answer())

    with _client(handler) as client:
        client.predict("a/b c", [ROW])
    assert urls == [b"/v1/models/a%2Fb%20c/predict"]


@pytest.mark.parametrize(
    ("status", "kind", "message"),
    [
        (401, "unauthorized", "No API key was sent. To fix: send a key as 'Authorization: ...'."),
        (404, "model_not_found", "No model named 'nope' is served here. To fix: use one of ..."),
        (413, "too_large", "The body is over 8388608 bytes. To fix: send fewer rows."),
        (503, "unavailable", "The service is shutting down. To fix: retry on another replica."),
    ],
)
def test_each_refusal_carries_the_services_status_kind_message_and_request_id(
    status, kind, message
):
    error = _refused(lambda request: _error(status, kind, message))
    assert isinstance(error, VerdictError)
    assert (error.status, error.kind, error.message) == (status, kind, message)
    assert error.request_id == "rid-9" and error.details == []
    text = str(error)
    assert f"HTTP {status}" in text and kind in text and "rid-9" in text
    assert f"POST {URL}/v1/models/penguins/predict" in text
    assert text.endswith(message) and "To fix:" in text


def test_a_422_keeps_the_field_level_details():
    detail = {"loc": ["body", "instances", 0, "bill_length_mm"], "kind": "wrong_type",
              "message": "row 0, column 'bill_length_mm': expected a number"}  # fmt: skip
    error = _refused(lambda request: _error(422, "invalid_rows", "1 value ... To fix: ...",
                                            details=[detail]))  # fmt: skip
    assert error.status == 422 and error.kind == "invalid_rows"
    assert error.details == [detail]


def test_the_protocol_error_shape_under_v2_is_read_too():
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v2/models/penguins/versions/3/infer"
        body = {"error": "Version '3' of 'penguins' is not served; version 2 is. To fix: ...",
                "kind": "version_not_found", "details": [], "more_details": 0,
                "request_id": "rid-v2"}  # fmt: skip
        return httpx.Response(404, json=body)

    inputs = [{"name": "bill_length_mm", "shape": [1], "datatype": "FP64", "data": [45.1]}]
    error = _refused(handler, lambda c: c.infer("penguins", inputs, version=3))
    assert (error.status, error.kind, error.request_id) == (404, "version_not_found", "rid-v2")
    assert error.message.startswith("Version '3' of 'penguins' is not served")


def test_an_answer_that_is_not_the_services_json_keeps_its_status_and_an_excerpt():
    page = "<html><body><h1>502 Bad Gateway</h1> The server returned an invalid response.</body>"
    error = _refused(lambda request: httpx.Response(502, text=page))
    assert error.status == 502 and error.kind == "bad_gateway" and error.request_id is None
    assert "502 Bad Gateway" in error.message and "To fix:" in error.message
    assert "svc.test:8000" in str(error)


def test_a_success_with_an_unreadable_body_is_a_bad_answer():
    error = _refused(lambda request: httpx.Response(200, json={"unexpected": True}))
    assert error.status == 200 and error.kind == "bad_answer" and "To fix:" in str(error)


@pytest.mark.parametrize(
    ("raised", "kind", "words"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), "unreachable", "could not connect"),
        (httpx.ConnectTimeout("timed out"), "timeout", "no answer within 2.5 s"),
        (httpx.ReadTimeout("timed out"), "timeout", "no answer within 2.5 s"),
        (httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
         "tls", "TLS handshake failed"),
        (httpx.RemoteProtocolError("Server disconnected"), "transport", "connection broke"),
    ],
)  # fmt: skip
def test_no_answer_at_all_is_a_service_error_without_status_or_httpx_traceback(raised, kind, words):
    def handler(request: httpx.Request) -> httpx.Response:
        raise raised

    with _client(handler, timeout=2.5) as client, pytest.raises(ServiceError) as caught:
        client.predict("penguins", [ROW])
    error = caught.value
    assert error.status is None and error.kind == kind
    assert words in str(error) and f"{URL}/v1/models/penguins/predict" in str(error)
    assert "To fix:" in str(error)
    assert error.__cause__ is None and error.__suppress_context__
    shown = "".join(traceback.format_exception(error))
    assert "During handling" not in shown and f"{os.sep}httpx{os.sep}" not in shown


def test_a_refused_connection_on_a_real_socket_names_the_url():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = Client(f"http://127.0.0.1:{port}", api_key="", timeout=5)
    with client, pytest.raises(ServiceError) as caught:
        client.health()
    error = caught.value
    assert error.status is None and error.kind == "unreachable"
    assert f"http://127.0.0.1:{port}/v2/health/live" in str(error)
    assert "To fix: start the service" in str(error)


def test_feedback_labels_the_rows_of_one_request():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        body = {"attached": 2, "with_features": 0, "unknown": [{"request_id": "old", "row": 1}],
                "elsewhere": [{"request_id": "rid-1", "row": 0, "target": "aws-eu"}],
                "request_id": "rid-fb"}  # fmt: skip
        return httpx.Response(200, json=body, headers={"X-Verdict-Target": "gcp-eu"})

    prediction = Prediction("penguins", "penguins@v2", "rid-1", [])
    with _client(handler) as client:
        receipt = client.feedback(prediction, ["Adelie", "Gentoo"])
        client.feedback("rid-2", "Gentoo", rows=[3], model="penguins")
        client.send_feedback([
            Feedback("Adelie", features={"island": "Dream"}, model="penguins"),
            {"request_id": "rid-3", "row": 0, "label": "Adelie"},
        ])  # fmt: skip
    assert seen[0] == {"feedback": [
        {"label": "Adelie", "request_id": "rid-1", "row": 0},
        {"label": "Gentoo", "request_id": "rid-1", "row": 1},
    ]}  # fmt: skip
    assert seen[1] == {"feedback": [{"label": "Gentoo", "request_id": "rid-2", "row": 3,
                                     "model": "penguins"}]}  # fmt: skip
    assert seen[2]["feedback"][0] == {"label": "Adelie", "features": {"island": "Dream"},
                                      "model": "penguins"}  # fmt: skip
    assert receipt.attached == 2 and receipt.with_features == 0
    assert receipt.unknown == [("old", 1)] and receipt.elsewhere == [("rid-1", 0, "aws-eu")]
    assert receipt.request_id == "rid-fb" and receipt.target == "gcp-eu"


def test_health_reads_live_and_ready_and_not_ready_is_not_an_error():
    ready = {"value": 503}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/health/live":
            return httpx.Response(200, json={"live": True})
        return httpx.Response(ready["value"], json={"ready": ready["value"] == 200},
                              headers={"X-Verdict-Target": "azure-us"})  # fmt: skip

    with _client(handler) as client:
        starting = client.health()
        ready["value"] = 200
        serving = client.health()
    assert (starting.live, starting.ready) == (True, False)
    assert (serving.live, serving.ready, serving.target) == (True, True, "azure-us")


def test_health_without_a_valid_key_raises_the_401():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/health/live":
            return httpx.Response(200, json={"live": True})
        return _error(401, "unauthorized", "No API key was sent. To fix: send one.")

    error = _refused(handler, lambda c: c.health())
    assert error.status == 401 and error.kind == "unauthorized"


def test_infer_sends_the_protocol_body_and_reads_the_tensors():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["path"], seen["body"] = request.url.path, json.loads(request.content)
        body = {"model_name": "penguins", "model_version": "2", "id": "mine",
                "outputs": [{"name": "label", "shape": [1], "datatype": "BYTES",
                             "data": ["Gentoo"]}]}  # fmt: skip
        return httpx.Response(200, json=body, headers={"X-Request-ID": "rid-5"})

    inputs = [{"name": "bill_length_mm", "shape": [1], "datatype": "FP64", "data": [45.1]}]
    with _client(handler) as client:
        answer = client.infer("penguins", inputs, outputs=["label"], id="mine")
    assert seen["path"] == "/v2/models/penguins/infer"
    assert seen["body"] == {"inputs": inputs, "outputs": [{"name": "label"}], "id": "mine"}
    assert answer.model_version == "2" and answer.id == "mine" and answer.request_id == "rid-5"
    assert answer.outputs["label"].data == ["Gentoo"] and answer.outputs["label"].shape == [1]


def test_the_key_comes_from_the_argument_then_verdict_api_key_and_empty_sends_none(monkeypatch):
    sent = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers.get("Authorization"))
        return httpx.Response(200, json={"live": True, "ready": True})

    monkeypatch.setenv("VERDICT_API_KEY", "from-env")
    for key in (None, "explicit", ""):
        with Client(URL, api_key=key, transport=httpx.MockTransport(handler)) as client:
            client.health()
    assert sent == ["Bearer from-env"] * 2 + ["Bearer explicit"] * 2 + [None] * 2


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda c: c.predict("penguins", ROW), "one mapping per row"),
        (lambda c: c.predict("penguins", []), "non-empty sequence of mappings"),
        (lambda c: c.predict("penguins", ["Biscoe"]), "non-empty sequence of mappings"),
        (lambda c: c.predict("", [ROW]), "model must be a non-empty string"),
        (lambda c: c.predict("penguins", [{"when": object()}]), "not JSON"),
        (lambda c: c.feedback("rid", ["a", "b"], rows=[0]), "labels has 2 values but rows 1"),
        (lambda c: c.feedback("", "a"), "request must be a request id"),
        (lambda c: c.send_feedback([]), "items is empty"),
        (lambda c: c.infer("penguins", []), "inputs is empty"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_sent(call, words):
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing may be sent")

    with _client(handler) as client, pytest.raises(InvalidInputError, match="To fix:") as caught:
        call(client)
    assert words in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"base_url": "127.0.0.1:8000"}, "http:// or https://"),
        ({"base_url": "ftp://host"}, "http:// or https://"),
        ({"base_url": URL, "verify": "/no/such/ca.pem"}, "it is not a file"),
    ],
)
def test_a_client_that_cannot_work_is_refused_at_construction(kwargs, words):
    with pytest.raises(InvalidInputError, match="To fix:") as caught:
        Client(**kwargs)
    assert words in str(caught.value)


def test_a_ca_file_that_holds_no_certificate_is_refused(tmp_path):
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    with pytest.raises(InvalidInputError, match="no usable certificate"):
        Client(URL, verify=bad)


def test_a_base_url_with_a_path_prefix_and_a_trailing_slash_is_kept():
    urls = []

    def handler(request: httpx.Request) -> httpx.Response:
        urls.append(str(request.url))
        return httpx.Response(200, json={"live": True, "ready": True})

    with Client(f"{URL}/verdict/", transport=httpx.MockTransport(handler)) as client:
        client.health()
    assert urls == [f"{URL}/verdict/v2/health/live", f"{URL}/verdict/v2/health/ready"]


def test_numpy_labels_travel_as_plain_json():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content)["feedback"])
        body = {"attached": 1, "with_features": 0, "unknown": [], "request_id": "rid-fb"}
        return httpx.Response(200, json=body)

    with _client(handler) as client:
        client.feedback("rid-1", np.int64(2))
        client.feedback("rid-1", np.array(["Adelie", "Gentoo"]))
    assert seen[0] == [{"label": 2, "request_id": "rid-1", "row": 0}]
    assert [item["label"] for item in seen[1]] == ["Adelie", "Gentoo"]
