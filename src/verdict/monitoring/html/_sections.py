"""The sections of the monitoring page: verdict, drift over time, performance over time, reading.

Each function takes the :class:`MonitorResult` and returns a ``<section>`` of escaped HTML,
drawn with the training report's section and headline tile (``verdict.report``); the page shell
and the file writing are in ``_write``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from verdict.monitoring._monitor import MonitorResult, WindowResult
from verdict.monitoring.drift import FeatureDrift
from verdict.monitoring.html._plots import drift_chart, performance_chart, when
from verdict.report import esc, figure, metric_label, note, num, section, table, tile

# (id, title) of every section, in page order; the ids are stable for links and tests.
SECTIONS = (
    ("glance", "Verdict at a glance"),
    ("drift", "Drift per feature over time"),
    ("performance", "Performance over time"),
    ("reading", "How to read this report"),
)
TITLES = dict(SECTIONS)


def _section(sid: str, content: str) -> str:
    return section(sid, content, title=TITLES[sid])


def stamp(iso: str) -> str:
    """A log time stamp for people: '2026-11-01 00:16:40 UTC'."""
    return when(iso).strftime("%Y-%m-%d %H:%M:%S UTC")


def _p(value: float) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.3g}"


def glance(result: MonitorResult) -> str:
    """The alerts (or their absence) and the facts of the pass."""
    latest = result.windows[-1]
    if result.alerts:
        items = "".join(f"<li>{esc(a)}</li>" for a in result.alerts)
        verdict = (
            f'<p class="lede"><span class="worse">ALERT</span>: {len(result.alerts)} alert'
            f"{'s' if len(result.alerts) > 1 else ''} on the newest window.</p>"
            f'<ul class="verdicts alerts">{items}</ul>'
        )
    else:
        live = (
            "no significant drop in live performance"
            if result.labelled
            else "no labels have come back yet to measure live performance"
        )
        verdict = (
            '<p class="lede"><span class="better">No alert</span>: the newest window shows no '
            f"drift beyond the false-alarm rate, and {live}.</p>"
        )
    span = f"{stamp(result.windows[0].start)} to {stamp(latest.end)}"
    labelled = f"{result.n_labelled:,}" if result.labelled else "none yet"
    kpis = "".join(
        (
            tile("model", result.name, f"version {result.version} ({result.ref})"),
            tile("rows monitored", f"{result.n_rows:,}", f"in {len(result.windows)} window(s)"),
            tile("labelled rows", labelled, "true labels fed back"),
            tile("window size", f"{result.window:,}", "rows per window"),
            tile("false-alarm rate", f"{latest.drift.false_alarm_rate:g}", "per window"),
        )
    )
    css = "hero alarm" if result.alarm else "hero"
    title = f"<h1>Monitoring {esc(result.ref)}</h1>"
    content = (
        f'{title}\n{verdict}\n<div class="kpis">{kpis}</div>\n'
        f'<p class="note">Time span: {esc(span)}.</p>\n{_warnings(result.warnings)}'
    )
    return section("glance", content.rstrip("\n"), css=css, heading=False)


def _warnings(warnings: Sequence[str]) -> str:
    """What the log held that the model did not expect, or nothing."""
    if not warnings:
        return ""
    items = "".join(f"<li>{esc(w)}</li>" for w in warnings)
    return (
        '<p class="note">Data quality: the log held values the model does not expect; they '
        f'were digested, not fatal:</p>\n<ul class="verdicts warnings">{items}</ul>\n'
    )


def drift(result: MonitorResult) -> str:
    """The heat table over windows, the evidence chart, and the newest window in detail."""
    latest = result.windows[-1].drift
    rate = latest.false_alarm_rate
    parts = [
        note(
            f"Rows: every tested column, the model's predicted class and its confidence; "
            f"columns: windows of {result.window:,} rows, oldest first. A red cell drifted "
            f"(Holm-adjusted p <= {rate:g}); an amber one had a raw p <= {rate:g} that did not "
            "survive the correction for testing several columns."
        ),
        _heat_table(result.windows),
        figure(drift_chart(result), _chart_caption(result), "No window to plot."),
        f"<h3>Newest window in detail ({esc(stamp(result.windows[-1].start))} to "
        f"{esc(stamp(result.windows[-1].end))}, {result.windows[-1].n:,} rows)</h3>",
        _detail_table(latest.to_frame().index.tolist(), latest.tests),
        note(latest.summary().splitlines()[0] + "."),
    ]
    return _section("drift", "\n".join(parts))


def _chart_caption(result: MonitorResult) -> str:
    latest = result.windows[-1].drift
    floor = 1 / (latest.n_null + 1)
    return (
        f"Each point is a window, oldest on the left. Above the dashed line a column drifted. "
        f"p-values come from {latest.n_null} bootstrapped unchanged windows, so the smallest "
        f"possible is {floor:.2g} (the top of the chart)."
    )


def _heat_table(windows: Sequence[WindowResult]) -> str:
    """Columns by windows; each cell PSI and adjusted p, coloured by the decision."""
    names = [t.name for t in windows[-1].drift.tests]
    heads = "".join(
        f'<th class="num">#{i + 1} {esc(_short(w.end))}<br>'
        f'<span class="muted">{w.n:,} rows</span></th>'
        for i, w in enumerate(windows)
    )
    body = []
    for name in names:
        cells = []
        for w in windows:
            t = next((t for t in w.drift.tests if t.name == name), None)
            cells.append(_heat_cell(t, w.drift.false_alarm_rate))
        kind = windows[-1].drift.tests[names.index(name)].kind
        body.append(
            f'<tr><th>{esc(name)}<br><span class="muted">{esc(kind)}</span></th>'
            f"{''.join(cells)}</tr>"
        )
    return (
        '<div class="scroll"><table class="heat"><thead><tr><th>column \\ window end</th>'
        f"{heads}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _heat_cell(test: FeatureDrift | None, rate: float) -> str:
    if test is None:
        return '<td class="num muted">—</td>'
    css = "drifted" if test.drifted else "watch" if test.p_value <= rate else ""
    title = f"{test.test} statistic {test.statistic:.4g}, raw p {_p(test.p_value)}"
    return (
        f'<td class="num {css}" title="{esc(title)}">PSI {num(test.psi, 2)}<br>'
        f'<span class="p">p<sub>adj</sub> {esc(_p(test.adjusted_p_value))}</span></td>'
    )


def _cut(text: str, limit: int = 40) -> str:
    """A category as shown: a client may send a very long one."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short(iso: str) -> str:
    return when(iso).strftime("%m-%d %H:%M")


