"""``verdict deploy``: plan replicas across clouds from a ``deploy.yaml``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from verdict.cli._output import JsonFlag, command_group, console, domain_errors

deploy_app = command_group(
    "deploy",
    "Deploy across clouds: plan, render the files, run locally behind HAProxy, drill, stop.",
)


@deploy_app.callback()
def _group() -> None:
    """Deploy across clouds: plan, render the files, run locally behind HAProxy, drill, stop."""


@deploy_app.command("plan")
def plan_command(
    spec: Annotated[
        Path, typer.Argument(metavar="SPEC", help="The deployment spec (deploy.yaml).")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Plan the cheapest replicas per target that hold the peak if any one provider is lost."""
    from verdict.deploy import load_spec, plan  # scipy only when the command runs

    with domain_errors():
        result = plan(load_spec(spec))
    if as_json:
        return typer.echo(json.dumps(result.to_dict(), indent=2))
    _print_plan(result)


@deploy_app.command("render")
def render_command(
    spec: Annotated[
        Path, typer.Argument(metavar="SPEC", help="The deployment spec (deploy.yaml).")
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder to write the files into (created).")
    ],
    registry_url: Annotated[
        str | None,
        typer.Option(
            help="Registry database URL: list each artifact's sha256 to sync in the files."
        ),
    ] = None,
) -> None:
    """Write the Dockerfile, Kubernetes, Karmada, gateway and Prometheus files for the plan."""
    from verdict.deploy import load_spec, plan, render

    with domain_errors():
        parsed = load_spec(spec)
        placement = plan(parsed)
        if registry_url is None:
            written = render(parsed, placement, out)
        else:
            from verdict.registry import Registry

            with Registry(registry_url) as registry:
                written = render(parsed, placement, out, registry=registry)
    root = out.resolve()
    table = Table(title=f"Rendered {parsed.model} into {out}")
    table.add_column("file")
    table.add_column("bytes", justify="right")
    for path in written:
        table.add_row(str(path.relative_to(root)), f"{path.stat().st_size:,}")
    console.print(table)
    console.print(
        f"Next: read {out / 'README.md'} for the commands that apply them.", highlight=False
    )


def _print_plan(result: Any) -> None:
    zones = ", ".join(f"{z} {rps:g}" for z, rps in result.zone_peak_rps.items())
    console.print(
        f"[bold]{result.model}[/]: peak {result.peak_rps:g} rps" + (f" ({zones})" if zones else ""),
        highlight=False,
    )
    table = Table(title="Replicas per target")
    for col in ("target", "provider", "region", "zone", "instance", "replicas", "rps/replica"):
        table.add_column(col, justify="right" if col in ("replicas", "rps/replica") else "left")
    table.add_column("$/hour", justify="right")
    table.add_column("$/month", justify="right")
    table.add_column("why")
    index = {name: i for i, name in enumerate(result.binding, start=1)}
    for t in result.targets:
        why = (
            ("needed by " + " ".join(f"[{index[b]}]" for b in t.needed_by))
            if t.needed_by
            else t.why
        )
        table.add_row(
            t.name,
            t.provider,
            t.region,
            t.zone,
            t.instance_type,
            str(t.replicas),
            f"{t.capacity_rps_per_replica:g} ({t.capacity_source})",
            f"{t.hourly_cost:.3f}",
            f"{t.monthly_cost:,.2f}",
            why,
        )
    console.print(table)
    totals = Table(title="Per provider")
    for col in ("provider", "replicas", "$/hour", "$/month"):
        totals.add_column(col, justify="left" if col == "provider" else "right")
    for p in result.providers:
        totals.add_row(
            p.provider, str(p.replicas), f"{p.hourly_cost:.3f}", f"{p.monthly_cost:,.2f}"
        )
    totals.add_row(
        "[bold]total[/]",
        str(sum(p.replicas for p in result.providers)),
        f"{result.hourly_cost:.3f}",
        f"{result.monthly_cost:,.2f}",
    )
    console.print(totals)
    if result.binding:
        console.print(
            "[bold]Binding constraints[/] (one replica fewer breaks them)", highlight=False
        )
        for i, b in enumerate(result.binding, start=1):
            console.print(f"  [{i}] {b}", highlight=False, markup=False)
    for note in result.notes:
        console.print(f"[dim]note:[/] {note}", highlight=False)
