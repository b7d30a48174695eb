"""The link between one deployment target and the central state database.

Each target's replicas log to the target's own state database, a local buffer that keeps
filling while the link is cut. The link ships that buffer to the central database (the one
``verdict monitor`` reads), tagged with the target, and carries the central API keys back, so a
key created or revoked centrally reaches every target within one round. Each successful key
sync is recorded in the target's ``state_meta`` (``keys_synced_at``, rewritten at most once a
second so a quiet round takes no write lock), so a replica can refuse to trust keys that a cut
link has left stale (``VERDICT_KEYS_MAX_STALENESS_SECONDS``).

Exactly once: for predictions and for feedback, the central ``sync_marks`` row of (target,
table) holds the last source id shipped. A round reads the source rows past the mark in id
order and inserts them centrally with ``target`` and ``source_id`` (a fresh central ``id``)
in the same central transaction that advances the mark. A crash between two steps either
rolls that transaction back (the rows are read again next round) or commits it whole; a lost
or stale mark only replays rows, which the unique index on (target, source_id) then refuses
(``ON CONFLICT DO NOTHING``). This relies on the source committing its ids in increasing
order, which SQLite (one writer at a time), the targets' buffer, does.

The process runs ``python -m verdict.deploy._link`` with the command line that
:func:`link_command` writes (the one place that knows its flags): it ships every ``interval``
seconds unless the cut flag file exists, never dies on a database error (it logs it and retries
next round), and on SIGTERM ships once more and exits 0.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Row, Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from verdict.errors import ConfigurationError, InvalidInputError
from verdict.serving._keys import KEYS_SYNCED_AT
from verdict.serving._state import (
    api_keys,
    feedback,
    open_state,
    prediction_classes,
    predictions,
    reading,
    salt,
    state_meta,
    sync_marks,
    utc,
)

__all__ = ["ShipResult", "adopt_salt", "backlog", "link_command", "main", "run_link", "ship"]

logger = logging.getLogger("verdict.deploy.link")

_MAX_BATCHES = 40  # per table and call: a call returns (and reports its backlog) in bounded time
_FINAL_TRIES = 3  # database errors tolerated while shipping the last time before exiting
_SHIPPED = (predictions, feedback)
_LOCAL = frozenset({"id", "target", "source_id"})  # columns not copied from the source row
_MARKS = sync_marks.c
_SYNC_MARK_SECONDS = 1.0  # keys_synced_at is rewritten at most this often when nothing changed


@dataclass(frozen=True)
class ShipResult:
    """What one :func:`ship` call did.

    Attributes
    ----------
    predictions, feedback : int
        Rows newly inserted centrally by this call.
    keys : int
        API key rows copied to the target, or revoked there to match the center.
    backlog : int
        Rows still waiting in the target after this call (0 when caught up).
    """

    predictions: int
    feedback: int
    keys: int
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


def ship(target: str, source: Engine, central: Engine, *, batch_rows: int = 500) -> ShipResult:
    """Copy the target's new predictions, feedback and prediction_classes to the central
    database, and central api_keys out to the target.

    Parameters
    ----------
    target : str
        The target's name, stored centrally with every row shipped.
    source, central : sqlalchemy.Engine
        The target's state database and the central one (both from :func:`open_state`).
    batch_rows : int, default 500
        Rows per central transaction; a call ships at most 40 transactions per table.

    Returns
    -------
    ShipResult
    """
    _check(target, batch_rows)
    keys = _share_keys(central, source)
    done = {t.name: _ship_table(target, t, source, central, batch_rows) for t in _SHIPPED}
    # a table that stopped short of the cap was caught up: count only where the cap cut in
    backlog = sum(_backlog(target, t, source, central) for t in _SHIPPED if done[t.name][1])
    return ShipResult(done["predictions"][0], done["feedback"][0], keys, backlog)


def _check(target: Any, batch_rows: Any) -> None:
    if not isinstance(target, str) or not 0 < len(target) <= 63:
        raise InvalidInputError(
            f"target must be a name of 1 to 63 characters; got {target!r}. To fix: pass the "
            f"target's name from the deploy spec, e.g. 'aws-eu'."
        )
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, int) or batch_rows < 1:
        raise InvalidInputError(
            f"batch_rows must be an integer >= 1; got {batch_rows!r}. To fix: pass e.g. 500."
        )


def _ship_table(
    target: str, table: Table, source: Engine, central: Engine, size: int
) -> tuple[int, bool]:
    """Ship ``table``'s rows past the mark, ``size`` per central transaction; the rows
    inserted, and whether the cap on transactions stopped it before it caught up."""
    inserted = 0
    for _ in range(_MAX_BATCHES):
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


def backlog(target: str, source: Engine, central: Engine) -> int:
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


def _share_keys(central: Engine, target: Engine) -> int:
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


def run_link(
    target: str,
    source_url: str,
    central_url: str,
    cut_flag: Path,
    *,
    interval: float = 0.25,
    stop: threading.Event | None = None,
    follow: Callable[[], object] | None = None,
) -> None:
    """Loop: every interval, unless cut_flag exists (the link is cut), ship(); on SIGTERM or
    stop.set() ship once more (if not cut) and return. ``follow``, when given, runs in every
    uncut round too: the artifacts going out (see ``ArtifactFollower``).

    Never dies on a database error: logs it and retries next round (a central database that is
    briefly locked or down must not kill the link). SIGTERM and SIGINT are handled only when
    called from the main thread; elsewhere use ``stop``.
    """
    _check(target, 1)
    if not interval > 0:
        raise InvalidInputError(f"interval must be > 0; got {interval!r}. To fix: pass e.g. 0.25.")
    stop = stop or threading.Event()
    restore = _handle_signals(stop)
    link = _Link(target, source_url, central_url)
    try:
        while not stop.is_set():
            if not Path(cut_flag).exists():
                link.round()
                if follow is not None:
                    follow()
            stop.wait(interval)
        if not Path(cut_flag).exists():
            link.last_rounds()
    finally:
        restore()
        link.close()


class _Link:
    """The engines of one link, opened on first use and reopened after an error."""

    def __init__(self, target: str, source_url: str, central_url: str) -> None:
        self.target, self.urls = target, (source_url, central_url)
        self.engines: tuple[Engine, Engine] | None = None

    def round(self) -> ShipResult | None:
        """One ship; None if it failed (logged, engines dropped for a fresh start)."""
        try:
            if self.engines is None:
                self.engines = self._open()
            result = ship(self.target, *self.engines)
        except Exception as exc:  # a database error must not end the link: retry next round
            first = (str(exc).splitlines() or [""])[0]
            logger.warning("link %s: shipping failed, will retry: %s: %s", self.target,
                           type(exc).__name__, first)  # fmt: skip
            self.close()
            return None
        if result.predictions or result.feedback or result.keys:
            logger.info("link %s: %s", self.target, result)
        return result

    def last_rounds(self) -> None:
        """Ship until caught up or stuck, tolerating a few failures (the process is exiting)."""
        failures, before = 0, None
        while failures < _FINAL_TRIES:
            result = self.round()
            if result is None:
                failures += 1
            elif result.backlog == 0 or (before is not None and result.backlog >= before):
                return  # caught up, or not gaining: what is left ships on the next start
            else:
                before = result.backlog

    def close(self) -> None:
        if self.engines is not None:
            for engine in self.engines:
                engine.dispose()
            self.engines = None

    def _open(self) -> tuple[Engine, Engine]:
        source = open_state(self.urls[0])
        try:
            central = open_state(self.urls[1])
        except Exception:
            source.dispose()
            raise
        if salt(source) != salt(central):
            logger.warning(
                "link %s: the target's salt differs from the central one, so hashed sensitive "
                "columns will not match across targets. To fix: adopt_salt() before serving.",
                self.target,
            )
        return source, central


def _handle_signals(stop: threading.Event) -> Callable[[], None]:
    """Make SIGTERM and SIGINT set ``stop`` (main thread only); return the undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for number, handler in previous.items():
            signal.signal(number, handler)

    return restore


