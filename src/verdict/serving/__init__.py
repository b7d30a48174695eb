"""The prediction service, and batch scoring with the same row checks and output.

``create_app(settings, registry)`` builds the service (``ServiceSettings`` reads ``VERDICT_*``): the
Open Inference Protocol v2 REST endpoints, verdict's v1 records API (``/v1/models/{name}/predict``,
``/v1/feedback``) and Prometheus ``/metrics``, behind API keys (``KeyStore``), with body and row
limits and micro-batching. Every answer and the feedback that follows are stored in the state
database (``open_state``; ``PredictionLog``, ``PredictionBatch``, ``FeedbackItem``), which
``export_log`` streams out; ``run(settings)`` (``python -m verdict.serving``) checks, logs and
serves it on uvicorn. ``score_frame`` and ``score_rows`` check and score rows as the service
does; batch scoring streams a CSV or Parquet file in chunks, with bounded memory, optionally on a
Dask cluster::

    from verdict.registry import Registry
    from verdict.serving import score_file
    model = Registry().load("penguins@production")
    score_file(model, "rows.parquet", "scored.parquet")
"""

from verdict import _lazy

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
    "run",
    "score_file",
    "score_frame",
    "score_rows",
]

_EXPORTS = {
    "_app": ("create_app",),
    "_batch": ("BatchSummary", "score_file"),
    "_keys": ("ApiKey", "CreatedKey", "KeyStore"),
    "_predlog": ("PredictionLog",),
    "_predlog_export": ("ExportSummary", "export_log"),
    "_predlog_rows": ("FeedbackItem", "FeedbackResult", "PredictionBatch"),
    "_run": ("run",),
    "_scoring": ("score_frame", "score_rows"),
    "_settings": ("ServiceSettings",),
    "_state": ("open_state",),
}

__getattr__, __dir__ = _lazy.lazy_exports(__name__, _EXPORTS)
