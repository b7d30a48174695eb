"""``run_demo``: the whole story on the bundled palmerpenguins data, in a few minutes.

Steps as printed: (1) ``verdict advise`` picks the metric; (2) ``verdict train --register``
searches the families, evaluates the winner once with intervals, writes the report and registers
it as production; (3) ``verdict evaluate --ci``; (4) ``verdict models show``; (5) a batch
``verdict predict``; (6) ``verdict deploy plan`` for three clouds; (7) ``deploy up --local``
behind HAProxy; (8) one cloud killed mid-stream, no request failed, EU requests kept in the
EU; (9) drifted traffic and ``verdict monitor``'s alarm; (10) labels fed back and ``verdict
retrain``'s decision; (11) ``verdict deploy down``, nothing left running.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.rule import Rule

from verdict.demo._cloud import cloud_story
from verdict.demo._commands import DemoCommands
from verdict.demo._setup import (
    MODEL_NAME,
    TARGET,
    fresh_run_dir,
    predictions_csv,
    write_table,
)


def run_demo(
    out: Path,
    *,
    seed: int = 0,
    time_budget: float = 30.0,
    console: Console,
    commands: DemoCommands,
) -> None:
    """Run the end-to-end demo, printing its story on ``console``.

    Parameters
    ----------
    out : Path
        Folder for the demo's files (created): the table, the run, the deploy spec.
    seed : int, default 0
        Seed of every random step.
    time_budget : float, default 30.0
        Seconds for the model search (step 2).
    console : rich.console.Console
        Where the story is told (the commands print on their own console).
    commands : DemoCommands
        The ``verdict`` commands whose output the steps show.

    Raises
    ------
    verdict.errors.VerdictError
        If a step cannot be done (HAProxy missing, the service refusing ...); the local
        topology is torn down first.
    """
    console.print(Rule("verdict demo: which penguin species is this?"))
    table_path = write_table(out)
    console.print(
        f"\n[bold]1. Which metric fits?[/]  verdict advise {table_path} --target {TARGET}"
    )
    commands.advise(table_path, target=TARGET)
    run_dir = fresh_run_dir(out / "run")
    console.print(
        f"\n[bold]2. Train, select, evaluate, explain, report[/]  verdict train {table_path} "
        f"--target {TARGET} --time-budget {time_budget:g} --seed {seed} --out {run_dir} "
        f"--register {MODEL_NAME} --alias production"
    )
    commands.train(
        table_path, target=TARGET, time_budget=time_budget, seed=seed, out=run_dir,
        register=MODEL_NAME, alias="production",
    )  # fmt: skip
    predictions = predictions_csv(run_dir)
    console.print(
        f"\n[bold]3. Evaluate held-out predictions with intervals[/]  verdict evaluate "
        f"{predictions} --true y_true --pred y_pred --proba-prefix proba_ --ci --seed {seed}"
    )
    commands.evaluate(
        predictions, true="y_true", pred="y_pred", proba_prefix="proba_", ci=True, seed=seed
    )
    ref = f"{MODEL_NAME}@production"
    console.print(f"\n[bold]4. The registry: what is in production[/]  verdict models show {ref}")
    commands.show(ref)
    scored = out / "scored.csv"
    console.print(
        f"\n[bold]5. Batch scoring, checked against the schema[/]  verdict predict {ref} "
        f"{table_path} -o {scored}"
    )
    commands.predict(ref, table_path, out=scored, quiet=True)
    import pandas as pd

    console.print(pd.read_csv(scored).head(3).to_string(index=False), highlight=False)
    cloud_story(out, table_path, seed, console=console, commands=commands)
    _next_steps(out, run_dir, ref, console)


def _next_steps(out: Path, run_dir: Path, ref: str, console: Console) -> None:
    """Where the files are, and what to try next."""
    from verdict.serving import ServiceSettings

    console.print(Rule("next"))
    console.print(
        f"Report: {run_dir / 'report.html'}  (model card: {run_dir / 'model_card.md'})\n"
        f"Monitoring report: {ServiceSettings().home / 'monitoring'}/  |  deploy spec: "
        f"{out / 'deploy.yaml'}  |  rendered files: verdict deploy render {out / 'deploy.yaml'} "
        f"-o deploy-out\n"
        f"Try: verdict train YOUR.csv --target COLUMN   |   verdict serve --model {ref}   |   "
        f"verdict deploy up {out / 'deploy.yaml'} --local\n"
        f"     verdict models list {MODEL_NAME}   |   verdict export {ref} --format onnx   |   "
        f"verdict monitor {ref}"
    )
