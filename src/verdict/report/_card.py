"""The model card: intended use, data, metrics, limitations, ethical notes, and what the
intervals mean. One structure, rendered twice: Markdown (``model_card.md``) and HTML (the
report's last section), so the two never disagree.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from verdict.report._load import RunData
from verdict.report._words import count, metric_label, num, params_text, with_interval

SMALL_CLASS = 30  # fewer test rows than this in a class: its metrics are noisy
HEADLINE = (
    "accuracy",
    "balanced_accuracy",
    "f1_macro",
    "f1_binary",
    "matthews_corrcoef",
    "roc_auc_macro",
    "roc_auc_binary",
    "log_loss",
    "brier_score",
)


@dataclass
class Card:
    """Sections of (heading, blocks); a block is a paragraph (str) or a bullet list."""

    title: str
    sections: list[tuple[str, list[str | list[str]]]] = field(default_factory=list)

    def add(self, heading: str, *blocks: str | list[str]) -> None:
        """Append a section, leaving out empty blocks."""
        self.sections.append((heading, [b for b in blocks if b]))


def model_card(run: RunData, primary: dict[str, Any] | None, calibration: dict[str, Any]) -> Card:
    """The card's content, from run.json and the report's recomputed numbers."""
    data, target = run.info["data"], run.info["data"].get("target", "the target")
    card = Card(f"Model card: {run.info['best']} predicting {target}")
    card.add("Model details", _details(run))
    card.add(
        "Intended use",
        f"Predicts the class of '{target}' ({', '.join(run.names)}) for new rows that look like "
        f"the training table ({data.get('source', 'the training data')}), together with a "
        "probability per class. It is meant to support decisions that a person reviews, on "
        "data from the same population and collection process as the training data.",
        "Out of scope: rows from a different population, time period or measurement process "
        "than the training data; decisions with serious consequences for people taken "
        "without human review; any use of the probabilities as exact risks without checking "
        "calibration on the population at hand.",
    )
    card.add("Data", *_data(run))
    card.add("Metrics", *_metrics(run, primary, calibration))
    card.add("Limitations", _limitations(run, calibration))
    card.add("Ethical considerations", *_ethics(run))
    card.add("What the intervals mean", intervals_text(run))
    return card


def _details(run: RunData) -> list[str]:
    lineage = run.get("lineage", {})
    best = next((c for c in run.get("candidates", []) if c.get("family") == run.info["best"]), {})
    params = params_text(best.get("params")) or "defaults"
    return [
        f"Model family: {run.info['best']} ({params}), chosen among "
        f"{count(len(run.get('candidates', [])), 'family')} by cross-validated "
        f"{metric_label(run.info['primary_metric'])}.",
        f"Trained with verdict {run.get('verdict_version', '?')} on {run.get('created', '?')}, "
        f"seed {lineage.get('seed', '?')}, Python {lineage.get('python', '?')}.",
        f"Training data fingerprint (sha256): {run.info['data'].get('fingerprint', '?')}.",
    ]


def _data(run: RunData) -> list[str | list[str]]:
    data = run.info["data"]
    schema = run.get("schema", {})
    kinds: dict[str, int] = {}
    dropped = []
    for col in schema.get("columns", []):
        if col.get("kind") in ("numeric", "categorical", "boolean", "datetime"):
            kinds[col["kind"]] = kinds.get(col["kind"], 0) + 1
        else:
            dropped.append(f"'{col.get('name')}' dropped: {col.get('reason') or col.get('kind')}")
    used = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none recorded"
    balance = run.get("profile", {}).get("class_balance", {})
    shares = ", ".join(
        f"{c} {s:.0%}"
        for c, s in zip(balance.get("classes", []), balance.get("shares", []), strict=False)
    )
    text = (
        f"Source: {data.get('source', '?')}; {num(data.get('n_rows'))} rows, of which "
        f"{num(data.get('n_train'))} trained the model (with cross-validation inside them) and "
        f"{num(data.get('n_test'))} were held out as the test set, never seen in training. "
        f"Features used: {used}."
    )
    balance_text = f"Class shares among labelled rows: {shares}." if shares else ""
    return [text, balance_text, dropped]


def _metrics(
    run: RunData, primary: dict[str, Any] | None, calibration: dict[str, Any]
) -> list[str | list[str]]:
    intervals = run.info["test"].get("intervals") or {}
    lines = []
    if primary:
        lines.append(
            f"{metric_label(primary['metric'])} (primary): "
            f"{with_interval(primary['estimate'], primary['low'], primary['high'])}"
        )
    for key in HEADLINE:
        ci = intervals.get(key)
        if ci and (not primary or key != primary["metric"]):
            lines.append(
                f"{metric_label(key)}: {with_interval(ci['estimate'], ci['low'], ci['high'])}"
            )
    if calibration.get("expected_calibration_error") is not None:
        lines.append(
            f"expected calibration error: {num(calibration['expected_calibration_error'])}"
        )
    intro = (
        f"Measured once on the {num(int(run.y_true.shape[0]))} held-out test rows. The "
        f"primary metric, {metric_label(run.info['primary_metric'])}, was chosen for this "
        "problem's class balance and costs (the report's model comparison says why)."
    )
    return [intro, lines]


def _limitations(run: RunData, calibration: dict[str, Any]) -> list[str]:
    out = []
    support = {n: int((run.y_true == k).sum()) for k, n in enumerate(run.names)}
    small = [f"{n} ({s})" for n, s in support.items() if s < SMALL_CLASS]
    if small:
        out.append(
            f"Few test rows for {', '.join(small)}: per-class metrics of these classes are "
            "noisy, as their wide intervals show."
        )
    ratio = run.get("profile", {}).get("class_balance", {}).get("imbalance_ratio")
    if ratio and ratio >= 2:
        out.append(
            f"The classes are imbalanced (largest {ratio:.1f} times the smallest): accuracy "
            "flatters the model; read the per-class and macro-averaged metrics."
        )
    ece = calibration.get("expected_calibration_error")
    if ece is not None and ece > 0.05:
        out.append(
            f"The probabilities are off by {ece:.3f} on average (ECE): recalibrate "
            "before reading them as risks."
        )
    for finding in run.get("data_report", {}).get("findings", []):
        if finding.get("severity") == "warning":
            out.append(f"Data: {finding.get('message')}")
    out.append(
        "One hold-out split: performance on data that drifts away from the training "
        "distribution (new sources, later periods) is unknown and should be monitored."
    )
    return out


def _ethics(run: RunData) -> list[str | list[str]]:
    schema = run.get("schema", {})
    sensitive = list(schema.get("sensitive") or [])
    features = {
        c.get("name")
        for c in schema.get("columns", [])
        if c.get("kind") in ("numeric", "categorical", "boolean", "datetime")
    }
    if sensitive:
        used = [s for s in sensitive if s in features]
        first = (
            f"Columns marked sensitive: {', '.join(sensitive)}. "
            + (f"Used as features: {', '.join(used)}; " if used else "None is used as a feature; ")
            + "check the error rates per group before use, since a model can treat groups "
            "differently even without seeing the attribute (through correlated columns)."
        )
    else:
        first = (
            "No column was marked sensitive. If the rows describe people, mark attributes "
            "such as sex, age or ethnicity as sensitive, and compare error rates across groups "
            "before use; correlated columns can stand in for them."
        )
    balance = run.get("profile", {}).get("class_balance", {})
    shares = dict(zip(balance.get("classes", []), balance.get("shares", []), strict=False))
    rare = min(shares, key=shares.get) if shares else None
    imbalance = (
        f"The smallest class, {rare}, is {shares[rare]:.0%} of the labelled rows: the model "
        "learned it from fewer examples, and its errors weigh little in accuracy, so check its "
        "recall before relying on the model for it."
        if rare is not None and len(shares) > 1
        else ""
    )
    return [
        first,
        imbalance,
        "Errors are not equally likely for every class (see the per-class metrics), so the "
        "harm of a wrong prediction falls unevenly; where errors have different costs, pass "
        "them to training so the decision rule accounts for them.",
    ]


def intervals_text(run: RunData) -> str:
    """What the bracketed ranges are, in plain words."""
    test = run.info["test"]
    level = (test.get("interval_confidence") or 0.95) * 100
    method = test.get("interval_method") or "percentile"
    resamples = test.get("interval_resamples") or 1000
    seed = test.get("interval_seed")
    return (
        f"Ranges in brackets are {level:g}% {method} bootstrap confidence intervals over the "
        f"test rows ({resamples} resamples{'' if seed is None else f', seed {seed}'}). If the "
        f"test set were drawn again from the same population, ranges built this way would "
        f"contain the true value about {level:g}% of the time. They describe the noise of a "
        "finite test set only: not changes in the data over time, label errors, or the luck of "
        "the model search. Differences between models come from paired tests on the same rows."
    )


def to_markdown(card: Card) -> str:
    """The card as a Markdown document."""
    lines = [f"# {card.title}", ""]
    for heading, blocks in card.sections:
        lines += [f"## {heading}", ""]
        for block in blocks:
            lines += [f"- {b}" for b in block] if isinstance(block, list) else [block]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def to_html(card: Card) -> str:
    """The card's sections as HTML (the page adds the section wrapper and its title)."""
    parts = []
    for heading, blocks in card.sections:
        parts.append(f"<h3>{html.escape(heading)}</h3>")
        for block in blocks:
            if isinstance(block, list):
                items = "".join(f"<li>{html.escape(b)}</li>" for b in block)
                parts.append(f"<ul>{items}</ul>")
            else:
                parts.append(f"<p>{html.escape(block)}</p>")
    return "\n".join(parts)
