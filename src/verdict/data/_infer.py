"""Infer each column's kind from its dtype and values, by rules simple enough to state.

The rules, in order (the first that applies wins; ``kinds=`` overrides them per column):

1. every value missing -> ``empty`` (dropped);
2. one value in every row, none missing -> ``constant`` (dropped). One value plus missing
   values stays a feature: whether the value is present can carry information, and the
   pipeline's missing indicator keeps it;
3. ``bool`` dtype, numbers that are only 0 and 1, or strings that are only true/false,
   yes/no, y/n or t/f (any case) -> ``boolean``;
4. a datetime dtype, or strings that one date format parses completely -> ``datetime``;
5. numbers: integers whose values are (nearly) all distinct and either form a run of
   consecutive numbers (a row number) or sit in a column named like an id (``id``,
   ``customer_id``, ``userId``, ``uuid``, ``index``...) -> ``id`` (dropped); other numbers ->
   ``numeric``. Integers with few values stay numeric, keeping their order (counts, ratings,
   years); codes such as postcodes are declared with ``kinds={'zip': 'categorical'}``;
6. a pandas ``category`` dtype -> ``categorical`` with its declared categories;
7. strings: long (median at least 20 characters and 3 words) and mostly distinct (half or
   more) -> free text, refused with an error; at least 95% distinct over 10 or more values ->
   ``id`` (dropped); otherwise ``categorical``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from verdict._results import plain
from verdict.data._datetimes import detect_datetime_format
from verdict.data._schema import ColumnKind, ColumnSchema, Schema
from verdict.data._validate import check_frame, require_column, require_columns
from verdict.errors import InvalidInputError

ID_UNIQUE_SHARE = 0.95
ID_MIN_VALUES = 10
TEXT_MIN_CHARS = 20
TEXT_MIN_WORDS = 3
TEXT_MIN_UNIQUE_SHARE = 0.5
_SAMPLE = 5000
_BOOLEAN_WORDS = ({"true", "false"}, {"yes", "no"}, {"y", "n"}, {"t", "f"})
_ID_WORDS = {"id", "ids", "uuid", "guid", "idx", "index", "pk", "rowid"}
_OVERRIDES = {"numeric", "categorical", "boolean", "datetime", "drop"}


def infer_schema(
    frame: pd.DataFrame,
    target: str,
    *,
    sensitive: Iterable[str] = (),
    kinds: Mapping[str, str] | None = None,
) -> Schema:
    """Decide what each column is: a feature of some kind, or dropped and why.

    The rules are in this module's docstring; the chosen rule is recorded per column in
    :attr:`ColumnSchema.reason`. Free text is refused rather than dropped quietly, because a
    model trained without a column the user thought mattered would mislead them.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table, target column included.
    target : str
        The column to predict; its distinct non-missing values become ``Schema.classes``.
    sensitive : iterable of str, default ()
        Columns holding sensitive attributes (recorded, see :class:`Schema`).
    kinds : mapping of str to str, optional
        Overrides: column -> 'numeric', 'categorical', 'boolean', 'datetime' or 'drop'.

    Returns
    -------
    Schema

    Raises
    ------
    InvalidInputError
        If the target or a named column is missing, the target has no values, a column looks
        like free text or holds values verdict cannot featurise (lists, durations...).
    """
    frame = check_frame(frame)
    target = require_column(frame, target, "target")
    sensitive = require_columns(frame, sensitive, "sensitive")
    if target in sensitive:
        raise InvalidInputError(
            f"sensitive names the target {target!r}. To fix: list only feature columns there."
        )
    overrides = _check_overrides(frame, target, kinds or {})
    columns = []
    for name in frame.columns:
        if name == target:
            continue
        if name in overrides:
            columns.append(_declared(name, frame[name], overrides[name]))
        else:
            columns.append(_infer_column(name, frame[name]))
    return Schema(
        target=target,
        classes=target_classes(frame[target], target),
        columns=tuple(columns),
        sensitive=sensitive,
    )


def target_classes(y: pd.Series, target: str) -> tuple[Any, ...]:
    """The target's distinct non-missing values, sorted, as plain Python values."""
    values = y.dropna().unique()
    if len(values) == 0:
        raise InvalidInputError(
            f"target {target!r} has no values: every row is missing. To fix: choose the column "
            f"that holds the labels."
        )
    return tuple(_sorted(plain(v) for v in values))


