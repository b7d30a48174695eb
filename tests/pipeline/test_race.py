"""Racing: an expensive config that falls behind the best on its first folds is stopped."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

from verdict.data import infer_schema
from verdict.pipeline import Family, _search, search
from verdict.pipeline._folds import Race, run_config
from verdict.pipeline._scoring import proba_score


def _table(n: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    y = np.array([f"c{i % 3}" for i in range(n)])
    codes = np.array([int(v[1:]) for v in y])
    X = pd.DataFrame({"a": rng.normal(codes, 1.0), "b": rng.normal(-codes, 1.5)})
    return X, y


BEST = (0.80, 0.82, 0.78, 0.81, 0.79)  # the best config's accuracy per fold
HONEST = (0.50, 0.52, 0.48, 0.51, 0.49)  # the best log loss per fold


def _race(higher: bool = True) -> Race:
    return Race(BEST if higher else HONEST, higher, 0.0, HONEST)


def test_a_config_behind_on_both_bars_is_dropped_with_its_figures():
    reason = _race().verdict([0.60], [0.90])
    assert reason is not None
    assert reason.startswith("dropped after 1 of 5 folds")
    assert "0.6000" in reason and "0.8000" in reason and "0.9000" in reason


def test_keeping_pace_on_either_bar_is_enough():
    race = _race()
    assert race.verdict([0.60], [0.50]) is None  # worse labels, honest probabilities
    assert race.verdict([0.80], [0.90]) is None  # as good on the primary metric
    assert race.verdict([0.79, 0.80], [0.9, 0.9]) is None  # within noise of the best


def test_the_margin_narrows_as_folds_accumulate():
    race = _race()
    # the fold spread is 0.016: 0.02 behind is inside two of it on one fold, and 0.04
    # behind is outside two standard errors of a mean over four
    assert race.verdict([0.78], [0.9]) is None
    assert race.verdict([0.76, 0.78, 0.74, 0.77], [0.9] * 4) is not None


def test_a_loss_as_primary_metric_is_raced_downwards():
    race = _race(higher=False)
    assert race.verdict([0.49], [0.49]) is None
    assert race.verdict([0.90], [0.90]) is not None


def test_a_finished_config_is_never_dropped():
    assert _race().verdict([0.1] * 5, [3.0] * 5) is None


class _Slow(ClassifierMixin, BaseEstimator):
    """Sleeps, then predicts the class frequencies: expensive and useless."""

    def __init__(self, seconds: float = 0.2) -> None:
        self.seconds = seconds

    fits = 0  # fits so far, in this process

    def fit(self, X, y):
        type(self).fits += 1
        time.sleep(self.seconds)
        self.classes_, counts = np.unique(y, return_counts=True)
        self.prior_ = counts / counts.sum()
        return self

    def predict_proba(self, X):
        return np.tile(self.prior_, (len(X), 1))

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def test_run_config_stops_a_config_behind_the_bars():
    X, y = _table(120)
    codes = np.searchsorted(np.unique(y), y)
    splits = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, codes))
    numeric = X[["a", "b"]]
    score = proba_score("accuracy", 3)
    good, good_oof = run_config(
        Pipeline([("model", LogisticRegression())]), "good", {}, numeric, codes, splits,
        score, None, n_classes=3, deadline=None,
    )  # fmt: skip
    race = Race(good.cv_scores, True, 0.0, good.tiebreak)
    before = _Slow.fits
    slow, slow_oof = run_config(
        Pipeline([("model", _Slow(0.05))]), "slow", {}, numeric, codes, splits, score, None,
        n_classes=3, deadline=None, race=race,
    )  # fmt: skip
    assert good_oof is not None and good.error is None
    assert slow_oof is None and slow.cv_scores == ()
    assert slow.error.startswith("dropped after 1 of 5 folds")
    assert _Slow.fits - before == 1  # the four other folds never ran


@pytest.fixture
def families(monkeypatch):
    # every config after the first races, whatever the machine's speed: the cost model's
    # prediction of "expensive" is not what these tests are about
    monkeypatch.setattr(_search, "RACE_SHARE", 0.0)
    fine = Family("fine", LogisticRegression(), {}, needs_scaling=True)
    slow = Family("slow", _Slow(0.2), {}, needs_scaling=False)
    return {"fine": fine, "slow": slow}


def test_the_timed_search_drops_a_hopeless_config(families):
    X, y = _table(120)
    schema = infer_schema(X.assign(y=y), "y")
    result = search(X, y, schema, families=families, metric="accuracy", time_budget=20.0)
    slow = [t for t in result.trials if t.family == "slow"]
    assert len(slow) == 1 and slow[0].error.startswith("dropped after 1 of")
    assert [c.family for c in result.candidates] == ["fine"]


def test_a_reproducible_search_finishes_every_config(families):
    X, y = _table(120)
    schema = infer_schema(X.assign(y=y), "y")
    result = search(
        X, y, schema, families=families, metric="accuracy", time_budget=20.0, max_configs=2
    )
    slow = [t for t in result.trials if t.family == "slow"]
    assert len(slow) == 1 and slow[0].error is None and len(slow[0].cv_scores) >= 5
