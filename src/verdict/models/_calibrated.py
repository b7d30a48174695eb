"""Temperature scaling: a fitted classifier's probabilities made less (or more) sure of themselves.

The search learns the temperature on out-of-fold probabilities of the training rows (see
``verdict.pipeline``), so it is a parameter here, not something fitted on the rows the model is
refitted on: probabilities of rows a model was fitted on are over-confident and would teach
the wrong temperature. Dividing the log-probabilities by one number keeps every row's ranking
of the classes, so the predicted labels (and accuracy, F1 ...) are exactly the estimator's;
only how sure the probabilities are changes, which is what log loss and the Brier score read.
"""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from verdict._params import Interval, check

_FLOOR = 1e-15  # log(0) guard: a probability of exactly 0 stays (almost) 0 after scaling


def scale_probabilities(proba: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log(proba) / temperature)`` row by row (temperature 1 returns ``proba``)."""
    proba = np.asarray(proba, dtype=np.float64)
    if temperature == 1.0:
        return proba
    logits = np.log(np.clip(proba, _FLOOR, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    out = np.exp(logits)
    out /= out.sum(axis=1, keepdims=True)
    return out


class TemperatureScaled(ClassifierMixin, BaseEstimator):
    """``estimator`` whose probabilities are ``softmax(log p / temperature)``.

    Parameters
    ----------
    estimator : classifier
        Fitted on ``fit``'s rows as it is.
    temperature : float, default=1.0
        Above 1 softens over-confident probabilities, below 1 sharpens timid ones; learned by
        the search on out-of-fold probabilities.
    """

    def __init__(self, estimator: Any, temperature: float = 1.0) -> None:
        self.estimator = estimator
        self.temperature = temperature

    def fit(self, X: Any, y: Any, **fit_params: Any) -> TemperatureScaled:
        """Fit a clone of the estimator; the temperature is taken as given."""
        positive = Interval(Real, 0, None, closed="neither")
        check("temperature", self.temperature, "TemperatureScaled", positive, fix="pass e.g. 1.5")
        self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """The estimator's probabilities, scaled."""
        return scale_probabilities(self.estimator_.predict_proba(X), float(self.temperature))

    def predict(self, X: Any) -> np.ndarray:
        """The estimator's own labels (scaling never changes which class is most probable)."""
        return np.asarray(self.classes_)[np.argmax(self.predict_proba(X), axis=1)]


TemperatureScaled.__module__ = "verdict.models"  # artifacts name the public path
