"""Request bodies decoded with bounded work: JSON text to plain values, refusing what the
rest of the service (and the monitoring loop after it) could not digest.

A body costs at most a small multiple of its size, whatever its shape:

- orjson decodes it; only what orjson refuses (``NaN``/``Infinity``, ``\\u`` escapes of lone
  surrogates, numbers beyond a double) takes the standard library's decoder, which mirrors
  orjson (integers beyond 64 bits become floats, so a 5,000-digit integer is an infinite
  number, never a 4,300-digit conversion error);
- duplicate object keys are found without a second parse in the usual case: every key is
  followed by one ``:``, so the body holds at least as many colons as its objects hold keys
  once decoded, and exactly as many only if no key was repeated (and no string holds a
  colon); the keys are counted in C for the usual shapes, and when the counts differ (a colon
  inside a string, say) an exact re-parse decides;
- text that cannot be stored as UTF-8 (lone surrogates) is a 422 naming where it is;
- the request model's errors are bounded: list items that a cheap type check already accepts
  are never handed to pydantic, and the others are validated in rounds of
  :data:`MAX_DETAILS`, so a list of millions of bad items yields one round of errors plus a
  count, not millions of error objects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import chain, compress, islice, repeat
from operator import is_
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from verdict.serving._errors import ServiceError
from verdict.serving._schemas import ErrorDetail

MAX_DETAILS = 20
MAX_DEPTH = 1024  # orjson's own limit: deeper documents are refused, not parsed
_SCALARS = frozenset({str, int, float, bool, type(None)})
_CONTAINERS = (dict, list)
_DICT = frozenset({dict})
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_INT64 = 2**63


@dataclass(frozen=True)
class BodyShape:
    """A request body: its model, a cheap check of the usual form, and its list fields.

    Attributes
    ----------
    model : type of BaseModel
        The documented request model; it decides whenever ``fits`` does not.
    fits : callable
        ``fits(value)`` is True only for bodies the model accepts unchanged.
    lists : mapping of str to callable
        Top-level list fields and, for each, ``ok(item)``: True only for items the model
        accepts unchanged.
    max_items : mapping of str to (int, str)
        Per list field, the most items accepted and the setting that raises it (413 beyond).
    """

    model: type[BaseModel]
    fits: Callable[[Any], bool]
    lists: Mapping[str, Callable[[Any], bool]] = field(default_factory=dict)
    max_items: Mapping[str, tuple[int, str]] = field(default_factory=dict)


def decode(raw: bytes) -> Any:
    """The body's JSON value; a 400 (or 422 for lone surrogates) saying what was wrong."""
    if not raw or raw.isspace():
        raise _invalid("The body is empty", "send a JSON object", status=422, kind="missing_body")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc):
            raise _too_deep() from None
        value = _strict_loads(raw)
        _refuse_surrogates(raw, value)
        return value
    colons = raw.count(b":")
    if colons != _shallow_keys(value) and colons != _count_keys(value):
        _strict_loads(raw)  # a repeated key, or a colon inside a string: decide exactly
    return value


def _shallow_keys(value: Any) -> int:
    """The keys of the top object and of the objects in its lists of objects: a lower bound
    of :func:`_count_keys` (nested objects are not counted), exact for the usual requests and
    computed in C. When the colons equal even this bound, no key can repeat."""
    if type(value) is not dict:
        return 0
    keys = len(value)
    for member in value.values():
        if type(member) is list and member and set(map(type, member)) == _DICT:
            keys += sum(map(len, member))
    return keys


