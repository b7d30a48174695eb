"""Drift detection: verdict's ``DriftDetector`` against Evidently's defaults, false alarms first.

The question: on a stream that has not changed, how often does each method cry drift on a
window, at window sizes 100, 1,000 and 10,000? And, for scale, how often does it see a real
change (one feature's mean moved by half a standard deviation)?

Data: palmerpenguins' 333 complete rows are the population. A draw of ``n`` rows picks rows
with replacement and adds seeded Gaussian jitter (0.1 of the column's standard deviation) to
the four continuous measurements, so they are continuous; ``island`` and ``sex``
(categorical) and ``year`` (integer, three values: numeric to verdict's schema, and to
Evidently, which then treats it as a few-valued numeric column) are kept as drawn. The
reference is one draw, the windows are fresh draws from the same population: an unchanged
stream, reference and windows independent samples. ``species`` is the target and is not
monitored. The shifted windows add 0.5 (and, to show what a fixed distance threshold cannot
see, 0.1) of the population standard deviation to ``bill_length_mm``.

Two references, because Evidently's default test depends on the reference's size: with
``--reference-rows 20000`` (more than 1,000 rows) its defaults are the normed Wasserstein
distance (threshold 0.1) for numeric columns with more than five values and the Jensen-Shannon
distance (0.1) for the categorical and few-valued ones; with ``1000`` rows they are K-S (p <=
0.05) for numeric columns, chi-squared (more than two values) or a Z-test (two) for the rest.

Methods, each on exactly the same reference and windows:

- ``verdict``: ``DriftDetector(reference, infer_schema(reference, "species"))`` with its
  defaults (false_alarm_rate 0.05, Holm, a bootstrapped null per window size); alarm =
  ``report.alarm``.
- ``evidently any column``: Evidently's ``DataDriftPreset()`` defaults, alarm when any column
  is flagged drifted.
- ``evidently dataset drift``: the same run's dataset-drift flag (drifted share >= 0.5).
- ``fixed PSI > 0.1``: verdict's per-feature PSI, alarm when any feature's exceeds 0.1 (the
  common rule of thumb, for illustration).

Evidently runs in its own environment, ``bench/.venv-evidently`` (created here if missing:
``pip install evidently pyarrow "pandas<3"``; Evidently 0.7 fails to import under pandas 3),
through ``bench/drift_evidently.py``, all windows in one subprocess. Its answers come from the
calls its preset makes for its figures, without drawing widgets; on ``--report-windows``
windows per case the full ``Report([DataDriftPreset()])`` is run too and must agree exactly.
Agreement with verdict's K-S: on ``--agree-windows`` windows per case Evidently's K-S
(``num_method="ks"``) p-values are compared with ``verdict.monitoring`` ``ks_test`` on the same
columns, and the detector's own K-S statistics with ``ks_test``'s. Not part of ``make test``.

    .venv/bin/python bench/drift.py                          # ~2-4 minutes
    .venv/bin/python bench/drift.py --reference-rows 20000 --windows 400,400,200   # tighter
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from peer_env import ensure_venv, say

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
HELPER = BENCH / "drift_evidently.py"
TARGET = "species"
CONTINUOUS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
SHIFTED = "bill_length_mm"
SIZES = (100, 1000, 10_000)
METHODS = ("verdict", "evidently any column", "evidently dataset drift", "fixed PSI > 0.1")


# -- the benchmark's Evidently environment ---------------------------------------------------


def ensure_evidently_venv(venv: Path, reinstall: bool) -> Path:
    """Create ``venv`` with Evidently unless it already imports there."""
    packages = ["evidently", "pyarrow", "pandas<3"]  # evidently 0.7 breaks on pandas 3
    probe = "import evidently.presets, pyarrow"
    return ensure_venv(venv, "Evidently", packages, probe, reinstall=reinstall)


# -- data --------------------------------------------------------------------------------------


class Population:
    """Complete penguins, resampled with seeded jitter on the continuous measurements."""

    def __init__(self, jitter: float) -> None:
        from palmerpenguins import load_penguins

        self.base = load_penguins().dropna().reset_index(drop=True)
        self.jitter = jitter
        self.sd_base = {c: float(self.base[c].std(ddof=0)) for c in CONTINUOUS}
        # standard deviation of the jittered population: base variance x (1 + jitter^2)
        self.sd = {c: s * math.sqrt(1 + jitter**2) for c, s in self.sd_base.items()}

    def draw(self, n: int, rng: np.random.Generator, shift: float = 0.0) -> pd.DataFrame:
        frame = self.base.iloc[rng.integers(0, len(self.base), n)].reset_index(drop=True)
        for c in CONTINUOUS:
            frame[c] = frame[c] + rng.normal(0.0, self.jitter * self.sd_base[c], n)
        if shift:
            frame[SHIFTED] = frame[SHIFTED] + shift * self.sd[SHIFTED]
        return frame


# -- one case: a reference and windows of one size ---------------------------------------------


@dataclass
class Case:
    reference_rows: int
    size: int
    null: list[pd.DataFrame]
    shifted: list[pd.DataFrame]
    shift_of: list[float]  # the shift (in sd) of each shifted window
    alarms: dict[str, list[bool]] = field(default_factory=dict)  # method -> null windows
    detected: dict[str, list[bool]] = field(default_factory=dict)  # method -> shifted windows
    verdict_columns: list[dict[str, bool]] = field(default_factory=list)  # per null window
    evidently_columns: list[dict[str, bool]] = field(default_factory=list)
    evidently_methods: dict[str, str] = field(default_factory=dict)
    verdict_seconds: float = 0.0
    calibrate_seconds: float = 0.0


def run_verdict(detector: Any, case: Case) -> None:
    def one(window: pd.DataFrame) -> tuple[bool, bool, dict[str, bool]]:
        report = detector.check(window)
        psi_alarm = any(f.psi > 0.1 for f in report.features if not math.isnan(f.psi))
        return report.alarm, psi_alarm, {f.name: f.drifted for f in report.features}

    start = time.perf_counter()
    detector.calibrate(case.size)
    case.calibrate_seconds = time.perf_counter() - start
    start = time.perf_counter()
    null = [one(w) for w in case.null]
    shifted = [one(w) for w in case.shifted]
    case.verdict_seconds = time.perf_counter() - start
    case.alarms["verdict"] = [a for a, _, _ in null]
    case.alarms["fixed PSI > 0.1"] = [p for _, p, _ in null]
    case.detected["verdict"] = [a for a, _, _ in shifted]
    case.detected["fixed PSI > 0.1"] = [p for _, p, _ in shifted]
    case.verdict_columns = [c for _, _, c in null]


def stack(windows: list[pd.DataFrame], columns: list[str], first: int = 0) -> pd.DataFrame:
    parts = [w[columns].assign(__window=first + i) for i, w in enumerate(windows)]
    return pd.concat(parts, ignore_index=True)


# -- the whole run -----------------------------------------------------------------------------


def binomial(k: int, n: int) -> tuple[float, float]:
    p = k / n if n else float("nan")
    return p, math.sqrt(p * (1 - p) / n) if n else float("nan")


def machine_facts(evidently_versions: dict[str, str], load_start: list[float]) -> dict[str, Any]:
    import importlib.metadata as meta

    cpu = platform.processor()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = float("nan")
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            mem = int(line.split()[1]) / 2**20
    ours = {p: meta.version(p) for p in ("numpy", "pandas", "scipy")}
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem, 1),
        "python": platform.python_version(),
        "verdict_env": ours,
        "evidently_env": evidently_versions,
        "loadavg_start": load_start,
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--windows",
        default="200,200,50",
        help="unchanged windows at sizes 100,1000,10000 (comma-separated counts)",
    )
    parser.add_argument(
        "--shift-windows", type=int, default=40, help="shifted windows per size and shift"
    )
    parser.add_argument(
        "--reference-rows", default="20000,1000", help="reference sizes (comma-separated)"
    )
    parser.add_argument("--jitter", type=float, default=0.1, help="jitter, in column sd")
    parser.add_argument("--shifts", default="0.5,0.1", help="mean shifts, in sd (comma-separated)")
    parser.add_argument("--report-windows", type=int, default=2, help="full-Report check/case")
    parser.add_argument("--agree-windows", type=int, default=10, help="K-S agreement/case")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--venv", default=str(BENCH / ".venv-evidently"))
    parser.add_argument("--reinstall", action="store_true")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    counts = [int(x) for x in args.windows.split(",")]
    shifts = [float(x) for x in args.shifts.split(",")]
    references = [int(x) for x in args.reference_rows.split(",")]
    if len(counts) != len(SIZES):
        parser.error(f"--windows needs {len(SIZES)} counts")

    wall = time.perf_counter()
    load_start = [round(x, 2) for x in os.getloadavg()]
    python = ensure_evidently_venv(Path(args.venv), args.reinstall)

    from verdict.data import ColumnKind, infer_schema
    from verdict.monitoring import DriftDetector
    from verdict.monitoring._stats import ks_test

    population = Population(args.jitter)
    cases: list[Case] = []
    refs: dict[int, pd.DataFrame] = {}
    plan = dict(zip(SIZES, counts, strict=True))
    say(f"[data] drawing references {references} and windows {plan}")
    for m in references:
        refs[m] = population.draw(m, np.random.default_rng([args.seed, m]))
        for size, count in zip(SIZES, counts, strict=True):
            rng = np.random.default_rng([args.seed, m, size])
            null = [population.draw(size, rng) for _ in range(count)]
            shift_of = [s for s in shifts for _ in range(args.shift_windows)]
            shifted = [population.draw(size, rng, s) for s in shift_of]
            cases.append(Case(m, size, null, shifted, shift_of))

    schema = infer_schema(refs[references[0]], TARGET)
    features = list(schema.features)
    numerical = [c for c in features if schema.column(c).kind is ColumnKind.NUMERIC]
    categorical = [c for c in features if c not in numerical]
    say(f"[data] features: numerical {numerical}, categorical {categorical}")

    # verdict
    detectors = {m: DriftDetector(refs[m], infer_schema(refs[m], TARGET)) for m in references}
    for case in cases:
        run_verdict(detectors[case.reference_rows], case)
        say(
            f"[verdict] reference {case.reference_rows}, windows of {case.size}: calibration "
            f"{case.calibrate_seconds:.1f} s, {len(case.null) + len(case.shifted)} checks "
            f"{case.verdict_seconds:.1f} s"
        )

    # Evidently: every job in one subprocess
    with tempfile.TemporaryDirectory(prefix="drift-bench-") as tmp:
        jobs = []
        for m in references:
            refs[m][features].to_parquet(Path(tmp) / f"ref{m}.parquet")
        for i, case in enumerate(cases):
            ref = str(Path(tmp) / f"ref{case.reference_rows}.parquet")
            every = Path(tmp) / f"case{i}.parquet"
            stack(case.null + case.shifted, features).to_parquet(every)
            jobs.append({"name": f"{i}", "reference": ref, "windows": str(every), "mode": "fast"})
            if args.report_windows > 0:
                few = Path(tmp) / f"case{i}-report.parquet"
                stack(case.null[: args.report_windows], features).to_parquet(few)
                jobs.append(
                    {"name": f"{i}-report", "reference": ref, "windows": str(few), "mode": "report"}
                )
            if args.agree_windows > 0:
                agree = Path(tmp) / f"case{i}-ks.parquet"
                stack(case.null[: args.agree_windows], features).to_parquet(agree)
                jobs.append(
                    {
                        "name": f"{i}-ks",
                        "reference": ref,
                        "windows": str(agree),
                        "mode": "fast",
                        "ks_only": True,
                    }
                )
        spec = Path(tmp) / "spec.json"
        spec.write_text(
            json.dumps({"numerical": numerical, "categorical": categorical, "jobs": jobs})
        )
        say(f"[evidently] {len(jobs)} jobs in one subprocess ({python})")
        start = time.perf_counter()
        done = subprocess.run([str(python), str(HELPER), str(spec)], capture_output=True, text=True)
        evidently_seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"drift_evidently.py failed:\n{done.stderr[-4000:]}")
        answer = json.loads(done.stdout)
    version = answer["versions"]["evidently"]
    say(f"[evidently] done in {evidently_seconds:.1f} s (Evidently {version})")

    # Evidently's answers, the full-Report cross-check, the K-S agreement
    report_mismatch = 0
    report_checked = 0
    agreement = []
    for i, case in enumerate(cases):
        results = answer["jobs"][f"{i}"]["results"]
        k = len(case.null)
        case.alarms["evidently any column"] = [r["n_drifted"] > 0 for r in results[:k]]
        case.alarms["evidently dataset drift"] = [r["dataset_drift"] for r in results[:k]]
        case.detected["evidently any column"] = [r["n_drifted"] > 0 for r in results[k:]]
        case.detected["evidently dataset drift"] = [r["dataset_drift"] for r in results[k:]]
        case.evidently_columns = [
            {c: v["drifted"] for c, v in r["columns"].items()} for r in results[:k]
        ]
        case.evidently_methods = {c: v["method"] for c, v in results[0]["columns"].items()}
        for full in answer["jobs"].get(f"{i}-report", {}).get("results", []):
            fast = results[full["window"]]
            report_checked += 1
            same = (
                full["dataset_drift"] == fast["dataset_drift"]
                and full["n_drifted"] == fast["n_drifted"]
            )
            for c in features:
                a, b = full["columns"][c], fast["columns"][c]
                same &= a["method"] == b["method"] and a["drifted"] == b["drifted"]
                same &= abs(a["score"] - b["score"]) <= 1e-12 * max(1.0, abs(b["score"]))
            report_mismatch += not same
        ref = refs[case.reference_rows]
        detector = detectors[case.reference_rows]
        for r in answer["jobs"].get(f"{i}-ks", {}).get("results", []):
            window = case.null[r["window"]]
            report = detector.check(window)
            by_name = {f.name: f for f in report.features}
            for c in numerical:
                with warnings.catch_warnings():  # scipy's exact K-S falls back to asymp
                    warnings.simplefilter("ignore", RuntimeWarning)
                    ours = ks_test(ref[c], window[c])
                agreement.append(
                    {
                        "reference_rows": case.reference_rows,
                        "size": case.size,
                        "column": c,
                        "evidently_p": r["columns"][c]["score"],
                        "ks_test_p": ours.p_value,
                        "ks_test_d": ours.statistic,
                        "detector_d": by_name[c].statistic,
                        "detector_p": by_name[c].p_value,
                    }
                )
    wall = time.perf_counter() - wall

    # -- print ---------------------------------------------------------------------------------
    facts = machine_facts(answer["versions"], load_start)
    say("")
    say("machine: " + ", ".join(f"{k} {v}" for k, v in facts.items()))
    say(
        f"population: {len(population.base)} complete penguins, jitter {args.jitter} sd on "
        f"{CONTINUOUS}; shifted windows: {SHIFTED} + "
        + ", ".join(f"{s} sd ({s * population.sd[SHIFTED]:.2f} mm)" for s in shifts)
    )
    rows = []
    for m in references:
        say(f"\n### reference of {m:,} rows")
        for case in (c for c in cases if c.reference_rows == m):
            methods = ", ".join(f"{c}: {t}" for c, t in case.evidently_methods.items())
            say(f"Evidently's tests at windows of {case.size:,}: {methods}")
        say("")
        heads = " | ".join(f"detected, +{s:g} sd" for s in shifts)
        say(f"| method | window | windows | alarms | false-alarm rate +- se | {heads} |")
        say("|---|---:|---:|---:|---:|" + "---:|" * len(shifts))
        for case in (c for c in cases if c.reference_rows == m):
            for method in METHODS:
                k, n = sum(case.alarms[method]), len(case.alarms[method])
                p, se = binomial(k, n)
                detection = {}
                for s in shifts:
                    hits = [
                        d
                        for d, x in zip(case.detected[method], case.shift_of, strict=True)
                        if x == s
                    ]
                    detection[s] = (sum(hits), len(hits))
                rows.append(
                    {
                        "reference_rows": m,
                        "size": case.size,
                        "method": method,
                        "windows": n,
                        "alarms": k,
                        "false_alarm_rate": p,
                        "se": se,
                        "detection": {
                            str(s): {"detected": d, "windows": nd}
                            for s, (d, nd) in detection.items()
                        },
                    }
                )
                cells = " | ".join(f"{d / nd:.2f} ({d}/{nd})" for d, nd in detection.values())
                say(f"| {method} | {case.size:,} | {n} | {k} | {p:.3f} +- {se:.3f} | {cells} |")
        say("\nper-column drift rate on the unchanged windows (verdict / Evidently):")
        say(
            "| column | " + " | ".join(f"{c.size:,}" for c in cases if c.reference_rows == m) + " |"
        )
        say("|---|" + "---:|" * sum(1 for c in cases if c.reference_rows == m))
        for col in features:
            cells = []
            for case in (c for c in cases if c.reference_rows == m):
                ours = np.mean([w[col] for w in case.verdict_columns])
                theirs = np.mean([w[col] for w in case.evidently_columns])
                cells.append(f"{ours:.3f} / {theirs:.3f}")
            say(f"| {col} | " + " | ".join(cells) + " |")

    say("\nverdict's false-alarm rate vs Evidently's defaults (same windows):")
    comparison = []
    for case in cases:
        ours = np.mean(case.alarms["verdict"])
        line = {"reference_rows": case.reference_rows, "size": case.size, "verdict": ours}
        parts = []
        for method in ("evidently any column", "evidently dataset drift"):
            theirs = float(np.mean(case.alarms[method]))
            line[method] = theirs
            line[f"at_most_{method}"] = bool(ours <= theirs)
            ratio = f"{ours / theirs:.2f}x" if theirs else "n/a (theirs 0)"
            parts.append(
                f"{method} {theirs:.3f} ({'<=' if ours <= theirs else '>'}; ratio {ratio})"
            )
        comparison.append(line)
        say(
            f"  reference {case.reference_rows:>6,}, window {case.size:>6,}: verdict {ours:.3f} vs "
            + "; ".join(parts)
        )
    for method in ("evidently any column", "evidently dataset drift"):
        ok = all(c[f"at_most_{method}"] for c in comparison)
        say(f"  verdict <= {method} at every size and reference: {'yes' if ok else 'NO'}")

    agree = pd.DataFrame(agreement)
    say(
        f"\nfull Report([DataDriftPreset()]) vs the fast path: {report_checked} windows, "
        f"{report_mismatch} differing"
    )
    if len(agree):
        for label, part in (
            ("continuous columns", agree[agree.column.isin(CONTINUOUS)]),
            ("year (3 values)", agree[~agree.column.isin(CONTINUOUS)]),
        ):
            if not len(part):
                continue
            gap = np.abs(part.detector_p - part.evidently_p)
            say(
                f"K-S agreement, {label}, {len(part)} (window, column) pairs: max |p(ks_test) - "
                f"p(Evidently K-S)| = {np.max(np.abs(part.ks_test_p - part.evidently_p)):.2e}; "
                f"max |D(detector) - D(ks_test)| = "
                f"{np.max(np.abs(part.detector_d - part.ks_test_d)):.2e}; the detector's "
                f"calibrated p vs Evidently's K-S p: max |diff| {np.max(gap):.3f}, median "
                f"{np.median(gap):.3f}"
            )
    fast_seconds = sum(
        job["seconds"]
        for job in answer["jobs"].values()
        if job["mode"] == "fast" and not job["ks_only"]
    )
    n_fast = sum(len(c.null) + len(c.shifted) for c in cases)
    say(
        f"Evidently per window (fast path, all sizes): {1000 * fast_seconds / n_fast:.1f} ms; "
        f"verdict per check: {1000 * sum(c.verdict_seconds for c in cases) / n_fast:.1f} ms"
    )
    say(
        f"\nwall {wall:.1f} s (Evidently subprocess {evidently_seconds:.1f} s; verdict checks "
        f"{sum(c.verdict_seconds for c in cases):.1f} s + calibration "
        f"{sum(c.calibrate_seconds for c in cases):.1f} s)"
    )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "machine": facts,
            "args": vars(args),
            "rows": rows,
            "comparison": comparison,
            "evidently_methods": {
                f"{c.reference_rows}/{c.size}": c.evidently_methods for c in cases
            },
            "report_check": {"windows": report_checked, "differing": report_mismatch},
            "agreement": agreement,
            "wall_s": wall,
        }
        Path(args.json).write_text(json.dumps(payload, indent=2, default=float))


if __name__ == "__main__":
    main()
