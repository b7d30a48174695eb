"""The local multi-cloud topology for real: replicas, links and HAProxy as processes on loopback.

One deployment (three targets on three providers, EU strict) is brought up for the module and
every test leaves it healthy for the next; the last test brings it down and checks that every
recorded pid is gone.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cryptography import x509
from palmerpenguins import load_penguins
from sqlalchemy import func, select

from verdict.deploy.local import _ops as ops
from verdict.deploy.local import _procs as procs
from verdict.deploy.local._state import DeploymentState
from verdict.deploy.local._status import status
from verdict.deploy.local._up import down, up
from verdict.pipeline import train
from verdict.registry import Registry
from verdict.state import KeyStore, export_log
from verdict.state._database import open_state, predictions

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("haproxy") is None and not os.environ.get("VERDICT_REQUIRE_HAPROXY"),
        reason="HAProxy is not installed (.ci/run installs it and sets VERDICT_REQUIRE_HAPROXY)",
    ),
]

EU_TARGETS = {"aws-eu", "gcp-eu"}
SPEC = {
    "model": "penguins@production",
    "load": {"rps": 100, "peak_factor": 2, "zones": {"eu": 0.5, "us": 0.5}},
    "latency": {"p99_ms": 250},
    "routing": {"residency": {"eu": "strict", "us": "preferred"}, "min_targets_per_zone": 2},
    "gateway": {"check_interval_ms": 300},
    "targets": [
        {"name": "aws-eu", "provider": "aws", "region": "eu-west-1", "zone": "eu",
         "instance_type": "m6i.large", "cost_per_replica_hour": 0.096, "min_replicas": 1,
         "max_replicas": 2, "bucket": "s3://eu-bucket"},
        {"name": "gcp-eu", "provider": "gcp", "region": "europe-west4", "zone": "eu",
         "instance_type": "n2-standard-2", "cost_per_replica_hour": 0.107, "min_replicas": 1,
         "max_replicas": 2, "bucket": "gs://eu-bucket"},
        {"name": "azure-us", "provider": "azure", "region": "eastus", "zone": "us",
         "instance_type": "Standard_D2s_v5", "cost_per_replica_hour": 0.096, "min_replicas": 1,
         "max_replicas": 2, "bucket": "az://acct/us"},
    ],
}  # fmt: skip
ROWS = load_penguins().drop(columns="species").iloc[::7].head(20)


@dataclass
class Topology:
    home: Path
    state: DeploymentState
    expected: list[Any]
    answered: list[str] = field(default_factory=list)  # request ids answered by any target

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.state.gateway_url,
            verify=ssl.create_default_context(cafile=self.state.ca_certificate),
            headers={"Authorization": f"Bearer {self.state.api_key()}"},
            timeout=30,
        )

    def refresh(self) -> None:
        self.state = DeploymentState.load(Path(self.state.folder))

    def direct(self, target: str, key: str | None = None) -> httpx.Client:
        """A client straight to ``target``'s first replica, as the gateway talks to it."""
        port = self.state.targets[target].replicas[0].port
        return httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={
                "Authorization": f"Bearer {key or self.state.api_key()}",
                "X-Verdict-Gateway-Secret": self.state.gateway_secret,
            },
            timeout=30,
        )


@pytest.fixture(scope="module")
def topology(tmp_path_factory) -> Iterator[Topology]:
    home = tmp_path_factory.mktemp("topology")
    with warnings.catch_warnings(), Registry(home=home) as registry:
        warnings.simplefilter("ignore")
        run = train(load_penguins(), "species", models=["softmax"], time_budget=3, cv=3,
                    quiet=True, out=home / "run")  # fmt: skip
        registry.register(run, "penguins", alias="production")
        expected = list(registry.load("penguins@production").predict(ROWS))
    spec = home / "deploy.yaml"
    spec.write_text(yaml.safe_dump(SPEC), encoding="utf-8")
    state, _ = up(spec, home=home, max_replicas=1)
    try:
        yield Topology(home, state, expected)
    finally:
        if (Path(state.folder) / "state.json").exists():
            down(home)


