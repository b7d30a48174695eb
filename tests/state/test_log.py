"""The prediction log: group-committed and durable, hashed where sensitive, joined with feedback."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine

from postgres_support import fresh_database
from verdict.errors import InvalidInputError
from verdict.state import (
    FeedbackItem,
    LogUnavailableError,
    OrphanLimitError,
    PredictionBatch,
    PredictionLog,
    open_state,
)

CLASSES = ["adelie", "gentoo"]


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state' / 'service.db'}"


@pytest.fixture
def engine(url: str) -> Engine:
    engine = open_state(url)
    yield engine
    engine.dispose()


def entries(request_id: str, n: int = 3, *, model: str = "penguins", version: int = 1,
            when: datetime | None = None, **inputs: object) -> list[PredictionBatch]:  # fmt: skip
    """One request of ``n`` rows, as the service records it: one batch, by column."""
    when = when or datetime.now(UTC)
    columns = {"mass": [4000 + row for row in range(n)], **{k: [v] * n for k, v in inputs.items()}}
    labels = [CLASSES[row % 2] for row in range(n)]
    proba = np.array([[0.8, 0.2] if row % 2 == 0 else [0.3, 0.7] for row in range(n)])
    return [PredictionBatch(request_id, model, version, when, columns, labels,
                            proba.reshape(n, 2), CLASSES)]  # fmt: skip


def raw_bytes(engine: Engine) -> bytes:
    engine.dispose()
    path = Path(engine.url.database)
    return b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))


def test_record_from_many_threads_then_read_back(engine: Engine) -> None:
    log = PredictionLog(engine)
    log.start()

    def worker(t: int) -> None:
        for i in range(100):
            log.record(entries(f"t{t}-{i}", 5))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert log.flush(timeout=30)
    assert log.pending == 0 and log.refused == 0
    frame = log.predictions("penguins")
    assert len(frame) == 8 * 100 * 5
    assert not frame.duplicated(["request_id", "row"]).any()
    assert list(frame.columns[:8]) == ["request_id", "row", "created", "model", "version",
                                       "label", "proba_adelie", "proba_gentoo"]  # fmt: skip
    assert str(frame["created"].dt.tz) == "UTC"
    first = frame[(frame.request_id == "t0-0") & (frame.row == 1)].iloc[0]
    assert first.label == "gentoo" and first.proba_gentoo == 0.7 and first.mass == 4001
    log.close()


def test_close_writes_everything_and_is_idempotent(engine: Engine) -> None:
    log = PredictionLog(engine)  # no writer thread: only close() will write
    done = [log.record(entries(f"r{i}")) for i in range(50)]
    assert not any(d.done() for d in done)
    log.close()
    log.close()
    assert log.pending == 0 and all(d.result(timeout=0) is None for d in done)
    assert len(PredictionLog(engine).predictions("penguins")) == 150
    after = log.record(entries("after"))  # after close: refused and counted, never raised
    assert log.refused == 3
    with pytest.raises(LogUnavailableError, match="closed"):
        after.result(timeout=0)


def test_flush_without_a_writer_thread_writes_in_the_caller(engine: Engine) -> None:
    log = PredictionLog(engine)
    log.record(entries("r"))
    assert log.pending == 3
    log.flush()
    assert log.pending == 0 and len(log.predictions("penguins")) == 3


def test_full_queue_refuses_and_counts(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    log = PredictionLog(engine, max_queue=10)
    with caplog.at_level(logging.WARNING, "verdict.serving.predlog"):
        log.record(entries("a", 6))
        refused = log.record(entries("b", 6))  # 12 > 10: refused whole, at once
        log.record(entries("c", 4))
    assert log.refused == 6 and log.pending == 10
    with pytest.raises(LogUnavailableError, match="full"):
        refused.result(timeout=0)
    assert "refused 6 rows" in caplog.text
    log.close()
    assert set(log.predictions("penguins").request_id) == {"a", "c"}


def test_window_version_and_classes_per_version(engine: Engine) -> None:
    log = PredictionLog(engine)
    t0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
    log.record(entries("old", 2, when=t0))
    log.record(entries("naive", 2, when=datetime(2026, 1, 1, 13)))  # naive: taken as UTC
    v2 = [PredictionBatch("new", "penguins", 2, t0 + timedelta(hours=2), None, ["chinstrap"],
                          np.array([[0.1, 0.2, 0.7]]), [*CLASSES, "chinstrap"])]  # fmt: skip
    log.record(v2)
    log.close()
    window = log.predictions(
        "penguins", since=t0 + timedelta(minutes=30), until=t0 + timedelta(hours=3)
    )
    assert list(window.request_id) == ["naive", "naive", "new"]
    assert window.created.iloc[0] == pd.Timestamp("2026-01-01 13:00", tz="UTC")
    assert window.proba_chinstrap.isna().sum() == 2 and window.proba_chinstrap.iloc[2] == 0.7
    assert list(log.predictions("penguins", version=2).request_id) == ["new"]
    assert log.predictions("other").empty
    with pytest.raises(InvalidInputError, match="since must be a datetime"):
        log.predictions("penguins", since="yesterday")  # type: ignore[arg-type]


def test_sensitive_columns_are_hashed_never_in_clear(engine: Engine) -> None:
    log = PredictionLog(engine, sensitive={"penguins": ["island"]})
    log.set_sensitive("penguins", ["island", "ring"])
    log.record(entries("r", 2, island="Zanzibar-Secret-Isle", ring="RingCode-77731"))
    log.record(entries("s", 1, island="Zanzibar-Secret-Isle", ring=None))
    log.flush()
    features = {"island": "Torgersen-Hidden-Place", "mass": 3000}
    log.add_feedback([FeedbackItem("adelie", features=features, model="penguins")])
    frame = log.predictions("penguins")
    hashes = set(frame.island)
    assert len(hashes) == 1 and len(hashes.pop()) == 64  # equal values stay linkable
    assert frame.ring.isna().sum() == 1  # missing stays missing
    labelled = log.labelled("penguins")
    assert labelled.island.iloc[-1] not in ("Torgersen-Hidden-Place", None)
    log.close()
    raw = raw_bytes(engine)
    for clear in (b"Zanzibar-Secret-Isle", b"RingCode-77731", b"Torgersen-Hidden-Place"):
        assert clear not in raw
    assert b"4000" in raw  # the non-sensitive inputs are there, in clear


def test_feedback_by_request_id_and_with_features(engine: Engine) -> None:
    log = PredictionLog(engine)
    log.record(entries("req-1", 3))  # not yet written (no writer): add_feedback flushes first
    result = log.add_feedback([
        FeedbackItem("gentoo", request_id="req-1", row=0),
        FeedbackItem("adelie", request_id="req-1", row=0),  # a correction: the latest wins
        FeedbackItem("gentoo", request_id="req-1", row=2, model="other"),  # wrong model
        FeedbackItem("gentoo", request_id="nope", row=1),
        FeedbackItem("adelie", features={"mass": 3100, "bill": 39.1}, model="penguins"),
    ])  # fmt: skip
    assert result.attached == 2 and result.with_features == 1
    assert result.unknown == [{"request_id": "req-1", "row": 2}, {"request_id": "nope", "row": 1}]
    labelled = log.labelled("penguins")
    assert list(labelled.source) == ["prediction", "features"]
    first = labelled.iloc[0]
    assert (first.request_id, first.row, first.label, first.true_label) == (
        "req-1",
        0,
        "adelie",
        "adelie",
    )
    assert labelled.iloc[1].true_label == "adelie" and labelled.iloc[1].bill == 39.1
    assert pd.isna(labelled.iloc[1].label)
    # a label stored before its prediction is written (another replica) is joined when it is
    log.record(entries("nope", 2))
    log.flush()
    late = log.labelled("penguins")
    assert ("nope", 1, "gentoo") in set(
        zip(late.request_id, late.row, late.true_label, strict=True)
    )
    log.close()


@pytest.mark.parametrize(
    ("item", "needle"),
    [(FeedbackItem(None, request_id="r"), "label is missing"),
     (FeedbackItem("a"), "neither a request id nor features"),
     (FeedbackItem("a", request_id="r", row=-1), "row -1"),
     (FeedbackItem("a", features={"x": 1}), "without the model"),
     ("not an item", "expected a FeedbackItem")],
)  # fmt: skip
def test_bad_feedback_names_the_item(engine: Engine, item: object, needle: str) -> None:
    log = PredictionLog(engine)
    with pytest.raises(InvalidInputError, match="feedback item 1") as caught:
        log.add_feedback([FeedbackItem("a", request_id="ok"), item])  # type: ignore[list-item]
    assert needle in str(caught.value) and "To fix" in str(caught.value)
    assert log.labelled("penguins").empty  # nothing stored from a refused call


def test_writer_survives_failed_groups(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    log = PredictionLog(engine)
    real, failures = log._write, {"left": 1}

    def flaky(connection, group):
        if failures["left"] > 0:
            failures["left"] -= 1
            raise RuntimeError("disk on fire")
        return real(connection, group)

    log._write = flaky  # type: ignore[method-assign]
    log.start()
    with caplog.at_level(logging.ERROR, "verdict.serving.predlog"):
        assert log.record(entries("retried")).result(timeout=10) is None  # failed once, retried
        assert log.refused == 0
        failures["left"] = 2
        lost = log.record(entries("lost"))
        with pytest.raises(LogUnavailableError, match="disk on fire"):
            lost.result(timeout=10)  # the caller learns it: the service answers 503, not 200
        assert log.refused == 3
        assert log.record(entries("later")).result(timeout=10) is None
    assert "disk on fire" in caplog.text and "(try 2)" in caplog.text
    assert set(log.predictions("penguins").request_id) == {"retried", "later"}
    log.close()


def test_record_does_not_block_the_caller(engine: Engine) -> None:
    log = PredictionLog(engine)
    log.start()
    when = datetime.now(UTC)
    lists = [entries(f"r{i}", 100, when=when) for i in range(1000)]  # 100k rows
    costs = []
    for batch in lists:
        started = time.perf_counter()
        log.record(batch)
        costs.append(time.perf_counter() - started)
    mean = sum(costs) / len(costs)
    print(f"\nrecord(100 entries): mean {mean * 1e6:.1f} us, max {max(costs) * 1e6:.0f} us")
    assert mean < 1e-3  # in practice a few microseconds
    started = time.perf_counter()
    assert log.flush(timeout=60)
    print(f"100k rows committed {time.perf_counter() - started:.2f} s after the last record()")
    assert log.refused == 0
    log.close()
    with sqlite3.connect(engine.url.database) as db:
        assert db.execute("SELECT sum(n_rows) FROM predictions").fetchone()[0] == 100_000


CHILD = textwrap.dedent(
    """
    import asyncio, sys, time
    from datetime import UTC, datetime
    import numpy as np
    from verdict.state import PredictionBatch, PredictionLog
    from verdict.state import open_state

    log = PredictionLog(open_state(sys.argv[1]))
    log.start()
    print("ready", flush=True)

    async def stream(s):  # as the service does: answer a request once its rows are committed
        for batch in range(100_000):
            now = datetime.now(UTC)
            await log.commit([PredictionBatch(f"s{s}-{batch}", "m", 1, now,
                                              {"x": list(range(20))}, ["a"] * 20,
                                              np.ones((20, 1)), ["a"])])
            print(f"s{s}-{batch}", flush=True)

    async def main():
        await asyncio.gather(*(stream(s) for s in range(4)))

    asyncio.run(main())
    """
)


def test_kill_9_loses_no_acknowledged_batch(url: str, engine: Engine) -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD, url], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        time.sleep(1.5)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        out, _ = child.communicate(timeout=30)
    acknowledged = {line.strip() for line in out.splitlines() if line.startswith("s")}
    with sqlite3.connect(engine.url.database) as db:
        counts = dict(db.execute("SELECT request_id, sum(n_rows) FROM predictions GROUP BY 1"))
    assert len(acknowledged) > 100
    assert set(counts.values()) == {20}  # batches are all-or-nothing
    missing = acknowledged - set(counts)
    print(f"\nkill -9: {len(acknowledged)} acknowledged, {len(counts)} stored, "
          f"{len(missing)} acknowledged but missing")  # fmt: skip
    assert not missing, sorted(missing)[:5]


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest, url: str) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = open_state(url)
        yield engine
        engine.dispose()
        return
    with fresh_database("verdict_predlog") as pg_url:
        engine = open_state(pg_url)
        yield engine
        engine.dispose()


def test_labels_are_checked_and_orphans_bounded_per_model(any_engine: Engine) -> None:
    log = PredictionLog(any_engine)
    log.record(entries("seen", 2))
    classes = {"penguins": ["adelie", "gentoo"], "other": [0, 1]}.get
    rules = {"classes": classes, "max_orphans": 2}
    result = log.add_feedback([FeedbackItem(" gentoo ", request_id="seen", row=1)], **rules)
    assert result.attached == 1
    with pytest.raises(InvalidInputError, match=r"label 42 is not one of the classes"):
        log.add_feedback([FeedbackItem(42, request_id="seen")], **rules)
    orphans = [FeedbackItem("adelie", request_id=f"late-{i}", model="penguins") for i in range(2)]
    assert len(log.add_feedback(orphans, **rules).unknown) == 2
    with pytest.raises(OrphanLimitError, match="2 labels"):
        log.add_feedback([FeedbackItem("adelie", request_id="late-2", model="penguins")], **rules)
    assert log.add_feedback([FeedbackItem("1", request_id="x", model="other")], **rules).unknown
    log.record(entries("late-0", 1))  # a late prediction (another replica): one orphan less
    log.flush()
    log.add_feedback([FeedbackItem("adelie", request_id="late-2", model="penguins")], **rules)
    labelled = log.labelled("penguins")
    assert ("seen", 1, "gentoo") in set(zip(labelled.request_id, labelled.row,
                                            labelled.true_label, strict=True))  # fmt: skip
    log.close()


def test_every_write_path_stores_time_in_one_comparable_form(engine: Engine, url: str) -> None:
    """The first group of a version goes through SQLAlchemy, later ones through the raw writer.

    SQLite compares ``created`` as text, so both must write SQLAlchemy's form: an ISO form with
    ``+00:00`` from the raw path once sorted after its own second and a window ``< until``
    then took a row it should not have.
    """
    log = PredictionLog(engine)
    at = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    log.record(entries("first", when=at))
    log.flush()
    log.record(entries("second", when=at + timedelta(seconds=1)))
    log.flush()
    log.close()
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        stored = dict(db.execute("SELECT request_id, created FROM predictions"))
    assert stored == {"first": "2026-01-01 12:00:00.000000", "second": "2026-01-01 12:00:01.000000"}


def test_arrived_counts_logged_requests_and_their_labels(engine: Engine) -> None:
    log = PredictionLog(engine)
    assert log.arrived(["a", "b"]) == (0, 0)
    for request_id in ("a", "b", "c"):
        log.record(entries(request_id))
    log.flush()
    log.add_feedback([FeedbackItem("gentoo", request_id="a"), FeedbackItem("adelie", "b", row=2)])
    assert log.arrived(["a", "b", "a", "missing"]) == (2, 2)  # each id counted once
    assert log.arrived(f"x{i}" for i in range(1000)) == (0, 0)  # more ids than one IN (...) holds
    log.close()
