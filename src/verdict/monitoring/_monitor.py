"""One monitoring pass over a served model: drift, estimated and live performance, alerts.

The logged traffic of the version an alias points at is cut into consecutive windows of
``window`` rows (newest last). Each window is compared with the training reference stored with
the version (calibrated drift alarms), and its performance is estimated from the model's own
probabilities; windows of rows whose true labels came back get live performance with the drop
test against the test-time figures. Alerts are judged on the newest window only, so an old,
already-handled episode does not keep a cron job failing.

The log may hold anything a client sent or a writer stored (see ``_unexpected``): a logged
input of an unexpected type is an unknown category or a missing value, and a row whose served
label or probabilities do not fit the version, or a feedback label that is not one of its
classes, is left out. Each is counted in the result and said in one sentence (``warnings``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from verdict._params import Interval, Satisfies, check
from verdict._results import Result
from verdict.errors import InvalidInputError
from verdict.monitoring._unexpected import (
    UNEXPECTED,
    digest_inputs,
    inputs_note,
    labels_note,
    match_labels,
    restricted,
    usable_rows,
)
from verdict.monitoring.drift import DriftDetector, DriftReport
from verdict.monitoring.performance import (
    CalibrationCheck,
    EstimatedPerformance,
    LivePerformance,
    calibration_check,
    estimate_performance,
    live_performance,
)
from verdict.registry import LoadedModel, Registry
from verdict.state import PredictionLog

MIN_ROWS = 30  # fewer rows than this make no window worth testing
_WINDOW = Satisfies(
    Interval(Integral, MIN_ROWS, None).is_satisfied_by, f"an integer of at least {MIN_ROWS} rows"
)
MAX_WINDOWS = 24


@dataclass(frozen=True)
class WindowResult(Result):
    """One window of logged traffic: its span, drift and estimated performance, and per
    feature the logged values of an unexpected type read as unknown or missing."""

    _hidden: ClassVar[tuple[str, ...]] = ("drift", "estimated")

    start: str
    end: str
    n: int
    drift: DriftReport
    estimated: EstimatedPerformance
    unexpected: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class LabelledWindow(Result):
    """One window of rows whose true labels came back: live performance and the drop test."""

    _hidden: ClassVar[tuple[str, ...]] = ("live",)

    start: str
    end: str
    n: int
    live: LivePerformance


@dataclass(frozen=True)
class MonitorResult(Result):
    """A monitoring pass: every window, the calibration check, and the alerts that fired.

    ``unexpected_inputs`` counts per feature the logged values of an unexpected type in the
    analysed windows (read as unknown categories or missing values); ``left_out`` counts the
    rows left out by reason (a served label or probabilities that do not fit the version, a
    feedback label that is missing or not one of its classes); ``warnings`` says both in
    sentences.
    """

    _hidden: ClassVar[tuple[str, ...]] = ("windows", "labelled", "calibration")

    ref: str
    name: str
    version: int
    window: int
    n_rows: int
    n_labelled: int
    primary_metric: str
    test_figure: float | None
    calibration: CalibrationCheck
    windows: tuple[WindowResult, ...]
    labelled: tuple[LabelledWindow, ...]
    alerts: tuple[str, ...]
    unexpected_inputs: dict[str, int] = field(default_factory=dict)
    left_out: dict[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def alarm(self) -> bool:
        """True when an alert fired on the newest window."""
        return bool(self.alerts)


def monitor(
    ref: str,
    *,
    registry: Registry,
    log: PredictionLog,
    window: int = 1000,
    since: datetime | None = None,
    until: datetime | None = None,
    false_alarm_rate: float = 0.05,
    random_state: int = 0,
) -> MonitorResult:
    """Drift and performance of the version ``ref`` names, window by window.

    Parameters
    ----------
    ref : str
        ``NAME@ALIAS`` or ``NAME@vN``.
    registry, log : Registry, PredictionLog
        Where the version and its logged traffic and feedback live.
    window : int, default 1000
        Rows per window (the newest windows are full; at most 24 are analysed).
    since, until : datetime, optional
        Only traffic logged in ``[since, until)``.
    false_alarm_rate : float, default 0.05
        The chance that an unchanged window raises a drift alarm.

    Raises
    ------
    InvalidInputError
        When the window holds fewer than 30 logged rows, with how to get more.
    """
    window = int(check("window", window, "monitor", _WINDOW, fix="pass e.g. window=1000"))
    loaded = registry.load(ref)
    version = registry.get(loaded.ref)
    logged = log.predictions(loaded.name, since=since, until=until, version=loaded.version)
    traffic, left_out, notes = usable_rows(logged, loaded.classes)
    _check_enough(loaded.ref, len(traffic), notes, _span(since, until))
    test_rows = registry.frame(version, "test_predictions.parquet")
    calibration = _calibration(loaded, test_rows)
    detector = _detector(loaded, registry, version, false_alarm_rate, random_state)
    windows = tuple(
        _window(loaded, part, detector, calibration, random_state)
        for part in _windows(traffic, window)
    )
    labelled, dropped, note = _labelled_windows(
        loaded, log, since, until, window, test_rows, random_state
    )
    unexpected = _summed(w.unexpected for w in windows)
    read_as = inputs_note(unexpected, f"the unknown category {UNEXPECTED!r}")
    notes += [n for n in (note, read_as) if n]
    primary = loaded.info["primary_metric"]
    found = version.metric()
    return MonitorResult(
        ref=loaded.ref, name=loaded.name, version=loaded.version, window=window,
        n_rows=len(traffic), n_labelled=sum(w.n for w in labelled), primary_metric=primary,
        test_figure=None if found is None else float(found["estimate"]),
        calibration=calibration, windows=windows, labelled=labelled,
        alerts=_alerts(windows[-1], labelled[-1] if labelled else None),
        unexpected_inputs=unexpected, left_out={**left_out, **dropped}, warnings=tuple(notes),
    )  # fmt: skip


def _check_enough(ref: str, n: int, notes: list[str], span: str) -> None:
    """Refuse a pass over fewer than ``MIN_ROWS`` usable rows, saying what was left out."""
    if n >= MIN_ROWS:
        return
    usable, left_out = ("usable ", f" ({'; '.join(notes)})") if notes else ("", "")
    raise InvalidInputError(
        f"{ref} has {n} {usable}logged rows{span}{left_out}; at least {MIN_ROWS} are needed to "
        "monitor it. To fix: send traffic to the service first, or widen the 'since'/'until' "
        "window."
    )


def _span(since: datetime | None, until: datetime | None) -> str:
    if since is None and until is None:
        return ""
    return f" between {since or 'the start'} and {until or 'now'}"


def _calibration(loaded: LoadedModel, test_rows: pd.DataFrame) -> CalibrationCheck:
    proba = test_rows[[f"proba_{c}" for c in loaded.classes]].to_numpy(dtype=float)
    return calibration_check(test_rows["y_true"].to_numpy(), proba, list(loaded.classes))


def _detector(
    loaded: LoadedModel, registry: Registry, version: Any, rate: float, seed: int
) -> DriftDetector:
    """The drift detector on the reference sample, with the model's own predictions of it."""
    features = _monitored(loaded)
    reference = registry.frame(version)[list(loaded.schema.features)]
    proba = loaded.predict_proba(reference)
    predictions = pd.DataFrame(
        {"label": loaded.policy.decide(proba), "confidence": proba.max(axis=1)}
    )
    schema = restricted(loaded.schema, features)
    return DriftDetector(
        reference[features], schema, false_alarm_rate=rate, random_state=seed,
        reference_predictions=predictions,
    )  # fmt: skip