def validate(value: Any, shape: BodyShape) -> Any:
    """``value`` as the request model reads it, as plain data; a bounded 422 otherwise."""
    _check_sizes(value, shape)
    if shape.fits(value):
        return value
    if type(value) is not dict or not shape.lists:
        return _validated(value, shape.model)
    suspects = {  # lazily: the positions of items the cheap check does not accept
        name: (i for i, item in enumerate(items) if not ok(item))
        for name, ok in shape.lists.items()
        if type(items := value.get(name)) is list
    }
    while True:
        picked = {name: list(islice(found, MAX_DETAILS)) for name, found in suspects.items()}
        trimmed = {**value, **{n: _sample(value[n], p) for n, p in picked.items()}}
        try:
            shape.model.model_validate(trimmed)
        except ValidationError as exc:
            left = sum(
                _count_bad(value[name][p[-1] + 1 :], shape.lists[name])
                for name, p in picked.items()
                if p
            )
            raise _schema_error(exc, picked, left) from None
        if not any(picked.values()):
            return _validated(value, shape.model)


def _count_bad(items: list[Any], ok: Callable[[Any], bool]) -> int:
    """The items ``ok`` refuses. Every request item is an object, so the others are counted
    in C (``map(type)``) and ``ok`` only runs over the objects: a flood of bare numbers costs
    milliseconds, not a Python call each."""
    kinds = list(map(type, items))
    objects = kinds.count(dict)
    bad = len(items) - objects
    if objects:
        bad += sum(1 for item in compress(items, map(is_, kinds, repeat(dict))) if not ok(item))
    return bad


def _check_sizes(value: Any, shape: BodyShape) -> None:
    if type(value) is not dict:
        return
    for name, (limit, setting) in shape.max_items.items():
        items = value.get(name)
        if type(items) is list and len(items) > limit:
            from verdict.serving._limits import too_large

            raise too_large(f"number of items in {name!r}", len(items), limit, setting)


def _sample(items: list[Any], picked: list[int]) -> list[Any]:
    """The picked items, or one accepted item (so that length checks still see a list)."""
    if picked:
        return [items[i] for i in picked]
    return items[:1]


