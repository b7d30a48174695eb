"""Build realistic run directories for the report tests, as ``verdict.pipeline.train`` would.

A quick scikit-learn pipeline is fitted on a real table and every ``run.json`` entry is made by
the real verdict function named in the run contract (``evaluate(..., ci=True).to_dict()``,
``recommend_metrics``, ``infer_schema``/``check_table``, ``profile_table``, the paired tests).
Nothing here depends on ``verdict.pipeline``, so the report is tested on its own.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.dummy import DummyClassifier
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import make_scorer
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

import verdict
from verdict._results import plain
from verdict.data import check_table, profile_table
from verdict.metrics import (
    CostSensitiveDecision,
    delong_roc_test,
    evaluate,
    optimal_threshold,
    paired_bootstrap_ci,
    recommend_metrics,
)

RESAMPLES = 200
SEED = 0
COSTS = {
    "binary": {"fp": 1.0, "fn": 5.0},
    "multiclass": [[0.0, 1.0, 1.0], [4.0, 0.0, 1.0], [1.0, 2.0, 0.0]],
    "wine": [[0.0, 1.0, 1.0], [3.0, 0.0, 1.0], [1.0, 1.0, 0.0]],
}


def table(kind: str) -> tuple[pd.DataFrame, str]:
    """A table and its target: penguins (strings, missing values, categoricals), breast
    cancer (binary, string labels), wine (integer labels)."""
    if kind == "multiclass":
        from palmerpenguins import load_penguins

        frame = load_penguins().drop(columns=["bill_length_mm"])  # leaves some mistakes
        return frame, "species"
    if kind == "binary":
        data = load_breast_cancer(as_frame=True)
        frame = data.frame.iloc[:, [0, 1, 4, 8, 9, 30]].copy()
        frame["target"] = np.where(frame["target"] == 0, "malignant", "benign")
        return frame, "target"
    frame = load_wine(as_frame=True).frame.iloc[:, [1, 2, 4, 7, 13]]
    return frame, "target"


def _preprocess(schema: Any) -> ColumnTransformer:
    categorical = [*schema.categorical, *schema.boolean]
    return ColumnTransformer(
        [
            (
                "num",
                make_pipeline(SimpleImputer(add_indicator=True), StandardScaler()),
                list(schema.numeric),
            ),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
                ),
                categorical,
            ),
        ]
    )


FAMILIES = {
    "softmax": lambda: LogisticRegression(C=0.3, max_iter=500),
    "decision_tree": lambda: DecisionTreeClassifier(max_depth=3, random_state=SEED),
}


def build_run(
    run_dir: Path,
    kind: str,
    *,
    decision: bool = True,
    importance: bool = True,
    shap: bool = False,
    sensitive: tuple[str, ...] = (),
) -> Path:
    """Write run.json and test_predictions.parquet for ``kind`` into ``run_dir``."""
    start = time.perf_counter()
    frame, target = table(kind)
    report = check_table(frame, target, cv=3, test_size=0.25, sensitive=sensitive, warn=False)
    schema = report.schema
    clean = report.clean(frame)
    X, y = clean[list(schema.features)], clean[target].to_numpy()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=SEED
    )
    classes = sorted(np.unique(y).tolist())
    costs = COSTS[kind] if decision else None
    advice = recommend_metrics(y_train, costs=costs)
    candidates, models = _search(schema, X_train, y_train, _scorer(advice.primary, costs, classes))
    best, runner = candidates[0]["family"], candidates[1]["family"]
    model = models[best]
    proba = model.predict_proba(X_test)
    decision_info, y_pred = _decide(kind, costs, models[best], X_train, y_train, proba, classes)
    run_dir.mkdir(parents=True, exist_ok=True)
    _write_predictions(run_dir, y_test, y_pred, proba, classes)
    test = evaluate(
        y_test, y_pred, proba, labels=classes, ci=True, n_resamples=RESAMPLES, random_state=SEED
    )
    info = {
        "verdict_version": verdict.__version__,
        "created": "2026-05-01T12:00:00+00:00",
        "data": {
            "source": f"{kind}.csv",
            "target": target,
            "classes": classes,
            "n_rows": len(frame),
            "n_train": len(X_train),
            "n_test": len(X_test),
            "fingerprint": hashlib.sha256(frame.to_csv().encode()).hexdigest(),
        },
        "schema": schema.to_dict(),
        "data_report": report.to_dict(),
        "profile": profile_table(frame, target, schema).to_dict(),
        "advice": advice.to_dict(),
        "primary_metric": advice.primary,
        "candidates": candidates,
        "best": best,
        "runner_up": runner,
        "test": test.to_dict(),
        "comparisons": _comparisons(
            kind, y_test, y_pred, proba, models, best, runner, X_train, y_train, X_test, classes
        ),
        "decision": decision_info,
        "importance": _importance(model, X_test, y_test) if importance else [],
        "shap": None,
        "lineage": {
            "seed": SEED,
            "python": platform.python_version(),
            "packages": {"numpy": np.__version__, "scikit-learn": sklearn.__version__},
            "params": {
                "target": target,
                "metric": "auto",
                "costs": costs,
                "models": None,
                "time_budget": 60.0,
                "test_size": 0.25,
                "cv": 3,
                "seed": SEED,
            },
        },
        "time_budget": 60.0,
        "elapsed_seconds": time.perf_counter() - start,
    }
    if shap:
        info["shap"] = {r["feature"]: abs(r["mean"]) * 3 for r in info["importance"]}
    (run_dir / "run.json").write_text(json.dumps(plain(info), indent=2), encoding="utf-8")
    return run_dir


def _scorer(primary: str, costs: Any, classes: list) -> tuple[Any, int]:
    """A scikit-learn scorer of the primary metric, and +1 (higher is better) or -1."""
    if primary == "expected_cost":
        matrix = np.asarray(
            [[0, costs["fp"]], [costs["fn"], 0]] if isinstance(costs, dict) else costs
        )

        def cost(y_true: np.ndarray, y_pred: np.ndarray) -> float:
            codes = np.searchsorted(classes, y_true), np.searchsorted(classes, y_pred)
            return float(matrix[codes].mean())

        return make_scorer(cost), -1
    return (primary if primary in ("accuracy", "f1_macro", "balanced_accuracy") else "f1_macro"), 1


def _search(
    schema: Any, X: pd.DataFrame, y: np.ndarray, scoring: tuple[Any, int]
) -> tuple[list[dict], dict]:
    folds = StratifiedKFold(3, shuffle=True, random_state=SEED)
    candidates, models = [], {}
    for family, make in FAMILIES.items():
        model = Pipeline([("prep", _preprocess(schema)), ("clf", make())])
        scores = cross_val_score(model, X, y, cv=folds, scoring=scoring[0])
        models[family] = model.fit(X, y)
        candidates.append(
            {
                "family": family,
                "params": {k: v for k, v in make().get_params().items() if k in ("C", "max_depth")},
                "cv_mean": float(scores.mean()),
                "cv_std": float(scores.std()),
                "cv_scores": scores.tolist(),
                "fit_seconds": 0.05,
                "n_configs": 4,
            }
        )
    candidates.sort(key=lambda c: -scoring[1] * c["cv_mean"])
    return candidates, models


def _decide(
    kind: str,
    costs: Any,
    model: Any,
    X: pd.DataFrame,
    y: np.ndarray,
    proba: np.ndarray,
    classes: list,
) -> tuple[dict | None, np.ndarray]:
    """The decision chosen on validation rows, and the test predictions it gives."""
    if costs is None:
        return None, np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    X_fit, X_val, y_fit, y_val = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=SEED
    )
    p_val = sklearn.base.clone(model).fit(X_fit, y_fit).predict_proba(X_val)
    if kind == "binary":
        choice = optimal_threshold(
            y_val,
            p_val[:, 1],
            objective="cost",
            cost_fp=costs["fp"],
            cost_fn=costs["fn"],
            pos_label=classes[1],
        )
        pred = np.where(proba[:, 1] >= choice.threshold, classes[1], classes[0])
        return {"kind": "threshold", **choice.to_dict()}, pred
    rule = CostSensitiveDecision(costs, labels=classes).fit(y_val, p_val)
    return {"kind": "cost", **rule.evaluate(y_val, p_val).to_dict()}, rule.predict(proba)


def _write_predictions(
    run_dir: Path, y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray, classes: list
) -> None:
    frame = pd.DataFrame({"y_true": y_true, "y_pred": np.asarray(y_pred).astype(y_true.dtype)})
    for k, label in enumerate(classes):
        frame[f"proba_{label}"] = proba[:, k]
    frame.to_parquet(run_dir / "test_predictions.parquet", index=False)


def _comparisons(
    kind: str,
    y_test: np.ndarray,
    y_pred: np.ndarray,
    proba: np.ndarray,
    models: dict,
    best: str,
    runner: str,
    X_train: Any,
    y_train: Any,
    X_test: Any,
    classes: list,
) -> list[dict]:
    metric = "f1_macro"
    base = DummyClassifier(strategy="most_frequent").fit(X_train, y_train).predict(X_test)
    paired = paired_bootstrap_ci(
        metric, y_test, y_pred, base, labels=classes, n_resamples=RESAMPLES, random_state=SEED
    )
    out = [
        _record(
            best,
            "baseline",
            "majority_class",
            metric,
            paired.estimate_a,
            paired.estimate_b,
            paired,
            _p(paired),
            "paired_bootstrap",
        )
    ]
    other = models[runner].predict_proba(X_test)
    scores = (proba[:, 1], other[:, 1]) if kind == "binary" else (proba, other)
    auc = delong_roc_test(
        y_test, *scores, **({"pos_label": classes[1]} if kind == "binary" else {"labels": classes})
    )
    out.append(
        _record(
            best, "runner_up", runner, "roc_auc", auc.auc_a, auc.auc_b, auc, auc.p_value, "delong"
        )
    )
    return out


def _p(paired: Any) -> float:
    return float(min(1.0, 2 * min(paired.share_a_higher, paired.share_b_higher) + 1 / RESAMPLES))


def _record(
    model: str,
    against: str,
    name: str,
    metric: str,
    a: float,
    b: float,
    diff: Any,
    p: float,
    test: str,
) -> dict:
    return {
        "model": model,
        "against": against,
        "against_model": name,
        "metric": metric,
        "estimate_model": float(a),
        "estimate_against": float(b),
        "difference": float(diff.difference),
        "low": float(diff.low),
        "high": float(diff.high),
        "p_value": float(p),
        "test": test,
    }


def _importance(model: Any, X: pd.DataFrame, y: np.ndarray) -> list[dict]:
    found = permutation_importance(model, X, y, scoring="f1_macro", n_repeats=4, random_state=SEED)
    rows = [
        {"feature": name, "mean": float(m), "std": float(s)}
        for name, m, s in zip(X.columns, found.importances_mean, found.importances_std, strict=True)
    ]
    return sorted(rows, key=lambda r: -r["mean"])
