"""`verdict keys create|list|revoke`: the token printed once, never listed, revocation seen."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from verdict.cli._keys import keys_app
from verdict.state import KeyStore, open_state


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("VERDICT_STATE_URL", raising=False)
    monkeypatch.setenv("VERDICT_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def invoke(*args: str) -> object:
    return CliRunner().invoke(keys_app, list(args))


def test_create_prints_the_token_once_with_a_warning(home: Path) -> None:
    result = invoke("create", "billing")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("vdk_")
    assert "not be shown again" in result.stderr
    engine = open_state(f"sqlite:///{home / 'service.db'}")  # the settings' default location
    try:
        assert KeyStore(engine).check(token).status == "valid"
    finally:
        engine.dispose()
    listed = invoke("list")
    assert listed.exit_code == 0 and "billing" in listed.stdout and "active" in listed.stdout
    secret = token.split("_", 2)[2]
    assert secret not in listed.stdout and secret not in invoke("list", "--json").stdout


def test_json_create_list_revoke(home: Path) -> None:
    created = json.loads(invoke("create", "svc", "--json").stdout)
    assert set(created) == {"key_id", "name", "created", "token"}
    listed = json.loads(invoke("list", "--json").stdout)
    assert listed == [{**{k: created[k] for k in ("key_id", "name", "created")}, "revoked": None}]
    revoked = json.loads(invoke("revoke", "svc", "--json").stdout)
    assert revoked["key_id"] == created["key_id"] and revoked["revoked"] is not None
    text = invoke("revoke", created["key_id"])  # again, by id: unchanged, still fine
    assert text.exit_code == 0 and "revoked" in text.stdout
    listed = json.loads(invoke("list", "--json").stdout)
    assert listed[0]["revoked"] == revoked["revoked"]
    with sqlite3.connect(home / "service.db") as db:
        dump = "\n".join(db.iterdump())
    assert created["token"].split("_", 2)[2] not in dump


def test_unknown_key_is_one_line_exit_2(home: Path) -> None:
    result = invoke("revoke", "nobody")
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert message.startswith("error:") and "To fix" in message and "Traceback" not in message


def test_bad_name_and_bad_state_url(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert invoke("create", " ").exit_code == 2
    monkeypatch.setenv("VERDICT_STATE_URL", "sqlite://")
    result = invoke("list")
    assert result.exit_code == 2 and "in-memory" in result.stderr
    monkeypatch.setenv("VERDICT_MAX_ROWS", "many")
    result = invoke("list")
    assert result.exit_code == 2 and "max_rows" in result.stderr and "To fix" in result.stderr


def test_empty_list_says_how_to_create(home: Path) -> None:
    result = invoke("list")
    assert result.exit_code == 0 and "verdict keys create" in result.stdout
