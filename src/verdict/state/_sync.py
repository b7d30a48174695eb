"""Keeping a deployment target's state database and the central one in step.

A target's replicas log to the target's own database, a local buffer; :func:`ship_log` copies
its new predictions and feedback (and the classes they need) to the central database, tagged
with the target, and :func:`share_keys` carries the central API keys back. Each successful key
sync is recorded in the target's ``state_meta`` (``keys_synced_at``, rewritten at most once a
second so a quiet round takes no write lock).

Exactly once: for predictions and for feedback, the central ``sync_marks`` row of (target,
table) holds the last source id shipped. A round reads the source rows past the mark in id
order and inserts them centrally with ``target`` and ``source_id`` (a fresh central ``id``)
in the same central transaction that advances the mark. A crash between two steps either
rolls that transaction back (the rows are read again next round) or commits it whole; a lost
or stale mark only replays rows, which the unique index on (target, source_id) then refuses
(``ON CONFLICT DO NOTHING``). This relies on the source committing its ids in increasing
order, which SQLite (one writer at a time), the targets' buffer, does.

The process that calls these every round is the deployment's link
(``verdict.deploy.local``); the target names it passes are checked there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from verdict.errors import ConfigurationError
from verdict.state._database import (
    api_keys,
    feedback,
    prediction_classes,
    predictions,
    reading,
    salt,
    state_meta,
    sync_marks,
    utc,
)
from verdict.state._keys import KEYS_SYNCED_AT

__all__ = ["LogShipment", "adopt_salt", "log_backlog", "salts_match", "share_keys", "ship_log"]

MAX_BATCHES = 40  # per table and call: a call returns (and reports its backlog) in bounded time
_SHIPPED = (predictions, feedback)
_LOCAL = frozenset({"id", "target", "source_id"})  # columns not copied from the source row
_MARKS = sync_marks.c
_SYNC_MARK_SECONDS = 1.0  # keys_synced_at is rewritten at most this often when nothing changed


@dataclass(frozen=True)
class LogShipment:
    """What one :func:`ship_log` call did.

    Attributes
    ----------
    predictions, feedback : int
        Rows newly inserted centrally by this call.
    backlog : int
        Rows still waiting in the target after this call (0 when caught up).
    """

    predictions: int
    feedback: int
    backlog: int


def adopt_salt(target_engine: Engine, central_engine: Engine) -> None:
    """Make the target's hashing salt the central one, so hashes of sensitive columns agree
    centrally (a group's rows from every target stay linkable).

    Call it before the target's replicas start: a running service keeps the salt it read.

    Raises
    ------
    ConfigurationError
        If the target already holds logged predictions or feedback hashed with another salt.
    """
    wanted = salt(central_engine)
    if salt(target_engine) == wanted:
        return
    with target_engine.begin() as connection:
        logged = connection.scalar(select(predictions.c.id).limit(1))
        if logged is None:
            logged = connection.scalar(select(feedback.c.id).limit(1))
        if logged is not None:
            where = target_engine.url.render_as_string(hide_password=True)
            raise ConfigurationError(
                f"The target's state database {where} already holds logged rows hashed with "
                f"its own salt, not the central one, so their hashes would not match centrally. "
                f"To fix: ship or move that database aside (and its -wal/-shm files) and start "
                f"the target on a new one, then adopt the central salt before serving."
            )
        connection.execute(
            update(state_meta).where(state_meta.c.key == "salt").values(value=wanted.hex())
        )


def salts_match(first: Engine, second: Engine) -> bool:
    """Whether two state databases hash sensitive values with the same salt."""
    return salt(first) == salt(second)


def ship_log(target: str, source: Engine, central: Engine, *, batch_rows: int = 500) -> LogShipment:
    """Copy the target's new predictions, feedback and prediction_classes to the central
    database, exactly once.

    Parameters
    ----------
    target : str
        The target's name (1 to 63 characters), stored centrally with every row shipped.
    source, central : sqlalchemy.Engine
        The target's state database and the central one (both from ``open_state``).
    batch_rows : int, default 500
        Rows per central transaction (>= 1); a call ships at most 40 transactions per table.

    Returns
    -------
    LogShipment
    """
    done = {t.name: _ship_table(target, t, source, central, batch_rows) for t in _SHIPPED}
    # a table that stopped short of the cap was caught up: count only where the cap cut in
    backlog = sum(_backlog(target, t, source, central) for t in _SHIPPED if done[t.name][1])
    return LogShipment(done["predictions"][0], done["feedback"][0], backlog)


def _ship_table(
    target: str, table: Table, source: Engine, central: Engine, size: int
) -> tuple[int, bool]:
    """Ship ``table``'s rows past the mark, ``size`` per central transaction; the rows
    inserted, and whether the cap on transactions stopped it before it caught up."""
    inserted = 0
    for _ in range(MAX_BATCHES):
        with reading(central).connect() as connection:
            mark = _mark(connection, target, table.name)
        with reading(source).connect() as connection:
            query = select(table).where(table.c.id > mark).order_by(table.c.id).limit(size)
            rows = connection.execute(query).all()
            classes = _classes_of(connection, rows) if table is predictions else []
        if not rows:
            break
        with central.begin() as connection:  # BEGIN IMMEDIATE on SQLite
            inserted += _store(connection, target, table, rows, classes)
        if len(rows) < size:
            break
    else:
        return inserted, True
    return inserted, False


def _store(
    connection: Connection, target: str, table: Table, rows: Sequence[Row], classes: list[dict]
) -> int:
    """Insert the rows not yet central and advance the mark, in the caller's transaction."""
    mark = _mark(connection, target, table.name)  # again, under the write lock
    rows = [r for r in rows if r.id > mark]
    if not rows:
        return 0
    if classes:
        _insert_missing(connection, prediction_classes, classes, ["model", "version"])
    ids = [r.id for r in rows]
    query = select(table.c.source_id).where(
        table.c.target == target, table.c.source_id.between(ids[0], ids[-1])
    )
    present = set(connection.scalars(query))
    fresh = [_copied(r, target) for r in rows if r.id not in present]
    if fresh:
        _insert_missing(connection, table, fresh, ["target", "source_id"])
    _set_mark(connection, target, table.name, ids[-1])
    return len(fresh)


def _copied(row: Row, target: str) -> dict[str, Any]:
    """The central row of a source row: its values, the target and the source id."""
    values = {k: v for k, v in row._mapping.items() if k not in _LOCAL}
    values["created"] = utc(values["created"])
    return {**values, "target": target, "source_id": row.id}


def _classes_of(connection: Connection, rows: Sequence[Row]) -> list[dict[str, Any]]:
    """The source's classes of the (model, version) pairs of ``rows``."""
    pairs = {(r.model, r.version) for r in rows}
    table = prediction_classes
    query = select(table).where(table.c.model.in_({m for m, _ in pairs}))
    found = connection.execute(query).all()
    return [dict(r._mapping) for r in found if (r.model, r.version) in pairs]


def _insert_missing(
    connection: Connection, table: Table, rows: list[dict[str, Any]], key: list[str]
) -> None:
    """INSERT ... ON CONFLICT (key) DO NOTHING."""
    statement = _dialect(connection).insert(table).on_conflict_do_nothing(index_elements=key)
    connection.execute(statement, rows)


def _set_mark(connection: Connection, target: str, table: str, last_id: int) -> None:
    values = {"target": target, "table": table, "last_id": last_id, "updated": datetime.now(UTC)}
    statement = _dialect(connection).insert(sync_marks).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=["target", "table"],
        set_={"last_id": last_id, "updated": values["updated"]},
    )
    connection.execute(statement)


