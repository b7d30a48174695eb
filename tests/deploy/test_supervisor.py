"""Supervision of the local topology, for real: killed links and replicas heal by themselves,
every answer reaches the center exactly once, keys and revocations reach every target within
seconds, a target cut off longer than the staleness bound fails closed, a killed cloud stays
down until revived, and ``down`` leaves nothing.

One deployment (two EU targets, a replica and a link each, HAProxy, the supervisor) is brought
up for the module, with a 12 s staleness bound, and always brought down; the last test checks
what ``down`` leaves.
"""

from __future__ import annotations

import os
import shutil
import signal
import ssl
import stat
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from palmerpenguins import load_penguins
from sqlalchemy import func, select

from verdict.deploy._gateway import SECRET_HEADER
from verdict.deploy.local import _ops as ops
from verdict.deploy.local import _procs as procs
from verdict.deploy.local import _supervisor
from verdict.deploy.local._state import (
    DeploymentState,
    Replica,
    TargetState,
    editing,
    forget,
    locked,
)
from verdict.deploy.local._status import account, counted, status
from verdict.deploy.local._supervisor import STEADY_SECONDS, Backoff
from verdict.deploy.local._up import down, up
from verdict.pipeline import train
from verdict.registry import Registry
from verdict.state import KeyStore
from verdict.state._database import open_state, predictions

_HAPROXY = pytest.mark.skipif(
    shutil.which("haproxy") is None and not os.environ.get("VERDICT_REQUIRE_HAPROXY"),
    reason="HAProxy is not installed (.ci/run installs it and sets VERDICT_REQUIRE_HAPROXY)",
)


def real(test: Callable[..., None]) -> Callable[..., None]:
    """A test on the real topology: slow, and only where HAProxy is installed."""
    return pytest.mark.slow(_HAPROXY(test))


BOUND = 12.0  # the replicas' keys_max_staleness_seconds in this module
SPEC = {
    "model": "penguins@production",
    "load": {"rps": 50, "peak_factor": 2, "zones": {"eu": 1.0}},
    "latency": {"p99_ms": 250},
    "routing": {"residency": {"eu": "strict"}, "min_targets_per_zone": 2},
    "gateway": {"check_interval_ms": 300},
    "targets": [
        {"name": "aws-eu", "provider": "aws", "region": "eu-west-1", "zone": "eu",
         "instance_type": "m6i.large", "cost_per_replica_hour": 0.096, "min_replicas": 1,
         "max_replicas": 1, "bucket": "s3://eu-bucket"},
        {"name": "gcp-eu", "provider": "gcp", "region": "europe-west4", "zone": "eu",
         "instance_type": "n2-standard-2", "cost_per_replica_hour": 0.107, "min_replicas": 1,
         "max_replicas": 1, "bucket": "gs://eu-bucket"},
    ],
}  # fmt: skip
ROWS = load_penguins().dropna().drop(columns="species").iloc[::9].head(5).to_dict("records")


@dataclass
class Deployment:
    home: Path
    folder: Path

    @property
    def state(self) -> DeploymentState:
        return DeploymentState.load(self.folder)

    def gateway(self) -> httpx.Client:
        state = self.state
        cafile = getattr(state, "ca_certificate", "") or state.certificate
        return httpx.Client(
            base_url=state.gateway_url,
            verify=ssl.create_default_context(cafile=cafile),
            headers={"Authorization": f"Bearer {state.api_key()}"},
            timeout=30,
        )

    def direct(self, target: str, token: str | None = None) -> httpx.Client:
        """A client of ``target``'s replica itself (no gateway, no retry elsewhere)."""
        state = self.state
        headers = {"Authorization": f"Bearer {token or state.api_key()}"}
        if getattr(state, "gateway_secret", ""):  # replicas answer their gateway only
            headers[SECRET_HEADER] = state.gateway_secret
        return httpx.Client(
            base_url=f"http://127.0.0.1:{state.targets[target].replicas[0].port}",
            headers=headers,
            timeout=10,
        )

    def row(self, target: str) -> Any:
        return next(r for r in status(self.state) if r.target == target)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Iterator[Deployment]:
    home = tmp_path_factory.mktemp("supervised")
    with warnings.catch_warnings(), Registry(home=home) as registry:
        warnings.simplefilter("ignore")
        run = train(load_penguins(), "species", models=["softmax"], time_budget=3, cv=3,
                    quiet=True, out=home / "run")  # fmt: skip
        registry.register(run, "penguins", alias="production")
    spec = home / "deploy.yaml"
    spec.write_text(yaml.safe_dump(SPEC), encoding="utf-8")
    state, _ = up(spec, home=home, max_replicas=1, keys_max_staleness_seconds=BOUND)
    try:
        yield Deployment(home, Path(state.folder))
    finally:
        if (Path(state.folder) / "state.json").exists():
            down(home)


