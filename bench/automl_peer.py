"""One AutoML fit for ``bench/automl.py``, run in the tool's own interpreter and process.

    python bench/automl_peer.py TOOL --train T.parquet --test T.parquet --target COL \\
        --budget SECONDS --seed N --result OUT.json

TOOL is ``verdict``, ``autogluon`` or ``flaml``. The script reads the split that the parent
wrote, times only the fit call, predicts the test rows, and writes a JSON with the seconds,
the chosen model, the tool's version, the predicted labels (as strings) and the predicted
probabilities with their class order (as strings). It scores nothing: the parent scores every
tool with the same code. It imports only numpy, pandas, scikit-learn and the tool, because it
runs under the verdict, AutoGluon and FLAML environments alike.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def fit_verdict(
    train: pd.DataFrame, test: pd.DataFrame, target: str, budget: float, seed: int, work: Path
) -> dict[str, Any]:
    import verdict
    from verdict.pipeline import train as verdict_train

    start = time.perf_counter()
    run = verdict_train(
        train,
        target,
        test_data=test,
        time_budget=budget,
        seed=seed,
        out=work / "run",
        quiet=True,
    )
    seconds = time.perf_counter() - start
    features = test.drop(columns=[target])
    extra = {key: run.info[key] for key in ("search_mode", "ensemble") if key in run.info}
    extra["decision"] = (run.info.get("decision") or {}).get("kind", "argmax")
    return {
        "version": verdict.__version__,
        "seconds": seconds,
        "model": str(run.info["best"]),
        "pred": run.predict(features),  # the served class (the run's decision policy)
        "proba": run.model.predict_proba(features),
        "classes": run.model.classes_,
        "extra": extra,
    }


def fit_autogluon(
    train: pd.DataFrame, test: pd.DataFrame, target: str, budget: float, seed: int, work: Path
) -> dict[str, Any]:
    import autogluon.tabular
    from autogluon.tabular import TabularPredictor

    predictor = TabularPredictor(label=target, path=str(work / "ag"), verbosity=0)
    start = time.perf_counter()
    predictor.fit(train, time_limit=budget)
    seconds = time.perf_counter() - start
    features = test.drop(columns=[target])
    proba = predictor.predict_proba(features)
    try:
        model = predictor.model_best
    except Exception:  # older or newer API: the leaderboard's top row
        model = predictor.leaderboard(silent=True)["model"].iloc[0]
    return {
        "version": autogluon.tabular.__version__,
        "seconds": seconds,
        "model": str(model),
        "pred": predictor.predict(features),
        "proba": proba.to_numpy(),
        "classes": list(proba.columns),
        "extra": {"problem_type": predictor.problem_type},
    }


def fit_flaml(
    train: pd.DataFrame, test: pd.DataFrame, target: str, budget: float, seed: int, work: Path
) -> dict[str, Any]:
    import flaml
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
        n_jobs=-1,
        log_file_name=str(work / "flaml.log"),
    )
    seconds = time.perf_counter() - start
    features = test.drop(columns=[target])
    return {
        "version": flaml.__version__,
        "seconds": seconds,
        "model": str(automl.best_estimator),
        "pred": automl.predict(features),
        "proba": automl.predict_proba(features),
        "classes": automl.classes_,
        "extra": {"best_config": automl.best_config},
    }


FITS = {"verdict": fit_verdict, "autogluon": fit_autogluon, "flaml": fit_flaml}


def strings(values: Any) -> list[str]:
    return [str(v) for v in np.asarray(values, dtype=object).ravel()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tool", choices=sorted(FITS))
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--budget", type=float, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--result", required=True)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    train = pd.read_parquet(args.train)
    test = pd.read_parquet(args.test)
    with tempfile.TemporaryDirectory(prefix=f"automl-{args.tool}-") as work:
        fitted = FITS[args.tool](train, test, args.target, args.budget, args.seed, Path(work))
    proba = np.asarray(fitted["proba"], dtype=float)
    result = {
        "tool": args.tool,
        "version": str(fitted["version"]),
        "seconds": fitted["seconds"],
        "model": fitted["model"],
        "extra": fitted["extra"],
        "classes": strings(fitted["classes"]),
        "pred": strings(fitted["pred"]),
        "proba": proba.tolist(),
    }
    Path(args.result).write_text(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
