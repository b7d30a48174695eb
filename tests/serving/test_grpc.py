"""The v2 protocol over gRPC against a real server: the same answers, keys, errors and log rows
as HTTP (tritonclient's and kserve's own clients are driven in test_standard_clients)."""

from __future__ import annotations

import os
import re
import signal
import struct
import threading
import time
from pathlib import Path

import grpc
import httpx
import numpy as np
import pytest
from process_support import ROW, penguins_home, service

from verdict.serving import _grpc_messages as pb
from verdict.serving._binary import encode_raw
from verdict.state import KeyStore, PredictionLog, open_state

pytestmark = pytest.mark.slow
PROTO = Path(__file__).parents[2] / "src/verdict/serving/_proto/grpc_predict_v2.proto"


def test_the_shipped_descriptor_is_the_proto_beside_it():
    """Every message field of the .proto (name, number, repeated) is in the descriptor and
    nothing else is, so an edited .proto without a regenerated descriptor fails here."""
    text = re.sub(r"//[^\n]*", "", PROTO.read_text())
    declared = set()
    field = re.compile(r"^\s*(repeated\s+)?(map<[^>]*>|[\w.]+)\s+(\w+)\s*=\s*(\d+)\s*;", re.M)
    for match in field.finditer(text):
        declared.add((match.group(3), int(match.group(4)), bool(match.group(1))))
    compiled = set()

    def walk(descriptor):
        for field in descriptor.fields:
            compiled.add((field.name, field.number, _repeated(field) and not _is_map(field)))
        for nested in descriptor.nested_types:
            if not nested.GetOptions().map_entry:
                walk(nested)

    for name in ("ModelInferRequest", "ModelInferResponse", "ModelMetadataResponse",
                 "InferParameter", "InferTensorContents", "ServerMetadataResponse",
                 "ModelReadyRequest"):  # fmt: skip
        walk(pb.message(name).DESCRIPTOR)
    assert compiled <= declared, compiled - declared
    assert {("raw_input_contents", 7, True), ("raw_output_contents", 6, True),
            ("fp64_contents", 7, True), ("double_param", 4, False)} <= compiled  # fmt: skip
    assert set(pb.METHODS) == {"ServerLive", "ServerReady", "ModelReady", "ServerMetadata",
                               "ModelMetadata", "ModelInfer"}  # fmt: skip


def _repeated(field) -> bool:
    if hasattr(field, "is_repeated"):  # protobuf >= 6
        return field.is_repeated
    return field.label == field.LABEL_REPEATED


def _is_map(field) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return penguins_home(tmp_path_factory.mktemp("grpc") / "home")


@pytest.fixture(scope="module")
def server(home):
    lines: list[str] = []
    with service(home, "--grpc-port", "0", stdout=lines) as svc:
        found = None
        for _ in range(100):
            found = next((re.search(r"verdict grpc on 127\.0\.0\.1:(\d+)", x) for x in lines
                          if "grpc on" in x), None)  # fmt: skip
            if found:
                break
            time.sleep(0.05)
        assert found, lines
        channel = grpc.insecure_channel(f"127.0.0.1:{found.group(1)}")
        yield svc, channel
        channel.close()


def _call(channel, method, request, token=None, header="authorization"):
    request_class, response_class = pb.METHODS[method]
    stub = channel.unary_unary(
        f"/inference.GRPCInferenceService/{method}",
        request_serializer=request_class.SerializeToString,
        response_deserializer=response_class.FromString,
    )
    metadata = []
    if token is not None:
        metadata.append((header, f"Bearer {token}" if header == "authorization" else token))
    return stub.with_call(request, metadata=metadata, timeout=30)


def _metadata(svc):
    return httpx.get(f"{svc.url}/v2/models/penguins", headers=svc.headers).json()


