"""``verdict advise``: which metric to report for a labelled table, and where to cut."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.panel import Panel
from rich.table import Table

from verdict.cli._output import console, domain_errors, read_table
from verdict.errors import InvalidInputError

if TYPE_CHECKING:
    from verdict.metrics import MetricAdvice


def advise(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="CSV, Parquet or JSON Lines file with the labels."),
    ],
    target: Annotated[str, typer.Option("--target", help="Column with the true labels.")],
    cost_fp: Annotated[
        float | None, typer.Option("--cost-fp", help="Cost of one false positive (binary).")
    ] = None,
    cost_fn: Annotated[
        float | None, typer.Option("--cost-fn", help="Cost of one false negative (binary).")
    ] = None,
    cost_matrix: Annotated[
        Path | None,
        typer.Option(
            "--cost-matrix",
            help="Table of costs: first column the true class, header the predicted class "
            "(or a square table whose rows follow the header's order).",
        ),
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
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Recommend the metric to report and the decision rule, from class balance and costs."""
    with domain_errors():
        y = _target(read_table(file), target)
        costs = _costs(y, cost_fp, cost_fn, cost_matrix)
        from verdict.metrics import recommend_metrics  # scipy: only when advising

        advice = recommend_metrics(
            y,
            costs=costs,
            needs_probabilities=needs_probabilities,
            pos_label=None if pos_label is None else _as_label(pos_label, y, "--pos-label"),
        )
    if as_json:
        typer.echo(json.dumps(advice.to_dict(), indent=2, allow_nan=False))
    else:
        _print(advice)


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


def _costs(y: np.ndarray, cost_fp: float | None, cost_fn: float | None, matrix: Path | None) -> Any:
    if (cost_fp is None) != (cost_fn is None):
        raise InvalidInputError(
            "Pass both --cost-fp and --cost-fn (the price of each kind of error), or neither. "
            "To fix: add the missing one, e.g. --cost-fp 1 --cost-fn 20."
        )
    if cost_fp is not None and matrix is not None:
        raise InvalidInputError(
            "Pass either --cost-fp/--cost-fn (binary) or --cost-matrix, not both. To fix: keep "
            "--cost-matrix for a multiclass target, the two flags for a binary one."
        )
    if cost_fp is not None:
        return {"fp": cost_fp, "fn": cost_fn}
    return None if matrix is None else _read_matrix(matrix, y)


def _read_matrix(path: Path, y: np.ndarray) -> np.ndarray:
    """The cost table reordered to sorted label order (the order recommend_metrics expects)."""
    table = read_table(path)
    classes = np.unique(y)
    k = classes.shape[0]
    if table.shape == (k, k + 1):
        rows = [_as_label(str(v), y, f"{path} (row)") for v in table.iloc[:, 0]]
        table = table.iloc[:, 1:]
    elif table.shape == (k, k):
        rows = None
    else:
        raise InvalidInputError(
            f"{path} has shape {table.shape} but the target has {k} classes. To fix: write a "
            f"{k} x {k} table of costs with the predicted classes as header and the true "
            "classes in a first column (cost of predicting the column when the truth is the row)."
        )
    cols = [_as_label(str(c), y, f"{path} (header)") for c in table.columns]
    rows = cols if rows is None else rows
    values = table.to_numpy()
    if values.dtype.kind not in "biuf":
        raise InvalidInputError(f"{path} holds non-numeric costs. To fix: write numbers only.")
    if len(set(rows)) != k or len(set(cols)) != k:
        raise InvalidInputError(
            f"{path} must name every class once in its header and rows. To fix: use the "
            f"classes {classes.tolist()}."
        )
    order = np.searchsorted(classes, np.array(rows, dtype=classes.dtype))
    col_order = np.searchsorted(classes, np.array(cols, dtype=classes.dtype))
    out = np.empty((k, k), dtype=np.float64)
    out[np.ix_(order, col_order)] = values
    return out


def _as_label(text: str, y: np.ndarray, where: str) -> Any:
    """The class of ``y`` whose text is ``text`` (files and flags hold labels as text)."""
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
