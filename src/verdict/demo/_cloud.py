"""The demo's multi-cloud part: plan, bring up, lose a cloud, drift, feedback, retrain, tear down.

Three targets on three providers (two in the EU, which is strict; one in the US) run as local
processes behind a real HAProxy. Everything is done through the same functions the
``verdict deploy`` commands call, and the topology is always torn down, even on failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import typer
import yaml

from verdict.cli._demo_traffic import Traffic, gateway_client, send, stream
from verdict.cli._output import console
from verdict.errors import ConfigurationError

SPEC = {
    "model": "penguins@production",
    "load": {"rps": 300, "peak_factor": 2, "zones": {"eu": 0.5, "us": 0.5}},
    "latency": {"p99_ms": 250},
    "routing": {"residency": {"eu": "strict", "us": "preferred"}, "min_targets_per_zone": 2},
    "gateway": {"providers": ["aws", "gcp"], "check_interval_ms": 300},
    "targets": [
        {"name": "aws-eu", "provider": "aws", "region": "eu-west-1", "zone": "eu",
         "instance_type": "m6i.large", "cost_per_replica_hour": 0.096, "max_replicas": 4,
         "bucket": "s3://verdict-demo-eu"},
        {"name": "gcp-eu", "provider": "gcp", "region": "europe-west4", "zone": "eu",
         "instance_type": "n2-standard-2", "cost_per_replica_hour": 0.107, "max_replicas": 4,
         "bucket": "gs://verdict-demo-eu"},
        {"name": "azure-us", "provider": "azure", "region": "eastus", "zone": "us",
         "instance_type": "Standard_D2s_v5", "cost_per_replica_hour": 0.096, "min_replicas": 1,
         "max_replicas": 4, "bucket": "az://verdictdemo/us"},
    ],
}  # fmt: skip
DRIFT = {"bill_length_mm": 7.0, "flipper_length_mm": 12.0}  # the world moves: longer bills


def write_spec(out: Path) -> Path:
    """The demo's deploy.yaml, written where the user can read and reuse it."""
    path = out / "deploy.yaml"
    path.write_text(yaml.safe_dump(SPEC, sort_keys=False), encoding="utf-8")
    return path


def ensure_haproxy() -> None:
    """HAProxy, installed with apt-get where this is root on Debian/Ubuntu; else how to."""
    from verdict.deploy._local_procs import haproxy_binary

    with contextlib.suppress(ConfigurationError):
        haproxy_binary()
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        console.print("HAProxy is missing; installing it with apt-get (Debian's package)...")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "install", "-y", "-qq", "haproxy"],
                        ["apt-get", "update", "-qq"],
                        ["apt-get", "install", "-y", "-qq", "haproxy"]):  # fmt: skip
            done = subprocess.run(command, env=env, capture_output=True, check=False)
            if done.returncode == 0 and command[1] == "install":
                break
    haproxy_binary()  # raises with the way to install it when still missing


@contextlib.contextmanager
def topology(spec: Path) -> Iterator[Any]:
    """``verdict deploy up --local`` for the demo; always ``down`` afterwards."""
    from verdict.deploy import down, up
    from verdict.deploy._local import deploy_folder
    from verdict.deploy._local_state import DeploymentState

    with contextlib.suppress(ConfigurationError):
        DeploymentState.load(deploy_folder())
        console.print("A local deployment from an earlier run is still up; stopping it first.")
        down()
    state, _ = up(spec, max_replicas=1)
    try:
        yield state
    finally:
        stopped, left = down()
        console.print(
            f"verdict deploy down: stopped {len(stopped)} processes (gateway, replicas, links); "
            + ("nothing left running" if not left else f"STILL RUNNING: {left}"),
            highlight=False,
        )


def lose_a_cloud(state: Any, rows: list[dict[str, Any]]) -> Traffic:
    """Traffic from three clients for a few seconds; AWS is killed after 1.5 s."""
    from verdict.deploy import kill

    batches = [rows[i : i + 5] for i in range(0, len(rows) - 5, 5)]
    key = state.api_key()
    killed: list[str] = []
    traffic = stream(
        lambda: gateway_client(state.gateway_url, state.ca_certificate, key),
        "penguins", batches, 4.5, during=lambda: killed.extend(kill("aws")),
    )  # fmt: skip
    console.print(
        f"{len(traffic.outcomes)} requests through the gateway; killed {', '.join(killed)} "
        f"(SIGKILL) after 1.5 s; [bold]{len(traffic.failed)} failed[/]",
        highlight=False,
    )
    console.print(f"answered by: {traffic.served_by()}", highlight=False)
    console.print(
        f"EU-tagged requests answered by: {traffic.served_by('eu')} (EU targets only)",
        highlight=False,
    )
    return traffic


def drifted_traffic(state: Any, frame: pd.DataFrame, seed: int) -> list[tuple[str, list[Any]]]:
    """600 rows from a moved world, in requests of 20; their ids and true labels, kept."""
    sample = frame.sample(600, replace=True, random_state=seed).reset_index(drop=True)
    truth = sample.pop("species").tolist()
    for column, shift in DRIFT.items():
        sample[column] = sample[column] + shift
    records = json.loads(sample.to_json(orient="records"))  # missing values as null
    sent = []
    with gateway_client(state.gateway_url, state.ca_certificate, state.api_key()) as client:
        for i in range(0, len(records), 20):
            outcome = send(client, "penguins", records[i : i + 20], None)
            if outcome.status == 200:
                sent.append((outcome.request_id, truth[i : i + 20]))
    return sent


def feed_back(state: Any, sent: list[tuple[str, list[Any]]]) -> int:
    """The true labels of the drifted rows, through the gateway to whichever target."""
    items = [
        {"request_id": request_id, "row": row, "label": label}
        for request_id, labels in sent
        for row, label in enumerate(labels)
    ]
    with gateway_client(state.gateway_url, state.ca_certificate, state.api_key()) as client:
        for i in range(0, len(items), 200):
            reply = client.post("/v1/feedback", json={"feedback": items[i : i + 200]})
            if reply.status_code != 200:
                raise ConfigurationError(f"feedback was refused: {reply.text}")
    return len(items)


def wait_central(
    state: Any, request_ids: list[str], labels: int = 0, seconds: float = 30.0
) -> None:
    """Wait until the links shipped every request, and ``labels`` labels of them, centrally."""
    from sqlalchemy import func, select

    from verdict.serving._state import feedback, open_state, predictions

    ids = sorted(set(request_ids))
    shipped = select(func.count(func.distinct(predictions.c.request_id))).where(
        predictions.c.request_id.in_(ids)
    )
    labelled = select(func.count()).where(feedback.c.request_id.in_(ids))
    engine = open_state(state.central_state_url)
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                if connection.scalar(shipped) == len(ids) and (
                    connection.scalar(labelled) >= labels
                ):
                    return
            time.sleep(0.25)
    finally:
        engine.dispose()
    raise ConfigurationError(
        f"The links did not ship every request and label to the center within {seconds:g} s. "
        f"To fix: read the link logs under {state.folder}/logs."
    )


def run_exit_code(command: Any, *args: Any, **kwargs: Any) -> int:
    """Call a CLI command function; its exit code (monitor exits 1 on an alert)."""
    try:
        command(*args, **kwargs)
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    return 0
