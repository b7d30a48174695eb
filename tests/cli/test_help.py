"""Every command's help is complete and consistent; usage errors read like domain errors.

Walks the command tree Typer builds from the root app, so a command added later is checked
without being listed here.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from verdict import __version__
from verdict.cli._app import app

EXPECTED = {
    "evaluate", "advise", "report", "train", "predict", "export", "serve", "monitor", "retrain",
    "demo", "models list", "models show", "models promote", "models rollback", "models delete",
    "keys create", "keys list", "keys revoke", "deploy plan", "deploy render", "deploy up",
    "deploy status", "deploy chaos", "deploy canary", "deploy down",
}  # fmt: skip


def _walk(command: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    found = [(path, command)]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        found += _walk(sub, (*path, name))
    return found


COMMANDS = _walk(typer.main.get_command(app))
IDS = [" ".join(path) or "verdict" for path, _ in COMMANDS]


def _summary(command: Any) -> str:
    """The first paragraph of the help: the line shown in the parent's command list."""
    text = (command.help or "").strip()
    return text.split("\n\n", 1)[0]


def test_the_walk_finds_every_command() -> None:
    leaves = {" ".join(path) for path, cmd in COMMANDS if not hasattr(cmd, "commands")}
    assert leaves >= EXPECTED, EXPECTED - leaves


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_help_exits_0_and_shows_the_summary(path: tuple[str, ...], command: Any) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    summary = _summary(command)
    assert summary, f"{IDS[COMMANDS.index((path, command))]} has no help"
    assert "\n" not in summary, f"the summary is one line, not a wrapped paragraph: {summary!r}"
    assert summary.endswith("."), summary
    assert summary[0].isupper(), summary


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_parameter_has_help(path: tuple[str, ...], command: Any) -> None:
    for param in command.params:
        if param.name == "help":
            continue
        text = (getattr(param, "help", None) or "").strip()
        assert text, f"{' '.join(path) or 'verdict'}: {param.name} has no help text"
        assert text.endswith((".", ")")), f"{param.name}: {text!r}"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_model_references_are_described_one_way(path: tuple[str, ...], command: Any) -> None:
    for param in command.params:
        if param.name not in ("ref", "model"):
            continue
        if path[-1:] == ("delete",):  # deleting takes an explicit version, never an alias
            assert "NAME@vN" in param.help and "ALIAS" not in param.help, param.help
        else:
            assert "NAME@ALIAS, NAME@vN or NAME@latest" in param.help, (path, param.help)


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert re.fullmatch(r"verdict \d+\.\d+\.\d+\S*\n", result.output), result.output
    assert result.output == f"verdict {__version__}\n"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["evaluate", "table.csv"], "Missing option '--true'"),
        (["evaluate", "t.csv", "--true", "y", "--confidence", "high"], "'--confidence'"),
        (["predict"], "Missing argument 'REF'"),
        (["nosuch"], "No such command 'nosuch'"),
        (["models", "nosuch"], "No such command 'nosuch'"),
        (["--nosuch"], "No such option"),
        (["deploy", "up", "deploy.yaml", "--max-replicas", "0"], "'--max-replicas'"),
    ],
)
def test_usage_errors_are_one_paragraph_with_the_fix(args: list[str], needle: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    message = result.stderr.strip()
    assert message.startswith("error:") and "\n" not in message, message
    assert needle in message and "To fix: see `verdict" in message
    assert "Traceback" not in result.output


def test_no_arguments_still_shows_the_help() -> None:
    result = CliRunner().invoke(app, ["models"])
    assert "Commands" in result.output and "error:" not in result.output
