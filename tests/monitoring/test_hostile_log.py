"""Monitoring and retraining digest whatever the log holds: hostile rows written straight into
the state database (a careless client before the door checks, another writer) are counted and
reported, never a crash or a traceback."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from palmerpenguins import load_penguins
from sqlalchemy import insert
from typer.testing import CliRunner

from verdict.cli import app
from verdict.data import ColumnKind, ColumnSchema, Schema
from verdict.errors import InvalidInputError
from verdict.monitoring._retrain import retrain
from verdict.monitoring._unexpected import (
    NOT_A_CLASS,
    UNEXPECTED,
    digest_inputs,
    match_labels,
)
from verdict.pipeline import train
from verdict.registry import Registry
from verdict.state import FeedbackItem, PredictionBatch, PredictionLog
from verdict.state._database import feedback, open_state, predictions

START = datetime(2026, 11, 1, tzinfo=UTC)
# per feature, six logged values; the comments count those of an unexpected type
HOSTILE = {
    "island": [123, "\ud800", ["a"], {"b": 1}, True, "Biscoe"],  # 4: the lone surrogate is text
    "bill_length_mm": ["abc", [1], {"x": 2}, True, "\udfff", 40.0],  # 5
    "sex": [{"d": 1}, 5, "male", None, "\ud800", "female"],  # 2
    "tagged": [{"t": 1}, "maybe", True, [1], 7, "yes"],  # 4: 'yes' is true
    "seen": [12345, "not a date", {"d": 1}, "2008-05-01", "\ud800", True],  # 5
}
UNEXPECTED_COUNTS = {"island": 4, "bill_length_mm": 5, "sex": 2, "tagged": 4, "seen": 5}
BAD_LABELS = [42, "not-a-class", ["x"], {"y": 1}, True, None]


def penguins(n: int, seed: int) -> pd.DataFrame:
    """Penguins with a boolean and a date feature, so every kind of column is logged."""
    rng = np.random.default_rng(seed)
    frame = load_penguins()
    rows = frame.iloc[rng.integers(0, len(frame), n)].reset_index(drop=True)
    rows["tagged"] = rng.random(n) < 0.5
    days = pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    rows["seen"] = (pd.Timestamp("2008-01-01") + days).strftime("%Y-%m-%d")
    return rows


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A VERDICT_HOME whose state database holds good traffic and every kind of hostile row."""
    root = tmp_path_factory.mktemp("hostile")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = train(penguins(400, 0), "species", models=["softmax"], time_budget=5, cv=3,
                    quiet=True, out=root / "run", seed=0)  # fmt: skip
    with Registry(home=root) as registry:
        registry.register(run, "penguins", alias="production")
        loaded = registry.load("penguins@production")
    engine = open_state(f"sqlite:///{root / 'service.db'}")
    log = PredictionLog(engine)
    good = penguins(400, 1)
    for i in range(8):  # good traffic, labelled
        part = good.iloc[i * 50 : (i + 1) * 50]
        _record(log, loaded, part, {f: part[f].tolist() for f in loaded.schema.features}, i)
        items = [FeedbackItem(t, request_id=f"good-{i}", row=j)
                 for j, t in enumerate(part["species"])]  # fmt: skip
        log.add_feedback(items)
    part = good.iloc[:6]  # scored as good rows, logged with hostile inputs
    _record(log, loaded, part, {**{f: part[f].tolist() for f in loaded.schema.features},
                                **HOSTILE}, 100)  # fmt: skip
    log.close()
    _write_raw(engine, loaded)
    engine.dispose()
    return root


def _record(log: PredictionLog, loaded: Any, part: pd.DataFrame, inputs: dict, i: int) -> None:
    proba = loaded.predict_proba(part[list(loaded.schema.features)])
    batch = PredictionBatch(
        f"good-{i}" if i < 100 else "hostile", loaded.name, loaded.version,
        START + timedelta(seconds=i), inputs, list(loaded.policy.decide(proba)), proba,
        list(loaded.classes),
    )  # fmt: skip
    log.record([batch])
    log.flush()  # no writer thread: written here, by the caller


