"""Monitoring: drift with calibrated alarms, estimated and live performance, promotions.

The drift statistics are pure functions of a reference and a current sample; the detector
calibrates their alarm thresholds for the window size, so an unchanged stream alarms at the
chosen rate whatever the window::

    from verdict.monitoring import DriftDetector, psi, ks_test
    detector = DriftDetector(reference, schema, false_alarm_rate=0.05)
    report = detector.check(window)          # report.alarm, report.to_frame()

``monitor`` runs one pass over a served model's logged traffic and feedback (what
``verdict monitor`` prints and reports), and ``decide_promotion`` is the paired test that lets
a retrained challenger replace the champion only when it is significantly better.
"""

from verdict import _lazy

_EXPORTS = {
    "_monitor": ("LabelledWindow", "MonitorResult", "WindowResult", "monitor", "record_pass"),
    "_promotion": ("PromotionDecision", "decide_promotion"),
    "_retrain": ("RetrainResult", "retrain"),
    "_stats": ("Chi2Result", "KSResult", "chi2_test", "jensen_shannon", "ks_test", "psi"),
    "drift": _lazy.names_of(f"{__name__}.drift"),
    "html": _lazy.names_of(f"{__name__}.html"),
    "performance": _lazy.names_of(f"{__name__}.performance"),
}

__all__ = _lazy.exported(_EXPORTS)

__getattr__, __dir__ = _lazy.lazy_exports(__name__, _EXPORTS)
