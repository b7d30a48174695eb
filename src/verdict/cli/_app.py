"""The root Typer app; command groups register themselves here explicitly, not by import side effect."""

from __future__ import annotations

import typer

from verdict import __version__

app = typer.Typer(
    name="verdict",
    help="From a labelled table to a trustworthy classifier: evaluate, train, serve, deploy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"verdict {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", callback=_print_version,
        is_eager=True,
    ),
) -> None:
    """verdict: honest metrics, our own estimators, and deployment you can trust."""


def main() -> None:
    """Console-script entry point."""
    app()
