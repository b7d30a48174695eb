"""``verdict serve``: the prediction service on uvicorn (one JSON log line per request).

With ``--workers 1`` the app is built in this process; with more, each uvicorn worker builds
its own from ``VERDICT_*`` variables (the flags given here are exported first) through the
import-string factory ``verdict.serving._app:app_from_env``, and Prometheus metrics are merged
across workers (multiprocess mode, in a temporary folder unless ``PROMETHEUS_MULTIPROC_DIR`` is
set). ``--port 0`` picks a free port; the address is printed on stdout either way, and only
once every artifact of every version to serve matched its registered sha256.

Connections are served by :class:`verdict.serving._http.GuardedHttpToolsProtocol`: uvicorn's
httptools protocol with a header deadline (``--header-timeout``) and request-head limits
(431), which uvicorn itself does not have.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from verdict.cli._output import MODEL_REF, domain_errors

FACTORY = "verdict.serving._app:app_from_env"
LOG_LEVELS = ("trace", "debug", "info", "warning", "error", "critical")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: the access log's own fields, or time, level, logger, message."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        base = {"ts": f"{stamp}.{int(record.msecs):03d}Z", "level": record.levelname.lower()}
        if message.startswith("{") and record.name == "verdict.serving.access":
            return json.dumps(base)[:-1] + ", " + message[1:]
        line: dict[str, Any] = {**base, "logger": record.name, "message": message}
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line)


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's ``log_config``: JSON lines on stderr for verdict and uvicorn; no access log
    from uvicorn (the service writes its own, with the request id)."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {"json": handler},
        "loggers": {
            "verdict": {"handlers": ["json"], "level": level, "propagate": False},
            "uvicorn": {"handlers": ["json"], "level": level, "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


def serve(
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            help=f"A model version to serve: {MODEL_REF}; repeat for several.",
            show_default="every model's production alias",
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="Port to listen on; 0 picks a free one (printed).")
    ] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Number of uvicorn worker processes.")] = 1,
    batching: Annotated[
        str | None,
        typer.Option(
            help="Micro-batching of concurrent requests: off, on or auto.", show_default="auto"
        ),
    ] = None,
    batch_budget_ms: Annotated[
        float | None,
        typer.Option(help="Longest wait for company in a micro-batch, in ms.", show_default="2.0"),
    ] = None,
    batch_max_rows: Annotated[
        int | None, typer.Option(help="Most rows per pipeline call.", show_default="2048")
    ] = None,
    auth: Annotated[
        bool | None,
        typer.Option("--auth/--no-auth", help="Require API keys.", show_default="--auth"),
    ] = None,
    runtime: Annotated[
        str | None,
        typer.Option(
            help="What scores rows: native (the pipeline) or onnx (its checked export).",
            show_default="native",
        ),
    ] = None,
    graceful_timeout: Annotated[
        int, typer.Option(help="Seconds to finish in-flight requests on shutdown.")
    ] = 30,
    header_timeout: Annotated[
        float | None,
        typer.Option(
            help="Seconds a client has to send a request's line and headers; then it is closed.",
            show_default="10",
        ),
    ] = None,
    log_level: Annotated[
        str, typer.Option(help="Log level: trace, debug, info, warning, error or critical.")
    ] = "info",
) -> None:
    """Serve registered models over HTTP (Open Inference Protocol v2, /v1, /metrics).

    Every endpoint but liveness needs an API key (`verdict keys create NAME`). A flag left out
    falls back to its VERDICT_* variable (VERDICT_BATCHING, VERDICT_AUTH ...), then to the
    default shown.
    """
    import uvicorn

    overrides: dict[str, Any] = {
        "models": model or None, "batching": batching, "batch_budget_ms": batch_budget_ms,
        "batch_max_rows": batch_max_rows, "auth": auth, "runtime": runtime,
        "header_timeout_seconds": header_timeout,
    }  # fmt: skip
    overrides = {k: v for k, v in overrides.items() if v is not None}
    with domain_errors():
        _check_log_level(log_level)
        settings = _settings(overrides)
        _check_models(settings)
        protocol = _protocol(settings)
    config = uvicorn.Config(
        FACTORY if workers > 1 else _build_app(settings),
        factory=workers > 1,
        http=protocol,
        host=host,
        port=port,
        workers=workers,
        lifespan="on",
        log_config=log_config(log_level),
        access_log=False,
        timeout_graceful_shutdown=graceful_timeout,
    )
    if workers > 1:
        _export(settings, overrides)
    sock = config.bind_socket()
    bound_port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(f"verdict serving on http://{shown}:{bound_port} ({workers} worker(s))", flush=True)
    _run(config, sock, workers)


def _check_log_level(level: str) -> None:
    from verdict.errors import InvalidParameterError

    if level.lower() not in LOG_LEVELS:
        raise InvalidParameterError(
            f"--log-level {level!r} is not a log level. To fix: pass one of "
            f"{', '.join(LOG_LEVELS)}."
        )


def _settings(overrides: dict[str, Any]) -> Any:
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from verdict.errors import ConfigurationError
    from verdict.serving._settings import ServiceSettings

    try:
        return ServiceSettings(**overrides)
    except SettingsError as exc:
        raise ConfigurationError(
            f"A VERDICT_* variable could not be read: {exc}. To fix: correct it (lists are JSON "
            "or comma-separated)."
        ) from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(
            f"The service settings are invalid: {problems}. To fix: correct the flags or the "
            "VERDICT_* variables named."
        ) from None


def _check_models(settings: Any) -> None:
    """Fail here, with one clear line, if a model to serve or the state database is unusable,
    or if any artifact of a version to serve no longer matches its registered sha256."""
    from verdict.errors import ConfigurationError
    from verdict.registry import Registry
    from verdict.serving._state import open_state

    open_state(settings.state_database()).dispose()  # refuses an old or unreachable database

    with Registry(home=settings.home) as registry:
        refs = settings.models or [
            f"{m.name}@production" for m in registry.models() if "production" in m.aliases
        ]
        if not refs:
            raise ConfigurationError(
                f"There is no model to serve: no model in {registry.where} has a 'production' "
                "alias. To fix: pass --model NAME@ALIAS, or register one with an alias."
            )
        for ref in refs:
            registry.require_intact(ref)


def _protocol(settings: Any) -> Any:
    """uvicorn's ``http``: the guarded httptools protocol, bound to the settings' limits."""
    from verdict.errors import ConfigurationError

    try:
        import httptools  # noqa: F401 - comes with uvicorn[standard], a dependency
    except ImportError:
        raise ConfigurationError(
            "The HTTP server cannot start: httptools is not installed. To fix: pip install "
            "'uvicorn[standard]' (it brings httptools)."
        ) from None
    from verdict.serving._http import HeadLimits, guarded_protocol

    return guarded_protocol(HeadLimits.from_settings(settings))


def _build_app(settings: Any) -> Any:
    from verdict.registry import Registry
    from verdict.serving._app import create_app

    return create_app(settings, Registry(home=settings.home))


def _export(settings: Any, overrides: dict[str, Any]) -> None:
    """Hand the flags to the worker processes (they read VERDICT_* variables)."""
    for key, value in overrides.items():
        os.environ[f"VERDICT_{key.upper()}"] = json.dumps(value) if key == "models" else str(value)
    os.environ["VERDICT_HOME"] = str(Path(settings.home).resolve())


def _run(config: Any, sock: Any, workers: int) -> None:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    if workers == 1:
        server = uvicorn.Server(config)
        server.run(sockets=[sock])
        if not server.started:
            sys.exit(3)
        return
    made = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        made = tempfile.mkdtemp(prefix="verdict-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = made
    try:
        Multiprocess(config, sockets=[sock]).run()
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
