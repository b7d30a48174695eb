"""``python -m verdict.serving``: the prediction service without the command-line app.

Takes the options of ``verdict serve`` (a flag left out falls back to its ``VERDICT_*``
variable, then to the default) and runs :func:`verdict.serving._run.run`; the local
deployment's replicas are started this way. A refusal prints one ``error: ... To fix: ...``
paragraph on stderr and exits 2, as ``verdict serve`` does; so does a malformed option.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

# The options that are settings overrides, by their settings field (the parser's ``dest``).
SETTINGS_OPTIONS = (
    "models", "batching", "batch_budget_ms", "batch_max_rows", "auth", "runtime",
    "header_timeout_seconds", "grpc_port", "metrics_port",
)  # fmt: skip


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """A malformed option: one paragraph in verdict's format, exit 2."""
        self.exit(2, f"error: {message}. To fix: see `{self.prog} --help`.\n")


def parser() -> argparse.ArgumentParser:
    """The options of ``verdict serve``, with the same names and defaults."""
    found = _Parser(
        prog="python -m verdict.serving",
        description="Serve registered models over HTTP (Open Inference Protocol v2, /v1, "
        "/metrics). A flag left out falls back to its VERDICT_* variable, then to the default.",
    )
    add = found.add_argument
    add("--model", "-m", dest="models", action="append", metavar="REF",
        help="A model version to serve (NAME@ALIAS, NAME@vN); repeat for several. "
        "Default: every model's production alias.")  # fmt: skip
    add("--host", default="127.0.0.1", help="Address to listen on (default: %(default)s).")
    add("--port", type=int, default=8000, help="Port to listen on; 0 picks a free one.")
    add("--workers", type=int, default=1, help="Number of uvicorn worker processes.")
    add("--batching", help="Micro-batching of concurrent requests: off, on or auto.")
    add("--batch-budget-ms", type=float, help="Longest wait for company in a micro-batch, in ms.")
    add("--batch-max-rows", type=int, help="Most rows per pipeline call.")
    add("--auth", action=argparse.BooleanOptionalAction, help="Require API keys.")
    add("--runtime", help="What scores rows: native (the pipeline) or onnx (its checked export).")
    add("--graceful-timeout", type=int, default=30,
        help="Seconds to finish in-flight requests on shutdown.")  # fmt: skip
    add("--header-timeout", dest="header_timeout_seconds", type=float, metavar="SECONDS",
        help="Seconds a client has to send a request's line and headers.")  # fmt: skip
    add("--grpc-port", type=int, metavar="PORT",
        help="Also serve the v2 protocol over gRPC on this port; 0 picks a free one.")  # fmt: skip
    add("--metrics-port", type=int, metavar="PORT",
        help="Also serve /metrics without a key on this port; 0 picks a free one.")  # fmt: skip
    add("--log-level", default="info",
        help="Log level: trace, debug, info, warning, error or critical.")  # fmt: skip
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, serve until stopped; the exit status (2 for a refusal)."""
    args = parser().parse_args(argv)
    from verdict._params import as_options
    from verdict.errors import VerdictError
    from verdict.serving._run import run

    try:
        run(
            {name: getattr(args, name) for name in SETTINGS_OPTIONS},
            host=args.host,
            port=args.port,
            workers=args.workers,
            graceful_timeout=args.graceful_timeout,
            log_level=args.log_level,
        )
    except VerdictError as exc:
        flags = {"models": "model", "log_level": "log_level", "workers": "workers"}
        print(f"error: {as_options(str(exc), flags)}", file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
