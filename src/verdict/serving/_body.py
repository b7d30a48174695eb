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

from verdict.serving._errors import ServiceError
from verdict.serving._json import BodyShape, decode, validate

OFF_LOOP_BYTES = 32 * 1024  # smaller bodies decode in microseconds: a thread hop costs more
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
    request: Request, shape: BodyShape, then: Callable[[Any], Any] | None = None
) -> Any:
    """The body as plain JSON values, validated against ``shape`` (then passed to ``then``,
    in the same worker thread for a large body); a 4xx ``ServiceError`` saying what was wrong.
    """
    raw = await request.body()
    if raw and not _is_json(request.headers.get("content-type")):
        content_type = request.headers.get("content-type")
        raise ServiceError(
            422,
            f"The body must be JSON sent with Content-Type: application/json (got "
            f"{content_type or 'no content type'!r}). To fix: with curl add "
            "-H 'Content-Type: application/json'.",
            kind="content_type",
        )

    def work() -> Any:
        value = validate(decode(raw), shape)
        return then(value) if then is not None else value

    if len(raw) > OFF_LOOP_BYTES:
        return await asyncio.to_thread(work)
    return work()


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
