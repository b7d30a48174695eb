"""``verdict deploy down``, step by step, so that a local deployment leaves nothing behind.

The order matters: the supervisor stops first (otherwise it would restart what is being
stopped), then the gateway (no new requests), the replicas (gracefully: in-flight requests
finish and their rows are committed), and the links, each of which ships until caught up
before it exits. Then the deployment's API key is revoked at the center, one last shipment per
target carries that revocation out and ships whatever a dead link left (a cut link stays cut:
its rows are reported, kept in the target's database and shipped by the next ``up``), the
gateway's admin socket and any other socket or pid file are removed, and every recorded pid is
checked gone.
"""

from __future__ import annotations

import contextlib
import logging
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from verdict._results import Result
from verdict.deploy.local import _procs as procs
from verdict.deploy.local._link import ship
from verdict.deploy.local._state import KEY_FILE, DeploymentState, locked
from verdict.deploy.local._status import databases
from verdict.state import log_backlog

logger = logging.getLogger("verdict.deploy.down")

_DRAIN_CALLS = 20  # ship() calls per target at most (each ships up to 40 transactions a table)


@dataclass(frozen=True)
class DownReport(Result):
    """What ``down`` did.

    Attributes
    ----------
    stopped : list of int
        Every pid the deployment recorded (supervisor, gateway, replicas, links).
    left : list of int
        Those still alive afterwards (empty on success).
    shipped : dict
        Per target, the rows (predictions and feedback) shipped to the center while stopping.
    backlog : dict
        Per target, the rows still not shipped (0 when caught up; None if unreadable).
    key_id : str
        The deployment's API key.
    key_revoked : bool
        Whether it is revoked at the center now.
    removed : list of str
        Socket and pid files removed.
    """

    stopped: list[int]
    left: list[int]
    shipped: dict[str, int]
    backlog: dict[str, int | None]
    key_id: str
    key_revoked: bool
    removed: list[str]

    def __iter__(self) -> Iterator[list[int]]:
        """Unpacks as ``(stopped, left)``, the pair ``down`` returned before this report."""
        return iter((self.stopped, self.left))


def stop_all(folder: Path) -> DownReport:
    """Stop the deployment in ``folder`` in the order of the module docstring; the report."""
    first = DeploymentState.load(folder)
    recorded = {p for p in first.pids() if p}
    procs.stop([first.supervisor_pid])
    with locked(folder):
        state = DeploymentState.load(folder)  # with the supervisor's last restarts
        recorded |= {p for p in state.pids() if p}
        procs.stop([state.gateway_pid])
        procs.stop([r.pid for t in state.targets.values() for r in t.replicas])
        pending = _backlogs(state)  # what the links still have to ship
        procs.stop([t.link_pid for t in state.targets.values() if t.link_pid])
        revoked = _revoke(state)
        left_rows = _drain(state)
        shipped = {
            name: max(0, (pending.get(name) or 0) - (left_rows.get(name) or 0))
            for name in state.targets
        }
        removed = _remove_files(state, revoked)
    left = sorted(p for p in recorded if procs.alive(p))
    return DownReport(sorted(recorded), left, shipped, left_rows, _key_id(state), revoked, removed)


def _backlogs(state: DeploymentState) -> dict[str, int | None]:
    """Rows not yet shipped, per target (None where the databases cannot be read)."""
    found: dict[str, int | None] = {}
    for target in state.targets.values():
        try:
            with databases(state, target) as (source, central):
                found[target.name] = log_backlog(target.name, source, central)
        except Exception as exc:  # reported, not raised: down must finish stopping
            logger.warning("backlog of %s unreadable: %s", target.name, exc)
            found[target.name] = None
    return found


def _drain(state: DeploymentState) -> dict[str, int | None]:
    """Ship, for every target whose link is not cut, until caught up (keys go out too); the
    rows left per target afterwards."""
    for target in state.targets.values():
        if target.cut_flag.exists():
            continue  # a cut link stays cut: its rows are reported and ship at the next `up`
        try:
            with databases(state, target) as (source, central):
                for _ in range(_DRAIN_CALLS):
                    if ship(target.name, source, central).backlog == 0:
                        break
        except Exception as exc:
            logger.warning("shipping the rest of %s failed: %s", target.name, exc)
    return _backlogs(state)


def _key_id(state: DeploymentState) -> str:
    """The deployment key's id: recorded, else read from its token ``vdk_<id>_<secret>``."""
    if state.key_id:
        return state.key_id
    with contextlib.suppress(OSError, IndexError):
        return state.api_key().split("_", 2)[1]
    return ""


def _revoke(state: DeploymentState) -> bool:
    """Revoke the deployment's API key at the center; whether it is revoked now."""
    from verdict.errors import NotFoundError
    from verdict.state import KeyStore, open_state

    key_id = _key_id(state)
    if not key_id:
        return False
    try:
        central = open_state(state.central_state_url)
    except Exception as exc:
        logger.warning("the central state database is unreadable: %s", exc)
        return False
    try:
        return KeyStore(central).revoke(key_id).revoked is not None
    except NotFoundError:
        return True  # not at the center: nothing there opens with it
    except Exception as exc:
        logger.warning("revoking the deployment key %s failed: %s", key_id, exc)
        return False
    finally:
        central.dispose()


def _remove_files(state: DeploymentState, revoked: bool) -> list[str]:
    """Remove the gateway's admin socket (and HAProxy's leftovers of it), any socket or pid
    file in the deployment folder, and the key file once the key is revoked."""
    found: list[Path] = []
    if state.stats_socket:
        socket = Path(state.stats_socket)
        found += [socket, *socket.parent.glob(f"{socket.name}.*")]
    found += [p for p in Path(state.folder).rglob("*") if _is_socket(p) or p.suffix == ".pid"]
    if revoked:
        found.append(Path(state.folder) / KEY_FILE)
    removed = []
    for path in dict.fromkeys(found):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(str(path))
    return removed


def _is_socket(path: Path) -> bool:
    try:
        return stat.S_ISSOCK(path.lstat().st_mode)
    except OSError:
        return False
