"""API keys: created once, stored hashed, checked fast, revoked across processes."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from verdict.errors import ConfigurationError, InvalidInputError, NotFoundError
from verdict.state import KeyStore, open_state


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = open_state(f"sqlite:///{tmp_path / 'state' / 'service.db'}")
    yield engine
    engine.dispose()


def test_create_then_check_is_valid(engine: Engine) -> None:
    store = KeyStore(engine)
    created = store.create("billing")
    assert created.token.startswith(f"vdk_{created.key_id}_")
    assert len(created.token.split("_", 2)[2]) >= 22  # >= 128 bits of token_urlsafe
    assert store.check(created.token).status == "valid"
    assert store.check(created.token).key_id == created.key_id
    assert "token" not in str(created)  # printed results never show the token
    assert store.count_active() == 1


@pytest.mark.parametrize(
    ("token", "status"),
    [(None, "missing"), ("", "missing"), ("nonsense", "unknown"), ("vdk_abc", "unknown"),
     ("vdk_000000000000_secret", "unknown"), ("xyz_a_b", "unknown")],
)  # fmt: skip
def test_check_missing_and_unknown(engine: Engine, token: str | None, status: str) -> None:
    store = KeyStore(engine)
    store.create("one")
    check = store.check(token)
    assert check.status == status and check.key_id is None


def test_real_key_id_with_wrong_secret_is_unknown(engine: Engine) -> None:
    store = KeyStore(engine)
    created = store.create("one")
    assert store.check(f"vdk_{created.key_id}_{'A' * 32}").status == "unknown"
    store.revoke(created.key_id)
    # revoked is only told to someone holding the secret
    assert store.check(f"vdk_{created.key_id}_{'A' * 32}").status == "unknown"
    assert store.check(created.token).status == "revoked"


def test_list_and_revoke_by_id_or_name(engine: Engine) -> None:
    store = KeyStore(engine)
    first, second = store.create("first"), store.create("second")
    listed = store.list()
    assert [k.key_id for k in listed] == [first.key_id, second.key_id]
    assert all(k.revoked is None for k in listed)
    assert not any(hasattr(k, "token") for k in listed)
    revoked = store.revoke("second")
    assert revoked.key_id == second.key_id and revoked.revoked is not None
    again = store.revoke(second.key_id)  # already revoked: returned unchanged
    assert again == revoked
    assert store.count_active() == 1
    assert store.check(second.token).status == "revoked"
    assert store.check(first.token).status == "valid"


def test_revoke_unknown_and_ambiguous(engine: Engine) -> None:
    store = KeyStore(engine)
    with pytest.raises(NotFoundError, match="To fix"):
        store.revoke("nobody")
    store.create("twin")
    store.create("twin")
    with pytest.raises(InvalidInputError, match="revoke by key id"):
        store.revoke("twin")


@pytest.mark.parametrize("name", ["", "   ", "a\nb", "x" * 200])
def test_bad_names_are_refused(engine: Engine, name: str) -> None:
    with pytest.raises(InvalidInputError, match="To fix"):
        KeyStore(engine).create(name)


def test_revocation_elsewhere_is_seen_within_cache_seconds(engine: Engine) -> None:
    server = KeyStore(engine, cache_seconds=0.2)
    created = server.create("svc")
    assert server.check(created.token).status == "valid"
    other = open_state(str(engine.url))  # another process: its own engine and cache
    try:
        KeyStore(other).revoke(created.key_id)
        late = KeyStore(other).create("late")
    finally:
        other.dispose()
    time.sleep(0.3)
    assert server.check(created.token).status == "revoked"
    assert server.check(late.token).status == "valid"


def test_cached_check_is_fast(engine: Engine) -> None:
    store = KeyStore(engine, cache_seconds=60)
    token = store.create("fast").token
    store.check(token)
    started = time.perf_counter()
    for _ in range(2000):
        store.check(token)
    per_call = (time.perf_counter() - started) / 2000
    assert per_call < 200e-6, per_call  # a few microseconds in practice


def test_tokens_are_never_stored_in_clear(engine: Engine) -> None:
    store = KeyStore(engine)
    tokens = [store.create(f"k{i}").token for i in range(3)]
    engine.dispose()
    path = Path(engine.url.database)
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    with sqlite3.connect(path) as db:
        stored = db.execute("SELECT * FROM api_keys").fetchall()
    for token in tokens:
        secret = token.split("_", 2)[2]
        assert secret.encode() not in raw
        assert all(secret not in str(value) for row in stored for value in row)


def test_in_memory_state_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="To fix"):
        open_state("sqlite://")
    with pytest.raises(ConfigurationError, match="not a SQLAlchemy URL"):
        open_state("not a url")


def _mark_synced(engine: Engine, seconds_ago: float) -> None:
    """Record a key sync ``seconds_ago`` as a link does (``state_meta.keys_synced_at``)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import delete, insert

    from verdict.state._database import state_meta
    from verdict.state._keys import KEYS_SYNCED_AT

    moment = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    with engine.begin() as connection:
        connection.execute(delete(state_meta).where(state_meta.c.key == KEYS_SYNCED_AT))
        connection.execute(insert(state_meta), {"key": KEYS_SYNCED_AT, "value": moment.isoformat()})


def test_synced_age_reads_the_links_mark_with_the_keys(engine: Engine) -> None:
    store = KeyStore(engine, cache_seconds=0.2)
    assert store.synced_age() is None  # no link ever synced: a standalone service
    _mark_synced(engine, 30)
    time.sleep(0.25)  # the cached copy is reloaded like the keys
    assert 30 <= store.synced_age() < 32
    _mark_synced(engine, 0)
    assert store.synced_age() >= 30  # still the cached copy
    time.sleep(0.25)
    assert store.synced_age() < 2


def _refusal(engine: Engine, token: str | None, bound: float | None, **kw: float) -> Any:
    from verdict.serving._middleware import authenticate

    headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
    return authenticate(KeyStore(engine, cache_seconds=0), headers, bound)


def test_stale_keys_fail_closed_with_503(engine: Engine) -> None:
    store = KeyStore(engine)
    valid, revoked = store.create("valid"), store.create("revoked")
    store.revoke(revoked.key_id)
    _mark_synced(engine, 5)
    assert _refusal(engine, valid.token, 10) is None  # fresh enough
    assert _refusal(engine, valid.token, None) is None  # no bound: trusted however old
    _mark_synced(engine, 60)
    assert _refusal(engine, valid.token, None) is None
    stale = _refusal(engine, valid.token, 10)
    assert (stale.status, stale.kind) == (503, "keys_stale")
    assert "60 s" in stale.message and "To fix: restore" in stale.message
    unknown = _refusal(engine, "vdk_000000000000_" + "A" * 32, 10)
    assert unknown.kind == "keys_stale"  # it may be a key created centrally since
    assert _refusal(engine, revoked.token, 10).status == 403  # known revoked: still refused
    assert _refusal(engine, None, 10).status == 401  # no key at all: still 401


def test_a_bound_without_any_sync_refuses_keyed_requests(engine: Engine) -> None:
    token = KeyStore(engine).create("valid").token
    never = _refusal(engine, token, 120)
    assert (never.status, never.kind) == (503, "keys_stale")
    assert "never heard" in never.message
