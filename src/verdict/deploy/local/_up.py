"""The plan run on this machine: replicas per target, a link per target, HAProxy in front.

``up`` syncs the served version's artifacts into each target's folder (verified, repaired if
altered), gives each target its own state database (its local buffer of predictions and
feedback) and a link process shipping it to the central one, starts every replica as
``python -m verdict.serving`` on its own 127.0.0.1 port, and puts a real HAProxy in front as
the global gateway (TLS with a certificate signed by the deployment's own CA, residency routing,
retries, health checks), then a supervisor (``_supervisor``) that restarts any replica or
link that dies. Every process is recorded in ``state.json`` as soon as it starts, so ``down``
stops all of them (the supervisor first), ships what the links left, revokes the deployment's
API key and removes the gateway's socket: nothing is left behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from verdict._files import private_folder
from verdict.deploy._gateway import ServerLine, haproxy_config, target_weights
from verdict.deploy._planner import Plan, plan
from verdict.deploy._spec import DeploySpec, load_spec
from verdict.deploy.local import _certs
from verdict.deploy.local import _procs as procs
from verdict.deploy.local._artifacts import SyncReport, sync_version
from verdict.deploy.local._down import DownReport, stop_all
from verdict.deploy.local._link import link_command, ship
from verdict.deploy.local._state import (
    DeploymentState,
    Replica,
    TargetState,
    editing,
    forget,
    locked,
    write_key,
)
from verdict.deploy.local._status import wait_links_synced
from verdict.errors import ConfigurationError
from verdict.registry import ModelVersion, Registry, RegistrySettings

GATEWAY_READY_SECONDS = 60
LOCAL_REPLICAS = 2  # replicas per target at most on one machine (the plan may ask for more)
KEYS_MAX_STALENESS_SECONDS = 120.0  # a target cut off longer refuses keyed requests (503)


def deploy_folder(home: str | Path | None = None) -> Path:
    """``<home>/deploy``: where a local deployment keeps its state."""
    settings = RegistrySettings(**({"home": Path(home)} if home is not None else {}))
    return settings.home.resolve() / "deploy"


def up(
    spec_path: str | Path,
    *,
    home: str | Path | None = None,
    max_replicas: int = LOCAL_REPLICAS,
    keys_max_staleness_seconds: float | None = KEYS_MAX_STALENESS_SECONDS,
) -> tuple[DeploymentState, list[SyncReport]]:
    """Bring the plan of ``spec_path`` up on 127.0.0.1; see the module docstring.

    Parameters
    ----------
    spec_path : str or Path
        The deployment spec.
    home : str or Path, optional
        The verdict home holding the registry and the central state (default ``.verdict``).
    max_replicas : int
        Replicas per target at most, whatever the plan says (one machine has few cores).
    keys_max_staleness_seconds : float or None, default 120
        A replica whose target's link has not synced the central API keys for longer refuses
        every keyed request with 503 ``keys_stale`` (a revocation might not have reached it);
        None: it trusts its copy of the keys however old (revocations may then never arrive).

    Returns
    -------
    (DeploymentState, list of SyncReport)
        What runs, and what the artifact sync did per target.

    Raises
    ------
    ConfigurationError
        If a deployment already runs, HAProxy is missing, the model is not registered, or a
        process fails to start (everything started is stopped again).
    """
    if max_replicas < 1:
        raise ConfigurationError(f"max_replicas must be >= 1; got {max_replicas}. To fix: use 1+.")
    spec = load_spec(spec_path)
    placement = plan(spec)
    folder = deploy_folder(home)
    private_folder(folder)
    with locked(folder):  # one `up` at a time, and no other command while it starts
        _refuse_running(folder)
        procs.haproxy_binary()
        with Registry(home=folder.parent) as registry:
            version = registry.get(spec.model)
            state, reports = _prepare(spec, Path(spec_path), version, registry, folder, placement)
            state.registry_url, state.central_store = registry.url, registry.store.url
            state.keys_max_staleness_seconds = keys_max_staleness_seconds
        try:
            _start_links(state)  # first: the keys are fresh when the replicas start
            _start_supervisor(state)  # its start overlaps theirs; it acts once `up` unlocks
            _start_replicas(state, spec, max_replicas, placement.replicas)
            wait_links_synced(state, GATEWAY_READY_SECONDS)
            _start_gateway(state, spec)
            _check_supervisor(state)
        except BaseException:
            down(home)
            raise
    return state, reports


def _refuse_running(folder: Path) -> None:
    try:
        state = DeploymentState.load(folder)
    except ConfigurationError:
        return
    if any(procs.alive(pid) for pid in state.pids() if pid):
        raise ConfigurationError(
            f"A local deployment of {state.model} already runs (gateway {state.gateway_url}). "
            "To fix: `verdict deploy down` first, or use `verdict deploy status`."
        )
    forget(folder)


def _prepare(
    spec: DeploySpec,
    spec_path: Path,
    version: ModelVersion,
    registry: Registry,
    folder: Path,
    placement: Plan,
) -> tuple[DeploymentState, list[SyncReport]]:
    """Folders, artifacts, state databases, salt and keys for every target in the plan."""
    from verdict.serving import ServiceSettings
    from verdict.state import KeyStore, adopt_salt, open_state

    private_folder(folder)  # holds the deployment's key, certificates and state: 0700
    central_url = ServiceSettings(home=folder.parent).state_database()
    central = open_state(central_url)
    try:
        key = KeyStore(central).create(f"deploy-{int(time.time())}")
        write_key(folder, key.token)  # revoked centrally by `down`
        state = DeploymentState(
            spec_path=str(spec_path.resolve()), model=spec.model, version=version.version,
            folder=str(folder), central_state_url=central_url, registry_url="",
            gateway_port=0, gateway_pid=0, gateway_config=str(folder / "gateway" / "haproxy.cfg"),
            certificate="", stats_socket=admin_socket(folder), key_id=key.key_id,
        )  # fmt: skip
        reports = []
        planned = placement.replicas
        for target in spec.targets:
            if planned.get(target.name, 0) == 0:
                continue
            own = folder / "targets" / target.name
            reports.append(sync_version(registry, version, target.name, own / "artifacts"))
            state_url = f"sqlite:///{own / 'service.db'}"
            local = open_state(state_url)
            try:
                adopt_salt(local, central)
                ship(target.name, local, central)  # the keys out before any replica starts
            finally:
                local.dispose()
            (own / "link.cut").unlink(missing_ok=True)
            state.targets[target.name] = TargetState(
                target.name, target.provider, target.zone, str(own), state_url
            )
    finally:
        central.dispose()
    state.save()
    return state, reports


def admin_socket(folder: Path) -> str:
    """The gateway's admin socket: beside its config when the path is short enough, else in
    the temporary folder under a name derived from ``folder`` (a Unix socket path is limited
    to about 100 bytes, which a deep home folder exceeds)."""
    beside = folder / "gateway" / "admin.sock"
    if len(str(beside).encode()) <= 96:
        return str(beside)
    digest = hashlib.sha256(str(folder).encode()).hexdigest()[:16]
    return str(Path(tempfile.gettempdir()) / f"verdict-gateway-{digest}.sock")


def replica_env(state: DeploymentState, target: TargetState) -> dict[str, str]:
    """What a replica of ``target`` runs with: the central registry, its own store and log,
    its zone, the spec's strict zones and zone header (read from ``state.spec_path``) and the
    gateway secret, so it refuses what is not its own (``verdict.serving._residency``)."""
    spec = load_spec(state.spec_path)
    env = {
        "VERDICT_HOME": target.folder,
        "VERDICT_REGISTRY_URL": state.registry_url,
        "VERDICT_ARTIFACT_STORE": str(Path(target.folder) / "artifacts"),
        "VERDICT_STATE_URL": target.state_url,
        "VERDICT_TARGET": target.name,
        "VERDICT_PUBLIC_READINESS": "true",
        "VERDICT_RELOAD_SECONDS": "1",
        "VERDICT_ZONE": target.zone,
        "VERDICT_STRICT_ZONES": ",".join(spec.strict_zones()),
        "VERDICT_ZONE_HEADER": spec.gateway.zone_header,
    }
    if state.gateway_secret:
        env["VERDICT_GATEWAY_SECRET"] = state.gateway_secret
    return env


def launch_env(state: DeploymentState, target: TargetState) -> dict[str, str]:
    """:func:`replica_env` plus the deployment's bound on key staleness: what every replica
    of ``target`` is started with (by ``up``, a revive, a canary or the supervisor)."""
    env = replica_env(state, target)
    if state.keys_max_staleness_seconds is not None:
        env["VERDICT_KEYS_MAX_STALENESS_SECONDS"] = f"{state.keys_max_staleness_seconds:g}"
    return env


def _start_replicas(
    state: DeploymentState, spec: DeploySpec, cap: int, planned: dict[str, int]
) -> None:
    started = []
    for target in state.targets.values():
        for i in range(1, min(planned[target.name], cap) + 1):
            replica = Replica(f"{target.name}-{i}", 0, 0, spec.model)
            replica.pid = procs.start_replica(
                spec.model, 0, _log(state, replica), launch_env(state, target)
            )
            target.replicas.append(replica)
            started.append(replica)
            state.save()
    for replica in started:
        replica.port = procs.wait_listening(replica.pid, _log(state, replica))
    state.save()


def _start_links(state: DeploymentState) -> None:
    for target in state.targets.values():
        start_link(state, target)
        state.save()


def start_link(state: DeploymentState, target: TargetState) -> int:
    """Start ``target``'s link process (logs to the center, keys and artifacts out) and
    record its pid in ``state`` (the caller saves it); the pid."""
    log = Path(state.folder) / "logs" / f"link-{target.name}.log"
    command = link_command(
        target.name, target.state_url, state.central_state_url, target.cut_flag,
        model=state.model, registry_url=state.registry_url, store=state.central_store,
        artifacts=Path(target.folder) / "artifacts",
    )  # fmt: skip
    target.link_pid = procs.spawn(command, log)
    return target.link_pid


def _start_supervisor(state: DeploymentState) -> None:
    log = Path(state.folder) / "logs" / "supervisor.log"
    state.supervisor_pid = procs.start_supervisor(Path(state.folder), log)
    state.save()


def _check_supervisor(state: DeploymentState) -> None:
    if not procs.alive(state.supervisor_pid):
        raise ConfigurationError(
            "The supervisor exited at start. To fix: read "
            f"{Path(state.folder) / 'logs' / 'supervisor.log'}."
        )


def _start_gateway(state: DeploymentState, spec: DeploySpec) -> None:
    gateway = Path(state.gateway_config).parent
    private_folder(gateway)
    given = spec.gateway.tls.ca_files(Path(state.spec_path).parent)
    authority = _certs.deployment_ca(Path(state.folder), given)
    state.ca_certificate = str(authority.certificate)  # what clients trust
    state.certificate = str(_certs.server_certificate(authority, gateway / _certs.SERVER_FILE))
    (gateway / _certs.FILENAME).unlink(missing_ok=True)  # older runs' self-signed cert and key
    state.gateway_port = procs.free_port()
    config = Path(state.gateway_config)
    config.write_text(render_local_gateway(state, spec), encoding="utf-8")
    state.gateway_pid = procs.start_haproxy(config, Path(state.folder) / "logs" / "haproxy.log")
    state.save()
    procs.wait_port(state.gateway_port)
    wait_gateway_ready(state)


def render_local_gateway(state: DeploymentState, spec: DeploySpec) -> str:
    """The gateway's configuration for the replicas running now (canary weights included)."""
    return haproxy_config(
        spec,
        gateway_servers(state, spec),
        bind_host="127.0.0.1",
        bind_port=state.gateway_port,
        cert_path=state.certificate,
        stats_socket=state.stats_socket,
        name="local",
        secret=state.gateway_secret or None,
    )


