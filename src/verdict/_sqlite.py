"""SQLite as verdict uses it, for the registry and the state database alike.

A foundation module (like ``verdict._files``): writers take the lock at ``BEGIN IMMEDIATE``
and queue instead of deadlocking, readers never wait (WAL snapshots), and a database file
verdict creates is 0600 in a folder it creates 0700.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from verdict._files import private_file, private_folder

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
