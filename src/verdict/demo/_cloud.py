"""The demo's multi-cloud part (steps 6-11): plan, bring up, lose a cloud, drift, feedback and
retrain, tear down.

Three targets on three providers (two in the EU, which is strict; one in the US) run as local
processes behind a real HAProxy. Everything is done through the functions the ``verdict
deploy`` commands call, traffic goes through :class:`verdict.client.Client`, and the topology
is always torn down, even on failure.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console

from verdict.demo._commands import DemoCommands
from verdict.demo._loop import learning_loop
from verdict.demo._setup import MODEL_NAME, TARGET, ensure_haproxy, write_spec
from verdict.demo._traffic import Traffic, gateway_client, stream
from verdict.errors import ConfigurationError, ServiceError


def cloud_story(
    out: Path, table_path: Path, seed: int, *, console: Console, commands: DemoCommands
) -> None:
    """Steps 6-11: plan, bring up, lose a cloud, drift, feedback and retrain, tear down."""
    from verdict.deploy.local import revive

    spec = write_spec(out)
    console.print(f"\n[bold]6. Plan three clouds[/]  verdict deploy plan {spec}")
    commands.plan(spec)
    ensure_haproxy(console)
    console.print(f"\n[bold]7. Bring it up locally[/]  verdict deploy up {spec} --local")
    frame = pd.read_csv(table_path)
    shuffled = frame.drop(columns=TARGET).sample(frac=1.0, random_state=seed)  # as it comes
    rows = json.loads(shuffled.to_json(orient="records"))  # missing values travel as null
    with topology(spec, console) as state:
        console.print(
            f"gateway {state.gateway_url} (HAProxy, TLS) in front of "
            + ", ".join(f"{t.name} ({t.provider}, {t.zone})" for t in state.targets.values()),
            highlight=False,
        )
        with gateway_client(state.gateway_url, state.ca_certificate, None) as anonymous:
            try:
                anonymous.predict(MODEL_NAME, rows[:1])
                refused = 200
            except ServiceError as exc:
                refused = exc.status or 0
        console.print(f"without an API key: HTTP {refused}", highlight=False)
        console.print("\n[bold]8. Lose a cloud mid-stream[/]  verdict deploy chaos --kill aws")
        lose_a_cloud(state, rows, console)
        console.print("verdict deploy chaos --revive aws; verdict deploy status")
        revive("aws")
        commands.status()
        learning_loop(state, frame, seed, console=console, commands=commands)
        console.print("\n[bold]11. Tear down[/]  verdict deploy down")


@contextlib.contextmanager
def topology(spec: Path, console: Console) -> Iterator[Any]:
    """``verdict deploy up --local`` for the demo; always ``down`` afterwards."""
    from verdict.deploy.local import DeploymentState, deploy_folder, down, up

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


def lose_a_cloud(state: Any, rows: list[dict[str, Any]], console: Console) -> Traffic:
    """Traffic from three clients for a few seconds; AWS is killed after 1.5 s."""
    from verdict.deploy.local import kill

    batches = [rows[i : i + 5] for i in range(0, len(rows) - 5, 5)]
    key = state.api_key()
    killed: list[str] = []
    traffic = stream(
        lambda: gateway_client(state.gateway_url, state.ca_certificate, key),
        MODEL_NAME, batches, 4.5, during=lambda: killed.extend(kill("aws")),
    )  # fmt: skip
    console.print(
        f"{len(traffic.outcomes)} requests through the gateway; killed {', '.join(killed)} "
        f"(SIGKILL) after 1.5 s; [bold]{len(traffic.failed)} failed[/]",
        highlight=False,
    )
    if traffic.failed:  # what came back instead, so a failure can be told from a slow client
        seen = Counter(f"HTTP {o.status or 'none'} from {o.target}" for o in traffic.failed)
        console.print(f"[bold red]failed requests:[/] {dict(seen)}", highlight=False)
    console.print(f"answered by: {traffic.served_by()}", highlight=False)
    console.print(
        f"EU-tagged requests answered by: {traffic.served_by('eu')} (EU targets only)",
        highlight=False,
    )
    return traffic
