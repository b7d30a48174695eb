"""The prediction service: ``create_app(settings, registry)`` builds it; nothing at import time.

The app's lifespan opens the state database (API keys, prediction log, feedback), starts the
prediction log's writer, loads every served model (off the event loop) with its micro-batcher,
and starts the alias watcher (hot reload). On shutdown (uvicorn first stops accepting and
finishes the requests in flight) it stops the watcher, waits for the batchers to answer what
they hold, and closes the prediction log, which writes everything still queued.

Routes: the Open Inference Protocol v2 (``/v2/...``), verdict's v1 (``/v1/models/{name}/predict``,
``/v1/feedback``) and ``/metrics`` (Prometheus). Every route but ``/v2/health/live`` (and
``/v2/health/ready`` with ``settings.public_readiness``) needs an API key when ``settings.auth``
(the default). With ``settings.target`` every response says which target answered it
(``X-Verdict-Target``) and every logged row stores it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import sys
from collections.abc import AsyncIterator, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from sqlalchemy import Engine

from verdict import __version__
from verdict.registry import LoadedModel, Registry
from verdict.serving import _kserve_v1, _v1, _v2
from verdict.serving._body import request_schemas
from verdict.serving._errors import ERROR_RESPONSES, install_error_handlers
from verdict.serving._hot import HotRoutes
from verdict.serving._middleware import (
    HeadersWithBody,
    RequestMiddleware,
    TargetHeader,
    open_paths,
)
from verdict.serving._residency import ResidencyGuard, guarded
from verdict.serving._schemas import InferenceRequest, PredictRequest
from verdict.serving._served import ServedModels
from verdict.serving._settings import ServiceSettings
from verdict.serving._telemetry import Telemetry
from verdict.state import KeyStore, PredictionLog, open_state

logger = logging.getLogger("verdict.serving")
GRPC_GRACE_SECONDS = 10.0  # in-flight RPCs get this long to finish at shutdown
LOG_STATE_SECONDS = 1.0
# How long a thread holds the GIL while another waits for it (Python's default: 5 ms). The
# scoring thread gives it up inside pandas, pyarrow and SQLite calls and then waits for the
# event loop's turn to end: 5 ms turns stretch every micro-batch (1 ms: ~15% more single-row
# requests per second, and 1,000-row batches no slower).
SWITCH_SECONDS = 0.001
_METRICS_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Metrics."}
}


def create_app(
    settings: ServiceSettings,
    registry: Registry,
    *,
    state_engine: Engine | None = None,
    required: Mapping[str, Collection[str]] | None = None,
) -> FastAPI:
    """Build the prediction service.

    Parameters
    ----------
    settings : ServiceSettings
        What to serve and how (models, limits, batching, auth, CORS ...).
    registry : Registry
        Where the served models are resolved, loaded and watched for alias moves; the caller
        closes it.
    state_engine : sqlalchemy.Engine, optional
        The state database (``open_state``); by default ``settings.state_database()`` is
        opened at startup and disposed of at shutdown.
    required : mapping of str to collection of str, optional
        Model name -> features where a missing value (null or NaN) is refused with 422
        (elsewhere missing values are imputed as in training).

    Returns
    -------
    fastapi.FastAPI
        Serve it with uvicorn; models load when its lifespan starts.
    """
    telemetry = Telemetry()
    app = FastAPI(
        title="verdict prediction service",
        version=__version__,
        lifespan=_lifespan(settings, registry, telemetry, state_engine, required),
        responses={500: ERROR_RESPONSES[500]},
    )
    app.state.settings, app.state.telemetry = settings, telemetry
    app.state.accepting, app.state.keys = False, None
    install_error_handlers(app)
    app.include_router(_v2.router)
    app.include_router(_v1.router)
    app.include_router(_kserve_v1.router)
    app.add_api_route(
        "/metrics", _metrics, methods=["GET"], response_class=Response,
        responses=_METRICS_RESPONSE, tags=["monitoring"],
    )  # fmt: skip
    unlocked = open_paths(settings.public_readiness)
    app.add_middleware(HotRoutes)  # first added: innermost, right before the router
    app.add_middleware(
        RequestMiddleware, max_body_bytes=settings.max_body_bytes, telemetry=telemetry,
        auth=settings.auth, unlocked=unlocked, target=settings.target,
    )  # fmt: skip
    if guarded(settings):  # gateway secret and zone, before keys and body; inside CORS
        app.add_middleware(
            ResidencyGuard, settings=settings, telemetry=telemetry, unlocked=unlocked
        )
    if settings.cors_origins:  # outside the above, so that errors carry CORS headers too
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID", "X-Client-Request-ID", "X-Verdict-Target"],
        )
    if settings.target:  # outermost: every response, CORS preflights included
        app.add_middleware(TargetHeader, target=settings.target)
    app.add_middleware(HeadersWithBody)  # last added: outermost
    app.openapi = lambda: _openapi(app, settings.auth, unlocked)  # type: ignore[method-assign]
    return app


async def _metrics(request: Request) -> Response:
    """Prometheus metrics (text exposition format)."""
    telemetry: Telemetry = request.app.state.telemetry
    predlog = getattr(request.app.state, "predlog", None)
    if predlog is not None:
        telemetry.log_state(predlog.pending, predlog.refused)
    body, content_type = telemetry.render(request.headers.get("accept"))
    return Response(body, headers={"Content-Type": content_type})


def _lifespan(
    settings: ServiceSettings,
    registry: Registry,
    telemetry: Telemetry,
    state_engine: Engine | None,
    required: Mapping[str, Collection[str]] | None,
) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = state_engine or await asyncio.to_thread(open_state, settings.state_database())
        predlog = PredictionLog(engine, target=settings.target)
        executor = ThreadPoolExecutor(max_workers=_threads(), thread_name_prefix="verdict-score")
        watcher = gauges = grpc_server = switch = None
        try:
            keys = KeyStore(engine) if settings.auth else None
            if keys is not None:
                _warn_without_keys(keys)
            predlog.start()

            def on_load(loaded: LoadedModel) -> None:
                predlog.set_sensitive(loaded.name, loaded.schema.sensitive)

            served = ServedModels(
                registry, settings, telemetry, executor, required=required, on_load=on_load,
                predlog=predlog,
            )  # fmt: skip
            await served.start()
            app.state.keys, app.state.predlog, app.state.served = keys, predlog, served
            watcher = asyncio.create_task(served.watch(), name="verdict-alias-watcher")
            gauges = asyncio.create_task(_refresh_log_state(predlog, telemetry))
            if settings.grpc_port is not None:
                from verdict.serving._grpc import start_grpc  # grpc loads only when asked for

                grpc_server = await start_grpc(app, settings.listen_host, settings.grpc_port)
                app.state.grpc_port = grpc_server.verdict_port
            app.state.accepting = True
            gc.collect()
            gc.freeze()  # what is loaded now lives as long as the app: keep it out of GC passes
            switch = sys.getswitchinterval()
            sys.setswitchinterval(SWITCH_SECONDS)
            logger.info("serving %s", ", ".join(f"{m.served} ({m.ref})" for m in served.all()))
            yield
            app.state.accepting = False
            if grpc_server is not None:  # refuse new RPCs, let those in flight finish
                await grpc_server.stop(GRPC_GRACE_SECONDS)
            await served.drain()
        finally:
            app.state.accepting = False
            if switch is not None:
                sys.setswitchinterval(switch)
            if grpc_server is not None:
                await grpc_server.stop(None)
            for task in (watcher, gauges):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await asyncio.to_thread(predlog.close)
            executor.shutdown(wait=True)
            if state_engine is None:
                engine.dispose()
            if telemetry.multiprocess:  # this worker's gauges leave the merged view
                from prometheus_client import multiprocess

                multiprocess.mark_process_dead(os.getpid())

    return lifespan


async def _refresh_log_state(predlog: PredictionLog, telemetry: Telemetry) -> None:
    """Keep the prediction log's gauges current for scrapers that never call this worker's
    own ``/metrics`` (the metrics port, other workers)."""
    while True:
        telemetry.log_state(predlog.pending, predlog.refused)
        await asyncio.sleep(LOG_STATE_SECONDS)


def app_from_env() -> FastAPI:
    """The app built from ``VERDICT_*`` variables: uvicorn's factory for worker processes
    (``serving._run.run`` with several workers exports its settings as variables first)."""
    settings = ServiceSettings()
    return create_app(settings, Registry(home=settings.home))


def _threads() -> int:
    """Pipeline threads: scoring is mostly CPU under the GIL, so a few are enough."""
    return max(2, min(8, os.cpu_count() or 2))


def _warn_without_keys(keys: KeyStore) -> None:
    if keys.count_active() == 0:
        logger.warning(
            "API keys are required but none is active, so every request but liveness will get "
            "401. To fix: create one with `verdict keys create NAME` (or serve with auth off "
            "on a trusted network: VERDICT_AUTH=false)."
        )


def _openapi(app: FastAPI, auth: bool, unlocked: Collection[str]) -> dict[str, Any]:
    """The OpenAPI document, with the API key schemes when auth is on."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, spec in request_schemas([PredictRequest, InferenceRequest]).items():
            components.setdefault(name, spec)
        if auth:
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            }
            schema["security"] = [{"bearer": []}, {"apiKey": []}]
            for path in unlocked:
                for operation in schema["paths"].get(path, {}).values():
                    operation["security"] = []
        app.openapi_schema = schema
    return app.openapi_schema