def _detail_table(order: list[str], tests: Sequence[FeatureDrift]) -> str:
    by_name = {t.name: t for t in tests}
    rows = []
    for name in order:
        t = by_name[name]
        unseen = ", ".join(_cut(str(c)) for c in t.unseen_categories[:8]) or "—"
        rows.append(
            (
                name, "DRIFT" if t.drifted else "no", f"{t.test} {t.statistic:.4g}",
                _p(t.p_value), _p(t.adjusted_p_value), num(t.psi, 3), num(t.jensen_shannon, 3),
                f"{t.missing_share_reference:.1%} → {t.missing_share_current:.1%}", unseen,
            )
        )  # fmt: skip
    headers = ("column", "drifted", "statistic", "p", "adjusted p", "PSI", "JS",
               "missing ref → now", "unseen categories")  # fmt: skip
    return f'<div class="detail">{table(headers, rows, numeric=(2, 3, 4, 5, 6, 7))}</div>'


def performance(result: MonitorResult) -> str:
    """The performance chart, whether the estimate can be trusted, and the newest drop test."""
    reliable = result.calibration.calibrated
    badge = (
        '<span class="badge info">estimate reliable</span>'
        if reliable
        else '<span class="badge warning">estimate NOT reliable</span>'
    )
    parts = [
        f"<p>{badge}Before labels come back, performance is estimated from the model's own "
        f"probabilities (CBPE), which is only as good as they are calibrated: "
        f"{esc(result.calibration.message)}.</p>",
        figure(performance_chart(result), _perf_caption(result), "No window to plot."),
        f"<p><strong>Newest window, estimated:</strong> "
        f"{esc(result.windows[-1].estimated.message)}.</p>",
    ]
    parts.append(_live(result))
    return _section("performance", "\n".join(parts))


def _perf_caption(result: MonitorResult) -> str:
    level = result.windows[-1].estimated.confidence
    text = (
        f"Blue: accuracy estimated per window of logged traffic, with its {level:.0%} interval "
        "(band and bars)."
    )
    if result.labelled:
        text += (
            " Green squares: accuracy measured on windows of rows whose true labels came back, "
            "drawn at the traffic window in which their last row was logged."
        )
    if not result.calibration.calibrated:
        text += " The estimate is drawn dashed: the model is not calibrated, do not trust it."
    if result.labelled:
        text += (
            f" Lower panel: live {metric_label(result.primary_metric)} per labelled window "
            "with its interval; the dashed grey line is the test-time figure."
        )
    return text


def _live(result: MonitorResult) -> str:
    """The drop test of the newest labelled window, or why there is none."""
    if not result.labelled:
        return note(
            "Labels have not come back yet: no labelled window to measure live performance "
            "on. Send feedback (true labels) to the service to get it; until then only the "
            "estimate above is available."
        )
    newest = result.labelled[-1]
    live = newest.live
    verdict = (
        '<span class="worse">dropped</span>'
        if live.dropped
        else '<span class="better">no significant drop</span>'
    )
    rows = [
        (
            metric_label(live.metric), num(live.live), num(live.test), f"{live.change:+.3f}",
            f"[{live.low:+.3f}, {live.high:+.3f}]", _p(live.p_value), f"{live.n:,}",
        )
    ]  # fmt: skip
    headers = ("metric", "live", "test time", "change", f"{live.confidence:.0%} interval",
               "one-sided p", "labelled rows")  # fmt: skip
    return (
        f"<h3>Newest labelled window ({esc(stamp(newest.start))} to {esc(stamp(newest.end))}): "
        f"{verdict}</h3>\n{table(headers, rows, numeric=(1, 2, 3, 4, 5, 6))}\n"
        f"{note(live.message + '.')}"
    )


def reading(result: MonitorResult) -> str:
    """How to read the alarms and the intervals, in three sentences."""
    latest = result.windows[-1].drift
    return _section(
        "reading",
        "<p>Each drift alarm is calibrated: the threshold of every test comes from "
        f"{latest.n_null} windows of {latest.window_size:,} rows bootstrapped from the training "
        f"reference, so an unchanged stream raises a false alarm on about "
        f"{latest.false_alarm_rate:.0%} of windows, whatever the window size.</p>"
        f"<p>Because {len(latest.tests)} columns are tested at once, the p-values are "
        f"{esc(latest.correction.title())}-corrected (the adjusted p), which keeps that rate "
        "for the window as a whole rather than per column; PSI and Jensen-Shannon say how "
        "large a shift is, the adjusted p whether it is more than chance.</p>"
        "<p>Drift is not harm: a performance drop is only established by labelled rows, "
        "tested one-sided against the test-time figure; the estimate before labels can miss a "
        "change in the relationship between features and label.</p>",
    )
