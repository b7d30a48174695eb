"""Writing a group of prediction rows with the least work per transaction the backend allows.

Group commit makes many small transactions (one per group of concurrent requests) where a
timer made few large ones, so the fixed cost of a transaction now counts: through SQLAlchemy
(a pool checkout, the BEGIN event, statement caching and per-value bind processing) it was
most of the writer's time. On SQLite, :class:`GroupWriter` keeps one DBAPI connection and
inserts with the statement SQLAlchemy compiled once, the values passed through the columns'
own bind processors (so ``created`` is stored exactly as SQLAlchemy stores it). A group that
introduces a model version's classes, and every other backend, goes through SQLAlchemy Core.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from verdict.state._database import prediction_classes, predictions

Row = dict[str, Any]
ROW_KEYS = [  # what ``batch_row`` gives: every column but the id and a link's source id
    "request_id", "model", "version", "created", "n_rows", "labels", "proba", "inputs",
    "target", "client_request_id",
]  # fmt: skip


class GroupWriter:
    """Commits groups of ``predictions`` rows (and new versions' classes) on one connection.

    Not thread-safe: one writer thread uses it; ``close`` returns its connection.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._raw: Any = None
        self._fast = engine.dialect.name == "sqlite"
        if self._fast:
            compiled = insert(predictions).compile(dialect=engine.dialect, column_keys=ROW_KEYS)
            self._sql = str(compiled)
            self._order = list(compiled.positiontup or [])
            dialect = engine.dialect  # the dialect's own type (SQLite's DATETIME formats the text)
            processors = {
                c.name: c.type.dialect_impl(dialect).bind_processor(dialect) for c in predictions.c
            }
            self._processors: list[tuple[str, Callable[[Any], Any] | None]] = [
                (name, processors[name]) for name in self._order
            ]

    def write(self, rows: Sequence[Row], classes: dict[tuple[str, int], list[Any]]) -> None:
        """Insert ``rows`` and the classes of versions not stored yet, in one transaction."""
        if self._fast and not classes:
            self._write_raw(rows)
            return
        with self._engine.begin() as connection:
            if classes:
                store_classes(connection, classes)
            if rows:
                connection.execute(insert(predictions), list(rows))

    def close(self) -> None:
        """Return the connection to the pool."""
        if self._raw is not None:
            with contextlib.suppress(Exception):
                self._raw.close()
            self._raw = None

    def _write_raw(self, rows: Sequence[Row]) -> None:
        if self._raw is None:
            self._raw = self._engine.raw_connection()  # with the engine's pragmas applied
        params = [
            tuple(row[name] if process is None else process(row[name])
                  for name, process in self._processors)
            for row in rows
        ]  # fmt: skip
        cursor = self._raw.driver_connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
            cursor.executemany(self._sql, params)
            cursor.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                cursor.execute("ROLLBACK")
            self.close()  # a connection in doubt is not reused
            raise
        finally:
            with contextlib.suppress(Exception):
                cursor.close()


def store_classes(connection: Connection, new: dict[tuple[str, int], list[Any]]) -> None:
    """Insert the classes of the (model, version) pairs in ``new`` not already stored."""
    table = prediction_classes
    query = select(table.c.model, table.c.version).where(table.c.model.in_({m for m, _ in new}))
    stored = {(r.model, r.version) for r in connection.execute(query)}
    missing = [{"model": m, "version": v, "classes": c} for (m, v), c in new.items()]
    missing = [row for row in missing if (row["model"], row["version"]) not in stored]
    if missing:
        connection.execute(insert(table), missing)
