"""Drive a verdict service with the standard inference clients, unchanged.

Run with ``.venv-clients/bin/python`` (see clients_support.py), never in verdict's venv. It
reads one JSON job on stdin::

    {"modes": [...], "http_url": "http://127.0.0.1:PORT", "grpc_address": "127.0.0.1:PORT",
     "api_key": "...", "revoked_key": "..." (optional), "model": "penguins",
     "inputs": [{"name": ..., "datatype": ...}, ...]  (GET /v2/models/{model}'s inputs, in order),
     "rows": [{feature: value, ...}, ...]}

and prints ``{"results": {mode: result}}``: each result holds ``labels`` and ``probabilities``
(one list per row) and what the mode saw on the way (binary outputs, readiness, metadata), or
``error``/``status`` (``status`` is the HTTP or gRPC status code the client raised with).

tritonclient.grpc and kserve each register the ``inference.*`` protos in protobuf's default
pool, so a job's modes must all come from one family: ``triton_*``/``grpc_*`` modes (they
import tritonclient) or ``kserve_*`` modes (they import kserve). The V1 mode uses kserve's own
REST client, whose RESTConfig(protocol="v1") posts ``{model}:predict`` and reads
``GET /v1/models/{model}``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import traceback

import numpy as np

TRITON_MODES = (
    "triton_http_binary",
    "triton_http_json",
    "triton_http_server_outputs",
    "triton_grpc",
    "grpc_no_key",
    "grpc_x_api_key",
    "grpc_revoked_key",
)
KSERVE_MODES = (
    "kserve_rest",
    "kserve_rest_json",
    "kserve_grpc",
    "kserve_grpc_raw",
    "kserve_v1",
    "kserve_v1_lists",
)
OUTPUTS = ("label", "probabilities")


def columns(job: dict) -> list[tuple[str, str, np.ndarray]]:
    """(name, datatype, numpy column) per input, in the model's input order."""
    found = []
    for spec in job["inputs"]:
        name, datatype = spec["name"], spec["datatype"]
        values = [row[name] for row in job["rows"]]
        if datatype == "BYTES":
            array = np.array([str(v).encode("utf-8") for v in values], dtype=np.object_)
        elif datatype == "FP64":
            array = np.array(values, dtype=np.float64)
        elif datatype == "FP32":
            array = np.array(values, dtype=np.float32)
        elif datatype == "INT64":
            array = np.array(values, dtype=np.int64)
        elif datatype == "INT32":
            array = np.array(values, dtype=np.int32)
        elif datatype == "BOOL":
            array = np.array(values, dtype=np.bool_)
        else:
            raise ValueError(f"no numpy type for {datatype} ({name})")
        found.append((name, datatype, array))
    return found


def plain(array: np.ndarray) -> list:
    """A numpy output as JSON values (BYTES decoded as UTF-8)."""
    if array.dtype == np.object_ or array.dtype.kind in "SU":
        return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in array.ravel()]
    return array.tolist()


def probe(call):
    """``call()``, or what it raised (a readiness or metadata call must not hide the answer)."""
    try:
        return call()
    except Exception as exc:
        return brief(exc)


async def aprobe(awaitable):
    try:
        return await awaitable
    except Exception as exc:
        return brief(exc)


def brief(exc: BaseException) -> dict:
    return {"error": f"{type(exc).__name__}: {exc}"[:1000], "status": status_of(exc)}


def answer(labels: np.ndarray, probabilities: np.ndarray, **seen) -> dict:
    return {
        "labels": plain(labels),
        "probabilities": np.asarray(probabilities, dtype=np.float64).tolist(),
        **seen,
    }


# -- tritonclient -------------------------------------------------------------------------------


def triton_http(job: dict, *, binary: bool | None) -> dict:
    """tritonclient.http: binary=True/False sets inputs and requested outputs; None asks for no
    outputs (the client then sends ``binary_data_output: true`` and the server chooses)."""
    import tritonclient.http as httpclient

    url = job["http_url"].split("://", 1)[1]
    headers = {"Authorization": f"Bearer {job['api_key']}"}
    with httpclient.InferenceServerClient(url=url) as client:
        metadata = client.get_model_metadata(job["model"], headers=headers)
        inputs = []
        for name, datatype, array in columns(job):
            tensor = httpclient.InferInput(name, list(array.shape), datatype)
            if binary is False:
                tensor.set_data_from_numpy(array, binary_data=False)
            else:
                tensor.set_data_from_numpy(array)  # binary_data=True, the default
            inputs.append(tensor)
        if binary is None:
            outputs = None
        elif binary:
            outputs = [httpclient.InferRequestedOutput(name) for name in OUTPUTS]  # default
        else:
            outputs = [httpclient.InferRequestedOutput(n, binary_data=False) for n in OUTPUTS]
        result = client.infer(job["model"], inputs, outputs=outputs, headers=headers)
        response = result.get_response()
        binary_outputs = sorted(
            out["name"]
            for out in response["outputs"]
            if "binary_data_size" in (out.get("parameters") or {})
        )
        return answer(
            result.as_numpy("label"),
            result.as_numpy("probabilities"),
            binary_outputs=binary_outputs,
            output_names=sorted(out["name"] for out in response["outputs"]),
            model_metadata_inputs=[
                {"name": i["name"], "datatype": i["datatype"]} for i in metadata["inputs"]
            ],
        )


