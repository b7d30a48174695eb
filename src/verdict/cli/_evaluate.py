"""``verdict evaluate``: score predictions stored in a CSV or Parquet file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from verdict.cli._costs import CostsOption, read_costs
from verdict.cli._output import JsonFlag, console, domain_errors, read_table
from verdict.errors import InvalidInputError

if TYPE_CHECKING:  # numpy and pandas load when the command runs, not for `verdict --help`
    import numpy as np
    import pandas as pd

    from verdict.metrics import Evaluation


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
    as_json: JsonFlag = False,
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
    costs: CostsOption = None,
) -> None:
    """Evaluate predictions: counts, ranking and probabilistic metrics, per class and averaged.

    With --costs (and --pred) it also gives the mean cost of the predictions per row, with its
    bootstrap interval under --ci.
    """
    with domain_errors():
        if costs is not None and pred is None:
            raise InvalidInputError(
                "--costs prices the predicted labels, and no --pred column was given. To fix: "
                "pass --pred COLUMN with the predicted labels."
            )
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
        cost = None if costs is None else _cost(result, table, (true, pred, weight), costs)
    if as_json:
        if cost is None:
            return typer.echo(result.to_json())
        import json

        typer.echo(json.dumps({**json.loads(result.to_json()), "expected_cost": cost}, indent=2))
        return None
    console.print(result)
    if cost is not None:
        interval = f" [{cost['low']:.4g}, {cost['high']:.4g}]" if "low" in cost else ""
        console.print(f"expected cost per row: {cost['estimate']:.4g}{interval} (lower is better)")
    return None


def _cost(
    result: Evaluation, table: pd.DataFrame, columns: tuple[str, str | None, str | None],
    text: str,
) -> dict[str, float]:  # fmt: skip
    """The mean cost of the predicted labels, with an interval made as the result's were."""
    from verdict.metrics import bootstrap_ci, cost_matrix, expected_cost

    true, pred, weight = columns
    labels = list(result.labels)
    matrix = cost_matrix(read_costs(text), labels)
    y_true, y_pred = table[true].to_numpy(), table[pred].to_numpy()
    w = None if weight is None else table[weight].to_numpy()
    estimate = expected_cost(y_true, y_pred, cost_matrix=matrix, labels=labels, sample_weight=w)
    if result.interval_confidence is None:
        return {"estimate": estimate}

    def mean_cost(t: np.ndarray, p: np.ndarray, sample_weight: np.ndarray | None = None) -> float:
        return expected_cost(t, p, cost_matrix=matrix, labels=labels, sample_weight=sample_weight)

    ci = bootstrap_ci(
        mean_cost, y_true, y_pred, sample_weight=w, confidence=result.interval_confidence,
        n_resamples=result.interval_resamples or 1000, random_state=result.interval_seed,
    )  # fmt: skip
    return {"estimate": estimate, "low": float(ci.low), "high": float(ci.high)}


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
