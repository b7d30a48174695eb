"""Micro-batching: fewer pipeline calls than requests, results identical to scoring alone, and
no batch held back more than the budget while the model is free."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pandas as pd
import pytest
from serving_support import records, trained_home

from verdict.errors import InvalidParameterError
from verdict.serving import ServiceSettings
from verdict.serving._app import create_app
from verdict.serving._batcher import MicroBatcher
from verdict.serving._work import Rows, score_batch

BUDGET_MS = 20.0
SLACK = 0.015  # event-loop scheduling on a busy CI machine


class SlowWork:
    """Doubles each payload; each call takes ``seconds``; records the calls' sizes."""

    def __init__(self, seconds: float = 0.03) -> None:
        self.seconds, self.calls = seconds, []
        self._lock = threading.Lock()

    def __call__(self, payloads):
        with self._lock:
            self.calls.append(len(payloads))
        time.sleep(self.seconds)
        return [2 * p for p in payloads]


def run(coro):
    return asyncio.run(coro)


async def _submit_all(batcher, payloads, gap=0.0):
    async def one(p, delay):
        await asyncio.sleep(delay)
        return await batcher.submit(p)

    return await asyncio.gather(*(one(p, i * gap) for i, p in enumerate(payloads)))


@pytest.mark.parametrize("mode", ["auto", "on"])
def test_concurrent_requests_share_pipeline_calls(mode):
    work = SlowWork()
    with ThreadPoolExecutor(2) as pool:

        async def main():
            batcher = MicroBatcher(work, pool, size=lambda p: 1, mode=mode, budget_ms=BUDGET_MS)
            results = await _submit_all(batcher, list(range(40)), gap=0.001)
            return batcher, results

        batcher, results = run(main())
    assert results == [2 * p for p in range(40)]
    assert batcher.calls == len(work.calls) < 40 / 4
    assert batcher.max_held <= BUDGET_MS / 1000 + SLACK


def test_off_scores_each_request_alone():
    work = SlowWork(0.001)
    with ThreadPoolExecutor(2) as pool:

        async def main():
            batcher = MicroBatcher(work, pool, size=lambda p: 1, mode="off")
            return await _submit_all(batcher, list(range(10)))

        assert run(main()) == [2 * p for p in range(10)]
    assert work.calls == [1] * 10


def test_auto_does_not_hold_a_lone_request_but_on_waits_the_budget():
    for mode, low, high in [("auto", 0.0, 0.01), ("on", BUDGET_MS / 1000, 1.0)]:
        work = SlowWork(0.0)
        with ThreadPoolExecutor(1) as pool:

            async def main():
                batcher = MicroBatcher(work, pool, size=lambda p: 1, mode=mode,  # noqa: B023
                                       budget_ms=BUDGET_MS)  # fmt: skip
                started = time.perf_counter()
                await batcher.submit(1)
                return time.perf_counter() - started, batcher

            elapsed, batcher = run(main())
        assert low * 0.9 <= elapsed < high + SLACK, mode
        assert batcher.max_held <= BUDGET_MS / 1000 + SLACK


def test_no_batch_is_held_longer_than_the_budget_while_the_model_is_free():
    work = SlowWork(0.05)  # slower than the budget: later requests queue behind busy calls
    with ThreadPoolExecutor(2) as pool:

        async def main():
            batcher = MicroBatcher(work, pool, size=lambda p: 1, mode="on", budget_ms=BUDGET_MS)
            await _submit_all(batcher, list(range(60)), gap=0.002)
            return batcher

        batcher = run(main())
    assert batcher.max_held <= BUDGET_MS / 1000 + SLACK
    assert max(work.calls) > 1


