"""verdict.metrics against scikit-learn, side by side in one run.

For each task (binary; 10 classes; multilabel, 20 labels) and size n, times every function of
ours and its
scikit-learn twin on the same arrays, then the full ``evaluate`` against the sum of the
scikit-learn calls that produce the same content, with ``np.argsort`` of the scores as the
floor. Prints medians and ratios; ``--json FILE`` keeps the figures. Peak memory of
``evaluate`` is measured with tracemalloc (numpy reports its buffers to it).

    python bench/metrics.py                    # n = 1e5, 1e6, 1e7, binary and multiclass
    python bench/metrics.py --sizes 100000 --tasks binary
    python bench/metrics.py --sizes 1000000 --tasks multilabel   # 1e6 rows x 20 labels
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import sklearn
import sklearn.metrics as skm

import verdict.metrics as vm

RUNS, BUDGET_S = 3, 20.0
TASKS = ("binary", "multiclass", "multilabel")


@dataclass
class Row:
    task: str
    n: int
    name: str
    ours_s: float
    sklearn_s: float | None

    @property
    def speedup(self) -> float | None:
        return None if self.sklearn_s is None else self.sklearn_s / self.ours_s


def median_time(fn: Callable[[], object]) -> float:
    """Median wall time of up to RUNS calls; fewer once a function has used BUDGET_S."""
    times: list[float] = []
    while len(times) < RUNS and sum(times) < BUDGET_S:
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def make_binary(n: int, rng: np.random.Generator) -> dict:
    y_true = (rng.random(n) < 0.3).astype(np.int64)
    logits = 1.5 * (2 * y_true - 1) + rng.normal(0.0, 1.5, n)
    y_score = 1.0 / (1.0 + np.exp(-logits))
    return {"y_true": y_true, "y_pred": (y_score > 0.5).astype(np.int64), "y_score": y_score}


def make_multiclass(n: int, k: int, rng: np.random.Generator) -> dict:
    y_true = rng.integers(0, k, n)
    logits = rng.normal(0.0, 1.0, (n, k))
    logits[np.arange(n), y_true] += 1.5
    logits -= logits.max(axis=1, keepdims=True)
    proba = np.exp(logits)
    proba /= proba.sum(axis=1, keepdims=True)
    return {"y_true": y_true, "y_pred": proba.argmax(axis=1), "y_score": proba}


def make_multilabel(n: int, n_labels: int, rng: np.random.Generator) -> dict:
    """Labels of prevalence 5%-50%, logistic scores of a noisy model, predictions at 0.5."""
    prevalence = np.linspace(0.05, 0.5, n_labels)
    y_true = (rng.random((n, n_labels)) < prevalence).astype(np.int64)
    logits = 1.5 * (2 * y_true - 1) + rng.normal(0.0, 1.5, (n, n_labels))
    y_score = 1.0 / (1.0 + np.exp(-logits))
    return {"y_true": y_true, "y_pred": (y_score > 0.5).astype(np.int64), "y_score": y_score}


def binary_pairs(d: dict) -> dict[str, tuple[Callable, Callable | None]]:
    t, p, s = d["y_true"], d["y_pred"], d["y_score"]
    same = {
        "accuracy_score": (t, p),
        "precision_score": (t, p),
        "recall_score": (t, p),
        "f1_score": (t, p),
        "matthews_corrcoef": (t, p),
        "confusion_matrix": (t, p),
        "balanced_accuracy_score": (t, p),
        "cohen_kappa_score": (t, p),
        "roc_auc_score": (t, s),
        "average_precision_score": (t, s),
        "roc_curve": (t, s),
        "precision_recall_curve": (t, s),
        "log_loss": (t, s),
        "brier_score_loss": (t, s),
        "det_curve": (t, s),
        "confusion_matrix_at_thresholds": (t, s),
        "hinge_loss": (2 * t - 1, s - 0.5),
        "d2_log_loss_score": (t, s),
        "d2_brier_score": (t, s),
        "class_likelihood_ratios": (t, p),
    }
    fpr, tpr, _ = skm.roc_curve(t, s)
    pairs = {
        name: (_call(getattr(vm, name), *args), _call(getattr(skm, name), *args))
        for name, args in same.items()
    }
    pairs["auc(roc curve)"] = (_call(vm.auc, fpr, tpr), _call(skm.auc, fpr, tpr))
    return pairs


def multilabel_pairs(d: dict) -> dict[str, tuple]:
    """Every function that takes a label-indicator matrix, with the averages users ask for.

    ``evaluate`` is compared with the scikit-learn calls that give its content except the
    'samples' ROC AUC and average precision (see below), so its ratio is a lower bound."""
    t, p, s = d["y_true"], d["y_pred"], d["y_score"]
    calls = {
        "accuracy_score (subset)": ((t, p), {}),
        "hamming_loss": ((t, p), {}),
        "zero_one_loss": ((t, p), {}),
        "multilabel_confusion_matrix": ((t, p), {}),
        "multilabel_confusion_matrix(samplewise)": ((t, p), {"samplewise": True}),
        "precision_recall_fscore_support": ((t, p), {}),
        "precision_score(micro)": ((t, p), {"average": "micro"}),
        "recall_score(macro)": ((t, p), {"average": "macro"}),
        "f1_score(weighted)": ((t, p), {"average": "weighted"}),
        "f1_score(samples)": ((t, p), {"average": "samples"}),
        "fbeta_score(samples)": ((t, p), {"average": "samples", "beta": 2.0}),
        "jaccard_score(samples)": ((t, p), {"average": "samples"}),
        "jaccard_score(macro)": ((t, p), {"average": "macro"}),
        "classification_report": ((t, p), {"output_dict": True}),
        "roc_auc_score(macro)": ((t, s), {}),
        "roc_auc_score(micro)": ((t, s), {"average": "micro"}),
        "average_precision_score(macro)": ((t, s), {}),
        "average_precision_score(micro)": ((t, s), {"average": "micro"}),
        "log_loss": ((t, s), {}),
        "coverage_error": ((t, s), {}),
        "label_ranking_average_precision_score": ((t, s), {}),
        "label_ranking_loss": ((t, s), {}),
        "ndcg_score": ((t, s), {}),
        "dcg_score": ((t, s), {}),
    }
    out = {}
    for name, (args, kwargs) in calls.items():
        base = name.split("(")[0].split(" ")[0]
        out[name] = (
            _call(getattr(vm, base), *args, **kwargs),
            _call(getattr(skm, base), *args, **kwargs),
        )
    # scikit-learn's 'samples' ranking averages call the binary metric once per row in Python
    # (about 3 ms a row: 50 min at 1e6 rows), so its time is measured on the first
    # SAMPLES_ROWS rows and scaled by n / SAMPLES_ROWS (it is linear in n); ours on all rows.
    m = min(SAMPLES_ROWS, t.shape[0])
    for base in ("roc_auc_score", "average_precision_score"):
        ours = _call(getattr(vm, base), t, s, average="samples")
        theirs = _call(getattr(skm, base), t[:m], s[:m], average="samples")
        out[f"{base}(samples) [sklearn x {t.shape[0] / m:g} from {m} rows]"] = (
            ours,
            theirs,
            t.shape[0] / m,
        )
    return out


SAMPLES_ROWS = 10_000


def sklearn_equivalent_of_multilabel_evaluate(d: dict) -> list[Callable[[], object]]:
    """The scikit-learn calls that together give what one multilabel ``evaluate`` returns."""
    t, p, s = d["y_true"], d["y_pred"], d["y_score"]
    averages = (None, "micro", "macro", "weighted", "samples")
    calls = [
        lambda: skm.multilabel_confusion_matrix(t, p),  # specificity per label
        lambda: skm.accuracy_score(t, p),
        lambda: skm.hamming_loss(t, p),
        lambda: skm.coverage_error(t, s),
        lambda: skm.label_ranking_average_precision_score(t, s),
        lambda: skm.label_ranking_loss(t, s),
        lambda: skm.log_loss(t.ravel(), s.ravel()),
        lambda: skm.brier_score_loss(t.ravel(), s.ravel()),
    ]
    for a in averages:
        calls += [
            lambda a=a: skm.precision_recall_fscore_support(t, p, average=a),
            lambda a=a: skm.jaccard_score(t, p, average=a),
        ]
        if a != "samples":  # left out (see multilabel_pairs): the sum is a lower bound
            calls += [
                lambda a=a: skm.roc_auc_score(t, s, average=a),
                lambda a=a: skm.average_precision_score(t, s, average=a),
            ]
    for k in range(t.shape[1]):
        calls += [
            lambda k=k: skm.roc_curve(t[:, k], s[:, k]),
            lambda k=k: skm.precision_recall_curve(t[:, k], s[:, k], drop_intermediate=True),
        ]
    return calls


def multiclass_pairs(d: dict) -> dict[str, tuple[Callable, Callable | None]]:
    t, p, s = d["y_true"], d["y_pred"], d["y_score"]
    calls = {
        "accuracy_score": ((t, p), {}),
        "confusion_matrix": ((t, p), {}),
        "precision_recall_fscore_support": ((t, p), {}),
        "f1_score(macro)": ((t, p), {"average": "macro"}),
        "matthews_corrcoef": ((t, p), {}),
        "cohen_kappa_score": ((t, p), {}),
        "roc_auc_score(ovr)": ((t, s), {"multi_class": "ovr"}),
        "log_loss": ((t, s), {}),
        "top_k_accuracy_score": ((t, s), {"k": 2}),
    }
    out = {}
    for name, (args, kwargs) in calls.items():
        base = name.split("(")[0]
        out[name] = (
            _call(getattr(vm, base), *args, **kwargs),
            _call(getattr(skm, base), *args, **kwargs),
        )
    return out


def _call(fn: Callable, *args, **kwargs) -> Callable[[], object]:
    return lambda: fn(*args, **kwargs)


def sklearn_equivalent_of_evaluate(d: dict, binary: bool) -> list[Callable[[], object]]:
    """The scikit-learn calls that together give what one ``evaluate`` returns."""
    t, p, s = d["y_true"], d["y_pred"], d["y_score"]
    averages = ["micro", "macro", "weighted"] + (["binary"] if binary else [])
    calls = [
        lambda: skm.confusion_matrix(t, p),
        lambda: skm.multilabel_confusion_matrix(t, p),  # specificity
        lambda: skm.accuracy_score(t, p),
        lambda: skm.balanced_accuracy_score(t, p),
        lambda: skm.matthews_corrcoef(t, p),
        lambda: skm.cohen_kappa_score(t, p),
        lambda: skm.hamming_loss(t, p),
        lambda: skm.precision_recall_fscore_support(t, p, average=None),
        lambda: skm.jaccard_score(t, p, average=None),
        lambda: skm.log_loss(t, s),
        lambda: skm.brier_score_loss(t, s),
    ]
    calls += [lambda a=a: skm.precision_recall_fscore_support(t, p, average=a) for a in averages]
    calls += [lambda a=a: skm.jaccard_score(t, p, average=a) for a in averages]
    if binary:
        calls += [
            lambda: skm.roc_curve(t, s),
            lambda: skm.roc_auc_score(t, s),
            lambda: skm.precision_recall_curve(t, s, drop_intermediate=True),
            lambda: skm.average_precision_score(t, s),
        ]
        return calls
    for k in range(s.shape[1]):
        calls += [
            lambda k=k: skm.roc_curve(t == k, s[:, k]),
            lambda k=k: skm.precision_recall_curve(t == k, s[:, k], drop_intermediate=True),
        ]
    for a in ("macro", "weighted"):
        calls += [
            lambda a=a: skm.roc_auc_score(t, s, multi_class="ovr", average=a),
            lambda a=a: skm.average_precision_score(t, s, average=a),
        ]
    calls += [lambda k=k: skm.top_k_accuracy_score(t, s, k=k) for k in (2, 3, 5)]
    return calls


def nine_usual(d: dict) -> list[Callable[[], object]]:
    """The nine metrics a practitioner usually calls one by one on a binary model."""
    t, p, s = d["y_true"], d["y_pred"], d["y_score"]
    return [
        lambda: skm.accuracy_score(t, p),
        lambda: skm.precision_score(t, p),
        lambda: skm.recall_score(t, p),
        lambda: skm.f1_score(t, p),
        lambda: skm.matthews_corrcoef(t, p),
        lambda: skm.roc_auc_score(t, s),
        lambda: skm.average_precision_score(t, s),
        lambda: skm.log_loss(t, s),
        lambda: skm.brier_score_loss(t, s),
    ]


def peak_memory_ratio(d: dict) -> tuple[float, float]:
    """Peak bytes allocated by evaluate, and that peak over the bytes of its inputs."""
    inputs = sum(a.nbytes for a in d.values())
    tracemalloc.start()
    tracemalloc.reset_peak()
    vm.evaluate(d["y_true"], d["y_pred"], d["y_score"])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20, peak / inputs


def run_task(task: str, n: int, rng: np.random.Generator) -> tuple[list[Row], dict]:
    binary, multilabel = task == "binary", task == "multilabel"
    if multilabel:
        d, pairs = make_multilabel(n, 20, rng), multilabel_pairs
    elif binary:
        d, pairs = make_binary(n, rng), binary_pairs
    else:
        d, pairs = make_multiclass(n, 10, rng), multiclass_pairs
    pairs = pairs(d)
    rows = [
        Row(task, n, name, median_time(ours), median_time(ref) * scale)
        for name, (ours, ref, *rest) in pairs.items()
        for scale in [rest[0] if rest else 1.0]
    ]
    floor_scores = d["y_score"] if binary else d["y_score"][:, 0]
    argsort_s = median_time(lambda: np.argsort(floor_scores))
    evaluate_s = median_time(lambda: vm.evaluate(d["y_true"], d["y_pred"], d["y_score"]))
    if multilabel:
        equivalent = sklearn_equivalent_of_multilabel_evaluate(d)
    else:
        equivalent = sklearn_equivalent_of_evaluate(d, binary)
    equivalent_s = sum(median_time(c) for c in equivalent)
    rows.append(
        Row(task, n, f"evaluate vs {len(equivalent)} sklearn calls", evaluate_s, equivalent_s)
    )
    summary = {
        "argsort_s": argsort_s,
        "evaluate_s": evaluate_s,
        "evaluate_over_argsort": evaluate_s / argsort_s,
        "sklearn_equivalent_s": equivalent_s,
        "sklearn_equivalent_calls": len(equivalent),
    }
    if binary:
        usual_s = sum(median_time(c) for c in nine_usual(d))
        rows.append(Row(task, n, "evaluate vs the nine usual sklearn calls", evaluate_s, usual_s))
        summary["nine_usual_s"] = usual_s
    summary["peak_mib"], summary["peak_over_inputs"] = peak_memory_ratio(d)
    summary["inputs_mib"] = sum(a.nbytes for a in d.values()) / 2**20
    return rows, summary


def print_table(rows: list[Row], summary: dict, task: str, n: int) -> None:
    print(f"\n## {task}, n = {n:.0e}")
    print(f"{'function':<44} {'verdict s':>10} {'sklearn s':>10} {'speedup':>8}")
    for r in rows:
        sk = "-" if r.sklearn_s is None else f"{r.sklearn_s:10.4f}"
        sp = "-" if r.speedup is None else f"{r.speedup:7.1f}x"
        print(f"{r.name:<44} {r.ours_s:10.4f} {sk:>10} {sp:>8}")
    print(
        f"np.argsort of one score column: {summary['argsort_s']:.4f} s; "
        f"evaluate / argsort = {summary['evaluate_over_argsort']:.2f}"
    )
    print(
        f"evaluate peak memory {summary['peak_mib']:.0f} MiB = "
        f"{summary['peak_over_inputs']:.2f} x inputs ({summary['inputs_mib']:.0f} MiB)"
    )


def machine() -> dict:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "sklearn": sklearn.__version__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10**5, 10**6, 10**7])
    parser.add_argument("--tasks", nargs="+", default=["binary", "multiclass"], choices=TASKS)
    parser.add_argument("--json", help="Write all figures to this file.")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print("machine:", machine())
    results = []
    for task in args.tasks:
        for n in args.sizes:
            rows, summary = run_task(task, n, np.random.default_rng(0))
            print_table(rows, summary, task, n)
            results.append(
                {
                    "task": task,
                    "n": n,
                    "summary": summary,
                    "rows": [asdict(r) | {"speedup": r.speedup} for r in rows],
                }
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine(), "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
