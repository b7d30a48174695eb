"""What-if for the final model: how other ways of choosing it score on the automl tables.

    python bench/automl_rules.py --budget 30 [--tables womenlf chile ...] [--reuse]

For each table of bench/automl.py (its stored split), this runs ``verdict.pipeline.train`` as the
benchmark does, keeps what the search left for the final choice (every kept config's out-of-fold
probabilities, the prior's), refits each kept config on all training rows and predicts the test
rows. Then it replays ways of choosing the final model on those out-of-fold probabilities alone
and scores each on the held-out rows, beside the peers' stored results at the same budget:

- served: the model ``train`` built and the class it serves (what bench/automl.py measures);
- primary: greedy ensemble selection on the primary metric (ties within half a binomial
  standard error settled by log loss), then the temperature; no prior guard;
- log_loss: the same selection on log loss, then the temperature;
- log_loss+weights: the log-loss blend, with per-class weights on its probabilities chosen on
  the out-of-fold rows to maximise the primary metric (the class predicted is argmax(p * w));
- log_loss+decision: the log-loss blend with the weights ``train`` now tunes
  (``verdict.pipeline._decision.tune_class_weights``: no fewer out-of-fold rows right, a gain
  beyond noise that holds on held-out halves), which is what ``served`` is from 528e52d on.

It is the evidence for the trade between macro-F1 and accuracy in bench/RESULTS.md, and it
reaches into verdict's private modules on purpose: it measures their choices, it does not ship.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import verdict.pipeline._search as _search  # noqa: E402
import verdict.pipeline._train as _train  # noqa: E402
from automl import OUT, TABLES, result_path  # noqa: E402
from verdict.metrics import accuracy_score, f1_score  # noqa: E402
from verdict.models import scale_probabilities  # noqa: E402
from verdict.pipeline._calibrate import choose_calibration, log_loss_of  # noqa: E402
from verdict.pipeline._decision import tune_class_weights  # noqa: E402
from verdict.pipeline._ensemble import select_ensemble  # noqa: E402
from verdict.pipeline._final import Member, noise_band  # noqa: E402
from verdict.pipeline._scoring import label_score, proba_score  # noqa: E402

WEIGHT_GRID = np.exp(np.linspace(-1.5, 1.5, 31))


def peer_scores(budget: float, table: str) -> dict[str, tuple[float, float, float]]:
    """The peers' stored (macro-F1, accuracy, log loss) from bench/automl.py at ``budget``."""
    out = {}
    for tool in ("autogluon", "flaml"):
        record = json.loads(result_path(OUT, budget, tool, table).read_text())
        out[tool] = (record["macro_f1"], record["accuracy"], record["log_loss"])
    return out


def capture(name: str, target: str, budget: float) -> dict[str, Any]:
    """Train as the benchmark does; keep the library, and each kept config's test probabilities."""
    seen: dict[str, Any] = {}
    search, choose = _train.search, _search.choose_final

    def spy_search(X, y, *args, **kwargs):
        seen["X"], seen["y"] = X, y
        seen["result"] = search(X, y, *args, **kwargs)
        return seen["result"]

    def spy_choose(library, prior, y_index, score, **kwargs):
        seen.update(library=library, prior=prior, y_index=y_index)
        return choose(library, prior, y_index, score, **kwargs)

    train = pd.read_parquet(OUT / "data" / name / "train.parquet")
    test = pd.read_parquet(OUT / "data" / name / "test.parquet")
    _train.search, _search.choose_final = spy_search, spy_choose
    try:
        with tempfile.TemporaryDirectory() as work:
            run = _train.train(
                train, target, test_data=test, time_budget=budget, seed=0,
                out=Path(work) / "run", quiet=True,
            )  # fmt: skip
    finally:
        _train.search, _search.choose_final = search, choose
    result, library = seen["result"], seen["library"]
    classes = np.unique(seen["y"])
    features = test[seen["X"].columns]
    test_proba = {}
    for i in library.members():
        trial = library.trials[i]
        model = result._member(Member(trial.family, dict(trial.params), 1))
        test_proba[i] = model.fit(seen["X"], seen["y"]).predict_proba(features)
    counts = np.bincount(np.searchsorted(classes, seen["y"]), minlength=len(classes))
    return {
        "table": name, "metric": result.metric, "k": len(classes), "tie": library.tie,
        "y_index": seen["y_index"], "prior": seen["prior"], "members": library.members(),
        "oof": {i: library.oof[i] for i in library.members()},
        "cv_means": {i: library.trials[i].cv_mean for i in library.members()},
        "test_proba": test_proba, "prior_test": counts / counts.sum(),
        "y_test": np.searchsorted(classes, test[target].astype(str).to_numpy()),
        "served": run.model.predict_proba(test.drop(columns=[target])),
        "served_labels": np.searchsorted(classes, np.asarray(run.predict(features)).astype(str)),
    }  # fmt: skip


def _arrays(d: dict[str, Any], oof: bool) -> list[np.ndarray]:
    if oof:
        return [d["oof"][i] for i in d["members"]] + [d["prior"]]
    prior = np.tile(d["prior_test"], (len(d["y_test"]), 1))
    return [d["test_proba"][i] for i in d["members"]] + [prior]


