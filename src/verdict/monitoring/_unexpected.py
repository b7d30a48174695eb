"""Logged values the model does not expect: digested, counted and reported, never fatal.

The prediction log keeps what clients sent and what any writer stored, so what monitoring and
retraining read from it may hold anything. Logged inputs go through the service's own row
checks (:func:`verdict.data.check_rows`) and then:

- numeric and datetime features: a value of an unexpected type (text that is not a number or a
  date, a boolean in a number column, a list, an object) is a missing value;
- categorical and boolean features: a value of an unexpected type (a list or an object, a
  number or a boolean where training saw text, text where it saw numbers, a boolean column's
  value that is neither true nor false) is an unknown category: ``UNEXPECTED`` for the drift
  tests, a missing value for retraining (so the challenger learns no such level). Levels are
  matched by the pipeline's spelling (``'3'`` and ``3.0`` are the level ``3``), as in serving.

Feedback labels and served labels are matched to the model's classes by the same spelling and
mapped to the class's own value; a label that matches none (a class the model never learned,
another type such as ``42`` for text classes, a list, an object, a boolean, null) is left out
and counted by reason. Each count becomes one sentence for the command's output.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from verdict.data import ColumnKind, Schema, check_rows, level_spelling
from verdict.monitoring._logged import logged_features

UNEXPECTED = "<unexpected value>"  # the unknown category a value of an unexpected type becomes
NOT_A_CLASS = "not one of the model's classes"
MISSING = "missing"
NESTED = (list, dict, set, tuple, np.ndarray)  # values that are no level of any column
_NUMBERS = (int, float, np.integer, np.floating)
_EXAMPLES = 5  # distinct odd labels quoted in a note
_EXAMPLE_CHARS = 40
_PROBA_TOLERANCE = 1e-4  # a logged row whose probabilities sum further from 1 is left out


@dataclass(frozen=True, slots=True)
class Digested:
    """The logged features ready for the model's columns, and the odd values per feature."""

    frame: pd.DataFrame
    unexpected: dict[str, int]


@dataclass(frozen=True, slots=True)
class Labels:
    """Labels matched to the classes: the class (None where left out), which were kept, and
    the counts of those left out by reason (with a few of the odd ones, as text)."""

    values: np.ndarray
    kept: np.ndarray
    left_out: dict[str, int]
    examples: tuple[str, ...]

    @property
    def n_left_out(self) -> int:
        """How many labels were left out, whatever the reason."""
        return int(sum(self.left_out.values()))


def restricted(schema: Schema, features: list[str]) -> Schema:
    """The schema restricted to ``features`` (same target and classes, nothing sensitive)."""
    kept = set(features)
    columns = tuple(c for c in schema.columns if c.name in kept or not c.is_feature)
    return replace(schema, columns=columns, sensitive=())


def digest_inputs(frame: pd.DataFrame, schema: Schema, *, unknown: Any) -> Digested:
    """The features of ``schema`` as logged in ``frame``, values of unexpected types replaced.

    ``unknown`` is what such a value of a categorical or boolean feature becomes
    (``UNEXPECTED`` or NaN); in numeric and datetime features it becomes NaN.
    """
    features = list(schema.features)
    logged = logged_features(frame, features).reset_index(drop=True)
    checked = check_rows(logged, schema)
    bad = {name: np.zeros(len(logged), dtype=bool) for name in features}
    for problem in checked.problems:
        if problem.kind == "wrong_type" and problem.row is not None:
            bad[problem.column][problem.row] = True
    columns: dict[str, pd.Series] = {}
    counts: dict[str, int] = {}
    for col in (schema.column(name) for name in features):
        values = checked.frame[col.name].reset_index(drop=True)
        flagged, fill = bad[col.name], np.nan
        if col.kind is ColumnKind.DATETIME:  # the logged text: parsed like the reference's
            values = logged[col.name]
        elif col.kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
            fill = unknown
            if col.kind is ColumnKind.CATEGORICAL:
                values, odd = _levels(values, col.categories)
                flagged = flagged | odd
        if flagged.any():
            if col.kind is not ColumnKind.NUMERIC:  # numbers: already NaN, and stay floats
                values = values.astype(object).mask(flagged, fill)
            counts[col.name] = int(flagged.sum())
        columns[col.name] = values
    out = pd.DataFrame(columns, index=logged.index)
    out.index = frame.index
    return Digested(out, counts)


def _levels(values: pd.Series, categories: tuple[Any, ...] | None) -> tuple[pd.Series, np.ndarray]:
    """Categorical values matched to the trained levels by spelling, and which are odd."""
    levels = list(categories or ())
    text = all(isinstance(c, str) for c in levels)
    trained = {level_spelling(c): c for c in levels}
    array = values.to_numpy(dtype=object, na_value=None)
    out = np.empty(len(array), dtype=object)
    odd = np.zeros(len(array), dtype=bool)
    seen: dict[tuple[type, Any], tuple[Any, bool]] = {}
    for i, value in enumerate(array):
        if value is None or (isinstance(value, float) and value != value):
            out[i] = np.nan
            continue
        if isinstance(value, NESTED):
            odd[i] = True
            continue
        key = (type(value), value)
        if key not in seen:
            seen[key] = _level(value, trained, text)
        out[i], odd[i] = seen[key]
    return pd.Series(out, index=values.index, dtype=object), odd


