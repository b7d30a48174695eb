"""`verdict deploy up|status|chaos|canary|down` refusals: one line, exit code 2, the fix.

The commands working on a real topology are exercised in test_local_topology.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from verdict.cli._app import app

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "deploy.yaml"


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, ["deploy", *args])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("up", str(EXAMPLE)), "add --local"),
        (("status",), "No local deployment is running"),
        (("down",), "No local deployment is running"),
        (("chaos",), "exactly one of --kill"),
        (("chaos", "--kill", "aws", "--revive", "aws"), "exactly one of --kill"),
        (("chaos", "--kill", "aws"), "No local deployment is running"),
        (("canary", "penguins@v2", "--percent", "150"), "between 0 and 100"),
        (("canary", "penguins@v2", "--promote", "--abort"), "exclude each other"),
        (("canary", "penguins@v2", "--percent", "10"), "No local deployment is running"),
    ],
)
def test_refusals_say_what_and_how_to_fix(args: tuple[str, ...], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "To fix:" in result.output
    assert "Traceback" not in result.output


def test_canary_refusals_name_its_options_where_the_core_names_parameters() -> None:
    from verdict.deploy import canary
    from verdict.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match=r"'percent' parameter .* percent=10") as info:
        canary("penguins@v2", 150)
    assert "--" not in str(info.value)
    with pytest.raises(InvalidParameterError, match="promote=True or abort=True") as info:
        canary("penguins@v2", promote=True, abort=True)
    assert "--" not in str(info.value)
    result = invoke("canary", "penguins@v2", "--percent", "150")
    assert "The --percent parameter" in result.output and "e.g. --percent 10." in result.output
    result = invoke("canary", "penguins@v2", "--promote", "--abort")
    assert "The --abort parameter of canary must be False when --promote" in result.output
    assert "pass --promote or --abort, not both" in result.output


def test_up_of_an_unregistered_model_is_refused_before_anything_starts(tmp_path: Path) -> None:
    result = invoke("up", str(EXAMPLE), "--local")
    assert result.exit_code == 2, result.output
    assert "penguins" in result.output and "To fix:" in result.output
    assert not (Path.cwd() / ".verdict" / "deploy" / "state.json").exists()


def test_help_lists_every_deploy_command() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("plan", "render", "up", "status", "chaos", "canary", "down"):
        assert command in result.output
