"""The page shell: inline CSS, the section wrapper, the headline tile and small HTML helpers.

The training report and the monitoring page (``verdict.monitoring``) are both drawn with them.

Everything is inline (styles, SVG plots); the page loads nothing, so it opens offline, from an
e-mail attachment or an artifact store, exactly as it was written. Every value that comes from
the run is escaped here or by the caller with ``html.escape``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

# (id, title) of every section, in page order; the ids are stable for links and tests.
SECTIONS = (
    ("verdict", "Verdict"),
    ("data-profile", "Data profile"),
    ("model-comparison", "Model comparison"),
    ("confusion-matrix", "Confusion matrix"),
    ("per-class", "Per-class metrics"),
    ("roc-pr", "ROC and precision-recall curves"),
    ("calibration", "Calibration"),
    ("decision", "Threshold and cost analysis"),
    ("importance", "Feature importance"),
    ("model-card", "Model card"),
    ("reproducibility", "Reproducibility"),
)
TITLES = dict(SECTIONS)

CSS = """
:root { --ink:#1f2933; --muted:#616e7c; --line:#e4e7eb; --accent:#0072b2; --good:#007a5a;
  --warn:#b54708; --bad:#b42318; --bg:#f5f7fa; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink); line-height:1.5; font-size:16px;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 64px; }
nav { position: sticky; top: 0; z-index: 2; background: #fff;
  border-bottom: 1px solid var(--line); }
nav ul { max-width:1120px; margin:0 auto; padding:8px 28px; list-style:none; display:flex;
  flex-wrap:wrap; gap:4px 18px; font-size:14px; }
nav a { color: var(--muted); text-decoration: none; } nav a:hover { color: var(--accent); }
section { background:#fff; border:1px solid var(--line); border-radius:10px; padding:20px 26px;
  margin: 20px 0; }
h1 { font-size: 30px; margin: 4px 0 6px; line-height:1.2; }
h2 { font-size: 22px; margin: 0 0 12px; }
h3 { font-size: 17px; margin: 20px 0 8px; }
p { margin: 8px 0; max-width: 80ch; }
.lede { font-size: 19px; max-width: 75ch; }
.muted, .note { color: var(--muted); }
.note { font-size: 14px; }
.nowrap { white-space: nowrap; }
.hero { border-top: 5px solid var(--accent); }
.kpis { display:grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap:12px;
  margin: 16px 0 6px; }
.kpi { border:1px solid var(--line); border-radius:8px; padding:10px 14px; background:#fbfcfd; }
.kpi .label { font-size: 13px; color: var(--muted); text-transform: uppercase;
  letter-spacing: .04em; }
.kpi .value { font-size: 26px; font-weight: 700; }
.kpi .ci { font-size: 13px; color: var(--muted); }
.kpi.primary { border-color: var(--accent); background: #eef6fb; }
ul.verdicts { padding-left: 20px; } ul.verdicts li { margin: 4px 0; }
.better { color: var(--good); font-weight: 600; } .worse { color: var(--bad); font-weight: 600; }
.tie { color: var(--warn); font-weight: 600; }
table { border-collapse: collapse; margin: 10px 0; font-size: 14px; width: 100%; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: left;
  vertical-align: top; }
th { background: #f8fafc; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.scroll { overflow-x: auto; }
figure { margin: 14px 0; text-align: center; }
figure svg.plot { height: auto; display: inline-block; }
figcaption { font-size: 14px; color: var(--muted); margin-top: 4px; text-align: left; }
.badge { display:inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
  font-weight: 600; margin-right: 6px; }
.badge.warning { background: #fef0c7; color: var(--warn); }
.badge.info { background: #e0f0fa; color: var(--accent); }
.grid2 { display:grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 8px 24px; }
details { margin: 6px 0 10px; } summary { cursor: pointer; color: var(--accent); }
code { font-size: 13px; background: #f1f3f5; padding: 1px 4px; border-radius: 4px; }
footer { color: var(--muted); font-size: 13px; text-align: center; margin-top: 30px; }
@media print { nav { display: none; } section { break-inside: avoid; } }
"""


def esc(value: object) -> str:
    """Any value as escaped text."""
    return html.escape(str(value), quote=True)


def page(
    title: str,
    body: str,
    footer: str,
    *,
    sections: Sequence[tuple[str, str]] = SECTIONS,
    css: str = "",
) -> str:
    """The whole document: head with inline CSS (the shared styles, then ``css``), the
    navigation of ``sections`` ((id, title) pairs, the report's by default), the body."""
    links = "".join(f'<li><a href="#{sid}">{esc(name)}</a></li>' for sid, name in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}{css}</style>\n</head>\n<body>\n"
        f'<nav aria-label="sections"><ul>{links}</ul></nav>\n'
        f"<main>\n{body}\n<footer>{footer}</footer>\n</main>\n</body>\n</html>\n"
    )


def section(
    sid: str, content: str, *, css: str = "", heading: bool = True, title: str | None = None
) -> str:
    """A section with its stable id and its title (the report's for ``sid`` unless given) as
    the heading."""
    cls = f' class="{css}"' if css else ""
    h2 = f"<h2>{esc(TITLES[sid] if title is None else title)}</h2>\n" if heading else ""
    return f'<section id="{sid}"{cls}>\n{h2}{content}\n</section>'


def tile(label: str, value: str, detail: str | None = None, *, primary: bool = False) -> str:
    """A headline figure: its label, its value and, unless None, a detail line below."""
    cls = "kpi primary" if primary else "kpi"
    extra = "" if detail is None else f'<div class="ci">{esc(detail)}</div>'
    return (
        f'<div class="{cls}"><div class="label">{esc(label)}</div>'
        f'<div class="value">{esc(value)}</div>{extra}</div>'
    )


def figure(svg: str | None, caption: str, empty: str) -> str:
    """A plot with its caption, or the ``empty`` sentence when there is nothing to plot."""
    if svg is None:
        return f'<p class="note">{esc(empty)}</p>'
    return f"<figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>"


def table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], numeric: Sequence[int] = ()
) -> str:
    """A table of escaped cells; columns listed in ``numeric`` are right-aligned."""

    def cell(tag: str, i: int, value: object) -> str:
        cls = ' class="num"' if i in numeric else ""
        return f"<{tag}{cls}>{esc(value)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>" for row in rows
    )
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def note(text: str) -> str:
    """A short explanatory paragraph in muted type."""
    return f'<p class="note">{esc(text)}</p>'