def _monitored(loaded: LoadedModel) -> list[str]:
    """The features compared with the reference: sensitive ones are logged hashed, so not."""
    sensitive = set(loaded.schema.sensitive)
    return [f for f in loaded.schema.features if f not in sensitive]


def _summed(counts: Any) -> dict[str, int]:
    total: dict[str, int] = {}
    for one in counts:
        for name, n in one.items():
            total[name] = total.get(name, 0) + n
    return total


def _windows(frame: pd.DataFrame, size: int) -> list[pd.DataFrame]:
    """Consecutive windows of ``size`` rows, the newest full; a short head joins the next."""
    n = len(frame)
    if n <= size:
        return [frame]
    ends = list(range(n, 0, -size))[:MAX_WINDOWS]
    starts = [max(0, end - size) for end in ends]
    if starts[-1] != 0 and starts[-1] < MIN_ROWS:
        starts[-1] = 0
    return [frame.iloc[s:e] for s, e in reversed(list(zip(starts, ends, strict=True)))]


def _proba(frame: pd.DataFrame, loaded: LoadedModel) -> np.ndarray:
    """The probabilities in class order (NaN for a class the log has no column of)."""
    columns = [f"proba_{c}" for c in loaded.classes]
    return frame.reindex(columns=columns).to_numpy(dtype=float, na_value=np.nan)


