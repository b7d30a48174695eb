"""``write_report``: from a finished run directory to ``report.html``, ``metrics.json`` and
``model_card.md`` beside it."""

from __future__ import annotations

import json
from pathlib import Path

from verdict._results import plain
from verdict.report import _sections as run_sections
from verdict.report import _sections_eval as eval_sections
from verdict.report._analysis import Analysis, analyse
from verdict.report._card import model_card, to_markdown
from verdict.report._html import esc, page
from verdict.report._load import load_run
from verdict.report._summary import metrics_summary

REPORT_FILE = "report.html"
METRICS_FILE = "metrics.json"
CARD_FILE = "model_card.md"


def write_report(run_dir: str | Path) -> Path:
    """Write the HTML report, the metrics summary and the model card of a finished run.

    The run directory alone is enough (``run.json`` and ``test_predictions.parquet`` as
    written by ``verdict.pipeline.train``): nothing is refitted, so rebuilding a report is
    quick and gives the same numbers. Curves, calibration and per-class intervals are
    recomputed from the stored test predictions.

    Parameters
    ----------
    run_dir : str or Path
        The folder that ``verdict train`` wrote.

    Returns
    -------
    Path
        The path of ``report.html``, a single self-contained page (inline CSS and SVG, no
        network needed to view it). ``metrics.json`` and ``model_card.md`` are written beside
        it.

    Raises
    ------
    InvalidInputError
        If the folder, ``run.json`` or the predictions are missing, unreadable or do not
        match each other.
    """
    run = load_run(run_dir)
    analysis = analyse(run)
    card = model_card(run, analysis.primary, analysis.calibration)
    summary = metrics_summary(
        run, analysis.primary, analysis.classes, analysis.curves, analysis.calibration
    )
    (run.run_dir / METRICS_FILE).write_text(
        json.dumps(plain(summary), indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    (run.run_dir / CARD_FILE).write_text(to_markdown(card), encoding="utf-8")
    path = run.run_dir / REPORT_FILE
    path.write_text(render(analysis, card), encoding="utf-8")
    return path


def render(analysis: Analysis, card: object) -> str:
    """The page's HTML text."""
    info = analysis.run.info
    body = "\n".join(
        (
            run_sections.verdict(analysis),
            run_sections.data_profile(analysis),
            run_sections.model_comparison(analysis),
            eval_sections.confusion(analysis),
            eval_sections.per_class(analysis),
            eval_sections.roc_pr(analysis),
            eval_sections.calibration(analysis),
            eval_sections.decision(analysis),
            eval_sections.importance(analysis),
            eval_sections.model_card(card),  # type: ignore[arg-type]
            run_sections.reproducibility(analysis),
        )
    )
    title = f"verdict report: {info['best']} on {info['data'].get('target', '')}"
    footer = (
        f"Written by verdict {esc(info.get('verdict_version', ''))} from "
        f"{esc(analysis.run.run_dir.name)}; rebuild with <code>verdict report "
        f"{esc(analysis.run.run_dir)}</code>."
    )
    return page(title, body, footer)
