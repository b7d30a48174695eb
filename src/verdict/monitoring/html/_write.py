"""``write_monitor_report``: one monitoring pass as a single self-contained HTML page.

The page is drawn with the training report's shell (its page, CSS, sections, tiles, tables
and figures, and the SVG plot style), loads nothing from anywhere and needs no JavaScript: it
opens offline, from an e-mail attachment or a CI artifact, exactly as it was written.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from verdict.monitoring._monitor import MonitorResult
from verdict.monitoring.html import _sections as sections
from verdict.report import esc, page

# Additions to the training report's CSS for the alert hero and the drift heat table.
MONITOR_CSS = """
.hero.alarm { border-top-color: var(--bad); }
ul.alerts li { color: var(--bad); font-weight: 600; }
table.heat { width: auto; min-width: 60%; }
table.heat td, table.heat th { text-align: center; line-height: 1.3; }
table.heat tbody th { text-align: left; white-space: nowrap; }
table.heat td { font-size: 13px; }
table.heat td.drifted { background: #fde2e1; color: var(--bad); font-weight: 700; }
table.heat td.watch { background: #fef0c7; }
.kpi .value { overflow-wrap: anywhere; }
.detail table { font-size: 13px; } .detail td, .detail th { padding: 5px 8px; }
table.heat .p { font-size: 12px; color: var(--muted); }
table.heat td.drifted .p { color: var(--bad); }
"""


def write_monitor_report(result: MonitorResult, path: str | Path) -> Path:
    """Write a monitoring pass as one self-contained HTML page.

    The page gives the verdict (the alerts of the newest window, or none), drift per tested
    column over the windows (a PSI / adjusted-p table, a chart of the evidence against the
    calibrated alarm line, and the newest window in detail), performance over time (accuracy
    estimated from the probabilities with its interval, live accuracy and the primary metric
    on labelled windows against the test-time figure, and the drop test), and how to read it.

    Parameters
    ----------
    result : MonitorResult
        What :func:`verdict.monitoring.monitor` returned.
    path : str or Path
        The file to write; missing parent folders are created. The write is atomic (a
        temporary file beside it, then a rename), so a reader never sees half a page.

    Returns
    -------
    Path
        The path written.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = render(result)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        # a lone surrogate (from a client's JSON) is written as its escape, never fatal
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def render(result: MonitorResult) -> str:
    """The page's HTML text."""
    body = "\n".join(
        (
            sections.glance(result),
            sections.drift(result),
            sections.performance(result),
            sections.reading(result),
        )
    )
    state = "ALERT" if result.alarm else "no alert"
    title = f"verdict monitoring: {result.ref} ({state})"
    footer = (
        f"Written by verdict from {result.n_rows:,} logged rows of {esc(result.ref)}; rebuild "
        f"with <code>verdict monitor {esc(result.ref)} --window {result.window}</code>."
    )
    return page(title, body, footer, sections=sections.SECTIONS, css=MONITOR_CSS)
