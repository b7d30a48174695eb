"""The link from a target's state database to the central one: exactly once, through cuts,
lost marks and crashes; keys and revocations back to the target; a real process stopped by
SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, delete, select

from postgres_support import fresh_database
from verdict.deploy.local import _link
from verdict.deploy.local._link import ShipResult, link_command, run_link, ship
from verdict.errors import ConfigurationError, InvalidInputError
from verdict.state import (
    FeedbackItem,
    KeyStore,
    PredictionBatch,
    PredictionLog,
    _sync,
    adopt_salt,
    log_backlog,
)
from verdict.state._database import feedback, open_state, predictions, salt, sync_marks

CLASSES = ["adelie", "gentoo"]


@pytest.fixture(params=["sqlite", "postgresql"])
def central_url(request, tmp_path: Path) -> Iterator[str]:
    """The central state database: SQLite, or a fresh PostgreSQL database when
    ``VERDICT_TEST_POSTGRES_URL`` points at a server (``.ci/run`` starts one)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'central' / 'service.db'}"
        return
    with fresh_database("verdict_link") as url:
        yield url


@pytest.fixture
def urls(tmp_path: Path, central_url: str) -> dict[str, str]:
    targets = {name: f"sqlite:///{tmp_path / name / 'service.db'}" for name in ("aws", "gcp")}
    return {**targets, "central": central_url}


@pytest.fixture
def engines(urls: dict[str, str]) -> Iterator[dict[str, Engine]]:
    opened = {name: open_state(url) for name, url in urls.items()}
    yield opened
    for engine in opened.values():
        engine.dispose()


def batch(request_id: str, n: int = 3, **inputs: object) -> PredictionBatch:
    """One request of ``n`` rows, as the service records it."""
    columns = {"mass": [4000 + i for i in range(n)], **{k: [v] * n for k, v in inputs.items()}}
    proba = np.array([[0.8, 0.2] if i % 2 == 0 else [0.3, 0.7] for i in range(n)])
    labels = [CLASSES[i % 2] for i in range(n)]
    return PredictionBatch(request_id, "penguins", 1, datetime.now(UTC), columns, labels, proba,
                           CLASSES)  # fmt: skip


def serve(engine: Engine, target: str, ids: list[str], **log_options: object) -> PredictionLog:
    """Log one request per id through the service's own writer, tagged with ``target``."""
    log = PredictionLog(engine, target=target, **log_options)
    log.record([batch(i) for i in ids])
    log.flush()
    return log


def central_rows(engine: Engine, table=predictions) -> list[tuple]:
    order = (table.c.target.nulls_first(), table.c.source_id)
    query = select(table.c.target, table.c.source_id).order_by(*order)
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(query)]


