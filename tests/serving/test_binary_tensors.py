"""v2 over HTTP as Triton's and KServe's clients speak it: no Content-Type, the binary tensor
data extension in both directions, and 400s that say what was wrong."""

from __future__ import annotations

import gzip
import json
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from serving_support import records, service, trained_home

from verdict.serving._binary import FIXED, RawTensorError, decode_raw, encode_raw

INFER = "/v2/models/penguins/infer"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return trained_home(tmp_path_factory)


@pytest.fixture(scope="module")
def svc(home, tmp_path_factory):
    with service(home, tmp_path_factory.mktemp("binary")) as running:
        yield running


@pytest.fixture(scope="module")
def model(home):
    with home.registry() as registry:
        return registry.load("penguins@production")


def _datatypes(svc) -> dict[str, str]:
    return {t["name"]: t["datatype"] for t in svc.get("/v2/models/penguins").json()["inputs"]}


def _binary_request(svc, rows, *, binary_outputs=None, request_binary=False):
    """A request as tritonclient builds it: the JSON header, then each input's raw bytes."""
    inputs, chunks = [], []
    for name, datatype in _datatypes(svc).items():
        chunk = encode_raw(datatype, [r[name] for r in rows])
        inputs.append({"name": name, "shape": [len(rows)], "datatype": datatype,
                       "parameters": {"binary_data_size": len(chunk)}})  # fmt: skip
        chunks.append(chunk)
    body: dict = {"inputs": inputs}
    if binary_outputs is not None:
        body["outputs"] = [
            {"name": n, "parameters": {"binary_data": b}} for n, b in binary_outputs.items()
        ]
    if request_binary:
        body["parameters"] = {"binary_data_output": True}
    head = json.dumps(body).encode()
    return head + b"".join(chunks), {"Inference-Header-Content-Length": str(len(head))}


def _read_binary_answer(response):
    """The outputs of a response, decoding binary ones as tritonclient does."""
    cut = int(response.headers["inference-header-content-length"])
    head, rest = json.loads(response.content[:cut]), memoryview(response.content)[cut:]
    out, at = {}, 0
    for o in head["outputs"]:
        size = (o.get("parameters") or {}).get("binary_data_size")
        if size is None:
            out[o["name"]] = o["data"]
            continue
        count = int(np.prod(o["shape"]))
        out[o["name"]] = decode_raw(o["datatype"], rest[at : at + size], count)
        at += size
    assert at == len(rest)
    return out


def _expected(model, rows):
    from serving_support import frame_of

    frame = frame_of(rows)[list(model.schema.features)]
    return model.predict(frame).tolist(), model.predict_proba(frame).ravel().tolist()


def test_binary_inputs_and_outputs_match_the_pipeline(svc, model):
    rows = records(12)
    rows = [r for r in rows if all(v is not None and v == v for v in r.values())]
    body, headers = _binary_request(svc, rows, request_binary=True)
    response = svc.post(INFER, content=body, headers=headers)  # no Content-Type at all
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    outputs = _read_binary_answer(response)
    labels, proba = _expected(model, rows)
    assert outputs["label"] == labels
    assert np.allclose(outputs["probabilities"], proba, rtol=0, atol=1e-12)


def test_each_output_chooses_binary_or_json(svc, model):
    rows = [r for r in records(6) if all(v is not None and v == v for v in r.values())]
    body, headers = _binary_request(svc, rows, binary_outputs={"label": False,
                                                               "probabilities": True})  # fmt: skip
    response = svc.post(INFER, content=body, headers=headers)
    assert response.status_code == 200, response.text
    outputs = _read_binary_answer(response)
    labels, proba = _expected(model, rows)
    assert outputs["label"] == labels and np.allclose(outputs["probabilities"], proba)
    head = json.loads(response.content[: int(response.headers["inference-header-content-length"])])
    assert "data" in head["outputs"][0] and "data" not in head["outputs"][1]
    body, headers = _binary_request(svc, rows, binary_outputs={"label": False})
    plain = svc.post(INFER, content=body, headers=headers)
    assert plain.headers["content-type"] == "application/json"
    assert "inference-header-content-length" not in plain.headers


def test_json_without_content_type_is_json(svc):
    tensors = svc.get("/v2/models/penguins").json()["inputs"]
    row = next(r for r in records(3) if all(v is not None and v == v for v in r.values()))
    body = {"inputs": [{"name": t["name"], "shape": [1], "datatype": t["datatype"],
                        "data": [row[t["name"]]]} for t in tensors]}  # fmt: skip
    response = svc.post(INFER, content=json.dumps(body).encode())
    assert response.status_code == 200, response.text
    typed = svc.post(INFER, content=json.dumps(body), headers={"Content-Type": "text/plain"})
    assert typed.status_code == 415 and "Content-Type" in typed.json()["error"]