def predict(client: httpx.Client, zone: str | None) -> httpx.Response:
    headers = {"X-Verdict-Zone": zone} if zone else {}
    return client.post(
        "/v1/models/penguins/predict",
        json={"instances": ROWS.to_dict("records")},
        headers=headers,
    )


def check(topology: Topology, response: httpx.Response, zone: str | None) -> str:
    """The target that answered; asserts the answer is complete and correct."""
    assert response.status_code == 200, response.text
    target = response.headers["X-Verdict-Target"]
    body = response.json()
    assert [p["class"] for p in body["predictions"]] == topology.expected
    if zone == "eu":
        assert target in EU_TARGETS, f"an EU request was served by {target}"
    topology.answered.append(body["request_id"])
    return target


class Stream:
    """Requests through the gateway from a few threads until stopped; every outcome kept."""

    def __init__(self, topology: Topology, threads: int = 3) -> None:
        self.topology = topology
        self.outcomes: list[tuple[str | None, httpx.Response | Exception]] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,)) for i in range(threads)]

    def _run(self, i: int) -> None:
        zones = [None, "eu", "us"]
        with self.topology.client() as client:
            n = i
            while not self._stop.is_set():
                zone = zones[n % 3]
                try:
                    self.outcomes.append((zone, predict(client, zone)))
                except httpx.HTTPError as exc:
                    self.outcomes.append((zone, exc))
                n += 1

    def __enter__(self) -> Stream:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)


def test_up_serves_through_the_gateway_with_every_target_healthy(topology):
    rows = status(topology.state)
    assert {r.target for r in rows} == {"aws-eu", "gcp-eu", "azure-us"}
    assert all(r.replicas_up == r.replicas == 1 for r in rows)
    served = Counter()
    with topology.client() as client:
        for _ in range(30):
            served[check(topology, predict(client, None), None)] += 1
    assert set(served) == {"aws-eu", "gcp-eu", "azure-us"}, served
    rows = status(topology.state)
    assert sum(r.requests for r in rows) >= 30
    assert all(r.versions == ("penguins@v1",) for r in rows)


def test_clients_get_the_ca_certificate_only_and_the_gateway_a_leaf(topology):
    handed = Path(topology.state.ca_certificate).read_text()
    assert "PRIVATE KEY" not in handed
    (ca,) = x509.load_pem_x509_certificates(handed.encode())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    leaf = x509.load_pem_x509_certificates(Path(topology.state.certificate).read_bytes())[0]
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert leaf.issuer == ca.subject
    usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.oid.ExtendedKeyUsageOID.SERVER_AUTH in usage
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert Path(topology.state.certificate).stat().st_mode & 0o077 == 0  # leaf key: 0600


# The zone headers that once reached azure-us, as raw header lines (no client normalises them).
AMBIGUOUS = [["eu", "us"], ["us", "eu"], ["eu, us"], ["eu", "junk!"], ["eu", ""], ["eu,"],
             ['"eu"'], [""], ["euu"]]  # fmt: skip


def raw_predict(topology: Topology, zone_lines: list[str]) -> tuple[int, dict[str, str], bytes]:
    """A predict through the gateway with exactly these X-Verdict-Zone lines, over verified TLS."""
    body = json.dumps({"instances": ROWS.head(2).to_dict("records")}).encode()
    head = "".join(f"X-Verdict-Zone: {line}\r\n" for line in zone_lines)
    request = (
        f"POST /v1/models/penguins/predict HTTP/1.1\r\nHost: localhost\r\n{head}"
        f"Authorization: Bearer {topology.state.api_key()}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode("latin-1") + body
    context = ssl.create_default_context(cafile=topology.state.ca_certificate)
    sock = socket.create_connection(("127.0.0.1", topology.state.gateway_port), timeout=10)
    with context.wrap_socket(sock, server_hostname="localhost") as tls:
        tls.sendall(request)
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
    head_bytes, _, answer = data.partition(b"\r\n\r\n")
    status_line, *lines = head_bytes.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in lines)}
    return int(status_line.split()[1]), headers, answer


