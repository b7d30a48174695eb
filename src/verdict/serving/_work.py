"""One pipeline call for many requests: the rows of a micro-batch checked and scored together.

Each request arrives as :class:`Rows` (its features as columns). :func:`score_batch` builds one
DataFrame for the whole batch, checks it with ``check_rows`` (the checks batch scoring uses),
scores it with one ``predict_proba`` and hands each request back its own slice as
:class:`Scored`: labels, probabilities, the problems of its rows (numbered within the request)
and its unknown-category counts. Every step is row-wise, so a request's result does not depend
on the company it was scored in.

Missing values (null, NaN) are imputed as in training, except in ``required`` features where
they are a ``missing_value`` problem. Infinite numbers (``Infinity``, ``1e999``) in a numeric
feature are a ``not_finite`` problem: JSON has no infinity, so one reaching the service is a
client bug rather than a value to impute. Finite numbers far outside the training range (see
:func:`training_ranges`) are scored, and counted per column in ``Scored.out_of_range``, as
unknown categories are.
"""

from __future__ import annotations

import weakref
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from verdict.data import (
    ColumnKind,
    RowCheck,
    RowProblem,
    check_rows,
    is_numeric_dtype_name,
    level_spelling,
)
from verdict.registry import LoadedModel
from verdict.serving._runtime import Predict, native


@dataclass(frozen=True, slots=True)
class Logged:
    """What the prediction log stores about who asked, with a request's rows."""

    request_id: str
    client_request_id: str | None = None


@dataclass(frozen=True, slots=True)
class Rows:
    """A request's rows: every feature as a column of ``n`` values (JSON scalars); with
    ``logged``, they are committed to the prediction log with their results before the
    request gets them (see ``ServedModels``)."""

    columns: dict[str, list[Any]]
    n: int
    logged: Logged | None = None


@dataclass(frozen=True, slots=True)
class Scored:
    """A request's result: labels and probabilities per row, or the problems of its rows."""

    labels: list[Any]
    proba: np.ndarray
    problems: tuple[RowProblem, ...]
    unknown: dict[str, int]
    out_of_range: dict[str, int] = field(default_factory=dict)


Ranges = dict[str, tuple[float, float]]  # numeric feature -> (low, high) still in range
OUT_OF_RANGE_FACTOR = 1000.0


def training_ranges(reference: pd.DataFrame, features: Sequence[str]) -> Ranges:
    """Per numeric feature, the values beyond which a number is out of range: the training
    range widened by ``OUT_OF_RANGE_FACTOR`` times its scale (the larger of its span and its
    largest magnitude), i.e. three orders of magnitude beyond anything seen in training."""
    ranges: Ranges = {}
    for name in features:
        if name not in reference or not pd.api.types.is_numeric_dtype(reference[name]):
            continue
        if pd.api.types.is_bool_dtype(reference[name]):
            continue
        values = reference[name].to_numpy(dtype=float, na_value=np.nan)
        values = values[np.isfinite(values)]
        if not len(values):
            continue
        low, high = float(values.min()), float(values.max())
        scale = max(high - low, abs(low), abs(high)) or 1.0
        ranges[name] = (low - OUT_OF_RANGE_FACTOR * scale, high + OUT_OF_RANGE_FACTOR * scale)
    return ranges


def rows_of(rows: Rows) -> int:
    """The number of rows of a request (the batcher's ``size``)."""
    return rows.n


def score_batch(
    loaded: LoadedModel,
    required: Collection[str],
    batch: Sequence[Rows],
    predict: Predict | None = None,
    ranges: Ranges | None = None,
) -> list[Scored]:
    """Check and score the rows of every request of ``batch`` in one pipeline call
    (``predict``: the runtime's, by default the pipeline's own)."""
    features = _features(loaded).names
    if len(batch) == 1:
        columns = batch[0].columns
    else:
        columns = {
            f: list(chain.from_iterable(rows.columns[f] for rows in batch)) for f in features
        }
    frame, arrays = _frame(columns, loaded)
    check = _clean(frame, arrays, loaded)
    if check is None:
        check = check_rows(frame, loaded.schema, required=required)
        problems = sorted(check.problems + _infinite(frame, loaded), key=_order(features))
    else:
        problems = []
    far = _out_of_range(arrays, check.frame, ranges or {})  # before the pipeline sees them
    n = len(frame)
    if n:
        proba, labels = (predict or native(loaded).predict)(check.frame)
    else:
        proba, labels = np.empty((0, len(loaded.classes))), []
    return _split(loaded, batch, frame, check.unknown_categories, problems, labels, proba, far)


def check_only(loaded: LoadedModel, required: Collection[str], rows: Rows) -> list[RowProblem]:
    """The problems ``score_batch`` would find in ``rows``, without scoring them."""
    frame, _ = _frame(rows.columns, loaded)
    check = check_rows(frame, loaded.schema, required=required)
    return sorted(check.problems + _infinite(frame, loaded), key=_order(loaded.schema.features))


def _out_of_range(
    arrays: dict[str, np.ndarray], checked: pd.DataFrame, ranges: Ranges
) -> dict[str, np.ndarray]:
    """Per numeric feature with any, which rows hold a number beyond its range (read from the
    float arrays the batch was built with; a column that held other values, as checked)."""
    found = {}
    for name, (low, high) in ranges.items():
        values = arrays.get(name)
        if values is None:
            continue
        if values.dtype != np.float64:
            values = checked[name].to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            beyond = (values < low) | (values > high)
        if beyond.any():
            found[name] = beyond
    return found


_NUMBERS = frozenset({int, float})
_STR = {str}


