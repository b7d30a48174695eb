"""Scoring with a registered model: the row checks and output shared by batch and the service.

Batch scoring streams a CSV or Parquet file in chunks, with bounded memory, optionally on a
Dask cluster::

    from verdict.registry import Registry
    from verdict.serving import score_file
    model = Registry().load("penguins@production")
    score_file(model, "rows.parquet", "scored.parquet")
"""

from verdict.serving._app import create_app
from verdict.serving._batch import BatchSummary, score_file
from verdict.serving._keys import ApiKey, CreatedKey, KeyStore
from verdict.serving._predlog import PredictionLog
from verdict.serving._predlog_export import ExportSummary, export_log
from verdict.serving._predlog_rows import FeedbackItem, FeedbackResult, PredictionBatch
from verdict.serving._scoring import score_frame, score_rows
from verdict.serving._settings import ServiceSettings
from verdict.serving._state import open_state

__all__ = [
    "ApiKey",
    "BatchSummary",
    "CreatedKey",
    "ExportSummary",
    "FeedbackItem",
    "FeedbackResult",
    "KeyStore",
    "PredictionBatch",
    "PredictionLog",
    "ServiceSettings",
    "create_app",
    "export_log",
    "open_state",
    "score_file",
    "score_frame",
    "score_rows",
]