def _level(value: Any, trained: dict[str, Any], text: bool) -> tuple[Any, bool]:
    """The trained level ``value`` spells, else the value and whether its type is odd."""
    spelled = level_spelling(value)
    if spelled in trained:
        return trained[spelled], False
    if text:
        return value, not isinstance(value, str)
    return value, isinstance(value, bool | np.bool_) or not isinstance(value, _NUMBERS)


def match_labels(values: Any, classes: Any) -> Labels:
    """Each label as the class it spells (the class's own value), or left out with a reason."""
    array = pd.Series(values, dtype=object).to_numpy(dtype=object, na_value=None)
    trained = {level_spelling(c): c for c in classes}
    out = np.empty(len(array), dtype=object)
    kept = np.zeros(len(array), dtype=bool)
    reasons = {MISSING: 0, NOT_A_CLASS: 0}
    examples: dict[str, None] = {}
    for i, value in enumerate(array):
        if value is None or (isinstance(value, float) and value != value):
            reasons[MISSING] += 1
            continue
        spelled = None if isinstance(value, NESTED) else level_spelling(value)
        if spelled is not None and spelled in trained:
            out[i], kept[i] = trained[spelled], True
            continue
        reasons[NOT_A_CLASS] += 1
        if len(examples) < _EXAMPLES:
            examples[_example(value)] = None
    left_out = {reason: n for reason, n in reasons.items() if n}
    return Labels(out, kept, left_out, tuple(examples))


def _example(value: Any) -> str:
    text = repr(value.item() if isinstance(value, np.generic) else value)
    text = text if len(text) <= _EXAMPLE_CHARS else text[: _EXAMPLE_CHARS - 3] + "..."
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def labels_note(what: str, labels: Labels, classes: Any) -> str | None:
    """One sentence on the labels left out and why, or None when none was."""
    if not labels.n_left_out:
        return None
    parts = []
    odd = labels.left_out.get(NOT_A_CLASS, 0)
    if odd:
        shown = ", ".join(labels.examples) + (" ..." if odd > len(labels.examples) else "")
        parts.append(f"{odd:,} not one of the model's classes {list(classes)} (e.g. {shown})")
    if labels.left_out.get(MISSING):
        parts.append(f"{labels.left_out[MISSING]:,} missing")
    return f"left out {labels.n_left_out:,} {what}: {'; '.join(parts)}"


def inputs_note(counts: dict[str, int], categories_as: str | None) -> str | None:
    """One sentence on the logged input values of unexpected types, or None when none.

    ``categories_as`` names what such values of categorical and boolean features became
    (None: missing values, like those of numeric and datetime features).
    """
    total = sum(counts.values())
    if not total:
        return None
    became = (
        f"{categories_as} (categorical and boolean features) or missing values (numeric and "
        "datetime features)"
        if categories_as
        else "missing values"
    )
    by_feature = ", ".join(f"{name} {n:,}" for name, n in counts.items())
    return f"read {total:,} logged input value(s) of an unexpected type as {became}: {by_feature}"


def usable_rows(
    frame: pd.DataFrame, classes: Any
) -> tuple[pd.DataFrame, dict[str, int], list[str]]:
    """The logged rows whose served label is a class (set to the class's own value) and
    whose probabilities are a distribution over ``classes``; the others counted and said.

    Returns
    -------
    tuple
        The usable rows, the rows left out by reason, and a sentence per reason.
    """
    labels = match_labels(frame["label"], classes)
    columns = [f"proba_{c}" for c in classes]
    proba = frame.reindex(columns=columns).to_numpy(dtype=float, na_value=np.nan)
    sound = np.isfinite(proba).all(axis=1) & (proba >= 0).all(axis=1)
    sound &= np.abs(proba.sum(axis=1) - 1) <= _PROBA_TOLERANCE
    notes: list[str] = []
    left_out = {f"served label {reason}": n for reason, n in labels.left_out.items()}
    note = labels_note("logged rows for their served label", labels, classes)
    if note:
        notes.append(note)
    unsound = int((labels.kept & ~sound).sum())
    if unsound:
        notes.append(
            f"left out {unsound:,} logged rows whose probabilities are missing or are not a "
            f"distribution over the classes {list(classes)}"
        )
        left_out["probabilities unusable"] = unsound
    kept = labels.kept & sound
    usable = frame.loc[kept].copy()
    usable["label"] = labels.values[kept]
    return usable, left_out, notes
