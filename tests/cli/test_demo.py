"""`verdict demo` as a newcomer runs it: one real process, the whole story, nothing left behind.

The demo runs once for the module (about a minute here); each test reads what it printed and
left on disk.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from verdict.demo._setup import fresh_run_dir

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class DemoRun:
    cwd: Path
    home: Path
    out: Path
    result: subprocess.CompletedProcess


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> DemoRun:
    cwd = tmp_path_factory.mktemp("newcomer")
    home = cwd / ".verdict"
    env = {**os.environ, "VERDICT_HOME": str(home), "COLUMNS": "100"}
    result = subprocess.run(
        [sys.executable, "-m", "verdict.cli", "demo", "--time-budget", "8"],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=600,
    )  # fmt: skip
    return DemoRun(cwd, home, home / "demo", result)


def test_the_demo_ends_well_with_no_traceback(demo):
    assert demo.result.returncode == 0, demo.result.stdout[-3000:] + demo.result.stderr[-3000:]
    assert "Traceback" not in demo.result.stdout + demo.result.stderr


def test_the_story_is_told_in_order(demo):
    text = demo.result.stdout
    steps = [
        "1. Which metric fits?", "recommended metrics",
        "2. Train, select, evaluate",
        "3. Evaluate held-out predictions", "value [95% interval]",
        "95% percentile bootstrap, 1000 resamples, seed 0", "confusion matrix",
        "4. The registry", "5. Batch scoring", "6. Plan three clouds", "Replicas per target",
        "7. Bring it up locally", "without an API key: HTTP 401",
        "8. Lose a cloud mid-stream", "9. The world moves", "ALERT: drift",
        "10. Labels come back", "test: paired_bootstrap", "11. Tear down",
        "nothing left running", "next",
    ]  # fmt: skip
    position = 0
    for step in steps:  # each found after the one before it
        found = text.find(step, position)
        assert found >= 0, f"{step!r} missing after position {position}"
        position = found
    assert "log_loss" in text and ("PROMOTED" in text or "KEPT" in text)


def test_losing_a_cloud_failed_no_request_and_eu_stayed_in_the_eu(demo):
    text = " ".join(demo.result.stdout.split())
    sent = re.search(r"(\d+) requests through the gateway; killed aws-eu-1 .*?; (\d+) failed", text)
    assert sent and int(sent.group(1)) > 50 and int(sent.group(2)) == 0, text[:2000]
    eu = re.search(r"EU-tagged requests answered by: \{([^}]*)\}", text)
    assert eu and set(re.findall(r"'([\w-]+)'", eu.group(1))) <= {"aws-eu", "gcp-eu"}


def test_the_files_a_newcomer_is_pointed_to_exist(demo):
    run_dir = demo.out / "run"
    for name in ("run.json", "report.html", "model_card.md", "test_predictions.csv"):
        assert (run_dir / name).is_file(), name
    assert (demo.out / "deploy.yaml").is_file()
    assert list((demo.home / "monitoring").glob("penguins-v*.html"))


def test_no_process_or_port_is_left_behind(demo):
    folder = str(demo.home)
    left = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if folder in command:
                left.append(command)
    assert left == []
    gateway = re.search(r"gateway https://127\.0\.0\.1:(\d+)", demo.result.stdout)
    assert gateway
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", int(gateway.group(1)))) != 0
    assert not (demo.home / "deploy" / "state.json").exists()


def test_a_second_demo_replaces_only_its_own_run(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "run.json").write_text("{}")
    assert fresh_run_dir(run_dir) == run_dir and not run_dir.exists()
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep")
    assert fresh_run_dir(other) == other and (other / "notes.txt").exists()
