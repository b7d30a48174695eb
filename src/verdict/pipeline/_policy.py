"""The decision policy: how a model's probabilities become the class a user acts on.

Training chooses it (argmax; with costs a threshold or a cost-sensitive rule; without costs,
for a metric of labels such as macro-F1, per-class weights: all fitted on out-of-fold
probabilities); the registry stores it beside the model, and batch scoring and the
service apply it, so the class served is the class that was evaluated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from verdict._results import plain
from verdict.errors import InvalidInputError

KINDS = ("argmax", "threshold", "cost", "weights")
MAX_WEIGHT_RATIO = 1e6  # beyond it a weight no longer reweights, it silences a class


@dataclass(frozen=True, eq=False)
class DecisionPolicy:
    """A rule from a probability matrix (columns in ``classes`` order) to class labels.

    Attributes
    ----------
    kind : {'argmax', 'threshold', 'cost', 'weights'}
        ``argmax``: the most probable class. ``threshold`` (two classes): ``positive_class``
        when its probability is at least ``threshold``. ``cost``: the class of least expected
        cost under ``cost_matrix`` (entry [i][j]: cost of predicting j when the truth is i),
        plus the learned per-class ``offsets``. ``weights``: the class of greatest
        ``probability * weights`` (a rarer class weighted up is predicted more often; the
        probabilities themselves stay as they are).
    classes : tuple
        The labels, in the order of the probability columns.
    """

    kind: str
    classes: tuple[Any, ...]
    threshold: float | None = None
    positive_class: Any = None
    cost_matrix: tuple[tuple[float, ...], ...] | None = None
    offsets: tuple[float, ...] | None = None
    weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidInputError(
                f"Unknown decision policy kind {self.kind!r}. To fix: use one of {list(KINDS)}."
            )
        if self.kind == "threshold" and (
            len(self.classes) != 2 or self.threshold is None or self.positive_class is None
        ):
            raise InvalidInputError(
                "A threshold policy needs two classes, a threshold and the positive class. "
                "To fix: record all three (train with costs={'fp': x, 'fn': y} does)."
            )
        k = len(self.classes)
        if self.kind == "cost" and (
            self.cost_matrix is None or np.shape(self.cost_matrix) != (k, k)
        ):
            raise InvalidInputError(
                f"A cost policy needs a {k} x {k} cost matrix. To fix: record the matrix the "
                f"model was trained with."
            )

        if self.kind == "weights" and (
            self.weights is None
            or len(self.weights) != k
            or not all(np.isfinite(w) and w > 0 for w in self.weights)
            or max(self.weights) > MAX_WEIGHT_RATIO * min(self.weights)
        ):
            raise InvalidInputError(
                f"A weights policy needs {k} positive, finite weights, one per class, the "
                f"largest at most {MAX_WEIGHT_RATIO:g} times the smallest; got "
                f"{self.weights!r}. To fix: record the weights the model was trained with."
            )
        if self.kind != "weights" and self.weights is not None:
            raise InvalidInputError(
                f"A {self.kind} policy takes no weights; got {self.weights!r}. To fix: use "
                "kind 'weights', or drop the weights."
            )

    @classmethod
    def argmax(cls, classes: Sequence[Any]) -> DecisionPolicy:
        """The default policy: the most probable class."""
        return cls("argmax", tuple(plain(list(classes))))

    @classmethod
    def from_decision(cls, decision: Mapping[str, Any] | None, classes: Sequence[Any]) -> Any:
        """The policy recorded in run.json's ``decision`` (None: argmax)."""
        labels = tuple(plain(list(classes)))
        if decision is None:
            return cls.argmax(labels)
        if decision.get("kind") == "threshold":
            return cls(
                "threshold",
                labels,
                threshold=float(decision["threshold"]),
                positive_class=decision.get("positive_class", labels[-1]),
            )
        if decision.get("kind") == "weights":
            recorded = decision.get("classes")
            if recorded is not None and list(plain(list(recorded))) != list(labels):
                raise InvalidInputError(
                    f"The weights decision lists the classes {recorded!r}, but the run's are "
                    f"{list(labels)!r}: the weights would land on the wrong classes. To fix: "
                    "record the weights in the run's class order (data.classes)."
                )
            return cls("weights", labels, weights=_floats(decision.get("weights")))
        matrix = decision.get("cost_matrix")
        offsets = decision.get("offsets")
        return cls(
            "cost",
            labels,
            cost_matrix=None if matrix is None else tuple(tuple(map(float, r)) for r in matrix),
            offsets=None if offsets is None else tuple(map(float, offsets)),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DecisionPolicy:
        """Inverse of :meth:`to_dict`."""
        matrix = data.get("cost_matrix")
        offsets = data.get("offsets")
        return cls(
            data["kind"],
            tuple(data["classes"]),
            threshold=data.get("threshold"),
            positive_class=data.get("positive_class"),
            cost_matrix=None if matrix is None else tuple(tuple(map(float, r)) for r in matrix),
            offsets=None if offsets is None else tuple(map(float, offsets)),
            weights=_floats(data.get("weights")),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        return plain(
            {
                "kind": self.kind,
                "classes": list(self.classes),
                "threshold": self.threshold,
                "positive_class": self.positive_class,
                "cost_matrix": None if self.cost_matrix is None else list(self.cost_matrix),
                "offsets": None if self.offsets is None else list(self.offsets),
                "weights": None if self.weights is None else list(self.weights),
            }
        )

    def decide_index(self, proba: np.ndarray) -> np.ndarray:
        """The chosen column of each row of ``proba`` (shape (n, len(classes)))."""
        proba = np.asarray(proba, dtype=np.float64)
        if proba.ndim != 2 or proba.shape[1] != len(self.classes):
            raise InvalidInputError(
                f"The decision policy needs probabilities of shape (n, {len(self.classes)}); got "
                f"{proba.shape}. To fix: pass predict_proba's output in the policy's class order."
            )
        if self.kind == "argmax":
            return np.argmax(proba, axis=1)
        if self.kind == "threshold":
            positive = self.classes.index(self.positive_class)
            hit = proba[:, positive] >= float(self.threshold)  # type: ignore[arg-type]
            return np.where(hit, positive, 1 - positive)
        if self.kind == "weights":
            return np.argmax(proba * np.asarray(self.weights, dtype=np.float64), axis=1)
        risk = proba @ np.asarray(self.cost_matrix, dtype=np.float64)
        if self.offsets is not None:
            risk = risk + np.asarray(self.offsets, dtype=np.float64)
        return np.argmin(risk, axis=1)

    def probabilities(self, model: Any, X: Any) -> np.ndarray:
        """A fitted classifier's ``predict_proba(X)``, columns put in ``classes`` order
        (whatever the order of the model's ``classes_``)."""
        proba = np.asarray(model.predict_proba(X), dtype=np.float64)
        position = {c: i for i, c in enumerate(plain(list(model.classes_)))}
        return proba[:, [position[c] for c in self.classes]]

    def served(self, model: Any, X: Any) -> np.ndarray:
        """The class served for each row of ``X`` by a fitted classifier under this policy."""
        return self.decide(self.probabilities(model, X))

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """The chosen label of each row of ``proba``."""
        return np.asarray(self.classes, dtype=object)[self.decide_index(proba)]


def _floats(values: Any) -> tuple[float, ...] | None:
    """A recorded list of numbers as a tuple of floats (None stays None); anything else, such
    as a string (iterable, so "123" would read as three weights), booleans or a number too
    large for a float, is refused."""
    if values is None:
        return None
    fix = "To fix: record the weights the model was trained with, a list of numbers."
    if not isinstance(values, list | tuple) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    ):
        raise InvalidInputError(
            f"The decision policy's weights must be a list of numbers; got {values!r}. {fix}"
        )
    try:
        return tuple(float(v) for v in values)
    except OverflowError:
        raise InvalidInputError(
            f"The decision policy's weights hold a number too large for a float. {fix}"
        ) from None
