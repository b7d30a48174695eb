"""The Open Inference Protocol over gRPC: ``inference.GRPCInferenceService`` beside the HTTP API.

It runs in the app's own event loop (started and stopped by the lifespan), so it shares
everything HTTP has: the served models and their micro-batchers (requests over both transports
join the same batches), hot reload, the API keys, the prediction log (a prediction is answered
only once its rows are committed) and the metrics (``verdict_requests_total`` with
``method="GRPC"`` and the HTTP status an equivalent REST call gets).

- **Keys.** Every RPC but ``ServerLive`` (and ``ServerReady`` with ``public_readiness``) needs
  an API key in the metadata, ``authorization: Bearer <key>`` or ``x-api-key: <key>``:
  missing or unknown keys get ``UNAUTHENTICATED``, revoked ones ``PERMISSION_DENIED``, stale
  keys on a deployment target ``UNAVAILABLE``, before the request is looked at.
- **Limits.** A message over ``max_body_bytes`` is refused by gRPC itself
  (``RESOURCE_EXHAUSTED``); rows over ``max_rows`` as over HTTP; a large request is decoded
  off the event loop.
- **Contents.** Inputs come as typed ``contents`` or as ``raw_input_contents`` (one entry per
  input, the binary tensor layout of ``_binary``); the answer uses ``raw_output_contents``
  when the request came raw (as Triton does: tritonclient reads typed BYTES badly under
  numpy 2), typed ``contents`` otherwise.
- **Errors** carry the message the REST API gives (what was wrong and how to fix it) as the
  status details, with the status code the protocol maps from the HTTP one; the trailing
  metadata hold ``x-request-id`` and ``verdict-error-kind``.

Each answer's initial metadata carry ``x-request-id`` (the service's own id; a client's
``x-request-id`` is kept beside it as on HTTP), the id feedback refers to.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from google.protobuf.message import DecodeError
from grpc import aio

from verdict.serving import _grpc_messages as pb
from verdict.serving import _inference
from verdict.serving._binary import RawTensorError, decode_raw, encode_raw
from verdict.serving._body import OFF_LOOP_BYTES
from verdict.serving._deps import model_or_404, version_or_404
from verdict.serving._errors import ServiceError
from verdict.serving._json import validate
from verdict.serving._middleware import authenticate, client_id
from verdict.serving._residency import guarded
from verdict.serving._served import ServedModel
from verdict.serving._work import Logged

logger = logging.getLogger("verdict.serving")
error_log = logging.getLogger("verdict.serving.errors")
access_log = logging.getLogger("verdict.serving.access")  # one JSON line per RPC, as for HTTP

_CODES = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    415: grpc.StatusCode.INVALID_ARGUMENT,
    422: grpc.StatusCode.INVALID_ARGUMENT,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    500: grpc.StatusCode.INTERNAL,
    503: grpc.StatusCode.UNAVAILABLE,
}
_TYPED = {  # datatype -> the InferTensorContents field that carries it
    "BOOL": "bool_contents",
    "INT8": "int_contents",
    "INT16": "int_contents",
    "INT32": "int_contents",
    "INT64": "int64_contents",
    "UINT8": "uint_contents",
    "UINT16": "uint_contents",
    "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    "BYTES": "bytes_contents",
}
ROUTE = "/inference.GRPCInferenceService/"
GUARDED_GRPC = (
    "gRPC cannot be served by a replica behind the deployment's gateway (a gateway secret or "
    "strict zones are set): the gateway routes HTTP only, so gRPC would bypass its residency "
    "checks. To fix: leave out --grpc-port (VERDICT_GRPC_PORT) on deployment replicas."
)


class InferenceService:
    """The six RPCs of ``GRPCInferenceService`` over an app's state."""

    def __init__(self, app: Any) -> None:
        self.app = app
        state = app.state
        self.settings = state.settings
        self.telemetry = state.telemetry
        self.prefix = f"{self.settings.target}:" if self.settings.target else ""

    # -- the RPCs ------------------------------------------------------------------------

    async def ServerLive(self, request: Any, logged: Logged) -> Any:  # noqa: N802 - the protocol's name
        return pb.ServerLiveResponse(live=True)

    async def ServerReady(self, request: Any, logged: Logged) -> Any:  # noqa: N802
        return pb.ServerReadyResponse(ready=bool(self.app.state.accepting))

    async def ServerMetadata(self, request: Any, logged: Logged) -> Any:  # noqa: N802
        return pb.ServerMetadataResponse(**_inference.server_metadata())

    async def ModelReady(self, request: Any, logged: Logged) -> Any:  # noqa: N802
        self._model(request.name, request.version)
        return pb.ModelReadyResponse(ready=True)

    async def ModelMetadata(self, request: Any, logged: Logged) -> Any:  # noqa: N802
        found = _inference.model_metadata(self._model(request.name, request.version))
        answer = pb.ModelMetadataResponse(  # no field for REST's "parameters" (the runtime)
            name=found["name"], versions=found["versions"], platform=found["platform"]
        )
        for name in ("inputs", "outputs"):
            for spec in found[name]:
                getattr(answer, name).add(**spec)
        return answer

    async def ModelInfer(self, request: Any, logged: Logged) -> Any:  # noqa: N802
        model = self._model(request.model_name, request.model_version)
        max_rows = self.settings.max_rows
        raw = bool(request.raw_input_contents)

        def work() -> _inference.Prepared:
            body = validate(_plain_request(request), _inference.infer_shape(max_rows))
            return _inference.prepare(body, model, max_rows)

        for field in ("inputs", "outputs"):  # before anything is built from them
            if len(getattr(request, field)) > max_rows:
                raise ServiceError(
                    413,
                    f"The request has {len(getattr(request, field)):,} {field}; at most "
                    f"{max_rows:,} are accepted (max_rows). To fix: send one tensor per "
                    "feature, or one [rows, features] matrix.",
                    kind="too_large",
                )
        big = request.ByteSize() > OFF_LOOP_BYTES
        prepared = await asyncio.to_thread(work) if big else work()
        outputs = await _inference.infer(model, prepared, logged, self.telemetry)
        answer = pb.ModelInferResponse(
            model_name=model.name,
            model_version=str(model.version),
            id=prepared.id if prepared.id is not None else logged.request_id,
        )
        for out in outputs:
            tensor = answer.outputs.add(name=out.name, datatype=out.datatype, shape=out.shape)
            if raw:
                answer.raw_output_contents.append(encode_raw(out.datatype, out.data))
            else:
                _fill_typed(tensor.contents, out.datatype, out.data)
        return answer

    # -- shared --------------------------------------------------------------------------

    def _model(self, name: str, version: str) -> ServedModel:
        model = model_or_404(getattr(self.app.state, "served", None), name, "ModelMetadata")
        if version:
            version_or_404(model, version, "leave model_version empty")
        return model

    def handler(self) -> grpc.GenericRpcHandler:
        """The service's method handlers, each wrapped in :meth:`_rpc`."""
        handlers = {}
        for name, (request_class, response_class) in pb.METHODS.items():
            method = getattr(self, name)
            handlers[name] = grpc.unary_unary_rpc_method_handler(
                self._rpc(name, method, request_class),  # parses: a bad message gets a 400
                response_serializer=response_class.SerializeToString,
            )
        return grpc.method_handlers_generic_handler(pb.SERVICE, handlers)

    def _rpc(
        self, name: str, method: Callable[[Any, Logged], Awaitable[Any]], request_class: Any
    ) -> Callable[[bytes, Any], Awaitable[Any]]:
        """``method`` with the request envelope HTTP's middleware gives: id, key, metrics,
        access log, and every error answered with its status and message."""
        public = self.settings.public_readiness
        open_rpc = name == "ServerLive" or (name == "ServerReady" and public)
        route = ROUTE + name

        async def rpc(message: bytes, context: Any) -> Any:
            started = time.perf_counter()
            headers = [
                (k.encode("latin-1"), v.encode("latin-1") if isinstance(v, str) else v)
                for k, v in (context.invocation_metadata() or ())
            ]
            rid, theirs = self.prefix + uuid.uuid4().hex, client_id(headers)
            status = 200
            self.telemetry.in_flight.inc()
            try:
                if self.settings.auth and not open_rpc:
                    refused = authenticate(
                        self.app.state.keys, headers, self.settings.keys_max_staleness_seconds
                    )
                    if refused is not None:
                        raise refused
                sent = [("x-request-id", rid)]
                if theirs is not None:
                    sent.append(("x-client-request-id", theirs))
                await context.send_initial_metadata(sent)
                return await method(_parse(request_class, message), Logged(rid, theirs))
            except ServiceError as error:
                status = error.status
                self.telemetry.error(error.kind)
                await _abort(context, error, rid)
            except (asyncio.CancelledError, aio.AbortError):
                status = 499  # the client went away (or the abort above is on its way)
                raise
            except Exception:
                error_log.exception("internal error answering gRPC %s (%s)", rid, name)
                status = 500
                self.telemetry.error("internal")
                await _abort(
                    context,
                    ServiceError(
                        500,
                        f"The service failed to answer this request (request id {rid}). To "
                        "fix: retry; if it persists, give the request id to the service's "
                        "operator, whose log has the cause.",
                    ),
                    rid,
                )
            finally:
                seconds = time.perf_counter() - started
                self.telemetry.in_flight.dec()
                self.telemetry.request(route, "GRPC", status, seconds)
                if access_log.isEnabledFor(logging.INFO):
                    line = {"request_id": rid, "method": "GRPC", "path": route, "route": route,
                            "status": status, "ms": round(seconds * 1000, 3)}  # fmt: skip
                    if theirs is not None:
                        line["client_request_id"] = theirs
                    access_log.info(json.dumps(line, separators=(",", ":")))

        return rpc


