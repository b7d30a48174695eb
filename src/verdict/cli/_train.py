"""``verdict train``: a labelled table in, a selected and evaluated model and its report out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from verdict.cli._costs import CostsOption, read_costs
from verdict.cli._output import console, domain_errors
from verdict.errors import InvalidInputError, NoSignalError


def train(
    data: Annotated[Path, typer.Argument(metavar="DATA", help="CSV, Parquet or JSON Lines table.")],
    target: Annotated[str, typer.Option("--target", help="Column holding the class labels.")],
    metric: Annotated[
        str, typer.Option("--metric", help="Metric to select on; 'auto' asks `verdict advise`.")
    ] = "auto",
    costs: CostsOption = None,
    models: Annotated[
        str | None,
        typer.Option(
            "--models",
            help="Comma-separated model families, e.g. softmax,random_forest.",
            show_default="all",
        ),
    ] = None,
    time_budget: Annotated[
        float, typer.Option("--time-budget", help="Seconds for the whole run.")
    ] = 60.0,
    test_size: Annotated[
        float, typer.Option("--test-size", help="Share of rows held out for the test.")
    ] = 0.2,
    cv: Annotated[int, typer.Option("--cv", help="Cross-validation folds.")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every random step.")] = 0,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Run directory (created).", show_default=".verdict/runs/<timestamp>"
        ),
    ] = None,
    dask: Annotated[
        str | None,
        typer.Option("--dask", help="Run the search on a Dask cluster: its scheduler address."),
    ] = None,
    n_jobs: Annotated[
        int | None,
        typer.Option(
            "--n-jobs",
            help="Parallel fits; -1 uses every core.",
            show_default="1, or every worker with --dask",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="Hide the progress display.")] = False,
    register: Annotated[
        str | None,
        typer.Option("--register", help="Register the model in the registry as NAME."),
    ] = None,
    alias: Annotated[
        str | None,
        typer.Option("--alias", help="With --register: point this ALIAS (e.g. production) at it."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="With --register: register even when no model beats guessing the class "
            "frequencies.",
        ),
    ] = False,
    max_configs: Annotated[
        int | None,
        typer.Option(
            "--max-configs",
            help="Reproducible mode: cross-validate exactly N configs whatever the clock says "
            "(same seed, same run.json metrics on any machine).",
            show_default="search within --time-budget",
        ),
    ] = None,
) -> None:
    """Train, select and evaluate a classifier on DATA; write the run and its report."""
    from verdict.pipeline import train as train_run  # the heavy imports only when training

    with domain_errors(options=("test_size", "cv", "max_configs")):
        if alias is not None and register is None:
            raise InvalidInputError(
                "--alias needs --register NAME (the alias belongs to a registered model). "
                "To fix: add --register NAME, or drop --alias."
            )
        _check_names(register, alias)
        if force and register is None:
            raise InvalidInputError(
                "--force only matters with --register NAME. To fix: add --register NAME, or "
                "drop --force."
            )
        run = train_run(
            data, target, metric=metric, costs=read_costs(costs), models=_models(models),
            time_budget=time_budget, test_size=test_size, cv=cv, seed=seed, out=out,
            dask=dask, quiet=quiet, n_jobs=n_jobs, max_configs=max_configs,
        )  # fmt: skip
        report = _write_report(run.run_dir)
        signal = run.info.get("signal") or {"found": True}
        registered, refused = None, False
        if register is not None:
            try:
                registered = _register(run, register, alias, force)
            except NoSignalError:  # the registry's rule; here it is a finding, not a failure
                refused = True
    if not signal["found"]:
        console.print(f"[bold red]NO SIGNAL:[/] {signal['message']}.", highlight=False)
    _summary(run.info, run.run_dir, report)
    if refused:
        console.print(
            f"[bold yellow]not registered:[/] no model here beats guessing the class "
            f"frequencies, so {register!r} was not registered. To register it anyway: "
            "--register NAME --force.",
            highlight=False,
        )
    if registered is not None:
        aliases = f" ({', '.join(registered.aliases)})" if registered.aliases else ""
        console.print(f"[bold]registered:[/] {registered.ref}{aliases}", highlight=False)


def _check_names(register: str | None, alias: str | None) -> None:
    """Refuse a bad name before minutes of training, not after."""
    if register is None:
        return
    from verdict.registry import check_alias, check_name

    check_name(register)
    if alias is not None:
        check_alias(alias)


def _register(run: Any, name: str, alias: str | None, force: bool) -> Any:
    from verdict.registry import Registry

    with Registry() as registry:
        return registry.register(run, name, alias=alias, force=force)


def _models(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise InvalidInputError(
            f"--models {text!r} names no model family. To fix: list families separated by "
            "commas, e.g. --models softmax,random_forest, or leave it out to try all."
        )
    return names


def _write_report(run_dir: Path) -> Path | None:
    try:
        from verdict.report import write_report
    except ImportError:  # the report package is optional while it is being built
        return None
    return write_report(run_dir)


def _summary(info: dict[str, Any], run_dir: Path, report: Path | None) -> None:
    primary = info["primary_metric"]
    final = info["final"]
    members = ", ".join(f"{m['family']} x{m['weight']}" for m in final["members"])
    made_of = f" of {members}" if len(final["members"]) > 1 else ""
    calibration = final["calibration"]
    scaled = (
        f"; temperature {calibration['temperature']:.2f}"
        if calibration["method"] == "temperature"
        else ""
    )
    console.print(
        f"[bold]best model:[/] {info['best']}{made_of} ({primary} {final['cv_score']:.4f}, "
        f"log loss {final['cv_log_loss']:.4f} out of fold, prior's {final['prior_log_loss']:.4f}"
        f"{scaled}; {_configs(info['search']['configs_tried'])} tried)",
        highlight=False,
    )
    console.print(_test_table(info))
    for row in info["comparisons"]:
        console.print(
            f"vs {row['against']} ({row['against_model']}): {row['metric']} difference "
            f"{row['difference']:+.4f} [{_f(row['low'])}, {_f(row['high'])}], "
            f"p = {_f(row['p_value'])} ({row['test']})",
            highlight=False,
        )
    decision = info["decision"]
    if decision and decision["kind"] == "weights":
        weights = ", ".join(
            f"{c} {w:.2f}" for c, w in zip(decision["classes"], decision["weights"], strict=True)
        )
        console.print(
            f"decision (weights for {decision['tuned_for']}): the class of greatest probability "
            f"x weight ({weights}); {decision['cv_score']:.4f} on the out-of-fold rows they "
            f"were tuned on, against {decision['cv_score_argmax']:.4f} for the most probable "
            "class",
            highlight=False,
        )
    elif decision:
        console.print(
            f"decision ({decision['kind']}): expected cost on the test set "
            f"{decision['test_expected_cost']:.4f} (argmax: "
            f"{decision['test_expected_cost_argmax']:.4f})",
            highlight=False,
        )
    top = ", ".join(f"{r['feature']} ({r['mean']:.3f})" for r in info["importance"][:5])
    console.print(f"most important: {top}", highlight=False)
    for finding in info["data_report"]["findings"]:
        if finding["severity"] == "warning":
            console.print(f"[yellow]data warning:[/] {finding['message']}", highlight=False)
    console.print(f"[bold]run:[/] {run_dir}", highlight=False, soft_wrap=True)
    if report is not None:
        console.print(f"[bold]report:[/] {report}", highlight=False, soft_wrap=True)


def _configs(n: int) -> str:
    return f"{n} config" if n == 1 else f"{n} configs"


def _test_table(info: dict[str, Any]) -> Table:
    test = info["test"]
    key = "binary" if test["task"] == "binary" else "macro"
    table = Table(title=f"held-out test set ({test['n_samples']} rows, 95% intervals)")
    for column in ("metric", "value", "interval"):
        table.add_column(column)
    for name, value in (
        ("accuracy", test.get("accuracy")),
        (f"f1_{key}", test["f1"].get(key)),
        (f"roc_auc_{key}", test["roc_auc"].get(key)),
        ("log_loss", test.get("log_loss")),
    ):
        if value is None:
            continue
        ci = test["intervals"].get(name)
        shown = "" if ci is None else f"[{_f(ci['low'])}, {_f(ci['high'])}]"
        table.add_row(name, f"{value:.4f}", shown)
    return table


def _f(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"
