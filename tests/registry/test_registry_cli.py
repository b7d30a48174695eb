"""`verdict models | train --register | predict | export` as a user runs them.

The registry lives under VERDICT_HOME (a temporary folder), exactly where the default would
put it; bad input ends with one paragraph and exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime
import pandas as pd
import pytest
from palmerpenguins import load_penguins
from typer.testing import CliRunner

from verdict.cli import app
from verdict.errors import ArtifactIntegrityError
from verdict.registry import Registry

VERDICT = [sys.executable, "-m", "verdict.cli"]


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("VERDICT_HOME", str(path))
    for name in ("VERDICT_REGISTRY_URL", "VERDICT_ARTIFACT_STORE"):
        monkeypatch.delenv(name, raising=False)
    return path


def invoke(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result


@pytest.fixture
def registered(home, run_dirs) -> Registry:
    with Registry() as registry:
        registry.register(run_dirs["softmax"], "penguins", alias="production")
        registry.register(run_dirs["decision_tree"], "penguins")
        yield registry


def test_models_list_show_promote_rollback_delete(registered):
    listed = invoke("models", "list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert rows[0]["name"] == "penguins" and rows[0]["aliases"] == {"production": 1}
    versions = json.loads(invoke("models", "list", "penguins", "--json").output)
    assert [v["ref"] for v in versions] == ["penguins@v1", "penguins@v2"]
    assert versions[0]["low"] <= versions[0]["estimate"] <= versions[0]["high"]
    shown = invoke("models", "show", "penguins@production")
    assert shown.exit_code == 0 and "penguins@v1" in shown.output and "sha256" in shown.output
    assert "f1_macro" in shown.output and "history" in shown.output
    promoted = invoke("models", "promote", "penguins@v2", "--reason", "better")
    assert promoted.exit_code == 0 and "penguins@production -> v2" in promoted.output
    refused = invoke("models", "delete", "penguins@v2", "--yes")
    assert refused.exit_code == 2 and "alias production points at it" in refused.output
    assert invoke("models", "rollback", "penguins").exit_code == 0
    assert invoke("models", "delete", "penguins@v2", "--yes").exit_code == 0
    data = json.loads(invoke("models", "show", "penguins@production", "--json").output)
    kinds = [e["kind"] for e in data["events"]]
    assert kinds == ["registered", "alias", "registered", "alias", "rollback", "deleted"]
    assert data["events"][3]["payload"] == {"reason": "better"}


def test_models_errors_are_one_paragraph_with_exit_2(registered):
    for args, message in [
        (("models", "show", "ghost"), "No model named 'ghost'"),
        (("models", "show", "penguins@v9"), "has no version 9"),
        (("models", "delete", "penguins@production", "--yes"), "explicit version"),
        (("models", "promote", "penguins@v1", "--alias", "v3"), "looks like a version"),
        (("models", "rollback", "penguins", "--alias", "staging"), "no alias 'staging'"),
    ]:
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and "Traceback" not in result.output


def test_empty_registry_lists_nothing_helpfully(home):
    result = invoke("models", "list")
    assert result.exit_code == 0 and "none yet" in result.output


@pytest.mark.slow
def test_train_register_alias_in_a_real_process(home, tmp_path):
    table = tmp_path / "penguins.csv"
    load_penguins().to_csv(table, index=False)
    env = {**__import__("os").environ, "VERDICT_HOME": str(home)}
    done = subprocess.run(
        [*VERDICT, "train", str(table), "--target", "species", "--models", "softmax",
         "--time-budget", "5", "--cv", "3", "--quiet", "--out", str(tmp_path / "run"),
         "--register", "penguins", "--alias", "production"],
        capture_output=True, text=True, env=env, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "registered: penguins@v1 (production)" in done.stdout
    with Registry() as registry:
        assert registry.get("penguins@production").version == 1
    refused = subprocess.run(
        [*VERDICT, "train", str(table), "--target", "species", "--alias", "production"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 2 and "--alias needs --register" in refused.stderr


def test_predict_names_its_options_where_score_file_names_its_parameters(registered, tmp_path):
    source = tmp_path / "rows.parquet"
    load_penguins().to_parquet(source)
    out = tmp_path / "scored.csv"
    result = invoke("predict", "penguins", str(source), "-o", str(out), "--chunk-rows", "0")
    assert result.exit_code == 2, result.output
    assert "The --chunk-rows parameter" in result.output and "--chunk-rows 100000" in result.output
    assert "chunk_rows" not in result.output


def test_predict_scores_a_file_with_the_aliased_version(registered, tmp_path):
    frame = load_penguins()
    frame.insert(0, "penguin_id", np.arange(len(frame)))
    source = tmp_path / "rows.parquet"
    frame.to_parquet(source)
    out = tmp_path / "scored.csv"
    result = invoke("predict", "penguins@production", str(source), "-o", str(out), "--quiet",
                    "--id", "penguin_id", "--chunk-rows", "100")  # fmt: skip
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(out)
    loaded = registered.load("penguins@production")
    features = frame[list(loaded.schema.features)]
    assert scored["penguin_id"].tolist() == frame["penguin_id"].tolist()
    assert (scored["class"].to_numpy() == loaded.predict(features)).all()
    np.testing.assert_allclose(
        scored[[f"proba_{c}" for c in loaded.classes]].to_numpy(),
        loaded.predict_proba(features),
        rtol=1e-12,
    )
    assert set(scored["model_version"]) == {"penguins@v1"}


def test_export_onnx_matches_the_native_model(registered, tmp_path):
    out = tmp_path / "penguins.onnx"
    result = invoke("export", "penguins@production", "--format", "onnx", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "labels equal" in result.output
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert {o.name for o in session.get_outputs()} >= {"label", "probabilities"}
    bad = invoke("export", "penguins@production", "--format", "pmml")
    assert bad.exit_code == 2 and "--format onnx" in bad.output


def _flip_a_byte(registry: Registry, ref: str, artifact: str) -> Path:
    version = registry.get(ref)
    stored = Path(registry.store.location(version.artifacts[artifact]["sha256"]))
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0x01
    stored.write_bytes(bytes(data))
    return stored


def test_verify_hashes_the_stored_files_without_loading_them(registered):
    assert set(registered.verify("penguins@v1").values()) == {"ok"}
    assert registered.require_intact("penguins@v1").version == 1
    stored = _flip_a_byte(registered, "penguins@v1", "model.skops")
    states = registered.verify("penguins@v1")
    assert states.pop("model.skops") == "altered" and set(states.values()) == {"ok"}
    with pytest.raises(ArtifactIntegrityError) as caught:
        registered.require_intact("penguins@production")
    message = str(caught.value)
    assert "penguins@v1" in message and "model.skops is altered" in message
    assert str(stored) in message and "To fix:" in message
    stored.unlink()
    assert registered.verify("penguins@v1")["model.skops"] == "missing"


def test_models_show_says_whether_the_artifacts_are_intact(registered):
    shown = invoke("models", "show", "penguins@v1")
    assert shown.exit_code == 0 and "artifacts: ok" in shown.output
    data = json.loads(invoke("models", "show", "penguins@v1", "--json").output)
    assert data["integrity"]["intact"] is True
    assert set(data["integrity"]["artifacts"]) == set(data["artifacts"])
    _flip_a_byte(registered, "penguins@v1", "model.skops")
    shown = invoke("models", "show", "penguins@v1")
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())
    assert "artifacts: ALTERED" in text and "model.skops altered" in text and "To fix:" in text
    data = json.loads(invoke("models", "show", "penguins@v1", "--json").output)
    assert data["integrity"]["intact"] is False
    assert data["integrity"]["artifacts"]["model.skops"] == "altered"
    assert invoke("models", "show", "penguins@v2").output.count("ALTERED") == 0


def test_models_show_spells_out_the_decision_policy():
    from verdict.cli._models import policy_text
    from verdict.pipeline import DecisionPolicy

    classes = ("Adelie", "Chinstrap", "Gentoo")
    weights = DecisionPolicy("weights", classes, weights=(1.0, 0.55, 0.8)).to_dict()
    assert policy_text(weights) == (
        "weights: the class of greatest probability x weight (Adelie 1.00, Chinstrap 0.55, "
        "Gentoo 0.80)"
    )
    threshold = DecisionPolicy("threshold", ("no", "yes"), threshold=0.3, positive_class="yes")
    said = policy_text(threshold.to_dict())
    assert said == "threshold: yes when its probability is at least 0.300"
    cost = DecisionPolicy(
        "cost", classes, cost_matrix=((0, 1, 2), (1, 0, 1), (2, 1, 0)), offsets=(0.1, 0, 0)
    )
    assert "with per-class offsets" in policy_text(cost.to_dict())
    assert policy_text(DecisionPolicy.argmax(classes).to_dict()).startswith("argmax")
