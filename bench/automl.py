"""``verdict train`` against FLAML's AutoML: same data, same split, same time budget.

For palmerpenguins and scikit-learn's wine, digits and breast_cancer: one stratified 80/20
split (seed 0); verdict's ``train`` gets the training part and the test part as ``test_data``
(so it never splits again), FLAML's ``AutoML.fit`` gets the same training part; both get the
same wall-clock budget and their default metric. Held-out macro-F1, accuracy and log loss are
computed by verdict.metrics on the same test rows for both.

Needs the ``bench`` extra (``pip install -e '.[bench]'``, which brings FLAML, LightGBM and
XGBoost). Not part of ``make test``.

    python bench/automl.py --budget 60
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.model_selection import train_test_split

from verdict.metrics import accuracy_score, f1_score, log_loss


def datasets() -> dict[str, tuple[pd.DataFrame, str]]:
    from palmerpenguins import load_penguins

    out = {"penguins": (load_penguins(), "species")}
    for name, loader in [
        ("wine", load_wine),
        ("digits", load_digits),
        ("breast_cancer", load_breast_cancer),
    ]:
        frame = loader(as_frame=True).frame
        out[name] = (frame, "target")
    return out


def split(frame: pd.DataFrame, target: str, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = frame.dropna(subset=[target]).reset_index(drop=True)
    return train_test_split(frame, test_size=0.2, stratify=frame[target], random_state=seed)


def scores(y_true, y_pred, proba, classes) -> dict[str, float]:
    return {
        "macro_f1": f1_score(y_true, y_pred, average="macro"),
        "accuracy": accuracy_score(y_true, y_pred),
        "log_loss": log_loss(y_true, proba, labels=list(classes)),
    }


def run_verdict(
    train: pd.DataFrame, test: pd.DataFrame, target: str, budget: float, seed: int
) -> dict:
    from verdict.pipeline import train as verdict_train

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        run = verdict_train(
            train, target, test_data=test, time_budget=budget, seed=seed, out=out, quiet=True
        )
        elapsed = time.perf_counter() - start
        features = test.drop(columns=[target])
        proba = run.model.predict_proba(features)
        pred = run.model.predict(features)
        classes = run.model.classes_
        best = run.info["best"]
    return {"seconds": elapsed, "model": best, **scores(test[target], pred, proba, classes)}


def run_flaml(
    train: pd.DataFrame, test: pd.DataFrame, target: str, budget: float, seed: int
) -> dict:
    from flaml import AutoML

    automl = AutoML()
    start = time.perf_counter()
    automl.fit(
        X_train=train.drop(columns=[target]),
        y_train=train[target],
        task="classification",
        time_budget=budget,
        seed=seed,
        verbose=0,
        n_jobs=os.cpu_count(),
    )
    elapsed = time.perf_counter() - start
    features = test.drop(columns=[target])
    proba = automl.predict_proba(features)
    pred = automl.predict(features)
    classes = automl.classes_
    return {
        "seconds": elapsed,
        "model": automl.best_estimator,
        **scores(test[target], pred, proba, classes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--datasets", nargs="+", default=None)
    parser.add_argument("--json", help="Write the figures to this file.")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import flaml
    import sklearn

    machine = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "flaml": flaml.__version__,
    }
    print("machine:", machine, f"budget {args.budget:.0f} s")
    rows = []
    for name, (frame, target) in datasets().items():
        if args.datasets and name not in args.datasets:
            continue
        train, test = split(frame, target, args.seed)
        for tool, fn in (("verdict", run_verdict), ("flaml", run_flaml)):
            result = fn(train, test, target, args.budget, args.seed)
            rows.append({"dataset": name, "tool": tool, **result})
            print(
                f"{name:<14} {tool:<8} macro-F1 {result['macro_f1']:.4f}  accuracy "
                f"{result['accuracy']:.4f}  log loss {result['log_loss']:.4f}  "
                f"{result['seconds']:6.1f} s  ({result['model']})",
                flush=True,
            )
    table = pd.DataFrame(rows)
    wide = table.pivot(index="dataset", columns="tool", values="macro_f1")
    wide["difference"] = wide["verdict"] - wide["flaml"]
    print("\nheld-out macro-F1\n" + wide.to_string(float_format=lambda v: f"{v:.4f}"))
    print(
        f"mean: verdict {wide['verdict'].mean():.4f}, flaml {wide['flaml'].mean():.4f}; "
        f"worst difference {wide['difference'].min():+.4f}"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {"machine": machine, "budget": args.budget, "rows": rows},
                f,
                indent=2,
                default=float,
            )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
