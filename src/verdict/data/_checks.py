"""Check a training table before anything is fitted: errors that stop, findings that warn.

Stops (``InvalidInputError``, one paragraph ending "To fix: ..."): a missing target column
(close names suggested), a target with no values, a continuous target, a single class, a class
too small for the folds and the hold-out set, free text, no feature left.

Warns (a :class:`Finding` in the report, also emitted as :class:`DataQualityWarning`): rows
without a target (dropped: an unlabelled row can neither train nor test a model), id-like
and all-missing columns (dropped), infinite numbers (made missing), duplicate rows, rows
whose features repeat with another class, very high cardinality categoricals, and a feature
that alone predicts the target.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from verdict.data._datetimes import parse_datetimes
from verdict.data._findings import DataQualityWarning, DataReport, Finding
from verdict.data._infer import infer_schema, target_classes
from verdict.data._leakage import single_feature_score
from verdict.data._schema import ColumnKind, Schema
from verdict.data._target import check_target
from verdict.data._validate import check_cv, check_frame, require_column, require_columns
from verdict.errors import InvalidInputError, InvalidParameterError

# More levels than this and one-hot encoding groups the rare ones (see the finding's message).
HIGH_CARDINALITY = 50
# Levels seen fewer times than this are what the encoder would call infrequent.
RARE_LEVEL = 5
# Leave-one-out balanced accuracy from one feature at or above this is flagged as leakage.
LEAKAGE_SCORE = 0.98
# Below this many labelled rows a near-perfect single feature is too likely by chance.
LEAKAGE_MIN_ROWS = 30


def check_table(
    frame: pd.DataFrame,
    target: str,
    *,
    schema: Schema | None = None,
    cv: int = 5,
    test_size: float = 0.2,
    sensitive: Iterable[str] = (),
    kinds: Mapping[str, str] | None = None,
    warn: bool = True,
) -> DataReport:
    """Check that a table can train and fairly evaluate a classifier, before any fitting.

    Problems that make training impossible or meaningless raise; problems that training can
    work around are handled (rows without a target and useless columns are left out, see
    :meth:`DataReport.clean`) and reported, so that nothing happens to the user's data unsaid.

    Parameters
    ----------
    frame : pandas.DataFrame
        The whole table, target included.
    target : str
        The column holding the class labels.
    schema : Schema, optional
        A schema to check against (say, from a registered model); inferred when None.
    cv : int, default 5
        Number of cross-validation folds the training will use.
    test_size : float, default 0.2
        Share of rows held out for the final test; with ``cv`` it sets the smallest class.
    sensitive, kinds
        Passed to :func:`infer_schema`; only when ``schema`` is None.
    warn : bool, default True
        Also emit each 'warning' finding as a :class:`DataQualityWarning`.

    Returns
    -------
    DataReport

    Raises
    ------
    InvalidInputError
        For each stopping problem listed in this module's docstring.
    """
    frame = check_frame(frame)
    cv, test_size = check_cv(cv, test_size)
    target = require_column(frame, target, "target")
    sensitive = tuple(sensitive)
    if schema is not None and (kinds or sensitive):
        raise InvalidParameterError(
            "check_table got both schema and kinds/sensitive, which only shape an inferred "
            "schema. To fix: pass either a schema or kinds/sensitive."
        )
    target_classes(frame[target], target)  # raises when every target value is missing
    labelled = frame[frame[target].notna()]
    check_target(labelled[target], target, cv, test_size)
    if schema is None:
        schema = infer_schema(labelled, target, sensitive=sensitive, kinds=kinds)
    else:
        _check_against_schema(labelled, target, schema)
    findings = [*_unlabelled(frame, target), *_dropped(schema)]
    _require_features(schema)
    findings += _infinite(labelled, schema)
    findings += _high_cardinality(labelled, schema)
    findings += _duplicates(labelled, schema)
    findings += _leakage(labelled, schema)
    report = DataReport(schema, tuple(findings), len(frame), len(labelled))
    if warn:
        for finding in report.warnings:
            warnings.warn(finding.message, DataQualityWarning, stacklevel=2)
    return report


def _check_against_schema(labelled: pd.DataFrame, target: str, schema: Schema) -> None:
    if schema.target != target:
        raise InvalidInputError(
            f"target={target!r} but the schema was made for target {schema.target!r}. "
            f"To fix: pass target={schema.target!r} or infer a new schema."
        )
    require_columns(labelled, schema.features, "schema feature")
    unknown = [c for c in target_classes(labelled[target], target) if c not in schema.classes]
    if unknown:
        raise InvalidInputError(
            f"target {target!r} holds classes {unknown} that the schema does not know "
            f"({list(schema.classes)}). To fix: infer a new schema for this table."
        )


def _unlabelled(frame: pd.DataFrame, target: str) -> list[Finding]:
    n = int(frame[target].isna().sum())
    if n == 0:
        return []
    message = (
        f"{n} of {len(frame)} rows have no value in target {target!r}; they are left out, since "
        f"an unlabelled row can neither train nor test a model. To fix: label them, or remove "
        f"them yourself to silence this."
    )
    return [Finding("unlabelled_rows", "warning", message, target, n)]


def _dropped(schema: Schema) -> list[Finding]:
    findings = []
    for col in schema.dropped:
        name = col.name
        if col.kind is ColumnKind.ID:
            message = (
                f"column {name!r} looks like an identifier ({col.reason}); it is dropped, since "
                f"a model can only memorise ids. To fix: nothing, or declare its kind "
                f"(kinds={{{name!r}: 'numeric'}}) if it is a real measurement."
            )
            findings.append(Finding("id_column", "warning", message, name))
        elif col.kind is ColumnKind.EMPTY:
            message = (
                f"column {name!r} is missing in every row; it is dropped. To fix: nothing, or "
                f"check the export if it should hold values."
            )
            findings.append(Finding("empty_column", "warning", message, name))
        elif col.kind is ColumnKind.CONSTANT:
            message = f"column {name!r} has {col.reason}; it is dropped. To fix: nothing needed."
            findings.append(Finding("constant_column", "info", message, name))
        else:
            message = f"column {name!r} is dropped as asked. To fix: nothing needed."
            findings.append(Finding("dropped_column", "info", message, name))
    return findings


def _require_features(schema: Schema) -> None:
    if schema.features:
        return
    reasons = "; ".join(f"{c.name!r}: {c.kind.value} ({c.reason})" for c in schema.dropped)
    raise InvalidInputError(
        f"No feature columns are left to train on besides target {schema.target!r}"
        f"{' (dropped: ' + reasons + ')' if reasons else ''}. To fix: add columns that describe "
        f"the rows, or declare a dropped column's kind with kinds=."
    )


def _infinite(labelled: pd.DataFrame, schema: Schema) -> list[Finding]:
    if not schema.numeric:
        return []
    counts = np.isinf(labelled[list(schema.numeric)].astype(float)).sum()
    findings = []
    for name, n in counts[counts > 0].items():
        message = (
            f"column {name!r} holds {n} infinite values; they are treated as missing "
            f"(DataReport.clean makes them NaN for the imputer and its missing indicator). "
            f"To fix: nothing needed, or correct the computation that produced them (often a "
            f"division by zero)."
        )
        findings.append(Finding("infinite_values", "warning", message, str(name), int(n)))
    return findings


def _high_cardinality(labelled: pd.DataFrame, schema: Schema) -> list[Finding]:
    findings = []
    for name in schema.categorical:
        counts = labelled[name].value_counts()
        if len(counts) <= HIGH_CARDINALITY:
            continue
        rare = int((counts < RARE_LEVEL).sum())
        message = (
            f"column {name!r} has {len(counts)} levels, {rare} of them seen fewer than "
            f"{RARE_LEVEL} times; one-hot encoding will group the rare levels (and levels first "
            f"seen at prediction time) into one 'infrequent' level, so the model cannot tell "
            f"them apart. To fix: nothing if that is acceptable; otherwise group the levels "
            f"yourself (say city -> region) or drop the column."
        )
        findings.append(Finding("high_cardinality", "warning", message, name, len(counts)))
    return findings


def _duplicates(labelled: pd.DataFrame, schema: Schema) -> list[Finding]:
    features = list(schema.features)
    feature_hash = pd.util.hash_pandas_object(labelled[features], index=False)
    row_hash = pd.util.hash_pandas_object(labelled[[*features, schema.target]], index=False)
    findings = []
    n_dup = int(row_hash.duplicated().sum())
    if n_dup:
        message = (
            f"{n_dup} rows ({n_dup / len(labelled):.1%}) repeat another row exactly (features and "
            f"target); copies can land on both sides of the train/test split and make the test "
            f"score optimistic. To fix: drop them (frame.drop_duplicates()) unless they are "
            f"genuine repeated observations."
        )
        findings.append(Finding("duplicate_rows", "warning", message, None, n_dup))
    classes_per_row = labelled[schema.target].groupby(feature_hash.to_numpy()).transform("nunique")
    n_conflict = int((classes_per_row > 1).sum())
    if n_conflict:
        message = (
            f"{n_conflict} rows share identical features with a row of another class, so no "
            f"model can get all of them right (label noise, or a feature that is missing). "
            f"To fix: nothing needed, or check those labels."
        )
        findings.append(Finding("conflicting_labels", "info", message, None, n_conflict))
    return findings


def _leakage(labelled: pd.DataFrame, schema: Schema) -> list[Finding]:
    if len(labelled) < LEAKAGE_MIN_ROWS:
        return []
    y_codes, classes = pd.factorize(labelled[schema.target])
    findings = []
    for col in schema.columns:
        if not col.is_feature:
            continue
        values = labelled[col.name]
        if col.kind is ColumnKind.DATETIME:
            values = parse_datetimes(values, col.datetime_format)
        score = single_feature_score(values, np.asarray(y_codes), len(classes))
        if score >= LEAKAGE_SCORE:
            findings.append(_leak_finding(col.name, schema.target, score))
    return findings


def _leak_finding(name: str, target: str, score: Any) -> Finding:
    message = (
        f"feature {name!r} alone predicts target {target!r} with balanced accuracy {score:.3f} "
        f"(leave-one-out, using only this column); it may be a copy of the target or something "
        f"recorded after the outcome (leakage). To fix: drop it (kinds={{{name!r}: 'drop'}}) "
        f"unless its value is truly known when predictions are made."
    )
    return Finding("leakage", "warning", message, name, float(score))
