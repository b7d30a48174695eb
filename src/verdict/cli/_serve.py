"""``verdict serve``: the prediction service on uvicorn (one JSON log line per request).

A thin command over :func:`verdict.serving._run.run`, which owns the pre-flight checks (every
artifact of every version to serve must match its registered sha256 before the address is
printed), the JSON logging and the worker processes; ``python -m verdict.serving`` takes the
same options without this app.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from verdict.cli._output import MODEL_REF, domain_errors


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
    grpc_port: Annotated[
        int | None,
        typer.Option(
            help="Also serve the Open Inference Protocol over gRPC on this port; 0 picks a free "
            "one (printed).",
            show_default="off",
        ),
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            help="Also serve /metrics on this port without an API key, for Prometheus; 0 picks "
            "a free one (printed).",
            show_default="off",
        ),
    ] = None,
    log_level: Annotated[
        str, typer.Option(help="Log level: trace, debug, info, warning, error or critical.")
    ] = "info",
) -> None:
    """Serve registered models: Open Inference Protocol v2 (HTTP, gRPC), KServe V1, /v1.

    gRPC needs --grpc-port; /metrics is on the service port (with a key) and, with
    --metrics-port, on its own port without one.

    Every endpoint but liveness needs an API key (`verdict keys create NAME`). A flag left out
    falls back to its VERDICT_* variable (VERDICT_BATCHING, VERDICT_AUTH ...), then to the
    default shown.
    """
    from verdict.serving import run

    overrides: dict[str, Any] = {
        "models": model or None, "batching": batching, "batch_budget_ms": batch_budget_ms,
        "batch_max_rows": batch_max_rows, "auth": auth, "runtime": runtime,
        "header_timeout_seconds": header_timeout, "grpc_port": grpc_port,
        "metrics_port": metrics_port,
    }  # fmt: skip
    with domain_errors(options={"models": "model", "log_level": "log_level", "workers": "workers"}):
        run(
            overrides,
            host=host,
            port=port,
            workers=workers,
            graceful_timeout=graceful_timeout,
            log_level=log_level,
        )
