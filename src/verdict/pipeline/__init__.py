"""From a clean table to a selected model: preprocessing, the model zoo, the search, training.

The search cross-validates each family's pipeline (preprocessing included, so it is refitted
inside every fold) and returns the best config per family::

    from verdict.pipeline import search
    result = search(X_train, y_train, schema, metric="f1_macro", time_budget=60)
    model = result.best_pipeline().fit(X_train, y_train)

``train`` runs the whole thing end to end (split, checks, search, refit, evaluation) and
writes a run directory.
"""

from verdict import _lazy

__all__ = [
    "BooleanEncoder",
    "Candidate",
    "CategoryText",
    "DecisionPolicy",
    "Family",
    "OutlierClipper",
    "Run",
    "SearchResult",
    "Trial",
    "available_families",
    "build_preprocessor",
    "greater_is_better",
    "metric_scorer",
    "model_families",
    "search",
    "train",
]

_EXPORTS = {
    "_candidates": ("Candidate", "SearchResult", "Trial"),
    "_clip": ("BooleanEncoder", "CategoryText", "OutlierClipper"),
    "_families": ("Family", "available_families", "model_families"),
    "_policy": ("DecisionPolicy",),
    "_preprocess": ("build_preprocessor",),
    "_run": ("Run",),
    "_scoring": ("greater_is_better", "metric_scorer"),
    "_search": ("search",),
    "_train": ("train",),
}

__getattr__, __dir__ = _lazy.lazy_exports(__name__, _EXPORTS)
