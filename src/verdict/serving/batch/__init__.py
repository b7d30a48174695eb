"""Batch scoring: a CSV or Parquet file scored in chunks (``_io``), locally or on Dask
(``_dask``), with the service's row checks and output (``_score``)."""

from verdict import _lazy

_EXPORTS = {
    "_score": ("BatchSummary", "score_file"),
}

__all__ = _lazy.exported(_EXPORTS)

__getattr__, __dir__ = _lazy.lazy_exports(__name__, _EXPORTS)
