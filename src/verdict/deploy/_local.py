"""The plan run on this machine: replicas per target, a link per target, HAProxy in front.

``up`` syncs the served version's artifacts into each target's folder (verified, repaired if
altered), gives each target its own state database (its local buffer of predictions and
feedback) and a link process shipping it to the central one, starts every replica as
``verdict serve`` on its own 127.0.0.1 port, and puts a real HAProxy in front as the global
gateway (TLS with a self-signed certificate, residency routing, retries, health checks). Every
process is recorded in ``state.json`` as soon as it starts, so ``down`` stops all of them.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from verdict._files import private_folder
from verdict.deploy import _local_procs as procs
from verdict.deploy._artifacts import SyncReport, sync_version
from verdict.deploy._certs import self_signed_certificate
from verdict.deploy._gateway import GatewayServer, haproxy_config, target_weights
from verdict.deploy._link import adopt_salt, ship
from verdict.deploy._local_state import (
    DeploymentState,
    Replica,
    TargetState,
    forget,
    write_key,
)
from verdict.deploy._planner import Plan, plan
from verdict.deploy._spec import DeploySpec, load_spec
from verdict.errors import ConfigurationError
from verdict.registry import ModelVersion, Registry
from verdict.registry._settings import RegistrySettings

GATEWAY_READY_SECONDS = 60
LOCAL_REPLICAS = 2  # replicas per target at most on one machine (the plan may ask for more)


def deploy_folder(home: str | Path | None = None) -> Path:
    """``<home>/deploy``: where a local deployment keeps its state."""
    settings = RegistrySettings(**({"home": Path(home)} if home is not None else {}))
    return settings.home.resolve() / "deploy"


def up(
    spec_path: str | Path,
    *,
    home: str | Path | None = None,
    max_replicas: int = LOCAL_REPLICAS,
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
    _refuse_running(folder)
    procs.haproxy_binary()
    central_home = folder.parent
    with Registry(home=central_home) as registry:
        version = registry.get(spec.model)
        state, reports = _prepare(spec, Path(spec_path), version, registry, folder, placement)
        state.registry_url, state.central_store = registry.url, registry.store.url
    try:
        _start_replicas(state, spec, max_replicas, placement.replicas)
        _start_links(state)
        _start_gateway(state, spec)
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
    from verdict.serving._keys import KeyStore
    from verdict.serving._settings import ServiceSettings
    from verdict.serving._state import open_state

    private_folder(folder)  # holds the deployment's key, certificates and state: 0700
    central_url = ServiceSettings(home=folder.parent).state_database()
    central = open_state(central_url)
    try:
        key = KeyStore(central).create(f"deploy-{int(time.time())}")
        write_key(folder, key.token)
        state = DeploymentState(
            spec_path=str(spec_path.resolve()), model=spec.model, version=version.version,
            folder=str(folder), central_state_url=central_url, registry_url="",
            gateway_port=0, gateway_pid=0, gateway_config=str(folder / "gateway" / "haproxy.cfg"),
            certificate="", stats_socket=admin_socket(folder),
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
    """What a replica of ``target`` runs with: the central registry, its own store and log."""
    return {
        "VERDICT_HOME": target.folder,
        "VERDICT_REGISTRY_URL": state.registry_url,
        "VERDICT_ARTIFACT_STORE": str(Path(target.folder) / "artifacts"),
        "VERDICT_STATE_URL": target.state_url,
        "VERDICT_TARGET": target.name,
        "VERDICT_PUBLIC_READINESS": "true",
        "VERDICT_RELOAD_SECONDS": "1",
    }


def _start_replicas(
    state: DeploymentState, spec: DeploySpec, cap: int, planned: dict[str, int]
) -> None:
    started = []
    for target in state.targets.values():
        for i in range(1, min(planned[target.name], cap) + 1):
            replica = Replica(f"{target.name}-{i}", 0, 0, spec.model)
            replica.pid = procs.start_replica(
                spec.model, 0, _log(state, replica), replica_env(state, target)
            )
            target.replicas.append(replica)
            started.append(replica)
            state.save()
    for replica in started:
        replica.port = procs.wait_listening(replica.pid, _log(state, replica))
    state.save()


def _start_links(state: DeploymentState) -> None:
    for target in state.targets.values():
        log = Path(state.folder) / "logs" / f"link-{target.name}.log"
        artifacts = str(Path(target.folder) / "artifacts")
        follow = ("--model", state.model, "--registry", state.registry_url,
                  "--store", state.central_store, "--artifacts", artifacts)  # fmt: skip
        target.link_pid = procs.start_link(
            target.name, target.state_url, state.central_state_url, target.cut_flag, log, follow
        )
        state.save()


def _start_gateway(state: DeploymentState, spec: DeploySpec) -> None:
    gateway = Path(state.gateway_config).parent
    private_folder(gateway)
    state.certificate = str(self_signed_certificate(gateway))
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
    )


def gateway_servers(state: DeploymentState, spec: DeploySpec) -> list[GatewayServer]:
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
                    GatewayServer(
                        replica.name, target.name, target.provider, target.zone, "127.0.0.1",
                        replica.port, min(max(weight, 1 if part > 0 else 0), 256), replica.canary,
                    )
                )  # fmt: skip
    return servers


def wait_gateway_ready(state: DeploymentState, names: set[str] | None = None) -> None:
    """Wait until the replicas ``names`` (default: all) are up behind the gateway."""
    from verdict.deploy._local_status import gateway_stats

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


def down(home: str | Path | None = None) -> tuple[list[int], list[int]]:
    """Stop everything the local deployment started: gateway, then replicas, then links.

    Replicas stop gracefully (in-flight requests finish, logs flush) before the links make
    their last shipment. Returns the pids stopped and any still alive (empty on success).
    """
    folder = deploy_folder(home)
    state = DeploymentState.load(folder)
    recorded = [p for p in state.pids() if p]
    left = procs.stop([state.gateway_pid]) if state.gateway_pid else []
    left += procs.stop([r.pid for t in state.targets.values() for r in t.replicas])
    left += procs.stop([t.link_pid for t in state.targets.values() if t.link_pid])
    if not left:
        forget(folder)
    return recorded, left


@contextlib.contextmanager
def saved(home: str | Path | None = None) -> Iterator[DeploymentState]:
    """The running deployment's state, saved again after the caller changed it."""
    state = DeploymentState.load(deploy_folder(home))
    try:
        yield state
    finally:
        state.save()


def _log(state: DeploymentState, replica: Replica) -> Path:
    return Path(state.folder) / "logs" / f"{replica.name}.log"


def replica_log(state: DeploymentState, replica: Replica) -> Path:
    """Where ``replica`` writes its output."""
    return _log(state, replica)
