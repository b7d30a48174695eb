"""A real service process on 127.0.0.1 for the tests that need one.

Not a conftest: the test modules import what they need. ``service(home, *flags, **variables)``
starts ``python -m verdict.serving --port 0`` (what ``verdict serve`` runs) with
``VERDICT_HOME=home`` (plus any ``VERDICT_*`` variables), reads the address it prints, waits
until it is ready with a fresh API key, and always kills its process group at the end.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from verdict.state import KeyStore, open_state

ROW = {
    "island": "Biscoe", "bill_length_mm": 45.1, "bill_depth_mm": 14.5,
    "flipper_length_mm": 215.0, "body_mass_g": 5000.0, "sex": "female", "year": 2008,
}  # fmt: skip


@dataclass
class Service:
    """A running server: its process, address, an API key and what it wrote on stderr."""

    process: subprocess.Popen
    url: str
    token: str
    home: Path
    stderr: list[str] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def connect(self) -> socket.socket:
        """A raw TCP connection to the server."""
        return socket.create_connection(("127.0.0.1", self.port), timeout=30)

    def memory_kib(self) -> tuple[int, int]:
        """The process's resident memory now and at its peak (VmRSS, VmHWM), in KiB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        found = [re.search(rf"{key}:\s+(\d+)", status) for key in ("VmRSS", "VmHWM")]
        return int(found[0].group(1)), int(found[1].group(1))  # type: ignore[union-attr]


def penguins_home(root: Path) -> Path:
    """``root`` as a VERDICT_HOME holding a small penguins@production (softmax, 2 s search)."""
    from palmerpenguins import load_penguins

    from verdict.pipeline import train
    from verdict.registry import Registry

    with warnings.catch_warnings(), Registry(home=root) as registry:
        warnings.simplefilter("ignore")
        run = train(load_penguins(), "species", models=["softmax"], time_budget=2, cv=2,
                    quiet=True, out=root.parent / "run")  # fmt: skip
        registry.register(run, "penguins", alias="production")
    return root


def token(home: Path) -> str:
    """A new API key in ``home``'s state database."""
    engine = open_state(f"sqlite:///{home / 'service.db'}")
    try:
        return KeyStore(engine).create(f"test-{time.monotonic_ns()}").token
    finally:
        engine.dispose()


@contextmanager
def service(
    home: Path, *flags: str, stdout: list[str] | None = None, **variables: str
) -> Iterator[Service]:
    """``python -m verdict.serving --port 0 *flags`` on ``home``, ready; killed at the end.

    With a ``stdout`` list, every line the process prints on stdout is appended to it as it
    comes (the address is then read from the ``verdict serving on http://...`` line, whichever
    line that is), instead of only the first line being read."""
    env = {**os.environ, "VERDICT_HOME": str(home), "VERDICT_RELOAD_SECONDS": "0.5", **variables}
    process = subprocess.Popen(
        [sys.executable, "-m", "verdict.serving", "--port", "0", "--log-level", "warning", *flags],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True,
    )  # fmt: skip
    stderr: list[str] = []
    threading.Thread(target=lambda: stderr.extend(process.stderr), daemon=True).start()
    try:
        line = process.stdout.readline()
        if stdout is not None:
            stdout.append(line)
            while line and not re.search(r"serving on http://127\.0\.0\.1:\d+", line):
                line = process.stdout.readline()
                stdout.append(line)
            threading.Thread(target=lambda: stdout.extend(process.stdout), daemon=True).start()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert match, f"no address printed: {line!r} {''.join(stderr)}"
        svc = Service(process, f"http://127.0.0.1:{match.group(1)}", token(home), home, stderr)
        wait_ready(svc)
        yield svc
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def wait_ready(svc: Service, timeout: float = 60.0) -> None:
    """Wait until the service answers readiness with its key."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{svc.url}/v2/health/ready", headers=svc.headers).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"service not ready: {''.join(svc.stderr)}")
