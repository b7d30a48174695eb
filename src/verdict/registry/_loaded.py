"""A model version loaded from the registry, verified and ready to score.

This is what batch scoring, the service and monitoring receive: the fitted pipeline together
with everything needed to use it correctly (the schema new rows are checked against, the class
order, the decision policy) and to know which version answered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: listing models must not import numpy or scikit-learn
    import numpy as np
    import pandas as pd
    from sklearn.pipeline import Pipeline

    from verdict.data import Schema
    from verdict.pipeline import DecisionPolicy


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A verified model version.

    Attributes
    ----------
    name : str
        The registered model's name.
    version : int
        Its immutable version number.
    model : sklearn.pipeline.Pipeline
        The fitted pipeline; takes the schema's feature columns as a DataFrame.
    schema : Schema
        The training table's columns: what incoming rows are checked against.
    policy : DecisionPolicy
        How probabilities become the served class.
    info : dict
        The version's metadata (metrics with intervals, lineage, primary metric ...).
    """

    name: str
    version: int
    model: Pipeline
    schema: Schema
    policy: DecisionPolicy
    info: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def classes(self) -> tuple[Any, ...]:
        """The labels, in the order of :meth:`predict_proba`'s columns."""
        return self.policy.classes

    @property
    def ref(self) -> str:
        """``name@vN``: names exactly this version."""
        return f"{self.name}@v{self.version}"

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Probabilities with columns in :attr:`classes` order (whatever the estimator's)."""
        return self.policy.probabilities(self.model, X)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """The served class of each row: the decision policy applied to the probabilities."""
        return self.policy.decide(self.predict_proba(X))
