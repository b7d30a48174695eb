"""The fast paths of a micro-batch give what the slow ones give: the pipeline's steps called
directly score to the bit as ``predict_proba``, and a batch with nothing to check gets what
``check_rows`` would give."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from palmerpenguins import load_penguins
from serving_support import records, trained_home
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import VotingClassifier
from sklearn.pipeline import Pipeline

from verdict.data import check_rows, check_table
from verdict.models import TemperatureScaled, model_families
from verdict.pipeline._candidates import make_pipeline
from verdict.serving._direct import direct_proba
from verdict.serving._runtime import native
from verdict.serving._work import Rows, _clean, _frame, score_batch


@pytest.fixture(scope="module", params=["penguins", "numeric"])
def loaded(request, tmp_path_factory):
    with trained_home(tmp_path_factory).registry() as registry:
        return registry.load(f"{request.param}@production")


def _checked(loaded, frame):
    return check_rows(frame, loaded.schema).frame


def test_direct_steps_score_as_the_pipeline(loaded):
    direct = direct_proba(loaded.model)
    assert direct is not None
    frame = load_penguins()
    odd = frame.copy()
    if "island" in odd:
        odd.loc[:20, "island"] = "Atlantis"  # unknown category
        odd.loc[10:30, "sex"] = None
    odd.loc[5:40, "bill_length_mm"] = np.nan
    odd.loc[50:60, "body_mass_g"] = 1e9  # far outside training
    for rows in (frame, odd, frame.head(1), odd.iloc[3:11]):
        x = _checked(loaded, rows)
        assert np.array_equal(direct(x), loaded.model.predict_proba(x))


def test_runtime_checks_the_direct_path_and_keeps_the_pipeline_classes(loaded):
    x = _checked(loaded, load_penguins())
    proba, labels = native(loaded, load_penguins().head(50)).predict(x)
    assert np.array_equal(proba, loaded.predict_proba(x))
    assert labels == loaded.predict(x).tolist()


def _a_pipeline(model):
    """The model, or its first member when it is an ensemble (possibly temperature-scaled)."""
    model = getattr(model, "estimator_", model)
    return model if isinstance(model, Pipeline) else model.estimators_[0]


def test_structures_it_does_not_reproduce_go_through_the_pipeline(loaded):
    pipeline = _a_pipeline(loaded.model)
    assert direct_proba(pipeline.steps[-1][1]) is None  # not a Pipeline
    pandas_out = Pipeline(pipeline.steps)
    pandas_out.steps[0][1].set_output(transform="pandas")
    try:
        assert direct_proba(pandas_out) is None
    finally:
        pandas_out.steps[0][1].set_output(transform="default")


def _batch(loaded, rows):
    features = loaded.schema.features
    columns = {f: [r.get(f) for r in rows] for f in features}
    return columns, _frame(columns, loaded)


def test_a_clean_batch_gets_what_check_rows_gives(loaded):
    good = records(40)
    good = [r for r in good if all(v is not None for v in r.values())]
    cases = [good, good[:1]]
    if "island" in loaded.schema.features:
        cases.append([{**good[0], "island": "Atlantis"}, {**good[1], "sex": " MALE "}, good[2]])
    for rows in cases:
        _, (frame, arrays) = _batch(loaded, rows)
        fast, slow = _clean(frame, arrays, loaded), check_rows(frame, loaded.schema)
        assert fast is not None
        pd.testing.assert_frame_equal(fast.frame, slow.frame, check_exact=True)
        assert fast.problems == slow.problems == ()
        assert fast.unknown_categories == slow.unknown_categories


@pytest.mark.parametrize(
    "change",
    [{"bill_length_mm": None}, {"bill_length_mm": float("inf")}, {"bill_length_mm": "3.5"},
     {"bill_length_mm": True}, {"island": 3}, {"island": None}, {"island": ["a"]}],
)  # fmt: skip
def test_a_batch_with_anything_to_check_goes_to_check_rows(loaded, change):
    if not set(change) <= set(loaded.schema.features):
        pytest.skip("not a feature of this model")
    row = {**records(1)[0], **change}
    _, (frame, arrays) = _batch(loaded, [records(1)[0], row])
    assert _clean(frame, arrays, loaded) is None


def test_score_batch_answers_as_before_for_mixed_batches(loaded):
    good = records(6)
    bad = {**good[0], "bill_length_mm": "abc"}
    batch = [Rows({f: [r.get(f) for r in rows] for f in loaded.schema.features}, len(rows))
             for rows in ([good[0]], good[1:4], [bad], good[4:])]  # fmt: skip
    together = score_batch(loaded, frozenset(), batch)
    alone = [score_batch(loaded, frozenset(), [rows])[0] for rows in batch]
    for a, b in zip(together, alone, strict=True):
        assert a.labels == b.labels and a.problems == b.problems
        # the batch's shape may move the last bits of a matrix product (as before): ~1e-19
        np.testing.assert_allclose(a.proba, b.proba, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_an_ensemble_with_a_temperature_scores_as_its_own_predict_proba(temperature):
    frame = load_penguins().dropna(subset=["species"])
    X, y = frame.drop(columns=["species"]), frame["species"]
    schema = check_table(frame, "species", warn=False).schema
    zoo = model_families(["softmax", "decision_tree"], n_classes=3, seed=0)
    members = [(n, make_pipeline(schema, zoo[n], {})) for n in ("softmax", "decision_tree")]
    prior = Pipeline([("preprocess", make_pipeline(schema, zoo["softmax"], {})[0]),
                      ("model", DummyClassifier())])  # fmt: skip
    model = VotingClassifier([*members, ("prior", prior)], voting="soft", weights=[3, 1, 1])
    model = TemperatureScaled(model, temperature) if temperature != 1.0 else model
    model.fit(X, y)
    direct = direct_proba(model)
    assert direct is not None
    odd = X.copy()
    odd.loc[:20, "island"] = "Atlantis"
    odd.loc[5:40, "bill_length_mm"] = np.nan
    for rows in (X, odd, X.head(1)):
        x = check_rows(rows, schema).frame
        assert np.array_equal(direct(x), model.predict_proba(x))
    hard = VotingClassifier(members, voting="hard").fit(X, y)
    assert direct_proba(hard) is None  # no probabilities to average
