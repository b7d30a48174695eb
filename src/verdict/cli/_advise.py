"""``verdict advise``: which metric to report for a labelled table, and where to cut."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.panel import Panel
from rich.table import Table

from verdict.cli._costs import CostsOption, read_cost_table, read_costs
from verdict.cli._output import JsonFlag, console, domain_errors, read_table
from verdict.errors import InvalidInputError

if TYPE_CHECKING:  # numpy and pandas load when the command runs, not for `verdict --help`
    import numpy as np
    import pandas as pd

    from verdict.metrics import MetricAdvice


def advise(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="CSV, Parquet or JSON Lines file with the labels."),
    ],
    target: Annotated[str, typer.Option("--target", help="Column with the true labels.")],
    costs: CostsOption = None,
    cost_fp: Annotated[
        float | None,
        typer.Option("--cost-fp", hidden=True, help="Deprecated: use --costs fp=X,fn=Y."),
    ] = None,
    cost_fn: Annotated[
        float | None,
        typer.Option("--cost-fn", hidden=True, help="Deprecated: use --costs fp=X,fn=Y."),
    ] = None,
    cost_matrix: Annotated[
        Path | None,
        typer.Option("--cost-matrix", hidden=True, help="Deprecated: use --costs FILE."),
    ] = None,
    pos_label: Annotated[
        str | None, typer.Option("--pos-label", help="Positive class of a binary target.")
    ] = None,
    needs_probabilities: Annotated[
        bool,
        typer.Option(
            "--needs-probabilities", help="The probabilities themselves are used downstream."
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Recommend the metric to report and the decision rule, from class balance and costs."""
    with domain_errors():
        table = read_table(file)
        y = _target(table, target)
        costs = _costs(costs, cost_fp, cost_fn, cost_matrix)
        from verdict.metrics import recommend_metrics  # scipy: only when advising

        advice = recommend_metrics(
            y,
            costs=costs,
            needs_probabilities=needs_probabilities,
            pos_label=None if pos_label is None else _as_label(pos_label, y, "--pos-label"),
        )
        signal = _signal(table, target)
    if as_json:
        out = advice.to_dict()
        out["feature_signal"] = None if signal is None else signal.to_dict()
        typer.echo(json.dumps(out, indent=2, allow_nan=False))
    else:
        _warn_signal(signal, target)
        _print(advice)


def _signal(table: pd.DataFrame, target: str) -> Any:
    """Mutual information of the other columns with the target (None: no other column)."""
    if table.shape[1] < 2:
        return None
    from verdict.data import feature_signal

    return feature_signal(table, target)


def _warn_signal(signal: Any, target: str) -> None:
    if signal is None or not signal.little_signal:
        return
    console.print(
        f"[bold yellow]warning:[/] the features carry little information about {target!r}: "
        f"the most informative, {signal.best_feature!r}, has mutual information "
        f"{signal.best:.4f} nats, no more than a feature reaches with the labels shuffled "
        f"({signal.shuffled_max:.4f}). A model may not beat guessing the class frequencies; "
        "check that the right columns are in the table before training.",
        highlight=False,
    )


def _target(table: pd.DataFrame, column: str) -> np.ndarray:
    if column not in table.columns:
        raise InvalidInputError(
            f"Column {column!r} not found. The file has: {list(table.columns)}. To fix: pass "
            "--target with one of those names (they are case-sensitive)."
        )
    values = table[column]
    missing = int(values.isna().sum())
    if missing:
        raise InvalidInputError(
            f"Column {column!r} has {missing} missing labels. To fix: drop or label those "
            "rows first; advice on a guessed target would mislead."
        )
    return values.to_numpy()


def _costs(
    text: str | None, cost_fp: float | None, cost_fn: float | None, matrix: Path | None
) -> Any:
    """--costs, or the deprecated --cost-fp/--cost-fn and --cost-matrix it replaces."""
    if text is not None and (cost_fp, cost_fn, matrix) != (None, None, None):
        raise InvalidInputError(
            "Pass either --costs or the older --cost-fp/--cost-fn/--cost-matrix, not both. "
            "To fix: keep --costs (fp=X,fn=Y, or a cost-matrix file)."
        )
    if (cost_fp is None) != (cost_fn is None):
        raise InvalidInputError(
            "Pass both --cost-fp and --cost-fn (the price of each kind of error), or neither. "
            "To fix: add the missing one, or use --costs fp=1,fn=20."
        )
    if cost_fp is not None and matrix is not None:
        raise InvalidInputError(
            "Pass either --cost-fp/--cost-fn (binary) or --cost-matrix, not both. To fix: use "
            "--costs with a cost-matrix file for a multiclass target, fp=X,fn=Y for a binary one."
        )
    if cost_fp is not None:
        return {"fp": cost_fp, "fn": cost_fn}
    if matrix is not None:
        return read_cost_table(matrix, "--cost-matrix")
    return read_costs(text)


def _as_label(text: str, y: np.ndarray, where: str) -> Any:
    """The class of ``y`` whose text is ``text`` (files and flags hold labels as text)."""
    import numpy as np

    by_text = {str(c): c for c in np.unique(y).tolist()}
    if text.endswith(".0") and text[:-2] in by_text:  # header "1.0" for an integer label 1
        text = text[:-2]
    if text not in by_text:
        raise InvalidInputError(
            f"{where}: {text!r} is not a class of the target ({sorted(by_text)}). To fix: "
            "use the class labels exactly as they appear in the target column."
        )
    return by_text[text]


def _print(advice: MetricAdvice) -> None:
    console.print(f"[bold]{advice.task}[/] target, {advice.n_samples} rows")
    facts = Table(show_edge=False)
    facts.add_column("class")
    facts.add_column("rows", justify="right")
    facts.add_column("share", justify="right")
    for label, share in advice.class_shares.items():
        facts.add_row(str(label), f"{round(share * advice.n_samples)}", f"{share:.1%}")
    console.print(facts)
    lines = [f"[bold]primary:[/] {advice.primary}"]
    lines.append(f"[bold]secondary:[/] {', '.join(advice.secondary)}")
    if advice.decision:
        lines.append(f"[bold]decision:[/] {advice.decision}")
    console.print(Panel("\n".join(lines), title="recommended metrics", expand=False))
    for sentence in advice.rationale:
        console.print(f"• {sentence}", highlight=False)
