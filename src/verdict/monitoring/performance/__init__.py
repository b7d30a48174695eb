"""Performance in production: estimated before labels (``_cbpe``), measured once they arrive,
and the calibration check that says whether the estimate can be trusted (``_checks``).

``_inputs`` holds the input checks that promotion (``monitoring._promotion``) shares.
"""

from verdict import _lazy

_EXPORTS = {
    "_checks": (
        "CalibrationCheck",
        "EstimatedPerformance",
        "LivePerformance",
        "calibration_check",
        "estimate_performance",
        "live_performance",
    ),
}

__all__ = _lazy.exported(_EXPORTS)

__getattr__, __dir__ = _lazy.lazy_exports(__name__, _EXPORTS)
