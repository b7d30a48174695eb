"""Opening one of verdict's databases by URL: the registry's metadata and the service's state.

A foundation module (like ``verdict._files``): both databases parse the URL, create a SQLite
file privately, load the driver, configure SQLite and then prepare their schema the same way,
and say so in the same words when a step fails; only the name, the example URL, the schema
step and SQLite's durability differ. On SQLite, writers take the lock at ``BEGIN IMMEDIATE``
and queue instead of deadlocking, readers never wait (WAL snapshots, :func:`reading`), and a
database file verdict creates is 0600 in a folder it creates 0700.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from verdict._files import private_file, private_folder
from verdict.errors import ConfigurationError


def parse_url(url: str, what: str, example: str) -> URL:
    """The parsed URL of the ``what`` database, or a ConfigurationError showing ``example``."""
    try:
        return make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(
            f"The {what} URL {url!r} is not a SQLAlchemy URL. To fix: use e.g. "
            f"'{example}' or 'postgresql+psycopg://user@host/db'."
        ) from exc


def open_database(
    url: str,
    parsed: URL,
    what: str,
    prepare: Callable[[Engine], None],
    *,
    synchronous: str = "FULL",
    **options: Any,
) -> Engine:
    """An engine on the ``what`` database at ``url`` (``parsed``), made ready by ``prepare``.

    A SQLite file is created 0600 in a 0700 folder when missing and opened with
    ``synchronous``; ``options`` go to ``create_engine``. A database ``prepare`` cannot read
    or write is disposed of and reported without its password.
    """
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite and parsed.database:
        private_sqlite(parsed.database)
    try:
        engine = create_engine(
            parsed, **options, **({"connect_args": {"timeout": 60}} if sqlite else {})
        )
    except (NoSuchModuleError, ImportError) as exc:
        raise ConfigurationError(
            f"No database driver for the {what} URL {url!r} ({exc}). To fix: install it, "
            f"e.g. pip install 'verdict[postgres]' for PostgreSQL."
        ) from exc
    if sqlite:
        configure_sqlite(engine, synchronous=synchronous)
    try:
        prepare(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise ConfigurationError(
            f"Cannot open the {what} database {parsed.render_as_string(hide_password=True)}: "
            f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}. To fix: check the URL, that "
            f"the server is running and that you may write there."
        ) from exc
    return engine


READ_OPTION = "verdict_read"  # execution option: a read-only (deferred) SQLite transaction


def private_sqlite(database: str) -> None:
    """Create a SQLite database's folder (0700) and its empty file (0600) if missing.

    SQLite gives the ``-wal`` and ``-shm`` files it makes later the mode of the main file, so
    the whole database stays readable by its owner only. Existing folders and files are left
    as they are; in-memory and ``file:`` URI databases are left to SQLite.
    """
    if database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    private_folder(path.parent)
    private_file(path)


def configure_sqlite(engine: Engine, *, synchronous: str = "FULL") -> None:
    """WAL, a busy timeout, and writers that take the lock at BEGIN.

    pysqlite's own BEGIN is deferred, which deadlocks two writers upgrading their read locks;
    every transaction here begins IMMEDIATE instead, except those opened through
    :func:`reading`, which begin deferred and so never wait for a writer (WAL snapshot).
    Shared by the registry and the service's state database.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read = connection.get_execution_options().get(READ_OPTION, False)
        connection.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")


def reading(engine: Engine) -> Engine:
    """The same engine for read-only work: on SQLite its transactions never wait for writers."""
    return engine.execution_options(**{READ_OPTION: True})
