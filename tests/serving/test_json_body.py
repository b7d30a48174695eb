"""Body decoding: any bytes give a value or a 4xx ``ServiceError``; repeated keys are always
found (the colon count never lets one through); errors stay bounded whatever the body."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verdict.serving._errors import ServiceError
from verdict.serving._inference import infer_shape
from verdict.serving._json import MAX_DETAILS, decode, validate
from verdict.serving._v1 import feedback_shape, predict_shape

keys = st.text(alphabet=st.sampled_from('ab:"\\{}[], \u00e9'), min_size=0, max_size=4)
leaves = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**80), 2**80),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=6),
    st.sampled_from([":", '":"', "{:}", "a:b"]),
)  # fmt: skip
documents = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(documents)
def test_a_document_without_repeated_keys_decodes_to_itself(document):
    raw = json.dumps(document).encode()
    assert decode(raw) == json.loads(raw, parse_int=lambda s: _as_orjson(int(s)))


def _as_orjson(number: int) -> int | float:
    return number if -(2**63) <= number < 2**64 else float(number)


@settings(max_examples=300, deadline=None)
@given(documents, keys, leaves, st.data())
def test_a_repeated_key_anywhere_is_refused(document, key, value, data):
    pair = json.dumps({key: value})[1:-1]
    raw = "{" + pair + ", " + pair + "}"
    where = data.draw(st.sampled_from(["alone", "in_list", "in_object"]))
    if where == "in_list":
        raw = json.dumps([document, "HOLE"]).replace('"HOLE"', raw)
    elif where == "in_object":
        raw = json.dumps({"a": document, "b": "HOLE"}).replace('"HOLE"', raw)
    with pytest.raises(ServiceError) as caught:
        decode(raw.encode())
    assert caught.value.status == 422 and caught.value.kind == "duplicate_key"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_any_bytes_give_a_value_or_a_client_error(raw):
    try:
        decode(raw)
    except ServiceError as exc:
        assert 400 <= exc.status < 500 and "To fix:" in exc.message


@pytest.mark.parametrize(
    ("shape", "body"),
    [
        (predict_shape(10**7), {"instances": [0] * 500_000}),
        (predict_shape(10**7), {"instances": [{"x": 1}] * 10 + ["no"] * 500_000}),
        (feedback_shape(10**7), {"feedback": [{"label": None}] * 500_000}),
        (feedback_shape(10**7), {"feedback": [{"request_id": 1, "label": "a"}] * 500_000}),
        (infer_shape(10**7), {"inputs": [{"name": 1}] * 500_000}),
    ],
)
def test_errors_stay_bounded_and_cheap(shape, body):
    started = time.perf_counter()
    with pytest.raises(ServiceError) as caught:
        validate(body, shape)
    took = time.perf_counter() - started
    assert caught.value.status == 422
    assert len(caught.value.details) <= MAX_DETAILS
    assert caught.value.more_details >= 400_000
    assert took < 5.0  # linear with a small constant (about a second on a busy 2-core CI)


def test_items_that_coerce_are_accepted_after_every_round():
    body = {"feedback": [{"request_id": "r", "row": "3", "label": "a"}] * 100}  # "3" -> 3
    value = validate(body, feedback_shape(1000))
    assert value["feedback"][99] == {"request_id": "r", "row": 3, "label": "a"}
