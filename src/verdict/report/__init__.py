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

The page shell and the plot style are public so that the monitoring page is drawn with the
same ones: ``page``, ``section``, ``tile`` (a headline figure), ``figure``, ``table``, ``note``
and ``esc``; ``new_figure``, ``to_svg``, ``class_color`` and the colours; ``metric_label`` and
``num`` for the words and numbers.
"""

from verdict import _lazy

_EXPORTS = {
    "_html": ("esc", "figure", "note", "page", "section", "table", "tile"),
    "_svg": ("ACCENT", "MUTED", "PALETTE", "WARN", "class_color", "new_figure", "to_svg"),
    "_words": ("metric_label", "num"),
    "_write": ("write_report",),
}

__all__ = _lazy.exported(_EXPORTS)

__getattr__, __dir__ = _lazy.lazy_exports(__name__, _EXPORTS)
