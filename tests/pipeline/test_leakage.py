"""No test row reaches any fit: poisoning the test rows changes nothing that was learned.

The hold-out rows are replaced by absurd values (and, where the split allows it, shuffled
labels). If any of them reached the search, a refit, the baseline or the decision rule, the
cross-validation scores or the fitted model would move; they must stay identical to the last
digit. A spy on every ``fit`` also checks that no fitted frame ever holds a poisoned value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from train_support import fast_train, fixed_search, penguins  # noqa: F401 (fixture)

from verdict.data import check_table
from verdict.pipeline import _search
from verdict.pipeline._inputs import split

pytestmark = [
    pytest.mark.usefixtures("fixed_search"),
    # poisoned test rows can leave a class never predicted: its precision is then 0/0
    pytest.mark.filterwarnings("ignore::verdict.errors.UndefinedMetricWarning"),
]

POISON = 9.87654321e9
NUMERIC = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


def _test_rows(table: pd.DataFrame) -> pd.Index:
    """The rows train's own split (seed 0, test_size 0.2) holds out."""
    report = check_table(table, "species", warn=False)
    return split(report, table, None, test_size=0.2, seed=0).test_index


def _poison(table: pd.DataFrame, rows: pd.Index) -> pd.DataFrame:
    poisoned = table.copy()
    poisoned.loc[rows, NUMERIC] = POISON
    poisoned.loc[rows, "island"] = "POISON"
    return poisoned


def _learned(run) -> dict:
    """What training learned from its rows: CV results, the choice, and the fitted model."""
    candidates = [{**c, "fit_seconds": None} for c in run.info["candidates"]]
    keys = ("best", "runner_up", "primary_metric", "advice", "profile")
    decision = run.info["decision"] or {}
    rule = {k: v for k, v in decision.items() if not k.startswith("test_")}  # chosen, not scored
    return {"candidates": candidates, "decision": rule, **{k: run.info[k] for k in keys}}


def _assert_same_model(a, b, X: pd.DataFrame) -> None:
    assert _learned(a) == _learned(b)
    assert a.info["data"]["fingerprint"] == b.info["data"]["fingerprint"]
    np.testing.assert_array_equal(a.model.predict(X), b.model.predict(X))
    np.testing.assert_array_equal(a.model.predict_proba(X), b.model.predict_proba(X))


def test_poisoned_hold_out_rows_change_nothing_learned(tmp_path):
    table = penguins()
    rows = _test_rows(table)
    poisoned = _poison(table, rows)
    clean = fast_train(table, "species", tmp_path / "clean")
    dirty = fast_train(poisoned, "species", tmp_path / "dirty")
    assert clean.info["data"]["n_test"] == len(rows)
    _assert_same_model(clean, dirty, table.drop(index=rows))
    # the poison did reach the test set: the held-out predictions differ
    a = pd.read_parquet(clean.run_dir / "test_predictions.parquet")
    b = pd.read_parquet(dirty.run_dir / "test_predictions.parquet")
    assert not np.allclose(a.filter(like="proba_"), b.filter(like="proba_"))


def test_poisoned_test_data_with_shuffled_labels_changes_nothing_learned(tmp_path):
    table = penguins().dropna(subset=["species"])
    train_rows, test_rows = train_test_split(
        table, test_size=0.25, stratify=table["species"], random_state=1
    )
    poisoned = _poison(test_rows, test_rows.index)
    poisoned["species"] = np.random.default_rng(0).permutation(poisoned["species"].to_numpy())
    costs = [[0, 1, 1], [5, 0, 1], [1, 1, 0]]  # also exercises the decision rule's fit
    clean = fast_train(train_rows, "species", tmp_path / "clean", test_data=test_rows, costs=costs)
    dirty = fast_train(train_rows, "species", tmp_path / "dirty", test_data=poisoned, costs=costs)
    assert clean.info["decision"]["kind"] == "cost"
    assert clean.info["data"]["n_test"] == len(test_rows)
    _assert_same_model(clean, dirty, train_rows)
    assert clean.info["test"] != dirty.info["test"]


def test_no_fit_ever_sees_a_test_row(tmp_path, monkeypatch):
    table = penguins()
    rows = _test_rows(table)
    seen: list[tuple[str, int, bool]] = []

    def spy(cls):
        original = cls.fit

        def fit(self, X, y=None, **kwargs):
            poisoned = bool((pd.DataFrame(X)[NUMERIC] == POISON).any().any())
            seen.append((cls.__name__, len(X), poisoned))
            return original(self, X, y, **kwargs)

        monkeypatch.setattr(cls, "fit", fit)

    spy(Pipeline)  # every fold, refit and out-of-fold fit of a candidate pipeline
    spy(DummyClassifier)  # the baseline
    costs = [[0, 1, 1], [5, 0, 1], [1, 1, 0]]
    run = fast_train(_poison(table, rows), "species", tmp_path / "run", costs=costs)
    n_train = run.info["data"]["n_train"]
    assert {name for name, _, _ in seen} == {"Pipeline", "DummyClassifier"}
    # 4 configs x 5 folds (x repeats), one refit per member of the final model and one of the
    # runner-up; the cost rule reads the search's out-of-fold probabilities (no more fits)
    folds = 5 * _search.repeats(n_train)
    members = len(run.info["final"]["members"])
    assert sum(name == "Pipeline" for name, _, _ in seen) == 4 * folds + members + 1
    assert not any(poisoned for _, _, poisoned in seen)
    assert all(n <= n_train for _, n, _ in seen)