def gateway_servers(state: DeploymentState, spec: DeploySpec) -> list[ServerLine]:
    """One server per replica; each target's weight split between its stable and canary ones."""
    weights = target_weights(spec)
    share = (state.canary or {}).get("percent", 0) / 100.0
    servers = []
    for target in state.targets.values():
        stable = [r for r in target.replicas if not r.canary]
        canary = [r for r in target.replicas if r.canary]
        for group, part in ((stable, 1.0 - share if canary else 1.0), (canary, share)):
            for replica in group:
                weight = round(weights[target.name] * part / len(group))
                servers.append(
                    ServerLine(
                        replica.name, target.name, target.provider, target.zone, "127.0.0.1",
                        replica.port, min(max(weight, 1 if part > 0 else 0), 256), replica.canary,
                    )
                )  # fmt: skip
    return servers


def wait_gateway_ready(state: DeploymentState, names: set[str] | None = None) -> None:
    """Wait until the replicas ``names`` (default: all) are up behind the gateway."""
    from verdict.deploy.local._status import gateway_stats

    if names is None:
        names = {r.name for t in state.targets.values() for r in t.replicas}
    deadline = time.monotonic() + GATEWAY_READY_SECONDS
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            rows = gateway_stats(state.stats_socket)
            up = {r["svname"] for r in rows if r["pxname"] == "all" and r["status"] == "UP"}
            if names <= up:
                return
        time.sleep(0.2)
    raise ConfigurationError(
        f"The gateway did not see every replica healthy within {GATEWAY_READY_SECONDS} s. "
        f"To fix: read the replica logs under {Path(state.folder) / 'logs'}."
    )


