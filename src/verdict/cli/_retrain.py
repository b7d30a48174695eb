"""``verdict retrain``: train a challenger on the feedback; promote it only on evidence.

Exit 0 whether the challenger was promoted or the champion kept (both are decisions, stored
in the registry and shown by ``verdict models show``); 2 for bad input (too few usable
labelled rows, labels outside the model's classes in ``--data``, an unreadable ``--data`` file
...); 3 for an unexpected internal error (``VerdictGroup``). Feedback labels that are not the
model's classes are left out and reported in a note, never an error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from verdict.cli._output import JsonFlag, console, domain_errors


def retrain(
    name: Annotated[
        str,
        typer.Argument(metavar="NAME", help="The registered model to retrain: NAME, without @."),
    ],
    data: Annotated[
        Path | None,
        typer.Option("--data", help="CSV, Parquet or JSON Lines file of new labelled rows to add."),
    ] = None,
    holdout: Annotated[
        float,
        typer.Option(
            "--holdout", help="Share of the labelled feedback, most recent, kept for the test."
        ),
    ] = 0.3,
    time_budget: Annotated[
        float, typer.Option("--time-budget", help="Seconds for the challenger's training.")
    ] = 60.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the training and the test.")] = 0,
    alias: Annotated[
        str, typer.Option("--alias", help="The champion's alias, moved when the challenger wins.")
    ] = "production",
    alpha: Annotated[
        float, typer.Option("--alpha", help="One-sided significance level of the test.")
    ] = 0.05,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="The challenger's run directory.",
            show_default=".verdict/runs/<timestamp>",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="Hide the progress display.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Train a challenger on the training data plus labelled feedback; promote it if better.

    Feedback labels that are not one of the model's classes (or are missing) are left out, and
    logged features of an unexpected type are read as missing; the output says how many and
    why.

    Exit codes: 0 a decision was made (the challenger promoted or the champion kept); 2 bad
    input or usage (too few usable labelled rows, --data without the model's columns or with
    labels outside its classes, a bad option), one paragraph on stderr; 3 an unexpected
    internal error, reported the same way without a traceback (set VERDICT_DEBUG=1 to see it).
    """
    options = {"data": data, "holdout": holdout, "time_budget": time_budget, "seed": seed,
               "alias": alias, "alpha": alpha, "out": out, "quiet": quiet}  # fmt: skip
    with domain_errors(options=("holdout",)):
        result = _run(name, options)
    if as_json:
        return typer.echo(json.dumps(result.to_dict(), indent=2))
    _print(result, alias)


def _run(name: str, options: dict[str, Any]) -> Any:
    from verdict.monitoring import retrain as run_retrain
    from verdict.registry import Registry
    from verdict.serving import read_settings
    from verdict.state import PredictionLog, open_state

    engine = open_state(read_settings(None).state_database())
    log = PredictionLog(engine)
    try:
        with Registry() as registry:
            return run_retrain(name, registry=registry, log=log, **options)
    finally:
        log.close()
        engine.dispose()


def _print(result: Any, alias: str) -> None:
    decision = result.decision
    console.print(
        f"[bold]{result.challenger}[/] (challenger) vs [bold]{result.champion}[/] (champion): "
        f"trained on {result.n_train:,} rows ({result.n_feedback_train:,} from feedback), "
        f"compared on the {result.n_holdout:,} most recent labelled rows",
        highlight=False,
    )
    for note in result.notes:
        console.print(f"note: {escape(note)}", highlight=False)
    level = 1 - 2 * decision.alpha
    console.print(
        f"{decision.metric}: champion {decision.champion_score:.4f}, challenger "
        f"{decision.challenger_score:.4f}; difference {decision.difference:+.4f} "
        f"[{decision.low:+.4f}, {decision.high:+.4f}] ({level:.0%} interval)",
        highlight=False,
    )
    console.print(
        f"test: {decision.test}, one-sided p = {decision.p_value:.4g} (alpha {decision.alpha:g})",
        highlight=False,
    )
    if result.promoted:
        console.print(f"[green]PROMOTED[/]: {alias} -> {result.challenger}", highlight=False)
    else:
        console.print(f"[yellow]KEPT[/]: {alias} stays {result.champion}", highlight=False)
    console.print(f"why: {decision.reason}", highlight=False)
    console.print(f"run: {result.run_dir}", highlight=False)
