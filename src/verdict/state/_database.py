"""The service's own state database: API keys, the prediction log and feedback.

``open_state(url)`` returns an engine with the tables created. SQLite (the embedded default)
runs in WAL mode with ``synchronous=NORMAL``: a committed transaction survives the process
being killed (``kill -9``), though the last commits before a power loss or OS crash may be lost.
Write transactions start with ``BEGIN IMMEDIATE`` so concurrent writers queue on the busy timeout
instead of failing half-way; reads through :func:`reading` start a deferred transaction and so
never wait for a writer. PostgreSQL works unchanged (tables are created under an advisory lock).

The schema is created with ``metadata.create_all`` and versioned by a ``schema`` row in
``state_meta``. Version 2 stores the prediction log one row per request (columnar inputs and
labels as JSON text, the probabilities as raw little-endian float64). Version 3 adds where each
row was served: ``target`` (the deployment target, or NULL) and ``source_id`` (the row's id in
the target's own database, set only on rows a link shipped to a central database; unique per
target, so a replayed shipment inserts nothing twice), and ``sync_marks``, the last id shipped
per target and table. Version 4 keeps a client's own ``X-Request-ID`` beside the server's
unique request id (``predictions.client_request_id``; it never replaces it) and marks feedback
that arrived for a request id not in the log (``feedback.orphan``), so the orphans stored per
model can be bounded. Versions 2 and 3 are migrated in place when opened; version 1 (one row
per predicted row, development only) and versions newer than this verdict are refused.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from verdict._database import open_database, parse_url, reading
from verdict.errors import ConfigurationError

SCHEMA_VERSION = 4
_OLDEST_MIGRATED = 2  # older schemas are refused, not migrated
_PG_LOCK = 0x7665726473  # "verds": the advisory lock id held while creating tables
_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER keys only

metadata = MetaData()

state_meta = Table(
    "state_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("name", String(128), nullable=False, index=True),
    Column("secret_sha256", String(64), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("revoked", DateTime(timezone=True), nullable=True),
)

predictions = Table(  # one row per request: its rows as columns (see log/_rows.py)
    "predictions",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("request_id", String(128), nullable=False),
    Column("model", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("n_rows", Integer, nullable=False),
    Column("labels", Text, nullable=False),  # JSON list, one per row
    Column("proba", LargeBinary, nullable=False),  # (n_rows, k) float64, little-endian, C order
    Column("inputs", Text, nullable=True),  # JSON {feature: [value per row]}, or NULL
    Column("target", String(63), nullable=True),  # where it was served (v3)
    Column("source_id", BigInteger, nullable=True),  # its id in the target's database (v3)
    Column("client_request_id", String(128), nullable=True),  # the client's X-Request-ID (v4)
    Index("ix_predictions_request", "request_id"),
    Index("ix_predictions_model_created", "model", "created"),
    Index("ux_predictions_source", "target", "source_id", unique=True),  # NULLs never collide
)

prediction_classes = Table(
    "prediction_classes",
    metadata,
    Column("model", String(128), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("classes", JSON, nullable=False),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("request_id", String(128), nullable=True),
    Column("row", Integer, nullable=False, default=0),
    Column("model", String(128), nullable=True),
    Column("label", JSON, nullable=True),
    Column("features", JSON, nullable=True),
    Column("target", String(63), nullable=True),
    Column("source_id", BigInteger, nullable=True),
    Column("orphan", Boolean, nullable=True),  # its request id was not in the log on arrival (v4)
    Index("ix_feedback_request", "request_id", "row"),
    Index("ix_feedback_model_created", "model", "created"),
    Index("ux_feedback_source", "target", "source_id", unique=True),
    Index("ix_feedback_orphans", "model", "orphan"),
)

sync_marks = Table(  # per target and table: the last source id shipped to this database
    "sync_marks",
    metadata,
    Column("target", String(63), primary_key=True),
    Column("table", String(32), primary_key=True),
    Column("last_id", BigInteger, nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
)

_ADDED = {  # schema version -> table -> the columns it added
    3: {"predictions": ("target", "source_id"), "feedback": ("target", "source_id")},
    4: {"predictions": ("client_request_id",), "feedback": ("orphan",)},
}


def open_state(url: str) -> Engine:
    """An engine on the state database at ``url``, its tables created.

    Parameters
    ----------
    url : str
        A SQLAlchemy URL, e.g. ``sqlite:///.verdict/service.db`` (the folder is created) or
        ``postgresql+psycopg://user@host/db``. In-memory SQLite is refused: the log writer
        and the request handlers use separate connections and would see separate databases.

    Returns
    -------
    sqlalchemy.Engine

    Raises
    ------
    ConfigurationError
        If the URL is malformed, its driver is missing, the database cannot be reached or
        written, or it was written by a newer verdict.
    """
    parsed = _parse(url)
    # synchronous=NORMAL: a commit survives a process kill, not a power loss
    return open_database(url, parsed, "state", _create, synchronous="NORMAL", json_serializer=dumps)


def _parse(url: str) -> Any:
    """The parsed URL, or a ConfigurationError naming the problem."""
    parsed = parse_url(url, "state", "sqlite:///.verdict/service.db")
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise ConfigurationError(
            f"The state URL {url!r} is an in-memory SQLite database, which each connection "
            f"sees empty. To fix: name a file, e.g. 'sqlite:///.verdict/service.db'."
        )
    return parsed


def _create(engine: Engine) -> None:
    """Create missing tables and the salt, one process at a time; refuse another schema."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
        stored = None
        if inspect(connection).has_table(state_meta.name):
            query = select(state_meta.c.value).where(state_meta.c.key == "schema")
            stored = connection.scalar(query)
        if stored is not None:
            _check_version(int(stored), engine)
            if int(stored) < SCHEMA_VERSION:
                _migrate(connection, int(stored))
        metadata.create_all(connection)
        if stored is None:
            connection.execute(
                insert(state_meta),
                [
                    {"key": "schema", "value": str(SCHEMA_VERSION)},
                    {"key": "salt", "value": secrets.token_hex(16)},
                ],
            )