def _infer_request(svc, rows, *, raw: bool):
    request = pb.ModelInferRequest(model_name="penguins", id="mine")
    chunks = []
    for spec in _metadata(svc)["inputs"]:
        values = [r[spec["name"]] for r in rows]
        tensor = request.inputs.add(name=spec["name"], datatype=spec["datatype"],
                                    shape=[len(rows)])  # fmt: skip
        if raw:
            chunks.append(encode_raw(spec["datatype"], values))
        elif spec["datatype"] == "BYTES":
            tensor.contents.bytes_contents.extend(v.encode() for v in values)
        elif spec["datatype"] == "INT64":
            tensor.contents.int64_contents.extend(values)
        else:
            tensor.contents.fp64_contents.extend(values)
    request.raw_input_contents.extend(chunks)
    return request


def _rest(svc, rows):
    body = {
        "inputs": [
            {
                "name": s["name"],
                "shape": [len(rows)],
                "datatype": s["datatype"],
                "data": [r[s["name"]] for r in rows],
            }
            for s in _metadata(svc)["inputs"]
        ]
    }
    answer = httpx.post(f"{svc.url}/v2/models/penguins/infer", json=body, headers=svc.headers)
    assert answer.status_code == 200, answer.text
    return {o["name"]: o["data"] for o in answer.json()["outputs"]}


ROWS = [ROW, {**ROW, "island": "Dream", "bill_length_mm": 39.0, "flipper_length_mm": 190.0,
              "body_mass_g": 3700.0}, {**ROW, "bill_depth_mm": 18.5, "sex": "male"}]  # fmt: skip


@pytest.mark.parametrize("raw", [True, False])
def test_infer_gives_what_rest_gives(server, raw):
    svc, channel = server
    answer, call = _call(channel, "ModelInfer", _infer_request(svc, ROWS, raw=raw), svc.token)
    expected = _rest(svc, ROWS)
    assert answer.id == "mine" and answer.model_name == "penguins"
    outputs = {o.name: o for o in answer.outputs}
    assert list(outputs["probabilities"].shape) == [3, 3]
    if raw:
        assert len(answer.raw_output_contents) == 2
        labels_raw, proba_raw = answer.raw_output_contents
        proba = np.frombuffer(proba_raw, dtype="<f8").tolist()
        labels, at = [], 0
        while at < len(labels_raw):
            (size,) = struct.unpack_from("<I", labels_raw, at)
            labels.append(labels_raw[at + 4 : at + 4 + size].decode())
            at += 4 + size
    else:
        assert not answer.raw_output_contents
        labels = [v.decode() for v in outputs["label"].contents.bytes_contents]
        proba = list(outputs["probabilities"].contents.fp64_contents)
    assert labels == expected["label"]
    assert np.allclose(proba, expected["probabilities"], rtol=0, atol=1e-12)
    ids = dict(call.initial_metadata())
    assert re.fullmatch(r"[0-9a-f]{32}", ids["x-request-id"])


def test_keys_are_required_as_on_http(server, home):
    svc, channel = server
    request = _infer_request(svc, ROWS[:1], raw=True)
    for token in (None, "not-a-key"):
        with pytest.raises(grpc.RpcError) as caught:
            _call(channel, "ModelInfer", request, token)
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "To fix" in caught.value.details()
    answer, _ = _call(channel, "ModelInfer", request, svc.token, header="x-api-key")
    assert answer.outputs
    live, _ = _call(channel, "ServerLive", pb.ServerLiveRequest())  # open, as on HTTP
    assert live.live
    with pytest.raises(grpc.RpcError) as caught:
        _call(channel, "ServerReady", pb.ServerReadyRequest())
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    engine = open_state(f"sqlite:///{home / 'service.db'}")
    try:
        keys = KeyStore(engine)
        made = keys.create("revoked-grpc")
        keys.revoke(made.key_id)
    finally:
        engine.dispose()
    deadline = time.monotonic() + 10  # the service reloads its copy of the keys every few s
    while True:
        with pytest.raises(grpc.RpcError) as caught:
            _call(channel, "ModelInfer", request, made.token)
        if caught.value.code() != grpc.StatusCode.UNAUTHENTICATED or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_metadata_and_readiness(server):
    svc, channel = server
    meta, _ = _call(channel, "ServerMetadata", pb.ServerMetadataRequest(), svc.token)
    assert meta.name == "verdict" and "binary_tensor_data" in meta.extensions
    model, _ = _call(channel, "ModelMetadata", pb.ModelMetadataRequest(name="penguins"), svc.token)
    rest = _metadata(svc)
    assert [(t.name, t.datatype) for t in model.inputs] == [
        (t["name"], t["datatype"]) for t in rest["inputs"]
    ]
    assert [list(t.shape) for t in model.outputs] == [[-1], [-1, 3]]
    ready, _ = _call(channel, "ModelReady", pb.ModelReadyRequest(name="penguins"), svc.token)
    assert ready.ready
    for request in (pb.ModelReadyRequest(name="nope"),
                    pb.ModelReadyRequest(name="penguins", version="99")):  # fmt: skip
        with pytest.raises(grpc.RpcError) as caught:
            _call(channel, "ModelReady", request, svc.token)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        assert "To fix" in caught.value.details()