def test_ambiguous_zone_headers_never_reach_the_us(topology):
    for lines in AMBIGUOUS:
        for _ in range(3):  # round robin would have reached every server
            code, headers, body = raw_predict(topology, lines)
            assert code == 400, (lines, code, body)
            assert "x-verdict-target" not in headers, lines
            error = json.loads(body)["error"]
            assert error["kind"] == "bad_zone" and "eu, us" in error["message"], lines
    for lines in (["EU"], [" eu "]):  # one zone, any case, trimmed: routed in the EU
        code, headers, _ = raw_predict(topology, lines)
        assert code == 200 and headers["x-verdict-target"] in EU_TARGETS, lines


def test_an_eu_request_straight_to_the_us_replica_is_refused(topology):
    with topology.direct("azure-us") as direct:
        refused = predict(direct, "eu")
        assert refused.status_code == 421, refused.text
        assert refused.json()["error"]["kind"] == "wrong_zone"
        assert check(topology, predict(direct, "us"), "us") == "azure-us"
        direct.headers.pop("X-Verdict-Gateway-Secret")
        stranger = predict(direct, "us")  # a valid key, but not through the gateway
        assert stranger.status_code == 403, stranger.text
        assert stranger.json()["error"]["kind"] == "not_from_gateway"


def test_losing_a_cloud_mid_stream_fails_no_request(topology):
    with Stream(topology) as stream:
        time.sleep(2.0)
        killed = ops.kill("aws", home=topology.home)
        time.sleep(3.0)
    assert killed == ["aws-eu-1"]
    assert len(stream.outcomes) > 50
    failed = [(z, o) for z, o in stream.outcomes if not isinstance(o, httpx.Response)]
    failed += [(z, o) for z, o in stream.outcomes if isinstance(o, httpx.Response)
               and o.status_code != 200]  # fmt: skip
    assert failed == [], failed[:3]
    targets = [check(topology, o, z) for z, o in stream.outcomes]  # type: ignore[arg-type]
    assert "aws-eu" in targets  # it served before it died
    with topology.client() as client:
        after = {check(topology, predict(client, "eu"), "eu") for _ in range(10)}
    assert after == {"gcp-eu"}


def test_strict_residency_answers_503_when_every_eu_target_is_down(topology):
    ops.kill("gcp-eu", home=topology.home)
    time.sleep(1.5)  # the gateway's checks mark it down (300 ms, fall 2)
    with topology.client() as client:
        refused = predict(client, "eu")
        untagged = predict(client, None)
        us = predict(client, "us")
    assert refused.status_code == 503
    assert refused.json()["error"]["kind"] == "no_target_in_zone"
    assert "To fix" in refused.json()["error"]["message"]
    assert "X-Verdict-Target" not in refused.headers
    assert check(topology, untagged, None) == "azure-us"
    assert check(topology, us, "us") == "azure-us"


