"""What a client with a valid key gets for hostile or careless bodies: a bounded 4xx that says
what was wrong, never a 500, never a neighbour's failure, and nothing the loop cannot read."""

from __future__ import annotations

import json

import pytest
from serving_support import records, service, trained_home
from sqlalchemy import select

from verdict.serving._json import MAX_DETAILS
from verdict.state._database import feedback, open_state, predictions

PREDICT = "/v1/models/penguins/predict"
INFER = "/v2/models/penguins/infer"
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return trained_home(tmp_path_factory)


@pytest.fixture(scope="module")
def svc(home, tmp_path_factory):
    with service(home, tmp_path_factory.mktemp("hostile"), max_rows=1_000_000) as running:
        yield running


def _error(response) -> dict:
    body = response.json()
    return body["error"] if isinstance(body["error"], dict) else body


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (PREDICT, {"instances": [0] * 200_000}),
        ("/v1/feedback", {"feedback": [0] * 200_000}),
        (INFER, {"inputs": [0] * 200_000}),
        (INFER, {"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1]}],
                 "outputs": [0] * 200_000}),
    ],
)  # fmt: skip
def test_a_list_of_bad_items_gets_a_bounded_4xx(svc, path, body):
    response = svc.post(path, json=body)
    assert response.status_code == (400 if path == INFER else 422), response.text[:500]
    assert len(response.content) < 16_000
    error = _error(response)
    assert len(error["details"]) == MAX_DETAILS
    assert error["more_details"] >= 200_000 - MAX_DETAILS
    assert "200,000 problems" in (error.get("message") or error["error"])


def test_too_many_rows_is_413_before_any_validation(home, tmp_path):
    with service(home, tmp_path) as small:  # the default limit: 10,000 rows
        response = small.post(PREDICT, json={"instances": [0] * 200_000})
        assert response.status_code == 413 and "200,000" in response.text
        tensor = {"name": "bill_length_mm", "shape": [50_000], "datatype": "FP64", "data": [1]}
        assert small.post(INFER, json={"inputs": [tensor]}).status_code == 413


def test_a_lone_surrogate_is_a_422_naming_row_and_column(svc):
    rows = records(3)
    raw = json.dumps({"instances": rows}).replace('"Torgersen"', '"\\ud800"', 1)
    assert "\\ud800" in raw
    response = svc.post(PREDICT, content=raw, headers=JSON)
    assert response.status_code == 422
    error = _error(response)
    assert error["kind"] == "invalid_text"
    assert error["details"][0]["loc"] == ["body", "instances", 0, "island"]
    key = svc.post(PREDICT, content='{"instances": [{"\\udc00": 1}]}', headers=JSON)
    assert key.status_code == 422 and _error(key)["kind"] == "invalid_text"
    pair = json.dumps({"instances": [{**rows[0], "island": "\U0001f600"}]})  # a valid pair
    assert svc.post(PREDICT, content=pair, headers=JSON).status_code == 200


def test_repeated_keys_and_tensor_names_are_422(svc):
    row = json.dumps(records(1)[0])
    repeated = '{"instances": [' + row[:-1] + ', "island": "Dream"}]}'
    response = svc.post(PREDICT, content=repeated, headers=JSON)
    assert response.status_code == 422 and _error(response)["kind"] == "duplicate_key"
    assert "'island'" in _error(response)["message"]
    top = '{"instances": [' + row + '], "instances": []}'
    assert svc.post(PREDICT, content=top, headers=JSON).status_code == 422
    colon = json.dumps({"instances": [{**records(1)[0], "island": "a:b"}]})  # not a repeat
    assert svc.post(PREDICT, content=colon, headers=JSON).status_code == 200
    tensor = {"name": "bill_length_mm", "shape": [1], "datatype": "FP64", "data": [40.0]}
    twice = svc.post(INFER, json={"inputs": [tensor, {**tensor, "data": [50.0]}]})
    assert twice.status_code == 400 and twice.json()["kind"] == "duplicate_input"


@pytest.mark.parametrize(
    ("raw", "status", "needle"),
    [
        ("[" * 5000 + "]" * 5000, 400, "nested more than 1,024 levels"),
        ('{"instances": [' * 600 + "]}" * 600, 400, "nested more than"),
        ('{"instances": [{"x": 1', 400, "not valid JSON"),
        ('{"instances": [{"x": NaN}] ', 400, "not valid JSON"),
        ("", 422, "empty"),
    ],
)
def test_malformed_bodies_say_what_was_wrong(svc, raw, status, needle):
    response = svc.post(PREDICT, content=raw, headers=JSON)
    assert response.status_code == status, response.text[:300]
    assert needle in _error(response)["message"]
    assert "UTF-8" not in _error(response)["message"]


def test_not_utf8_says_which_byte(svc):
    response = svc.post(PREDICT, content=b'{"instances": [{"island": "\xff"}]}', headers=JSON)
    assert response.status_code == 400
    assert "not valid UTF-8: byte 0xff at position 27" in _error(response)["message"]


def test_huge_numbers_are_refused_as_numbers_not_as_encodings(svc):
    row = json.dumps(records(1)[0])
    huge = row.replace('"bill_length_mm": 39.1', '"bill_length_mm": ' + "9" * 5000)
    assert huge != row
    response = svc.post(PREDICT, content='{"instances": [' + huge + "]}", headers=JSON)
    assert response.status_code == 422
    assert _error(response)["details"][0]["kind"] == "not_finite"


