"""The supervisor of a local deployment: it restarts the replicas and links that die.

Run as ``python -m verdict.deploy.local._supervisor --folder <home>/deploy`` (``up`` starts it last
and records its pid; ``down`` stops it first). Every ``PERIOD`` seconds it takes the state lock,
reads ``state.json`` and restarts, as a Kubernetes ``restartPolicy: Always`` would:

- a dead link, with the same arguments (it resumes from the central marks, so its backlog
  ships exactly once);
- a dead replica, on the same port with the same environment, after re-syncing its target's
  artifacts (a copy altered while it was down is replaced before it serves), unless its target
  is marked ``outage`` by ``verdict deploy chaos --kill`` (a cloud that is gone cannot restart
  its pods: it stays down until ``--revive``).

Each process has its own exponential backoff: the first restart is immediate, the next waits
0.5 s, then 1, 2, 4, 8 and 10 s at most; a process that stays up ``STEADY_SECONDS`` starts again
from 0.5 s. Restarts are counted in the state (``deploy status`` shows them). Every
``SCRAPE_SECONDS`` a thread of its own (a slow ``/metrics`` never delays a restart) reads each
replica's request counters, so that status totals survive a restart
(:func:`verdict.deploy.local._status.account`). A failing round is logged and the
next one tried; the supervisor exits on SIGTERM, or when the state is gone or names another
supervisor.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from verdict.deploy.local import _procs as procs
from verdict.deploy.local._ops import resync
from verdict.deploy.local._state import DeploymentState, Replica, TargetState, locked
from verdict.deploy.local._status import account, scrape
from verdict.deploy.local._up import launch_env, replica_log, start_link
from verdict.errors import ConfigurationError

logger = logging.getLogger("verdict.deploy.supervisor")

PERIOD = 0.5
FIRST_DELAY, MAX_DELAY = 0.5, 10.0
STEADY_SECONDS = 10.0
SCRAPE_SECONDS = 2.0
LOCK_SECONDS = 1.0  # a round waits this long for the lock (a drill may hold it), then skips


@dataclass
class Backoff:
    """One process's restart schedule."""

    delay: float = FIRST_DELAY
    not_before: float = 0.0
    restarted: float | None = None

    def due(self, now: float) -> bool:
        """Whether a restart may happen now."""
        return now >= self.not_before

    def record(self, now: float) -> None:
        """A restart happened (or was tried) at ``now``: wait longer before the next."""
        self.not_before, self.restarted = now + self.delay, now
        self.delay = min(self.delay * 2, MAX_DELAY)

    def alive(self, now: float) -> None:
        """The process runs at ``now``: forget its crashes once it has stayed up a while."""
        if self.restarted is not None and now - self.restarted >= STEADY_SECONDS:
            self.delay, self.restarted = FIRST_DELAY, None


