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

from verdict.monitoring._drift import DriftDetector
from verdict.monitoring._drift_report import DriftReport, FeatureDrift
from verdict.monitoring._html import write_monitor_report
from verdict.monitoring._monitor import LabelledWindow, MonitorResult, WindowResult, monitor
from verdict.monitoring._performance import (
    CalibrationCheck,
    EstimatedPerformance,
    LivePerformance,
    calibration_check,
    estimate_performance,
    live_performance,
)
from verdict.monitoring._promotion import PromotionDecision, decide_promotion
from verdict.monitoring._retrain import RetrainResult, retrain
from verdict.monitoring._stats import Chi2Result, KSResult, chi2_test, jensen_shannon, ks_test, psi

__all__ = [
    "CalibrationCheck",
    "Chi2Result",
    "DriftDetector",
    "DriftReport",
    "EstimatedPerformance",
    "FeatureDrift",
    "KSResult",
    "LabelledWindow",
    "LivePerformance",
    "MonitorResult",
    "PromotionDecision",
    "RetrainResult",
    "WindowResult",
    "calibration_check",
    "chi2_test",
    "decide_promotion",
    "estimate_performance",
    "jensen_shannon",
    "ks_test",
    "live_performance",
    "monitor",
    "psi",
    "retrain",
    "write_monitor_report",
]
