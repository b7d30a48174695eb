"""``evaluate``: every metric in one pass, and the ``Evaluation`` it returns (with its tables)."""

from verdict import _lazy

_EXPORTS = {
    "_evaluate": ("evaluate",),
    "_result": ("ClassMetrics", "Evaluation", "PrecisionRecallCurve", "RocCurve"),
}

__all__ = _lazy.exported(_EXPORTS)

__getattr__, __dir__ = _lazy.lazy_exports(__name__, _EXPORTS)
