"""``verdict deploy up|status|chaos|canary|down``: the plan run locally behind a real HAProxy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from verdict.cli._output import MODEL_REF, JsonFlag, console, domain_errors


def up(
    spec: Annotated[
        Path, typer.Argument(metavar="SPEC", help="The deployment spec (deploy.yaml).")
    ],
    local: Annotated[
        bool,
        typer.Option("--local", help="Run the plan on this machine (required: the only mode)."),
    ] = False,
    max_replicas: Annotated[
        int, typer.Option(min=1, help="Most replicas per target on this machine.")
    ] = 2,
) -> None:
    """Start every target's replicas, their links and the HAProxy gateway on 127.0.0.1."""
    from rich.markup import escape

    from verdict.deploy import up as start
    from verdict.errors import ConfigurationError

    with domain_errors():
        if not local:
            raise ConfigurationError(
                "`verdict deploy up` runs a deployment on this machine only. To fix: add "
                "--local, or use `verdict deploy render` for the files each cloud needs."
            )
        state, reports = start(spec, max_replicas=max_replicas)
    for report in reports:
        done = f"{len(report.copied)} copied, {len(report.verified)} verified"
        done += f", {len(report.repaired)} repaired" if report.repaired else ""
        console.print(f"artifacts {report.target}: {report.ref} ({done})", highlight=False)
    for target in state.targets.values():
        ports = ", ".join(str(r.port) for r in target.replicas)
        console.print(
            f"target {target.name} ({target.provider}, {target.zone}): "
            f"{len(target.replicas)} replica(s) on 127.0.0.1:{ports}",
            highlight=False,
        )
    console.print(f"gateway {state.gateway_url} (TLS, certified by the deployment's CA)")
    console.print(
        f"CA certificate {escape(state.ca_certificate)}: clients verify the gateway with it "
        "(curl --cacert FILE; it holds no key)",
        highlight=False,
        soft_wrap=True,
    )
    console.print(f"API key in {Path(state.folder) / 'api-key'}; stop with `verdict deploy down`")


def status(
    as_json: JsonFlag = False,
) -> None:
    """Show every target's health, version, traffic, latency, errors, restarts and link."""
    from verdict.deploy import DeploymentState, deploy_folder
    from verdict.deploy import status as read

    with domain_errors():
        state = DeploymentState.load(deploy_folder())
        rows = read(state)
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in rows], indent=2))
        return
    console.print(f"[bold]{state.model}[/] behind {state.gateway_url}", highlight=False)
    if state.canary:
        console.print(f"canary {state.canary['ref']} at {state.canary['percent']:g}%")
    caption = (
        "p50/p99: ms, histogram bounds; restarts: by the supervisor (replicas+link); "
        "backlog: rows not yet at the center; keys: since the link last synced them"
    )
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, caption=caption)
    columns = ("target", "zone", "up", "version", "requests", "5xx", "p50", "p99", "restarts",
               "link", "backlog", "keys")  # fmt: skip
    for col in columns:
        table.add_column(col, no_wrap=True)
    for r in rows:
        table.add_row(
            f"{r.target} ({r.provider})", r.zone,
            f"{r.replicas_up}/{r.replicas}" + (" killed" if r.outage else ""),
            " ".join(v.split("@", 1)[1] for v in r.versions) or "-", str(r.requests),
            str(r.errors), _ms(r.p50_ms), _ms(r.p99_ms), f"{r.restarts}+{r.link_restarts}",
            r.link, "?" if r.backlog is None else str(r.backlog), _age(r.keys_age_s, r.keys_stale),
        )  # fmt: skip
    console.print(table)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"≤{value:g}"


def _age(seconds: float | None, stale: bool) -> str:
    shown = "never" if seconds is None else f"{seconds:.0f}s"
    return f"{shown} STALE" if stale else shown