def _write_raw(engine: Any, loaded: Any) -> None:
    """Rows no service would write, inserted as any other writer could."""
    one = np.array([[0.7, 0.2, 0.1]]).tobytes()
    base = {"model": loaded.name, "version": loaded.version, "n_rows": 1, "created": START}
    batches = [  # inputs not JSON, then not an object; a served label that is no class; a
        # probability matrix of the wrong size; labels that are not a list
        {"request_id": "raw-0", "labels": '["Adelie"]', "proba": one, "inputs": "{not json"},
        {"request_id": "raw-1", "labels": '["Adelie"]', "proba": one, "inputs": "[1, 2]"},
        {"request_id": "raw-2", "labels": '["Emperor"]', "proba": one, "inputs": None},
        {"request_id": "raw-3", "labels": '["Adelie"]', "proba": one[:12], "inputs": None},
        {"request_id": "raw-4", "labels": '"Adelie"', "proba": one, "inputs": None},
    ]
    labels = [{"request_id": "hostile", "row": i, "model": loaded.name, "label": label,
               "features": None, "created": START}
              for i, label in [*enumerate(BAD_LABELS), (-1, "Adelie")]]  # fmt: skip
    sent = [  # labelled rows sent with their features, one with a label that is no class
        {"request_id": None, "row": 0, "model": loaded.name, "label": label, "created": START,
         "features": {"island": "\ud800", "bill_length_mm": "\udc80x", "sex": ["m"],
                      "tagged": {"a": 1}, "seen": 5, "year": 2008, "\udc00key": 1}}
        for label in ("Adelie", 42)
    ]  # fmt: skip
    with engine.begin() as connection:
        connection.execute(insert(predictions), [{**base, **b} for b in batches])
        connection.execute(insert(feedback), labels)
        connection.execute(insert(feedback), sent)


