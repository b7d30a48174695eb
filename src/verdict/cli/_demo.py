"""``verdict demo``: the story so far, end to end on the bundled palmerpenguins data.

1. ``verdict advise``: which metric fits the problem, from the class balance.
2. ``verdict train``: validate and profile the table, search the model families under a time
   budget with cross-validation, evaluate the winner once on held-out rows with intervals,
   compare it with the runner-up and a majority baseline, explain it, and write the report.
3. ``verdict evaluate --ci`` on the run's held-out predictions, as a user would on their own.
4. ``--register penguins --alias production``: the model goes into the registry (SQLite and a
   content-addressed artifact store under ``.verdict/``), then ``verdict models show`` and a
   batch ``verdict predict penguins@production``.
5. ``verdict serve``: the registered model behind the prediction service; a request without an
   API key is refused, a few with one are answered, their true labels fed back.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.rule import Rule

from verdict.cli._advise import advise
from verdict.cli._demo_serve import serve_and_ask
from verdict.cli._evaluate import evaluate
from verdict.cli._models import show
from verdict.cli._output import console
from verdict.cli._predict import predict
from verdict.cli._train import train

TARGET = "species"
MODEL_NAME = "penguins"


def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for the demo's files.")] = Path(
        ".verdict/demo"
    ),
    seed: Annotated[int, typer.Option("--seed", help="Seed of every random step.")] = 0,
    time_budget: Annotated[
        float, typer.Option("--time-budget", help="Seconds for the model search.")
    ] = 30.0,
) -> None:
    """Run the end-to-end demo on the bundled palmerpenguins data."""
    console.print(Rule("verdict demo: which penguin species is this?"))
    table_path = _write_table(out)
    console.print(
        f"\n[bold]1. Which metric fits?[/]  verdict advise {table_path} --target {TARGET}"
    )
    advise(table_path, target=TARGET)
    run_dir = _fresh_run_dir(out / "run")
    console.print(
        f"\n[bold]2. Train, select, evaluate, explain, report[/]  verdict train {table_path} "
        f"--target {TARGET} --time-budget {time_budget:g} --seed {seed} --out {run_dir} "
        f"--register {MODEL_NAME} --alias production"
    )
    train(
        table_path, target=TARGET, time_budget=time_budget, seed=seed, out=run_dir,
        register=MODEL_NAME, alias="production",
    )  # fmt: skip
    predictions = _predictions_csv(run_dir)
    console.print(
        f"\n[bold]3. Evaluate held-out predictions with intervals[/]  verdict evaluate "
        f"{predictions} --true y_true --pred y_pred --proba-prefix proba_ --ci --seed {seed}"
    )
    evaluate(predictions, true="y_true", pred="y_pred", proba_prefix="proba_", ci=True, seed=seed)
    ref = f"{MODEL_NAME}@production"
    console.print(f"\n[bold]4. The registry: what is in production[/]  verdict models show {ref}")
    show(ref)
    scored = out / "scored.csv"
    console.print(
        f"\n[bold]5. Batch scoring, checked against the schema[/]  verdict predict {ref} "
        f"{table_path} -o {scored}"
    )
    predict(ref, table_path, out=scored, quiet=True)
    console.print(pd.read_csv(scored).head(3).to_string(index=False), highlight=False)
    console.print(
        f"\n[bold]6. Serve it: API keys, predictions, feedback[/]  verdict keys create demo; "
        f"verdict serve --model {ref}"
    )
    sample = pd.read_csv(table_path).dropna().sample(3, random_state=seed)
    truth = sample.pop(TARGET).tolist()
    rows = json.loads(sample.to_json(orient="records"))
    serve_and_ask(ref, rows, truth)
    console.print(Rule("next"))
    console.print(
        f"Report: {run_dir / 'report.html'}  (model card: {run_dir / 'model_card.md'})\n"
        f"Try: verdict train YOUR.csv --target COLUMN   |   verdict report {run_dir}   |   "
        f"verdict evaluate {predictions} --true y_true --pred y_pred --json\n"
        f"     verdict models list {MODEL_NAME}   |   verdict export {ref} --format onnx   |   "
        f"verdict serve --model {ref}"
    )


def _write_table(out: Path) -> Path:
    """The bundled palmerpenguins table as a CSV file, as a user would bring their own."""
    from palmerpenguins import load_penguins

    out.mkdir(parents=True, exist_ok=True)
    path = out / "penguins.csv"
    load_penguins().to_csv(path, index=False)
    return path


def _fresh_run_dir(path: Path) -> Path:
    """The demo owns this folder: replace the previous demo run (train refuses to overwrite)."""
    if path.exists() and (path / "run.json").is_file():
        shutil.rmtree(path)
    return path


def _predictions_csv(run_dir: Path) -> Path:
    path = run_dir / "test_predictions.csv"
    pd.read_parquet(run_dir / "test_predictions.parquet").to_csv(path, index=False)
    return path