def test_max_rows_splits_batches_and_errors_reach_every_request():
    work = SlowWork(0.02)
    with ThreadPoolExecutor(1) as pool:

        async def main():
            batcher = MicroBatcher(work, pool, size=lambda p: p, mode="on", max_rows=10,
                                   budget_ms=BUDGET_MS)  # fmt: skip
            return await _submit_all(batcher, [4, 4, 4, 4, 4])

        assert run(main()) == [8] * 5
    assert max(work.calls) <= 2  # 4 + 4 rows fit in 10, a third would not

    def failing(payloads):
        raise ValueError("boom")

    with ThreadPoolExecutor(1) as pool:

        async def broken():
            batcher = MicroBatcher(failing, pool, size=lambda p: 1, mode="on")
            return await asyncio.gather(*(batcher.submit(i) for i in range(3)),
                                        return_exceptions=True)  # fmt: skip

        assert all(isinstance(r, ValueError) for r in run(broken()))


def test_bad_parameters_are_refused():
    with pytest.raises(InvalidParameterError, match="To fix"):
        MicroBatcher(lambda p: p, None, size=len, mode="sometimes")
    with pytest.raises(InvalidParameterError, match="To fix"):
        MicroBatcher(lambda p: p, None, size=len, max_rows=0)


# -- with the real model ------------------------------------------------------------------


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return trained_home(tmp_path_factory)


@pytest.fixture(scope="module")
def loaded(home):
    with home.registry() as registry:
        return registry.load("penguins@production")


def test_a_batch_gives_each_request_what_it_gets_alone(loaded):
    features = loaded.schema.features
    requests = [records(n)[-n:] for n in (1, 3, 1, 5)]
    requests[2] = [{**requests[2][0], "island": "Atlantis"}]
    payloads = [Rows({f: [r[f] for r in rows] for f in features}, len(rows)) for rows in requests]
    together = score_batch(loaded, frozenset(), payloads)
    for payload, shared in zip(payloads, together, strict=True):
        (alone,) = score_batch(loaded, frozenset(), [payload])
        assert shared.labels == alone.labels and shared.unknown == alone.unknown
        np.testing.assert_allclose(shared.proba, alone.proba, rtol=1e-12, atol=0)
    assert together[2].unknown == {"island": 1} and together[0].unknown == {}


def test_service_batches_concurrent_single_row_requests(home, tmp_path, loaded):
    rows = records(24)
    settings = ServiceSettings(models=["penguins@production"], home=tmp_path, auth=False,
                               batching="on", batch_budget_ms=BUDGET_MS)  # fmt: skip
    registry = home.registry()
    app = create_app(settings, registry)

    async def main():
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                answers = await asyncio.gather(*(
                    client.post("/v1/models/penguins/predict", json={"instances": [row]})
                    for row in rows
                ))  # fmt: skip
            batcher = app.state.served.get("penguins").batcher
            return answers, batcher.calls, batcher.max_held

    answers, calls, held = asyncio.run(main())
    registry.close()
    assert all(a.status_code == 200 for a in answers)
    assert calls < len(rows) / 2
    assert held <= BUDGET_MS / 1000 + SLACK
    labels = [a.json()["predictions"][0]["class"] for a in answers]
    assert labels == loaded.predict(pd.DataFrame(rows)).tolist()


class PoisonedError(ValueError):
    pass


@pytest.mark.parametrize("poisoned", [{7}, {0, 15}, set(range(16))])
def test_a_failing_request_fails_alone_in_a_shared_batch(poisoned):
    calls = []

    def work(payloads):
        calls.append(list(payloads))
        time.sleep(0.005)
        if poisoned & set(payloads):
            raise PoisonedError(f"cannot score {sorted(poisoned & set(payloads))}")
        return [2 * p for p in payloads]

    with ThreadPoolExecutor(2) as pool:

        async def main():
            batcher = MicroBatcher(work, pool, size=lambda p: 1, mode="on", budget_ms=BUDGET_MS)
            out = await asyncio.gather(
                *(batcher.submit(p) for p in range(16)), return_exceptions=True
            )
            await batcher.drain()
            return out, batcher

        out, batcher = run(main())
    for p, result in enumerate(out):
        if p in poisoned:
            assert isinstance(result, PoisonedError) and str(p) in str(result)
        else:
            assert result == 2 * p
    assert len(calls[0]) == 16  # they did share one batch first
    assert batcher.splits >= 1 and batcher.idle
    assert len(calls) <= 1 + 2 * 16  # bisection, not one call per request and more