def _invoke(home: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    monkeypatch.setenv("VERDICT_HOME", str(home))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CliRunner().invoke(app, list(args))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def test_the_log_reads_back_without_lone_surrogates(home: Path) -> None:
    engine = open_state(f"sqlite:///{home / 'service.db'}")
    log = PredictionLog(engine)
    try:
        served = log.predictions("penguins")
        labelled = log.labelled("penguins")
    finally:
        log.close()
        engine.dispose()
    assert len(served) == 400 + 6 + 5
    hostile = served[served["request_id"] == "hostile"]
    assert hostile["island"].tolist()[:2] == [123, "\\ud800"]  # the escape, as six characters
    raw = served[served["request_id"].str.startswith("raw")]
    assert raw["island"].isna().all() and pd.isna(raw["label"].tolist()[-1])
    assert labelled["request_id"].eq("hostile").sum() == 6  # row -1 is no row of it
    sent = labelled[labelled["source"] == "features"]
    assert sent["island"].tolist() == ["\\ud800", "\\ud800"] and "\\udc00key" in sent.columns
    for frame in (served, labelled):
        text = [s for column in frame for s in _strings(frame[column].tolist())]
        for s in [*text, *map(str, frame.columns)]:
            s.encode("utf-8")  # a lone surrogate would raise here (and in pyarrow, HTML, JSON)


def test_monitor_digests_hostile_rows_reports_them_and_writes_its_report(
    home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    shown = _invoke(home, monkeypatch, "monitor", "penguins", "--window", "100", "--out",
                    str(out))  # fmt: skip
    assert shown.exit_code in (0, 1), shown.output
    assert "Traceback" not in shown.output and "error:" not in shown.output
    text = " ".join(shown.output.split())
    assert "warning: left out 6 feedback labels: 5 not one of the model's classes" in text
    assert "1 missing" in text and "logged rows for their served label" in text
    assert f"input value(s) of an unexpected type as the unknown category '{UNEXPECTED}'" in text
    page = out.read_text(encoding="utf-8")
    assert "Data quality" in page and "&lt;unexpected value&gt;" in page

    as_json = _invoke(home, monkeypatch, "monitor", "penguins", "--window", "100", "--out",
                      str(tmp_path / "again.html"), "--json")  # fmt: skip
    assert as_json.exit_code in (0, 1), as_json.output
    result = json.loads(as_json.stdout)["result"]
    assert result["unexpected_inputs"] == UNEXPECTED_COUNTS
    assert result["left_out"] == {
        f"served label {NOT_A_CLASS}": 1,  # 'Emperor'
        "served label missing": 1,  # stored labels that were not a list
        "probabilities unusable": 1,
        f"feedback label {NOT_A_CLASS}": 5,
        "feedback label missing": 1,
    }
    assert result["n_rows"] == 400 + 6 + 2 and result["n_labelled"] == 400
    with Registry(home=home) as registry:
        event = registry.latest_event("penguins", "monitor")
    assert event is not None and event.payload["unexpected_inputs"] == UNEXPECTED_COUNTS
    assert len(event.payload["warnings"]) == 4


def test_retrain_leaves_out_labels_that_are_no_class_and_says_why(
    home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shown = _invoke(home, monkeypatch, "retrain", "penguins", "--time-budget", "5", "--quiet",
                    "--out", str(tmp_path / "challenger"), "--json")  # fmt: skip
    assert shown.exit_code == 0, shown.output
    result = json.loads(shown.stdout)
    assert result["left_out"] == {NOT_A_CLASS: 6, "missing": 1}
    notes = " ".join(result["notes"])
    assert "left out 7 feedback labels: 6 not one of the model's classes" in notes
    assert "42" in notes and "'not-a-class'" in notes and "True" in notes
    assert "of an unexpected type as missing values" in notes
    assert result["n_holdout"] + result["n_feedback_train"] == 400 + 1  # + the sent row
    assert (tmp_path / "challenger" / "reference.parquet").is_file()


def test_retrain_with_too_few_usable_labels_says_how_many_were_left_out(home: Path) -> None:
    engine = open_state(f"sqlite:///{home / 'service.db'}")
    log = PredictionLog(engine)
    try:
        with Registry(home=home) as registry, pytest.raises(InvalidInputError) as caught:
            retrain("penguins", registry=registry, log=log, min_holdout=5000)
    finally:
        log.close()
        engine.dispose()
    message = " ".join(str(caught.value).split())
    assert "401 usable labelled row(s)" in message
    assert "(left out 7 feedback labels: 6 not one of the model's classes" in message


def test_labels_match_classes_by_the_pipelines_spelling() -> None:
    labels = match_labels(
        [1, 1.0, "1", " 2 ", np.int64(2), True, "3", None, float("nan"), [1], {"a": 1}],
        np.array([1, 2]),
    )
    assert labels.values[:5].tolist() == [1, 1, 1, 2, 2]
    assert all(type(v) is np.int64 for v in labels.values[:5])  # the class's own value
    assert labels.kept.tolist() == [True] * 5 + [False] * 6
    assert labels.left_out == {NOT_A_CLASS: 4, "missing": 2}
    assert labels.examples == ("True", "'3'", "[1]", "{'a': 1}")


def test_digest_reads_unexpected_types_as_unknown_or_missing() -> None:
    schema = Schema("y", ("a", "b"), (
        ColumnSchema("code", ColumnKind.CATEGORICAL, "int64", "", categories=(1, 2, 3)),
        ColumnSchema("word", ColumnKind.CATEGORICAL, "str", "", categories=("x", "y")),
        ColumnSchema("flag", ColumnKind.BOOLEAN, "str", "", categories=("no", "yes")),
        ColumnSchema("size", ColumnKind.NUMERIC, "float64", ""),
    ))  # fmt: skip
    frame = pd.DataFrame({
        "code": ["2", 3.0, "zz", [1], 9, None],
        "word": [" x", 1, "new", {"k": 1}, True, None],
        "flag": [True, "No", "maybe", [0], 1, None],
        "size": ["1.5", 2, "big", False, {"a": 1}, None],
    })  # fmt: skip
    drift = digest_inputs(frame, schema, unknown=UNEXPECTED)
    assert drift.frame["code"].tolist()[:5] == [2, 3, UNEXPECTED, UNEXPECTED, 9]
    assert drift.frame["word"].tolist()[:5] == ["x", UNEXPECTED, "new", UNEXPECTED, UNEXPECTED]
    assert drift.frame["flag"].tolist()[:5] == ["yes", "no", UNEXPECTED, UNEXPECTED, "yes"]
    assert drift.frame["size"].tolist()[:2] == [1.5, 2.0] and drift.frame["size"].dtype == float
    assert drift.frame["size"].iloc[2:].isna().all()
    assert drift.unexpected == {"code": 2, "word": 3, "flag": 2, "size": 3}
    assert drift.frame.iloc[5].isna().all()  # missing stays missing, and is not counted
    retraining = digest_inputs(frame, schema, unknown=np.nan)
    assert pd.isna(retraining.frame["word"].iloc[1]) and retraining.frame["word"].iloc[2] == "new"
    assert retraining.unexpected == drift.unexpected
