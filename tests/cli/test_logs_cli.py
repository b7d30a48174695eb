"""`verdict logs export`: the prediction log of a model to a file, and clear refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from verdict.cli._app import app
from verdict.state import FeedbackItem, PredictionBatch, PredictionLog, open_state

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
CLASSES = ["adelie", "gentoo"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A VERDICT_HOME whose service logged three requests of penguins, an hour apart."""
    monkeypatch.delenv("VERDICT_STATE_URL", raising=False)
    monkeypatch.setenv("VERDICT_HOME", str(tmp_path / "home"))
    engine = open_state(f"sqlite:///{tmp_path / 'home' / 'service.db'}")
    log = PredictionLog(engine, sensitive={"penguins": ["island"]})
    for i in range(3):
        inputs = {"mass": [3700 + i, 4000 + i], "island": ["Dream", "Biscoe"]}
        proba = np.array([[0.8, 0.2], [0.3, 0.7]])
        log.record([PredictionBatch(f"r{i}", "penguins", 1, T0 + timedelta(hours=i), inputs,
                                    ["adelie", "gentoo"], proba, CLASSES)])  # fmt: skip
    log.close()
    log = PredictionLog(engine)
    log.add_feedback([FeedbackItem("gentoo", request_id="r1", row=0)])
    log.close()
    engine.dispose()
    return tmp_path / "home"


def invoke(*args: str) -> object:
    return CliRunner().invoke(app, ["logs", "export", *args])


def test_export_jsonl_then_parquet(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    result = invoke("penguins", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "exported 6 rows of penguins (3 requests, 1 with a true label)" in result.stdout
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["request_id"], r["row"]) for r in records] == [
        (f"r{i}", row) for i in range(3) for row in range(2)]  # fmt: skip
    assert records[2]["true_label"] == "gentoo" and records[2]["model_version"] == "penguins@v1"
    assert records[0]["proba"] == {"adelie": 0.8, "gentoo": 0.2}
    assert records[0]["inputs"]["island"] != "Dream" and records[0]["inputs"]["mass"] == 3700
    result = invoke("penguins", "--out", str(tmp_path / "audit.parquet"), "--json")
    summary = json.loads(result.stdout)
    assert summary["n_rows"] == 6 and summary["format"] == "parquet"
    assert pq.read_table(tmp_path / "audit.parquet").column("input_mass").to_pylist()[:2] == [
        3700, 4000]  # fmt: skip


def test_since_until_window(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "window.csv"
    result = invoke("penguins", "-o", str(out), "--since", "2026-01-01T13:00:00",
                    "--until", "2026-01-01T14:00:00+00:00")  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert len(lines) == 3 and all(line.startswith('"r1"') for line in lines[1:])


def test_an_empty_window_says_0_rows(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "empty.parquet"
    result = invoke("penguins", "-o", str(out), "--since", "2027-01-01")
    assert result.exit_code == 0, result.output
    assert "0 rows" in result.stdout and pq.read_table(out).num_rows == 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["penguins", "-o", "log.txt"], "extension '.txt'"),
        (["penguins", "-o", "log.csv", "--format", "xlsx"], "'xlsx' is not one of"),
        (["pengiuns", "-o", "log.csv"], "No prediction of model 'pengiuns'"),
        (["penguins", "-o", "log.csv", "--since", "yesterday"], "--since 'yesterday'"),
        (["penguins"], "Missing option '--out'"),
    ],
)
def test_refusals_exit_2_with_the_fix(
    home: Path, tmp_path: Path, args: list[str], needle: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert needle in result.stderr and "To fix:" in result.stderr
    assert "Traceback" not in result.output and not list(tmp_path.glob("log.*"))


def test_no_state_database_is_an_error_not_a_new_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VERDICT_STATE_URL", raising=False)
    monkeypatch.setenv("VERDICT_HOME", str(tmp_path / "nowhere"))
    result = invoke("penguins", "-o", str(tmp_path / "log.jsonl"))
    assert result.exit_code == 2 and "no state database" in result.stderr
    assert "To fix:" in result.stderr and not (tmp_path / "nowhere").exists()
