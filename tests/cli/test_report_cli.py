"""`verdict report RUN_DIR`: rebuilds the report in a real process; a bad run dir exits 2 with one
clear paragraph and no traceback."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "report_runs", Path(__file__).parents[1] / "report" / "report_runs.py"
)
report_runs = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(report_runs)

pytestmark = pytest.mark.slow  # a training, then a real `verdict report` process per test


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "verdict.cli", "report", *args],
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return report_runs.build_run(tmp_path_factory.mktemp("run"), "binary", importance=False)


def test_report_rebuilds_all_three_files(run_dir):
    result = run_cli(str(run_dir))
    assert result.returncode == 0, result.stderr
    assert str(run_dir / "report.html") in result.stdout.replace("\n", "")
    for name in ("report.html", "metrics.json", "model_card.md"):
        assert (run_dir / name).stat().st_size > 500
    assert 'id="model-card"' in (run_dir / "report.html").read_text()


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda tmp: tmp / "missing", "is not a directory"),
        (lambda tmp: _corrupt(tmp), "cannot be read as JSON"),
        (lambda tmp: _empty(tmp), "run.json does not exist"),
    ],
)
def test_a_bad_run_dir_exits_2_with_one_paragraph(tmp_path, make, expected):
    result = run_cli(str(make(tmp_path)))
    assert result.returncode == 2, result.stdout + result.stderr
    message = " ".join(result.stderr.split())
    assert message.startswith("error:") and expected in message and "To fix:" in message
    assert "Traceback" not in result.stderr and "\n\n" not in result.stderr.strip()


def _corrupt(tmp: Path) -> Path:
    (tmp / "run.json").write_text('{"data": {"classes": [0, 1]', encoding="utf-8")
    return tmp


def _empty(tmp: Path) -> Path:
    (tmp / "empty").mkdir()
    return tmp / "empty"
