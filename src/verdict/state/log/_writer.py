"""The prediction log: every answered row committed before its answer leaves, in groups.

A request's rows are recorded as one :class:`PredictionBatch` (by column) and stored as one
table row (see ``_rows``); :meth:`PredictionLog.predictions` explodes them back into
one frame row per predicted row.

Group commit, two ways. The service's: each micro-batch, right after scoring, commits the rows
of all its requests in one transaction in its own worker thread (:meth:`write_now`, called by
``ServedModels``), so no request is answered before its rows are stored and a group costs no
thread hand-off. Everyone else's: :meth:`commit` (awaitable) and :meth:`record` (a future)
queue batches for a writer thread that commits everything queued at once (the requests
arriving during a commit form the next group; no timer). With SQLite in WAL mode and
``synchronous=NORMAL`` a committed group has reached the operating system, so every answered
prediction survives ``kill -9`` of the process (a power cut can still lose the last commits).
A group that fails is retried once; if it still fails, or the queue is full (``max_queue``
rows waiting) or the log is closed, its requests are refused (:class:`LogUnavailableError`)
and the service answers 503 instead of a prediction it did not store. ``pending`` and
``refused`` count rows.

Sensitive inputs are hashed by the writer, never stored in clear (see ``_rows``).
Feedback (true labels) is written synchronously; see :meth:`PredictionLog.add_feedback`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import Future, wait
from datetime import datetime
from numbers import Integral
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from verdict._params import Interval, check
from verdict.errors import InvalidInputError, VerdictError
from verdict.state._database import salt
from verdict.state.log._insert import GroupWriter
from verdict.state.log._read import (
    FeedbackRules,
    arrived,
    labelled_frame,
    predictions_frame,
    store_feedback,
)
from verdict.state.log._rows import (
    FeedbackItem,
    FeedbackResult,
    Hasher,
    PredictionBatch,
    Sensitive,
    batch_row,
    batch_size,
    check_feedback,
)

__all__ = [
    "FeedbackItem",
    "FeedbackResult",
    "LogUnavailableError",
    "PredictionBatch",
    "PredictionLog",
]

logger = logging.getLogger("verdict.serving.predlog")

_WARN_EVERY = 10.0  # seconds between two warnings about refused rows
GATHER_SECONDS = 0.0005  # what a woken writer waits for the rest of a micro-batch's answers
_FEEDBACK_FLUSH_TIMEOUT = 30.0
_Queued = tuple[Sequence[PredictionBatch], Sensitive, "Future | None", "asyncio.Future | None"]


class LogUnavailableError(VerdictError):
    """The prediction log could not commit a request's rows (full, closed, or failing)."""