def wait_for(check: Callable[[], Any], seconds: float, what: str) -> float:
    """Poll ``check`` until truthy; the seconds it took (fails after ``seconds``)."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, f"{what}: not within {seconds:g} s"
        time.sleep(0.1)
    return time.monotonic() - started


def predict(client: httpx.Client) -> httpx.Response:
    return client.post(
        "/v1/models/penguins/predict",
        json={"instances": ROWS},
        headers={"X-Verdict-Zone": "eu"},
    )


def answers(client: httpx.Client) -> int:
    """The status of a prediction request (0: no answer, e.g. the replica is starting)."""
    try:
        return predict(client).status_code
    except httpx.HTTPError:
        return 0


def link_healed(deployment: Deployment, target: str, killed: int, since: float) -> bool:
    """A new link process of ``target`` runs and has synced the keys since ``since``."""
    pid = deployment.state.targets[target].link_pid
    if pid in (None, killed) or not procs.alive(pid):
        return False
    age = deployment.row(target).keys_age_s
    return age is not None and age < time.monotonic() - since


def healed(deployment: Deployment, target: str, killed: int) -> bool:
    """A new process of ``target``'s replica serves, and the gateway sees it up again."""
    if deployment.state.targets[target].replicas[0].pid == killed:
        return False
    with deployment.direct(target) as client:
        return answers(client) == 200 and deployment.row(target).replicas_up == 1


