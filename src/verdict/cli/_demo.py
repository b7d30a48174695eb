"""``verdict demo``: the whole story on the bundled palmerpenguins data, in a few minutes.

Steps as printed: (1) ``verdict advise`` picks the metric; (2) ``verdict train --register``
searches the families, evaluates the winner once with intervals, writes the report and registers
it as production; (3) ``verdict evaluate --ci``; (4) ``verdict models show``; (5) a batch
``verdict predict``; (6) ``verdict deploy plan`` for three clouds; (7) ``deploy up --local``
behind HAProxy; (8) one cloud killed mid-stream, no request failed, EU requests kept in the
EU; (9) drifted traffic and ``verdict monitor``'s alarm; (10) labels fed back and ``verdict
retrain``'s decision; (11) ``verdict deploy down``, nothing left running.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.rule import Rule

from verdict.cli._advise import advise
from verdict.cli._evaluate import evaluate
from verdict.cli._models import show
from verdict.cli._output import console, domain_errors
from verdict.cli._predict import predict
from verdict.cli._train import train

TARGET = "species"
MODEL_NAME = "penguins"


def demo(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the demo's files (created).")
    ] = Path(".verdict/demo"),
    seed: Annotated[int, typer.Option("--seed", help="Seed of every random step.")] = 0,
    time_budget: Annotated[
        float, typer.Option("--time-budget", help="Seconds for the model search (step 2).")
    ] = 30.0,
) -> None:
    """Run the end-to-end demo on the bundled palmerpenguins data, in a few minutes.

    Advise, train and register, evaluate, predict, then plan three clouds, run them locally
    behind HAProxy (apt-get installs it if missing, as root), lose one, monitor drifted traffic,
    retrain on the labels fed back and tear everything down.
    """
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
    import pandas as pd  # here, not at import: `verdict --help` loads this module

    console.print(pd.read_csv(scored).head(3).to_string(index=False), highlight=False)
    cloud_story(out, table_path, seed)
    console.print(Rule("next"))
    console.print(
        f"Report: {run_dir / 'report.html'}  (model card: {run_dir / 'model_card.md'})\n"
        f"Monitoring report: {_home() / 'monitoring'}/  |  deploy spec: "
        f"{out / 'deploy.yaml'}  |  rendered files: verdict deploy render {out / 'deploy.yaml'} "
        f"-o deploy-out\n"
        f"Try: verdict train YOUR.csv --target COLUMN   |   verdict serve --model {ref}   |   "
        f"verdict deploy up {out / 'deploy.yaml'} --local\n"
        f"     verdict models list {MODEL_NAME}   |   verdict export {ref} --format onnx   |   "
        f"verdict monitor {ref}"
    )


def cloud_story(out: Path, table_path: Path, seed: int) -> None:
    """Steps 6-11: plan, bring up, lose a cloud, drift, feedback and retrain, tear down."""
    from verdict.cli import _demo_cloud as cloud
    from verdict.cli._deploy import plan_command
    from verdict.cli._deploy_local import status
    from verdict.cli._monitor import monitor
    from verdict.cli._retrain import retrain

    spec = cloud.write_spec(out)
    console.print(f"\n[bold]6. Plan three clouds[/]  verdict deploy plan {spec}")
    plan_command(spec)
    with domain_errors():
        cloud.ensure_haproxy()
    console.print(f"\n[bold]7. Bring it up locally[/]  verdict deploy up {spec} --local")
    import pandas as pd

    frame = pd.read_csv(table_path)
    shuffled = frame.drop(columns=TARGET).sample(frac=1.0, random_state=seed)  # as it comes
    rows = json.loads(shuffled.to_json(orient="records"))  # missing values travel as null
    with cloud.topology(spec) as state:
        console.print(
            f"gateway {state.gateway_url} (HAProxy, TLS) in front of "
            + ", ".join(f"{t.name} ({t.provider}, {t.zone})" for t in state.targets.values()),
            highlight=False,
        )
        with cloud.gateway_client(state.gateway_url, state.ca_certificate, None) as anonymous:
            refused = anonymous.post(
                f"/v1/models/{MODEL_NAME}/predict", json={"instances": rows[:1]}
            )
        console.print(f"without an API key: HTTP {refused.status_code}", highlight=False)
        console.print("\n[bold]8. Lose a cloud mid-stream[/]  verdict deploy chaos --kill aws")
        cloud.lose_a_cloud(state, rows)
        console.print("verdict deploy chaos --revive aws; verdict deploy status")
        from verdict.deploy import revive
        from verdict.deploy._local_ops import wait_version
        from verdict.deploy._local_state import DeploymentState

        revive("aws")
        status()
        console.print(
            "\n[bold]9. The world moves: drifted traffic[/]  (bill +"
            f"{cloud.DRIFT['bill_length_mm']:g} mm, flipper +{cloud.DRIFT['flipper_length_mm']:g}"
            f" mm); verdict monitor {MODEL_NAME}@production --window 500"
        )
        sent = cloud.drifted_traffic(state, frame, seed)
        cloud.wait_central(state, [request_id for request_id, _ in sent])
        code = cloud.run_exit_code(monitor, f"{MODEL_NAME}@production", window=500)
        console.print(f"(verdict monitor exits {code}: 1 means an alert fired, for cron and CI)")
        console.print(
            "\n[bold]10. Labels come back; retrain, promote only a proven winner[/]  "
            f"POST /v1/feedback; verdict retrain {MODEL_NAME}"
        )
        n = cloud.feed_back(state, sent)
        cloud.wait_central(state, [request_id for request_id, _ in sent], labels=n)
        console.print(f"{n} true labels fed back through the gateway and shipped to the center")
        before = _production_version()
        retrain(MODEL_NAME, time_budget=15.0, seed=seed, quiet=True)
        after = _production_version()
        if after != before:
            console.print(
                f"every target picks up v{after}: its link syncs the artifacts, its replicas "
                "hot-reload (verdict deploy status)"
            )
            wait_version(DeploymentState.load(Path(state.folder)), after)  # pids after revive
            status()
        console.print("\n[bold]11. Tear down[/]  verdict deploy down")


def _production_version() -> int:
    from verdict.registry import Registry

    with Registry() as registry:
        return registry.get(f"{MODEL_NAME}@production").version


def _home() -> Path:
    from verdict.serving._settings import ServiceSettings

    return ServiceSettings().home


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
    import pandas as pd

    path = run_dir / "test_predictions.csv"
    pd.read_parquet(run_dir / "test_predictions.parquet").to_csv(path, index=False)
    return path
