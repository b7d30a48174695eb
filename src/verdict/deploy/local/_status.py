"""``verdict deploy status``: one row per target, from the gateway's view and the replicas' own
``/metrics``.

Health is what the gateway's checks say (HAProxy's ``show stat`` on its admin socket), so it is
the same view that routes traffic. Version, traffic, errors and latency are read from each
replica's Prometheus metrics and summed per target; latency percentiles come from the summed
histogram buckets (upper bucket bounds, so they are conservative). Request and error counts
survive restarts: the supervisor folds each replica's scrapes into its state (:func:`account`:
a new pid, or a counter that went back, moves the previous life's counts to an offset, as
Prometheus' ``increase()`` treats a reset) and status adds them (:func:`counted`). Per target
it also shows the supervisor's restarts, the link's backlog (rows in the target's database past
the central marks) and how long ago the link last synced the API keys.
"""

from __future__ import annotations

import contextlib
import csv
import io
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verdict._results import Result
from verdict.deploy._gateway import SECRET_HEADER
from verdict.deploy.local import _procs as procs
from verdict.deploy.local._state import DeploymentState, Replica, TargetState
from verdict.errors import ConfigurationError

_TIMEOUT = 2.0
COUNTED = ("requests", "errors")  # the counters kept across restarts


@dataclass(frozen=True)
class TargetStatus(Result):
    """One target's line in the status table."""

    target: str
    provider: str
    zone: str
    replicas_up: int
    replicas: int
    versions: tuple[str, ...]
    requests: int
    errors: int
    p50_ms: float | None
    p99_ms: float | None
    link: str
    restarts: int = 0  # of the target's replicas, by the supervisor
    link_restarts: int = 0
    backlog: int | None = None  # rows not yet shipped to the center (None: unreadable)
    keys_age_s: float | None = None  # since the link last synced the API keys (None: never)
    keys_stale: bool = False  # older than the replicas' bound: they answer 503 keys_stale
    outage: bool = False  # killed by `chaos --kill`: left down until `--revive`


def gateway_stats(stats_socket: str) -> list[dict[str, str]]:
    """HAProxy's ``show stat`` as rows (``pxname``, ``svname``, ``status``, ``weight``...)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(_TIMEOUT)
        conn.connect(stats_socket)
        conn.sendall(b"show stat\n")
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    text = b"".join(chunks).decode("utf-8", "replace").lstrip("# ")
    return list(csv.DictReader(io.StringIO(text)))


def status(state: DeploymentState) -> list[TargetStatus]:
    """Every target's health, versions, traffic, errors, latency, restarts and link, in one
    pass, from the deployment's current state (``state`` read again: the supervisor may have
    restarted processes since it was loaded)."""
    with contextlib.suppress(ConfigurationError):
        state = DeploymentState.load(Path(state.folder))
    try:
        rows = gateway_stats(state.stats_socket)
    except OSError:
        rows = []
    health = _health(rows)
    key = state.api_key()
    return [_target_status(state, t, health, key) for t in state.targets.values()]


def _health(rows: list[dict[str, str]]) -> dict[str, str]:
    """Each replica's check status: from backend ``all`` where it is there, else from any
    backend holding it (with ``routing.failover``, ``all`` holds only the first target)."""
    health: dict[str, str] = {}
    for row in rows:
        if row.get("svname") in ("FRONTEND", "BACKEND", "spill", "last_resort"):
            continue
        if row.get("pxname") == "all" or row.get("svname") not in health:
            health[row["svname"]] = row.get("status", "")
    return health


def _target_status(
    state: DeploymentState, target: TargetState, health: dict[str, str], key: str
) -> TargetStatus:
    up = sum(1 for r in target.replicas if health.get(r.name, "").startswith("UP"))
    secret = state.gateway_secret
    live = {r.name: scrape(r.port, key, secret) for r in target.replicas if procs.alive(r.pid)}
    samples = list(live.values())
    versions = sorted({v for s in samples for v in s["versions"]})
    buckets: dict[float, float] = {}
    for s in samples:
        for bound, count in s["buckets"].items():
            buckets[bound] = buckets.get(bound, 0.0) + count
    totals = [counted(r, live.get(r.name)) for r in target.replicas]
    backlog, age = _link_view(state, target)
    bound = state.keys_max_staleness_seconds
    return TargetStatus(
        target.name, target.provider, target.zone, up, len(target.replicas), tuple(versions),
        int(sum(t["requests"] for t in totals)), int(sum(t["errors"] for t in totals)),
        _quantile(buckets, 0.5), _quantile(buckets, 0.99), _link(target),
        sum(r.restarts for r in target.replicas), target.link_restarts, backlog, age,
        bound is not None and (age is None or age > bound), target.outage,
    )  # fmt: skip


def account(replica: Replica, sample: dict[str, Any]) -> None:
    """Fold a scrape of ``replica`` into its state: when the process changed (another pid)
    or a counter went back, the previous life's counts move to ``replica.offset``.

    A failed scrape (no model version in it) changes no count.
    """
    seen, ok = replica.seen, bool(sample["versions"])
    went_back = ok and any(sample[n] < seen.get(n, 0.0) for n in COUNTED)
    if seen.get("pid") != replica.pid or went_back:
        for name in COUNTED:
            replica.offset[name] = replica.offset.get(name, 0.0) + seen.get(name, 0.0)
        replica.seen = seen = {"pid": replica.pid}
    if ok:
        for name in COUNTED:
            seen[name] = max(seen.get(name, 0.0), sample[name])


def counted(replica: Replica, sample: dict[str, Any] | None) -> dict[str, float]:
    """``replica``'s requests and errors over all its lives: its offset, plus what the last
    accounted scrape saw and ``sample`` (a scrape now; None when it is not running)."""
    seen, ok = replica.seen, sample is not None and bool(sample["versions"])
    totals = {}
    for name in COUNTED:
        last, now = seen.get(name, 0.0), sample[name] if ok else 0.0  # type: ignore[index]
        same = seen.get("pid") == replica.pid and (not ok or now >= last)
        totals[name] = replica.offset.get(name, 0.0) + (max(now, last) if same else last + now)
    return totals


@contextlib.contextmanager
def databases(state: DeploymentState, target: TargetState) -> Iterator[tuple[Any, Any]]:
    """The engines of ``target``'s state database and the central one, disposed after."""
    from verdict.state import open_state

    source = open_state(target.state_url)
    try:
        central = open_state(state.central_state_url)
        try:
            yield source, central
        finally:
            central.dispose()
    finally:
        source.dispose()


