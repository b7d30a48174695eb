"""Running the prediction service on uvicorn: pre-flight checks, JSON logs, one or more workers.

``verdict serve``, ``python -m verdict.serving`` and the local deployment's replicas all start
the service through :func:`run`, so they check, log, announce and shut down alike.

With one worker the app is built in this process; with more, each uvicorn worker builds its
own from ``VERDICT_*`` variables (the settings are exported first) through the import-string
factory ``verdict.serving._app:app_from_env``, and Prometheus metrics are merged across workers
(multiprocess mode, in a temporary folder unless ``PROMETHEUS_MULTIPROC_DIR`` is set). Port 0
picks a free port; the address is printed on stdout either way, and only once every artifact
of every version to serve matched its registered sha256.

Connections are served by :class:`verdict.serving._http.GuardedHttpToolsProtocol`: uvicorn's
httptools protocol with a header deadline (``header_timeout_seconds``) and request-head limits
(431), which uvicorn itself does not have.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Mapping
from numbers import Integral
from pathlib import Path
from typing import Any

import uvicorn
from pydantic import SecretStr
from uvicorn.supervisors import Multiprocess

from verdict._params import Interval, StrOptions, check
from verdict.errors import ConfigurationError
from verdict.registry import Registry
from verdict.serving._jsonlog import LOG_LEVELS, log_config
from verdict.serving._settings import ServiceSettings, read_settings

FACTORY = "verdict.serving._app:app_from_env"
EXIT_NOT_STARTED = 3  # uvicorn's own status when the server could not start


def run(
    settings: ServiceSettings | Mapping[str, Any] | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    graceful_timeout: int = 30,
    log_level: str = "info",
) -> None:
    """Serve registered models over HTTP until SIGINT or SIGTERM, after pre-flight checks.

    Every way of starting the service goes through here, so that a replica started by
    ``verdict deploy up``, ``verdict serve`` and ``python -m verdict.serving`` refuse the same
    problems with the same message, log the same JSON lines and announce the same address.

    Before anything listens it checks the log level, reads the settings, opens the state
    database, and checks that there is a model to serve and that every artifact of every
    version to serve matches its registered sha256; only then does it bind, print
    ``verdict serving on http://HOST:PORT (N worker(s))`` on stdout, and serve.

    Parameters
    ----------
    settings : ServiceSettings, mapping or None
        The service settings; a mapping holds overrides read over the ``VERDICT_*`` variables
        (a None value is not an override); None reads the variables alone.
    host : str
        Address to listen on.
    port : int
        Port to listen on; 0 picks a free one (printed).
    workers : int
        uvicorn worker processes; with more than one, each reads the settings from
        ``VERDICT_*`` variables, which are set from ``settings`` first.
    graceful_timeout : int
        Seconds to finish in-flight requests on shutdown.
    log_level : str
        One of trace, debug, info, warning, error or critical.

    Raises
    ------
    InvalidParameterError
        The log level or the number of workers is not valid.
    ConfigurationError
        The settings, the state database or a model to serve cannot be used.
    ArtifactIntegrityError
        An artifact of a version to serve no longer matches its sha256.
    SystemExit
        As uvicorn does: 1 when the address cannot be bound, 3 when the server did not start
        (uvicorn has logged why).
    """
    _check_options(log_level, workers)
    settings = read_settings(settings)
    check_models(settings)
    settings = _listeners(settings, host)
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
        export(settings)
    sock = config.bind_socket()
    bound_port = sock.getsockname()[1]
    shown = _shown(host)
    print(f"verdict serving on http://{shown}:{bound_port} ({workers} worker(s))", flush=True)
    if settings.grpc_port is not None:
        print(f"verdict grpc on {shown}:{settings.grpc_port}", flush=True)
    made = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        made = tempfile.mkdtemp(prefix="verdict-metrics-")  # the workers' merged metrics
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = made
    scraper = None
    try:
        if settings.metrics_port is not None:
            scraper = _metrics_server(config, settings, host, workers)
        _serve(config, sock, workers)
    finally:
        if scraper is not None:
            scraper.shutdown()
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)


def check_models(settings: ServiceSettings) -> None:
    """Fail here, with one clear line, if a model to serve or the state database is unusable,
    or if any artifact of a version to serve no longer matches its registered sha256."""
    from verdict.state import open_state

    open_state(settings.state_database()).dispose()  # refuses an old or unreachable database

    with Registry(home=settings.home) as registry:
        refs = settings.models or [
            f"{m.name}@production" for m in registry.models() if "production" in m.aliases
        ]
        if not refs:
            raise ConfigurationError(
                f"There is no model to serve: no model in {registry.where} has a 'production' "
                "alias. To fix: pass models=NAME@ALIAS, or register one with a 'production' alias."
            )
        for ref in refs:
            registry.require_intact(ref)


def export(settings: ServiceSettings) -> None:
    """Set ``VERDICT_*`` variables so that ``ServiceSettings()`` in a worker process reads
    ``settings`` back (the home as an absolute path; a None clears its variable)."""
    for name, value in settings.model_dump().items():
        variable = f"VERDICT_{name.upper()}"
        if name == "home":
            value = Path(value).resolve()
        if value is None:
            os.environ.pop(variable, None)
        elif isinstance(value, SecretStr):
            os.environ[variable] = value.get_secret_value()
        elif isinstance(value, bool):
            os.environ[variable] = "true" if value else "false"
        elif isinstance(value, list):
            os.environ[variable] = json.dumps(value)
        else:
            os.environ[variable] = str(value)


def _listeners(settings: ServiceSettings, host: str) -> ServiceSettings:
    """The settings with the listening host, and a free port chosen for a gRPC port of 0 (so
    that every worker binds the same one and it can be printed before they start)."""
    if settings.grpc_port is not None:
        from verdict.serving._grpc import GUARDED_GRPC
        from verdict.serving._residency import guarded

        if guarded(settings):
            raise ConfigurationError(GUARDED_GRPC)
    update: dict[str, Any] = {"listen_host": host}
    if settings.grpc_port == 0:
        update["grpc_port"] = _free_port(host)
    return settings.model_copy(update=update)


def _shown(host: str) -> str:
    """``host`` as it goes before ``:PORT`` (an IPv6 address in brackets)."""
    return f"[{host}]" if ":" in host else host


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _metrics_server(
    config: uvicorn.Config, settings: ServiceSettings, host: str, workers: int
) -> Any:
    """``/metrics`` on its own port, without a key, for scrapers (prometheus_client's own
    server, in a thread: it negotiates OpenMetrics and gzip as Prometheus expects)."""
    from prometheus_client import start_http_server

    from verdict.serving._telemetry import merged_registry

    registry = merged_registry() if workers > 1 else config.app.state.telemetry.registry
    try:
        server, _ = start_http_server(settings.metrics_port, addr=host, registry=registry)
    except OSError as exc:
        raise ConfigurationError(
            f"The metrics port {settings.metrics_port} on {host} cannot be used ({exc}). To "
            "fix: choose a free port with --metrics-port (0 picks one)."
        ) from None
    print(f"verdict metrics on http://{_shown(host)}:{server.server_port}/metrics", flush=True)
    return server


def _check_options(log_level: str, workers: int) -> None:
    check("log_level", log_level.lower(), "run", StrOptions(*LOG_LEVELS))
    check("workers", workers, "run", Interval(Integral, 1, None), fix="pass 1 or more processes")


def _protocol(settings: ServiceSettings) -> Any:
    """uvicorn's ``http``: the guarded httptools protocol, bound to the settings' limits."""
    try:
        import httptools  # noqa: F401 - comes with uvicorn[standard], a dependency
    except ImportError:
        raise ConfigurationError(
            "The HTTP server cannot start: httptools is not installed. To fix: pip install "
            "'uvicorn[standard]' (it brings httptools)."
        ) from None
    from verdict.serving._http import HeadLimits, guarded_protocol

    return guarded_protocol(HeadLimits.from_settings(settings))


def _build_app(settings: ServiceSettings) -> Any:
    from verdict.serving._app import create_app

    return create_app(settings, Registry(home=settings.home))


def _serve(config: uvicorn.Config, sock: socket.socket, workers: int) -> None:
    """Run one server in this process, or a supervisor of ``workers`` processes."""
    if workers == 1:
        server = uvicorn.Server(config)
        server.run(sockets=[sock])
        if not server.started:
            sys.exit(EXIT_NOT_STARTED)
        return
    Multiprocess(config, sockets=[sock]).run()