def _window(
    loaded: LoadedModel,
    part: pd.DataFrame,
    detector: DriftDetector,
    calibration: CalibrationCheck,
    seed: int,
) -> WindowResult:
    proba = _proba(part, loaded)
    schema = restricted(loaded.schema, _monitored(loaded))
    current = digest_inputs(part, schema, unknown=UNEXPECTED)
    predictions = pd.DataFrame({"label": part["label"].to_numpy(), "confidence": proba.max(1)})
    drift = detector.check(current.frame.reset_index(drop=True), predictions=predictions)
    estimated = estimate_performance(
        proba, list(loaded.classes), calibration=calibration,
        policy_labels=part["label"].to_numpy(), random_state=seed,
    )  # fmt: skip
    return WindowResult(
        _when(part, 0), _when(part, -1), len(part), drift, estimated, current.unexpected
    )


def _when(part: pd.DataFrame, i: int) -> str:
    return pd.Timestamp(part["created"].iloc[i]).isoformat()


def _labelled_windows(
    loaded: LoadedModel,
    log: PredictionLog,
    since: datetime | None,
    until: datetime | None,
    size: int,
    test_rows: pd.DataFrame,
    seed: int,
) -> tuple[tuple[LabelledWindow, ...], dict[str, int], str | None]:
    """The labelled windows, the feedback labels left out by reason, and a note on them."""
    frame = log.labelled(loaded.name, since=since, until=until)
    frame = frame[(frame["source"] == "prediction") & (frame["version"] == loaded.version)]
    frame, _, _ = usable_rows(frame, loaded.classes)  # rows the traffic left out: not measured
    labels = match_labels(frame["true_label"], loaded.classes)
    note = labels_note("feedback labels", labels, loaded.classes)
    left_out = {f"feedback label {r}": n for r, n in labels.left_out.items()}
    frame = frame.loc[labels.kept].assign(true_label=labels.values[labels.kept])
    if len(frame) < MIN_ROWS:
        return (), left_out, note
    out = []
    for part in _windows(frame.sort_values("created", kind="stable"), size):
        live = live_performance(
            part["true_label"].to_numpy(), part["label"].to_numpy(), _proba(part, loaded),
            list(loaded.classes), test_predictions=test_rows,
            primary_metric=loaded.info["primary_metric"], random_state=seed,
        )  # fmt: skip
        out.append(LabelledWindow(_when(part, 0), _when(part, -1), len(part), live))
    return tuple(out), left_out, note


def _alerts(latest: WindowResult, labelled: LabelledWindow | None) -> tuple[str, ...]:
    alerts = []
    if latest.drift.alarm:
        names = ", ".join(t.name for t in latest.drift.tests if t.drifted)
        alerts.append(f"drift in the newest window of {latest.n} rows: {names}")
    if labelled is not None and labelled.live.dropped:
        live = labelled.live
        alerts.append(
            f"live {live.metric} dropped: {live.live:.4f} on {live.n} labelled rows vs "
            f"{live.test:.4f} at test time (p = {live.p_value:.3g})"
        )
    return tuple(alerts)


def monitor_payload(result: MonitorResult) -> dict[str, Any]:
    """What the registry keeps of a pass (kind ``monitor``): the newest window's figures.

    The service reads the newest such event and exposes it as Prometheus gauges.
    """
    latest = result.windows[-1]
    drift = {
        t.name: {
            "adjusted_p_value": t.adjusted_p_value,
            "psi": _finite(t.psi),
            "drifted": t.drifted,
        }
        for t in latest.drift.tests
    }
    accuracy = latest.estimated.intervals.get("accuracy")
    estimated = {
        "metric": "accuracy",
        "value": latest.estimated.metrics.get("accuracy"),
        "low": None if accuracy is None else accuracy.low,
        "high": None if accuracy is None else accuracy.high,
        "reliable": latest.estimated.reliable,
    }
    live = None
    if result.labelled:
        newest = result.labelled[-1].live
        interval = newest.evaluation.intervals.get(newest.metric)
        live = {
            "metric": newest.metric, "value": newest.live, "dropped": newest.dropped,
            "p_value": newest.p_value, "low": None if interval is None else interval.low,
            "high": None if interval is None else interval.high,
        }  # fmt: skip
    status = "ALERT: " + "; ".join(result.alerts) if result.alerts else "no alert"
    return {
        "summary": f"monitored {result.n_rows} rows in {len(result.windows)} windows: {status}",
        "version": result.version, "window": result.window, "window_end": latest.end,
        "drift_alarm": latest.drift.alarm, "drift": drift, "estimated": estimated,
        "live": live, "alerts": list(result.alerts), "warnings": list(result.warnings),
        "unexpected_inputs": dict(result.unexpected_inputs), "left_out": dict(result.left_out),
    }  # fmt: skip


def record_pass(result: MonitorResult, registry: Registry) -> None:
    """Store the pass as the registry event ``monitor``, where the service picks it up."""
    registry.record_event(result.name, "monitor", monitor_payload(result), version=result.version)


def _finite(value: float) -> float:
    return float(value) if np.isfinite(value) else 0.0
