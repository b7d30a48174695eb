"""`verdict train` as a user runs it: a real process on real files.

Bad input of every kind ends with one paragraph on standard error and exit code 2, never a
traceback; a good table ends with a run directory (and its report) within the time budget.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from palmerpenguins import load_penguins
from typer.testing import CliRunner

from verdict.cli import app
from verdict.cli._costs import read_costs as _costs
from verdict.errors import InvalidInputError

VERDICT = [sys.executable, "-m", "verdict.cli"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*VERDICT, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def assert_one_paragraph_exit_2(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    message = result.stderr.strip()
    assert "Traceback" not in result.stderr
    assert message.startswith("error:") and "\n" not in message, message
    assert "To fix" in message
    for needle in needles:
        assert needle in message, message


def _frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(size=n), "y": rng.choice(["a", "b"], n)})


def _bad_inputs(root: Path) -> dict[str, tuple[list[str], tuple[str, ...]]]:
    """Each bad input: the command's arguments and what its message must name."""
    base = _frame()
    words = [f"this is free text number {i} with several words in it" for i in range(60)]
    tables = {
        "wrong_target": (base, "Y", "'Y'"),
        "empty_target": (base.assign(y=None), "y", "no values"),
        "continuous_target": (base.assign(y=np.linspace(0.1, 9.9, 60)), "y", "continuous"),
        "single_class": (base.assign(y="a"), "y", "single class"),
        "tiny_class": (base.assign(y=["a"] * 57 + ["b"] * 3), "y", "too few rows"),
        "free_text": (base.assign(notes=words), "y", "notes"),
        "no_features": (pd.DataFrame({"id": range(60), "y": base["y"]}), "y", "No feature"),
    }
    cases: dict[str, tuple[list[str], tuple[str, ...]]] = {}
    for name, (frame, target, needle) in tables.items():
        frame.to_csv(root / f"{name}.csv", index=False)
        cases[name] = ([str(root / f"{name}.csv"), "--target", target], (needle,))
    (root / "broken.parquet").write_bytes(b"this is not parquet at all")
    latin1 = b"city,y\n" + "Montréal,a\nQuébec,b\n".encode("latin-1") * 30
    (root / "latin1.csv").write_bytes(latin1)
    files = {
        "missing_file": ("nope.csv", ("does not exist",)),
        "corrupt_parquet": ("broken.parquet", ("Parquet",)),
        "non_utf8_csv": ("latin1.csv", ("UTF-8", "encoding=")),
    }
    for name, (file, needles) in files.items():
        cases[name] = ([str(root / file), "--target", "y"], needles)
    return cases


CASES = [
    "wrong_target", "empty_target", "continuous_target", "single_class", "tiny_class",
    "free_text", "no_features", "missing_file", "corrupt_parquet", "non_utf8_csv",
]  # fmt: skip


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess, tuple[str, ...]]]:
    """Every bad input run once, a few processes at a time (each start imports the stack)."""
    root = tmp_path_factory.mktemp("bad")
    cases = _bad_inputs(root)
    assert sorted(cases) == sorted(CASES)
    out = str(root / "run")
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {n: pool.submit(run, "train", *a, "--out", out) for n, (a, _) in cases.items()}
    assert not (root / "run" / "run.json").exists()
    return {name: (futures[name].result(), cases[name][1]) for name in cases}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.slow
def test_bad_input_ends_with_one_paragraph_and_exit_2(bad_runs, case):
    result, needles = bad_runs[case]
    assert_one_paragraph_exit_2(result, *needles)


@pytest.mark.parametrize(
    ("option", "value", "needle"),
    [
        ("--costs", "fp=1,fn=oops", "--costs"),
        ("--models", "softmax,nope", "nope"),
        ("--metric", "nope", "nope"),
        ("--time-budget", "0", "time_budget"),
    ],
)
def test_bad_options_end_with_one_paragraph_and_exit_2(tmp_path, option, value, needle):
    """In-process (the same command object): each start of a process costs seconds."""
    path = tmp_path / "table.csv"
    _frame().to_csv(path, index=False)
    result = CliRunner().invoke(app, ["train", str(path), "--target", "y", option, value])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    message = result.stderr.strip()
    assert message.startswith("error:") and "\n" not in message and needle in message
    assert "To fix" in message