def test_a_corrupted_artifact_copy_is_resynced_before_the_target_serves_again(topology):
    blobs = sorted((Path(topology.state.targets["aws-eu"].folder) / "artifacts").rglob("*"))
    model_blob = max((b for b in blobs if b.is_file()), key=lambda b: b.stat().st_size)
    data = bytearray(model_blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model_blob.write_bytes(bytes(data))
    names, reports = ops.revive("aws", home=topology.home)
    assert names == ["aws-eu-1"]
    assert [r.target for r in reports if r.repaired] == ["aws-eu"]
    assert model_blob.read_bytes() != bytes(data)
    revived, _ = ops.revive("gcp", home=topology.home)
    assert revived == ["gcp-eu-1"]
    topology.refresh()
    with topology.client() as client:
        eu = Counter(check(topology, predict(client, "eu"), "eu") for _ in range(20))
    assert set(eu) == EU_TARGETS, eu  # revived targets take traffic again


def test_a_cut_link_buffers_and_catches_up_exactly_once(topology):
    topology.refresh()
    start = len(topology.answered)  # earlier answers of killed replicas may be lost (kill -9)
    aws = topology.state.targets["aws-eu"]
    ops.cut_link("aws-eu", home=topology.home)
    assert aws.link_pid
    direct = topology.direct("aws-eu")
    with direct, topology.client() as client:
        for _ in range(10):
            assert check(topology, predict(direct, "eu"), "eu") == "aws-eu"
            check(topology, predict(client, None), None)
    ids = topology.answered[start:]
    time.sleep(1.0)
    assert status(topology.state)[0].link == "cut"
    central = open_state(topology.state.central_state_url)
    try:
        assert _missing(central, ids) != set()  # buffered at aws-eu
        ops.cut_link("aws-eu", home=topology.home, cut=False)
        deadline = time.monotonic() + 30
        while _missing(central, ids) and time.monotonic() < deadline:
            time.sleep(0.25)
        assert _missing(central, ids) == set()
        counts = _counts(central, ids)
        assert set(counts.values()) == {1}, [k for k, v in counts.items() if v != 1][:5]
    finally:
        central.dispose()


def _counts(engine: Any, ids: list[str]) -> dict[str, int]:
    query = (
        select(predictions.c.request_id, func.count())
        .where(predictions.c.request_id.in_(ids))
        .group_by(predictions.c.request_id)
    )
    with engine.connect() as connection:
        return dict(connection.execute(query).all())


def _missing(engine: Any, ids: list[str]) -> set[str]:
    return set(ids) - set(_counts(engine, ids))


def test_a_canary_takes_its_share_and_is_aborted_or_promoted(topology):
    with warnings.catch_warnings(), Registry(home=topology.home) as registry:
        warnings.simplefilter("ignore")
        run = train(load_penguins(), "species", models=["decision_tree"], time_budget=2, cv=2,
                    quiet=True, out=topology.home / "run2")  # fmt: skip
        registry.register(run, "penguins")
        expected = {
            f"penguins@v{v}": list(registry.load(f"penguins@v{v}").predict(ROWS)) for v in (1, 2)
        }

    def versions(n: int) -> Counter:
        seen = Counter()
        with topology.client() as client:
            for _ in range(n):
                reply = predict(client, None)
                assert reply.status_code == 200, reply.text
                body = reply.json()
                assert [p["class"] for p in body["predictions"]] == expected[body["model_version"]]
                seen[body["model_version"]] += 1
        return seen

    ops.canary("penguins@v2", 50, home=topology.home)
    split = versions(60)
    assert 15 <= split["penguins@v2"] <= 45, split
    ops.canary("penguins@v2", abort=True, home=topology.home)
    assert versions(20) == Counter({"penguins@v1": 20})
    ops.canary("penguins@v2", 10, home=topology.home)
    ops.canary("penguins@v2", promote=True, home=topology.home)
    assert versions(20) == Counter({"penguins@v2": 20})
    topology.refresh()
    assert topology.state.canary is None and topology.state.version == 2
    assert not any(r.canary for t in topology.state.targets.values() for r in t.replicas)
    with Registry(home=topology.home) as registry:
        assert registry.get("penguins@production").version == 2


def test_a_moved_alias_reaches_every_target_through_its_link(topology):
    with warnings.catch_warnings(), Registry(home=topology.home) as registry:
        warnings.simplefilter("ignore")
        run = train(load_penguins(), "species", models=["softmax"], time_budget=2, cv=2,
                    quiet=True, out=topology.home / "run3", seed=3)  # fmt: skip
        new = registry.register(run, "penguins")
        for target in topology.state.targets.values():  # not in any target's folder yet
            assert not (
                Path(target.folder)
                / "artifacts"
                / "sha256"
                / new.artifacts["model.skops"]["sha256"][:2]
                / new.artifacts["model.skops"]["sha256"]
            ).exists()
        registry.set_alias("penguins", "production", new.version)
    wanted = f"penguins@v{new.version}"
    deadline = time.monotonic() + 30
    seen: set[str] = set()
    while time.monotonic() < deadline:
        with topology.client() as client:
            seen = {predict(client, zone).json()["model_version"]
                    for zone in ("eu", "us", None, "eu", "us", None)}  # fmt: skip
        if seen == {wanted}:
            break
        time.sleep(0.5)
    assert seen == {wanted}


def _wait(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_killed_replica_and_link_heal_alone_and_every_answer_arrives_once(topology, tmp_path):
    topology.refresh()
    aws = topology.state.targets["aws-eu"]
    replica_pid, link_pid = aws.replicas[0].pid, aws.link_pid
    with Stream(topology) as stream:
        time.sleep(1.5)
        os.kill(replica_pid, signal.SIGKILL)  # no operator: the supervisor must see to it
        time.sleep(1.0)
        os.kill(link_pid, signal.SIGKILL)
        time.sleep(2.5)
    answered = [o.json()["request_id"] for _, o in stream.outcomes
                if isinstance(o, httpx.Response) and o.status_code == 200]  # fmt: skip
    failed = [o for _, o in stream.outcomes
              if not isinstance(o, httpx.Response) or o.status_code != 200]  # fmt: skip
    assert failed == [] and len(answered) > 30, failed[:3]
    assert any(i.startswith("aws-eu:") for i in answered)  # ids say which target answered

    def healed() -> bool:
        topology.refresh()
        now = topology.state.targets["aws-eu"]
        return (now.replicas[0].pid != replica_pid and procs.alive(now.replicas[0].pid)
                and now.link_pid != link_pid and procs.alive(now.link_pid))  # fmt: skip

    assert _wait(healed, 20), "the supervisor did not restart the replica and the link"
    rows = {r.target: r for r in status(topology.state)}
    assert rows["aws-eu"].restarts >= 1 and rows["aws-eu"].link_restarts >= 1
    assert _wait(lambda: status(topology.state)[0].replicas_up == 1, 20)
    central = open_state(topology.state.central_state_url)
    try:
        assert _wait(lambda: not _missing(central, answered), 30), "answers never arrived"
        out = tmp_path / "log.jsonl"
        export_log(central, "penguins", out)
        records = [json.loads(line) for line in out.read_text().splitlines()]
    finally:
        central.dispose()
    per_request = Counter(r["request_id"] for r in records if r["request_id"] in set(answered))
    assert set(per_request) == set(answered)
    assert set(per_request.values()) == {len(ROWS)}  # every row once: none lost, none twice


def test_a_key_created_after_a_link_restart_opens_every_eu_target(topology):
    topology.refresh()
    gcp = topology.state.targets["gcp-eu"]
    os.kill(gcp.link_pid, signal.SIGKILL)
    assert _wait(lambda: (topology.refresh() or True)
                 and procs.alive(topology.state.targets["gcp-eu"].link_pid), 20)  # fmt: skip
    central = open_state(topology.state.central_state_url)
    try:
        created = KeyStore(central).create("after-restart")
    finally:
        central.dispose()
    started = time.monotonic()
    for target in sorted(EU_TARGETS):
        with topology.direct(target, created.token) as direct:
            assert _wait(lambda d=direct: predict(d, "eu").status_code == 200, 10), target
    assert time.monotonic() - started < 10


def test_down_leaves_no_process_socket_or_active_key(topology):
    topology.refresh()
    state = topology.state
    recorded = [p for p in state.pids() if p]
    assert len(recorded) == 1 + 1 + 3 + 3  # supervisor, gateway, a replica and a link per target
    assert Path(state.stats_socket).exists()
    token = state.api_key()
    report = down(topology.home)
    assert report.left == [] and sorted(report.stopped) == sorted(recorded)
    assert not any(procs.alive(pid) for pid in recorded)
    assert not (Path(state.folder) / "state.json").exists()
    assert not Path(state.stats_socket).exists()
    sockets = [p for p in Path(state.folder).rglob("*") if p.is_socket()]
    assert sockets == []
    assert report.key_revoked and report.key_id == state.key_id
    assert set(report.backlog.values()) == {0}, report.backlog  # every row shipped
    central = open_state(state.central_state_url)
    try:
        keys = {k.key_id: k for k in KeyStore(central).list()}
        assert keys[state.key_id].revoked is not None
        assert [k for k in keys.values() if k.name.startswith("deploy-") and not k.revoked] == []
        assert KeyStore(central).check(token).status == "revoked"
    finally:
        central.dispose()
    assert not (Path(state.folder) / "api-key").exists()  # no token left on disk