class Stream:
    """Requests through the gateway from two threads until stopped; answered ids kept."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.answered: list[str] = []
        self.other: list[Any] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run) for _ in range(2)]

    def _run(self) -> None:
        with self.deployment.gateway() as client:
            while not self._stop.is_set():
                try:
                    reply = predict(client)
                except httpx.HTTPError as exc:
                    self.other.append(exc)
                    continue
                if reply.status_code == 200:
                    self.answered.append(reply.json()["request_id"])
                else:
                    self.other.append((reply.status_code, reply.text[:120]))
                time.sleep(0.02)

    def __enter__(self) -> Stream:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)


def central_counts(deployment: Deployment, ids: list[str]) -> dict[str, int]:
    query = (
        select(predictions.c.request_id, func.count())
        .where(predictions.c.request_id.in_(ids))
        .group_by(predictions.c.request_id)
    )
    engine = open_state(deployment.state.central_state_url)
    try:
        with engine.connect() as connection:
            return dict(connection.execute(query).all())
    finally:
        engine.dispose()


# ---- without processes: the lock, the backoff, the counters, a round's decisions ----------


def small_state(folder: Path) -> DeploymentState:
    folder.mkdir(parents=True, exist_ok=True)
    state = DeploymentState(
        spec_path="deploy.yaml", model="penguins@production", version=1, folder=str(folder),
        central_state_url="", registry_url="", gateway_port=0, gateway_pid=0,
        gateway_config="", certificate="", stats_socket="",
    )  # fmt: skip
    state.targets["aws-eu"] = TargetState("aws-eu", "aws", "eu", str(folder / "aws-eu"), "")
    state.targets["aws-eu"].replicas.append(Replica("aws-eu-1", 8001, 0, "penguins@production"))
    state.save()
    return state


def test_concurrent_writers_lose_no_change(tmp_path):
    folder = tmp_path / "deploy"
    small_state(folder)
    bump = (
        "import sys; from pathlib import Path\n"
        "from verdict.deploy.local._state import editing\n"
        "for _ in range(25):\n"
        "    with editing(Path(sys.argv[1])) as state:\n"
        "        state.version += 1\n"
    )
    process = subprocess.Popen([sys.executable, "-c", bump, str(folder)])

    def writer() -> None:
        for _ in range(25):
            with editing(folder) as state:
                state.version += 1
                state.save()  # a save inside: the lock is re-entrant

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert process.wait(60) == 0
    assert DeploymentState.load(folder).version == 1 + 3 * 25


def test_the_lock_times_out_for_another_holder(tmp_path):
    folder = tmp_path / "deploy"
    small_state(folder)
    outcome: list[str] = []

    def other() -> None:
        try:
            with locked(folder, timeout=0.2):
                outcome.append("got it")
        except TimeoutError:
            outcome.append("timed out")

    with locked(folder), locked(folder):  # re-entrant in this thread
        thread = threading.Thread(target=other)
        thread.start()
        thread.join(10)
    assert outcome == ["timed out"]
    other()
    assert outcome == ["timed out", "got it"]


def test_backoff_doubles_to_ten_seconds_and_resets_after_a_steady_run():
    backoff, now, waits = Backoff(), 100.0, []
    assert backoff.due(now)  # the first restart is immediate
    for _ in range(7):
        backoff.record(now)
        waits.append(backoff.not_before - now)
        now = backoff.not_before
    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    last = backoff.restarted
    backoff.alive(last + STEADY_SECONDS / 2)
    assert backoff.delay == 10.0  # not up long enough yet
    backoff.alive(last + STEADY_SECONDS)
    assert backoff.delay == 0.5 and backoff.due(backoff.not_before)


def test_counters_survive_restarts_and_failed_scrapes():
    replica = Replica("aws-eu-1", 8001, 101, "penguins@production")

    def sample(requests: float, errors: float = 0.0, ok: bool = True) -> dict[str, Any]:
        versions = {"penguins@v1"} if ok else set()
        return {"requests": requests, "errors": errors, "buckets": {}, "versions": versions}

    account(replica, sample(40, 2))
    assert counted(replica, sample(50, 3)) == {"requests": 50, "errors": 3}
    account(replica, sample(0, ok=False))  # a failed scrape changes nothing
    assert counted(replica, None) == {"requests": 40, "errors": 2}  # not running: last seen
    replica.pid = 202  # restarted: a new life counts from zero
    assert counted(replica, sample(5)) == {"requests": 45, "errors": 2}
    account(replica, sample(5))
    account(replica, sample(7, 1))
    assert counted(replica, sample(9, 1)) == {"requests": 49, "errors": 3}
    account(replica, sample(2))  # went back in the same pid (a worker restarted): a reset too
    assert counted(replica, sample(2)) == {"requests": 49, "errors": 3}


def test_a_round_restarts_dead_links_and_replicas_but_not_a_killed_target(tmp_path, monkeypatch):
    folder = tmp_path / "deploy"
    state = small_state(folder)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    state.targets["aws-eu"].link_pid = gone.pid
    state.targets["aws-eu"].replicas[0].pid = gone.pid
    state.targets["aws-eu"].outage = True
    state.save()
    started: list[str] = []

    def fake_link(state: DeploymentState, target: TargetState) -> int:
        started.append(f"link {target.name}")
        target.link_pid = os.getpid()
        return os.getpid()

    def fake_replica(ref: str, port: int, log: Path, env: dict[str, str]) -> int:
        started.append(f"replica on {port}")
        return os.getpid()

    monkeypatch.setattr(_supervisor, "start_link", fake_link)
    monkeypatch.setattr(_supervisor.procs, "start_replica", fake_replica)
    monkeypatch.setattr(_supervisor, "resync", lambda state, targets: [])
    monkeypatch.setattr(_supervisor, "launch_env", lambda state, target: {})
    supervisor = _supervisor.Supervisor(folder)
    assert supervisor.round()
    assert started == ["link aws-eu"]  # the killed target's replica stays down
    assert DeploymentState.load(folder).targets["aws-eu"].link_restarts == 1
    with editing(folder) as changed:
        changed.targets["aws-eu"].outage = False  # revived (by hand here)
    assert supervisor.round()
    assert started == ["link aws-eu", "replica on 8001"]
    after = DeploymentState.load(folder).targets["aws-eu"]
    assert after.replicas[0].restarts == 1 and after.replicas[0].pid == os.getpid()
    assert supervisor.round() and len(started) == 2  # both alive now: nothing more
    forget(folder)
    assert not supervisor.round()  # the deployment is gone: supervision ends


@real
def test_up_starts_a_supervisor_and_status_shows_the_links(deployment):
    state = deployment.state
    assert state.supervisor_pid and procs.alive(state.supervisor_pid)
    assert state.supervisor_pid in state.pids()
    assert len([p for p in state.pids() if p]) == 1 + 1 + 2 + 2  # supervisor, gateway, 2+2
    wait_for(lambda: all(r.replicas_up == 1 for r in status(state)), 30, "replicas up")
    for row in status(state):
        assert (row.restarts, row.link_restarts, row.link) == (0, 0, "up")
        assert row.backlog is not None and row.keys_age_s is not None
        assert row.keys_age_s < BOUND and not row.keys_stale


@real
def test_killed_link_and_replica_heal_and_every_answer_reaches_the_center_once(deployment):
    before = deployment.state
    link_pid = before.targets["aws-eu"].link_pid
    replica = before.targets["gcp-eu"].replicas[0]
    with Stream(deployment) as stream:
        time.sleep(1.0)
        os.kill(link_pid, signal.SIGKILL)
        killed = time.monotonic()
        healed_link = wait_for(
            lambda: link_healed(deployment, "aws-eu", link_pid, killed), 30, "the link back"
        )
        served_before = len(stream.answered)
        os.kill(replica.pid, signal.SIGKILL)
        healed_replica = wait_for(
            lambda: healed(deployment, "gcp-eu", replica.pid), 60, "the killed replica back"
        )
        time.sleep(1.0)
    print(f"\nlink healed in {healed_link:.2f} s, replica in {healed_replica:.2f} s; "
          f"{len(stream.answered)} answered, other outcomes {stream.other[:5]}")  # fmt: skip
    assert len(stream.answered) > served_before > 0
    rows = {r.target: r for r in status(deployment.state)}
    assert rows["aws-eu"].link_restarts == 1 and rows["aws-eu"].link == "up"
    assert rows["gcp-eu"].restarts == 1
    ids = stream.answered
    wait_for(lambda: len(central_counts(deployment, ids)) == len(ids), 30, "all shipped")
    counts = central_counts(deployment, ids)
    assert set(counts) == set(ids) and set(counts.values()) == {1}
    wait_for(lambda: all(r.backlog == 0 for r in status(deployment.state)), 30, "caught up")


@real
def test_status_counters_survive_a_restart(deployment):
    with deployment.gateway() as client:
        for _ in range(10):
            assert answers(client) == 200
    time.sleep(2.5)  # the supervisor scrapes every 2 s
    counted = deployment.row("aws-eu").requests
    assert counted > 0
    killed = deployment.state.targets["aws-eu"].replicas[0].pid
    os.kill(killed, signal.SIGKILL)
    wait_for(lambda: healed(deployment, "aws-eu", killed), 60, "the replica back")
    assert deployment.row("aws-eu").requests >= counted


@real
def test_keys_reach_every_target_after_a_link_restart(deployment):
    link_pid = deployment.state.targets["gcp-eu"].link_pid
    os.kill(link_pid, signal.SIGKILL)
    killed = time.monotonic()
    wait_for(lambda: link_healed(deployment, "gcp-eu", link_pid, killed), 30, "the link back")
    central = open_state(deployment.state.central_state_url)
    try:
        keys = KeyStore(central, cache_seconds=0)
        created = keys.create("after-restart")
        for target in ("aws-eu", "gcp-eu"):
            with deployment.direct(target, created.token) as client:
                took = wait_for(lambda c=client: answers(c) == 200, 10, f"new key at {target}")
                print(f"\nnew key valid at {target} after {took:.2f} s")
        keys.revoke(created.key_id)
        for target in ("aws-eu", "gcp-eu"):
            with deployment.direct(target, created.token) as client:
                took = wait_for(lambda c=client: answers(c) == 403, 10, f"revoked at {target}")
                print(f"revocation seen at {target} after {took:.2f} s")
    finally:
        central.dispose()


@real
def test_a_target_cut_off_longer_than_the_bound_fails_closed_then_recovers(deployment):
    ops.cut_link("aws-eu", home=deployment.home)
    try:
        with deployment.direct("aws-eu") as aws, deployment.direct("gcp-eu") as gcp:
            took = wait_for(lambda: answers(aws) == 503, BOUND + 10, "aws-eu refusing")
            print(f"\naws-eu refused keyed requests {took:.2f} s after the cut")
            refused = predict(aws)
            assert refused.json()["error"]["kind"] == "keys_stale"
            assert "To fix" in refused.json()["error"]["message"]
            assert aws.get("/v2/health/live").status_code == 200
            assert aws.get("/v2/health/ready").status_code == 200
            assert answers(gcp) == 200
            row = deployment.row("aws-eu")
            assert row.keys_stale and row.link == "cut" and row.keys_age_s > BOUND
        with deployment.gateway() as client:  # the gateway retries elsewhere in the zone
            assert all(answers(client) == 200 for _ in range(6))
    finally:
        restored = ops.restore_link("aws-eu", home=deployment.home)
    assert restored == {"aws-eu": None}  # the link process was running: nothing restarted
    with deployment.direct("aws-eu") as aws:
        took = wait_for(lambda: answers(aws) == 200, 10, "aws-eu serving again")
    print(f"aws-eu served again {took:.2f} s after the restore")
    assert not deployment.row("aws-eu").keys_stale


@real
def test_restore_link_restarts_a_dead_link_and_says_so(deployment):
    ops.cut_link("gcp-eu", home=deployment.home)
    before = deployment.state.targets["gcp-eu"]
    with locked(deployment.folder):  # the supervisor waits: the command finds the link dead
        os.kill(before.link_pid, signal.SIGKILL)
        wait_for(lambda: not procs.alive(before.link_pid), 5, "the link dead")
        restored = ops.restore_link("gcp-eu", home=deployment.home)
    assert restored["gcp-eu"] is not None and procs.alive(restored["gcp-eu"])
    assert deployment.state.targets["gcp-eu"].link_pid == restored["gcp-eu"]
    assert not deployment.state.targets["gcp-eu"].cut_flag.exists()


@real
def test_a_killed_cloud_stays_down_until_revived(deployment):
    killed = ops.kill("gcp", home=deployment.home)
    assert killed == ["gcp-eu-1"]
    pid = deployment.state.targets["gcp-eu"].replicas[0].pid
    time.sleep(3.0)  # six supervisor rounds
    state = deployment.state
    assert state.targets["gcp-eu"].outage
    assert state.targets["gcp-eu"].replicas[0].pid == pid and not procs.alive(pid)
    assert deployment.row("gcp-eu").outage
    names, _ = ops.revive("gcp", home=deployment.home)
    assert names == ["gcp-eu-1"]
    state = deployment.state
    assert not state.targets["gcp-eu"].outage
    assert procs.alive(state.targets["gcp-eu"].replicas[0].pid)
    with deployment.direct("gcp-eu") as client:
        assert answers(client) == 200


@real
def test_down_leaves_no_process_socket_or_active_key(deployment):
    state = deployment.state
    recorded = [p for p in state.pids() if p]
    socket = Path(state.stats_socket)
    assert socket.exists()
    report = down(deployment.home)
    assert report.left == [] and sorted(report.stopped) == sorted(recorded)
    assert not any(procs.alive(pid) for pid in recorded)
    assert report.key_revoked and report.key_id == state.key_id
    assert set(report.backlog.values()) == {0}
    assert not socket.exists()
    leftovers = [p for p in deployment.folder.rglob("*")
                 if stat.S_ISSOCK(p.lstat().st_mode) or p.suffix == ".pid"]  # fmt: skip
    assert leftovers == []
    assert not (deployment.folder / "state.json").exists()
    central = open_state(state.central_state_url)
    try:
        active = [k for k in KeyStore(central).list() if k.revoked is None]
    finally:
        central.dispose()
    assert [k for k in active if k.name.startswith("deploy-")] == []
