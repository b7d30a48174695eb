"""``verdict logs``: the prediction service's log, exported for an audit or an analysis.

The log lives in the service's state database (``VERDICT_STATE_URL``, default
``sqlite:///.verdict/service.db`` under ``VERDICT_HOME``), as ``verdict serve`` wrote it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from verdict.cli._monitor import _time
from verdict.cli._output import (
    JsonFlag,
    command_group,
    console,
    domain_errors,
    service_settings,
)

logs_app = command_group(
    "logs",
    "Read the prediction service's log: export it for an audit or an analysis.",
)


@logs_app.command("export")
def export(
    name: Annotated[
        str,
        typer.Argument(
            metavar="MODEL", help="The model name, e.g. penguins: every logged version of it."
        ),
    ],
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="Output file, .jsonl, .csv or .parquet (replaced)."),
    ],
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only rows from this ISO 8601 time (UTC unless given)."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Only rows before this ISO 8601 time (UTC unless given)."),
    ] = None,
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="jsonl, csv or parquet.",
            show_default="from the extension of --out",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Export every logged prediction of MODEL with its feedback, one record per row.

    Each record has the server's and the client's request ids, the row, the time (UTC), the
    model version, the deployment target, the class served and its probabilities, the latest
    true label that came back and when, and the logged inputs (sensitive columns hashed).
    The file is written under a temporary name and renamed once complete.
    """
    from verdict.state import export_format, export_log

    with domain_errors():
        fmt = export_format(out, format)
        window = _time(since, "--since"), _time(until, "--until")
        with _state() as engine:
            summary = export_log(engine, name, out, since=window[0], until=window[1], format=fmt)
    if as_json:
        return typer.echo(json.dumps(summary.to_dict()))
    if not summary.n_rows:
        console.print(f"exported 0 rows of {name} to {out}: none logged in the window",
                      highlight=False)  # fmt: skip
        return None
    console.print(
        f"exported {summary.n_rows:,} rows of {name} ({summary.n_requests:,} requests, "
        f"{summary.n_labelled:,} with a true label) to {summary.path} in "
        f"{summary.seconds:.1f} s ({summary.rows_per_second:,.0f} rows/s)",
        highlight=False,
    )
    return None


@contextmanager
def _state() -> Iterator[Any]:
    """The state database the service uses; an error, not a new empty one, where none is."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from verdict.errors import ConfigurationError
    from verdict.state import open_state

    url = service_settings().state_database()
    try:
        parsed = make_url(url)
    except ArgumentError:
        parsed = None  # open_state says what is wrong with it
    if (
        parsed
        and parsed.get_backend_name() == "sqlite"
        and not Path(parsed.database or "").is_file()
    ):
        raise ConfigurationError(
            f"There is no state database at {parsed.database}. To fix: point VERDICT_HOME or "
            f"VERDICT_STATE_URL at the database of the service that logged the predictions."
        )
    engine = open_state(url)
    try:
        yield engine
    finally:
        engine.dispose()
