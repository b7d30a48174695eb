"""The prediction log: every answered row written durably without holding up the response.

A request's rows are recorded as one :class:`PredictionBatch` (by column) and stored as one
table row (see ``_predlog_rows``); :meth:`PredictionLog.predictions` explodes them back into
one frame row per predicted row. ``record`` only appends to an in-memory queue (a lock and a
list append, microseconds) and never raises; a writer thread commits everything queued in one
transaction every ``flush_seconds``, sooner when much is waiting. What a crash can lose is
therefore bounded by the flush interval: with SQLite in WAL mode and ``synchronous=NORMAL`` a
committed batch survives ``kill -9`` of the process (not necessarily a power cut). ``close``
writes what is left, so a graceful shutdown loses nothing. A batch that fails is logged and
retried once; rows it still cannot write are counted in ``dropped`` (and ``lost``), as are rows
refused because the queue is full. ``max_queue``, ``pending``, ``dropped`` and ``lost`` count
rows, not batches.

Sensitive inputs are hashed by the writer, never stored in clear (see ``_predlog_rows``).
Feedback (true labels) is written synchronously; see :meth:`PredictionLog.add_feedback`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, insert, select

from verdict.errors import InvalidInputError
from verdict.serving._predlog_read import labelled_frame, predictions_frame, store_feedback
from verdict.serving._predlog_rows import (
    FeedbackItem,
    FeedbackResult,
    Hasher,
    PredictionBatch,
    Sensitive,
    batch_row,
    batch_size,
    check_feedback,
)
from verdict.serving._state import prediction_classes, predictions, salt

__all__ = ["FeedbackItem", "FeedbackResult", "PredictionBatch", "PredictionLog"]

logger = logging.getLogger("verdict.serving.predlog")

_SOON_ROWS = 5_000  # wake the writer early once this many rows wait
_WARN_EVERY = 10.0  # seconds between two warnings about dropped rows
_FEEDBACK_FLUSH_TIMEOUT = 30.0


class PredictionLog:
    """A batched, durable log of answered predictions, and the feedback store.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The state database (:func:`open_state`).
    flush_seconds : float, default 0.2
        The longest a recorded row waits before its batch is committed (plus the commit).
    sensitive : mapping of str to collection of str, optional
        Model name -> input columns stored hashed.
    max_queue : int, default 100000
        Rows (not batches) waiting to be written at most; a batch that would go beyond it is
        dropped whole by ``record`` and its rows counted in ``dropped``.
    target : str, optional
        The deployment target stored with every prediction and feedback row written here
        (``ServiceSettings.target``); None for a service outside a multi-target deployment.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        flush_seconds: float = 0.2,
        sensitive: Mapping[str, Collection[str]] | None = None,
        max_queue: int = 100_000,
        target: str | None = None,
    ) -> None:
        if not flush_seconds > 0:
            raise InvalidInputError(
                f"flush_seconds must be > 0; got {flush_seconds!r}. To fix: pass e.g. 0.2."
            )
        if not isinstance(max_queue, int) or max_queue < 1:
            raise InvalidInputError(
                f"max_queue must be an integer >= 1; got {max_queue!r}. To fix: pass e.g. 100000."
            )
        self._engine = engine
        self._target = target
        self._flush_seconds = float(flush_seconds)
        self._max_queue = max_queue
        self._hasher = Hasher(salt(engine))
        self._sensitive: Sensitive = {}
        for model, columns in (sensitive or {}).items():
            self.set_sensitive(model, columns)
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._queue: list[tuple[Sequence[PredictionBatch], Sensitive]] = []
        self._pending = self._dropped = self._lost = 0
        self._recorded = self._written = 0  # record() calls queued / handled by the writer
        self._last_warning = -_WARN_EVERY
        self._drain_lock = threading.Lock()
        self._known_classes: set[tuple[str, int]] = set()
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def dropped(self) -> int:
        """Rows that will never be stored: queue full, recorded after close, or failed writes."""
        return self._dropped

    @property
    def lost(self) -> int:
        """The part of ``dropped`` that failed to be written (twice)."""
        return self._lost

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
        # replaced, never mutated: record() keeps a reference to the mapping it saw
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

    def record(self, batches: Sequence[PredictionBatch]) -> None:
        """Queue ``batches`` (one per request) for the next commit; returns at once, never raises.

        If the queue would hold more than ``max_queue`` rows, or the log is closed, the
        batches are dropped, their rows counted in :attr:`dropped` and a warning is logged (at
        most every 10 s). A batch whose columns disagree on its length is dropped and logged.
        """
        try:
            batches, n = self._checked(batches)
            with self._lock:
                if self._closed or self._pending + n > self._max_queue:
                    self._dropped += n
                    self._warn_dropped(n)
                    return
                self._queue.append((batches, self._sensitive))
                self._pending += n
                self._recorded += 1
                soon = self._pending >= _SOON_ROWS
            if soon:
                self._wake.set()
        except Exception:  # the hot path must never fail a response
            logger.exception("could not queue prediction log batches")

    def flush(self, timeout: float | None = None) -> bool:
        """Block until everything recorded before the call is committed (or given up on).

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
            target = self._recorded
            self._wake.set()
            ok = self._done.wait_for(lambda: self._written >= target, timeout)
        if not ok:
            logger.warning("prediction log flush timed out after %ss", timeout)
        return ok

    def close(self) -> None:
        """Write everything queued and stop the writer; later records are dropped. Idempotent."""
        with self._lock:
            self._closed = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join()
        self._drain()

    def add_feedback(self, items: Sequence[FeedbackItem]) -> FeedbackResult:
        """Store true labels; committed when this returns.

        The log is flushed first, so a label for a request just answered finds it. Labels whose
        (request id, row) is not in the log are stored all the same and listed in ``unknown``;
        :meth:`labelled` matches them at read time should the prediction be written later (by
        another replica sharing the database, say). Rows sent with features need ``model``.

        Raises
        ------
        InvalidInputError
            If an item has no label, neither a request id nor features, or features but no model.
        """
        items = check_feedback(items)
        self.flush(_FEEDBACK_FLUSH_TIMEOUT)
        return store_feedback(self._engine, items, self._hasher, self._sensitive, self._target)

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

    def _warn_dropped(self, n: int) -> None:
        now = time.monotonic()
        if now - self._last_warning >= _WARN_EVERY:
            self._last_warning = now
            logger.warning(
                "prediction log dropped %d rows (%d in all; closed=%s, queue limit %d)",
                n, self._dropped, self._closed, self._max_queue,
            )  # fmt: skip

    def _run(self) -> None:
        """The writer: a batch every flush interval, or sooner when woken; never dies."""
        deadline = time.monotonic() + self._flush_seconds
        while True:
            self._wake.wait(max(0.0, deadline - time.monotonic()))
            self._wake.clear()
            deadline = time.monotonic() + self._flush_seconds
            try:
                self._drain()
            except Exception:  # _drain handles write errors; this is a last resort
                logger.exception("prediction log writer failed; it carries on")
            if self._closed:
                return

    def _drain(self) -> None:
        """Commit everything queued now as one transaction, retrying once."""
        with self._drain_lock:
            with self._lock:
                batch, self._queue = self._queue, []
                upto = self._recorded
            rows = sum(len(b.labels) for batches, _ in batch for b in batches)
            try:
                if rows:
                    self._write_with_retry(batch, rows)
            finally:
                with self._lock:
                    self._pending -= rows
                    self._written = upto
                    self._done.notify_all()

    def _write_with_retry(self, batch: list[tuple[Sequence[PredictionBatch], Sensitive]],
                          rows: int) -> None:  # fmt: skip
        for attempt in (1, 2):
            try:
                with self._engine.begin() as connection:
                    known = self._write(connection, batch)
                self._known_classes.update(known)
                return
            except Exception:
                logger.exception("prediction log batch of %d rows failed (try %d)", rows, attempt)
                if attempt == 1:
                    time.sleep(min(self._flush_seconds, 0.5))
        with self._lock:
            self._lost += rows
            self._dropped += rows
        logger.error("prediction log lost %d rows (%d in all)", rows, self._lost)

    def _write(
        self, connection: Connection, batch: list[tuple[Sequence[PredictionBatch], Sensitive]]
    ) -> set[tuple[str, int]]:
        """Insert the batch and the classes of versions not seen before; return those."""
        hasher, known = self._hasher, self._known_classes
        values, new = [], {}
        for batches, sensitive in batch:
            for one in batches:
                values.append(batch_row(one, hasher, sensitive, self._target))
                key = (values[-1]["model"], values[-1]["version"])
                if key not in known and key not in new and one.classes:
                    new[key] = list(one.classes)
        if new:
            _store_classes(connection, new)
        if values:
            connection.execute(insert(predictions), values)
        return set(new)

    def _checked(self, batches: Sequence[PredictionBatch]) -> tuple[list[PredictionBatch], int]:
        """The batches with rows, their number of rows; malformed ones dropped and logged."""
        kept, n = [], 0
        for one in batches:
            try:
                size = batch_size(one)
            except ValueError:
                logger.exception("prediction log refused a malformed batch")
                with self._lock:
                    self._dropped += len(one.labels)
                continue
            if size:
                kept.append(one)
                n += size
        return kept, n


def _store_classes(connection: Connection, new: dict[tuple[str, int], list[Any]]) -> None:
    """Insert the classes of the (model, version) pairs in ``new`` not already stored."""
    table = prediction_classes
    query = select(table.c.model, table.c.version).where(table.c.model.in_({m for m, _ in new}))
    stored = {(r.model, r.version) for r in connection.execute(query)}
    missing = [{"model": m, "version": v, "classes": c} for (m, v), c in new.items()]
    missing = [row for row in missing if (row["model"], row["version"]) not in stored]
    if missing:
        connection.execute(insert(table), missing)
