"""The prediction log: every answered request and the feedback on it, stored and read back.

``PredictionLog(engine)`` group-commits :class:`PredictionBatch` records (one table row per
request) and :class:`FeedbackItem` labels, and reads them back as frames, one row per predicted
row, for monitoring and retraining; ``export_log`` streams one model's log to JSON Lines, CSV or
Parquet with bounded memory. The modules: ``_writer`` (the log), ``_insert`` (the group
writer), ``_rows`` (records to table rows, hashing of sensitive columns), ``_read`` and
``_explode`` (table rows back to frames), ``_export`` and ``_export_files`` (the export).
"""

from verdict import _lazy

_EXPORTS = {
    "_export": ("ExportSummary", "export_format", "export_log"),
    "_rows": ("FeedbackItem", "FeedbackResult", "OrphanLimitError", "PredictionBatch"),
    "_writer": ("LogUnavailableError", "PredictionLog"),
}

__all__ = _lazy.exported(_EXPORTS)

__getattr__, __dir__ = _lazy.lazy_exports(__name__, _EXPORTS)
