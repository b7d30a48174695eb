"""`verdict monitor` for cron: exit 0 / 1 / 2, the report, and the figures the service exposes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import traceback

import pytest
from fastapi.testclient import TestClient
from monitor_support import make_world, population, send, utc
from typer.testing import CliRunner

from verdict.cli import app
from verdict.serving import ServiceSettings
from verdict.serving._app import create_app
from verdict.state import KeyStore


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    made = make_world(tmp_path_factory.mktemp("monitor_cli"))
    rows = population(1000, seed=11)
    send(made, rows, start=utc(0), labels=rows["species"])
    shifted = population(1000, seed=12)
    shifted["flipper_length_mm"] = shifted["flipper_length_mm"] + 8.0
    send(made, shifted, start=utc(200))
    yield made
    made.close()


def _monitor(world, monkeypatch, *args: str):
    monkeypatch.setenv("VERDICT_HOME", str(world.home))
    return CliRunner().invoke(app, ["monitor", "penguins@production", *args])


def test_an_unchanged_window_exits_0_and_writes_the_report(world, monkeypatch, tmp_path):
    out = tmp_path / "calm.html"
    result = _monitor(world, monkeypatch, "--until", utc(100).isoformat(), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "no alert" in result.output and out.is_file()
    assert "<svg" in out.read_text()
    event = world.registry.latest_event("penguins", "monitor")
    assert event is not None and event.payload["drift_alarm"] is False
    assert event.payload["live"]["metric"] == "f1_macro"


def test_a_drifted_window_exits_1_names_the_feature_and_feeds_the_gauges(
    world, monkeypatch, tmp_path
):
    result = _monitor(world, monkeypatch, "--since", utc(150).isoformat(), "--out",
                      str(tmp_path / "drift.html"), "--json")  # fmt: skip
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert any("flipper_length_mm" in alert for alert in data["result"]["alerts"])
    event = world.registry.latest_event("penguins", "monitor")
    assert event.payload["drift_alarm"] is True
    assert event.payload["drift"]["flipper_length_mm"]["drifted"] is True
    settings = ServiceSettings(home=world.home, models=["penguins@production"], reload_seconds=0)
    engine = world.log._engine
    token = KeyStore(engine).create("gauges").token
    with TestClient(create_app(settings, world.registry, state_engine=engine)) as client:
        text = client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).text
    assert 'verdict_drift_alarm{model="penguins",version="1"} 1.0' in text
    assert 'verdict_drift_psi{column="flipper_length_mm",model="penguins"}' in text
    assert 'verdict_monitored_performance{bound="value",kind="estimated"' in text


def test_no_traffic_exits_2_with_one_clear_line(world, monkeypatch):
    result = _monitor(world, monkeypatch, "--since", utc(100_000).isoformat())
    assert result.exit_code == 2
    assert "0 logged rows between" in result.output and "Traceback" not in result.output
    bad = _monitor(world, monkeypatch, "--since", "yesterday")
    assert bad.exit_code == 2 and "ISO 8601" in bad.output


def _broken(*args: object, **kwargs: object) -> None:
    raise RuntimeError("boom:\nthe core failed")


INTERNAL = (
    "error: verdict hit an unexpected internal error (RuntimeError: boom: the core failed). "
    "This is a bug in verdict, not a problem with your input. To fix: rerun with "
    "VERDICT_DEBUG=1 to see the full traceback, and report it with that traceback."
)


def test_an_internal_error_exits_3_in_one_paragraph_without_a_traceback(monkeypatch, tmp_path):
    monkeypatch.setenv("VERDICT_HOME", str(tmp_path))
    monkeypatch.delenv("VERDICT_DEBUG", raising=False)
    monkeypatch.setattr("verdict.monitoring.monitor", _broken)
    result = CliRunner().invoke(app, ["monitor", "penguins"])
    assert result.exit_code == 3, result.output
    assert result.output.strip() == INTERNAL  # one paragraph, nothing else
    # the whole command line, not only monitor: any command of any group
    monkeypatch.setattr("verdict.cli._models._registry", _broken)
    listed = CliRunner().invoke(app, ["models", "list"])
    assert listed.exit_code == 3 and listed.output.strip() == INTERNAL


def test_verdict_debug_shows_the_traceback_of_an_internal_error(monkeypatch, tmp_path):
    monkeypatch.setenv("VERDICT_HOME", str(tmp_path))
    monkeypatch.setenv("VERDICT_DEBUG", "1")
    monkeypatch.setattr("verdict.monitoring.monitor", _broken)
    result = CliRunner().invoke(app, ["monitor", "penguins"])
    assert isinstance(result.exception, RuntimeError)  # re-raised as it was
    assert "Traceback" in "".join(traceback.format_exception(*result.exc_info))


@pytest.mark.slow
def test_the_console_script_prints_no_traceback_unless_asked(tmp_path):
    """The real entry point (not the test runner): exit 3, stderr one paragraph."""
    script = (
        "import sys, verdict.monitoring as m\n"
        "def broken(*a, **k):\n    raise RuntimeError('boom:\\nthe core failed')\n"
        "m.monitor = broken\n"
        "from verdict.cli import main\nmain()\n"
    )
    env = {**os.environ, "VERDICT_HOME": str(tmp_path), "COLUMNS": "400"}
    env.pop("VERDICT_DEBUG", None)
    plain = subprocess.run([sys.executable, "-c", script, "monitor", "penguins"], env=env,
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    assert plain.returncode == 3 and plain.stdout == ""
    assert plain.stderr.strip() == INTERNAL
    debug = subprocess.run([sys.executable, "-c", script, "monitor", "penguins"],
                           env={**env, "VERDICT_DEBUG": "1"}, capture_output=True, text=True,
                           timeout=120)  # fmt: skip
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr
    assert "RuntimeError: boom:" in debug.stderr
