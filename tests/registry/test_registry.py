"""The registry: versions, aliases, lineage, verified artifacts; SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import shutil

import numpy as np
import pandas as pd
import pytest
import skops.io
from palmerpenguins import load_penguins
from sqlalchemy import create_engine, text

from verdict.data import Schema
from verdict.errors import (
    ArtifactIntegrityError,
    InvalidInputError,
    NoSignalError,
    NotFoundError,
    RegistryError,
)
from verdict.pipeline import DecisionPolicy
from verdict.registry import Registry, parse_ref
from verdict.registry._store import sha256

FEATURES_FRAME = load_penguins()


def _features(schema: Schema) -> pd.DataFrame:
    return FEATURES_FRAME[list(schema.features)]


def _run_model(run_dir):
    path = run_dir / "model.skops"
    return skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))


@pytest.mark.parametrize(
    "family",
    [
        "softmax",
        "ovr_logistic",
        "decision_tree",
        "random_forest",
        "svm",
        "mlp",
        "hist_gradient_boosting",
    ],
)
def test_every_family_round_trips_with_identical_predictions(registry, run_dirs, family):
    run_dir = run_dirs[family]
    version = registry.register(run_dir, "penguins")
    loaded = registry.load(version.ref)
    native = _run_model(run_dir)
    X = _features(loaded.schema)
    best = json.loads((run_dir / "run.json").read_text())["best"]  # the family, or an ensemble
    assert loaded.info["family"] == best == version.family
    assert best in (family, "ensemble")
    np.testing.assert_array_equal(loaded.model.predict(X), native.predict(X))
    np.testing.assert_array_equal(loaded.model.predict_proba(X), native.predict_proba(X))
    run = json.loads((run_dir / "run.json").read_text())
    assert loaded.schema == Schema.from_dict(run["schema"])
    assert list(loaded.classes) == run["data"]["classes"]
    # the run's own decision: argmax, or weights tuned for macro-F1 on this run's folds
    recorded = DecisionPolicy.from_decision(run["decision"], run["data"]["classes"])
    assert loaded.policy.kind in ("argmax", "weights")
    assert loaded.policy.to_dict() == recorded.to_dict()


def test_a_version_keeps_everything_monitoring_and_audits_need(registry, run_dir):
    version = registry.register(run_dir, "penguins", description="first")
    run = json.loads((run_dir / "run.json").read_text())
    assert version.ref == "penguins@v1" and version.description == "first"
    assert {
        "model.skops", "run.json", "test_predictions.parquet", "reference.parquet",
        "test_rows.parquet", "report.html", "model_card.md", "metrics.json",
    } <= set(version.artifacts)  # fmt: skip
    for name, entry in version.artifacts.items():
        data = (run_dir / name).read_bytes()
        assert entry == {"sha256": sha256(data), "bytes": len(data)}
        assert registry.artifact(version, name) == data
    assert version.fingerprint == run["data"]["fingerprint"]
    assert version.summary["lineage"] == run["lineage"]
    assert version.summary["schema"]["sensitive"] == run["schema"]["sensitive"]
    primary = version.metric()
    assert primary["metric"] == run["primary_metric"] == version.primary_metric
    assert primary["low"] <= primary["estimate"] <= primary["high"]
    reference = registry.frame(version)
    assert len(reference) == run["data"]["n_train"]
    assert set(reference.columns) == set(run["schema"]["columns"][i]["name"] for i in range(7)) | {
        "species"
    }
    holdout = registry.frame(version, "test_rows.parquet")
    assert len(holdout) == run["data"]["n_test"]


def test_decision_policy_is_stored_and_applied(registry, threshold_run_dir):
    version = registry.register(threshold_run_dir, "cancer")
    loaded = registry.load(version.ref)
    run = json.loads((threshold_run_dir / "run.json").read_text())
    policy = loaded.policy
    assert policy.kind == "threshold"
    assert policy.threshold == pytest.approx(run["decision"]["threshold"])
    X = registry.frame(version, "test_rows.parquet").drop(columns="target")
    proba = loaded.predict_proba(X)
    expected = np.where(proba[:, 1] >= policy.threshold, 1, 0)
    np.testing.assert_array_equal(loaded.predict(X).astype(int), expected)
    assert DecisionPolicy.from_dict(policy.to_dict()).to_dict() == policy.to_dict()


def test_versions_are_immutable_and_numbered_in_order(registry, run_dirs):
    first = registry.register(run_dirs["softmax"], "penguins")
    second = registry.register(run_dirs["decision_tree"], "penguins")
    other = registry.register(run_dirs["softmax"], "other")
    assert (first.version, second.version, other.version) == (1, 2, 1)
    assert [v.version for v in registry.versions("penguins")] == [1, 2]
    assert registry.get("penguins@latest").version == 2
    # the run's final model: softmax configs, alone or averaged (a timed search may blend them)
    best = json.loads((run_dirs["softmax"] / "run.json").read_text())["best"]
    assert registry.get("penguins@1").family == best and best in ("softmax", "ensemble")
    summaries = {m.name: m for m in registry.models()}
    assert summaries["penguins"].n_versions == 2 and summaries["penguins"].latest == 2
    # identical bytes are stored once: v1 and other@v1 share every artifact
    assert first.artifacts == other.artifacts


def test_aliases_move_and_roll_back_as_a_stack(registry, run_dirs):
    for family in ("softmax", "decision_tree", "random_forest"):
        registry.register(run_dirs[family], "penguins")
    registry.promote("penguins@v1")
    registry.promote("penguins@v2")
    registry.promote("penguins@v3")
    assert registry.get("penguins").version == 3  # a bare name means @production
    assert registry.rollback("penguins").version == 2
    assert registry.rollback("penguins").version == 1
    with pytest.raises(RegistryError, match="no earlier version to roll back to"):
        registry.rollback("penguins")
    assert registry.get("penguins@production").version == 1
    registry.set_alias("penguins", "staging", 3, reason="canary")
    assert registry.get("penguins@staging").aliases == ("staging",)
    kinds = [e.kind for e in registry.events("penguins")]
    assert kinds.count("registered") == 3 and kinds.count("rollback") == 2
    registry.remove_alias("penguins", "staging")
    with pytest.raises(NotFoundError, match="no alias 'staging'"):
        registry.get("penguins@staging")


def test_a_failed_alias_move_changes_nothing(registry, run_dir):
    registry.register(run_dir, "penguins", alias="production")
    before = registry.events("penguins")
    with pytest.raises(NotFoundError, match="no version 7"):
        registry.set_alias("penguins", "production", 7)
    assert registry.get("penguins@production").version == 1
    assert registry.events("penguins") == before


def test_delete_refuses_an_aliased_version_and_keeps_shared_artifacts(registry, run_dirs):
    registry.register(run_dirs["softmax"], "penguins", alias="production")
    registry.register(run_dirs["softmax"], "penguins")  # same bytes as v1
    gone = registry.register(run_dirs["decision_tree"], "penguins")
    with pytest.raises(RegistryError, match="alias production points at it"):
        registry.delete("penguins", 1)
    registry.delete("penguins", 2)
    assert registry.load("penguins@production").version == 1  # shared artifacts survive
    model_sha = gone.artifacts["model.skops"]["sha256"]
    assert registry.store.exists(model_sha)
    registry.delete("penguins", 3)
    assert not registry.store.exists(model_sha)
    assert [v.version for v in registry.versions("penguins")] == [1]
    with pytest.raises(NotFoundError, match="no version 3"):
        registry.delete("penguins", 3)
    # a deleted number is never reused, so an old reference can never name another model
    assert registry.register(run_dirs["softmax"], "penguins").version == 4


def _store_file(registry: Registry, digest: str):
    root = registry.store.url
    return next(p for p in __import__("pathlib").Path(root).rglob(digest))


def test_a_tampered_artifact_is_refused(registry, run_dir):
    version = registry.register(run_dir, "penguins", alias="production")
    path = _store_file(registry, version.artifacts["model.skops"]["sha256"])
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of one byte
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactIntegrityError, match="was altered"):
        registry.load("penguins@production")
    report = _store_file(registry, version.artifacts["report.html"]["sha256"])
    report.write_bytes(report.read_bytes() + b" ")
    with pytest.raises(
        ArtifactIntegrityError, match=r"report.html of penguins@v1 in .* was altered"
    ):
        registry.artifact("penguins@v1", "report.html")


def _swap_model(registry: Registry, name: str, data: bytes) -> None:
    """What an attacker with database access would do: point a version at other bytes."""
    digest = registry.store.put(data)
    engine = create_engine(registry.url)
    with engine.begin() as connection:
        row = connection.execute(text("SELECT id, artifacts FROM versions")).first()
        artifacts = row.artifacts if isinstance(row.artifacts, dict) else json.loads(row.artifacts)
        artifacts["model.skops"] = {"sha256": digest, "bytes": len(data)}
        connection.execute(
            text("UPDATE versions SET artifacts = :a WHERE id = :i"),
            {"a": json.dumps(artifacts), "i": row.id},
        )
    engine.dispose()


def test_an_artifact_with_an_unexpected_type_is_refused(registry, run_dir, tmp_path):
    from sklearn.preprocessing import FunctionTransformer

    registry.register(run_dir, "penguins", alias="production")
    evil = skops.io.dumps(FunctionTransformer(func=shutil.rmtree))
    _swap_model(registry, "penguins", bytes(evil))
    with pytest.raises(ArtifactIntegrityError, match=r"types verdict does not trust.*shutil"):
        registry.load("penguins@production")
    # and a run directory holding such a model is refused at registration, storing nothing
    bad_run = tmp_path / "bad_run"
    shutil.copytree(run_dir, bad_run)
    (bad_run / "model.skops").write_bytes(evil)
    with pytest.raises(ArtifactIntegrityError, match="does not trust"):
        registry.register(bad_run, "evil")
    assert [m.name for m in registry.models()] == ["penguins"]


def test_garbage_model_bytes_are_refused_clearly(registry, run_dir):
    registry.register(run_dir, "penguins", alias="production")
    _swap_model(registry, "penguins", b"not a zip file at all")
    with pytest.raises(ArtifactIntegrityError, match="not a readable skops file"):
        registry.load("penguins@production")


def test_clear_errors_for_bad_names_refs_and_runs(registry, tmp_path, run_dir):
    with pytest.raises(InvalidInputError, match="model name 'bad name'"):
        registry.register(run_dir, "bad name")
    with pytest.raises(InvalidInputError, match="looks like a version number"):
        registry.register(run_dir, "penguins", alias="v2")
    with pytest.raises(InvalidInputError, match="not a run directory"):
        registry.register(tmp_path, "penguins")
    old = tmp_path / "old"
    shutil.copytree(run_dir, old)
    (old / "reference.parquet").unlink()
    with pytest.raises(InvalidInputError, match=r"lacks \['reference.parquet'\]"):
        registry.register(old, "penguins")
    with pytest.raises(NotFoundError, match="No model named 'ghost'"):
        registry.load("ghost@production")
    with pytest.raises(InvalidInputError, match="Version numbers start at 1"):
        parse_ref("penguins@v0")
    assert str(parse_ref("penguins")) == "penguins@production"
    assert parse_ref("penguins@v12").version == 12
    assert registry.models() == []  # nothing was stored by the failures


def test_reopening_keeps_everything_and_the_schema_matches_the_migrations(
    registry_url, run_dir, tmp_path
):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from verdict.registry._tables import Base

    with Registry(registry_url, tmp_path / "a") as first:
        first.register(run_dir, "penguins", alias="production")
    with Registry(registry_url, tmp_path / "a") as again:
        assert again.get("penguins@production").version == 1
    engine = create_engine(registry_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert context.get_current_revision() == "0001"
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_an_fsspec_store_works_like_a_folder(registry_url, run_dir):
    with Registry(registry_url, "memory://verdict-test-store") as registry:
        version = registry.register(run_dir, "penguins", alias="production")
        loaded = registry.load("penguins@production")
        assert loaded.version == version.version
        frame = pd.read_parquet(io.BytesIO(registry.artifact(version, "reference.parquet")))
        assert len(frame) > 0


def test_registry_settings_come_from_the_environment(monkeypatch, tmp_path, run_dir):
    monkeypatch.setenv("VERDICT_HOME", str(tmp_path / "home"))
    with Registry() as registry:
        registry.register(run_dir, "penguins")
        assert registry.url == f"sqlite:///{tmp_path / 'home' / 'registry.db'}"
    assert (tmp_path / "home" / "artifacts" / "sha256").is_dir()
    monkeypatch.setenv("VERDICT_REGISTRY_URL", "nonsense://")
    from verdict.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="registry URL"):
        Registry()


def test_a_run_with_no_signal_is_registered_only_when_forced(registry, run_dir, tmp_path):
    # the same run, as `train` writes it when nothing beats guessing the class frequencies
    no_signal = tmp_path / "no_signal"
    shutil.copytree(run_dir, no_signal)
    info = json.loads((no_signal / "run.json").read_text())
    info["signal"] = {"found": False, "message": "no model here beats guessing: do not deploy"}
    (no_signal / "run.json").write_text(json.dumps(info))
    with pytest.raises(NoSignalError, match=r"not registered: no model here.*force=True"):
        registry.register(no_signal, "noise", alias="production")
    assert registry.models() == []  # nothing written: no model, version or alias
    version = registry.register(no_signal, "noise", alias="production", force=True)
    assert version.ref == "noise@v1" and "production" in version.aliases