def _mark(connection: Connection, target: str, table: str) -> int:
    """The last source id of ``table`` shipped from ``target`` (0: none yet)."""
    query = select(_MARKS.last_id).where(_MARKS.target == target, _MARKS.table == table)
    return int(connection.scalar(query) or 0)


def _dialect(connection: Connection) -> Any:
    """The dialect module whose ``insert`` has ``on_conflict_*`` for this database."""
    name = connection.dialect.name
    if name == "sqlite":
        return sqlite
    if name == "postgresql":
        return postgresql
    raise ConfigurationError(
        f"The link ships between SQLite and PostgreSQL state databases only; got {name}. "
        f"To fix: use a sqlite:/// or postgresql+psycopg:// URL."
    )


def log_backlog(target: str, source: Engine, central: Engine) -> int:
    """Rows of ``target``'s predictions and feedback in ``source`` not yet shipped to
    ``central`` (past the central marks)."""
    return sum(_backlog(target, t, source, central) for t in _SHIPPED)


def _backlog(target: str, table: Table, source: Engine, central: Engine) -> int:
    """Source rows of ``table`` past the central mark."""
    with reading(central).connect() as connection:
        mark = _mark(connection, target, table.name)
    with reading(source).connect() as connection:
        query = select(func.count()).select_from(table).where(table.c.id > mark)
        return int(connection.scalar(query) or 0)


def share_keys(central: Engine, target: Engine) -> int:
    """Copy the central API keys the target lacks and revocations it has not seen, and mark
    the target synced now; how many keys changed."""
    with reading(central).connect() as connection:
        wanted = connection.execute(select(api_keys)).all()
    with reading(target).connect() as connection:
        query = select(api_keys.c.key_id, api_keys.c.revoked)
        have = {r.key_id: r.revoked for r in connection.execute(query)}
        marked = connection.scalar(
            select(state_meta.c.value).where(state_meta.c.key == KEYS_SYNCED_AT)
        )
    missing = [_key_row(r) for r in wanted if r.key_id not in have]
    revoked = [r for r in wanted if r.revoked is not None and r.key_id in have]
    revoked = [r for r in revoked if have[r.key_id] is None]
    now = datetime.now(UTC)
    if not missing and not revoked and not _mark_due(marked, now):
        return 0  # the usual round: no write lock taken on the target
    with target.begin() as connection:
        _set_synced(connection, now)
        if missing:
            _insert_missing(connection, api_keys, missing, ["key_id"])
        for row in revoked:
            connection.execute(
                update(api_keys)
                .where(api_keys.c.key_id == row.key_id, api_keys.c.revoked.is_(None))
                .values(revoked=utc(row.revoked))
            )
    return len(missing) + len(revoked)


def _mark_due(marked: str | None, now: datetime) -> bool:
    """Whether ``keys_synced_at`` is missing or older than the rewrite period."""
    try:
        last = utc(datetime.fromisoformat(marked)) if marked else None
    except ValueError:
        return True
    return last is None or not 0 <= (now - last).total_seconds() < _SYNC_MARK_SECONDS


def _set_synced(connection: Connection, now: datetime) -> None:
    """Record in the target that its keys match the center's as of ``now``."""
    values = {"key": KEYS_SYNCED_AT, "value": now.isoformat()}
    statement = _dialect(connection).insert(state_meta).values(values)
    connection.execute(
        statement.on_conflict_do_update(index_elements=["key"], set_={"value": values["value"]})
    )


def _key_row(row: Row) -> dict[str, Any]:
    revoked = row.revoked and utc(row.revoked)
    return {**row._mapping, "created": utc(row.created), "revoked": revoked}
