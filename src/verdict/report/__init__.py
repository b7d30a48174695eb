"""Reports from a finished run: one self-contained HTML page, ``metrics.json`` and a model card.

``write_report(run_dir)`` reads what ``verdict.pipeline.train`` left in the run directory
(``run.json`` and ``test_predictions.parquet``) and writes beside them:

- ``report.html``: the verdict (best model, primary metric with its interval, paired tests
  against the runner-up and a majority-class baseline), the data profile, the model search,
  the confusion matrix, per-class metrics with intervals, ROC and precision-recall curves,
  the reliability diagram, the threshold or cost analysis, feature importance and the model
  card; plots are inline SVG drawn by matplotlib, so the page needs no network;
- ``metrics.json``: the same numbers for programs;
- ``model_card.md``: the model card in Markdown.

Nothing is refitted: ``verdict report RUN_DIR`` rebuilds all three from the directory alone.
"""

from verdict.report._write import write_report

__all__ = ["write_report"]
