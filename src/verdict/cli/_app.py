"""The root Typer app; each command group is added here explicitly, never by import side effect."""

from __future__ import annotations

import typer

from verdict import __version__
from verdict.cli._advise import advise
from verdict.cli._demo import demo
from verdict.cli._deploy import deploy_app
from verdict.cli._deploy_local import register as register_local_deploy
from verdict.cli._evaluate import evaluate
from verdict.cli._export import export
from verdict.cli._keys import keys_app
from verdict.cli._logs import logs_app
from verdict.cli._models import models_app
from verdict.cli._monitor import monitor
from verdict.cli._output import EXIT_CODES_HELP, command_group
from verdict.cli._predict import predict
from verdict.cli._report import report
from verdict.cli._retrain import retrain
from verdict.cli._serve import serve
from verdict.cli._train import train

app = command_group(
    "verdict",
    "From a labelled table to a trustworthy classifier: evaluate, train, serve, deploy.\n\n"
    f"{EXIT_CODES_HELP} verdict monitor exits 1 when an alert fires.",
    add_completion=False,
    rich_markup_mode="rich",
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"verdict {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        help="Print the version and exit.",
        callback=_print_version,
        is_eager=True,
    ),
) -> None:
    """From a labelled table to a trustworthy classifier: evaluate, train, serve, deploy."""


app.command("evaluate")(evaluate)
app.command("advise")(advise)
app.command("demo")(demo)
app.command("report")(report)
app.command("train")(train)
app.add_typer(models_app, name="models")
app.add_typer(keys_app, name="keys")
app.add_typer(logs_app, name="logs")
app.command("predict")(predict)
app.command("export")(export)
app.command("serve")(serve)
app.command("monitor")(monitor)
app.command("retrain")(retrain)
register_local_deploy(deploy_app)
app.add_typer(deploy_app, name="deploy")


def main() -> None:
    """Console-script entry point."""
    app()
