"""Drills and rollouts on a running local deployment: chaos (kill, revive, cut a link) and canary.

A kill is SIGKILL of every replica of a target or a provider, the way a cloud disappears: the
gateway's retries and health checks must hide it, and the target is marked ``outage`` so the
supervisor leaves it down (a cloud that is gone cannot restart its pods). A revive clears the
mark, re-syncs the target's artifacts first (a copy altered while it was down is replaced
before it serves), starts the replicas on their old ports, so the gateway's checks bring them
back without a reload, and restarts the target's link if it is dead. Restoring a cut link
restarts its process too when it is dead. Every change to the state is made under its lock.

A canary adds one replica per target serving the new version and shifts the gateway's weights;
``promote`` moves the alias (stable replicas hot-reload to it) and retires the canaries,
``abort`` retires them.
"""

from __future__ import annotations

import time
from numbers import Real
from pathlib import Path

from verdict._params import Interval, Satisfies, check, invalid_parameter
from verdict.deploy._spec import load_spec
from verdict.deploy.local import _procs as procs
from verdict.deploy.local._artifacts import SyncReport, sync_version
from verdict.deploy.local._state import DeploymentState, Replica, TargetState
from verdict.deploy.local._up import (
    launch_env,
    render_local_gateway,
    replica_log,
    saved,
    start_link,
    wait_gateway_ready,
)
from verdict.errors import ConfigurationError

PROMOTE_SECONDS = 30
# A canary's share of the traffic, in percent.
_PERCENT = Satisfies(
    Interval(Real, 0, 100).is_satisfied_by,
    "a number between 0 and 100 to start or reweight a canary",
)


def chosen(state: DeploymentState, name: str) -> list[TargetState]:
    """The targets ``name`` means: one target by name, or every target of a provider."""
    found = [t for t in state.targets.values() if name in (t.name, t.provider)]
    if not found:
        known = sorted({*state.targets, *(t.provider for t in state.targets.values())})
        raise ConfigurationError(
            f"No target or provider named {name!r} runs here. To fix: use one of "
            f"{', '.join(known)}."
        )
    return found


def kill(name: str, home: str | Path | None = None) -> list[str]:
    """SIGKILL every replica of the target or provider ``name`` and mark it ``outage`` (the
    supervisor leaves it down until :func:`revive`); the replicas killed."""
    with saved(home) as state:
        targets = chosen(state, name)
        for target in targets:
            target.outage = True
        replicas = [r for t in targets for r in t.replicas if procs.alive(r.pid)]
        procs.kill_now([r.pid for r in replicas])
    return [r.name for r in replicas]


def revive(name: str, home: str | Path | None = None) -> tuple[list[str], list[SyncReport]]:
    """Clear the outage mark of ``name``, re-sync its artifacts, restart its dead replicas on
    their old ports and its dead links; what was restarted (``'link aws-eu'`` for a link)."""
    with saved(home) as state:
        targets = chosen(state, name)
        for target in targets:
            target.outage = False
        reports = resync(state, targets)
        dead = [(t, r) for t in targets for r in t.replicas if not procs.alive(r.pid)]
        for target, replica in dead:
            env = launch_env(state, target)
            replica.pid = procs.start_replica(
                replica.ref, replica.port, replica_log(state, replica), env
            )
            state.save()
        links = [t for t in targets if not (t.link_pid and procs.alive(t.link_pid))]
        for target in links:
            start_link(state, target)
            state.save()
    for _, replica in dead:  # the lock is free again: the supervisor may work meanwhile
        procs.wait_listening(replica.pid, replica_log(state, replica), replica.port)
    wait_gateway_ready(state, {r.name for _, r in dead})
    return [r.name for _, r in dead] + [f"link {t.name}" for t in links], reports


def resync(state: DeploymentState, targets: list[TargetState]) -> list[SyncReport]:
    """Make the artifacts of every version the replicas of ``targets`` serve whole again in
    each target's folder (verified, an altered copy replaced); what was done."""
    refs = {r.ref for t in targets for r in t.replicas}
    with state.registry() as registry:
        versions = [registry.get(ref) for ref in sorted(refs)]
        return [
            sync_version(registry, v, t.name, Path(t.folder) / "artifacts")
            for t in targets
            for v in versions
        ]


def cut_link(name: str, home: str | Path | None = None, *, cut: bool = True) -> list[str]:
    """Cut (or restore) the link between the targets ``name`` means and the center; the
    targets. Restoring also restarts a link process that is dead (see :func:`restore_link`)."""
    if not cut:
        return list(restore_link(name, home))
    with saved(home) as state:
        targets = chosen(state, name)
        for target in targets:
            target.cut_flag.touch()
    return [t.name for t in targets]


