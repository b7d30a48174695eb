"""``verdict monitor``: drift and performance of a served model; non-zero exit on an alert.

Made for cron and CI: exit 0 when the newest window raised no alert, 1 when one fired, 2 for
bad input (no traffic in the window, an unknown model ...), 3 for an unexpected internal error
(``VerdictGroup``: one paragraph, no traceback). Whatever the log holds (inputs of unexpected
types, labels that are not classes) is digested and reported as a warning, never an error.
Each pass is stored in the registry (event ``monitor``), where the running service picks up the
figures for its Prometheus gauges.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from verdict.cli._output import MODEL_REF, JsonFlag, console, domain_errors
from verdict.errors import InvalidInputError

EXIT_ALERT = 1


def monitor(
    ref: Annotated[
        str,
        typer.Argument(
            metavar="REF",
            help=f"The model version to monitor: {MODEL_REF}.",
        ),
    ],
    window: Annotated[
        int, typer.Option("--window", help="Logged rows per window (30 at least).")
    ] = 1000,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only traffic from this ISO 8601 time (UTC unless given)."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Only traffic before this ISO 8601 time (UTC unless given)."),
    ] = None,
    false_alarm_rate: Annotated[
        float,
        typer.Option("--false-alarm-rate", help="Chance that an unchanged window raises an alarm."),
    ] = 0.05,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="HTML report file.", show_default=".verdict/monitoring/NAME-vN.html"
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Check the logged traffic of REF for drift and performance; exit 1 when an alert fires.

    Logged values the model does not expect (an input of an unexpected type, a feedback label
    that is not one of its classes) are read as unknown or missing, or left out, and reported
    as warnings.

    Exit codes: 0 calm, no alert on the newest window; 1 an alert fired (drift, or a drop in
    live performance); 2 bad input or usage (no traffic in the window, an unknown model, a bad
    option), one paragraph on stderr; 3 an unexpected internal error, reported the same way
    without a traceback (set VERDICT_DEBUG=1 to see it).
    """
    with domain_errors(options=("window", "since", "until")):
        result, report = _run(ref, window, _time(since, "--since"), _time(until, "--until"),
                              false_alarm_rate, out)  # fmt: skip
    if as_json:
        typer.echo(json.dumps({"result": result.to_dict(), "report": str(report)}, default=str))
    else:
        _print(result, report)
    if result.alarm:
        raise typer.Exit(EXIT_ALERT)


def _time(text: str | None, flag: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(
            f"{flag} {text!r} is not an ISO 8601 time. To fix: use e.g. 2026-11-26T09:00:00."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _run(
    ref: str,
    window: int,
    since: datetime | None,
    until: datetime | None,
    rate: float,
    out: Path | None,
) -> tuple[Any, Path]:
    from verdict.monitoring import monitor as run_monitor
    from verdict.monitoring import record_pass, write_monitor_report
    from verdict.registry import Registry
    from verdict.serving import read_settings
    from verdict.state import PredictionLog, open_state

    settings = read_settings(None)
    engine = open_state(settings.state_database())
    log = PredictionLog(engine)
    try:
        with Registry() as registry:
            result = run_monitor(ref, registry=registry, log=log, window=window, since=since,
                                 until=until, false_alarm_rate=rate)  # fmt: skip
            path = out or settings.home / "monitoring" / f"{result.name}-v{result.version}.html"
            report = write_monitor_report(result, path)
            record_pass(result, registry)
    finally:
        log.close()
        engine.dispose()
    return result, report


def _print(result: Any, report: Path) -> None:
    latest = result.windows[-1]
    console.print(
        f"[bold]{result.ref}[/]: {result.n_rows:,} logged rows in {len(result.windows)} "
        f"window(s) of up to {result.window}; {result.n_labelled:,} with labels",
        highlight=False,
    )
    table = Table(title=f"drift, newest window ({latest.n} rows, {latest.end[:19]})")
    for column in ("column", "test", "adjusted p", "PSI", "drifted"):
        table.add_column(column)
    for test in latest.drift.tests:
        table.add_row(test.name, test.test, f"{test.adjusted_p_value:.3g}", f"{test.psi:.3f}",
                      "[red]yes[/]" if test.drifted else "no")  # fmt: skip
    console.print(table)
    estimated = latest.estimated
    accuracy = estimated.intervals.get("accuracy")
    shown = "" if accuracy is None else f" [{accuracy.low:.4f}, {accuracy.high:.4f}]"
    trust = "" if estimated.reliable else " (not reliable: the model is not calibrated)"
    console.print(
        f"estimated accuracy before labels: {estimated.metrics['accuracy']:.4f}{shown}{trust}",
        highlight=False,
    )
    if result.labelled:
        console.print(f"live: {result.labelled[-1].live.message}", highlight=False)
    else:
        console.print("live: no labels have come back for this version yet", highlight=False)
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    for alert in result.alerts:
        console.print(f"[bold red]ALERT:[/] {alert}", highlight=False)
    if not result.alerts:
        console.print("[green]no alert[/]")
    console.print(f"report: {report}", highlight=False, soft_wrap=True)
