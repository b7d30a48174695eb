"""The model zoo: every family fits through the pipeline; names are checked; spaces are valid."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from verdict.data import infer_schema
from verdict.errors import InvalidParameterError
from verdict.models import FAMILY_NAMES, LabelEncoded, available_families, model_families
from verdict.pipeline._candidates import make_pipeline
from verdict.pipeline._plan import draw


@pytest.fixture(scope="module")
def tiny():
    rng = np.random.default_rng(0)
    n = 60
    y = np.repeat(["adelie", "gentoo", "chinstrap"], n // 3)
    frame = pd.DataFrame(
        {
            "bill": rng.normal(40, 3, n) + (y == "gentoo") * 8,
            "mass": rng.normal(4000, 300, n),
            "island": rng.choice(["A", "B"], n),
            "y": y,
        }
    )
    frame.loc[3, "bill"] = np.nan
    return frame, infer_schema(frame, "y")


def test_default_zoo_is_ordered_cheapest_first_and_flags_scaling():
    zoo = model_families(n_classes=3, seed=0)
    assert list(zoo) == sorted(zoo, key=lambda n: zoo[n].cost)
    assert set(zoo) == set(available_families())
    assert {"softmax", "ovr_logistic", "decision_tree", "random_forest", "svm", "mlp"} <= set(zoo)
    assert "hist_gradient_boosting" in zoo
    for name, family in zoo.items():
        assert family.name == name and family.starts[0] == {}
        assert family.needs_scaling == (name in {"softmax", "ovr_logistic", "svm", "mlp"})


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", available_families())
def test_each_family_fits_on_a_tiny_table(tiny, name):
    frame, schema = tiny
    family = model_families([name], n_classes=3, seed=0)[name]
    X, y = frame.drop(columns="y"), frame["y"].to_numpy()
    with threadpool_limits(1):  # as the search fits: OpenMP on a busy machine is slow
        model = make_pipeline(schema, family, {}).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(model.predict(X)) <= {"adelie", "gentoo", "chinstrap"}
    assert (model.predict(X) == y).mean() > 0.5


@pytest.mark.parametrize("name", available_families())
def test_starts_and_random_draws_are_valid_configs(name):
    family = model_families([name], n_classes=3, seed=0)[name]
    rng = np.random.RandomState(0)
    for params in [*family.starts, *(draw(family.space, rng) for _ in range(5))]:
        estimator = family.make(params)  # set_params rejects unknown names
        assert estimator is not family.estimator
        for value in params.values():
            assert not hasattr(value, "rvs")  # a distribution was drawn, not passed on


def test_seed_reaches_randomised_estimators():
    zoo = model_families(["random_forest", "mlp"], n_classes=2, seed=7)
    assert zoo["random_forest"].estimator.random_state == 7
    assert zoo["mlp"].estimator.random_state == 7


def test_large_tables_get_a_linear_svm():
    small = model_families(["svm"], n_classes=2, seed=0, n_samples=500)["svm"]
    large = model_families(["svm"], n_classes=2, seed=0, n_samples=50_000)["svm"]
    assert type(small.estimator.estimator).__name__ == "SVC"
    assert type(large.estimator.estimator).__name__ == "LinearSVC"


def test_unknown_family_lists_the_available_ones():
    with pytest.raises(InvalidParameterError, match=r"available.*softmax.*To fix"):
        model_families(["softmax", "catboost"], n_classes=2, seed=0)
    with pytest.raises(InvalidParameterError):
        model_families([], n_classes=2, seed=0)


@pytest.mark.parametrize("name", ["lightgbm", "xgboost"])
def test_optional_families_need_their_package(name):
    if importlib.util.find_spec(name):
        assert name in model_families([name], n_classes=2, seed=0)
    else:
        assert name not in available_families() and name in FAMILY_NAMES
        with pytest.raises(InvalidParameterError, match=f"{name} is not installed"):
            model_families([name], n_classes=2, seed=0)


def test_label_encoded_keeps_string_labels():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array(["no", "no", "yes", "yes"])
    model = LabelEncoded(LogisticRegression()).fit(X, y)
    assert list(model.classes_) == ["no", "yes"]
    assert set(model.predict(X)) <= {"no", "yes"}
    assert model.predict_proba(X).shape == (4, 2)
