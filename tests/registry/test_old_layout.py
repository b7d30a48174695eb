"""Models registered before classes carried their public paths still load and predict the same.

``fixtures/layout_v0`` is a registry home written once by verdict at commit fe7a810, whose
artifacts name private module paths (``verdict.pipeline._clip.OutlierClipper``,
``verdict.pipeline._families.LabelEncoded`` ...); ``expected.json`` holds rows and what that
old code predicted for them. Artifacts written now name only public paths.
"""

from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io

from verdict.registry import TRUSTED_TYPES, Registry

FIXTURE = Path(__file__).parent / "fixtures" / "layout_v0"
EXPECTED = json.loads((FIXTURE / "expected.json").read_text(encoding="utf-8"))


def verdict_types(data: bytes) -> list[str]:
    """The verdict classes a skops artifact names."""
    return sorted(t for t in skops.io.get_untrusted_types(data=data) if t.startswith("verdict."))


def private(name: str) -> bool:
    return any(part.startswith("_") for part in name.split("."))


@pytest.fixture
def old_registry(tmp_path) -> Registry:
    home = tmp_path / "home"
    shutil.copytree(FIXTURE, home)
    with Registry(home=home) as registry:
        yield registry


@pytest.mark.parametrize("name", sorted(EXPECTED["models"]))
def test_a_model_registered_by_the_old_layout_loads_and_predicts_the_same(old_registry, name):
    saved = EXPECTED["models"][name]
    stored = old_registry.artifact(saved["ref"], "model.skops")
    assert verdict_types(stored) == saved["verdict_types"]
    assert all(private(t) for t in saved["verdict_types"]), "the fixture must be the old layout"
    old_registry.verify(saved["ref"])

    model = old_registry.load(saved["ref"])
    rows = pd.DataFrame(EXPECTED["rows"])
    assert [str(c) for c in model.classes] == saved["classes"]
    assert [str(p) for p in model.predict(rows)] == saved["predictions"]
    np.testing.assert_allclose(model.predict_proba(rows), saved["probabilities"], rtol=0, atol=1e-9)


def test_the_old_artifacts_name_every_class_that_moved():
    named = {t for m in EXPECTED["models"].values() for t in m["verdict_types"]}
    assert "verdict.pipeline._families.LabelEncoded" in named
    assert "verdict.pipeline._clip.OutlierClipper" in named
    assert "verdict.data._datetimes.DatetimeExpander" in named


def test_an_old_model_saved_again_names_only_public_paths(old_registry):
    from verdict.registry._trust import load_model

    model = old_registry.load("penguins_labelled@production")
    data = skops.io.dumps(model.model)
    names = verdict_types(data)
    assert names and not [t for t in names if private(t)], names
    assert {"verdict.models.LabelEncoded", "verdict.pipeline.OutlierClipper"} <= set(names)
    rows = pd.DataFrame(EXPECTED["rows"])
    again = load_model(data).predict_proba(rows)
    np.testing.assert_allclose(again, model.model.predict_proba(rows), rtol=0, atol=1e-12)


def test_a_model_registered_now_names_only_public_paths(run_dir, tmp_path):
    with Registry(home=tmp_path / "home") as registry:
        version = registry.register(run_dir, "fresh")
        names = verdict_types(registry.artifact(version, "model.skops"))
    assert "verdict.models.SoftmaxRegression" in names
    assert not [t for t in names if private(t)], names


@pytest.mark.parametrize("name", sorted(t for t in TRUSTED_TYPES if t.startswith("verdict.")))
def test_every_trusted_verdict_name_resolves(name):
    module, _, attr = name.rpartition(".")
    cls = getattr(importlib.import_module(module), attr)
    public = f"{cls.__module__}.{cls.__qualname__}"
    assert not private(public) and public in TRUSTED_TYPES
