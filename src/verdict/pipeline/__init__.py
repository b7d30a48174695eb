"""From a clean table to a selected model: preprocessing, the search, training.

The search cross-validates each family's pipeline (the families are ``verdict.models``' zoo;
preprocessing included, so it is refitted inside every fold) and returns the best config per
family::

    from verdict.pipeline import search
    result = search(X_train, y_train, schema, metric="f1_macro", time_budget=60)
    model = result.best_pipeline().fit(X_train, y_train)

``train`` runs the whole thing end to end (split, checks, search, refit, evaluation) and
writes a run directory.
"""

from verdict import _lazy

_EXPORTS = {
    "_candidates": ("Candidate", "SearchResult", "Trial"),
    "_clip": ("BooleanEncoder", "CategoryText", "OutlierClipper"),
    "_policy": ("DecisionPolicy",),
    "_preprocess": ("build_preprocessor",),
    "_run": ("Run",),
    "_scoring": ("greater_is_better", "metric_scorer"),
    "_search": ("search",),
    "_train": ("train",),
    # The model zoo lives in verdict.models; its names stay importable from here as they were.
    "verdict.models": ("Family", "available_families", "model_families"),
}

__all__ = _lazy.exported(_EXPORTS)

__getattr__, __dir__ = _lazy.lazy_exports(__name__, _EXPORTS)
