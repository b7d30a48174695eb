"""The metadata database: an engine that serialises writers, migrated to the newest schema.

SQLite (the embedded default) takes write transactions with ``BEGIN IMMEDIATE`` and WAL, so two
processes registering at once queue for the lock instead of failing half-way; PostgreSQL takes
an advisory lock while migrating. Either way an old registry is upgraded by Alembic on open.
A SQLite file verdict creates is 0600 in a folder it creates 0700 (``verdict._database``, shared
with the state database).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from verdict._database import open_database, parse_url, reading

MIGRATIONS = Path(__file__).parent / "migrations"
_PG_LOCK = 0x7665726469  # "verdi": the advisory lock id held while migrating


def open_engine(url: str) -> Engine:
    """An engine for ``url``, the database migrated to the newest revision."""
    parsed = parse_url(url, "registry", "sqlite:///.verdict/registry.db")
    return open_database(url, parsed, "registry", migrate)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision, one process at a time."""
    if at_head(engine):  # the usual case: skip loading Alembic (about 0.4 s per command)
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def at_head(engine: Engine) -> bool:
    """Whether the database is stamped with exactly the newest revisions (a read, no lock).

    A migration stamps its revision in the transaction that changes the schema, so a database
    seen at head is fully migrated; anything else (new, old, unreadable) goes through Alembic.
    """
    try:
        with reading(engine).connect() as connection:
            stored = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
            return set(stored) == head_revisions()
    except SQLAlchemyError:
        return False


@functools.cache
def head_revisions() -> frozenset[str]:
    """The revisions no other revision revises, read from the migration files' headers.

    A test checks this against Alembic's own ``ScriptDirectory.get_heads()``.
    """
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revisions.update(re.findall(r'^revision = "([^"]+)"', source, re.M))
        revised.update(re.findall(r'"([^"]+)"', _line(source, "down_revision")))
    return frozenset(revisions - revised)


def _line(source: str, name: str) -> str:
    match = re.search(rf"^{name} = (.*)$", source, re.M)
    return match.group(1) if match else ""