def restore_link(name: str, home: str | Path | None = None) -> dict[str, int | None]:
    """Remove the cut flag of the targets ``name`` means and restart their links that are
    dead; per target, the pid of a link restarted now (None: it was running)."""
    restarted: dict[str, int | None] = {}
    with saved(home) as state:
        for target in chosen(state, name):
            target.cut_flag.unlink(missing_ok=True)
            running = target.link_pid and procs.alive(target.link_pid)
            restarted[target.name] = None if running else start_link(state, target)
    return restarted


def canary(
    ref: str,
    percent: float | None = None,
    *,
    promote: bool = False,
    abort: bool = False,
    home: str | Path | None = None,
) -> DeploymentState:
    """Start, reweight, promote or abort a canary of ``ref`` through the gateway's weights."""
    if promote and abort:
        raise invalid_parameter(
            "abort",
            abort,
            "canary",
            "False when promote=True: the two exclude each other",
            "pass promote=True or abort=True, not both",
        )
    if not (promote or abort):
        check("percent", percent, "canary", _PERCENT, fix="pass e.g. percent=10")
    with saved(home) as state:
        spec = load_spec(state.spec_path)
        if promote or abort:
            _finish(state, spec.model_alias, promote)
        else:
            _shift(state, ref, float(percent))  # type: ignore[arg-type]
        Path(state.gateway_config).write_text(render_local_gateway(state, spec), encoding="utf-8")
        procs.reload_haproxy(state.gateway_pid, Path(state.gateway_config))
        time.sleep(0.5)  # the new workers start with every server up until checked
        wait_gateway_ready(
            state,
            {r.name for t in state.targets.values() for r in t.replicas if procs.alive(r.pid)},
        )
        return state


def _shift(state: DeploymentState, ref: str, percent: float) -> None:
    """Start the canary replicas if none run yet, and set the canary's share."""
    with state.registry() as registry:
        version = registry.get(ref)
        if version.name != state.model.split("@")[0]:
            raise ConfigurationError(
                f"{ref} is a version of {version.name}, but this deployment serves "
                f"{state.model}. To fix: name a version of {state.model.split('@')[0]}."
            )
        running = state.canary
        if running and running["version"] != version.version:
            raise ConfigurationError(
                f"A canary of v{running['version']} runs already. To fix: finish it first, "
                "with promote=True or abort=True."
            )
        if not running:
            for target in state.targets.values():
                sync_version(registry, version, target.name, Path(target.folder) / "artifacts")
            _start_canaries(state, version.ref)
    state.canary = {"ref": version.ref, "version": version.version, "percent": percent}


def _start_canaries(state: DeploymentState, ref: str) -> None:
    started = []
    for target in state.targets.values():
        replica = Replica(f"{target.name}-canary", 0, 0, ref, canary=True)
        replica.pid = procs.start_replica(
            ref, 0, replica_log(state, replica), launch_env(state, target)
        )
        target.replicas.append(replica)
        started.append(replica)
        state.save()
    for replica in started:
        replica.port = procs.wait_listening(replica.pid, replica_log(state, replica))


def _finish(state: DeploymentState, alias: str, promote: bool) -> None:
    running = state.canary
    if not running:
        raise ConfigurationError("No canary runs. To fix: start one first, e.g. percent=10.")
    if promote:
        with state.registry() as registry:
            registry.set_alias(state.model.split("@")[0], alias, running["version"])
        state.version = int(running["version"])
        wait_version(state, int(running["version"]))
    canaries = [r for t in state.targets.values() for r in t.replicas if r.canary]
    procs.stop([r.pid for r in canaries], seconds=15)
    for target in state.targets.values():
        target.replicas = [r for r in target.replicas if not r.canary]
    state.canary = None


def wait_version(state: DeploymentState, version: int, seconds: float = PROMOTE_SECONDS) -> None:
    """Wait until every live stable replica answers with ``version`` alone (hot reload)."""
    from verdict.deploy.local._status import scrape

    deadline = time.monotonic() + seconds
    wanted = {f"{state.model.split('@')[0]}@v{version}"}
    key = state.api_key()
    stable = [r for t in state.targets.values() for r in t.replicas if not r.canary]
    while time.monotonic() < deadline:
        live = [r for r in stable if procs.alive(r.pid)]
        if all(scrape(r.port, key, state.gateway_secret)["versions"] == wanted for r in live):
            return
        time.sleep(0.3)
    raise ConfigurationError(
        f"Not every replica reloaded {wanted.pop()} within {seconds:g} s. To fix: read "
        "`verdict deploy status` and the replica logs; the alias has moved."
    )
