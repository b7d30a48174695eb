"""Tables in: read files into pandas, infer and check the schema, profile the data.

The training pipeline calls these in order::

    frame = read_table("penguins.csv")
    report = check_table(frame, "species", cv=5)      # raises on what cannot be trained
    schema = report.schema                            # numeric / categorical / boolean / datetime
    profile = profile_table(frame, "species", schema)
    X = report.clean(frame)                           # labelled rows, feature columns, target

Date columns become numbers with ``DatetimeExpander(formats=schema.datetime_formats)`` inside
the pipeline's ``ColumnTransformer``.
"""

from verdict.data._checks import check_table
from verdict.data._datetimes import DatetimeExpander
from verdict.data._findings import DataQualityWarning, DataReport, Finding
from verdict.data._infer import infer_schema
from verdict.data._io import read_table
from verdict.data._profile import ClassBalance, Profile, profile_table
from verdict.data._rows import RowCheck, RowProblem, check_rows
from verdict.data._schema import ColumnKind, ColumnSchema, Schema
from verdict.data._summaries import (
    CategoricalSummary,
    CorrelatedPair,
    DatetimeSummary,
    NumericSummary,
)

__all__ = [
    "CategoricalSummary",
    "ClassBalance",
    "ColumnKind",
    "ColumnSchema",
    "CorrelatedPair",
    "DataQualityWarning",
    "DataReport",
    "DatetimeExpander",
    "DatetimeSummary",
    "Finding",
    "NumericSummary",
    "Profile",
    "RowCheck",
    "RowProblem",
    "Schema",
    "check_rows",
    "check_table",
    "infer_schema",
    "profile_table",
    "read_table",
]