def _check_version(stored: int, engine: Engine) -> None:
    """Refuse a database of a newer schema, or of the row-per-prediction log (version 1)."""
    where = engine.url.render_as_string(hide_password=True)
    if stored > SCHEMA_VERSION:
        raise ConfigurationError(
            f"The state database {where} has schema version {stored}, newer than this verdict "
            f"understands ({SCHEMA_VERSION}). To fix: upgrade verdict, or point "
            f"VERDICT_STATE_URL at another database."
        )
    if stored < _OLDEST_MIGRATED:
        raise ConfigurationError(
            f"The state database {where} has schema version {stored}, whose prediction log "
            f"(one row per predicted row) this verdict no longer reads; it stores one row per "
            f"request since version {_OLDEST_MIGRATED}. To fix: move the old service.db aside "
            f"(and its -wal/-shm files), or point VERDICT_STATE_URL at a new database; API keys "
            f"must then be created again with 'verdict keys create'."
        )


def _migrate(connection: Connection, stored: int) -> None:
    """Add the columns of every version after ``stored`` and the indexes (``create_all`` then
    adds new tables such as sync_marks).

    Runs inside ``_create``'s transaction, so a crash half-way leaves the old version intact.
    """
    dialect = connection.dialect
    columns: dict[str, list[str]] = {}
    for version in range(stored + 1, SCHEMA_VERSION + 1):
        for name, added in _ADDED[version].items():
            columns.setdefault(name, []).extend(added)
    for name, added in columns.items():
        table = metadata.tables[name]
        present = {c["name"] for c in inspect(connection).get_columns(name)}
        for column in (table.c[c] for c in added if c not in present):
            kind = column.type.compile(dialect=dialect)
            quoted = dialect.identifier_preparer
            connection.execute(
                text(
                    f"ALTER TABLE {quoted.format_table(table)} "
                    f"ADD COLUMN {quoted.format_column(column)} {kind}"
                )
            )
        for index in table.indexes:
            index.create(connection, checkfirst=True)
    connection.execute(
        update(state_meta).where(state_meta.c.key == "schema").values(value=str(SCHEMA_VERSION))
    )


def salt(engine: Engine) -> bytes:
    """The random salt of this state database, mixed into every hashed sensitive value."""
    with reading(engine).connect() as connection:
        value = connection.scalar(select(state_meta.c.value).where(state_meta.c.key == "salt"))
    if value is None:  # the tables were made by something other than open_state
        try:
            with engine.begin() as connection:
                connection.execute(
                    insert(state_meta), {"key": "salt", "value": secrets.token_hex(16)}
                )
        except IntegrityError:
            pass  # another process stored one first
        return salt(engine)
    return bytes.fromhex(value)


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive datetime is taken to be UTC already (SQLite stores no offset,
    so every timestamp is converted to UTC before it is written and read back as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def dumps(value: Any) -> str:
    """JSON for a stored value: numpy types become Python ones, NaN and infinity become null."""
    try:
        return _ENCODER.encode(value)
    except ValueError:
        return _ENCODER.encode(_finite(value))


def compact(value: Any) -> str:
    """:func:`dumps`, several times faster (orjson) for the usual values: the prediction log's
    columns. Floats are written in their shortest exact form, so they read back equal."""
    try:
        return orjson.dumps(value, default=_default, option=_ORJSON).decode()
    except (TypeError, orjson.JSONEncodeError):  # e.g. integers beyond 64 bits
        return dumps(value)


def _default(value: Any) -> Any:
    from verdict._results import plain

    if isinstance(value, datetime):
        return utc(value).isoformat()
    converted = plain(value)
    if converted is value:
        return str(value)
    return _finite(converted)


_ORJSON = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
_ENCODER = json.JSONEncoder(default=_default, allow_nan=False, separators=(",", ":"))


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
