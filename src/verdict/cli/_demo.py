"""``verdict demo``: the story so far, end to end on the bundled palmerpenguins data.

Asks which metric fits the problem (``verdict advise``), fits our own softmax regression on
two penguin measurements (so that it makes some mistakes worth measuring), writes its held-out
predictions to a CSV file and evaluates that file with intervals through the same code path as
``verdict evaluate``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.rule import Rule

from verdict.cli._advise import advise
from verdict.cli._evaluate import evaluate
from verdict.cli._output import console

FEATURES = ["bill_depth_mm", "flipper_length_mm"]
TARGET = "species"


def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for the demo's files.")] = Path(
        ".verdict/demo"
    ),
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the split.")] = 0,
) -> None:
    """Run the end-to-end demo on the bundled palmerpenguins data."""
    console.print(Rule("verdict demo: palmerpenguins species"))
    predictions = out / "predictions.csv"
    training = _write_predictions(predictions, seed)
    console.print(f"1. Which metric fits? verdict advise {training} --target {TARGET}")
    advise(training, target=TARGET)
    console.print(
        f"2. Fitted verdict's SoftmaxRegression on {FEATURES}; held-out predictions in "
        f"{predictions}.\n"
        f"Evaluating: verdict evaluate {predictions} --true {TARGET} --pred predicted "
        f"--proba-prefix proba_ --ci --seed {seed}\n"
        "(each metric with its 95% bootstrap confidence interval: how sure we are)"
    )
    evaluate(predictions, true=TARGET, pred="predicted", proba_prefix="proba_", ci=True, seed=seed)
    console.print(Rule("next"))
    console.print(
        f"Try: verdict evaluate {predictions} --true {TARGET} --pred predicted "
        "--proba-prefix proba_ --json"
    )


def _write_predictions(path: Path, seed: int) -> Path:
    """Write the training rows and the held-out predictions; return the training file."""
    from palmerpenguins import load_penguins
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    table = load_penguins().dropna(subset=[*FEATURES, TARGET])
    train, test = train_test_split(table, test_size=0.4, stratify=table[TARGET], random_state=seed)
    from verdict.models import SoftmaxRegression

    model = make_pipeline(StandardScaler(), SoftmaxRegression())
    model.fit(train[FEATURES], train[TARGET])
    proba = model.predict_proba(test[FEATURES])
    result = pd.DataFrame(
        {TARGET: test[TARGET].to_numpy(), "predicted": model.predict(test[FEATURES])}
    )
    for k, label in enumerate(model.classes_):
        result[f"proba_{label}"] = proba[:, k]
    path.parent.mkdir(parents=True, exist_ok=True)
    result.to_csv(path, index=False)
    training = path.with_name("train.csv")
    train.to_csv(training, index=False)
    return training
