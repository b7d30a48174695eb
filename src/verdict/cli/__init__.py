"""The ``verdict`` command line: thin Typer commands over the core, one module per group."""

from verdict.cli._app import app, main

__all__ = ["app", "main"]