def _blend(d: dict[str, Any], objective: str) -> tuple[np.ndarray, np.ndarray]:
    """(out-of-fold, test) probabilities of the greedy blend on ``objective``, tempered."""
    if objective == "log_loss":
        score, higher, tie = (lambda y, p: log_loss_of(p, y)), False, 0.0
    else:
        score, higher = proba_score(d["metric"], d["k"]), True  # macro-F1, MCC or accuracy
        tie = noise_band(max(d["cv_means"].values()), higher, d["tie"], len(d["y_index"]))
    picked = select_ensemble(_arrays(d, True), d["y_index"], score, higher=higher, tie=tie)
    temperature = choose_calibration(picked.oof, d["y_index"], 0).temperature
    weights = np.asarray(picked.weights, dtype=float)
    test = sum(w * a for w, a in zip(weights, _arrays(d, False), strict=True) if w) / weights.sum()
    oof = np.stack([scale_probabilities(p, temperature) for p in picked.oof])
    return oof, scale_probabilities(test, temperature)


def _class_weights(oof: np.ndarray, y_index: np.ndarray, k: int, metric: str) -> np.ndarray:
    """Per-class weights maximising the primary metric of argmax(p * w), by coordinate search."""
    score = proba_score(metric, k)
    proba, labels = oof.reshape(-1, k), np.tile(y_index, oof.shape[0])
    weights = np.ones(k)
    best = score(labels, np.eye(k)[proba.argmax(1)])
    for _ in range(3):
        for c in range(k):
            for g in WEIGHT_GRID:
                trial = weights.copy()
                trial[c] = g
                value = score(labels, np.eye(k)[(proba * trial).argmax(1)])
                if value > best + 1e-12:
                    best, weights = value, trial
    return weights


def rules() -> dict[str, Callable[[dict[str, Any]], tuple[np.ndarray, np.ndarray]]]:
    """name -> (test probabilities, predicted class codes)."""

    def served(d):  # captures before 528e52d hold no served labels: argmax was the decision
        return d["served"], d.get("served_labels", d["served"].argmax(1))

    def primary(d):
        proba = _blend(d, "primary")[1]
        return proba, proba.argmax(1)

    def log_loss(d):
        proba = _blend(d, "log_loss")[1]
        return proba, proba.argmax(1)

    def weighted(d):
        oof, proba = _blend(d, "log_loss")
        weights = _class_weights(oof, d["y_index"], d["k"], d["metric"])
        return proba, (proba * weights).argmax(1)

    def decision(d):
        oof, proba = _blend(d, "log_loss")
        score, k = proba_score(d["metric"], d["k"]), d["k"]
        plain = score(np.tile(d["y_index"], oof.shape[0]), oof.reshape(-1, k))
        band = noise_band(plain, True, d["tie"], len(d["y_index"]))
        decide = label_score(d["metric"], k)
        weights = tune_class_weights(oof, d["y_index"], decide, band=band)
        return proba, (proba * np.asarray(weights or np.ones(k))).argmax(1)

    return {
        "served": served, "primary": primary, "log_loss": log_loss,
        "log_loss+weights": weighted, "log_loss+decision": decision,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=30.0)
    parser.add_argument("--tables", nargs="+", default=None)
    parser.add_argument("--reuse", action="store_true", help="Reuse captures already stored.")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    store = OUT / "rules" / f"{args.budget:g}s"
    store.mkdir(parents=True, exist_ok=True)
    data = []
    for table in TABLES:
        if args.tables and table.name not in args.tables:
            continue
        path = store / f"{table.name}.pkl"
        if not (args.reuse and path.exists()):
            start = time.perf_counter()
            path.write_bytes(pickle.dumps(capture(table.name, table.target, args.budget)))
            print(f"captured {table.name} in {time.perf_counter() - start:.1f} s", flush=True)
        data.append(pickle.loads(path.read_bytes()))  # our own file, written just above
    peers = {d["table"]: peer_scores(args.budget, d["table"]) for d in data}
    print("\n| rule | macro-F1 | accuracy | log loss | > 0.02 macro-F1 behind the best peer |")
    print("|---|---|---|---|---|")
    for tool in ("autogluon", "flaml"):
        means = np.mean([peers[d["table"]][tool] for d in data], axis=0)
        print(f"| {tool} | {means[0]:.3f} | {means[1]:.3f} | {means[2]:.3f} | |")
    for name, rule in rules().items():
        rows = []
        for d in data:
            proba, pred = rule(d)
            y, labels = d["y_test"], list(range(d["k"]))
            rows.append(
                (
                    f1_score(y, pred, average="macro", labels=labels, zero_division=0),
                    accuracy_score(y, pred),
                    log_loss_of(proba, y),
                )
            )
        means = np.mean(rows, axis=0)
        behind = [
            d["table"]
            for d, row in zip(data, rows, strict=True)
            if row[0] < max(p[0] for p in peers[d["table"]].values()) - 0.02
        ]
        print(
            f"| {name} | {means[0]:.3f} | {means[1]:.3f} | {means[2]:.3f} | "
            f"{', '.join(behind) or '-'} |"
        )


if __name__ == "__main__":
    main()
