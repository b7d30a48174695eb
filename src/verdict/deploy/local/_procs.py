"""Starting and stopping the local topology's processes: replicas, links, HAProxy and the
supervisor that restarts the replicas and links that die.

Every process gets its own session (process group), so stopping one stops its children too,
and writes its output to a file under the deployment folder (a pipe nobody reads would block
it). Replicas are ``python -m verdict.serving`` (the service ``verdict serve`` runs, without
the command-line app) on 127.0.0.1; with port 0 the port is read from the line the service
prints once it listens, and a revived replica takes its old port back so the gateway's
configuration stays valid.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from verdict.errors import ConfigurationError

START_SECONDS = 120
STOP_SECONDS = 30
_LISTENING = re.compile(r"http://127\.0\.0\.1:(\d+)")


def spawn(command: list[str], log: Path, env: Mapping[str, str] | None = None) -> int:
    """Start ``command`` in its own session, output to ``log``; return its pid."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    return process.pid


def start_replica(ref: str, port: int, log: Path, env: Mapping[str, str]) -> int:
    """``python -m verdict.serving --model REF --port PORT`` with ``env``; the pid at once."""
    command = [sys.executable, "-m", "verdict.serving", "--model", ref, "--port", str(port),
               "--log-level", "warning", "--graceful-timeout", "10"]  # fmt: skip
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_bytes(b"")
    return spawn(command, log, env)


def wait_listening(pid: int, log: Path, port: int = 0) -> int:
    """The port the replica ``pid`` listens on, once it printed it; raise if it died first."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        found = _LISTENING.search(text)
        if found and (port == 0 or int(found.group(1)) == port):
            return int(found.group(1))
        if not alive(pid):
            raise ConfigurationError(
                f"A replica exited before listening; its log {log} ends with:\n"
                f"{_tail(text)}\nTo fix: correct the problem it names and run the command again."
            )
        time.sleep(0.1)
    raise ConfigurationError(
        f"A replica did not listen within {START_SECONDS} s (log {log}). To fix: read the log."
    )


def start_supervisor(folder: Path, log: Path) -> int:
    """The supervisor of the deployment in ``folder`` (``_supervisor``); its pid."""
    command = [sys.executable, "-m", "verdict.deploy.local._supervisor", "--folder", str(folder)]
    return spawn(command, log, {"PYTHONUNBUFFERED": "1"})


def haproxy_binary() -> str:
    """The HAProxy executable, or a ConfigurationError saying how to install it."""
    found = shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if os.path.exists(p)), None
    )
    if found is None:
        raise ConfigurationError(
            "HAProxy is not installed; the local topology needs it as its gateway. To fix: "
            "`sudo apt-get install haproxy` (Debian/Ubuntu), `brew install haproxy` (macOS), "
            "or `dnf install haproxy`, then run the command again."
        )
    return found


def check_haproxy_config(config: Path) -> None:
    """Refuse a gateway configuration HAProxy itself rejects, with its own message."""
    result = subprocess.run(
        [haproxy_binary(), "-c", "-f", str(config)], capture_output=True, text=True
    )
    if result.returncode != 0:
        raise ConfigurationError(
            f"HAProxy rejects the gateway configuration {config}:\n"
            f"{_tail(result.stderr + result.stdout)}\n"
            "To fix: report this with the file; the spec passed validation."
        )


def start_haproxy(config: Path, log: Path) -> int:
    """HAProxy in master-worker mode on ``config``; its master's pid (reload with SIGUSR2)."""
    check_haproxy_config(config)
    return spawn([haproxy_binary(), "-W", "-db", "-f", str(config)], log)


def reload_haproxy(pid: int, config: Path) -> None:
    """Load a new ``config`` without dropping a connection (the master restarts its workers)."""
    check_haproxy_config(config)
    os.kill(pid, signal.SIGUSR2)


def wait_port(port: int, seconds: float = 20.0) -> None:
    """Wait until something accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise ConfigurationError(f"Nothing listens on 127.0.0.1:{port} after {seconds:g} s.")


def free_port() -> int:
    """A port free on 127.0.0.1 now (the caller binds it soon after)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def alive(pid: int) -> bool:
    """Whether ``pid`` is a running process (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def kill_now(pids: Iterable[int]) -> None:
    """SIGKILL each process group at once: a cloud that dies does not say goodbye."""
    for pid in pids:
        _signal_group(pid, signal.SIGKILL)
    _reap(pids, 10.0)


def stop(pids: Iterable[int], seconds: float = STOP_SECONDS) -> list[int]:
    """SIGTERM each group, wait, then SIGKILL what is left; return the pids still alive."""
    pids = [p for p in pids if p]
    for pid in pids:
        _signal_group(pid, signal.SIGTERM)
    left = _reap(pids, seconds)
    for pid in left:
        _signal_group(pid, signal.SIGKILL)
    return _reap(left, 10.0)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def _reap(pids: Iterable[int], seconds: float) -> list[int]:
    """Wait up to ``seconds`` for ``pids`` to end (collecting our own children); the rest."""
    deadline = time.monotonic() + seconds
    left = list(pids)
    while left and time.monotonic() < deadline:
        for pid in left:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
        left = [p for p in left if alive(p)]
        if left:
            time.sleep(0.05)
    return left


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
