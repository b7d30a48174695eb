"""Console output shared by the commands, and the mapping from errors to exit codes.

Every refusal prints one paragraph, ``error: <what was wrong>. To fix: <what to do>.``, on
standard error and exits 2, without a traceback: the domain's own errors (``domain_errors``)
and the command-line parser's (a missing option, a value of the wrong type, an unknown
command: ``VerdictGroup``) alike. Any other exception escaping a command is a bug of verdict:
``VerdictGroup`` prints it as one paragraph in the same format and exits 3 (``internal_errors``),
again without a traceback unless ``VERDICT_DEBUG=1`` asks for it.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from verdict._params import as_options
from verdict.errors import VerdictError

try:  # typer >= 0.17 carries its own copy of click
    from typer._click.exceptions import ClickException, UsageError
    from typer.exceptions import Abort
except ImportError:  # pragma: no cover - older typer runs on click itself
    from click.exceptions import Abort, ClickException, UsageError

console = Console()
err_console = Console(stderr=True)

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3
DEBUG_VARIABLE = "VERDICT_DEBUG"  # set to 1 to see the traceback of an internal error
EXIT_CODES_HELP = (  # the root help's paragraph; a command with more codes lists its own
    "Exit codes, for every command: 0 success; 2 bad input or usage (one paragraph on stderr, "
    "no traceback); 3 an unexpected internal error, a bug of verdict (reported the same way; "
    f"set {DEBUG_VARIABLE}=1 to see its traceback)."
)
_SHOWN_CHARS = 300  # of an internal error's own message
# How every command's help names a model version: one wording everywhere.
MODEL_REF = "NAME@ALIAS, NAME@vN or NAME@latest (NAME alone means NAME@production)"
# Every command's --json flag: one spelling, one help text.
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def print_error(message: str) -> None:
    """``error: message`` on standard error, as one paragraph (the text is not Rich markup;
    a lone surrogate in it is printed as its escape)."""
    message = message.encode("utf-8", "backslashreplace").decode("utf-8")
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


@contextmanager
def domain_errors(options: Iterable[str] | Mapping[str, str] = ()) -> Iterator[None]:
    """Print a VerdictError as one clear line and exit 2, without a traceback.

    ``options``: the core function's parameters that this command takes as options of the
    same name; the message names those options instead (see :func:`as_options`).
    """
    try:
        yield
    except VerdictError as exc:
        print_error(as_options(str(exc), options))
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


@contextmanager
def internal_errors() -> Iterator[None]:
    """Print an unexpected exception as one paragraph and exit 3, without a traceback.

    A ``VerdictError`` that no command caught is still a domain error (exit 2). Typer's and
    click's own exceptions (exits, aborts, usage errors), a broken pipe and anything that is
    not an ``Exception`` (KeyboardInterrupt, SystemExit) pass through unchanged, as does
    everything when ``VERDICT_DEBUG`` is set to a true value.
    """
    try:
        yield
    except (typer.Exit, Abort, ClickException, EOFError):
        raise
    except VerdictError as exc:
        print_error(str(exc))
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except Exception as exc:
        if _debugging() or (isinstance(exc, OSError) and exc.errno == errno.EPIPE):
            raise
        print_error(internal_message(exc))
        raise typer.Exit(EXIT_INTERNAL) from None


def internal_message(exc: BaseException) -> str:
    """The paragraph printed for an unexpected exception: what, briefly, and how to see more."""
    text = " ".join(str(exc).split())
    if len(text) > _SHOWN_CHARS:
        text = text[: _SHOWN_CHARS - 3] + "..."
    what = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return (
        f"verdict hit an unexpected internal error ({what}). This is a bug in verdict, not a "
        f"problem with your input. To fix: rerun with {DEBUG_VARIABLE}=1 to see the full "
        "traceback, and report it with that traceback."
    )


def _debugging() -> bool:
    return os.environ.get(DEBUG_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on")


class VerdictGroup(TyperGroup):
    """A command group whose usage errors read like every other error of verdict, and whose
    commands never end in a traceback (exit 3 for an internal error)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        with usage_errors(), internal_errors():
            return super().parse_args(ctx, args)

    def invoke(self, ctx: Any) -> Any:
        with usage_errors(), internal_errors():
            return super().invoke(ctx)


def command_group(name: str, help: str, **options: Any) -> typer.Typer:
    """A Typer app for a group of commands, set up as every group of verdict is: errors read as
    one paragraph (``VerdictGroup``), a bare call prints the help, no Rich tracebacks."""
    return typer.Typer(
        name=name,
        cls=VerdictGroup,
        help=help,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        **options,
    )


def service_settings() -> Any:
    """The service's settings from the ``VERDICT_*`` variables; invalid ones are a domain error
    naming each bad one (exit 2), not a traceback."""
    from verdict.serving import read_settings  # heavy imports only when a command runs

    return read_settings(None)


def read_table(path: Any, **options: Any) -> Any:
    """``verdict.data.read_table``, imported when first called: ``verdict.data`` pulls in
    scikit-learn, which would otherwise cost every command (``--help`` and ``--version``
    included) a second and more of start-up."""
    from verdict.data import read_table as read

    return read(path, **options)
