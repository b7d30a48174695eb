"""How the service is started (``verdict.serving._run``, ``python -m verdict.serving``), in
this process: its JSON log lines, the settings handed to worker processes, and the pre-flight
refusals that come before anything listens. The real processes are in test_run_process.py.
"""

from __future__ import annotations

import json
import logging
import logging.config
import os
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from verdict.errors import ConfigurationError, InvalidParameterError
from verdict.serving import ServiceSettings
from verdict.serving.__main__ import SETTINGS_OPTIONS, main, parser
from verdict.serving._jsonlog import JsonFormatter, log_config
from verdict.serving._run import export, read_settings, run


def _record(name: str, message: str, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord(name, logging.WARNING, __file__, 1, message, None, exc_info)


@pytest.fixture
def bare_env(monkeypatch):
    """``os.environ`` without any VERDICT_* variable, restored afterwards."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("VERDICT_")}
    monkeypatch.setattr(os, "environ", kept)
    return kept


def test_an_access_line_keeps_its_own_fields_after_time_and_level():
    access = json.dumps({"request_id": "abc", "status": 200, "path": "/v2/health/live"})
    line = json.loads(JsonFormatter().format(_record("verdict.serving.access", access)))
    assert list(line)[:2] == ["ts", "level"] and line["level"] == "warning"
    assert line["ts"].endswith("Z") and len(line["ts"]) == len("2024-01-01T00:00:00.000Z")
    assert {k: line[k] for k in ("request_id", "status", "path")} == json.loads(access)
    assert "logger" not in line and "message" not in line


def test_other_lines_name_their_logger_and_carry_the_traceback():
    line = json.loads(JsonFormatter().format(_record("uvicorn.error", '{"not": "access"}')))
    assert line["logger"] == "uvicorn.error" and line["message"] == '{"not": "access"}'
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        failed = _record("verdict.serving", "it failed", sys.exc_info())
    line = json.loads(JsonFormatter().format(failed))
    assert line["message"] == "it failed" and "RuntimeError: boom" in line["error"]


def test_log_config_writes_json_lines_on_stderr_and_silences_uvicorn_access(capsys):
    config = log_config("debug")
    assert config["loggers"]["uvicorn.access"]["handlers"] == []
    assert {config["loggers"][n]["level"] for n in ("verdict", "uvicorn")} == {"DEBUG"}
    logging.config.dictConfig(config)
    try:
        logging.getLogger("verdict.serving.test").info("hello %s", "there")
        logging.getLogger("uvicorn.access").info("never shown")
    finally:
        for name in ("verdict", "uvicorn", "uvicorn.access"):
            logger = logging.getLogger(name)
            logger.handlers.clear()
            logger.propagate, logger.level = True, logging.NOTSET
    out, err = capsys.readouterr()
    lines = [json.loads(text) for text in err.splitlines()]
    assert out == "" and [line["message"] for line in lines] == ["hello there"]
    assert lines[0]["logger"] == "verdict.serving.test" and lines[0]["level"] == "info"


def test_export_lets_a_worker_read_the_same_settings(bare_env, tmp_path):
    bare_env["VERDICT_STATE_URL"] = "sqlite:///elsewhere.db"  # cleared: the settings say None
    bare_env["VERDICT_AUTH"] = "true"  # overridden below
    settings = ServiceSettings(
        models=["penguins@v1", "iris@production"], home=tmp_path / "home", state_url=None,
        auth=False, max_body_bytes=1234, batching="on", batch_budget_ms=0.25,
        reload_seconds=0, cors_origins=["https://a.example", "https://b.example"],
        runtime="onnx", target="aws-eu", public_readiness=True, header_timeout_seconds=1.5,
        keys_max_staleness_seconds=30.0, zone="eu", strict_zones=["eu", "us"],
        zone_header="X-Zone", gateway_secret="s3cret-Of-the-gateway_0123",
    )  # fmt: skip
    export(settings)
    assert "VERDICT_STATE_URL" not in os.environ
    assert os.environ["VERDICT_HOME"] == str((tmp_path / "home").resolve())
    worker = ServiceSettings()
    assert isinstance(worker.gateway_secret, SecretStr)
    assert worker.gateway_secret.get_secret_value() == "s3cret-Of-the-gateway_0123"
    assert worker.model_dump(exclude={"gateway_secret"}) == settings.model_dump(
        exclude={"gateway_secret"}
    )


def test_export_makes_a_relative_home_absolute(bare_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    export(ServiceSettings(home=Path("here")))
    assert os.environ["VERDICT_HOME"] == str(tmp_path.resolve() / "here")


def test_read_settings_reads_overrides_over_the_variables(bare_env):
    bare_env["VERDICT_BATCHING"] = "off"
    bare_env["VERDICT_RUNTIME"] = "onnx"
    settings = read_settings({"runtime": "native", "batch_max_rows": None, "models": None})
    assert (settings.batching, settings.runtime, settings.batch_max_rows) == ("off", "native", 2048)
    assert settings.models == []
    given = ServiceSettings(batching="on")
    assert read_settings(given) is given
    with pytest.raises(ConfigurationError, match=r"batch_max_rows.*To fix:"):
        read_settings({"batch_max_rows": 0})
    bare_env["VERDICT_MAX_ROWS"] = "many"
    with pytest.raises(ConfigurationError, match="max_rows"):
        read_settings(None)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            {"log_level": "loud"},
            r"The 'log_level' parameter of run must be one of .*'info'.*"
            r"Got 'loud' instead\. To fix: pass one of",
        ),
        (
            {"workers": 0},
            r"The 'workers' parameter of run .* Got 0 instead\. To fix: pass 1 or more",
        ),
    ],
)
def test_run_refuses_bad_options_before_anything_else(bare_env, capsys, options, expected):
    bare_env["VERDICT_MAX_ROWS"] = "many"  # the options are checked before the settings
    with pytest.raises(InvalidParameterError, match=expected):
        run(None, port=0, **options)
    assert "serving on" not in capsys.readouterr().out


def test_run_refuses_a_registry_without_a_model_to_serve(bare_env, tmp_path, capsys):
    with pytest.raises(ConfigurationError, match=r"There is no model to serve.*models=NAME@ALIAS"):
        run({"home": tmp_path / "empty"}, port=0)
    assert "serving on" not in capsys.readouterr().out


def test_main_prints_a_refusal_as_one_error_paragraph(bare_env, tmp_path, capsys):
    bare_env["VERDICT_HOME"] = str(tmp_path)
    assert main(["--port", "0", "--log-level", "loud"]) == 2
    out, err = capsys.readouterr()
    assert (
        out == ""
        and err.startswith("error: The --log-level parameter of run must be one of")
        and "To fix:" in err
    )
    assert len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit) as caught:
        main(["--port", "eighty"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: argument --port") and "python -m verdict.serving --help" in err


def test_the_parser_maps_each_settings_option_to_its_field():
    args = parser().parse_args(
        ["-m", "a@v1", "--model", "b@production", "--no-auth", "--batching", "on",
         "--batch-budget-ms", "0.5", "--batch-max-rows", "64", "--runtime", "onnx",
         "--header-timeout", "2.5", "--grpc-port", "0", "--metrics-port", "9101"]
    )  # fmt: skip
    given = {name: getattr(args, name) for name in SETTINGS_OPTIONS}
    assert given == {
        "models": ["a@v1", "b@production"], "auth": False, "batching": "on",
        "batch_budget_ms": 0.5, "batch_max_rows": 64, "runtime": "onnx",
        "header_timeout_seconds": 2.5, "grpc_port": 0, "metrics_port": 9101,
    }  # fmt: skip
    assert set(SETTINGS_OPTIONS) <= set(ServiceSettings.model_fields)
    defaults = parser().parse_args([])
    assert all(getattr(defaults, name) is None for name in SETTINGS_OPTIONS)
    assert (defaults.host, defaults.port, defaults.workers) == ("127.0.0.1", 8000, 1)
    assert (defaults.graceful_timeout, defaults.log_level) == (30, "info")
