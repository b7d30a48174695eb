"""The demo's learning loop (steps 9-10): drifted traffic and the monitor's alarm, then the
true labels fed back and the retrain's decision, picked up by every target.

The demo waits for the links to ship requests and labels to the center by reading the central
prediction log through :class:`verdict.state.PredictionLog`, never its tables.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console

from verdict.client import Feedback
from verdict.demo._commands import DemoCommands
from verdict.demo._setup import MODEL_NAME, TARGET
from verdict.demo._traffic import gateway_client, send
from verdict.errors import ConfigurationError

DRIFT = {"bill_length_mm": 7.0, "flipper_length_mm": 12.0}  # the world moves: longer bills
_FEEDBACK_PER_REQUEST = 200  # labels per POST /v1/feedback


def learning_loop(
    state: Any, frame: pd.DataFrame, seed: int, *, console: Console, commands: DemoCommands
) -> None:
    """Steps 9 and 10 on the running topology ``state``."""
    ref = f"{MODEL_NAME}@production"
    console.print(
        "\n[bold]9. The world moves: drifted traffic[/]  (bill +"
        f"{DRIFT['bill_length_mm']:g} mm, flipper +{DRIFT['flipper_length_mm']:g}"
        f" mm); verdict monitor {ref} --window 500"
    )
    sent = drifted_traffic(state, frame, seed)
    request_ids = [request_id for request_id, _ in sent]
    wait_central(state, request_ids)
    code = commands.monitor(ref, window=500)
    console.print(f"(verdict monitor exits {code}: 1 means an alert fired, for cron and CI)")
    console.print(
        "\n[bold]10. Labels come back; retrain, promote only a proven winner[/]  "
        f"POST /v1/feedback; verdict retrain {MODEL_NAME}"
    )
    n = feed_back(state, sent)
    wait_central(state, request_ids, labels=n)
    console.print(f"{n} true labels fed back through the gateway and shipped to the center")
    before = production_version()
    commands.retrain(MODEL_NAME, time_budget=15.0, seed=seed, quiet=True)
    after = production_version()
    if after != before:
        from verdict.deploy.local import DeploymentState, wait_version

        console.print(
            f"every target picks up v{after}: its link syncs the artifacts, its replicas "
            "hot-reload (verdict deploy status)"
        )
        wait_version(DeploymentState.load(Path(state.folder)), after)  # pids after revive
        commands.status()


def drifted_traffic(state: Any, frame: pd.DataFrame, seed: int) -> list[tuple[str, list[Any]]]:
    """600 rows from a moved world, in requests of 20; their ids and true labels, kept."""
    sample = frame.sample(600, replace=True, random_state=seed).reset_index(drop=True)
    truth = sample.pop(TARGET).tolist()
    for column, shift in DRIFT.items():
        sample[column] = sample[column] + shift
    records = json.loads(sample.to_json(orient="records"))  # missing values as null
    sent = []
    with gateway_client(state.gateway_url, state.ca_certificate, state.api_key()) as client:
        for i in range(0, len(records), 20):
            outcome = send(client, MODEL_NAME, records[i : i + 20], None)
            if outcome.status == 200:
                sent.append((outcome.request_id, truth[i : i + 20]))
    return sent


def feed_back(state: Any, sent: list[tuple[str, list[Any]]]) -> int:
    """The true labels of the drifted rows, through the gateway to whichever target."""
    items = [
        Feedback(label, request_id, row)
        for request_id, labels in sent
        for row, label in enumerate(labels)
    ]
    with gateway_client(state.gateway_url, state.ca_certificate, state.api_key()) as client:
        for i in range(0, len(items), _FEEDBACK_PER_REQUEST):
            client.send_feedback(items[i : i + _FEEDBACK_PER_REQUEST])
    return len(items)


def wait_central(
    state: Any, request_ids: list[str], labels: int = 0, seconds: float = 30.0
) -> None:
    """Wait until the links shipped every request, and ``labels`` labels of them, centrally."""
    from verdict.state import PredictionLog, open_state

    ids = set(request_ids)
    engine = open_state(state.central_state_url)
    try:
        log, shipped = PredictionLog(engine), False
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            shipped = shipped or ids <= set(log.predictions(MODEL_NAME)["request_id"])
            if shipped and (labels == 0 or _labelled(log, ids) >= labels):
                return
            time.sleep(0.25)
    finally:
        engine.dispose()
    raise ConfigurationError(
        f"The links did not ship every request and label to the center within {seconds:g} s. "
        f"To fix: read the link logs under {state.folder}/logs."
    )


def _labelled(log: Any, ids: set[str]) -> int:
    """Rows of these requests that have a true label in ``log``."""
    rows = log.labelled(MODEL_NAME)
    return int(rows["request_id"].isin(ids).sum())


def production_version() -> int:
    """The version ``penguins@production`` names now."""
    from verdict.registry import Registry

    with Registry() as registry:
        return registry.get(f"{MODEL_NAME}@production").version
