"""API keys: created once, stored hashed, checked on every request, revoked for good.

A token reads ``vdk_<key_id>_<secret>``: the key id (12 hex digits) finds the row, the secret
(32 characters of ``secrets.token_urlsafe``, 192 bits) proves possession. Only the sha256 of the
secret is stored; with that much entropy a plain hash is as safe as a slow one, and it keeps the
check in microseconds. ``KeyStore.check`` answers from an in-memory copy of the table that is
reloaded at most every ``cache_seconds``, so a key created or revoked by another process (the
``verdict keys`` command, another replica) takes effect within that time.

A deployment target's keys are copies of the central ones, kept current by its link, which
records in ``state_meta`` (:data:`KEYS_SYNCED_AT`) when it last synced them; the same reload
reads that mark, so :meth:`KeyStore.synced_age` tells cheaply how stale the copy may be.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from numbers import Real
from typing import Any, Literal

from sqlalchemy import Engine, Row, func, insert, select, update

from verdict._params import Interval, check
from verdict._results import Result
from verdict.errors import InvalidInputError, NotFoundError
from verdict.state._database import api_keys, reading, state_meta, utc

PREFIX = "vdk"
KEYS_SYNCED_AT = "keys_synced_at"  # state_meta key: when a link last synced keys here (ISO UTC)
_MAX_NAME = 128


@dataclass(frozen=True)
class ApiKey(Result):
    """A stored key as listed: never its token nor its hash.

    Attributes
    ----------
    key_id : str
        The public part of the token, e.g. ``'3f9a0c1b2d4e'``.
    name : str
        What the key is for, as given when it was created.
    created, revoked : str
        ISO 8601 UTC times; ``revoked`` is None while the key is active.
    """

    key_id: str
    name: str
    created: str
    revoked: str | None


@dataclass(frozen=True)
class CreatedKey(Result):
    """A key just created, with the token: the only time the token is ever shown.

    Attributes
    ----------
    key_id, name, created : str
        As in :class:`ApiKey`.
    token : str
        ``vdk_<key_id>_<secret>``; send it as ``Authorization: Bearer <token>``.
    """

    _hidden = ("token",)

    key_id: str
    name: str
    created: str
    token: str


@dataclass(frozen=True)
class KeyCheck:
    """The verdict on one request's token.

    Attributes
    ----------
    status : {'valid', 'missing', 'unknown', 'revoked'}
        ``unknown`` covers malformed tokens, unknown key ids and wrong secrets alike;
        ``revoked`` is only said to a caller who knows the secret.
    key_id : str or None
        The key's id when the token names a stored key and its secret matches.
    """

    status: Literal["valid", "missing", "unknown", "revoked"]
    key_id: str | None


_MISSING = KeyCheck("missing", None)
_UNKNOWN = KeyCheck("unknown", None)


class KeyStore:
    """Create, list, revoke and check API keys kept in the state database.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The state database (:func:`open_state`).
    cache_seconds : float, default 1.0
        How stale the in-memory copy used by :meth:`check` may get: the longest a change made
        elsewhere takes to be seen here.
    """

    def __init__(self, engine: Engine, *, cache_seconds: float = 1.0) -> None:
        seconds = Interval(Real, 0, None, closed="both")
        check(
            "cache_seconds", cache_seconds, "KeyStore", seconds, fix="pass e.g. cache_seconds=1.0"
        )
        self._engine = engine
        self._cache_seconds = float(cache_seconds)
        self._cache: dict[str, tuple[str, bool]] = {}  # key_id -> (secret sha256, revoked)
        self._synced: datetime | None = None  # the link's last key sync, as of the last reload
        self._loaded = -float("inf")
        self._lock = threading.Lock()

    def create(self, name: str) -> CreatedKey:
        """A new active key called ``name``; its token is in the result and nowhere else.

        Raises
        ------
        InvalidInputError
            If ``name`` is empty, longer than 128 characters or not printable.
        """
        name = _check_name(name)
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(24)
        created = datetime.now(UTC)
        with self._engine.begin() as connection:
            connection.execute(
                insert(api_keys),
                {"key_id": key_id, "name": name, "secret_sha256": _digest(secret),
                 "created": created, "revoked": None},
            )  # fmt: skip
        self._loaded = -float("inf")
        token = f"{PREFIX}_{key_id}_{secret}"
        return CreatedKey(key_id=key_id, name=name, created=created.isoformat(), token=token)

    def list(self) -> list[ApiKey]:
        """Every key, active and revoked, oldest first."""
        query = select(api_keys).order_by(api_keys.c.created, api_keys.c.key_id)
        with reading(self._engine).connect() as connection:
            return [_listed(row) for row in connection.execute(query)]

    def revoke(self, key: str) -> ApiKey:
        """Revoke the key with id ``key``, or else the only key named ``key``.

        Revoking a revoked key changes nothing and returns it.

        Raises
        ------
        NotFoundError
            If no key has that id or name.
        InvalidInputError
            If several keys share that name.
        """
        with self._engine.begin() as connection:
            rows = connection.execute(select(api_keys).where(api_keys.c.key_id == key)).all()
            if not rows:
                rows = connection.execute(select(api_keys).where(api_keys.c.name == key)).all()
            row = _one(rows, key)
            if row.revoked is None:
                connection.execute(
                    update(api_keys)
                    .where(api_keys.c.key_id == row.key_id)
                    .values(revoked=datetime.now(UTC))
                )
            row = connection.execute(select(api_keys).where(api_keys.c.key_id == row.key_id)).one()
        self._loaded = -float("inf")
        return _listed(row)

    def check(self, token: str | None) -> KeyCheck:
        """Whether ``token`` opens the service: valid, missing, unknown or revoked.

        Answers from memory; the table is reloaded when the copy is older than
        ``cache_seconds``. Never raises for a malformed token (that is ``unknown``).
        """
        if not token:
            return _MISSING
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != PREFIX:
            return _UNKNOWN
        if time.monotonic() - self._loaded > self._cache_seconds:
            self._refresh()
        stored = self._cache.get(parts[1])
        if stored is None or not hmac.compare_digest(stored[0], _digest(parts[2])):
            return _UNKNOWN
        return KeyCheck("revoked" if stored[1] else "valid", parts[1])

    def synced_age(self) -> float | None:
        """Seconds since a link last synced keys into this database, or None if none ever did
        (a standalone service). Read from the copy :meth:`check` uses, reloaded as it is."""
        if time.monotonic() - self._loaded > self._cache_seconds:
            self._refresh()
        if self._synced is None:
            return None
        return max(0.0, (datetime.now(UTC) - self._synced).total_seconds())

    def count_active(self) -> int:
        """How many keys are not revoked (zero with auth on means nobody can get in)."""
        query = select(func.count()).select_from(api_keys).where(api_keys.c.revoked.is_(None))
        with reading(self._engine).connect() as connection:
            return int(connection.scalar(query) or 0)

    def _refresh(self) -> None:
        """Reload the key table into memory (one thread at a time; others use the old copy)."""
        if not self._lock.acquire(blocking=not self._cache):
            return
        try:
            started = time.monotonic()
            query = select(api_keys.c.key_id, api_keys.c.secret_sha256, api_keys.c.revoked)
            mark = select(state_meta.c.value).where(state_meta.c.key == KEYS_SYNCED_AT)
            with reading(self._engine).connect() as connection:
                rows = connection.execute(query).all()
                synced = connection.scalar(mark)
            self._cache = {r.key_id: (r.secret_sha256, r.revoked is not None) for r in rows}
            self._synced = _moment(synced)
            self._loaded = started
        finally:
            self._lock.release()


def _moment(text: str | None) -> datetime | None:
    """A stored ISO time in UTC; None for none (or an unreadable one: treated as never)."""
    try:
        return utc(datetime.fromisoformat(text)) if text else None
    except ValueError:
        return None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError(
            f"The key name must be a non-empty string; got {name!r}. To fix: name what the key "
            f"is for, e.g. 'billing-service'."
        )
    name = name.strip()
    if len(name) > _MAX_NAME or not name.isprintable():
        raise InvalidInputError(
            f"The key name {name[:40]!r} must be printable and at most {_MAX_NAME} characters "
            f"(it has {len(name)}). To fix: choose a shorter name without control characters."
        )
    return name


def _one(rows: Sequence[Row[Any]], key: str) -> Row[Any]:
    if not rows:
        raise NotFoundError(
            f"No API key has the id or name {key!r}. To fix: see `verdict keys list` for the "
            f"key ids."
        )
    if len(rows) > 1:
        ids = ", ".join(sorted(r.key_id for r in rows))
        raise InvalidInputError(
            f"{len(rows)} API keys are named {key!r} ({ids}). To fix: revoke by key id."
        )
    return rows[0]


def _listed(row: Row[Any]) -> ApiKey:
    revoked = row.revoked
    return ApiKey(
        key_id=row.key_id,
        name=row.name,
        created=utc(row.created).isoformat(),
        revoked=None if revoked is None else utc(revoked).isoformat(),
    )