def test_out_of_range_numbers_are_scored_and_counted(svc):
    rows = [{**records(1)[0], "body_mass_g": 4.2e9}, records(1)[0]]
    response = svc.post(PREDICT, json={"instances": rows})
    assert response.status_code == 200
    assert response.json()["out_of_range"] == {"body_mass_g": 1}
    assert len(response.json()["predictions"]) == 2
    metrics = svc.get("/metrics").text
    assert 'verdict_out_of_range_total{column="body_mass_g",model="penguins"} 1.0' in metrics


def test_a_reused_client_request_id_loses_no_prediction(svc):
    answers = [
        svc.post(PREDICT, json={"instances": records(1)}, headers={"X-Request-ID": "same"})
        for _ in range(2)
    ]
    ids = {a.json()["request_id"] for a in answers}
    assert len(ids) == 2
    labels = [{"request_id": rid, "label": "Adelie"} for rid in ids]
    attached = svc.post("/v1/feedback", json={"feedback": labels}).json()
    assert attached["attached"] == 2
    engine = open_state(svc.state_url)
    with engine.connect() as connection:
        query = select(predictions.c.request_id, predictions.c.client_request_id)
        logged = dict(connection.execute(query.where(predictions.c.request_id.in_(ids))).all())
    engine.dispose()
    assert logged == dict.fromkeys(ids, "same")


@pytest.mark.parametrize(
    ("label", "needle"),
    [(42, "not one of the classes"), ("Emperor", "not one of the classes"),
     (True, "not one of the classes"), (None, "")],
)  # fmt: skip
def test_feedback_labels_must_be_classes(svc, label, needle):
    rid = svc.post(PREDICT, json={"instances": records(1)}).json()["request_id"]
    response = svc.post("/v1/feedback", json={"feedback": [{"request_id": rid, "label": label}]})
    assert response.status_code == 422, response.text
    assert needle in _error(response)["message"]
    assert "Adelie" in response.text or label is None


def test_feedback_label_spellings_store_the_class_itself(home, tmp_path):
    with service(home, tmp_path, models=["penguins@production"]) as one:
        rid = one.post(PREDICT, json={"instances": records(1)}).json()["request_id"]
        items = [{"request_id": rid, "label": " Adelie "},
                 {"request_id": "later", "label": "Gentoo"}]  # fmt: skip
        response = one.post("/v1/feedback", json={"feedback": items})
        assert response.status_code == 200, response.text
        engine = open_state(one.state_url)
        with engine.connect() as connection:
            stored = connection.execute(select(feedback.c.label, feedback.c.model)).all()
        engine.dispose()
    assert sorted(stored) == [("Adelie", "penguins"), ("Gentoo", "penguins")]


def test_feedback_features_pass_the_row_checks(svc):
    good = records(1)[0]
    cases = [
        ({**good, "bill_length_mm": "long"}, "wrong_type"),
        ({k: v for k, v in good.items() if k != "island"}, "missing_feature"),
        ({**good, "flipper_length_mm": [1, 2]}, "wrong_type"),
    ]
    for features, kind in cases:
        item = {"features": features, "label": "Adelie", "model": "penguins"}
        response = svc.post("/v1/feedback", json={"feedback": [item]})
        assert response.status_code == 422, response.text
        assert _error(response)["details"][0]["kind"] == kind
        assert _error(response)["details"][0]["loc"][:3] == ["body", "feedback", 0]
    item = {"features": {**good, "island": "SURROGATE"}, "label": "Adelie", "model": "penguins"}
    raw = json.dumps({"feedback": [item]}).replace("SURROGATE", "\\ud800")
    response = svc.post("/v1/feedback", content=raw, headers=JSON)
    assert response.status_code == 422 and _error(response)["kind"] == "invalid_text"


def test_orphan_feedback_is_bounded_per_model(home, tmp_path):
    with service(home, tmp_path, max_orphan_feedback=3) as small:
        items = [{"request_id": f"nope-{i}", "label": "Adelie", "model": "penguins"}
                 for i in range(3)]  # fmt: skip
        assert small.post("/v1/feedback", json={"feedback": items}).status_code == 200
        more = {"request_id": "nope-3", "label": "Adelie", "model": "penguins"}
        refused = small.post("/v1/feedback", json={"feedback": [more]})
        assert refused.status_code == 429 and _error(refused)["kind"] == "orphan_limit"
        assert "3 labels" in _error(refused)["message"]
        other = {**more, "model": "numeric"}  # per model
        assert small.post("/v1/feedback", json={"feedback": [other]}).status_code == 200
        attached = small.post(PREDICT, json={"instances": records(1)}).json()["request_id"]
        ok = {"request_id": attached, "label": "Adelie"}  # attached labels are never bounded
        assert small.post("/v1/feedback", json={"feedback": [ok]}).status_code == 200
        nameless = {"request_id": "nope-4", "label": "Adelie"}  # two models: which one?
        response = small.post("/v1/feedback", json={"feedback": [nameless]})
        assert response.status_code == 422 and "names no model" in response.text