def _link_view(state: DeploymentState, target: TargetState) -> tuple[int | None, float | None]:
    """The link's backlog and the age of the target's keys (each None if unreadable)."""
    from verdict.state import KeyStore, log_backlog

    try:
        with databases(state, target) as (source, central):
            return log_backlog(target.name, source, central), KeyStore(source).synced_age()
    except Exception:  # a database being replaced or locked: status still answers
        return None, None


def _link(target: TargetState) -> str:
    if target.link_pid is None or not procs.alive(target.link_pid):
        return "down"
    return "cut" if Path(target.cut_flag).exists() else "up"


def scrape(port: int, key: str, secret: str = "") -> dict[str, Any]:
    """Requests, errors, latency buckets and versions from one replica's ``/metrics``, asked
    with the API ``key`` and the deployment's gateway ``secret`` (``state.gateway_secret``:
    replicas answer only requests that carry it)."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    found: dict[str, Any] = {"requests": 0.0, "errors": 0.0, "buckets": {}, "versions": set()}
    headers = {"Authorization": f"Bearer {key}"}
    if secret:
        headers[SECRET_HEADER] = secret
    try:
        reply = httpx.get(f"http://127.0.0.1:{port}/metrics", headers=headers, timeout=_TIMEOUT)
    except httpx.HTTPError:
        return found
    if reply.status_code != 200:
        return found
    for family in text_string_to_metric_families(reply.text):
        for sample in family.samples:
            _add(found, sample.name, sample.labels, sample.value)
    return found


def _add(found: dict[str, Any], name: str, labels: dict[str, str], value: float) -> None:
    if name == "verdict_requests_total" and not _probe(labels.get("route", "")):
        found["requests"] += value
        if labels.get("status", "").startswith("5"):
            found["errors"] += value
    elif name == "verdict_request_seconds_bucket" and _scoring(labels.get("route", "")):
        bound = float(labels["le"])
        found["buckets"][bound] = found["buckets"].get(bound, 0.0) + value
    elif name == "verdict_model_info" and value > 0:
        found["versions"].add(f"{labels.get('model')}@v{labels.get('version')}")


def _probe(route: str) -> bool:
    """Health checks and scrapes: not traffic."""
    return route == "/metrics" or route.startswith("/v2/health")


def _scoring(route: str) -> bool:
    return route.endswith(("/predict", "/infer"))


def _quantile(buckets: dict[float, float], q: float) -> float | None:
    """The upper bound (ms) of the first cumulative bucket holding quantile ``q``."""
    if not buckets:
        return None
    total = buckets.get(float("inf"), max(buckets.values()))
    if total <= 0:
        return None
    for bound in sorted(buckets):
        if buckets[bound] >= q * total:
            return bound * 1000.0 if bound != float("inf") else None
    return None


def wait_links_synced(state: DeploymentState, seconds: float) -> None:
    """Wait until every target's link has synced the keys since this call began (so it works
    end to end); raise a ConfigurationError naming the link's log if one has not."""
    from verdict.state import KeyStore

    started, waiting = time.monotonic(), list(state.targets.values())
    while waiting and time.monotonic() - started < seconds:
        with databases(state, waiting[0]) as (source, _):
            age = KeyStore(source).synced_age()
        if age is not None and age < time.monotonic() - started:
            waiting.pop(0)
        else:
            time.sleep(0.1)
    if waiting:
        log = Path(state.folder) / "logs" / f"link-{waiting[0].name}.log"
        raise ConfigurationError(
            f"The link of {waiting[0].name} did not sync with the center within {seconds:g} s. "
            f"To fix: read {log}."
        )
