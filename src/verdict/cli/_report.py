"""``verdict report RUN_DIR``: rebuild the HTML report, metrics.json and the model card of a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from verdict.cli._output import console, domain_errors


def report(
    run_dir: Annotated[
        Path,
        typer.Argument(
            metavar="RUN_DIR", help="Run directory written by 'verdict train' (holds run.json)."
        ),
    ],
) -> None:
    """Rebuild report.html, metrics.json and model_card.md from a finished run, no refitting."""
    from verdict.report import write_report  # matplotlib loads only for this command

    with domain_errors():
        path = write_report(run_dir)
    console.print(f"report: {path}", highlight=False, soft_wrap=True)
    console.print(
        f"also written: {path.parent / 'metrics.json'}, {path.parent / 'model_card.md'}",
        highlight=False,
    )
