"""Bootstrap confidence intervals: for one metric, for the difference of two models, and for
every metric of ``evaluate(ci=True)`` at once.

One front end (``_front``) checks the arguments into one ``Settings`` record and builds the
problem (``_inputs``): the rows' design and a statistic per metric, vectorised over resamples
(count, ranking and per-row statistics: ``_counts``, ``_ranking``, ``_metrics``). One engine
(``_engine.run``) resamples (``_resample``: the cells' counts first, the rows only when a metric
needs them) and turns each distribution into percentile or BCa bounds.
"""

from verdict import _lazy

_EXPORTS = {
    "_front": (
        "bootstrap_ci",
        "evaluation_intervals",
        "multilabel_evaluation_intervals",
        "paired_bootstrap_ci",
    ),
    "_inputs": ("interval_settings",),
}

__all__ = _lazy.exported(_EXPORTS)

__getattr__, __dir__ = _lazy.lazy_exports(__name__, _EXPORTS)
