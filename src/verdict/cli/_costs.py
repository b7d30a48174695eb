"""``--costs``, the one spelling of what mistakes cost, shared by ``advise`` and ``train``.

The option's text is either ``fp=1,fn=20`` (binary) or the path of a cost-matrix file. This
module only reads the text: the pairs become a mapping and the file a table labelled with the
classes; ``verdict.metrics.cost_matrix`` checks and orders both, as for the Python API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from verdict.cli._output import read_table
from verdict.errors import InvalidInputError

COSTS_HELP = (
    "Costs of mistakes: 'fp=1,fn=20' (binary), or a CSV file of a square cost matrix "
    "(header: predicted class; first column, optional: true class)."
)
CostsOption = Annotated[str | None, typer.Option("--costs", help=COSTS_HELP)]


def read_costs(text: str | None, option: str = "--costs") -> Any:
    """``fp=1,fn=20`` as a dict, or the cost matrix read from a file (labelled DataFrame)."""
    if text is None:
        return None
    if "=" in text and not Path(text).exists():
        return _cost_pairs(text, option)
    return read_cost_table(text, option)


def read_cost_table(path: str | Path, option: str = "--costs") -> Any:
    """A cost-matrix file as a table: index the true class, columns the predicted class."""
    table = read_table(path)
    n_rows, n_cols = table.shape
    if n_cols == n_rows + 1:  # the first column names the true classes
        return table.set_index(table.columns[0])
    if n_cols == n_rows:  # rows follow the header's order
        table.index = table.columns
        return table
    raise InvalidInputError(
        f"{option} {path}: a cost matrix file must be square, with the predicted classes as "
        f"header (and optionally the true classes as first column); it has {n_rows} rows and "
        f"{n_cols} columns. To fix: write one row and one column per class."
    )


def _cost_pairs(text: str, option: str) -> dict[str, float]:
    """``key=number`` pairs; which keys and values are allowed is ``cost_matrix``'s to say."""
    pairs: dict[str, float] = {}
    for item in text.split(","):
        key, _, value = item.partition("=")
        try:
            pairs[key.strip()] = float(value)
        except ValueError:
            raise InvalidInputError(
                f"{option} {text!r} is neither 'fp=X,fn=Y' with two numbers nor an existing "
                f"file. To fix: pass e.g. {option} fp=1,fn=20, or the path of a CSV cost matrix."
            ) from None
    return pairs