def _validated(value: Any, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate(value).model_dump(exclude_unset=True)
    except ValidationError as exc:
        raise _schema_error(exc, {}, 0) from None


def _schema_error(exc: ValidationError, picked: Mapping[str, list[int]], left: int) -> ServiceError:
    """The 422 for pydantic's errors, item positions mapped back, at most MAX_DETAILS listed.

    ``left``: items that failed the cheap check and were not validated (not listed either).
    A problem is counted once per list item (a union reports one error per alternative).
    """
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    details, places = [], set()
    for err in errors:
        loc = list(err["loc"])
        if len(loc) > 1 and loc[0] in picked and isinstance(loc[1], int) and picked[loc[0]]:
            loc[1] = picked[loc[0]][loc[1]]
        places.add(tuple(loc[:2]) if loc and loc[0] in picked else tuple(loc))
        if len(details) < MAX_DETAILS:
            kind = {"missing": "missing_field"}.get(err["type"], err["type"])
            message = str(err["msg"])[:200]
            details.append(ErrorDetail(loc=["body", *loc], kind=kind, message=message))
    more = max(0, len(errors) - len(details)) + left
    shown = "; ".join(f"{'.'.join(map(str, d.loc))}: {d.message}" for d in details[:5])
    counted = f" ({len(places) + left:,} problem{'s' if len(places) + left > 1 else ''}"
    counted += ", the first listed)" if more else ")"
    return ServiceError(
        422,
        f"The request body does not match the expected schema{counted}: {shown}. To fix: send "
        "the fields the OpenAPI document at /openapi.json describes for this path.",
        details=details,
        more_details=more,
    )


def _count_keys(value: Any) -> int:
    """The keys of every object in ``value``. Scalars are skipped in C (``issuperset`` over a
    ``map``), and so is a list of flat objects (the rows of a request): only the nesting
    costs a Python step."""
    keys, stack = 0, [value]
    while stack:
        node = stack.pop()
        if type(node) is dict:
            keys += len(node)
            values = node.values()
            if not _SCALARS.issuperset(map(type, values)):
                stack.extend(v for v in values if type(v) in _CONTAINERS)
        elif type(node) is list:
            kinds = set(map(type, node))
            if kinds <= _SCALARS:
                continue
            if kinds == _DICT:  # rows: count every object's keys at once
                keys += sum(map(len, node))
                inner = chain.from_iterable(map(dict.values, node))
                if not _SCALARS.issuperset(map(type, inner)):
                    inner = chain.from_iterable(map(dict.values, node))
                    stack.extend(v for v in inner if type(v) in _CONTAINERS)
                continue
            stack.extend(c for c in node if type(c) in _CONTAINERS)
    return keys


def _strict_loads(raw: bytes) -> Any:
    """The standard library's decoding, as orjson reads numbers, refusing repeated keys."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _invalid(
            f"The body is not valid UTF-8: byte 0x{raw[exc.start]:02x} at position {exc.start} "
            "cannot start or continue a character",
            "encode the body as UTF-8",
        ) from None
    try:
        return json.loads(text, object_pairs_hook=_object, parse_int=_integer)
    except json.JSONDecodeError as exc:
        raise _invalid(
            f"The body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno} "
            f"(character {exc.pos})",
            "send one JSON document, as JSON.stringify or json.dumps write it",
            kind="invalid_json",
        ) from None
    except RecursionError:
        raise _too_deep() from None


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        repeated = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise _invalid(
            f"The body repeats the key {repeated[:64]!r} in one object, so which value counts "
            "is ambiguous",
            "send each key once per object",
            status=422,
            kind="duplicate_key",
        )
    return value


def _integer(text: str) -> int | float:
    """As orjson: integers within 64 bits stay integers, larger ones become floats (possibly
    infinite), so no 4,300-digit conversion limit is ever hit."""
    if len(text) <= 18:
        return int(text)
    if len(text) <= 21:
        number = int(text)
        if -_INT64 <= number < 2 * _INT64:
            return number
    return float(text)


def _refuse_surrogates(raw: bytes, value: Any) -> None:
    """A 422 naming each string (key or value) holding a lone surrogate, if any."""
    if not _SURROGATE_ESCAPE.search(raw):
        return
    places: list[list[str | int]] = []
    _find_surrogates(value, [], places)
    if not places:
        return
    details = [
        ErrorDetail(loc=["body", *p], kind="invalid_text",
                    message="text with a lone surrogate (\\ud800-\\udfff), which is not UTF-8")
        for p in places[:MAX_DETAILS]
    ]  # fmt: skip
    where = ", ".join(".".join(map(str, d.loc)) for d in details[:5])
    raise ServiceError(
        422,
        f"The body holds text that cannot be stored as UTF-8 (a lone surrogate escape such as "
        f"\\ud800) at {where}. To fix: send valid Unicode text (pair each high surrogate with a "
        f"low one, or drop it).",
        kind="invalid_text",
        details=details,
        more_details=max(0, len(places) - MAX_DETAILS),
    )


def _find_surrogates(value: Any, path: list[str | int], found: list[list[str | int]]) -> None:
    if len(found) > MAX_DETAILS:
        return
    if type(value) is str:
        if not _encodable(value):
            found.append(path)
    elif type(value) is dict:
        for k, v in value.items():
            key = k if _encodable(k) else k.encode("utf-8", "backslashreplace").decode()
            if key is not k:
                found.append([*path, key])
            _find_surrogates(v, [*path, key], found)
    elif type(value) is list:
        for i, v in enumerate(value):
            if type(v) in _CONTAINERS or type(v) is str:
                _find_surrogates(v, [*path, i], found)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _too_deep() -> ServiceError:
    return _invalid(
        f"The body is nested more than {MAX_DEPTH:,} levels deep",
        "send the flat objects and lists the OpenAPI document at /openapi.json describes",
        kind="too_deep",
    )


def _invalid(what: str, fix: str, *, status: int = 400, kind: str = "bad_request") -> ServiceError:
    return ServiceError(status, f"{what}. To fix: {fix}.", kind=kind)