@dataclass(frozen=True)
class _Features:
    """What a batch needs to know of a version's features, read once per version."""

    names: tuple[str, ...]
    numeric: frozenset[str]
    # categorical features whose strings check_rows takes as they are (their training dtype
    # is not numeric), with the spellings seen in training (None: unknown ones not counted)
    words: dict[str, frozenset[str] | None]

    @property
    def plain(self) -> bool:
        """Whether every feature is numeric or such a categorical one."""
        return len(self.numeric) + len(self.words) == len(self.names)


_FEATURES: weakref.WeakKeyDictionary[LoadedModel, _Features] = weakref.WeakKeyDictionary()


def _features(loaded: LoadedModel) -> _Features:
    found = _FEATURES.get(loaded)
    if found is None:
        schema = loaded.schema
        columns = [schema.column(name) for name in schema.features]
        words = {
            c.name: None if c.categories is None else frozenset(map(level_spelling, c.categories))
            for c in columns
            if c.kind is ColumnKind.CATEGORICAL and not is_numeric_dtype_name(c.dtype)
        }
        numeric = frozenset(c.name for c in columns if c.kind is ColumnKind.NUMERIC)
        found = _FEATURES[loaded] = _Features(schema.features, numeric, words)
    return found


def _clean(
    frame: pd.DataFrame, arrays: dict[str, np.ndarray], loaded: LoadedModel
) -> RowCheck | None:
    """What ``check_rows`` (and ``_infinite``) would find for a batch with nothing to find or
    convert, without their work; None for any other batch (they judge it).

    Such a batch has only finite numbers in its numeric features (``_frame`` made them float
    arrays) and only strings in its categorical ones: ``check_rows`` would give back ``frame``
    itself, no problem, and the strings not seen in training counted per column.
    """
    features = _features(loaded)
    if not features.plain:
        return None
    unknown: dict[str, int] = {}
    for name in features.names:
        values = arrays[name]
        if name in features.numeric:
            if values.dtype != np.float64 or not np.isfinite(values).all():
                return None
            continue
        if set(map(type, values)) != _STR:
            return None
        known = features.words[name]
        if known is not None:
            unseen = {v for v in set(values) if level_spelling(v) not in known}
            if unseen:
                unknown[name] = sum(map(unseen.__contains__, values))
    return RowCheck(frame, (), unknown, len(frame))


def _frame(
    columns: dict[str, list[Any]], loaded: LoadedModel
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The batch as a DataFrame, and its columns as arrays: numeric features as float arrays
    when they hold only numbers (the common case), every other column as plain objects, so
    pandas infers nothing costly (an Arrow string column per request would be converted
    straight back)."""
    data = {}
    features = _features(loaded)
    for name in features.names:
        values = columns[name]
        if name in features.numeric and _NUMBERS.issuperset(
            map(type, values)
        ):  # no None, word, list or bool (a bool is no number here): check_rows judges those
            data[name] = np.asarray(values, dtype=np.float64)
            continue
        array = np.empty(len(values), dtype=object)
        array[:] = values
        data[name] = array
    return pd.DataFrame(data, copy=False), data


def _split(
    loaded: LoadedModel,
    batch: Sequence[Rows],
    frame: pd.DataFrame,
    unknown: dict[str, int],
    problems: list[RowProblem],
    labels: list[Any],
    proba: np.ndarray,
    far: dict[str, np.ndarray],
) -> list[Scored]:
    """Each request's slice of the batch's results, its problems renumbered from 0."""
    if len(batch) == 1:
        counts = {k: int(v.sum()) for k, v in far.items()}
        return [Scored(labels, proba, tuple(problems), unknown, counts)]
    out, start = [], 0
    for rows in batch:
        stop = start + rows.n
        mine = tuple(
            RowProblem(p.row - start, p.column, p.kind, p.message)
            for p in problems
            if p.row is not None and start <= p.row < stop
        )
        counts = _unknown_in(loaded, frame.iloc[start:stop], unknown) if unknown else {}
        beyond = {k: int(v[start:stop].sum()) for k, v in far.items()}
        beyond = {k: v for k, v in beyond.items() if v}
        out.append(Scored(labels[start:stop], proba[start:stop], mine, counts, beyond))
        start = stop
    return out


def _unknown_in(loaded: LoadedModel, part: pd.DataFrame, unknown: dict[str, int]) -> dict[str, int]:
    """Unknown-category counts of one request (only the columns the batch had any in)."""
    return check_rows(part[list(unknown)], loaded.schema).unknown_categories


def _infinite(frame: pd.DataFrame, loaded: LoadedModel) -> tuple[RowProblem, ...]:
    """A ``not_finite`` problem per infinite number in a numeric feature."""
    found = []
    for col in loaded.schema.columns:
        if col.kind is not ColumnKind.NUMERIC or col.name not in frame:
            continue
        values = frame[col.name]
        if values.dtype == object:
            numbers = _numbers(values)
        elif values.dtype.kind in "fiu":
            numbers = values.to_numpy(dtype=float)
        else:
            continue
        for i in np.flatnonzero(np.isinf(numbers)):
            message = f"expected a finite number, got {numbers[i]}"
            found.append(RowProblem(int(i), col.name, "not_finite", message))
    return tuple(found)


def _numbers(values: pd.Series) -> np.ndarray:
    """The values as floats (NaN where not a number), lists and dicts included."""
    try:
        numbers = pd.to_numeric(values, errors="coerce")
    except (TypeError, ValueError):  # nested values: check_rows reports them as wrong_type
        numbers = pd.to_numeric(
            values.map(lambda v: v if np.isscalar(v) else None), errors="coerce"
        )
    return np.asarray(numbers, dtype=float)


def _order(features: Sequence[str]) -> Any:
    position = {name: i for i, name in enumerate(features)}
    return lambda p: (p.row is not None, p.row or 0, position.get(p.column, 0))
