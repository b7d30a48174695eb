"""How sure the final model should be: a temperature learned on out-of-fold probabilities.

The search's out-of-fold probabilities are predictions of rows no fit saw, so they show how
over- or under-confident the chosen model is. One temperature (see
``verdict.models.TemperatureScaled``) is fitted to them by maximum likelihood, and kept only if
it also lowers the log loss of rows it was not fitted on (5-fold cross-validation over the
out-of-fold rows): a temperature that only fits its own rows is noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from sklearn.model_selection import StratifiedKFold

from verdict._results import Result
from verdict.models import scale_probabilities

_LOG_T_BOUNDS = (-3.0, 4.0)  # temperatures from 0.05 to 55
_FOLDS = 5


@dataclass(frozen=True)
class Calibration(Result):
    """The chosen temperature and the cross-validated log loss with and without it.

    ``method`` is 'temperature' when scaling lowered the cross-validated log loss, else
    'none' (temperature 1).
    """

    method: str
    temperature: float
    cv_log_loss_before: float
    cv_log_loss_after: float


def log_loss_of(proba: np.ndarray, y_index: np.ndarray) -> float:
    """Mean negative log-probability of the true class (rows of ``proba``; 1e-15 floor)."""
    picked = proba[np.arange(len(y_index)), y_index]
    return float(-np.mean(np.log(np.clip(picked, 1e-15, 1.0))))


def fit_temperature(proba: np.ndarray, y_index: np.ndarray) -> float:
    """The temperature that minimises the log loss of ``proba`` on these rows."""

    def loss(log_t: float) -> float:
        return log_loss_of(scale_probabilities(proba, math.exp(log_t)), y_index)

    found = minimize_scalar(loss, bounds=_LOG_T_BOUNDS, method="bounded", options={"xatol": 1e-3})
    return float(math.exp(found.x))


def choose_calibration(oof: np.ndarray, y_index: np.ndarray, seed: int) -> Calibration:
    """Temperature scaling of ``oof`` (shape (repeats, n, k)) when it helps on held-out rows."""
    proba = oof.reshape(-1, oof.shape[-1])
    labels = np.tile(y_index, oof.shape[0])
    smallest = int(np.bincount(labels)[np.unique(labels)].min())
    folds = StratifiedKFold(max(2, min(_FOLDS, smallest)), shuffle=True, random_state=seed)
    before, after = [], []
    for fit_rows, test_rows in folds.split(proba, labels):
        temperature = fit_temperature(proba[fit_rows], labels[fit_rows])
        before.append(log_loss_of(proba[test_rows], labels[test_rows]))
        scaled = scale_probabilities(proba[test_rows], temperature)
        after.append(log_loss_of(scaled, labels[test_rows]))
    cv_before, cv_after = float(np.mean(before)), float(np.mean(after))
    if cv_after < cv_before:
        return Calibration("temperature", fit_temperature(proba, labels), cv_before, cv_after)
    return Calibration("none", 1.0, cv_before, cv_before)


def calibration_effect(
    model: Any, X: pd.DataFrame, y: np.ndarray, classes: list[Any]
) -> dict[str, float] | None:
    """Held-out log loss and expected calibration error with and without the temperature
    (None when the model has none): the reliability the temperature bought, on rows that
    neither the search nor the temperature saw."""
    from sklearn.pipeline import Pipeline

    from verdict.metrics import expected_calibration_error, log_loss
    from verdict.models import TemperatureScaled

    if isinstance(model, TemperatureScaled):
        before = model.estimator_.predict_proba(X)
    elif isinstance(model, Pipeline) and isinstance(model[-1], TemperatureScaled):
        before = model[-1].estimator_.predict_proba(model[:-1].transform(X))
    else:
        return None
    after = model.predict_proba(X)
    labels = list(classes)
    return {
        "temperature": float(
            model.temperature if isinstance(model, TemperatureScaled) else model[-1].temperature
        ),
        "log_loss_before": float(log_loss(y, before, labels=labels)),
        "log_loss_after": float(log_loss(y, after, labels=labels)),
        "ece_before": float(expected_calibration_error(y, before, labels=labels)),
        "ece_after": float(expected_calibration_error(y, after, labels=labels)),
    }