def _parse(request_class: Any, message: bytes) -> Any:
    """The request message, or a 400 when the bytes are not one (after the key check, so an
    unauthenticated caller learns nothing about what it sent)."""
    try:
        return request_class.FromString(message)
    except DecodeError:
        raise ServiceError(
            400,
            f"The message is not a valid {request_class.DESCRIPTOR.full_name} (protobuf could "
            "not parse it; text fields must be valid UTF-8). To fix: build it from "
            "grpc_predict_v2.proto, as tritonclient and the kserve SDK do.",
            kind="invalid_message",
        ) from None


async def _abort(context: Any, error: ServiceError, rid: str) -> None:
    code = _CODES.get(error.status, grpc.StatusCode.UNKNOWN)
    context.set_trailing_metadata((("x-request-id", rid), ("verdict-error-kind", error.kind)))
    await context.abort(code, error.message)


def _plain_request(request: Any) -> dict[str, Any]:
    """A ``ModelInferRequest`` as the plain request the REST API validates."""
    raw = request.raw_input_contents
    if raw and len(raw) != len(request.inputs):
        raise ServiceError(
            400,
            f"raw_input_contents has {len(raw)} entries for {len(request.inputs)} inputs. To "
            "fix: send one entry per input, in input order (or typed contents and no raw ones).",
            kind="invalid_binary",
        )
    inputs = []
    for i, tensor in enumerate(request.inputs):
        shape = list(tensor.shape)
        plain: dict[str, Any] = {"name": tensor.name, "shape": shape, "datatype": tensor.datatype}
        if tensor.parameters:
            plain["parameters"] = _parameters(tensor.parameters)
        if raw:
            if tensor.HasField("contents"):
                raise ServiceError(
                    400,
                    f"input {i} has typed contents and raw_input_contents is used. To fix: "
                    "send every input one way.",
                    kind="invalid_binary",
                )
            plain["data"] = _raw_data(tensor, raw[i], i)
        else:
            plain["data"] = _typed_data(tensor, i)
        inputs.append(plain)
    body: dict[str, Any] = {"inputs": inputs}
    if request.id:
        body["id"] = request.id
    if request.parameters:
        body["parameters"] = _parameters(request.parameters)
    if request.outputs:
        body["outputs"] = [
            {"name": o.name, **({"parameters": _parameters(o.parameters)} if o.parameters else {})}
            for o in request.outputs
        ]
    return body


