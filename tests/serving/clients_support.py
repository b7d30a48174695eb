"""The standard inference clients' own virtual environment, ``<repo root>/.venv-clients``.

Triton's ``tritonclient`` and KServe's ``kserve`` SDK cannot go into verdict's environment
(kserve pins pandas<3 and protobuf<7; verdict uses pandas 3), so they live in a venv of their
own, built with the base interpreter once and reused. A stamp file records the requirement list
it was built from: when :data:`REQUIREMENTS` changes, the venv is rebuilt from scratch. A
failed build raises :class:`ClientsVenvError` with pip's output, which fails the tests (CI has
PyPI access; nothing is skipped).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".venv-clients"
STAMP = VENV / "verdict-clients.stamp"
DRIVER = Path(__file__).resolve().with_name("client_driver.py")

REQUIREMENTS = (
    "tritonclient[all]>=2.73,<2.74",
    "kserve>=0.21,<0.22",
    "httpx>=0.27",
)
# tritonclient.grpc and kserve both register the ``inference.*`` protos in protobuf's default
# pool, so one process cannot import both: each is probed (and driven) in a process of its own.
PROBES = ("import tritonclient.http, tritonclient.grpc, numpy", "import kserve, httpx, numpy")


class ClientsVenvError(RuntimeError):
    """The client venv could not be built."""


def _stamp() -> str:
    return json.dumps({"python": sys.version_info[:2], "requirements": sorted(REQUIREMENTS)})


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise ClientsVenvError(
            f"could not build {VENV} ({what}, exit {done.returncode}): {' '.join(command)}\n"
            f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
        )


def _build() -> None:
    if VENV.exists():
        shutil.rmtree(VENV)
    base = getattr(sys, "_base_executable", None) or sys.executable
    _run([base, "-m", "venv", str(VENV)], "python -m venv")
    python = str(VENV / "bin" / "python")
    pip = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    _run([*pip, "--upgrade", "pip"], "pip upgrade")
    _run([*pip, *REQUIREMENTS], "pip install")
    for code in PROBES:
        probe = subprocess.run([python, "-c", code], capture_output=True, text=True)
        if probe.returncode != 0:
            raise ClientsVenvError(f"{VENV} built but `{code}` fails there:\n{probe.stderr}")
    STAMP.write_text(_stamp())


def clients_python() -> Path:
    """The client venv's interpreter, building the venv first if it is missing or stale."""
    python = VENV / "bin" / "python"
    lock_path = REPO / ".venv-clients.lock"
    with open(lock_path, "w") as lock:  # two test runs at once build it once
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            current = STAMP.read_text() == _stamp() and python.exists()
        except OSError:
            current = False
        if not current:
            _build()
    return python


def run_driver(job: dict, timeout: float = 300.0) -> dict:
    """Run :file:`client_driver.py` in the client venv on ``job``; its JSON answer."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    done = subprocess.run(
        [str(clients_python()), str(DRIVER)], input=json.dumps(job), capture_output=True,
        text=True, timeout=timeout, env=env,
    )  # fmt: skip
    if done.returncode != 0:
        raise AssertionError(f"client_driver failed (exit {done.returncode}):\n{done.stderr}")
    try:
        return json.loads(done.stdout)
    except ValueError as exc:
        raise AssertionError(
            f"client_driver printed no JSON: {done.stdout!r}\n{done.stderr}"
        ) from exc
