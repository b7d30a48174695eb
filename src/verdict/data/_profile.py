"""A profile of a training table: what the report shows before any model is discussed."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from typing import Any, ClassVar

import pandas as pd

from verdict._params import Interval, check
from verdict._results import Result, plain
from verdict.data._infer import infer_schema, target_classes
from verdict.data._schema import Schema
from verdict.data._summaries import (
    CategoricalSummary,
    CorrelatedPair,
    DatetimeSummary,
    NumericSummary,
    association,
    categorical_summary,
    datetime_summary,
    numeric_summaries,
    top_correlations,
)
from verdict.data._validate import check_frame, require_column, require_columns
from verdict.errors import InvalidInputError


@dataclass(frozen=True, slots=True)
class ClassBalance(Result):
    """Rows per class among the labelled rows.

    ``imbalance_ratio`` is the largest class's count over the smallest's (1.0 when balanced).
    """

    classes: tuple[Any, ...]
    counts: tuple[int, ...]
    shares: tuple[float, ...]
    imbalance_ratio: float


@dataclass(frozen=True, slots=True)
class Profile(Result):
    """What a table holds, for the report and for a reader deciding whether to trust a model.

    Summaries cover the labelled rows (those training uses); ``missing`` (share of missing
    values per column, target included) and ``n_unlabelled`` cover every row given. ``kinds``
    maps each column to its schema kind. ``association`` is the mutual information (in nats)
    of each feature with the target, highest first; ``correlations`` the most correlated
    pairs of numeric features. ``to_dict()`` gives plain JSON types.
    """

    target: str
    n_rows: int
    n_columns: int
    n_unlabelled: int
    class_balance: ClassBalance
    kinds: dict[str, str]
    missing: dict[str, float]
    numeric: dict[str, NumericSummary]
    categorical: dict[str, CategoricalSummary]
    datetime: dict[str, DatetimeSummary]
    correlations: tuple[CorrelatedPair, ...]
    association: dict[str, float]
    _hidden: ClassVar[tuple[str, ...]] = (
        "kinds",
        "missing",
        "numeric",
        "categorical",
        "datetime",
        "correlations",
        "association",
    )


def profile_table(
    frame: pd.DataFrame,
    target: str,
    schema: Schema | None = None,
    *,
    top_levels: int = 10,
    top_pairs: int = 10,
    random_state: int = 0,
) -> Profile:
    """Summarise a table: class balance, missingness, each feature, correlations, association.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table, target included.
    target : str
        The class column.
    schema : Schema, optional
        Column kinds to summarise by; inferred with :func:`infer_schema` when None.
    top_levels : int, default 10
        How many of the most frequent levels to list per categorical column.
    top_pairs : int, default 10
        How many of the most correlated numeric pairs to list.
    random_state : int, default 0
        Seeds the row subsample and the estimator behind ``association`` (see
        ``ASSOCIATION_ROWS``), so that the same table gives the same profile.

    Returns
    -------
    Profile

    Raises
    ------
    InvalidInputError
        If the target is missing or empty, a schema feature is missing, or (with no schema)
        inference refuses a column (see :func:`infer_schema`).
    """
    frame = check_frame(frame)
    target = require_column(frame, target, "target")
    _check_counts(top_levels=top_levels, top_pairs=top_pairs)
    target_classes(frame[target], target)  # raises when every target value is missing
    labelled = frame[frame[target].notna()]
    schema = _schema_for(labelled, target, schema)
    return Profile(
        target=target,
        n_rows=len(frame),
        n_columns=frame.shape[1],
        n_unlabelled=len(frame) - len(labelled),
        class_balance=class_balance(labelled[target]),
        kinds={c.name: c.kind.value for c in schema.columns},
        missing={str(c): float(s) for c, s in frame.isna().mean().items()},
        numeric=numeric_summaries(labelled, schema.numeric),
        categorical={
            c: categorical_summary(labelled[c], top_levels)
            for c in (*schema.categorical, *schema.boolean)
        },
        datetime={
            c.name: datetime_summary(labelled[c.name], c.datetime_format)
            for c in schema.columns
            if c.name in schema.datetime
        },
        correlations=top_correlations(labelled, schema.numeric, top_pairs),
        association=association(labelled, schema, random_state),
    )


def _schema_for(labelled: pd.DataFrame, target: str, schema: Schema | None) -> Schema:
    """The given schema after checking it fits the table, or an inferred one."""
    if schema is None:
        return infer_schema(labelled, target)
    if schema.target != target:
        raise InvalidInputError(
            f"target={target!r} but the schema is for target {schema.target!r}. To fix: pass "
            f"the matching schema, or none."
        )
    require_columns(labelled, schema.features, "schema feature")
    return schema


def _check_counts(**values: Any) -> None:
    count = Interval(Integral, 0, None, closed="left")
    for argument, value in values.items():
        check(argument, value, "profile_table", count, fix=f"pass e.g. {argument}=10")


def class_balance(y: pd.Series) -> ClassBalance:
    """Counts and shares per class (in ``Schema.classes`` order), and the imbalance ratio."""
    counts = y.value_counts(dropna=True)  # reindexed below: unused categories fall away
    counts = counts.reindex(list(target_classes(y, str(y.name))))
    total = int(counts.sum())
    return ClassBalance(
        classes=tuple(plain(c) for c in counts.index),
        counts=tuple(int(n) for n in counts),
        shares=tuple(float(n / total) for n in counts),
        imbalance_ratio=float(counts.max() / counts.min()),
    )
