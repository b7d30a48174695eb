"""How long cheap commands take to start: ``verdict --help``, ``verdict models list``, imports.

Each command runs in a fresh interpreter against an empty ``VERDICT_HOME`` (migrated once
first), interleaved with the same command from an older checkout when ``--before SRC`` names
its ``src`` folder, so both see the same machine noise. Prints medians and the ratio.

    python bench/startup.py --before /tmp/old/src --repeat 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = "import sys; sys.argv[0] = 'verdict'; from verdict.cli import main; main()"
COMMANDS = {
    "verdict --help": ["-c", CLI, "--help"],
    "verdict models list": ["-c", CLI, "models", "list"],
    "import verdict.registry": ["-c", "import verdict.registry"],
    "import verdict.serving._settings": ["-c", "import verdict.serving._settings"],
}
HEAVY = ("sklearn", "onnx", "fastapi")


def _env(src: Path, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERDICT_")}
    return {**env, "PYTHONPATH": str(src), "VERDICT_HOME": str(home)}


def _seconds(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def _heavy(args: list[str], env: dict[str, str]) -> str:
    """The heavy packages ``-X importtime`` shows the command importing."""
    run = subprocess.run([sys.executable, "-X", "importtime", *args], env=env,
                         capture_output=True, text=True, check=True)  # fmt: skip
    names = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in run.stderr.splitlines()}
    return ",".join(sorted(names & set(HEAVY))) or "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--before", type=Path, help="an older checkout's src folder")
    parser.add_argument("--now", type=Path, help="the checkout to measure (default: this one)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    here = args.now or Path(__file__).resolve().parents[1] / "src"
    sources = {"now": here, **({"before": args.before} if args.before else {})}
    with tempfile.TemporaryDirectory() as tmp:
        envs = {label: _env(src, Path(tmp) / label) for label, src in sources.items()}
        for env in envs.values():  # create and migrate the registry once, as a user's first run
            _seconds(COMMANDS["verdict models list"], env)
        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.repeat):
            for name, command in COMMANDS.items():
                for label, env in envs.items():
                    times.setdefault((name, label), []).append(_seconds(command, env))
        print(f"{'command':34} {'label':7} {'median s':>9} {'min s':>7}  heavy imports  ratio")
        for name, command in COMMANDS.items():
            for label, env in envs.items():
                runs = times[(name, label)]
                ratio = ""
                if label == "now" and "before" in envs:
                    before = statistics.median(times[(name, "before")])
                    ratio = f"{statistics.median(runs) / before:.2f}"
                print(f"{name:34} {label:7} {statistics.median(runs):9.3f} {min(runs):7.3f}  "
                      f"{_heavy(command, env):13}  {ratio}")  # fmt: skip


if __name__ == "__main__":
    main()
