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

_EXPORTS = {
    "_checks": ("check_table",),
    "_datetimes": ("DatetimeExpander", "parse_datetimes"),
    "_findings": ("DataQualityWarning", "DataReport", "Finding"),
    "_infer": ("infer_schema",),
    "_io": ("read_table",),
    "_levels": ("TRUE_WORDS", "level_spelling", "level_words"),
    "_profile": ("ClassBalance", "Profile", "profile_table"),
    "_rows": ("RowCheck", "RowProblem", "check_rows", "is_numeric_dtype_name"),
    "_schema": ("ColumnKind", "ColumnSchema", "Schema"),
    "_signal": ("FeatureSignal", "feature_signal"),
    "_summaries": ("CategoricalSummary", "CorrelatedPair", "DatetimeSummary", "NumericSummary"),
}

__all__ = _lazy.exported(_EXPORTS)

__getattr__, __dir__ = _lazy.lazy_exports(__name__, _EXPORTS)
