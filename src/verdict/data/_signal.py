"""Do the features say anything about the target? Mutual information against shuffled labels.

Before minutes of training, a cheap question: how much does each feature tell about the
target (mutual information, scikit-learn's nearest-neighbour estimator for numbers, counts for
categories), and is the most informative one above what the same estimator finds when the
labels are shuffled (so that no feature can carry anything)? The estimator is biased upwards
on small samples, which is why the comparison is with shuffles, not with zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from verdict._results import Result

MAX_ROWS = 5_000  # rows sampled: the estimate needs no more to tell signal from none
SHUFFLES = 10


@dataclass(frozen=True)
class FeatureSignal(Result):
    """Mutual information (nats) per feature, the best one, and the shuffled labels' bar.

    ``little_signal`` is True when no feature's mutual information exceeds the largest any
    feature reached over ``SHUFFLES`` shuffles of the labels.
    """

    per_feature: dict[str, float]
    best_feature: str | None
    best: float
    shuffled_max: float
    little_signal: bool
    n_rows: int


def feature_signal(frame: pd.DataFrame, target: str, *, seed: int = 0) -> FeatureSignal:
    """Mutual information of every column of ``frame`` with ``target`` (rows with a label)."""
    from sklearn.feature_selection import mutual_info_classif

    labelled = frame[frame[target].notna()]
    if len(labelled) > MAX_ROWS:
        labelled = labelled.sample(MAX_ROWS, random_state=seed)
    features = [c for c in labelled.columns if c != target]
    X, discrete = _encoded(labelled[features])
    y = pd.factorize(labelled[target])[0]
    if not features or len(np.unique(y)) < 2:
        return FeatureSignal({}, None, 0.0, 0.0, True, len(labelled))
    rng = np.random.RandomState(seed)

    def scores(labels: np.ndarray) -> np.ndarray:
        return mutual_info_classif(
            X, labels, discrete_features=discrete, random_state=rng.randint(2**31 - 1)
        )

    observed = scores(y)
    shuffled = max(float(scores(rng.permutation(y)).max()) for _ in range(SHUFFLES))
    per_feature = {name: float(v) for name, v in zip(features, observed, strict=True)}
    best_feature = max(per_feature, key=per_feature.__getitem__)
    best = per_feature[best_feature]
    return FeatureSignal(
        dict(sorted(per_feature.items(), key=lambda kv: -kv[1])),
        best_feature,
        best,
        shuffled,
        best <= shuffled,
        len(labelled),
    )


def _encoded(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Numbers as they are (missing: the median), everything else as category codes."""
    columns: list[Any] = []
    discrete = []
    for name in frame.columns:
        values = frame[name]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            numbers = pd.to_numeric(values, errors="coerce").astype(float)
            median = numbers.median()
            columns.append(numbers.fillna(0.0 if np.isnan(median) else median).to_numpy())
            discrete.append(False)
        else:
            columns.append(pd.factorize(values.astype("string"))[0].astype(float))
            discrete.append(True)
    if not columns:
        return np.zeros((len(frame), 0)), np.zeros(0, dtype=bool)
    return np.column_stack(columns), np.asarray(discrete)
