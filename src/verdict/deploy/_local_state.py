"""What a local deployment started, kept under ``<home>/deploy/`` so other commands find it.

``state.json`` records every process (gateway, replicas, links) with its pid and port, the spec,
the version served and any canary. It is rewritten atomically (temporary file, then rename) after
every change, so ``verdict deploy down`` can always stop what ``up`` started, even after a crash
of the command that started it. The deployment's API key lives beside it in ``api-key`` (0600).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from verdict.errors import ConfigurationError
from verdict.registry import Registry

STATE_FILE = "state.json"
KEY_FILE = "api-key"


@dataclass
class Replica:
    """One ``verdict serve`` process of a target."""

    name: str
    port: int
    pid: int
    ref: str
    canary: bool = False


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
    certificate: str
    stats_socket: str
    targets: dict[str, TargetState] = field(default_factory=dict)
    canary: dict[str, Any] | None = None
    central_store: str = ""

    @property
    def gateway_url(self) -> str:
        """The gateway's HTTPS address."""
        return f"https://127.0.0.1:{self.gateway_port}"

    def pids(self) -> list[int]:
        """Every process recorded: gateway, replicas and links."""
        found = [self.gateway_pid]
        for target in self.targets.values():
            found += [r.pid for r in target.replicas]
            found += [target.link_pid] if target.link_pid else []
        return found

    def save(self) -> None:
        """Write ``state.json`` atomically."""
        path = Path(self.folder) / STATE_FILE
        temporary = path.with_suffix(".tmp")
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


def write_key(folder: Path, secret: str) -> None:
    """Store the deployment's API key readable by this user only."""
    path = folder / KEY_FILE
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(secret + "\n", encoding="utf-8")


def forget(folder: Path) -> None:
    """Move ``state.json`` aside as ``last-run.json`` once everything it names has stopped."""
    path = folder / STATE_FILE
    if path.exists():
        os.replace(path, folder / "last-run.json")