def test_bad_requests_get_invalid_argument_saying_why(server):
    svc, channel = server
    cases = []
    wrong_count = _infer_request(svc, ROWS, raw=True)
    del wrong_count.raw_input_contents[-1]
    cases.append((wrong_count, "entries for"))
    short = _infer_request(svc, ROWS, raw=True)
    short.raw_input_contents[1] = short.raw_input_contents[1][:-1]
    cases.append((short, "cannot hold"))
    lying = _infer_request(svc, ROWS, raw=True)
    lying.raw_input_contents[0] = struct.pack("<I", 2**31) + b"x"
    cases.append((lying, "claims"))
    bad_text = _infer_request(svc, ROWS[:1], raw=False)
    bad_text.inputs[0].contents.bytes_contents[0] = b"\xff\xfe"
    cases.append((bad_text, "UTF-8"))
    wrong_type = _infer_request(svc, ROWS[:1], raw=False)
    wrong_type.inputs[1].contents.Clear()
    wrong_type.inputs[1].contents.bytes_contents.append(b"long")
    cases.append((wrong_type, "but its contents are in ['bytes_contents']"))
    text_number = _infer_request(svc, ROWS[:1], raw=False)
    text_number.inputs[1].datatype = "BYTES"
    text_number.inputs[1].contents.Clear()
    text_number.inputs[1].contents.bytes_contents.append(b"long")
    cases.append((text_number, "cannot be scored"))
    missing = _infer_request(svc, ROWS[:1], raw=False)
    del missing.inputs[0]
    cases.append((missing, "cannot be scored"))
    fp16 = _infer_request(svc, ROWS[:1], raw=False)
    fp16.inputs[1].datatype = "FP16"
    cases.append((fp16, "typed contents"))
    for request, says in cases:
        with pytest.raises(grpc.RpcError) as caught:
            _call(channel, "ModelInfer", request, svc.token)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
        assert says in caught.value.details() and "To fix" in caught.value.details()
    raw_stub = channel.unary_unary(
        "/inference.GRPCInferenceService/ModelInfer",
        request_serializer=bytes,
        response_deserializer=bytes,
    )
    for garbage in (b"\xff" * 64, b"\x0a\x03\xff\xfe\xfd"):  # not protobuf; bad UTF-8
        with pytest.raises(grpc.RpcError) as caught:
            raw_stub(garbage, metadata=[("x-api-key", svc.token)], timeout=30)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "not a valid inference.ModelInferRequest" in caught.value.details()
    with pytest.raises(grpc.RpcError) as caught:  # without a key, the key is what is refused
        raw_stub(b"\xff" * 64, timeout=30)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    too_big = pb.ModelInferRequest(model_name="penguins")
    too_big.raw_input_contents.append(b"\0" * (9 * 1024 * 1024))
    with pytest.raises(grpc.RpcError) as caught:
        _call(channel, "ModelInfer", too_big, svc.token)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    answer, _ = _call(channel, "ModelInfer", _infer_request(svc, ROWS, raw=True), svc.token)
    assert answer.outputs  # and the server still answers


