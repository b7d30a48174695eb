"""verdict's logistic regression against scikit-learn's, measured in one run.

For each problem it fits, interleaved and repeated, scikit-learn's multinomial
``LogisticRegression`` (lbfgs) and ``OneVsRestClassifier(LogisticRegression)``, and verdict's
``SoftmaxRegression`` and ``OneVsRestLogisticRegression`` (both solvers), all with the same ``C``,
``tol`` and ``max_iter``, and prints a table of medians: fit time and its ratio to the
scikit-learn counterpart, iterations, the final training objective (sum of log losses plus
``0.5 / C * ||W||^2``) and its relative difference to scikit-learn's, test log loss and accuracy.

    python bench/logistic.py [--repeats 3] [--problems dense-200k ...] [--blas-threads 1]

``--blas-threads N`` caps BLAS threads for every model (verdict's own threads follow the cap):
a like-for-like single-core comparison that a busy machine disturbs less.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy
import sklearn
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from verdict.models import OneVsRestLogisticRegression, SoftmaxRegression
from verdict.models._linear_loss import penalized_log_loss

C, TOL, MAX_ITER = 1.0, 1e-4, 1000


@dataclass
class Problem:
    name: str
    X_train: object
    y_train: np.ndarray
    X_test: object
    y_test: np.ndarray


def dense_200k() -> Problem:
    """The issue's problem: 200k x 100, 10 classes, standardised (fit on 80%, test on 20%)."""
    X, y = make_classification(
        n_samples=200_000, n_features=100, n_informative=60, n_classes=10, random_state=0
    )
    return _split("dense-200k", X, y, scale=True)


def sparse_onehot() -> Problem:
    """100k rows of 12 categorical columns (40 levels each) one-hot encoded: CSR, 5 classes."""
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 40, size=(100_000, 12))
    effects = rng.normal(scale=0.8, size=(12, 40, 5))
    scores = effects[np.arange(12), codes].sum(axis=1)
    scores += rng.gumbel(size=scores.shape)
    X = OneHotEncoder(sparse_output=True).fit_transform(codes).tocsr()
    return _split("sparse-onehot", X, scores.argmax(axis=1), scale=False)


def digits() -> Problem:
    """scikit-learn's digits, standardised."""
    X, y = load_digits(return_X_y=True)
    return _split("digits", X, y, scale=True)


def _split(name: str, X, y, scale: bool) -> Problem:
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=0, stratify=y
    )
    if scale:
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    return Problem(name, X_train, y_train, X_test, y_test)


PROBLEMS: dict[str, Callable[[], Problem]] = {
    "dense-200k": dense_200k,
    "sparse-onehot": sparse_onehot,
    "digits": digits,
}


def _sk_softmax():
    return LogisticRegression(C=C, tol=TOL, max_iter=MAX_ITER)


def _ours_softmax(solver):
    return SoftmaxRegression(C=C, tol=TOL, max_iter=MAX_ITER, solver=solver)


def _sk_ovr(n_jobs):
    return OneVsRestClassifier(LogisticRegression(C=C, tol=TOL, max_iter=MAX_ITER), n_jobs=n_jobs)


def _ours_ovr(solver, n_jobs):
    return OneVsRestLogisticRegression(
        C=C, tol=TOL, max_iter=MAX_ITER, solver=solver, n_jobs=n_jobs
    )


SK_SOFTMAX, SK_OVR1, SK_OVR2 = (
    "sklearn multinomial lbfgs",
    "sklearn OvR n_jobs=1",
    "sklearn OvR n_jobs=2",
)
# (label, kind, label of the scikit-learn row it is compared with, factory)
MODELS = [
    (SK_SOFTMAX, "softmax", None, _sk_softmax),
    ("verdict softmax lbfgs", "softmax", SK_SOFTMAX, lambda: _ours_softmax("lbfgs")),
    ("verdict softmax newton-cg", "softmax", SK_SOFTMAX, lambda: _ours_softmax("newton-cg")),
    (SK_OVR1, "ovr", None, lambda: _sk_ovr(None)),
    ("verdict OvR lbfgs n_jobs=1", "ovr", SK_OVR1, lambda: _ours_ovr("lbfgs", None)),
    ("verdict OvR newton-cg n_jobs=1", "ovr", SK_OVR1, lambda: _ours_ovr("newton-cg", None)),
    (SK_OVR2, "ovr", None, lambda: _sk_ovr(2)),
    ("verdict OvR lbfgs n_jobs=2", "ovr", SK_OVR2, lambda: _ours_ovr("lbfgs", 2)),
    ("verdict OvR newton-cg n_jobs=2", "ovr", SK_OVR2, lambda: _ours_ovr("newton-cg", 2)),
]