def _raw_data(tensor: Any, raw: bytes, index: int) -> list[Any]:
    count = 1
    for d in tensor.shape:
        if d < 0:
            raise ServiceError(400, f"input {index} has a negative dimension in its shape "
                               f"{list(tensor.shape)}. To fix: send the tensor's actual shape.",
                               kind="invalid_tensor")  # fmt: skip
        count *= d
    try:
        return decode_raw(tensor.datatype, raw, count)
    except RawTensorError as exc:
        raise ServiceError(
            400,
            f"raw_input_contents[{index}] ({tensor.name[:64]!r}, {tensor.datatype[:16]}, shape "
            f"{list(tensor.shape)}): {exc}. To fix: send the elements flattened row-major, "
            "little-endian (BYTES elements each preceded by a 4-byte little-endian length).",
            kind="invalid_binary",
        ) from None


def _typed_data(tensor: Any, index: int) -> list[Any]:
    field = _TYPED.get(tensor.datatype)
    if field is None:
        raise ServiceError(
            400,
            f"input {index} has datatype {tensor.datatype[:16]!r}, which has no typed contents "
            "(FP16 and unknown datatypes). To fix: send it in raw_input_contents, or as FP32.",
            kind="invalid_tensor",
        )
    other = [f.name for f, _ in tensor.contents.ListFields() if f.name != field]
    if other:
        raise ServiceError(
            400,
            f"input {index} ({tensor.name[:64]!r}) is {tensor.datatype} but its contents are in "
            f"{other}. To fix: send a {tensor.datatype} tensor's elements in {field} (or change "
            "its datatype to match the contents).",
            kind="invalid_tensor",
        )
    values = list(getattr(tensor.contents, field))
    if field != "bytes_contents":
        return values
    try:
        return list(map(bytes.decode, values))  # UTF-8, strict
    except UnicodeDecodeError:
        raise ServiceError(
            400,
            f"input {index} ({tensor.name[:64]!r}) holds BYTES that are not UTF-8 text. To fix: "
            "send text encoded as UTF-8.",
            kind="invalid_text",
        ) from None