@pytest.mark.parametrize(
    ("mutate", "says"),
    [
        (lambda b, h: (b, {"Inference-Header-Content-Length": "x1"}), "whole number"),
        (lambda b, h: (b, {"Inference-Header-Content-Length": str(len(b) + 1)}), "no larger"),
        (lambda b, h: (b + b"\0", h), "follow the last binary input"),
        (lambda b, h: (b[:-3], h), "remain after the JSON header"),
        (lambda b, h: (b, {}), "no Inference-Header-Content-Length"),
    ],
)
def test_binary_that_does_not_add_up_is_a_400_saying_why(svc, mutate, says):
    rows = [r for r in records(4) if all(v is not None and v == v for v in r.values())]
    body, headers = mutate(*_binary_request(svc, rows))
    response = svc.post(INFER, content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert says in response.json()["error"] and "To fix" in response.json()["error"]


def test_a_bytes_element_that_lies_about_its_length_or_text_is_a_400(svc):
    rows = [r for r in records(4) if all(v is not None and v == v for v in r.values())]
    body, headers = _binary_request(svc, rows)
    head_len = int(headers["Inference-Header-Content-Length"])
    head = json.loads(body[:head_len])
    first = head["inputs"][0]
    assert first["datatype"] == "BYTES"
    size = first["parameters"]["binary_data_size"]
    lying = struct.pack("<I", 2**31) + body[head_len + 4 : head_len + size]
    response = svc.post(INFER, content=body[:head_len] + lying + body[head_len + size :],
                        headers=headers)  # fmt: skip
    assert response.status_code == 400 and "claims" in response.json()["error"]
    bad_text = struct.pack("<I", 2) + b"\xff\xfe"
    chunk = bad_text + body[head_len + 4 + len(rows[0][first["name"]]) : head_len + size]
    head["inputs"][0]["parameters"]["binary_data_size"] = len(chunk)
    new_head = json.dumps(head).encode()
    split = {"Inference-Header-Content-Length": str(len(new_head))}
    response = svc.post(INFER, content=new_head + chunk + body[head_len + size :], headers=split)
    assert response.status_code == 400 and "UTF-8" in response.json()["error"]


def test_unsupported_extensions_are_named(svc):
    rows = [r for r in records(2) if all(v is not None and v == v for v in r.values())]
    body, headers = _binary_request(svc, rows)
    cut = int(headers["Inference-Header-Content-Length"])
    head = json.loads(body[:cut])
    for extra, says in [
        ({"parameters": {"sequence_id": 7}}, "stateful"),
        ({"outputs": [{"name": "label", "parameters": {"classification": 2}}]}, "classification"),
        ({"outputs": [{"name": "label", "parameters": {"shared_memory_region": "r"}}]},
         "Shared-memory"),
        ({"parameters": {"binary_data_output": "yes"}}, "true or false"),
    ]:  # fmt: skip
        new = json.dumps({**head, **extra}).encode()
        response = svc.post(INFER, content=new + body[cut:],
                            headers={"Inference-Header-Content-Length": str(len(new))})  # fmt: skip
        assert response.status_code == 400, (extra, response.text)
        assert says in response.json()["error"]


_VALUES = {
    "BOOL": st.booleans(),
    "INT8": st.integers(-(2**7), 2**7 - 1),
    "INT64": st.integers(-(2**63), 2**63 - 1),
    "UINT32": st.integers(0, 2**32 - 1),
    "FP64": st.floats(allow_nan=False),
    "FP32": st.floats(width=32, allow_nan=False),
    "BYTES": st.text(),
}


@settings(max_examples=60, deadline=None)
@given(data=st.data(), datatype=st.sampled_from(sorted(_VALUES)))
def test_raw_round_trip_and_exact_sizes(data, datatype):
    values = data.draw(st.lists(_VALUES[datatype], max_size=20))
    raw = encode_raw(datatype, values)
    assert decode_raw(datatype, raw, len(values)) == values
    with pytest.raises(RawTensorError):
        decode_raw(datatype, raw + b"\0", len(values))
    if datatype in FIXED and values:
        with pytest.raises(RawTensorError):
            decode_raw(datatype, raw[:-1], len(values))
    with pytest.raises(RawTensorError):
        decode_raw(datatype, raw, len(values) + 1)


def test_a_compressed_body_is_refused_saying_so(svc):
    rows = [r for r in records(2) if all(v is not None and v == v for v in r.values())]
    body, headers = _binary_request(svc, rows)
    response = svc.post(INFER, content=gzip.compress(body),
                        headers={**headers, "Content-Encoding": "gzip"})  # fmt: skip
    assert response.status_code == 415 and "uncompressed" in response.json()["error"]
