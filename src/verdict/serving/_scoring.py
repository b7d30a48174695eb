"""Score a frame with a loaded model: check the rows, then the class, probabilities and version.

The output has one row per input row, in order and with the input's index: the id columns as
given, ``class`` (the label the decision policy chose, so that the class served is the class
that was evaluated), ``proba_<label>`` per class in ``LoadedModel.classes`` order, and
``model_version`` (``'penguins@v3'``). Batch scoring writes exactly this, chunk by chunk.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from verdict.data import ColumnKind, RowCheck, Schema, check_rows
from verdict.errors import InvalidInputError
from verdict.registry import LoadedModel

CLASS_COLUMN = "class"
VERSION_COLUMN = "model_version"
PROBA_PREFIX = "proba_"


def score_frame(
    loaded: LoadedModel,
    frame: pd.DataFrame,
    *,
    id_columns: Sequence[str] | None = None,
    first_row: int = 0,
) -> pd.DataFrame:
    """The served class and the class probabilities of every row of ``frame``.

    Parameters
    ----------
    loaded : LoadedModel
        The model version to score with (``Registry.load``).
    frame : pandas.DataFrame
        The rows: the schema's feature columns (checked with ``check_rows``) and any others.
    id_columns : sequence of str, optional
        Columns copied to the output first, as given. None: the schema's ``id`` columns that
        ``frame`` has; ``()`` for none.
    first_row : int, default 0
        The position of the frame's first row in the whole input, for error messages.

    Returns
    -------
    pandas.DataFrame
        The id columns, ``class``, ``proba_<label>`` per class, ``model_version``; the
        input's index.

    Raises
    ------
    InvalidInputError
        If a value or column does not fit the schema (the message lists the first problems
        by row and column), or an id column is missing or clashes with an output column.
    """
    scored, _ = score_rows(loaded, frame, id_columns=id_columns, first_row=first_row)
    return scored


def score_rows(
    loaded: LoadedModel,
    frame: pd.DataFrame,
    *,
    id_columns: Sequence[str] | None = None,
    first_row: int = 0,
    what: str | None = None,
) -> tuple[pd.DataFrame, RowCheck]:
    """:func:`score_frame`, plus the :class:`RowCheck` (for its unknown-category counts)."""
    ids = resolve_id_columns(loaded, frame.columns, id_columns)
    check = check_rows(frame, loaded.schema, first_row=first_row)
    check.raise_for_problems(what=what)
    columns: dict[str, Any] = {name: frame[name] for name in ids}
    labels, proba = _predict(loaded, check.frame)
    columns[CLASS_COLUMN] = pd.Series(labels, index=frame.index)
    for j, name in enumerate(proba_columns(loaded)):
        columns[name] = pd.Series(proba[:, j], index=frame.index)
    columns[VERSION_COLUMN] = pd.Series(loaded.ref, index=frame.index)
    return pd.DataFrame(columns, index=frame.index), check


def _predict(loaded: LoadedModel, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Labels (the policy applied to the probabilities) and probabilities; one pass."""
    if len(features) == 0:  # scikit-learn refuses empty input
        labels = np.asarray(loaded.classes, dtype=object)[:0]
        return labels, np.empty((0, len(loaded.classes)), dtype=np.float64)
    proba = loaded.predict_proba(features)
    return loaded.policy.decide(proba), proba


def proba_columns(loaded: LoadedModel) -> list[str]:
    """``proba_<label>`` for each class, in ``loaded.classes`` order."""
    return [f"{PROBA_PREFIX}{label}" for label in loaded.classes]


def output_columns(loaded: LoadedModel, ids: Sequence[str]) -> list[str]:
    """The output's column names, in order."""
    return [*ids, CLASS_COLUMN, *proba_columns(loaded), VERSION_COLUMN]


def default_id_columns(schema: Schema, columns: Iterable[Any]) -> list[str]:
    """The schema's columns of kind ``id`` that are among ``columns``, in schema order."""
    present = set(columns)
    return [c.name for c in schema.columns if c.kind is ColumnKind.ID and c.name in present]


def resolve_id_columns(
    loaded: LoadedModel, columns: Iterable[Any], id_columns: Sequence[str] | None
) -> list[str]:
    """The id columns to copy: checked to exist and not to clash with the output's names."""
    columns = list(columns)
    if id_columns is None:
        ids = default_id_columns(loaded.schema, columns)
    else:
        ids = [id_columns] if isinstance(id_columns, str) else list(id_columns)
    missing = [name for name in ids if name not in columns]
    if missing:
        raise InvalidInputError(
            f"id_columns {missing} are not columns of the input. To fix: name columns it has "
            f"(it has {[str(c) for c in columns][:20]}), or leave id_columns unset to copy the "
            "schema's id columns."
        )
    taken = sorted(set(ids) & set(output_columns(loaded, [])))
    if taken or len(set(ids)) != len(ids):
        raise InvalidInputError(
            f"id_columns {ids} repeat a name or use one of the output's own names {taken}. "
            "To fix: rename those columns in the input, or pass id_columns without them."
        )
    return ids
