"""Request bodies read without a pydantic model per row, and answers serialised once.

The predict and infer routes read the raw body and decode it with orjson. A body of the usual
shape (checked here in a few cheap type tests) goes straight on as plain lists and dicts; any
other body -- another content type, JSON that orjson refuses (``NaN``, ``Infinity``, integers
over 64 bits), a field of another type -- takes the slow path: exactly what FastAPI does for a
pydantic body parameter (stdlib ``json``, then the request model), so that its 422 details are
unchanged. The request models stay the documented ones (``openapi_body``).
"""

from __future__ import annotations

import email.message
import json
from typing import Any

import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

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


async def read_json(request: Request, model: type[BaseModel], fits: Any) -> Any:
    """The body as plain JSON values when ``fits(value)``, else as validated by ``model``.

    Raises FastAPI's ``RequestValidationError`` (or its 400) exactly as a body parameter of
    type ``model`` would.
    """
    raw = await request.body()
    if request.headers.get("content-type", "").lower() in _JSON_TYPES:
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
        else:
            if fits(value):
                return value
    return _slow(request, raw, model)


def _slow(request: Request, raw: bytes, model: type[BaseModel]) -> Any:
    """FastAPI's own reading of a body parameter, then ``model``'s validation, as plain data."""
    if not raw:
        raise RequestValidationError(
            [{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}]
        )
    content_type = request.headers.get("content-type")
    if not _is_json(content_type):
        raise RequestValidationError([{
            "type": "content_type",
            "loc": ("body",),
            "msg": f"The body must be JSON sent with Content-Type: application/json (got "
                   f"{content_type or 'no content type'!r}); with curl add "
                   "-H 'Content-Type: application/json'",
            "input": None,
        }])  # fmt: skip
    body: Any = _loads(raw)
    try:
        return model.model_validate(body).model_dump(exclude_unset=True)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors, body=body) from None


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


def _loads(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as e:
        error = {
            "type": "json_invalid",
            "loc": ("body", e.pos),
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": e.msg},
        }
        raise RequestValidationError([error], body=e.doc) from None
    except Exception as e:  # not UTF-8: FastAPI answers 400
        from fastapi import HTTPException

        raise HTTPException(400, "There was an error parsing the body") from e
