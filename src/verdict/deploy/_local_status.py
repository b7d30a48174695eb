"""``verdict deploy status``: one row per target, from the gateway's view and the replicas' own
``/metrics``.

Health is what the gateway's checks say (HAProxy's ``show stat`` on its admin socket), so it is
the same view that routes traffic. Version, traffic, errors and latency are read from each
replica's Prometheus metrics and summed per target; latency percentiles come from the summed
histogram buckets (upper bucket bounds, so they are conservative).
"""

from __future__ import annotations

import csv
import io
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verdict._results import Result
from verdict.deploy import _local_procs as procs
from verdict.deploy._local_state import DeploymentState, TargetState

_TIMEOUT = 2.0


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
    """Every target's health, versions, traffic, errors, latency and link, in one pass."""
    try:
        rows = gateway_stats(state.stats_socket)
    except OSError:
        rows = []
    health = {r["svname"]: r["status"] for r in rows if r.get("pxname") == "all"}
    key = state.api_key()
    return [_target_status(t, health, key) for t in state.targets.values()]


def _target_status(target: TargetState, health: dict[str, str], key: str) -> TargetStatus:
    up = sum(1 for r in target.replicas if health.get(r.name, "").startswith("UP"))
    samples = [scrape(r.port, key) for r in target.replicas if procs.alive(r.pid)]
    versions = sorted({v for s in samples for v in s["versions"]})
    buckets: dict[float, float] = {}
    for s in samples:
        for bound, count in s["buckets"].items():
            buckets[bound] = buckets.get(bound, 0.0) + count
    return TargetStatus(
        target.name, target.provider, target.zone, up, len(target.replicas), tuple(versions),
        int(sum(s["requests"] for s in samples)), int(sum(s["errors"] for s in samples)),
        _quantile(buckets, 0.5), _quantile(buckets, 0.99), _link(target),
    )  # fmt: skip


def _link(target: TargetState) -> str:
    if target.link_pid is None or not procs.alive(target.link_pid):
        return "down"
    return "cut" if Path(target.cut_flag).exists() else "up"


def scrape(port: int, key: str) -> dict[str, Any]:
    """Requests, errors, latency buckets and versions from one replica's ``/metrics``."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    found: dict[str, Any] = {"requests": 0.0, "errors": 0.0, "buckets": {}, "versions": set()}
    try:
        reply = httpx.get(
            f"http://127.0.0.1:{port}/metrics",
            headers={"Authorization": f"Bearer {key}"},
            timeout=_TIMEOUT,
        )
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
