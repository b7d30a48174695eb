"""Console output shared by the commands, and the mapping from domain errors to exit codes.

Every refusal prints one paragraph, ``error: <what was wrong>. To fix: <what to do>.``, on
standard error and exits 2, without a traceback: the domain's own errors (``domain_errors``)
and the command-line parser's (a missing option, a value of the wrong type, an unknown
command: ``VerdictGroup``) alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from verdict.errors import VerdictError

try:  # typer >= 0.17 carries its own copy of click
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover - older typer runs on click itself
    from click.exceptions import UsageError

console = Console()
err_console = Console(stderr=True)

EXIT_BAD_INPUT = 2
# How every command's help names a model version: one wording everywhere.
MODEL_REF = "NAME@ALIAS, NAME@vN or NAME@latest (NAME alone means NAME@production)"


def print_error(message: str) -> None:
    """``error: message`` on standard error, as one paragraph (the text is not Rich markup)."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


@contextmanager
def domain_errors() -> Iterator[None]:
    """Print a VerdictError as one clear line and exit 2, without a traceback."""
    try:
        yield
    except VerdictError as exc:
        print_error(str(exc))
        raise typer.Exit(EXIT_BAD_INPUT) from None


@contextmanager
def usage_errors() -> Iterator[None]:
    """Print a command-line usage error in the same one-paragraph format and exit 2."""
    try:
        yield
    except UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # the help is the answer, not an error
            raise
        where = exc.ctx.command_path if exc.ctx is not None else "verdict"
        message = exc.format_message().strip()
        if not message.endswith((".", "?", "!")):
            message += "."
        print_error(f"{message} To fix: see `{where} --help`.")
        raise typer.Exit(EXIT_BAD_INPUT) from None


class VerdictGroup(TyperGroup):
    """A command group whose usage errors read like every other error of verdict."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        with usage_errors():
            return super().parse_args(ctx, args)

    def invoke(self, ctx: Any) -> Any:
        with usage_errors():
            return super().invoke(ctx)


def read_table(path: Any, **options: Any) -> Any:
    """``verdict.data.read_table``, imported when first called: ``verdict.data`` pulls in
    scikit-learn, which would otherwise cost every command (``--help`` and ``--version``
    included) a second and more of start-up."""
    from verdict.data import read_table as read

    return read(path, **options)
