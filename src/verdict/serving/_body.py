"""Request bodies read without a pydantic model per row, and answers serialised once.

The routes with a body read it raw and hand it to ``_json`` (decode, then validate against a
:class:`BodyShape`): a body of the usual form goes on as plain lists and dicts after a few
cheap type checks; any other is validated by the documented request model with a bounded
number of errors. A body over :data:`OFF_LOOP_BYTES` is decoded and validated in a worker
thread, so a large or hostile body never holds up the event loop (and the other requests).
The request models stay the documented ones (``openapi_body``).
"""

from __future__ import annotations

import asyncio
import email.message
from collections.abc import Callable
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from verdict.serving._binary import bad_binary, split_binary_inputs
from verdict.serving._errors import ServiceError
from verdict.serving._json import BodyShape, decode, validate

OFF_LOOP_BYTES = 32 * 1024  # smaller bodies decode in microseconds: a thread hop costs more
_UNANNOUNCED = "the request has no Inference-Header-Content-Length header"
_JSON_TYPES = frozenset({"application/json", "application/json; charset=utf-8"})


def openapi_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` declaring ``model`` as the required JSON request body."""
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"content": {"application/json": {"schema": ref}}, "required": True}}


def request_schemas(models: list[type[BaseModel]]) -> dict[str, Any]:
    """The OpenAPI component schemas of request ``models`` (and the models they use)."""
    pairs = [(m, "validation") for m in models]
    _, top = models_json_schema(pairs, ref_template="#/components/schemas/{model}")
    return top.get("$defs", {})


def json_answer(content: Any) -> Response:
    """``content`` (plain values; numpy arrays allowed) as a JSON response."""
    data = orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)
    return Response(data, media_type="application/json")


async def read_json(
    request: Request,
    shape: BodyShape,
    then: Callable[[Any], Any] | None = None,
    *,
    untyped: bool = False,
    binary: bool = False,
) -> Any:
    """The body as plain JSON values, validated against ``shape`` (then passed to ``then``,
    in the same worker thread for a large body); a 4xx ``ServiceError`` saying what was wrong.

    ``untyped`` also takes a body sent without a ``Content-Type`` as JSON (Triton's and
    KServe's clients send none). ``binary`` takes the binary tensor data extension: with an
    ``Inference-Header-Content-Length`` header, that many bytes are the JSON header and the
    rest are the inputs whose ``parameters.binary_data_size`` says they are binary.
    """
    encoding = request.headers.get("content-encoding")
    if encoding is not None and encoding.strip().lower() not in ("", "identity"):
        raise ServiceError(
            415,
            f"Content-Encoding {encoding[:32]!r} is not supported: request bodies are read as "
            "sent. To fix: send the body uncompressed (tritonclient: leave "
            "request_compression_algorithm unset).",
            kind="content_encoding",
        )
    raw = await request.body()
    header = request.headers.get("inference-header-content-length") if binary else None
    if header is None:
        content_type = request.headers.get("content-type")
        if raw and not _is_json(content_type) and not (untyped and content_type is None):
            raise ServiceError(
                415 if untyped else 422,
                f"The body must be JSON sent with Content-Type: application/json (got "
                f"{content_type or 'no content type'!r}). To fix: with curl add "
                "-H 'Content-Type: application/json'"
                + (
                    "; binary tensors need the Inference-Header-Content-Length header"
                    if binary
                    else ""
                )
                + ".",
                kind="content_type",
            )
    cut = _header_length(header, len(raw)) if header is not None else None

    def work() -> Any:
        if cut is None:
            try:
                value = decode(raw)
            except ServiceError:
                if binary and b'"binary_data_size"' in raw:  # binary bytes after the JSON
                    raise bad_binary(_UNANNOUNCED, None) from None
                raise
            if binary:
                _refuse_unannounced_binary(value)
        else:
            value = decode(raw[:cut])
            if type(value) is dict and type(value.get("inputs")) is list:
                value["inputs"] = split_binary_inputs(value["inputs"], memoryview(raw)[cut:])
        value = validate(value, shape)
        return then(value) if then is not None else value

    if len(raw) > OFF_LOOP_BYTES:
        return await asyncio.to_thread(work)
    return work()


def _header_length(header: str, size: int) -> int:
    """The JSON header's length from ``Inference-Header-Content-Length``; 400 if unusable."""
    text = header.strip()
    if not text.isdigit() or len(text) > 12 or int(text) > size:
        raise ServiceError(
            400,
            f"Inference-Header-Content-Length is {header[:32]!r} but must be a whole number of "
            f"bytes no larger than the body ({size:,} bytes). To fix: send the length of the "
            "JSON header that starts the body.",
            kind="invalid_binary",
        )
    return int(text)


def _refuse_unannounced_binary(value: Any) -> None:
    """A 400 when inputs say they are binary but the header that splits the body is missing."""
    inputs = value.get("inputs") if type(value) is dict else None
    if type(inputs) is not list:
        return
    for i, tensor in enumerate(inputs):
        parameters = tensor.get("parameters") if type(tensor) is dict else None
        if type(parameters) is dict and "binary_data_size" in parameters:
            raise bad_binary(f"input {i} has binary_data_size but {_UNANNOUNCED}", i)


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    if content_type.lower() in _JSON_TYPES:
        return True
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")