def request_ids(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return sorted(connection.scalars(select(predictions.c.request_id)))


def test_ship_copies_each_row_once_with_target_and_source_id(engines):
    source, central = engines["aws"], engines["central"]
    log = serve(source, "aws-eu", ["a", "b", "c"])
    sent = FeedbackItem("adelie", features={"mass": 3900}, model="penguins")
    log.add_feedback([FeedbackItem("gentoo", request_id="b", row=1), sent])
    assert ship("aws-eu", source, central) == ShipResult(3, 2, 0, 0)
    assert central_rows(central) == [("aws-eu", 1), ("aws-eu", 2), ("aws-eu", 3)]
    assert central_rows(central, feedback) == [("aws-eu", 1), ("aws-eu", 2)]
    assert ship("aws-eu", source, central) == ShipResult(0, 0, 0, 0)
    assert len(central_rows(central)) == 3

    shipped = PredictionLog(central).predictions("penguins")  # what `verdict monitor` reads
    assert len(shipped) == 9 and set(shipped["target"]) == {"aws-eu"}
    assert shipped["proba_gentoo"].tolist() == log.predictions("penguins")["proba_gentoo"].tolist()
    labelled = PredictionLog(central).labelled("penguins")
    assert labelled[["request_id", "row", "true_label", "target"]].values.tolist() == [
        ["b", 1, "gentoo", "aws-eu"], [None, 0, "adelie", "aws-eu"]]  # fmt: skip


def test_local_rows_and_two_targets_do_not_collide(engines):
    central = engines["central"]
    serve(central, None, ["local-1"])  # the central service's own rows: no target, no source id
    serve(engines["aws"], "aws-eu", ["a1", "a2"])
    serve(engines["gcp"], "gcp-eu", ["g1", "g2"])
    assert ship("aws-eu", engines["aws"], central).predictions == 2
    assert ship("gcp-eu", engines["gcp"], central).predictions == 2
    assert central_rows(central) == [(None, None), ("aws-eu", 1), ("aws-eu", 2),
                                     ("gcp-eu", 1), ("gcp-eu", 2)]  # fmt: skip
    frame = PredictionLog(central).predictions("penguins")
    assert dict(zip(frame["request_id"], frame["target"], strict=True)) == {
        "a1": "aws-eu", "a2": "aws-eu", "g1": "gcp-eu", "g2": "gcp-eu", "local-1": None,
    }  # fmt: skip


def test_a_cut_link_catches_up_when_restored(engines):
    source, central = engines["aws"], engines["central"]
    serve(source, "aws-eu", ["a", "b"])
    assert ship("aws-eu", source, central).predictions == 2
    serve(source, "aws-eu", ["c", "d"])  # cut: nothing ships, the target buffers
    serve(source, "aws-eu", [f"e{i}" for i in range(45)])
    first = ship("aws-eu", source, central, batch_rows=1)  # a call ships 40 batches at most
    assert (first.predictions, first.backlog) == (40, 7)
    assert ship("aws-eu", source, central, batch_rows=1) == ShipResult(7, 0, 0, 0)
    assert [s for _, s in central_rows(central)] == list(range(1, 50))
    assert request_ids(central) == request_ids(source)


def test_a_lost_mark_replays_without_duplicates(engines):
    source, central = engines["aws"], engines["central"]
    log = serve(source, "aws-eu", ["a", "b", "c"])
    log.add_feedback([FeedbackItem("gentoo", request_id="a")])
    ship("aws-eu", source, central)
    with central.begin() as connection:
        connection.execute(delete(sync_marks))  # e.g. restored from an older backup
    serve(source, "aws-eu", ["d"])
    assert ship("aws-eu", source, central) == ShipResult(1, 0, 0, 0)
    assert central_rows(central) == [("aws-eu", i) for i in (1, 2, 3, 4)]
    assert central_rows(central, feedback) == [("aws-eu", 1)]
    with central.connect() as connection:
        marks = dict(connection.execute(select(sync_marks.c.table, sync_marks.c.last_id)).all())
    assert marks == {"predictions": 4, "feedback": 1}


def test_a_crash_before_the_mark_commits_loses_and_duplicates_nothing(engines, monkeypatch):
    source, central = engines["aws"], engines["central"]
    serve(source, "aws-eu", ["a", "b"])
    real = _sync._set_mark

    def crash(*args: object) -> None:
        raise RuntimeError("killed between the insert and the mark")

    monkeypatch.setattr(_sync, "_set_mark", crash)
    with pytest.raises(RuntimeError):
        ship("aws-eu", source, central)
    assert central_rows(central) == []  # the insert rolled back with the mark
    monkeypatch.setattr(_sync, "_set_mark", real)
    assert ship("aws-eu", source, central).predictions == 2
    assert central_rows(central) == [("aws-eu", 1), ("aws-eu", 2)]


def test_keys_and_revocations_reach_the_target(engines):
    source, central = engines["aws"], engines["central"]
    center_keys = KeyStore(central, cache_seconds=0)
    kept, dropped = center_keys.create("ops"), center_keys.create("old-client")
    local = KeyStore(source, cache_seconds=0).create("target-only")
    assert ship("aws-eu", source, central).keys == 2
    target_keys = KeyStore(source, cache_seconds=0)
    assert target_keys.check(kept.token).status == "valid"
    assert target_keys.check(dropped.token).status == "valid"
    center_keys.revoke(dropped.key_id)
    assert ship("aws-eu", source, central).keys == 1  # one round
    assert target_keys.check(dropped.token).status == "revoked"
    assert target_keys.check(kept.token).status == "valid"
    assert target_keys.check(local.token).status == "valid"  # the target's own keys stay
    assert ship("aws-eu", source, central).keys == 0


def test_adopt_salt_makes_hashes_agree(engines):
    source, central = engines["aws"], engines["central"]
    assert salt(source) != salt(central)
    adopt_salt(source, central)
    assert salt(source) == salt(central)
    adopt_salt(source, central)  # idempotent
    for engine, rid in ((source, "t"), (central, "c")):
        log = PredictionLog(engine, sensitive={"penguins": ["sex"]})
        log.record([batch(rid, 1, sex="female")])
        log.flush()
    ship("aws-eu", source, central)
    frame = PredictionLog(central).predictions("penguins")
    assert frame["sex"].nunique() == 1 and frame["sex"].iloc[0] != "female"


def test_adopt_salt_refuses_a_target_with_rows_of_another_salt(engines):
    serve(engines["aws"], "aws-eu", ["a"])
    with pytest.raises(ConfigurationError, match="To fix:"):
        adopt_salt(engines["aws"], engines["central"])


@pytest.mark.parametrize(("target", "rows"), [("", 500), ("x" * 64, 500), ("aws", 0)])
def test_ship_checks_its_arguments(engines, target, rows):
    with pytest.raises(InvalidInputError, match="To fix:"):
        ship(target, engines["aws"], engines["central"], batch_rows=rows)


def wait_for(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_link_survives_an_unreachable_central_database(tmp_path, engines, urls):
    blocker = tmp_path / "down"
    blocker.write_text("a file where the central database's folder should be")
    stop = threading.Event()
    central_url = f"sqlite:///{blocker / 'service.db'}"
    thread = threading.Thread(
        target=run_link, args=("aws-eu", urls["aws"], central_url, tmp_path / "cut"),
        kwargs={"interval": 0.05, "stop": stop}, daemon=True,
    )  # fmt: skip
    serve(engines["aws"], "aws-eu", ["a", "b"])
    thread.start()
    try:
        time.sleep(0.5)  # several failed rounds
        assert thread.is_alive()
        blocker.unlink()  # the central database comes back
        wait_for(lambda: Path(blocker / "service.db").exists())
        central = open_state(central_url)
        try:
            wait_for(lambda: len(central_rows(central)) == 2)
        finally:
            central.dispose()
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()


def test_stopping_ships_once_more(tmp_path, engines, urls):
    source, central = engines["aws"], engines["central"]
    serve(source, "aws-eu", ["early"])
    stop = threading.Event()
    thread = threading.Thread(
        target=run_link, args=("aws-eu", urls["aws"], urls["central"], tmp_path / "cut"),
        kwargs={"interval": 60.0, "stop": stop}, daemon=True,
    )  # fmt: skip
    thread.start()
    try:
        wait_for(lambda: request_ids(central) == ["early"])  # the first round, then a long wait
        serve(source, "aws-eu", ["late"])
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()
    assert request_ids(central) == ["early", "late"]


def test_link_command_is_what_the_link_process_parses(tmp_path):
    command = link_command("aws-eu", "sqlite:///a.db", "sqlite:///c.db", tmp_path / "cut")
    assert command[:3] == [sys.executable, "-m", "verdict.deploy.local._link"]
    args = _link._parser().parse_args(command[3:])
    assert (args.target, args.source) == ("aws-eu", "sqlite:///a.db")
    assert args.central == "sqlite:///c.db" and args.cut_flag == tmp_path / "cut"
    assert args.interval == 0.25 and args.model is None
    following = link_command(
        "gcp-eu", "sqlite:///g.db", "sqlite:///c.db", tmp_path / "cut", interval=0.5,
        model="penguins@production", registry_url="sqlite:///r.db", store="", artifacts=tmp_path,
    )  # fmt: skip
    args = _link._parser().parse_args(following[3:])
    assert (args.interval, args.model, args.store) == (0.5, "penguins@production", "")
    assert args.registry == "sqlite:///r.db" and args.artifacts == str(tmp_path)


@pytest.mark.slow
def test_the_link_process_cut_restored_and_stopped_by_sigterm(tmp_path, engines, urls):
    source, central = engines["aws"], engines["central"]
    cut = tmp_path / "cut"
    command = link_command("aws-eu", urls["aws"], urls["central"], cut, interval=0.05)
    log = PredictionLog(source, target="aws-eu")
    log.start()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
    try:
        log.record([batch(f"up-{i}") for i in range(5)])
        wait_for(lambda: len(request_ids(central)) == 5)
        cut.touch()
        time.sleep(0.3)  # a round in flight when the flag appeared may still finish
        shipped_before = len(request_ids(central))
        for i in range(20):
            log.record([batch(f"cut-{i}")])
            time.sleep(0.01)
        log.flush()
        time.sleep(0.5)
        assert len(request_ids(central)) == shipped_before == 5  # the target buffers
        cut.unlink()  # restored: it catches up while rows keep coming
        for i in range(20):
            log.record([batch(f"back-{i}")])
            time.sleep(0.01)
        log.flush()
        wait_for(lambda: len(request_ids(central)) == 45)
        log.record([batch("last")])
        log.flush()
        process.send_signal(signal.SIGTERM)  # graceful: one last ship, exit 0
        output, _ = process.communicate(timeout=60)
        assert process.returncode == 0, output.decode()
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        log.close()
    assert request_ids(central) == request_ids(source) and len(request_ids(source)) == 46
    assert [s for _, s in central_rows(central)] == list(range(1, 47))
    assert set(PredictionLog(central).predictions("penguins")["target"]) == {"aws-eu"}


def test_ship_marks_when_the_keys_were_last_synced(engines, monkeypatch):
    source, central = engines["aws"], engines["central"]
    keys = KeyStore(source, cache_seconds=0)
    assert keys.synced_age() is None  # never synced: a standalone database
    ship("aws-eu", source, central)
    first = _synced_at(source)
    assert first is not None and keys.synced_age() < 5
    writes = []
    monkeypatch.setattr(_sync, "_set_synced", lambda *args: writes.append(args))
    ship("aws-eu", source, central)  # within a second: nothing to write, no write lock
    assert writes == [] and _synced_at(source) == first
    monkeypatch.undo()
    monkeypatch.setattr(_sync, "_SYNC_MARK_SECONDS", 0.0)
    ship("aws-eu", source, central)  # due again: rewritten
    assert _synced_at(source) > first


def test_a_failed_key_sync_leaves_the_mark_alone(tmp_path, engines):
    source = engines["aws"]
    blocker = tmp_path / "nowhere"
    blocker.write_text("a file where the central database's folder should be")
    stop = threading.Event()
    thread = threading.Thread(
        target=run_link, args=("aws-eu", str(source.url), f"sqlite:///{blocker / 'c.db'}",
                               tmp_path / "cut"),
        kwargs={"interval": 0.05, "stop": stop}, daemon=True,
    )  # fmt: skip
    thread.start()
    time.sleep(0.5)  # failed rounds
    stop.set()
    thread.join(30)
    assert _synced_at(source) is None


def test_backlog_counts_what_is_not_shipped_yet(engines):
    source, central = engines["aws"], engines["central"]
    log = serve(source, "aws-eu", ["a", "b"])
    log.add_feedback([FeedbackItem("gentoo", request_id="a")])
    assert log_backlog("aws-eu", source, central) == 3
    ship("aws-eu", source, central)
    assert log_backlog("aws-eu", source, central) == 0
    serve(source, "aws-eu", ["c"])
    assert log_backlog("aws-eu", source, central) == 1


def _synced_at(engine: Engine) -> str | None:
    from verdict.state._database import state_meta
    from verdict.state._keys import KEYS_SYNCED_AT

    with engine.connect() as connection:
        query = select(state_meta.c.value).where(state_meta.c.key == KEYS_SYNCED_AT)
        return connection.scalar(query)
