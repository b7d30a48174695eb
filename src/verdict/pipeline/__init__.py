"""From a clean table to a selected model: preprocessing, the model zoo, the search, training.

The search cross-validates each family's pipeline (preprocessing included, so it is refitted
inside every fold) and returns the best config per family::

    from verdict.pipeline import search
    result = search(X_train, y_train, schema, metric="f1_macro", time_budget=60)
    model = result.best_pipeline().fit(X_train, y_train)

``train`` runs the whole thing end to end (split, checks, search, refit, evaluation) and
writes a run directory.
"""

from verdict.pipeline._candidates import Candidate, SearchResult, Trial
from verdict.pipeline._clip import BooleanEncoder, CategoryText, OutlierClipper
from verdict.pipeline._families import Family, available_families, model_families
from verdict.pipeline._policy import DecisionPolicy
from verdict.pipeline._preprocess import build_preprocessor
from verdict.pipeline._run import Run
from verdict.pipeline._scoring import greater_is_better, metric_scorer
from verdict.pipeline._search import search
from verdict.pipeline._train import train

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
