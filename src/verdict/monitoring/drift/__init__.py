"""Feature and prediction drift: ``DriftDetector`` (calibrated alarms), one column test per
kind (``_columns``) and the ``DriftReport`` it returns."""

from verdict import _lazy

_EXPORTS = {
    "_detector": ("DriftDetector",),
    "_report": ("DriftReport", "FeatureDrift"),
}

__all__ = _lazy.exported(_EXPORTS)

__getattr__, __dir__ = _lazy.lazy_exports(__name__, _EXPORTS)