def _sorted(values: Iterable[Any]) -> list[Any]:
    values = list(values)
    try:
        return sorted(values)
    except TypeError:  # mixed types (numbers and strings in one object column)
        return sorted(values, key=lambda v: (type(v).__name__, str(v)))


def _check_overrides(frame: pd.DataFrame, target: str, kinds: Mapping[str, str]) -> dict[str, str]:
    require_columns(frame, kinds, "kinds")
    for name, kind in kinds.items():
        if name == target:
            raise InvalidInputError(f"kinds names the target {target!r}. To fix: remove it.")
        if kind not in _OVERRIDES:
            raise InvalidInputError(
                f"kinds[{name!r}]={kind!r} is not a kind. To fix: use one of {sorted(_OVERRIDES)}."
            )
    return dict(kinds)


def _declared(name: str, values: pd.Series, kind: str) -> ColumnSchema:
    """The kind the user declared, after checking the values allow it."""
    dtype = str(values.dtype)
    reason = f"declared {kind} (kinds={{{name!r}: {kind!r}}})"
    if kind == "drop":
        return ColumnSchema(name, ColumnKind.DROPPED, dtype, f"dropped as asked ({reason})")
    if kind == "categorical":
        return ColumnSchema(name, ColumnKind.CATEGORICAL, dtype, reason, _categories(values))
    if kind == "numeric" and pd.api.types.is_numeric_dtype(values):
        return ColumnSchema(name, ColumnKind.NUMERIC, dtype, reason)
    if kind == "boolean" and values.nunique(dropna=True) <= 2:
        return ColumnSchema(name, ColumnKind.BOOLEAN, dtype, reason, _categories(values))
    if kind == "datetime":
        if pd.api.types.is_datetime64_any_dtype(values):
            return ColumnSchema(name, ColumnKind.DATETIME, dtype, reason)
        fmt = detect_datetime_format(values)
        if fmt is not None:
            return ColumnSchema(name, ColumnKind.DATETIME, dtype, reason, datetime_format=fmt)
    raise InvalidInputError(
        f"Column {name!r} was declared {kind} but its values do not allow it "
        f"({_describe(values)}). To fix: convert it first (pandas.to_numeric or "
        f"pandas.to_datetime with its format) or declare another kind."
    )


def _describe(values: pd.Series) -> str:
    sample = [plain(v) for v in values.dropna().unique()[:3]]
    return f"dtype {values.dtype}, {values.nunique()} distinct values such as {sample}"


def _infer_column(name: str, values: pd.Series) -> ColumnSchema:
    """Apply the module's rules to one column."""
    _refuse_unsupported(name, values)
    dtype = str(values.dtype)
    present = values.dropna()
    if present.empty:
        return ColumnSchema(name, ColumnKind.EMPTY, dtype, "every value is missing")
    n_unique = present.nunique()
    if n_unique == 1 and len(present) == len(values):
        only = plain(present.iloc[0])
        return ColumnSchema(
            name, ColumnKind.CONSTANT, dtype, f"the single value {only!r} in every row"
        )
    boolean = _boolean_reason(values, present)
    if boolean:
        return ColumnSchema(name, ColumnKind.BOOLEAN, dtype, boolean, _categories(values))
    if pd.api.types.is_datetime64_any_dtype(values):
        return ColumnSchema(name, ColumnKind.DATETIME, dtype, "datetime dtype")
    if pd.api.types.is_numeric_dtype(values):
        return _numeric(name, values, present, n_unique)
    if isinstance(values.dtype, pd.CategoricalDtype):
        return ColumnSchema(
            name, ColumnKind.CATEGORICAL, dtype, "category dtype", _categories(values)
        )
    return _strings(name, values, present, n_unique)


def _refuse_unsupported(name: str, values: pd.Series) -> None:
    kind = values.dtype.kind
    if kind in "mc" or isinstance(values.dtype, (pd.PeriodDtype, pd.IntervalDtype)):
        raise InvalidInputError(
            f"Column {name!r} has dtype {values.dtype}, which verdict does not featurise. To fix: "
            f"convert it to numbers (for durations: frame[{name!r}].dt.total_seconds()) or drop it."
        )
    if kind == "O":
        head = values.dropna().iloc[:1000]
        if any(isinstance(v, (list, dict, set, tuple, np.ndarray)) for v in head):
            raise InvalidInputError(
                f"Column {name!r} holds nested values (lists or dicts). To fix: flatten them "
                f"into columns (pandas.json_normalize) or drop the column."
            )


