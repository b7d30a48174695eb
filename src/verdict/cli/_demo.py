"""``verdict demo``: the whole story on the bundled palmerpenguins data, in a few minutes.

The story lives in :mod:`verdict.demo`; this command parses its options and hands it the
commands whose output each step shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from verdict.cli._output import console, domain_errors

if TYPE_CHECKING:
    from verdict.demo import DemoCommands


def demo(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the demo's files (created).")
    ] = Path(".verdict/demo"),
    seed: Annotated[int, typer.Option("--seed", help="Seed of every random step.")] = 0,
    time_budget: Annotated[
        float, typer.Option("--time-budget", help="Seconds for the model search (step 2).")
    ] = 30.0,
) -> None:
    """Run the end-to-end demo on the bundled palmerpenguins data, in a few minutes.

    Advise, train and register, evaluate, predict, then plan three clouds, run them locally
    behind HAProxy (apt-get installs it if missing, as root), lose one, monitor drifted traffic,
    retrain on the labels fed back and tear everything down.
    """
    from verdict.demo import run_demo

    with domain_errors():
        run_demo(out, seed=seed, time_budget=time_budget, console=console, commands=_commands())


def _commands() -> DemoCommands:
    """The commands the demo's steps show, as ``verdict`` runs them."""
    from verdict.cli._advise import advise
    from verdict.cli._deploy import plan_command
    from verdict.cli._deploy_local import status
    from verdict.cli._evaluate import evaluate
    from verdict.cli._models import show
    from verdict.cli._monitor import monitor
    from verdict.cli._predict import predict
    from verdict.cli._retrain import retrain
    from verdict.cli._train import train
    from verdict.demo import DemoCommands

    return DemoCommands(
        advise=advise, train=train, evaluate=evaluate, show=show, predict=predict,
        plan=plan_command, status=status, monitor=_exit_code(monitor), retrain=retrain,
    )  # fmt: skip


def _exit_code(command: Any) -> Any:
    """``command`` returning its exit code instead of raising ``typer.Exit`` (monitor exits 1
    on an alert)."""

    def run(*args: Any, **kwargs: Any) -> int:
        try:
            command(*args, **kwargs)
        except typer.Exit as exc:
            return int(exc.exit_code or 0)
        return 0

    return run
