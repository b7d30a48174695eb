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

from verdict import _lazy

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

_EXPORTS = {
    "_checks": ("check_table",),
    "_datetimes": ("DatetimeExpander",),
    "_findings": ("DataQualityWarning", "DataReport", "Finding"),
    "_infer": ("infer_schema",),
    "_io": ("read_table",),
    "_profile": ("ClassBalance", "Profile", "profile_table"),
    "_rows": ("RowCheck", "RowProblem", "check_rows"),
    "_schema": ("ColumnKind", "ColumnSchema", "Schema"),
    "_summaries": ("CategoricalSummary", "CorrelatedPair", "DatetimeSummary", "NumericSummary"),
}

__getattr__, __dir__ = _lazy.lazy_exports(__name__, _EXPORTS)
