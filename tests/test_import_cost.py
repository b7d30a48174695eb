"""What a cheap entry point imports: the CLI, the registry and the service settings stay light.

Each check runs a fresh interpreter and lists the heavy packages left in ``sys.modules``. The
packages import their public names lazily (``verdict._lazy``) and the CLI commands import the
core inside the command, so ``verdict --help`` or ``verdict models list`` never loads
scikit-learn, ONNX or FastAPI (issue #16). Timings live in ``bench/``, not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("sklearn", "skops", "onnx", "onnxruntime", "skl2onnx", "fastapi", "starlette", "uvicorn")
HEAVY_OR_DATA = (*HEAVY, "scipy", "pandas", "pyarrow", "matplotlib")
CLI_LIGHT = (*HEAVY_OR_DATA, "numpy", "alembic")  # alembic: only when a migration is due

REPORT = (
    "import atexit, json, sys\n"
    "atexit.register(lambda: print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}}"
    " & set({heavy!r})))))\n"
)


def _loaded(code: str, heavy: tuple[str, ...], tmp_path, *args: str) -> tuple[list[str], str]:
    """The heavy top-level packages loaded by ``code`` (run with ``args``), and its stdout."""
    env = {**os.environ, "VERDICT_HOME": str(tmp_path / "home")}
    env.pop("VERDICT_REGISTRY_URL", None)
    env.pop("VERDICT_ARTIFACT_STORE", None)
    result = subprocess.run(
        [sys.executable, "-c", REPORT.format(heavy=heavy) + code, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    *output, last = result.stdout.rstrip("\n").split("\n")
    return json.loads(last), "\n".join(output)


@pytest.mark.parametrize(
    ("code", "heavy"),
    [
        ("import verdict.registry", HEAVY_OR_DATA),
        ("from verdict.registry import ModelRef, Registry, RegistrySettings", HEAVY_OR_DATA),
        ("import verdict.serving._settings", HEAVY_OR_DATA),
        ("from verdict.serving import ServiceSettings", HEAVY_OR_DATA),
        ("import verdict.cli", HEAVY_OR_DATA),  # [project.scripts] verdict.cli:main
        ("import verdict, verdict.data, verdict.pipeline, verdict.models", HEAVY),
    ],
)
def test_importing_stays_light(code, heavy, tmp_path):
    loaded, _ = _loaded(code, heavy, tmp_path)
    assert loaded == [], f"{code!r} imported {loaded}"


CLI = "import sys; sys.argv[0] = 'verdict'; from verdict.cli import main; main()\n"


def test_help_stays_light(tmp_path):
    loaded, output = _loaded(CLI, CLI_LIGHT, tmp_path, "--help")
    assert "models" in output
    assert loaded == []


def test_models_list_on_an_empty_home_stays_light(tmp_path):
    loaded, output = _loaded(CLI, HEAVY_OR_DATA, tmp_path, "models", "list", "--json")
    assert json.loads(output) == []
    assert loaded == []  # the first run creates and migrates the registry (alembic, numpy)
    assert (tmp_path / "home" / "registry.db").is_file()
    again, _ = _loaded(CLI, CLI_LIGHT, tmp_path, "models", "list")  # migrated
    assert again == []
