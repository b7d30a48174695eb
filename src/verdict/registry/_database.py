"""The metadata database: an engine that serialises writers, migrated to the newest schema.

SQLite (the embedded default) takes write transactions with ``BEGIN IMMEDIATE`` and WAL, so two
processes registering at once queue for the lock instead of failing half-way; PostgreSQL takes
an advisory lock while migrating. Either way an old registry is upgraded by Alembic on open.
A SQLite file verdict creates is 0600 in a folder it creates 0700 (``verdict._sqlite``, shared
with the state database).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from verdict._sqlite import configure_sqlite, private_sqlite, reading
from verdict.errors import ConfigurationError

MIGRATIONS = Path(__file__).parent / "migrations"
_PG_LOCK = 0x7665726469  # "verdi": the advisory lock id held while migrating


def open_engine(url: str) -> Engine:
    """An engine for ``url``, the database migrated to the newest revision."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(
            f"The registry URL {url!r} is not a SQLAlchemy URL. To fix: use e.g. "
            f"'sqlite:///.verdict/registry.db' or 'postgresql+psycopg://user@host/db'."
        ) from exc
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite and parsed.database:
        private_sqlite(parsed.database)
    try:
        engine = create_engine(parsed, **({"connect_args": {"timeout": 60}} if sqlite else {}))
    except (NoSuchModuleError, ImportError) as exc:
        raise ConfigurationError(
            f"No database driver for the registry URL {url!r} ({exc}). To fix: install it, "
            f"e.g. pip install 'verdict[postgres]' for PostgreSQL."
        ) from exc
    if sqlite:
        configure_sqlite(engine)
    try:
        migrate(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise ConfigurationError(
            f"Cannot open the registry database {parsed.render_as_string(hide_password=True)}: "
            f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}. To fix: check the URL, that "
            f"the server is running and that you may write there."
        ) from exc
    return engine


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
