"""gRPC load generator and answer reader for ``bench/serve.py`` (Open Inference Protocol v2).

Runs in ``bench/.venv-kserve``, whose ``kserve`` package has the ``grpc_predict_v2`` stubs
(service ``inference.GRPCInferenceService``), so verdict's environment needs nothing new::

    bench/.venv-kserve/bin/python bench/serve_grpc_load.py --target 127.0.0.1:8081 \
        --model penguins --body v2-batch.json --check
    bench/.venv-kserve/bin/python bench/serve_grpc_load.py --target 127.0.0.1:8081 \
        --model penguins --body v2-single.json --connections 16 --warmup 5 --duration 10

The request is built once from a v2 REST JSON body (``{"inputs": [...]}``): one tensor per
feature with typed contents (``fp64_contents``, ``int64_contents``, ``bytes_contents``), shape
``[n]``. ``--auth VALUE`` sends the metadata ``authorization: VALUE`` on every call.

``--check`` waits (up to ``--ready-timeout`` s) for the server to answer ``ServerReady`` and
``ModelReady``, sends the request once and prints the answer as v2 REST JSON (``{"outputs":
[{"name", "datatype", "shape", "data"}]}``, raw_output_contents decoded), for the caller to
compare with the pipeline.

Otherwise: one process, one ``grpc.aio`` channel (one HTTP/2 connection), ``--connections``
coroutines each keeping one ``ModelInfer`` call in flight (the request serialized once and
sent as bytes, answers left undecoded, as wrk leaves bodies unparsed): ``--warmup`` seconds
unrecorded, then ``--duration`` seconds timed. It prints one line ``GRPC_JSON {...}`` shaped
like ``bench/serve_wrk.lua``'s: requests, seconds, errors (by status code) and latency
percentiles in ms, plus the client's own CPU seconds over the timed window (being Python, it
spends more CPU per call than wrk does; near ``seconds``, the client is the bottleneck).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter

import grpc
import numpy as np
from kserve.protocol.grpc import grpc_predict_v2_pb2 as pb
from kserve.protocol.grpc import grpc_predict_v2_pb2_grpc as pb_grpc

METHOD = "/inference.GRPCInferenceService/ModelInfer"
OPTIONS = [("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)]


def build_request(body: dict, model: str) -> pb.ModelInferRequest:
    request = pb.ModelInferRequest(model_name=model)
    for tensor in body["inputs"]:
        out = request.inputs.add()
        out.name = tensor["name"]
        out.datatype = tensor["datatype"]
        out.shape.extend(tensor["shape"])
        data = tensor["data"]
        if tensor["datatype"] == "FP64":
            out.contents.fp64_contents.extend(float(x) for x in data)
        elif tensor["datatype"] == "FP32":
            out.contents.fp32_contents.extend(float(x) for x in data)
        elif tensor["datatype"] == "INT64":
            out.contents.int64_contents.extend(int(x) for x in data)
        elif tensor["datatype"] == "BYTES":
            out.contents.bytes_contents.extend(str(x).encode() for x in data)
        else:
            raise SystemExit(f"unsupported datatype {tensor['datatype']}")
    return request


def _raw_bytes(raw: bytes) -> list[str]:
    values, i = [], 0
    while i < len(raw):
        n = int.from_bytes(raw[i : i + 4], "little")
        values.append(raw[i + 4 : i + 4 + n].decode())
        i += 4 + n
    return values


_RAW = {"FP64": "<f8", "FP32": "<f4", "INT64": "<i8", "INT32": "<i4"}
_CONTENTS = {
    "FP64": "fp64_contents",
    "FP32": "fp32_contents",
    "INT64": "int64_contents",
    "INT32": "int_contents",
    "BYTES": "bytes_contents",
    "BOOL": "bool_contents",
}


def to_json(response: pb.ModelInferResponse) -> dict:
    """The answer as v2 REST JSON: raw_output_contents decoded, bytes as str."""
    raw = list(response.raw_output_contents)
    outputs = []
    for i, out in enumerate(response.outputs):
        if raw:
            if out.datatype == "BYTES":
                data = _raw_bytes(raw[i])
            else:
                data = np.frombuffer(raw[i], dtype=_RAW[out.datatype]).tolist()
        else:
            data = list(getattr(out.contents, _CONTENTS[out.datatype]))
            if out.datatype == "BYTES":
                data = [x.decode() for x in data]
        outputs.append(
            {"name": out.name, "datatype": out.datatype, "shape": list(out.shape), "data": data}
        )
    return {"model_name": response.model_name, "outputs": outputs}


async def check(args, request: pb.ModelInferRequest, metadata) -> None:
    deadline = time.monotonic() + args.ready_timeout
    last: Exception | None = None
    async with grpc.aio.insecure_channel(args.target, options=OPTIONS) as channel:
        stub = pb_grpc.GRPCInferenceServiceStub(channel)
        while time.monotonic() < deadline:
            try:
                server = await stub.ServerReady(
                    pb.ServerReadyRequest(), metadata=metadata, timeout=5
                )
                model = await stub.ModelReady(
                    pb.ModelReadyRequest(name=args.model), metadata=metadata, timeout=5
                )
                if server.ready and model.ready:
                    break
                last = RuntimeError(f"server ready {server.ready}, model ready {model.ready}")
            except grpc.aio.AioRpcError as exc:
                last = exc
            await asyncio.sleep(0.25)
        else:
            raise SystemExit(f"{args.target} not ready after {args.ready_timeout:g} s: {last}")
        response = await stub.ModelInfer(request, metadata=metadata, timeout=60)
    print(json.dumps(to_json(response)))


async def load(args, request: pb.ModelInferRequest, metadata) -> None:
    payload = request.SerializeToString()
    errors: Counter[str] = Counter()
    async with grpc.aio.insecure_channel(args.target, options=OPTIONS) as channel:
        call = channel.unary_unary(METHOD)  # no (de)serializers: bytes in, bytes out
        await asyncio.wait_for(channel.channel_ready(), args.ready_timeout)

        async def worker(until: float, latencies: list[float] | None) -> None:
            clock = time.perf_counter
            while True:
                began = clock()
                if began >= until:
                    return
                try:
                    await call(payload, metadata=metadata, timeout=30)
                except grpc.aio.AioRpcError as exc:
                    if latencies is not None:
                        errors[exc.code().name] += 1
                    continue
                if latencies is not None:
                    latencies.append(clock() - began)

        until = time.perf_counter() + args.warmup
        await asyncio.gather(*(worker(until, None) for _ in range(args.connections)))
        latencies: list[float] = []
        cpu = time.process_time()
        began = time.perf_counter()
        until = began + args.duration
        await asyncio.gather(*(worker(until, latencies) for _ in range(args.connections)))
        seconds = time.perf_counter() - began
        cpu = time.process_time() - cpu
    ms = np.asarray(latencies) * 1e3 if latencies else np.asarray([float("nan")])
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    summary = {
        "requests": len(latencies) + sum(errors.values()),
        "seconds": seconds,
        "errors": dict(errors),
        "client_cpu_s": cpu,
        "latency_ms": {
            "mean": float(ms.mean()),
            "p50": float(p50),
            "p90": float(p90),
            "p99": float(p99),
            "max": float(ms.max()),
        },
    }
    print("GRPC_JSON " + json.dumps(summary), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, help="HOST:PORT of the gRPC server.")
    parser.add_argument("--model", default="penguins")
    parser.add_argument("--body", required=True, help="A v2 REST JSON body to send as gRPC.")
    parser.add_argument("--auth", default="", help="Value of the authorization metadata.")
    parser.add_argument("--check", action="store_true", help="Send once, print the answer.")
    parser.add_argument("--connections", type=int, default=16, help="Calls kept in flight.")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--ready-timeout", type=float, default=60.0)
    args = parser.parse_args()
    with open(args.body, "rb") as f:
        request = build_request(json.load(f), args.model)
    metadata = (("authorization", args.auth),) if args.auth else ()
    asyncio.run((check if args.check else load)(args, request, metadata))


if __name__ == "__main__":
    sys.exit(main())