def _coefficients(model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """coef, intercept and iterations, also from a fitted OneVsRestClassifier."""
    if isinstance(model, OneVsRestClassifier):
        parts = model.estimators_
        coef = np.vstack([e.coef_ for e in parts])
        return (
            coef,
            np.concatenate([e.intercept_ for e in parts]),
            np.array([e.n_iter_[0] for e in parts]),
        )
    return model.coef_, model.intercept_, np.asarray(model.n_iter_)  # fmt: skip


def objective(model, kind: str, problem: Problem) -> float:
    """The training objective: sum of log losses plus ``0.5 / C * ||coef||^2``."""
    coef, intercept, _ = _coefficients(model)
    classes = np.unique(problem.y_train)
    if kind == "softmax":
        codes = np.searchsorted(classes, problem.y_train)
        return penalized_log_loss(coef, intercept, problem.X_train, codes, C=C)
    Y = (problem.y_train[:, None] == classes).astype(float)
    return penalized_log_loss(coef, intercept, problem.X_train, Y, C=C, multinomial=False)


def measure(problem: Problem, repeats: int) -> list[dict]:
    """Fit every model ``repeats`` times, interleaved; one row of medians per model."""
    times: dict[str, list[float]] = {label: [] for label, *_ in MODELS}
    fitted = {}
    for _ in range(repeats):
        for label, _, _, factory in MODELS:
            model = factory()
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(problem.X_train, problem.y_train)
            times[label].append(time.perf_counter() - start)
            fitted[label] = model
    rows = []
    for label, kind, baseline, _ in MODELS:
        model = fitted[label]
        proba = model.predict_proba(problem.X_test)
        rows.append(
            {
                "model": label,
                "baseline": baseline,
                "time": float(np.median(times[label])),
                "n_iter": int(_coefficients(model)[2].max()),
                "objective": objective(model, kind, problem),
                "log_loss": log_loss(problem.y_test, proba, labels=model.classes_),
                "accuracy": accuracy_score(problem.y_test, model.predict(problem.X_test)),
            }
        )
    return rows


def render(problem: Problem, rows: list[dict]) -> str:
    """A markdown table; ratios and objective differences are against the baseline row."""
    by_label = {row["model"]: row for row in rows}
    n, p = problem.X_train.shape
    lines = [
        f"### {problem.name} (train {n} x {p}, test {problem.X_test.shape[0]}, "
        f"{np.unique(problem.y_train).size} classes)",
        "",
        "| model | fit s (median) | ratio | iters | objective | rel. diff | test log loss "
        "| accuracy |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        base = by_label.get(row["baseline"]) if row["baseline"] else None
        ratio = f"{row['time'] / base['time']:.2f}x" if base else "1.00x"
        rel = (row["objective"] - base["objective"]) / base["objective"] if base else 0.0
        lines.append(
            f"| {row['model']} | {row['time']:.3f} | {ratio} | {row['n_iter']} | "
            f"{row['objective']:.6f} | {rel:+.1e} | {row['log_loss']:.5f} | "
            f"{row['accuracy']:.4f} |"
        )
    return "\n".join(lines)


def machine() -> str:
    """Machine facts for the record."""
    cpu = "unknown"
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            cpu = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu
            )
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    return (
        f"nproc {os.cpu_count()}, CPU {cpu}, Python {platform.python_version()}, numpy "
        f"{np.__version__}, scipy {scipy.__version__}, scikit-learn {sklearn.__version__}, "
        f"load average {load[0]:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--problems", nargs="+", choices=list(PROBLEMS), default=list(PROBLEMS))
    parser.add_argument("--blas-threads", type=int, default=None)
    args = parser.parse_args()
    print(machine(), f"repeats {args.repeats}, BLAS threads {args.blas_threads or 'default'}")
    for name in args.problems:
        problem = PROBLEMS[name]()
        with threadpool_limits(limits=args.blas_threads, user_api="blas"):
            rows = measure(problem, args.repeats)
        print()
        print(render(problem, rows), flush=True)
    print()
    print("after:", machine())


if __name__ == "__main__":
    main()