def triton_grpc(job: dict, headers: dict[str, str] | None, *, checks: bool) -> dict:
    """tritonclient.grpc: readiness and metadata calls (when ``checks``), then ModelInfer.

    gRPC metadata keys must be lowercase."""
    import tritonclient.grpc as grpcclient
    from tritonclient.utils import InferenceServerException

    seen: dict = {}
    model = job["model"]
    with grpcclient.InferenceServerClient(url=job["grpc_address"]) as client:
        if checks:
            seen["server_live"] = probe(lambda: client.is_server_live(headers=headers))
            seen["server_ready"] = probe(lambda: client.is_server_ready(headers=headers))
            seen["model_ready"] = probe(lambda: client.is_model_ready(model, headers=headers))
            seen["server_metadata"] = probe(
                lambda: client.get_server_metadata(headers=headers, as_json=True)
            )
            seen["model_metadata"] = probe(
                lambda: client.get_model_metadata(model, headers=headers, as_json=True)
            )
        inputs = []
        for name, datatype, array in columns(job):
            tensor = grpcclient.InferInput(name, list(array.shape), datatype)
            tensor.set_data_from_numpy(array)  # raw_input_contents
            inputs.append(tensor)
        outputs = [grpcclient.InferRequestedOutput(name) for name in OUTPUTS]
        try:
            result = client.infer(job["model"], inputs, outputs=outputs, headers=headers)
        except InferenceServerException as exc:
            if not checks:
                # what the server says to a ServerLive without (or with a bad) key, for the report
                try:
                    seen["server_live"] = client.is_server_live(headers=headers)
                except InferenceServerException as live_exc:
                    seen["server_live"] = live_exc.status()
            return {"error": exc.message(), "status": exc.status(), **seen}
        response = result.get_response()
        return answer(
            result.as_numpy("label"),
            result.as_numpy("probabilities"),
            raw_output_contents=len(response.raw_output_contents),
            **seen,
        )


def run_triton(mode: str, job: dict) -> dict:
    key = job["api_key"]
    if mode == "triton_http_binary":
        return triton_http(job, binary=True)
    if mode == "triton_http_json":
        return triton_http(job, binary=False)
    if mode == "triton_http_server_outputs":
        return triton_http(job, binary=None)
    if mode == "triton_grpc":
        return triton_grpc(job, {"authorization": f"Bearer {key}"}, checks=True)
    if mode == "grpc_no_key":
        return triton_grpc(job, None, checks=False)
    if mode == "grpc_x_api_key":
        return triton_grpc(job, {"x-api-key": key}, checks=False)
    if mode == "grpc_revoked_key":
        return triton_grpc(job, {"authorization": f"Bearer {job['revoked_key']}"}, checks=False)
    raise ValueError(mode)


# -- kserve -------------------------------------------------------------------------------------


async def kserve_rest(job: dict, *, binary: bool) -> dict:
    """kserve.InferenceRESTClient (protocol v2) with an InferRequest: binary inputs (the
    client's set_data_from_numpy default, Inference-Header-Content-Length) or JSON data lists."""
    from kserve import InferenceRESTClient, InferInput, InferRequest, RESTConfig

    inputs = []
    for name, datatype, array in columns(job):
        if binary:
            tensor = InferInput(name, list(array.shape), datatype)
            tensor.set_data_from_numpy(array)
        else:
            data = plain(array) if datatype == "BYTES" else array.tolist()
            tensor = InferInput(name, list(array.shape), datatype, data=data)
        inputs.append(tensor)
    request = InferRequest(model_name=job["model"], infer_inputs=inputs)
    client = InferenceRESTClient(RESTConfig(protocol="v2", retries=0, timeout=60))
    headers = {"Authorization": f"Bearer {job['api_key']}"}
    async with client:
        response = await client.infer(
            job["http_url"], request, model_name=job["model"], headers=headers
        )
        live = await aprobe(client.is_server_live(job["http_url"], headers=headers))
        ready = await aprobe(client.is_model_ready(job["http_url"], job["model"], headers=headers))
    return answer(
        response.get_output_by_name("label").as_numpy(),
        response.get_output_by_name("probabilities").as_numpy(),
        server_live=live,
        model_ready=ready,
    )