def _boolean_reason(values: pd.Series, present: pd.Series) -> str:
    """Why the column is boolean, or '' if it is not."""
    if pd.api.types.is_bool_dtype(values):
        return "bool dtype"
    if pd.api.types.is_numeric_dtype(values):
        return "only the numbers 0 and 1" if set(present.unique()) <= {0, 1} else ""
    if isinstance(values.dtype, pd.CategoricalDtype) or not _all_strings(present):
        return ""
    uniques = present.unique()
    if len(uniques) > 2:
        return ""
    words = {str(v).strip().lower() for v in uniques}
    if any(words <= pair for pair in _BOOLEAN_WORDS):
        return f"only the values {sorted(str(v) for v in uniques)}"
    return ""


def _numeric(name: str, values: pd.Series, present: pd.Series, n_unique: int) -> ColumnSchema:
    dtype = str(values.dtype)
    if n_unique >= ID_MIN_VALUES and n_unique >= ID_UNIQUE_SHARE * len(present):
        integral = np.array_equal(present, np.round(present))
        if integral and _id_like_name(name):
            reason = f"{n_unique} distinct integers in {len(present)} rows, named like an id"
            return ColumnSchema(name, ColumnKind.ID, dtype, reason)
        if integral and n_unique == len(present) and present.max() - present.min() + 1 == n_unique:
            reason = (
                f"consecutive distinct integers {present.min()}..{present.max()} (a row number)"
            )
            return ColumnSchema(name, ColumnKind.ID, dtype, reason)
    return ColumnSchema(name, ColumnKind.NUMERIC, dtype, f"numbers ({dtype})")


def _id_like_name(name: str) -> bool:
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name).lower()
    return any(w in _ID_WORDS for w in re.split(r"[^a-z0-9]+", words))


def _strings(name: str, values: pd.Series, present: pd.Series, n_unique: int) -> ColumnSchema:
    dtype = str(values.dtype)
    fmt = detect_datetime_format(present) if _all_strings(present) else None
    if fmt is not None:
        return ColumnSchema(
            name, ColumnKind.DATETIME, dtype, f"strings that all parse as {fmt!r}", None, fmt
        )
    share = n_unique / len(present)
    _refuse_text(name, present, share)
    if n_unique >= ID_MIN_VALUES and share >= ID_UNIQUE_SHARE:
        reason = f"{share:.0%} of its {len(present)} values are distinct: an identifier"
        return ColumnSchema(name, ColumnKind.ID, dtype, reason)
    reason = f"{n_unique} distinct values"
    return ColumnSchema(name, ColumnKind.CATEGORICAL, dtype, reason, _categories(values))


def _refuse_text(name: str, present: pd.Series, share: float) -> None:
    if share < TEXT_MIN_UNIQUE_SHARE:
        return
    sample = present.iloc[:_SAMPLE].astype(str)
    chars = float(sample.str.len().median())
    words = float(sample.str.split().str.len().median())
    if chars >= TEXT_MIN_CHARS and words >= TEXT_MIN_WORDS:
        raise InvalidInputError(
            f"Column {name!r} looks like free text (long, mostly unique strings: median "
            f"{words:.0f} words, {share:.0%} distinct); verdict does not featurise text. To fix: "
            f"drop it (kinds={{{name!r}: 'drop'}} or frame.drop(columns=[{name!r}])), derive "
            f"numeric or categorical features from it yourself (length, keyword flags, a topic), "
            f"or declare it categorical (kinds={{{name!r}: 'categorical'}}) if it holds labels."
        )


def _all_strings(present: pd.Series) -> bool:
    if pd.api.types.is_string_dtype(present.dtype) and present.dtype != object:
        return True
    return pd.api.types.infer_dtype(present, skipna=True) == "string"


def _categories(values: pd.Series) -> tuple[Any, ...]:
    """The allowed levels: declared categories of a category dtype, else the observed ones."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        levels = values.dtype.categories
    else:
        levels = values.dropna().unique()
    return tuple(_sorted(plain(v) for v in levels))
