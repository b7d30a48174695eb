"""``verdict evaluate``: score predictions stored in a CSV or Parquet file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from verdict.cli._output import console, domain_errors, read_table
from verdict.errors import InvalidInputError

if TYPE_CHECKING:  # numpy and pandas load when the command runs, not for `verdict --help`
    import numpy as np
    import pandas as pd


def evaluate(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="CSV, Parquet or JSON Lines file of predictions.")
    ],
    true: Annotated[str, typer.Option("--true", help="Column with the true labels.")],
    pred: Annotated[
        str | None, typer.Option("--pred", help="Column with the predicted labels.")
    ] = None,
    score: Annotated[
        list[str] | None,
        typer.Option("--score", help="Score column; repeat once per class, in label order."),
    ] = None,
    proba_prefix: Annotated[
        str | None,
        typer.Option("--proba-prefix", help="Columns PREFIX<label> hold each class's probability."),
    ] = None,
    weight: Annotated[str | None, typer.Option("--weight", help="Sample-weight column.")] = None,
    decision: Annotated[
        bool, typer.Option("--decision", help="Scores are decision values, not probabilities.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
    ci: Annotated[
        bool, typer.Option("--ci", help="Add a bootstrap confidence interval to every metric.")
    ] = False,
    confidence: Annotated[
        float, typer.Option("--confidence", help="Confidence level of the intervals.")
    ] = 0.95,
    resamples: Annotated[
        int, typer.Option("--resamples", help="Bootstrap resamples for --ci.")
    ] = 1000,
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="Seed of the resampling.", show_default="drawn at random"),
    ] = None,
) -> None:
    """Evaluate predictions: counts, ranking and probabilistic metrics, per class and averaged."""
    with domain_errors():
        table = read_table(file)
        _require_columns(table, [true, pred, weight, *(score or [])])
        if score and proba_prefix:
            raise InvalidInputError(
                "Pass either --score or --proba-prefix, not both. To fix: drop one; "
                "--proba-prefix reads every PREFIX<label> column."
            )
        y_score, labels = _scores(table, true, score, proba_prefix)
        from verdict.metrics import evaluate as evaluate_metrics  # scipy: only when run

        result = evaluate_metrics(
            table[true].to_numpy(),
            None if pred is None else table[pred].to_numpy(),
            y_score,
            labels=labels,
            sample_weight=None if weight is None else table[weight].to_numpy(),
            proba=not decision,
            ci=ci,
            confidence=confidence,
            n_resamples=resamples,
            random_state=seed,
        )
    if as_json:
        typer.echo(result.to_json())
    else:
        console.print(result)


def _require_columns(table: pd.DataFrame, columns: list[str | None]) -> None:
    missing = [c for c in columns if c is not None and c not in table.columns]
    if missing:
        raise InvalidInputError(
            f"Column(s) {missing} not found. The file has: {list(table.columns)}. "
            "To fix: check the column names (they are case-sensitive)."
        )


def _scores(
    table: pd.DataFrame, true: str, score: list[str] | None, prefix: str | None
) -> tuple[np.ndarray | None, list | None]:
    import numpy as np

    if score:
        values = table[score].to_numpy(dtype=np.float64)
        return (values[:, 0] if len(score) == 1 else values), None
    if not prefix:
        return None, None
    columns = [c for c in table.columns if str(c).startswith(prefix)]
    if not columns:
        raise InvalidInputError(
            f"No column starts with {prefix!r}. To fix: pass the prefix of the probability "
            "columns, e.g. --proba-prefix proba_ for proba_<class> columns."
        )
    suffixes = [str(c)[len(prefix) :] for c in columns]
    labels = _labels_like(suffixes, table[true])
    return table[columns].to_numpy(dtype=np.float64), labels


def _labels_like(suffixes: list[str], truth: pd.Series) -> list:
    """Turn column suffixes into labels of the same type as the true-label column."""
    if truth.dtype.kind in "iub":
        try:
            return [truth.dtype.type(int(s)) for s in suffixes]
        except ValueError as exc:
            raise InvalidInputError(
                f"Probability columns end in {suffixes} but the true labels are numbers. "
                "To fix: name the columns PREFIX<label> with the numeric label."
            ) from exc
    return suffixes