class PredictionLog:
    """A group-committed, durable log of answered predictions, and the feedback store.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The state database (:func:`open_state`).
    sensitive : mapping of str to collection of str, optional
        Model name -> input columns stored hashed.
    max_queue : int, default 100000
        Rows (not batches) waiting to be committed at most; a request that would go beyond it
        is refused at once.
    target : str, optional
        The deployment target stored with every prediction and feedback row written here
        (``ServiceSettings.target``); None for a service outside a multi-target deployment.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        sensitive: Mapping[str, Collection[str]] | None = None,
        max_queue: int = 100_000,
        target: str | None = None,
    ) -> None:
        at_least_one = Interval(Integral, 1, None, closed="left")
        check(
            "max_queue", max_queue, "PredictionLog", at_least_one, fix="pass e.g. max_queue=100000"
        )
        self._engine = engine
        self._target = target
        self._max_queue = max_queue
        self._hasher = Hasher(salt(engine))
        self._sensitive: Sensitive = {}
        for model, columns in (sensitive or {}).items():
            self.set_sensitive(model, columns)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._queue: list[_Queued] = []
        self._writing: list[_Queued] = []  # the group being committed now
        self._direct: GroupWriter | None = None  # write_now's connection, one caller at a time
        self._direct_lock = threading.Lock()
        self._pending = self._refused = 0
        self._last_warning = -_WARN_EVERY
        self._drain_lock = threading.Lock()
        self._known_classes: set[tuple[str, int]] = set()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.commits = self.committed = 0  # groups written, and the requests in them

    @property
    def refused(self) -> int:
        """Rows refused: queue full, recorded after close, or a group that failed twice."""
        return self._refused

    @property
    def pending(self) -> int:
        """Rows recorded and not yet committed."""
        return self._pending

    def set_sensitive(self, model: str, columns: Collection[str]) -> None:
        """Store the named input columns of ``model`` hashed from now on (rows recorded after)."""
        if isinstance(columns, str):
            raise InvalidInputError(
                f"columns must be a collection of names, not the string {columns!r}. To fix: "
                f"pass a list, e.g. [{columns!r}]."
            )
        # replaced, never mutated: queued entries keep a reference to the mapping they saw
        self._sensitive = {**self._sensitive, str(model): frozenset(map(str, columns))}

    def start(self) -> None:
        """Start the writer thread (once; a closed log cannot be restarted)."""
        with self._lock:
            if self._closed:
                raise InvalidInputError(
                    "The prediction log is closed. To fix: create a new PredictionLog."
                )
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._run, name="verdict-prediction-log", daemon=True
            )
        self._thread.start()

    async def commit(self, batches: Sequence[PredictionBatch]) -> None:
        """Queue ``batches`` and return once they are committed (group commit).

        The writer wakes the event loop once per group, not once per request.

        Raises
        ------
        LogUnavailableError
            If the log is closed or full, or the write failed twice: nothing was stored.
        """
        waiter = asyncio.get_running_loop().create_future()
        done = self._enqueue(batches, waiter)
        if done.done():  # refused at once
            done.result()
        await waiter

    def record(self, batches: Sequence[PredictionBatch]) -> Future:
        """Queue ``batches`` for the next group commit; never blocks, never raises.

        Returns
        -------
        concurrent.futures.Future
            Done once the batches are committed; its exception is a ``LogUnavailableError``
            when they were refused (the rows are counted in :attr:`refused`).
        """
        return self._enqueue(batches, None)

    def _enqueue(self, batches: Sequence[PredictionBatch], waiter: asyncio.Future | None) -> Future:
        done: Future = Future()
        try:
            batches, n = self._checked(batches)
            with self._lock:
                if self._closed or self._pending + n > self._max_queue:
                    self._refuse(n, done, "closed" if self._closed else "full")
                    return done
                self._queue.append((batches, self._sensitive, done, waiter))
                self._pending += n
                self._wake.notify()
        except Exception as exc:  # the hot path fails only the request, with a clear error
            logger.exception("could not queue prediction log batches")
            if not done.done():
                done.set_exception(LogUnavailableError(f"The prediction log failed: {exc}"))
        return done

    def write_now(self, batches: Sequence[PredictionBatch]) -> None:
        """Commit ``batches`` in the calling thread, as one transaction, before returning.

        The service's path: the micro-batch that scored the requests writes their rows
        itself, so a group commit costs no thread hand-off (on two cores, waking a writer
        thread per group cost more CPU than the write).

        Raises
        ------
        LogUnavailableError
            If the log is closed or the write failed twice: nothing was stored.
        """
        batches, n = self._checked(batches)
        if not n:
            return
        if self._closed:
            self._refused += n
            raise LogUnavailableError(
                "The prediction log is closed, so the prediction was not logged and is not "
                "answered. To fix: retry (another replica will answer)."
            )
        with self._direct_lock:
            if self._direct is None:
                self._direct = GroupWriter(self._engine)
            error = self._write_with_retry([(batches, self._sensitive, None, None)], n,
                                           self._direct)  # fmt: skip
        if error is not None:
            with self._lock:
                self._refused += n
            raise LogUnavailableError(
                f"The prediction log could not be written ({error}), so the prediction is not "
                "answered. To fix: retry; the operator's log has the cause."
            )

    def flush(self, timeout: float | None = None) -> bool:
        """Block until everything recorded before the call is committed (or refused).

        Without a running writer the caller writes the queue itself.

        Returns
        -------
        bool
            False if ``timeout`` seconds passed first (a warning is logged).
        """
        thread = self._thread
        if thread is None or not thread.is_alive():
            self._drain()
            return True
        with self._lock:
            waiting = [entry[2] for entry in (*self._writing, *self._queue)]  # type: ignore[misc]
        done, _ = wait(waiting, timeout)
        if len(done) < len(waiting):
            logger.warning("prediction log flush timed out after %ss", timeout)
            return False
        return True

    def close(self) -> None:
        """Commit everything queued and stop the writer; later records are refused. Idempotent."""
        with self._lock:
            self._closed = True
            thread = self._thread
            self._wake.notify_all()
        if thread is not None:
            thread.join()
        self._drain()
        with self._direct_lock:
            if self._direct is not None:
                self._direct.close()
                self._direct = None

    def add_feedback(
        self,
        items: Sequence[FeedbackItem],
        *,
        classes: Callable[[str], Sequence[Any] | None] | None = None,
        default_model: str | None = None,
        max_orphans: int | None = None,
    ) -> FeedbackResult:
        """Store true labels; committed when this returns.

        Labels whose (request id, row) is not in the log (orphans) are stored all the same and
        listed in ``unknown``; :meth:`labelled` matches them at read time should the
        prediction be written later (by another replica sharing the database, say). Rows sent
        with features need ``model``.

        Parameters
        ----------
        items : sequence of FeedbackItem
        classes : callable, optional
            ``classes(model)``: the classes labels of ``model`` must be among (compared by
            spelling: ``1``, ``1.0`` and ``"1"`` name the class ``1``, whose own value is
            stored), or None where unknown. A logged prediction's own version's classes are
            used when the log knows them.
        default_model : str, optional
            The model of an orphan label that names none (the one served model).
        max_orphans : int, optional
            Orphan labels kept per model at most (the items are refused beyond).

        Raises
        ------
        InvalidInputError
            If an item has no label, neither a request id nor features, features but no
            model, or a label that is not one of its model's classes (nothing is stored).
        OrphanLimitError
            If storing the orphans would keep more than ``max_orphans`` for a model.
        """
        items = check_feedback(items)
        self.flush(_FEEDBACK_FLUSH_TIMEOUT)  # rows recorded without waiting (library callers)
        rules = FeedbackRules(classes, default_model, max_orphans)
        return store_feedback(
            self._engine, items, self._hasher, self._sensitive, self._target, rules
        )

    def predictions(
        self,
        model: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        version: int | None = None,
    ) -> pd.DataFrame:
        """The logged rows of ``model`` with ``since <= created < until`` (UTC), oldest first.

        Returns
        -------
        pandas.DataFrame
            ``request_id, row, created, model, version, label``, ``proba_<class>`` per class,
            ``target`` (where it was served; None outside a multi-target deployment), then the
            input columns (sensitive ones as their hash; a name that clashes with an earlier
            column gets an ``input_`` prefix). Only committed rows: ``flush()`` first.
        """
        return predictions_frame(self._engine, model, since, until, version)

    def labelled(
        self, model: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> pd.DataFrame:
        """Predictions of ``model`` joined with their latest true label, plus labelled rows.

        Returns
        -------
        pandas.DataFrame
            The columns of :meth:`predictions` and ``true_label`` and ``source``
            (``'prediction'``, or ``'features'`` for rows sent with their features, which have
            no request id, version or served label and are windowed by feedback time).
        """
        return labelled_frame(self._engine, model, since, until)

    def arrived(self, request_ids: Iterable[str]) -> tuple[int, int]:
        """How many of ``request_ids`` are in the log (committed), and how many feedback rows
        name one of them: e.g. to wait until a deployment's links have shipped them."""
        return arrived(self._engine, request_ids)

    def _refuse(self, n: int, done: Future, why: str) -> None:
        """Count ``n`` refused rows and fail ``done`` (called with the lock held)."""
        self._refused += n
        now = time.monotonic()
        if now - self._last_warning >= _WARN_EVERY:
            self._last_warning = now
            logger.warning("prediction log refused %d rows (%d in all; %s, queue limit %d)",
                           n, self._refused, why, self._max_queue)  # fmt: skip
        fix = "retry later" if why == "full" else "retry (another replica will answer)"
        done.set_exception(LogUnavailableError(
            f"The prediction log is {why}, so the prediction was not logged and is not "
            f"answered. To fix: {fix}."
        ))  # fmt: skip

    def _run(self) -> None:
        """The writer: commit whatever is queued as one group, as soon as there is any.

        It keeps one connection (``GroupWriter``), and after waking lets ``GATHER_SECONDS``
        pass before taking the queue: the requests of one micro-batch are answered together,
        and a group that waits for all of them makes one commit, not several.
        """
        writer = GroupWriter(self._engine)
        try:
            while True:
                with self._lock:
                    self._wake.wait_for(lambda: self._queue or self._closed)
                    if self._closed and not self._queue:
                        return
                if not self._closed:
                    time.sleep(GATHER_SECONDS)
                try:
                    self._drain(writer)
                except Exception:  # _drain handles write errors; this is a last resort
                    logger.exception("prediction log writer failed; it carries on")
        finally:
            writer.close()

    def _drain(self, writer: GroupWriter | None = None) -> None:
        """Commit everything queued now as one transaction (retried once), then answer."""
        with self._drain_lock:
            with self._lock:
                group, self._queue = self._queue, []
                self._writing = group  # flush() waits for these too
            rows = sum(len(b.labels) for batches, *_ in group for b in batches)
            if not group:
                return
            own = writer is None
            writer = writer or GroupWriter(self._engine)
            try:
                error = self._write_with_retry(group, rows, writer) if rows else None
            finally:
                if own:
                    writer.close()
            with self._lock:
                self._pending -= rows
                if error is not None:
                    self._refused += rows
            _settle(group, error)

    def _write_with_retry(self, group: list[_Queued], rows: int, writer: GroupWriter) -> str | None:
        """Write the group; None when committed, else what failed."""
        for attempt in (1, 2):
            try:
                known = self._write(writer, group)
                self._known_classes.update(known)
                return None
            except Exception as exc:
                logger.exception("prediction log group of %d rows failed (try %d)", rows, attempt)
                if attempt == 2:
                    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
                time.sleep(0.05)
        return "unreachable"

    def _write(self, writer: GroupWriter, group: list[_Queued]) -> set[tuple[str, int]]:
        """Insert the group and the classes of versions not seen before; return those."""
        hasher, known = self._hasher, self._known_classes
        values, new = [], {}
        for batches, sensitive, *_ in group:
            for one in batches:
                values.append(batch_row(one, hasher, sensitive, self._target))
                key = (values[-1]["model"], values[-1]["version"])
                if key not in known and key not in new and one.classes:
                    new[key] = list(one.classes)
        writer.write(values, new)
        return set(new)

    def _checked(self, batches: Sequence[PredictionBatch]) -> tuple[list[PredictionBatch], int]:
        """The batches with rows and their number of rows; a ValueError for a malformed one."""
        kept, n = [], 0
        for one in batches:
            size = batch_size(one)
            if size:
                kept.append(one)
                n += size
        return kept, n


def _settle(group: list[_Queued], error: str | None) -> None:
    """Answer every request of a written group: its future, and its event loop once."""
    why = None
    if error is not None:
        why = (
            f"The prediction log could not be written ({error}), so the prediction is not "
            "answered. To fix: retry; the operator's log has the cause."
        )
    by_loop: dict[Any, list[asyncio.Future]] = {}
    for _, _, done, waiter in group:
        if not done.done():
            if why is None:
                done.set_result(None)
            else:
                done.set_exception(LogUnavailableError(why))
        if waiter is not None:
            by_loop.setdefault(waiter.get_loop(), []).append(waiter)
    for loop, waiters in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits any more
            loop.call_soon_threadsafe(_wake_waiters, waiters, why)


def _wake_waiters(waiters: list[asyncio.Future], why: str | None) -> None:
    for waiter in waiters:
        if waiter.done():  # its request was cancelled
            continue
        if why is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(LogUnavailableError(why))
