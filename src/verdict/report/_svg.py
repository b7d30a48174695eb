"""Matplotlib figures as inline SVG text, in one consistent style, with no file or network.

Every plot of the report goes through ``new_figure`` and ``to_svg``: a bare ``Figure``, never
pyplot, so no GUI backend or global figure state is touched (it works headless, in threads
and in notebooks alike), one palette, fonts large enough to read at 80% zoom, and SVG whose ids are
prefixed per figure, since several SVGs share one HTML document and a clip path referenced by
``url(#id)`` must not resolve to another figure's element.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
ACCENT = "#0072B2"  # the chosen model, the main series
MUTED = "#9AA5B1"  # baselines, references, everything secondary
WARN = "#D55E00"  # things to look at: chosen thresholds, gaps
INK = "#1F2933"
HEATMAP = "Blues"

STYLE: dict[str, Any] = {
    "svg.fonttype": "none",  # text stays text: small files, crisp at any zoom, searchable
    "text.parse_math": False,  # a '$' in a class or column name is text, not TeX
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Helvetica", "Arial", "Liberation Sans"],
    "font.size": 11,
    "axes.titlesize": 12.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 11,
    "axes.edgecolor": "#7B8794",
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#E4E7EB",
    "grid.linewidth": 0.8,
    "axes.axisbelow": True,
    "xtick.color": INK,
    "ytick.color": INK,
    "legend.frameon": False,
    "legend.fontsize": 10,
    "figure.facecolor": "white",
    "figure.dpi": 100,
}

_PROLOG = re.compile(r"^.*?(?=<svg\b)", re.DOTALL)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)
_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(url\(#|href="#)([^)"]+)')
_SIZE = re.compile(r'<svg([^>]*?) width="([\d.]+)pt" height="([\d.]+)pt"')


def class_color(k: int) -> str:
    """The colour of class ``k``, the same in every plot."""
    return PALETTE[k % len(PALETTE)]


@contextmanager
def new_figure(
    name: str, width: float = 7.0, height: float = 4.2, **subplots: Any
) -> Iterator[tuple[Figure, Any]]:
    """A styled figure and its axes; cleared on exit so a long report does not hold memory."""
    with mpl.rc_context({**STYLE, "svg.hashsalt": f"verdict-{name}"}):
        fig = Figure(figsize=(width, height))
        try:
            yield fig, fig.subplots(**subplots)
        finally:
            fig.clear()


def to_svg(fig: Figure, name: str, label: str) -> str:
    """The figure as an ``<svg>`` element ready to inline: no prolog, ids unique to ``name``,
    ``label`` as its accessible name."""
    buffer = io.StringIO()
    with mpl.rc_context({**STYLE, "svg.hashsalt": f"verdict-{name}"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = _METADATA.sub("", _PROLOG.sub("", buffer.getvalue(), count=1), count=1)
    prefix = re.sub(r"[^A-Za-z0-9_-]", "-", name)
    text = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', text)
    text = _REF.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", text)
    return _SIZE.sub(lambda m: _responsive(m, label), text, count=1).strip()


def _responsive(match: re.Match[str], label: str) -> str:
    """Scale with the page, never above the drawn size (pt at 96 dpi is 4/3 px)."""
    width_px = float(match.group(2)) * 4 / 3
    return (
        f'<svg{match.group(1)} class="plot" role="img" aria-label="{html.escape(label)}" '
        f'width="100%" style="max-width:{width_px:.0f}px"'
    )