def down(home: str | Path | None = None) -> DownReport:
    """Stop everything the local deployment started and leave nothing behind.

    The supervisor first (so it restarts nothing), then the gateway, the replicas (gracefully:
    in-flight requests finish, logs flush) and the links (each ships until caught up); then
    what a link left is shipped or reported, the deployment's API key is revoked at the
    center, the gateway's socket is removed and every recorded pid is checked gone.

    Returns
    -------
    DownReport
        The pids stopped and any still alive (empty on success), rows shipped and left per
        target, the key revoked and the files removed. ``state.json`` is moved aside as
        ``last-run.json`` only when no process is left.
    """
    folder = deploy_folder(home)
    report = stop_all(folder)
    if not report.left:
        forget(folder)
    return report


@contextlib.contextmanager
def saved(home: str | Path | None = None) -> Iterator[DeploymentState]:
    """The running deployment's state, under the state lock, saved again after the caller
    changed it (so a concurrent writer, e.g. the supervisor, loses nothing)."""
    with editing(deploy_folder(home)) as state:
        yield state


def _log(state: DeploymentState, replica: Replica) -> Path:
    return Path(state.folder) / "logs" / f"{replica.name}.log"


def replica_log(state: DeploymentState, replica: Replica) -> Path:
    """Where ``replica`` writes its output."""
    return _log(state, replica)