async def kserve_grpc(job: dict, *, raw: bool) -> dict:
    """kserve.InferenceGRPCClient: typed ``contents`` (data lists) or raw_input_contents."""
    from kserve import InferenceGRPCClient, InferInput, InferRequest

    inputs = []
    for name, datatype, array in columns(job):
        if raw:
            tensor = InferInput(name, list(array.shape), datatype)
            tensor.set_data_from_numpy(array)  # binary_data=True: raw_input_contents
        else:
            data = plain(array) if datatype == "BYTES" else array.tolist()
            tensor = InferInput(name, list(array.shape), datatype, data=data)
        inputs.append(tensor)
    request = InferRequest(model_name=job["model"], infer_inputs=inputs)
    metadata = (("authorization", f"Bearer {job['api_key']}"),)
    async with InferenceGRPCClient(job["grpc_address"], retries=0, timeout=60) as client:
        response = await client.infer(request, headers=metadata)
        live = await aprobe(client.is_server_live(headers=metadata))
        ready = await aprobe(client.is_server_ready(headers=metadata))
        model_ready = await aprobe(client.is_model_ready(job["model"], headers=metadata))
    return answer(
        response.get_output_by_name("label").as_numpy(),
        response.get_output_by_name("probabilities").as_numpy(),
        server_live=live,
        server_ready=ready,
        model_ready=model_ready,
        # outputs that came in raw_output_contents (InferResponse.from_grpc keeps them raw)
        raw_outputs=sum(out._raw_data is not None for out in response.outputs),
    )


async def kserve_v1(job: dict, *, lists: bool) -> dict:
    """KServe V1 through kserve's REST client in v1 mode: POST /v1/models/{m}:predict with
    ``{"instances": [...]}`` (records, or lists in the model's input order), and
    GET /v1/models/{m} via is_model_ready."""
    from kserve import InferenceRESTClient, RESTConfig

    order = [spec["name"] for spec in job["inputs"]]
    if lists:
        instances = [[row[name] for name in order] for row in job["rows"]]
    else:
        instances = [dict(row) for row in job["rows"]]
    client = InferenceRESTClient(RESTConfig(protocol="v1", retries=0, timeout=60))
    headers = {"Authorization": f"Bearer {job['api_key']}"}
    async with client:
        response = await client.infer(
            job["http_url"], {"instances": instances}, model_name=job["model"], headers=headers
        )
        ready = await aprobe(client.is_model_ready(job["http_url"], job["model"], headers=headers))
    predictions = response["predictions"]
    return {
        "labels": [p["label"] for p in predictions],
        "probabilities": [[float(v) for v in p["probabilities"]] for p in predictions],
        "model_ready": ready,
        "client": "kserve.InferenceRESTClient(RESTConfig(protocol='v1'))",
    }


def run_kserve(mode: str, job: dict) -> dict:
    if mode == "kserve_rest":
        work = kserve_rest(job, binary=True)
    elif mode == "kserve_rest_json":
        work = kserve_rest(job, binary=False)
    elif mode == "kserve_grpc":
        work = kserve_grpc(job, raw=False)
    elif mode == "kserve_grpc_raw":
        work = kserve_grpc(job, raw=True)
    elif mode == "kserve_v1":
        work = kserve_v1(job, lists=False)
    elif mode == "kserve_v1_lists":
        work = kserve_v1(job, lists=True)
    else:
        raise ValueError(mode)
    return asyncio.run(work)


# -- main ---------------------------------------------------------------------------------------


def status_of(exc: BaseException) -> str | None:
    """The HTTP or gRPC status an exception carries."""
    if hasattr(exc, "status") and callable(exc.status):  # tritonclient
        return exc.status()
    if hasattr(exc, "code") and callable(exc.code):  # grpc.RpcError
        return str(exc.code())
    if getattr(exc, "response", None) is not None:  # httpx.HTTPStatusError
        return str(exc.response.status_code)
    return None


def failure(exc: BaseException) -> dict:
    """An exception as a result: its message, the status it carries, the traceback."""
    return {
        "error": f"{type(exc).__name__}: {exc}"[:2000],
        "status": status_of(exc),
        "traceback": traceback.format_exc()[-3000:],
    }


def main() -> None:
    job = json.load(sys.stdin)
    modes = job["modes"]
    unknown = [m for m in modes if m not in TRITON_MODES + KSERVE_MODES]
    if unknown:
        raise SystemExit(f"unknown modes: {unknown}")
    if any(m in TRITON_MODES for m in modes) and any(m in KSERVE_MODES for m in modes):
        raise SystemExit("tritonclient and kserve modes cannot share one process")
    results = {}
    for mode in modes:
        try:
            run = run_triton if mode in TRITON_MODES else run_kserve
            results[mode] = run(mode, job)
        except Exception as exc:
            results[mode] = failure(exc)
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
