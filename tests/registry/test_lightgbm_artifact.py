"""LightGBM is a dependency and the search's second family: its models must register and load.

LightGBM keeps its best scores in an ``OrderedDict``; the trust list once lacked it, and every
run whose final model held a LightGBM member was refused at ``--register``.
"""

from __future__ import annotations

import warnings

import numpy as np
from palmerpenguins import load_penguins

from verdict.pipeline import train
from verdict.registry import Registry


def test_a_lightgbm_model_registers_and_loads_with_identical_probabilities(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = train(
            load_penguins(), "species", models=["lightgbm"], out=tmp_path / "run", quiet=True,
            max_configs=2,
        )  # fmt: skip
    with Registry(home=tmp_path / "home") as registry:
        version = registry.register(run, "penguins")
        loaded = registry.load(version.ref)
    X = load_penguins().drop(columns=["species"])
    assert np.array_equal(loaded.model.predict_proba(X), run.model.predict_proba(X))