def chaos(
    kill: Annotated[
        str | None, typer.Option(help="Kill the replicas of a target or a provider (e.g. aws).")
    ] = None,
    revive: Annotated[
        str | None,
        typer.Option(
            help="Restart a killed target's or provider's replicas (artifacts re-synced)."
        ),
    ] = None,
    cut_link: Annotated[
        str | None, typer.Option(help="Cut a target's link to the center (no artifact sync).")
    ] = None,
    restore_link: Annotated[
        str | None, typer.Option(help="Restore a target's cut link to the center.")
    ] = None,
) -> None:
    """Run a drill: lose a cloud (--kill aws), bring it back (--revive aws), cut a link."""
    from verdict.deploy import local as ops
    from verdict.errors import ConfigurationError

    with domain_errors():
        if sum(x is not None for x in (kill, revive, cut_link, restore_link)) != 1:
            raise ConfigurationError(
                "Give exactly one of --kill, --revive, --cut-link, --restore-link. "
                "To fix: e.g. `verdict deploy chaos --kill aws`."
            )
        if kill:
            killed = ", ".join(ops.kill(kill)) or "nothing (already down)"
            console.print(f"killed {killed}; left down until `--revive {kill}`")
        elif revive:
            names, reports = ops.revive(revive)
            repaired = [f"{r.target}: {', '.join(r.repaired)}" for r in reports if r.repaired]
            console.print(f"revived {', '.join(names) or 'nothing (all running)'}")
            for line in repaired:
                console.print(f"re-synced altered artifacts in {line}", highlight=False)
        elif cut_link:
            console.print(f"link cut: {', '.join(ops.cut_link(cut_link))}")
        else:
            for target, pid in ops.restore_link(restore_link).items():  # type: ignore[arg-type]
                how = "running" if pid is None else f"its process was dead: restarted (pid {pid})"
                console.print(f"link restored: {target} ({how})", highlight=False)


def canary(
    ref: Annotated[
        str,
        typer.Argument(
            metavar="REF",
            help=f"The model version to roll out: {MODEL_REF}.",
        ),
    ],
    percent: Annotated[
        float | None, typer.Option(help="Percentage of traffic sent to it (0 to 100).")
    ] = None,
    promote: Annotated[
        bool, typer.Option("--promote", help="Make the canary the served version.")
    ] = False,
    abort: Annotated[
        bool, typer.Option("--abort", help="Retire the canary; keep the served version.")
    ] = False,
) -> None:
    """Shift a share of traffic to a new version through the gateway; promote or abort it."""
    from verdict.deploy import canary as roll

    with domain_errors(options=("percent", "promote", "abort")):
        state = roll(ref, percent, promote=promote, abort=abort)
    if state.canary:
        console.print(f"canary {state.canary['ref']} takes {state.canary['percent']:g}%")
    else:
        console.print(f"no canary; {state.model} serves v{state.version}")


def down() -> None:
    """Stop the local deployment and leave nothing behind.

    Every process it started stops (the supervisor first), what its links left is shipped,
    its API key is revoked and its sockets are removed.
    """
    from verdict.deploy import down as stop
    from verdict.errors import ConfigurationError

    with domain_errors():
        report = stop()
        if report.left:
            raise ConfigurationError(
                f"Processes {report.left} did not stop. To fix: kill them by hand (kill -9 PID), "
                "then run `verdict deploy down` again."
            )
    console.print(f"stopped {len(report.stopped)} processes (supervisor, gateway, replicas, links)")
    for target, rows in report.shipped.items():
        left = report.backlog.get(target)
        state = "unreadable" if left is None else f"{left} left"
        console.print(f"{target}: {rows} rows shipped while stopping, {state}", highlight=False)
    for target, left in report.backlog.items():
        if left:
            console.print(
                f"[yellow]{target} keeps {left} unshipped rows (its link is cut or failed); "
                "the next `verdict deploy up` ships them first[/]",
                highlight=False,
            )
    if report.key_revoked:
        console.print(f"API key {report.key_id} revoked at the center", highlight=False)
    else:
        console.print(
            f"[red]API key {report.key_id or '?'} NOT revoked[/]: revoke it with "
            f"`verdict keys revoke {report.key_id or 'KEY_ID'}`",
            highlight=False,
        )
    removed = ", ".join(report.removed) or "none"
    console.print(f"removed: {removed}; nothing left running", highlight=False, soft_wrap=True)


def register(group: Any) -> None:
    """Add the local-deployment commands to the ``deploy`` group."""
    group.command("up")(up)
    group.command("status")(status)
    group.command("chaos")(chaos)
    group.command("canary")(canary)
    group.command("down")(down)
