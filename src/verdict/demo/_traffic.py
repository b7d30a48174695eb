"""The demo's traffic: requests through the gateway with :class:`verdict.client.Client`, from a
few threads, every outcome kept.

Each outcome records the zone the request claimed, the status, the target that answered and
the request id, so the demo can show that nothing failed while a cloud died and that EU
requests never left the EU.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from verdict.client import Client
from verdict.errors import ServiceError


@dataclass(frozen=True)
class Outcome:
    zone: str | None
    status: int  # 0: no HTTP answer at all
    target: str
    request_id: str
    rows: int


@dataclass
class Traffic:
    """Requests sent and what came back."""

    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status != 200]

    def served_by(self, *zones: str) -> dict[str, int]:
        """Answers per target, of requests tagged with one of ``zones`` (all when none given)."""
        answered = Counter(
            o.target for o in self.outcomes if o.status == 200 and (not zones or o.zone in zones)
        )
        return dict(sorted(answered.items()))


def gateway_client(url: str, ca_file: str, key: str | None) -> Client:
    """An HTTPS client of the gateway that verifies it against the deployment's CA file
    (``key`` None: no API key at all)."""
    return Client(url, api_key=key or "", verify=ca_file, timeout=30)


def send(client: Client, name: str, rows: list[dict[str, Any]], zone: str | None) -> Outcome:
    """One predict request; its outcome (no HTTP answer at all is status 0)."""
    try:
        answer = client.predict(name, rows, zone=zone)
    except ServiceError as exc:
        return Outcome(zone, exc.status or 0, exc.target or "-", "", len(rows))
    return Outcome(zone, 200, answer.target or "-", answer.request_id, len(rows))


def stream(
    make_client: Callable[[], Client],
    name: str,
    batches: list[list[dict[str, Any]]],
    seconds: float,
    *,
    threads: int = 3,
    during: Callable[[], None] | None = None,
    at: float = 1.5,
) -> Traffic:
    """Send ``batches`` round-robin (zones none/eu/us) for ``seconds``; run ``during`` at ``at``."""
    traffic, stop, lock = Traffic(), threading.Event(), threading.Lock()

    def run(offset: int) -> None:
        zones = (None, "eu", "us")
        with make_client() as client:
            i = offset
            while not stop.is_set():
                outcome = send(client, name, batches[i % len(batches)], zones[i % 3])
                with lock:
                    traffic.outcomes.append(outcome)
                i += threads

    workers = [threading.Thread(target=run, args=(k,), daemon=True) for k in range(threads)]
    for worker in workers:
        worker.start()
    if during is not None:
        time.sleep(at)
        during()
        time.sleep(max(seconds - at, 0.0))
    else:
        time.sleep(seconds)
    stop.set()
    for worker in workers:
        worker.join(timeout=60)
    return traffic