def test_grpc_predictions_are_logged_and_counted(server):
    svc, channel = server
    _, call = _call(channel, "ModelInfer", _infer_request(svc, ROWS, raw=True), svc.token)
    rid = dict(call.initial_metadata())["x-request-id"]
    engine = open_state(f"sqlite:///{svc.home / 'service.db'}")
    try:
        log = PredictionLog(engine)
        frame = log.predictions("penguins")
        log.close()
    finally:
        engine.dispose()
    assert (frame["request_id"] == rid).sum() == len(ROWS)
    text = httpx.get(f"{svc.url}/metrics", headers=svc.headers).text
    assert re.search(r'verdict_requests_total\{method="GRPC",route="/inference\.'
                     r'GRPCInferenceService/ModelInfer",status="200"\} [1-9]', text)  # fmt: skip


def test_kill_9_under_grpc_streams_loses_no_answered_prediction(tmp_path):
    """Every ModelInfer answered before a ``kill -9`` is in the prediction log (committed
    before the answer left), as over HTTP."""
    home = penguins_home(tmp_path / "home")
    lines: list[str] = []
    answered: list[str] = []
    failures: list[str] = []
    stop = threading.Event()
    with service(home, "--grpc-port", "0", stdout=lines) as svc:
        port = _grpc_port(lines)
        request = _infer_request(svc, ROWS[:1], raw=True)

        def stream() -> None:
            channel = grpc.insecure_channel(f"127.0.0.1:{port}")
            while not stop.is_set():
                try:
                    _, call = _call(channel, "ModelInfer", request, svc.token)
                except grpc.RpcError as exc:
                    if exc.code() != grpc.StatusCode.UNAVAILABLE:  # gone: not answered
                        failures.append(f"{exc.code()} {exc.details()}")
                    time.sleep(0.01)
                    continue
                answered.append(dict(call.initial_metadata())["x-request-id"])
            channel.close()

        threads = [threading.Thread(target=stream, daemon=True) for _ in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(3.0)
        os.killpg(svc.process.pid, signal.SIGKILL)  # at an arbitrary moment of the streams
        svc.process.wait(timeout=30)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert len(answered) > 20 and failures == [], failures[:3]
    engine = open_state(f"sqlite:///{home / 'service.db'}")
    try:
        log = PredictionLog(engine)
        logged = set(log.predictions("penguins")["request_id"])
        log.close()
    finally:
        engine.dispose()
    missing = set(answered) - logged
    print(f"\nkill -9 under 4 gRPC streams: {len(answered)} answered, {len(missing)} missing")
    assert not missing, sorted(missing)[:5]


def _grpc_port(lines: list[str]) -> str:
    for _ in range(100):
        for line in lines:
            found = re.search(r"verdict grpc on 127\.0\.0\.1:(\d+)", line)
            if found:
                return found.group(1)
        time.sleep(0.05)
    raise AssertionError(lines)


def test_grpc_follows_a_hot_reload(tmp_path):
    """Promoting another version moves gRPC's answers to it, as HTTP's, without a restart."""
    from palmerpenguins import load_penguins

    from verdict.pipeline import train
    from verdict.registry import Registry

    home = penguins_home(tmp_path / "home")
    with Registry(home=home) as registry:
        run = train(load_penguins(), "species", models=["decision_tree"], time_budget=2, cv=2,
                    quiet=True, out=tmp_path / "run2")  # fmt: skip
        registry.register(run, "penguins")  # v2, not yet in production
    lines: list[str] = []
    with service(home, "--grpc-port", "0", stdout=lines) as svc:
        channel = grpc.insecure_channel(f"127.0.0.1:{_grpc_port(lines)}")
        request = _infer_request(svc, ROWS, raw=False)
        assert _call(channel, "ModelInfer", request, svc.token)[0].model_version == "1"
        with Registry(home=home) as registry:
            registry.promote("penguins@v2")
        deadline, seen = time.monotonic() + 15, "1"
        while seen == "1" and time.monotonic() < deadline:
            seen = _call(channel, "ModelInfer", request, svc.token)[0].model_version
            time.sleep(0.1)
        assert seen == "2"
        meta, _ = _call(channel, "ModelMetadata", pb.ModelMetadataRequest(name="penguins"),
                        svc.token)  # fmt: skip
        assert list(meta.versions) == ["2"]
        channel.close()
