"""Micro-batching: concurrent requests to one model version scored in one pipeline call.

A tabular pipeline costs about the same for one row as for a thousand (its time goes into
per-call overhead: column selection, validation, dispatch), so scoring the rows of many
concurrent requests together multiplies throughput. :class:`MicroBatcher` collects the
requests that arrive while it waits, and starts a batch (runs ``work`` on their payloads in a
worker thread, so the event loop stays free) when one of these holds:

- the batch has ``max_rows`` rows (a request that would overflow it starts a new one);
- mode ``auto``: no batch of this batcher is running (a lone request never waits);
- the first request of the batch has waited ``budget_ms``.

The budget bounds what batching adds to a request's latency: a batch is never held back more
than ``budget_ms`` while a scoring slot is free (counted from its first request's arrival, or
from the moment a slot freed up if every slot was busy then). While every slot is busy,
requests queue exactly as they would without batching, joining the next batch meanwhile (so a
busy model scores ever larger batches instead of falling behind). Mode ``on`` always waits the
budget for company; ``off`` scores each request alone as it comes.

Results are those of scoring each request alone: ``work`` gets the payloads in order and
returns one result per payload. A failure stays with the request that caused it: when
``work`` raises on a batch of several requests, the batch is split in halves and each half
scored again, down to the single requests that fail alone (a batch with one bad request among
``n`` costs about ``2 log2 n`` extra calls); only those get the exception, every other request
its result.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any, Generic, Literal, TypeVar

from verdict._params import Interval, StrOptions, check

P = TypeVar("P")
R = TypeVar("R")
Mode = Literal["off", "on", "auto"]


@dataclass
class _Job(Generic[P]):
    payload: P
    rows: int
    future: asyncio.Future[Any]
    arrived: float


@dataclass
class _Batch(Generic[P]):
    jobs: list[_Job[P]] = field(default_factory=list)
    rows: int = 0


class MicroBatcher(Generic[P, R]):
    """Score concurrent requests together, within a latency budget.

    Parameters
    ----------
    work : callable
        ``work(payloads) -> results``, one result per payload, in order; runs in ``executor``.
    executor : concurrent.futures.Executor
        Where ``work`` runs (a thread pool shared by the app's batchers).
    size : callable
        The number of rows of a payload.
    mode : {'auto', 'on', 'off'}, default 'auto'
    max_rows : int, default 2048
        Rows per ``work`` call at most (a larger request is scored alone).
    budget_ms : float, default 2.0
        The longest a request waits for company while a scoring slot is free.
    max_concurrent : int, default 1
        Batches of this batcher scored at once. One is fastest for pipelines that hold the
        GIL most of the time (scikit-learn's column transformers do): a second call only
        competes with the first.
    on_batch : callable, optional
        ``on_batch(rows, waited_seconds)`` after each batch starts (telemetry).
    """

    def __init__(
        self,
        work: Callable[[Sequence[P]], Sequence[R]],
        executor: Executor,
        *,
        size: Callable[[P], int],
        mode: Mode = "auto",
        max_rows: int = 2048,
        budget_ms: float = 2.0,
        max_concurrent: int = 1,
        on_batch: Callable[[int, float], None] | None = None,
    ) -> None:
        check("mode", mode, "MicroBatcher", StrOptions("off", "on", "auto"))
        at_least_one = Interval(Integral, 1, None, closed="left")
        check("max_rows", max_rows, "MicroBatcher", at_least_one, fix="pass e.g. max_rows=2048")
        budget = Interval(Real, 0, None, closed="both")
        check("budget_ms", budget_ms, "MicroBatcher", budget, fix="pass e.g. budget_ms=2.0")
        fix = "pass e.g. max_concurrent=1"
        check("max_concurrent", max_concurrent, "MicroBatcher", at_least_one, fix=fix)
        self.work, self.executor, self.size, self.mode = work, executor, size, mode
        self.max_rows, self.budget = max_rows, budget_ms / 1000.0
        self.max_concurrent, self.on_batch = max_concurrent, on_batch
        self.calls = 0  # work() calls started: fewer than requests when batching helps
        self.splits = 0  # failed batches split to find the requests that failed
        self.max_held = 0.0  # the longest a batch was held back while a slot was free
        self._open: _Batch[P] = _Batch()
        self._queued: deque[_Batch[P]] = deque()
        self._running = 0
        self._free_since = time.perf_counter()  # when a slot last became free
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    async def submit(self, payload: P) -> R:
        """Score ``payload`` (in a batch with others, or alone) and return its result."""
        loop = asyncio.get_running_loop()
        job = _Job(payload, self.size(payload), loop.create_future(), time.perf_counter())
        self._idle.clear()
        if self.mode == "off":
            self._start(_Batch([job], job.rows))
        else:
            if self._open.jobs and self._open.rows + job.rows > self.max_rows:
                self._queued.append(self._open)
                self._open = _Batch()
            self._open.jobs.append(job)
            self._open.rows += job.rows
            self._pump()
        return await job.future

    @property
    def idle(self) -> bool:
        """Whether nothing is waiting or being scored."""
        return self._idle.is_set()

    async def drain(self) -> None:
        """Wait until every submitted request has its result."""
        await self._idle.wait()

    def _due(self, now: float) -> bool:
        batch = self._open
        if not batch.jobs:
            return False
        if batch.rows >= self.max_rows or (self.mode == "auto" and self._running == 0):
            return True
        return now - batch.jobs[0].arrived >= self.budget

    def _pump(self) -> None:
        """Start what may start; otherwise make sure the open batch is woken at its deadline."""
        now = time.perf_counter()
        while self._running < self.max_concurrent:
            if self._queued:
                self._start(self._queued.popleft())
            elif self._due(now):
                batch, self._open = self._open, _Batch()
                self._start(batch)
            else:
                break
        if self._open.jobs and self._timer is None and self._running < self.max_concurrent:
            delay = max(0.0, self._open.jobs[0].arrived + self.budget - now)
            self._timer = asyncio.get_running_loop().call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._pump()

    def _start(self, batch: _Batch[P]) -> None:
        now = time.perf_counter()
        waited = now - batch.jobs[0].arrived
        self.max_held = max(self.max_held, now - max(batch.jobs[0].arrived, self._free_since))
        self._running += 1
        self.calls += 1
        if self.on_batch is not None:
            self.on_batch(batch.rows, waited)
        task = asyncio.get_running_loop().create_task(self._run(batch))
        self._tasks.add(task)  # a strong reference until it is done
        task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: _Batch[P]) -> None:
        try:
            await self._score(batch.jobs)
        except BaseException:  # cancelled (the loop is closing): so are its requests
            for job in batch.jobs:
                job.future.cancel()
            raise
        finally:
            self._running -= 1
            self._free_since = time.perf_counter()
            if self.mode != "off":
                self._pump()
            if not self._running and not self._open.jobs and not self._queued:
                self._idle.set()

    async def _score(self, jobs: list[_Job[P]]) -> None:
        """Score ``jobs`` together; if that fails, each half apart, down to the culprits."""
        loop = asyncio.get_running_loop()
        try:
            payloads = [job.payload for job in jobs]
            results = await loop.run_in_executor(self.executor, self.work, payloads)
        except Exception as exc:
            if len(jobs) == 1:
                if not jobs[0].future.done():
                    jobs[0].future.set_exception(exc)
                return
            self.splits += 1
            middle = len(jobs) // 2
            await self._score(jobs[:middle])
            await self._score(jobs[middle:])
            return
        for job, result in zip(jobs, results, strict=True):
            if not job.future.done():  # its request may have been cancelled
                job.future.set_result(result)
