"""What a local deployment started, kept under ``<home>/deploy/`` so other commands find it.

``state.json`` records every process (gateway, replicas, links) with its pid and port, the spec,
the version served and any canary. It is rewritten atomically (temporary file, then rename) after
every change, so ``verdict deploy down`` can always stop what ``up`` started, even after a crash
of the command that started it. The deployment's API key lives beside it in ``api-key`` (0600).

Several processes change the state (the CLI commands and the supervisor): each change is a
load-modify-save under an exclusive ``flock`` on ``state.lock`` (:func:`editing`), so no writer
loses another's change. The lock is re-entrant within a thread: ``save`` inside ``editing``
does not wait for itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from verdict.errors import ConfigurationError
from verdict.registry import Registry

STATE_FILE = "state.json"
KEY_FILE = "api-key"
LOCK_FILE = "state.lock"
_held = threading.local()  # lock files this thread holds, with their depth


@dataclass
class Replica:
    """One service process (``python -m verdict.serving``) of a target."""

    name: str
    port: int
    pid: int
    ref: str
    canary: bool = False
    restarts: int = 0  # by the supervisor
    seen: dict[str, float] = field(default_factory=dict)  # counters at the last scrape
    offset: dict[str, float] = field(default_factory=dict)  # counted by earlier lives


@dataclass
class TargetState:
    """A target's processes and folders: its replicas, its link to the center, its store."""

    name: str
    provider: str
    zone: str
    folder: str
    state_url: str
    replicas: list[Replica] = field(default_factory=list)
    link_pid: int | None = None
    link_restarts: int = 0  # by the supervisor
    outage: bool = False  # killed on purpose (``chaos --kill``): left down until revived

    @property
    def cut_flag(self) -> Path:
        """The file whose presence means the link to the center is cut."""
        return Path(self.folder) / "link.cut"


@dataclass
class DeploymentState:
    """Everything ``up`` started; see the module docstring."""

    spec_path: str
    model: str
    version: int
    folder: str
    central_state_url: str
    registry_url: str
    gateway_port: int
    gateway_pid: int
    gateway_config: str
    certificate: str  # the gateway's certificate and key (0600, HAProxy's): never for clients
    stats_socket: str
    targets: dict[str, TargetState] = field(default_factory=dict)
    canary: dict[str, Any] | None = None
    central_store: str = ""
    ca_certificate: str = ""  # the CA certificate clients verify the gateway with (--cacert)
    supervisor_pid: int = 0
    key_id: str = ""  # the deployment's API key at the center, revoked by ``down``
    keys_max_staleness_seconds: float | None = None  # replicas refuse keys beyond it (503)
    # Sent by the gateway to every replica, which refuses requests without it; never printed.
    gateway_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)

    @property
    def gateway_url(self) -> str:
        """The gateway's HTTPS address."""
        return f"https://127.0.0.1:{self.gateway_port}"

    def pids(self) -> list[int]:
        """Every process recorded: supervisor, gateway, replicas and links."""
        found = [self.supervisor_pid, self.gateway_pid]
        for target in self.targets.values():
            found += [r.pid for r in target.replicas]
            found += [target.link_pid] if target.link_pid else []
        return found

    def save(self) -> None:
        """Write ``state.json`` atomically, under the state lock."""
        path = Path(self.folder) / STATE_FILE
        temporary = path.with_suffix(".tmp")
        with locked(Path(self.folder)):
            temporary.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
            os.replace(temporary, path)

    @classmethod
    def load(cls, folder: Path) -> DeploymentState:
        """The state of the deployment in ``folder``, or a ConfigurationError saying none runs."""
        path = folder / STATE_FILE
        if not path.exists():
            raise ConfigurationError(
                f"No local deployment is running (no {path}). To fix: start one with "
                "`verdict deploy up deploy.yaml --local`."
            )
        data = json.loads(path.read_text(encoding="utf-8"))
        targets = {
            name: TargetState(**{**t, "replicas": [Replica(**r) for r in t["replicas"]]})
            for name, t in data.pop("targets").items()
        }
        return cls(**data, targets=targets)

    def registry(self) -> Registry:
        """The central registry this deployment was started from (its metadata and store)."""
        home = Path(self.folder).parent
        return Registry(self.registry_url, self.central_store or None, home=home)

    def api_key(self) -> str:
        """The deployment's API key (created by ``up``)."""
        return (Path(self.folder) / KEY_FILE).read_text(encoding="utf-8").strip()


@contextlib.contextmanager
def locked(folder: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the deployment's state lock (``flock`` on ``state.lock``); re-entrant per thread.

    Raises
    ------
    TimeoutError
        If ``timeout`` seconds pass before the lock is free (default: wait as long as needed).
    """
    path = str(Path(folder).resolve() / LOCK_FILE)
    depth = getattr(_held, "depth", None)
    if depth is None:
        depth = _held.depth = {}
    if depth.get(path):
        depth[path] += 1
        try:
            yield
        finally:
            depth[path] -= 1
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        _acquire(handle.fileno(), timeout)
        depth[path] = 1
        try:
            yield
        finally:
            depth[path] = 0
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _acquire(fd: int, timeout: float | None) -> None:
    if timeout is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the deployment state stayed locked {timeout:g} s") from None
            time.sleep(0.02)


@contextlib.contextmanager
def editing(folder: Path, timeout: float | None = None) -> Iterator[DeploymentState]:
    """Load the state under the lock, let the caller change it, save it, release the lock.

    The state is saved even when the caller raises: a process it started must stay recorded.
    """
    with locked(folder, timeout):
        state = DeploymentState.load(folder)
        try:
            yield state
        finally:
            state.save()


def write_key(folder: Path, secret: str) -> None:
    """Store the deployment's API key readable by this user only."""
    path = folder / KEY_FILE
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(secret + "\n", encoding="utf-8")


def forget(folder: Path) -> None:
    """Move ``state.json`` aside as ``last-run.json`` once everything it names has stopped."""
    path = folder / STATE_FILE
    with locked(folder):
        if path.exists():
            os.replace(path, folder / "last-run.json")