class Supervisor:
    """Rounds of restarts and counter scrapes over the deployment in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.backoffs: dict[str, Backoff] = {}

    def round(self) -> bool:
        """Restart what is dead (under the state lock); False when supervision should end."""
        with locked(self.folder, LOCK_SECONDS):
            try:
                state = DeploymentState.load(self.folder)
            except ConfigurationError:
                return False  # `down` finished: nothing to supervise
            if state.supervisor_pid not in (0, os.getpid()):
                return False  # another supervisor owns this deployment
            before = asdict(state)
            for target in state.targets.values():
                self._tend(state, target)
            if asdict(state) != before:
                state.save()
        return True

    def _tend(self, state: DeploymentState, target: TargetState) -> None:
        now = time.monotonic()
        backoff = self.backoffs.setdefault(f"link {target.name}", Backoff())
        if target.link_pid and procs.alive(target.link_pid):
            backoff.alive(now)
        elif backoff.due(now):
            backoff.record(now)
            old = target.link_pid
            start_link(state, target)
            target.link_restarts += 1
            logger.warning("link %s (pid %s) was dead: restarted as pid %s (restart %d)",
                           target.name, old, target.link_pid, target.link_restarts)  # fmt: skip
        if target.outage:
            return  # killed on purpose: down until `chaos --revive`
        for replica in target.replicas:
            if replica.port:  # 0: still starting under a command that holds the port
                self._tend_replica(state, target, replica, now)

    def _tend_replica(
        self, state: DeploymentState, target: TargetState, replica: Replica, now: float
    ) -> None:
        backoff = self.backoffs.setdefault(f"replica {replica.name}", Backoff())
        if procs.alive(replica.pid):
            backoff.alive(now)
            return
        if not backoff.due(now):
            return
        backoff.record(now)
        try:
            resync(state, [target])
        except Exception as exc:  # started anyway: the replica verifies what it loads
            logger.warning("re-syncing %s's artifacts failed: %s", target.name, exc)
        old, log = replica.pid, replica_log(state, replica)
        with contextlib.suppress(OSError):
            log.replace(log.with_suffix(".previous.log"))  # the dead one's last words
        replica.pid = procs.start_replica(replica.ref, replica.port, log, launch_env(state, target))
        replica.restarts += 1
        logger.warning("replica %s (pid %s) was dead: restarted as pid %s on port %s "
                       "(restart %d, next wait %g s)", replica.name, old, replica.pid,
                       replica.port, replica.restarts, backoff.delay)  # fmt: skip

    def scrape(self) -> None:
        """Each live replica's counters, folded into the state (scraped without the lock)."""
        state = DeploymentState.load(self.folder)
        key, secret = state.api_key(), state.gateway_secret
        samples = {
            (r.name, r.pid): scrape(r.port, key, secret)
            for t in state.targets.values()
            for r in t.replicas
            if r.port and procs.alive(r.pid)
        }
        with locked(self.folder, LOCK_SECONDS):
            state = DeploymentState.load(self.folder)
            before = asdict(state)
            for replica in (r for t in state.targets.values() for r in t.replicas):
                sample = samples.get((replica.name, replica.pid))
                if sample is not None:
                    account(replica, sample)
            if asdict(state) != before:
                state.save()


def supervise(folder: Path, *, period: float = PERIOD, stop: threading.Event | None = None) -> None:
    """Supervise the deployment in ``folder`` until ``stop`` is set (or SIGTERM, from the
    main thread) or the deployment is gone; see the module docstring."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda *_: stop.set())
    supervisor, done = Supervisor(folder), threading.Event()
    scraping = threading.Thread(target=_scrape_loop, args=(supervisor, done), daemon=True)
    scraping.start()  # apart: a slow /metrics must not delay a restart
    logger.info("supervising %s (pid %s)", folder, os.getpid())
    try:
        while not stop.is_set():
            try:
                if not supervisor.round():
                    break
            except TimeoutError:
                pass  # a command holds the state: try again next round
            except Exception:  # never die: log it and try again
                logger.exception("a supervision round failed")
            _reap()
            stop.wait(period)
    finally:
        done.set()
        scraping.join(timeout=10)
    logger.info("supervisor of %s stops", folder)


def _scrape_loop(supervisor: Supervisor, done: threading.Event) -> None:
    while not done.wait(SCRAPE_SECONDS):
        try:
            supervisor.scrape()
        except TimeoutError:
            pass
        except Exception as exc:  # e.g. the state moved aside by `down`: the loop ends soon
            logger.warning("scraping the replicas' counters failed: %s", exc)


def _reap() -> None:
    """Collect the processes this supervisor started that have exited (no zombies)."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m verdict.deploy.local._supervisor --folder FOLDER``; the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m verdict.deploy.local._supervisor",
        description=(__doc__ or "").splitlines()[0],
    )
    parser.add_argument("--folder", required=True, type=Path, help="the deployment folder")
    parser.add_argument("--period", type=float, default=PERIOD, help="seconds between rounds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per scrape
    supervise(args.folder.resolve(), period=args.period)
    return 0


if __name__ == "__main__":
    sys.exit(main())
