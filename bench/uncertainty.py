"""Bootstrap intervals and the DeLong test against the obvious alternative, in one run.

The alternative to ``bootstrap_ci`` is a Python loop that resamples row indices and calls
scikit-learn on each resample. That loop is slow, so it runs for ``--loop-resamples``
resamples only and its time is extrapolated to the full count (median time per resample
times the number of resamples); the output says so. Ours always runs in full.

Rows:
  macro-F1, n = 1e5, 10 classes, 1000 resamples      target: >= 200x the scikit-learn loop
  ROC AUC,  n = 1e5, binary,     1000 resamples      target: >= 20x
  DeLong test (two correlated scores), n = 1e6        target: < 3x one roc_auc_score of ours
  evaluate(ci=True), n = 1e5, 10 classes              information: against evaluate() alone

    python bench/uncertainty.py
    python bench/uncertainty.py --loop-resamples 100 --repeats 5 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np
import scipy
import sklearn
import sklearn.metrics as skm

from verdict.metrics import bootstrap_ci, evaluate, roc_auc_score

N_RESAMPLES = 1000


def alternating(fa: Callable[[], object], fb: Callable[[], object], repeats: int):
    """Median wall times of ``fa`` and ``fb``, called in turn ``repeats`` times each."""
    ta, tb = [], []
    for _ in range(repeats):
        for fn, times in ((fa, ta), (fb, tb)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return statistics.median(ta), statistics.median(tb)


def interleaved(
    ours: Callable[[], object], loop_metric: Callable[[np.ndarray], float], n: int, args
) -> tuple[float, float]:
    """Median time of ours, and of one scikit-learn call on a resample (index draw included).

    The two alternate (one run of ours, then a share of the loop's resamples, and again), so
    that a change in the machine's load hits both sides alike.
    """
    rng = np.random.default_rng(1)
    ours_times, loop_times = [], []
    per_round = max(1, args.loop_resamples // args.repeats)
    for _ in range(args.repeats):
        start = time.perf_counter()
        ours()
        ours_times.append(time.perf_counter() - start)
        for _ in range(per_round):
            start = time.perf_counter()
            loop_metric(rng.integers(0, n, n))
            loop_times.append(time.perf_counter() - start)
    return statistics.median(ours_times), statistics.median(loop_times)


def multiclass_labels(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, k, n)
    return y, np.where(rng.random(n) < 0.7, y, rng.integers(0, k, n))


def binary_scores(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(np.int64)
    base = rng.normal(size=n) + 1.2 * y
    return y, base + 0.5 * rng.normal(size=n), base + 0.9 * rng.normal(size=n)


def bench_macro_f1(args: argparse.Namespace) -> dict:
    y, yp = multiclass_labels(100_000, 10)
    ours, per = interleaved(
        lambda: bootstrap_ci("f1_macro", y, yp, random_state=0),
        lambda idx: skm.f1_score(y[idx], yp[idx], average="macro"),
        y.shape[0],
        args,
    )
    return _row("bootstrap macro-F1 (n=1e5, 10 classes)", ours, per * N_RESAMPLES, args, 200)


def bench_auc(args: argparse.Namespace) -> dict:
    y, s, _ = binary_scores(100_000)
    ours, per = interleaved(
        lambda: bootstrap_ci("roc_auc", y, s, random_state=0),
        lambda idx: skm.roc_auc_score(y[idx], s[idx]),
        y.shape[0],
        args,
    )
    return _row("bootstrap ROC AUC (n=1e5, binary)", ours, per * N_RESAMPLES, args, 20)


def _row(name: str, ours: float, loop: float, args: argparse.Namespace, target: float) -> dict:
    return {
        "name": name,
        "ours_s": ours,
        "baseline": f"scikit-learn loop, extrapolated from {_loop_count(args)} resamples",
        "baseline_s": loop,
        "ratio": loop / ours,
        "target": f">= {target}x faster",
        "met": loop / ours >= target,
    }


def _loop_count(args: argparse.Namespace) -> int:
    return max(1, args.loop_resamples // args.repeats) * args.repeats


def _find_delong() -> Callable | None:
    """``delong_roc_test`` from the public API, or the private module it is written in."""
    import importlib

    for module in ("verdict.metrics", "verdict.metrics._compare", "verdict.metrics._delong"):
        try:
            return importlib.import_module(module).delong_roc_test
        except (ImportError, AttributeError):
            continue
    return None


def bench_delong(args: argparse.Namespace) -> dict | None:
    delong_roc_test = _find_delong()
    if delong_roc_test is None:
        print("DeLong row skipped: delong_roc_test is not there yet.")
        return None
    y, a, b = binary_scores(1_000_000, seed=1)
    delong_roc_test(y, a, b)  # warm-up
    test, one_auc = alternating(
        lambda: delong_roc_test(y, a, b), lambda: roc_auc_score(y, a), args.repeats
    )
    return {
        "name": "DeLong test, two scores (n=1e6)",
        "ours_s": test,
        "baseline": "one roc_auc_score of ours",
        "baseline_s": one_auc,
        "ratio": test / one_auc,
        "target": "< 3x the baseline",
        "met": test / one_auc < 3,
    }


def bench_evaluate(args: argparse.Namespace) -> dict:
    """Information only: the cost of ``evaluate(ci=True)`` on a large multiclass table."""
    rng = np.random.default_rng(2)
    n, k = 100_000, 10
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += 1.5
    proba = np.exp(logits)
    proba /= proba.sum(axis=1, keepdims=True)
    pred = proba.argmax(axis=1)
    with_ci, plain = alternating(
        lambda: evaluate(y, pred, proba, ci=True, random_state=0),
        lambda: evaluate(y, pred, proba),
        1,
    )
    return {
        "name": "evaluate(ci=True), n=1e5, 10 classes",
        "ours_s": with_ci,
        "baseline": "evaluate() without intervals (information only, 1 run)",
        "baseline_s": plain,
        "ratio": with_ci / plain,
        "target": "none",
        "met": True,
    }


def machine() -> dict:
    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of ours (median)")
    parser.add_argument(
        "--loop-resamples", type=int, default=50, help="resamples the sklearn loop runs"
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    facts = machine()
    print("machine:", ", ".join(f"{k} {v}" for k, v in facts.items()))
    print(
        f"The scikit-learn loops run {_loop_count(args)} resamples each (interleaved with the "
        f"{args.repeats} runs of ours); their times below are extrapolated to {N_RESAMPLES} "
        f"(median time per resample x {N_RESAMPLES})."
    )
    rows = [bench_macro_f1(args), bench_auc(args), bench_delong(args), bench_evaluate(args)]
    rows = [r for r in rows if r is not None]
    print(f"\n{'case':<42} {'ours':>10} {'baseline':>11} {'ratio':>9}  target")
    for r in rows:
        if r["target"] == "none":
            verdict = "information ("
        else:
            verdict = f"{r['target']} ({'met' if r['met'] else 'NOT met'}; "
        print(
            f"{r['name']:<42} {r['ours_s']:>9.4f}s {r['baseline_s']:>10.3f}s "
            f"{r['ratio']:>8.1f}x  {verdict}baseline: {r['baseline']})"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": facts, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