def _parameters(parameters: Any) -> dict[str, Any]:
    out = {}
    for key, value in parameters.items():
        which = value.WhichOneof("parameter_choice")
        out[key] = getattr(value, which) if which else None
    return out


def _fill_typed(contents: Any, datatype: str, data: Any) -> None:
    field = getattr(contents, _TYPED[datatype])
    if datatype == "BYTES":
        field.extend(str(v).encode("utf-8") for v in data)
    else:
        field.extend(data.tolist() if hasattr(data, "tolist") else data)


async def start_grpc(app: Any, host: str, port: int) -> aio.Server:
    """Serve ``app``'s models over gRPC on ``host:port`` (0: any free port; the bound one is
    in ``server.verdict_port``)."""
    settings = app.state.settings
    if guarded(settings):
        from verdict.errors import ConfigurationError

        raise ConfigurationError(GUARDED_GRPC)
    limit = settings.max_body_bytes
    server = aio.server(
        options=[
            ("grpc.max_receive_message_length", limit),
            ("grpc.max_send_message_length", max(limit, 64 * 1024 * 1024)),
            # several workers share the port; a lone server must own it (a second one fails)
            ("grpc.so_reuseport", int(app.state.telemetry.multiprocess)),
        ]
    )
    server.add_generic_rpc_handlers((InferenceService(app).handler(),))
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError as exc:
        bound, cause = 0, exc
    else:
        cause = None
    if not bound:
        from verdict.errors import ConfigurationError

        raise ConfigurationError(
            f"The gRPC server cannot listen on {address}{f' ({cause})' if cause else ''}. To "
            "fix: choose a free port with --grpc-port (0 picks one)."
        )
    await server.start()
    server.verdict_port = bound  # type: ignore[attr-defined]
    logger.info("gRPC (inference.GRPCInferenceService) on %s:%d", host, bound)
    return server
