"""Console output shared by the commands, and the mapping from domain errors to exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from verdict.errors import VerdictError

console = Console()
err_console = Console(stderr=True)

EXIT_BAD_INPUT = 2


@contextmanager
def domain_errors() -> Iterator[None]:
    """Print a VerdictError as one clear line and exit 2, without a traceback."""
    try:
        yield
    except VerdictError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