_MODULE = "verdict.deploy._link"


def link_command(
    target: str,
    source_url: str,
    central_url: str,
    cut_flag: Path,
    *,
    interval: float | None = None,
    model: str | None = None,
    registry_url: str | None = None,
    store: str | None = None,
    artifacts: str | Path | None = None,
) -> list[str]:
    """The command that runs one link as a process (:func:`main` parses it).

    ``model`` (``NAME@ALIAS``) with ``registry_url``, ``store`` and ``artifacts`` makes the link
    also keep the target's artifact folder in step with the central registry.
    """
    values = {"target": target, "source": source_url, "central": central_url,
              "cut-flag": cut_flag, "interval": interval, "model": model,
              "registry": registry_url, "store": store, "artifacts": artifacts}  # fmt: skip
    command = [sys.executable, "-m", _MODULE]
    for flag, value in values.items():
        if value is not None:
            command += [f"--{flag}", str(value)]
    return command


def _parser() -> argparse.ArgumentParser:
    """The parser of :func:`link_command`'s flags."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {_MODULE}", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--target", required=True, help="the target's name, e.g. aws-eu")
    parser.add_argument("--source", required=True, help="the target's state database URL")
    parser.add_argument("--central", required=True, help="the central state database URL")
    parser.add_argument("--cut-flag", required=True, type=Path, help="cut while this file exists")
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between rounds")
    parser.add_argument("--model", help="NAME@ALIAS whose artifacts the target must hold")
    parser.add_argument("--registry", help="the central registry's URL (with --model)")
    parser.add_argument("--store", help="the central artifact store (with --model)")
    parser.add_argument("--artifacts", help="the target's artifact folder (with --model)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one link until SIGTERM (the process :func:`link_command` starts); the exit status."""
    args = _parser().parse_args(argv)
    follow = None
    if args.model:
        from verdict.deploy._artifacts import ArtifactFollower

        follow = ArtifactFollower(args.target, args.model, args.registry, args.store,
                                  args.artifacts)  # fmt: skip
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        run_link(args.target, args.source, args.central, args.cut_flag, interval=args.interval,
                 follow=follow)  # fmt: skip
    except InvalidInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if follow is not None:
            follow.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
