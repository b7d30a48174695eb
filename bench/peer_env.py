"""The peers' own virtual environments, shared by the benchmarks (MLflow, Evidently ...).

A peer is installed beside verdict, never into its environment, so that neither pins the
other's dependencies; each environment is created once and reused.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


def say(message: str) -> None:
    print(message, flush=True)


def venv_has(python: Path, code: str) -> bool:
    """Whether ``code`` runs without error in the environment of ``python``."""
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    return done.returncode == 0


def ensure_venv(
    venv: Path, name: str, packages: Sequence[str], probe: str, *, reinstall: bool
) -> Path:
    """Create ``venv`` and pip install ``packages`` unless ``probe`` already runs there."""
    python = venv / "bin" / "python"
    if not python.exists():
        say(f"[setup] creating the {name} virtual environment {venv}")
        subprocess.run([sys._base_executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    if reinstall or not venv_has(python, probe):
        say(f"[setup] pip install {' '.join(packages)} into {venv}")
        pip = [str(python), "-m", "pip", "install", "-q", "--upgrade"]
        subprocess.run([*pip, *packages], check=True)
    return python
