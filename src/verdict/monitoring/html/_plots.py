"""The monitoring report's two charts, in the training report's style (inline SVG, no pyplot).

``drift_chart``: each tested column's -log10(adjusted p) per window, with the alarm line.
``performance_chart``: estimated accuracy (CBPE) per window with its band, live accuracy of the
labelled windows over it, and the live primary metric against its test-time figure.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from verdict.monitoring._monitor import LabelledWindow, MonitorResult, WindowResult
from verdict.report import (
    ACCENT,
    MUTED,
    PALETTE,
    WARN,
    class_color,
    metric_label,
    new_figure,
    to_svg,
)

ESTIMATE = ACCENT
LIVE = "#009E73"
DODGE = 0.03  # sideways offset between the drift chart's columns, in windows


def when(iso: str) -> datetime:
    """An ISO time stamp from the log as a datetime (naive, in UTC) for plotting."""
    stamp = pd.Timestamp(iso)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.to_pydatetime()


def window_ticks(ax: Any, ends: list[str]) -> None:
    """Windows evenly spaced, oldest first, labelled by number and end time."""
    n = len(ends)
    step = 1 if n <= 12 else 2
    ticks = list(range(n - 1, -1, -step))[::-1]
    ax.set_xticks(ticks, [f"#{i + 1}\n{when(ends[i]):%m-%d %H:%M}" for i in ticks], fontsize=9.5)
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_xlabel("window (ends at, UTC)")
    ax.grid(axis="x", visible=False)


def labelled_positions(result: MonitorResult) -> list[float]:
    """Where each labelled window is drawn: the traffic window its last row was logged in
    (nudged apart when several fall in the same one)."""
    ends = np.array([when(w.end) for w in result.windows], dtype="datetime64[us]")
    out: list[float] = []
    for w in result.labelled:
        k = int(np.searchsorted(ends, np.datetime64(when(w.end), "us"), side="left"))
        k = min(k, len(ends) - 1)
        same = sum(1 for x in out if round(x) == k)
        out.append(k + 0.18 * same)
    return out


def _neglog(p: float, floor: float) -> float:
    return -math.log10(max(p, floor))


def drift_chart(result: MonitorResult) -> str:
    """-log10(adjusted p) of every tested column over the windows; the alarm line marked."""
    windows = result.windows
    rate = windows[-1].drift.false_alarm_rate
    floor = 1.0 / (windows[-1].drift.n_null + 1)
    names = [t.name for t in windows[-1].drift.tests]
    with new_figure("monitor-drift", 8.2, 4.4) as (fig, ax):
        for k, name in enumerate(names):
            tests = [_test(w, name) for w in windows]
            ys = [np.nan if t is None else _neglog(t.adjusted_p_value, floor) for t in tests]
            # columns with the same p (often the floor) would hide one another: dodge sideways
            times = [i + DODGE * (k - (len(names) - 1) / 2) for i in range(len(windows))]
            color = class_color(k)
            dash = "-" if k < len(PALETTE) else "--"
            ax.plot(times, ys, dash, marker="o", color=color, lw=1.8, ms=5, label=name)
            hit = [(x, y) for x, y, t in zip(times, ys, tests, strict=True) if t and t.drifted]
            if hit:
                xs, hs = zip(*hit, strict=True)
                ax.scatter(xs, hs, s=110, facecolor="none", edgecolor=WARN, lw=2, zorder=5)
        line = -math.log10(rate)
        # named in the legend, not on the chart, where the lines would cross the words
        ax.axhline(line, color=WARN, lw=1.3, ls="--", label=f"alarm line (adjusted p = {rate:g})")
        ax.set_ylim(0, max(_neglog(floor, floor), line) * 1.12)
        window_ticks(ax, [w.end for w in windows])
        ax.set_ylabel("-log10(adjusted p), higher = stronger evidence")
        ax.set_title("Drift evidence per column over time (circled: drifted)")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9.5)
        return to_svg(fig, "monitor-drift", "Line chart of drift evidence per column over time")


def _test(window: WindowResult, name: str) -> Any:
    return next((t for t in window.drift.tests if t.name == name), None)


def performance_chart(result: MonitorResult) -> str:
    """Estimated accuracy per window (band) with live accuracy; live primary metric below."""
    labelled = result.labelled
    rows = 2 if labelled else 1
    with new_figure("monitor-perf", 8.2, 3.5 * rows + 0.3, nrows=rows, sharex=True) as (fig, axes):
        top = axes[0] if labelled else axes
        _accuracy_panel(top, result)
        if labelled:
            _primary_panel(axes[1], result)
        window_ticks(axes[-1] if labelled else top, [w.end for w in result.windows])
        fig.tight_layout()
        return to_svg(fig, "monitor-perf", "Estimated and live performance over time")


def _accuracy_panel(ax: Any, result: MonitorResult) -> None:
    """CBPE accuracy with its interval as a band, live accuracy as points with error bars."""
    times = list(range(len(result.windows)))
    cis = [w.estimated.intervals["accuracy"] for w in result.windows]
    est = [c.estimate for c in cis]
    reliable = result.calibration.calibrated
    style = "-o" if reliable else "--o"
    label = "estimated (CBPE)" if reliable else "estimated (CBPE), NOT reliable"
    ax.fill_between(times, [c.low for c in cis], [c.high for c in cis], color=ESTIMATE,
                    alpha=0.18, lw=0, step=None)  # fmt: skip
    ax.errorbar(times, est, yerr=_err(est, cis), fmt=style, color=ESTIMATE, ms=5, lw=1.8,
                capsize=4, label=label, clip_on=False)  # fmt: skip
    places = labelled_positions(result)
    live = [
        (x, w.live.evaluation.intervals.get("accuracy"))
        for x, w in zip(places, result.labelled, strict=True)
    ]
    live = [(x, ci) for x, ci in live if ci is not None]
    if live:
        xs = [x for x, _ in live]
        ys = [ci.estimate for _, ci in live]
        ax.errorbar(xs, ys, yerr=_err(ys, [ci for _, ci in live]), fmt="s", color=LIVE, ms=7,
                    capsize=4, lw=1.8, label="live (labelled rows)", clip_on=False)  # fmt: skip
    bounds = [y for ci in cis for y in (ci.low, ci.high)]  # the band must fit, not just points
    _score_limits(ax, est + bounds + [y for _, ci in live for y in (ci.low, ci.high)])
    ax.set_ylabel("accuracy")
    ax.set_title("Accuracy: estimated before labels vs measured once they came back")
    ax.legend(loc="lower left", fontsize=9.5)


def _primary_panel(ax: Any, result: MonitorResult) -> None:
    """The live primary metric per labelled window with its interval, and the test figure."""
    label = metric_label(result.primary_metric)
    windows: tuple[LabelledWindow, ...] = result.labelled
    xs = labelled_positions(result)
    cis = [w.live.evaluation.intervals.get(result.primary_metric) for w in windows]
    ys = [w.live.live for w in windows]
    colors = [WARN if w.live.dropped else LIVE for w in windows]
    for x, y, ci, color in zip(xs, ys, cis, colors, strict=True):
        err = None if ci is None else _err([y], [ci])
        ax.errorbar([x], [y], yerr=err, fmt="s", color=color, ms=7, capsize=4, lw=1.8,
                    clip_on=False)  # fmt: skip
    values = ys + [v for ci in cis if ci is not None for v in (ci.low, ci.high)]
    if result.test_figure is not None:
        ax.axhline(result.test_figure, color=MUTED, lw=1.5, ls="--",
                   label=f"test time {result.test_figure:.3f}")  # fmt: skip
        ax.legend(loc="best", fontsize=9.5)
        values.append(result.test_figure)
    _score_limits(ax, values)
    ax.set_ylabel(f"live {label}")
    ax.set_title(f"Live {label} per labelled window (orange: significant drop)")


def _err(values: list[float], cis: list[Any]) -> np.ndarray:
    """Asymmetric error bars from intervals (zero where a bound is undefined)."""
    low = [
        max(0.0, v - c.low) if math.isfinite(c.low) else 0.0
        for v, c in zip(values, cis, strict=True)
    ]
    high = [
        max(0.0, c.high - v) if math.isfinite(c.high) else 0.0
        for v, c in zip(values, cis, strict=True)
    ]
    return np.array([low, high])


def _score_limits(ax: Any, values: list[float]) -> None:
    """Set the y range from ``_limits``; for scores, no tick beyond 1 (an accuracy of 1.02)."""
    low, high = _limits(values)
    ax.set_ylim(low, high)
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if finite and min(finite) >= 0 and max(finite) <= 1 and high > 1:
        ax.set_yticks([t for t in ax.get_yticks() if low <= t <= 1 + 1e-9])
        ax.set_ylim(low, high)


def _limits(values: list[float]) -> tuple[float, float]:
    """A y range around the values with a margin, within [0, 1] for scores."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    lo, hi = min(finite), max(finite)
    pad = max(0.02, 0.12 * (hi - lo))
    low, high = lo - pad, hi + pad
    if lo >= 0 and hi <= 1:
        # just above 1 at most: room for a point at 1.0, not an axis promising scores above it
        low, high = max(-0.03, low), min(1.005 if hi < 0.995 else 1.01, high)
    return low, high
