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

from typing import Any

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
    "_policy": ("DecisionPolicy",),
    "_preprocess": ("build_preprocessor",),
    "_run": ("Run",),
    "_scoring": ("greater_is_better", "metric_scorer"),
    "_search": ("search",),
    "_train": ("train",),
}

# The model zoo lives in verdict.models; its names stay importable from here as they were.
_FROM_MODELS = ("Family", "available_families", "model_families")
_own_getattr, _own_dir = _lazy.lazy_exports(__name__, _EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _FROM_MODELS:
        from verdict import models

        value = globals()[name] = getattr(models, name)  # later lookups skip this hook
        return value
    return _own_getattr(name)


def __dir__() -> list[str]:
    return sorted({*_own_dir(), *_FROM_MODELS})
