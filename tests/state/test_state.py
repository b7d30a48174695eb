"""The state schema: version 4 created fresh, versions 2 and 3 migrated in place, others refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from postgres_support import POSTGRES_URL, SKIP_REASON, fresh_database
from verdict.errors import ConfigurationError
from verdict.state import PredictionLog
from verdict.state._database import SCHEMA_VERSION, open_state, state_meta

# The version-2 tables as verdict created them on SQLite (no target, source_id nor sync_marks).
V2_DDL = """
CREATE TABLE state_meta (key VARCHAR(64) NOT NULL PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE api_keys (key_id VARCHAR(32) NOT NULL PRIMARY KEY, name VARCHAR(128) NOT NULL,
    secret_sha256 VARCHAR(64) NOT NULL, created DATETIME NOT NULL, revoked DATETIME);
CREATE INDEX ix_api_keys_name ON api_keys (name);
CREATE TABLE predictions (id INTEGER NOT NULL PRIMARY KEY, request_id VARCHAR(128) NOT NULL,
    model VARCHAR(128) NOT NULL, version INTEGER NOT NULL, created DATETIME NOT NULL,
    n_rows INTEGER NOT NULL, labels TEXT NOT NULL, proba BLOB NOT NULL, inputs TEXT);
CREATE INDEX ix_predictions_request ON predictions (request_id);
CREATE INDEX ix_predictions_model_created ON predictions (model, created);
CREATE TABLE prediction_classes (model VARCHAR(128) NOT NULL, version INTEGER NOT NULL,
    classes JSON NOT NULL, PRIMARY KEY (model, version));
CREATE TABLE feedback (id INTEGER NOT NULL PRIMARY KEY, created DATETIME NOT NULL,
    request_id VARCHAR(128), "row" INTEGER NOT NULL, model VARCHAR(128), label JSON,
    features JSON);
CREATE INDEX ix_feedback_request ON feedback (request_id, "row");
CREATE INDEX ix_feedback_model_created ON feedback (model, created);
"""


def _old_database(path: Path, version: str) -> None:
    """A database as an older verdict left it, with one prediction and one label."""
    with sqlite3.connect(path) as db:
        db.executescript(V2_DDL)
        db.executemany(
            "INSERT INTO state_meta VALUES (?, ?)", [("schema", version), ("salt", "ab" * 16)]
        )
        db.execute(
            "INSERT INTO predictions (request_id, model, version, created, n_rows, labels, proba,"
            " inputs) VALUES ('r1', 'penguins', 1, '2026-01-01 12:00:00.000000', 1, '[\"a\"]',"
            " ?, '{\"mass\":[4000]}')",
            (bytes(8),),
        )
        db.execute(
            'INSERT INTO feedback (created, request_id, "row", model, label, features) VALUES '
            "('2026-01-01 12:00:01.000000', 'r1', 0, 'penguins', '\"a\"', 'null')"
        )
    db.close()


def _columns(engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


def test_a_new_database_has_the_current_schema(tmp_path: Path) -> None:
    engine = open_state(f"sqlite:///{tmp_path / 'service.db'}")
    try:
        with engine.connect() as connection:
            stored = connection.scalar(
                select(state_meta.c.value).where(state_meta.c.key == "schema")
            )
        assert stored == str(SCHEMA_VERSION) == "4"
        assert {"target", "source_id", "client_request_id"} <= _columns(engine, "predictions")
        assert {"target", "source_id", "orphan"} <= _columns(engine, "feedback")
        assert _columns(engine, "sync_marks") == {"target", "table", "last_id", "updated"}
    finally:
        engine.dispose()


def test_a_version_2_database_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "service.db"
    _old_database(path, "2")
    engine = open_state(f"sqlite:///{path}")
    try:
        assert "client_request_id" in _columns(engine, "predictions")
        assert "orphan" in _columns(engine, "feedback")
        for table in ("predictions", "feedback"):
            assert {"target", "source_id"} <= _columns(engine, table)
            unique = [i for i in inspect(engine).get_indexes(table) if i["unique"]]
            assert [i["column_names"] for i in unique] == [["target", "source_id"]]
        assert "sync_marks" in inspect(engine).get_table_names()
        with engine.connect() as connection:
            meta = dict(connection.execute(select(state_meta)).all())
        assert meta == {"schema": "4", "salt": "ab" * 16}  # the salt survives: hashes still agree
        log = PredictionLog(engine)
        frame = log.predictions("penguins")
        assert frame["request_id"].tolist() == ["r1"] and frame["mass"].tolist() == [4000]
        assert frame["target"].tolist() == [None]
        labelled = log.labelled("penguins")
        assert labelled["true_label"].tolist() == ["a"]
    finally:
        engine.dispose()
    again = open_state(f"sqlite:///{path}")  # opening a migrated database changes nothing
    again.dispose()


@pytest.mark.parametrize(("version", "needle"), [("1", "no longer reads"), ("5", "newer")])
def test_other_versions_are_refused(tmp_path: Path, version: str, needle: str) -> None:
    path = tmp_path / "service.db"
    _old_database(path, version)
    with pytest.raises(ConfigurationError, match=needle) as caught:
        open_state(f"sqlite:///{path}")
    assert "To fix:" in str(caught.value)
    with sqlite3.connect(path) as db:  # refused means untouched
        assert db.execute("SELECT value FROM state_meta WHERE key = 'schema'").fetchone() == (
            version,
        )
        assert "target" not in {r[1] for r in db.execute("PRAGMA table_info(predictions)")}
    db.close()


@pytest.mark.skipif(not POSTGRES_URL, reason=SKIP_REASON)
def test_a_version_2_postgresql_database_is_migrated_in_place() -> None:
    with fresh_database("verdict_state") as url:
        engine = open_state(url)
        with engine.begin() as connection:  # back to version 2, with a prediction in it
            connection.execute(text("DROP INDEX ix_feedback_orphans"))
            connection.execute(text("ALTER TABLE predictions DROP COLUMN client_request_id"))
            connection.execute(text("ALTER TABLE feedback DROP COLUMN orphan"))
            for table in ("predictions", "feedback"):
                connection.execute(text(f"DROP INDEX ux_{table}_source"))
                connection.execute(text(f"ALTER TABLE {table} DROP COLUMN target"))
                connection.execute(text(f"ALTER TABLE {table} DROP COLUMN source_id"))
            connection.execute(text("DROP TABLE sync_marks"))
            connection.execute(text("UPDATE state_meta SET value = '2' WHERE key = 'schema'"))
            connection.execute(
                text(
                    "INSERT INTO predictions (request_id, model, version, created, n_rows, "
                    "labels, proba) VALUES ('r1', 'penguins', 1, now(), 1, '[\"a\"]', :p)"
                ),
                {"p": bytes(8)},
            )
        engine.dispose()
        engine = open_state(url)
        try:
            for table in ("predictions", "feedback"):
                assert {"target", "source_id"} <= _columns(engine, table)
            assert "sync_marks" in inspect(engine).get_table_names()
            assert PredictionLog(engine).predictions("penguins")["target"].tolist() == [None]
            with engine.connect() as connection:
                query = select(state_meta.c.value).where(state_meta.c.key == "schema")
                assert connection.scalar(query) == "4"
            assert "orphan" in _columns(engine, "feedback")
        finally:
            engine.dispose()