def test_costs_option_reads_pairs_and_matrix_files(tmp_path):
    assert _costs("fp=1,fn=20") == {"fp": 1.0, "fn": 20.0}
    labelled = tmp_path / "labelled.csv"
    labelled.write_text("truth,a,b\nb,5,0\na,0,1\n")
    table = _costs(str(labelled))
    assert table.loc["b", "a"] == 5 and table.loc["a", "b"] == 1
    square = tmp_path / "square.csv"
    square.write_text("a,b\n0,1\n5,0\n")
    assert _costs(str(square)).loc["b", "a"] == 5
    square.write_text("a,b,c\n0,1,2\n")
    with pytest.raises(InvalidInputError, match="square"):
        _costs(str(square))


@pytest.mark.slow
def test_train_writes_the_run_and_report_within_the_budget(tmp_path):
    data = tmp_path / "penguins.csv"
    load_penguins().to_csv(data, index=False)
    costs = tmp_path / "costs.csv"
    costs.write_text(
        "species,Adelie,Chinstrap,Gentoo\nAdelie,0,1,1\nChinstrap,5,0,1\nGentoo,1,1,0\n"
    )
    out = tmp_path / "run"
    budget = 6
    start = time.perf_counter()
    result = run(
        "train", str(data), "--target", "species", "--time-budget", str(budget),
        "--costs", str(costs), "--models", "softmax,decision_tree",
        "--out", str(out), "--quiet",
    )  # fmt: skip
    wall = time.perf_counter() - start
    assert result.returncode == 0, result.stderr
    info = json.loads((out / "run.json").read_text())
    # the budget is kept (the search stops on time); the margin absorbs a busy test machine,
    # bench figures (60 s budgets) are measured on a quiet one
    assert info["elapsed_seconds"] < budget * 2, info["elapsed_seconds"]
    assert info["time_budget"] == budget and wall < budget + 30
    assert info["data"]["source"] == str(data)
    assert info["lineage"]["params"]["costs"] == [[0, 1, 1], [5, 0, 1], [1, 1, 0]]
    assert info["decision"]["kind"] == "cost"
    assert info["test"]["accuracy"] >= 0.9
    assert "best model:" in result.stdout and str(out) in result.stdout
    assert result.stderr.strip() == ""  # --quiet: no progress display
    if (out / "report.html").exists():
        assert "report.html" in result.stdout


def _noise_csv(path: Path, n: int = 300, seed: int = 1) -> Path:
    """Features drawn independently of the labels: nothing to learn."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(4)})
    frame["shade"] = rng.choice(["light", "dark"], n)
    frame["label"] = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    frame.to_csv(path, index=False)
    return path


def test_pure_noise_says_no_signal_first_and_registers_only_with_force(tmp_path):
    data = _noise_csv(tmp_path / "noise.csv")
    env = {**__import__("os").environ, "VERDICT_HOME": str(tmp_path / "home")}
    common = [*VERDICT, "train", str(data), "--target", "label", "--max-configs", "5", "--quiet"]

    def train_cli(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*common, *extra], capture_output=True, text=True, env=env, timeout=300
        )

    refused = train_cli("--out", str(tmp_path / "a"), "--register", "noise")
    assert refused.returncode == 0, refused.stderr
    lines = refused.stdout.strip().splitlines()
    assert lines[0].startswith("NO SIGNAL:") and "do not deploy" in lines[0]
    assert "not registered" in refused.stdout and "--force" in refused.stdout
    listed = subprocess.run([*VERDICT, "models", "list", "--json"], capture_output=True,
                            text=True, env=env, timeout=60)  # fmt: skip
    assert "noise" not in listed.stdout
    report = next((tmp_path / "a").rglob("*.html")).read_text(encoding="utf-8")
    headline = report[report.index("<h1>") : report.index("</h1>")]
    assert "No model here beats guessing the class frequencies: do not deploy" in headline

    forced = train_cli("--out", str(tmp_path / "b"), "--register", "noise", "--force")
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.startswith("NO SIGNAL:") and "registered:" in forced.stdout
    listed = subprocess.run([*VERDICT, "models", "list", "--json"], capture_output=True,
                            text=True, env=env, timeout=60)  # fmt: skip
    assert "noise" in listed.stdout


def test_force_needs_register(tmp_path):
    data = _noise_csv(tmp_path / "noise.csv")
    result = run("train", str(data), "--target", "label", "--force")
    assert_one_paragraph_exit_2(result, "--force", "--register")
