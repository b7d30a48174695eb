"""The prediction service, and batch scoring with the same row checks and output.

``create_app(settings, registry)`` builds the service (``ServiceSettings`` reads ``VERDICT_*``): the
Open Inference Protocol v2 REST endpoints, verdict's v1 records API (``/v1/models/{name}/predict``,
``/v1/feedback``) and Prometheus ``/metrics``, behind API keys, with body and row limits and
micro-batching. Every answer and the feedback that follows are stored in the state database
(``verdict.state``: keys, prediction log, feedback); ``run(settings)`` (``python -m
verdict.serving``) checks, logs and serves it on uvicorn. ``score_frame`` and ``score_rows``
check and score rows as the service does; batch scoring streams a CSV or Parquet file in
chunks, with bounded memory, optionally on a Dask cluster::

    from verdict.registry import Registry
    from verdict.serving import score_file
    model = Registry().load("penguins@production")
    score_file(model, "rows.parquet", "scored.parquet")
"""

from verdict import _lazy

_EXPORTS = {
    "_app": ("create_app",),
    "_run": ("run",),
    "_scoring": ("score_frame", "score_rows"),
    "_settings": ("ServiceSettings", "read_settings"),
    "batch": _lazy.names_of(f"{__name__}.batch"),
}

__all__ = _lazy.exported(_EXPORTS)

# The state database's names moved to verdict.state (issue #16): importable here for a release.
_MOVED = dict.fromkeys(
    ["ApiKey", "CreatedKey", "ExportSummary", "FeedbackItem", "FeedbackResult", "KeyStore",
     "PredictionBatch", "PredictionLog", "export_log", "open_state"],
    "verdict.state",
)  # fmt: skip

__getattr__, __dir__ = _lazy.lazy_exports(__name__, _EXPORTS, _MOVED)
