"""Scoring with a registered model: the row checks and output shared by batch and the service.

Batch scoring streams a CSV or Parquet file in chunks, with bounded memory, optionally on a
Dask cluster::

    from verdict.registry import Registry
    from verdict.serving import score_file
    model = Registry().load("penguins@production")
    score_file(model, "rows.parquet", "scored.parquet")
"""

from verdict.serving._batch import BatchSummary, score_file
from verdict.serving._scoring import score_frame, score_rows

__all__ = ["BatchSummary", "score_file", "score_frame", "score_rows"]
