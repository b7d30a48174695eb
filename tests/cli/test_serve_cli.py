"""``verdict serve`` is a thin command over ``verdict.serving._run.run``: it takes the options
that ``python -m verdict.serving`` takes, with the same defaults, and hands them over unchanged.
(The real processes of both are started in tests/serving.)
"""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from verdict.cli._app import app
from verdict.errors import ConfigurationError
from verdict.serving.__main__ import parser

SERVE = typer.main.get_command(app).commands["serve"]


def _cli_options() -> dict[str, Any]:
    """Each option of ``verdict serve`` by its flags (``--auth/--no-auth`` both), default."""
    found = {}
    for param in SERVE.params:
        if param.name != "help":
            found[tuple(sorted([*param.opts, *param.secondary_opts]))] = param.default
    return found


def _module_options() -> dict[str, Any]:
    found = {}
    for action in parser()._actions:
        if action.option_strings and action.dest != "help":
            found[tuple(sorted(action.option_strings))] = action.default
    return found


def test_verdict_serve_and_python_m_verdict_serving_take_the_same_options():
    assert _cli_options() == _module_options()


def test_serve_hands_every_flag_to_the_runner(monkeypatch):
    calls = []
    monkeypatch.setattr(
        "verdict.serving._run.run", lambda settings, **options: calls.append((settings, options))
    )
    result = CliRunner().invoke(
        app,
        ["serve", "-m", "a@v1", "--model", "b@production", "--host", "::1", "--port", "0",
         "--workers", "3", "--batching", "on", "--batch-budget-ms", "0.5",
         "--batch-max-rows", "64", "--no-auth", "--runtime", "onnx", "--graceful-timeout", "5",
         "--header-timeout", "2.5", "--log-level", "debug", "--grpc-port", "0",
         "--metrics-port", "9101"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert calls == [
        (
            {"models": ["a@v1", "b@production"], "batching": "on", "batch_budget_ms": 0.5,
             "batch_max_rows": 64, "auth": False, "runtime": "onnx",
             "header_timeout_seconds": 2.5, "grpc_port": 0, "metrics_port": 9101},
            {"host": "::1", "port": 0, "workers": 3, "graceful_timeout": 5,
             "log_level": "debug"},
        )
    ]  # fmt: skip


def test_serve_prints_a_refusal_of_the_runner_and_exits_2(monkeypatch):
    def refuse(settings: Any, **options: Any) -> None:
        raise ConfigurationError("There is no model to serve. To fix: pass --model NAME@ALIAS.")

    monkeypatch.setattr("verdict.serving.run", refuse)
    result = CliRunner().invoke(app, ["serve", "--port", "0"])
    assert result.exit_code == 2
    assert "error: There is no model to serve. To fix:" in " ".join(result.output.split())


@pytest.mark.parametrize("flags", [["--workers", "0"], ["--port", "eighty"]])
def test_serve_refuses_malformed_options_before_running(monkeypatch, flags):
    monkeypatch.setattr("verdict.serving.run", lambda *a, **k: pytest.fail("ran"))
    assert CliRunner().invoke(app, ["serve", *flags]).exit_code == 2
