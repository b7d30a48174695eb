"""The page's sections about the run as a whole: the verdict, the data, the model search and
how to reproduce it. (The evaluation sections are in ``_sections_eval``.)"""

from __future__ import annotations

import json
from typing import Any

from verdict.report import _plots as plots
from verdict.report._analysis import Analysis
from verdict.report._html import esc, figure, note, section, table, tile
from verdict.report._words import (
    comparison_sentence,
    count,
    interval,
    metric_label,
    num,
    p_text,
    params_text,
    short,
    verdict_of,
    with_interval,
)

KPI_KEYS = ("accuracy", "balanced_accuracy", "matthews_corrcoef", "roc_auc", "log_loss")
MAX_SUMMARY_ROWS = 15


def verdict(a: Analysis) -> str:
    """The header: best model, primary metric with its interval, and how it compares."""
    info, p = a.run.info, a.primary
    target = info["data"].get("target", "the target")
    headline = f"{esc(info['best'])} predicts {esc(target)}"
    if p:
        headline += (
            f": {esc(metric_label(p['metric']))} {esc(num(p['estimate']))} "
            f'<span class="muted nowrap">{esc(interval(p["low"], p["high"]))}</span>'
        )
    signal = info.get("signal") or {"found": True}
    if not signal.get("found", True):
        headline = (
            "No model here beats guessing the class frequencies: do not deploy "
            f'<span class="muted nowrap">(best found: {esc(info["best"])})</span>'
        )
    items = "".join(
        f'<li class="{verdict_of(c)}">{esc(comparison_sentence(c))}</li>'
        for c in info.get("comparisons") or []
    )
    verdicts = (
        f'<ul class="verdicts">{items}</ul>'
        if items
        else note("No paired comparison was recorded for this run.")
    )
    return section(
        "verdict",
        f'<p class="muted">verdict report · {esc(info["data"].get("source", ""))}</p>'
        f"<h1>{headline}</h1>\n"
        f'<p class="lede">{esc(_lede(a))}</p>\n{verdicts}\n{_kpis(a)}',
        css="hero",
        heading=False,
    )


def _lede(a: Analysis) -> str:
    info = a.run.info
    n = int(a.run.y_true.shape[0])
    runner = info.get("runner_up")
    chosen = f"Chosen from {count(len(info.get('candidates') or []), 'model family')}"
    chosen += f" (runner-up: {runner})" if runner else ""
    elapsed = info.get("elapsed_seconds")
    timing = f", in {elapsed:.0f} s" if isinstance(elapsed, (int, float)) else ""
    return (
        f"{chosen}{timing}, and evaluated once on {n:,} test rows that no step of training "
        f"saw. {len(a.run.names)} classes: {', '.join(a.run.names)}."
    )


def _kpis(a: Analysis) -> str:
    tiles = []
    if a.primary:
        tiles.append(_tile("primary · " + metric_label(a.primary["metric"]), a.primary, True))
    intervals = a.run.info["test"].get("intervals") or {}
    suffix = "binary" if a.run.binary else "macro"
    for key in KPI_KEYS:
        ci = intervals.get(key) or intervals.get(f"{key}_{suffix}")
        if ci and (not a.primary or ci.get("metric", key) != a.primary["metric"]):
            tiles.append(_tile(metric_label(key), ci, False))
    return f'<div class="kpis">{"".join(tiles[:5])}</div>'


def _tile(label: str, ci: dict[str, Any], primary: bool) -> str:
    detail = interval(ci.get("low"), ci.get("high"))
    return tile(label, num(ci.get("estimate")), detail, primary=primary)


def data_profile(a: Analysis) -> str:
    """Class balance, missingness, findings, dropped columns, summaries, correlations."""
    info = a.run.info
    profile = info.get("profile") or {}
    balance = profile.get("class_balance") or {}
    names = [str(c) for c in balance.get("classes", a.run.names)]
    counts = balance.get("counts") or [int((a.run.y_true == k).sum()) for k in range(len(names))]
    parts = [f"<p>{esc(_data_sentence(info, profile))}</p>", '<div class="grid2">']
    parts.append(figure(plots.class_balance(names, counts), _balance_caption(balance), ""))
    parts.append(
        figure(
            plots.missingness(profile.get("missing") or {}),
            "Missing values are imputed inside every fold, with an indicator column.",
            "No missing values in any column.",
        )
    )
    parts += ["</div>", "<h3>Findings</h3>", _findings(info)]
    parts += [_dropped(info), _summaries(profile)]
    parts.append(
        figure(
            plots.association(profile.get("association") or {}),
            "Mutual information of each feature with the target, before any model: "
            "a first look at which columns matter (a single feature near the top of a much "
            "longer bar may be a leak).",
            "No feature-target association was recorded.",
        )
    )
    parts.append(_correlations(profile))
    return section("data-profile", "\n".join(parts))


def _data_sentence(info: dict[str, Any], profile: dict[str, Any]) -> str:
    data = info["data"]
    kinds: dict[str, int] = {}
    for kind in (profile.get("kinds") or {}).values():
        kinds[kind] = kinds.get(kind, 0) + 1
    used = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    unlabelled = profile.get("n_unlabelled") or 0
    return (
        f"{num(data.get('n_rows'))} rows and {num(profile.get('n_columns'))} columns"
        + (f" ({used})" if used else "")
        + f"; {num(data.get('n_train'))} rows for training and cross-validation, "
        f"{num(data.get('n_test'))} held out for the test."
        + (f" {unlabelled} rows without a label were left out." if unlabelled else "")
    )


def _balance_caption(balance: dict[str, Any]) -> str:
    ratio = balance.get("imbalance_ratio")
    if not ratio:
        return "Rows per class."
    state = "balanced" if ratio < 1.5 else ("mildly imbalanced" if ratio < 3 else "imbalanced")
    return f"Rows per class: {state} (largest class {ratio:.1f} times the smallest)."


def _findings(info: dict[str, Any]) -> str:
    findings = (info.get("data_report") or {}).get("findings") or []
    if not findings:
        return note("The data checks found nothing to report.")
    order = sorted(findings, key=lambda f: f.get("severity") != "warning")
    items = "".join(
        f'<li><span class="badge {esc(f.get("severity", "info"))}">{esc(f.get("severity"))}'
        f"</span>{esc(f.get('message', ''))}</li>"
        for f in order
    )
    return f"<ul>{items}</ul>"


def _dropped(info: dict[str, Any]) -> str:
    columns = (info.get("schema") or {}).get("columns") or []
    rows = [
        (c.get("name"), c.get("kind"), c.get("reason", ""))
        for c in columns
        if c.get("kind") not in ("numeric", "categorical", "boolean", "datetime")
    ]
    if not rows:
        return ""
    return "<h3>Columns left out of training</h3>" + table(("column", "kind", "why"), rows)


def _summaries(profile: dict[str, Any]) -> str:
    rank = {k: i for i, k in enumerate(profile.get("association") or {})}
    out = []
    numeric = sorted((profile.get("numeric") or {}).items(), key=lambda kv: rank.get(kv[0], 1e9))
    if numeric:
        rows = [
            (
                name,
                short(s.get("mean")),
                short(s.get("std")),
                short(s.get("min")),
                short(s.get("median")),
                short(s.get("max")),
                num(s.get("missing")),
                f"{(s.get('outlier_share') or 0):.1%}",
            )
            for name, s in numeric[:MAX_SUMMARY_ROWS]
        ]
        head = ("feature", "mean", "sd", "min", "median", "max", "missing", "outliers")
        out += ["<h3>Numeric features</h3>", table(head, rows, range(1, 8))]
    categorical = sorted(
        (profile.get("categorical") or {}).items(), key=lambda kv: rank.get(kv[0], 1e9)
    )
    if categorical:
        rows = [
            (
                name,
                num(s.get("n_levels")),
                _levels(s.get("top_levels") or []),
                num(s.get("missing")),
            )
            for name, s in categorical[:MAX_SUMMARY_ROWS]
        ]
        out += [
            "<h3>Categorical features</h3>",
            table(("feature", "levels", "most frequent", "missing"), rows, (1, 3)),
        ]
    if out:
        out.append(note("Features ordered by their association with the target."))
    return "\n".join(out)


def _levels(top: list[Any]) -> str:
    return ", ".join(f"{level} ({n:,})" for level, n in top[:5])


def _correlations(profile: dict[str, Any]) -> str:
    pairs = profile.get("correlations") or []
    if not pairs:
        return ""
    rows = [(p.get("a"), p.get("b"), num(p.get("pearson"), 2)) for p in pairs[:10]]
    return (
        "<h3>Most correlated numeric features</h3>"
        + table(("feature", "feature", "Pearson r"), rows, (2,))
        + note("Strongly correlated features share information; their importances split it.")
    )


def model_comparison(a: Analysis) -> str:
    """Candidates' CV scores, then the paired test-set comparisons in words and numbers."""
    info = a.run.info
    metric = info["primary_metric"]
    why = (info.get("advice") or {}).get("rationale") or []
    reasons = "".join(f"<li>{esc(r)}</li>" for r in why)
    parts = [
        f"<p>Every family was tuned with cross-validation on the training rows only, scored "
        f"by <strong>{esc(metric_label(metric))}</strong>, the primary metric.</p>",
        f"<details><summary>Why {esc(metric_label(metric))}</summary><ul>{reasons}</ul></details>"
        if reasons
        else "",
        figure(
            plots.cv_scores(info.get("candidates") or [], metric, info["best"]),
            "The chosen model in blue. Overlapping bars mean the training folds could not "
            "separate those families; the test-set comparison below settles it.",
            "No cross-validation scores were recorded.",
        ),
        _candidates(info),
        _final(info),
        "<h3>On the test set</h3>",
        _comparisons(info.get("comparisons") or []),
    ]
    return section("model-comparison", "\n".join(parts))


def _candidates(info: dict[str, Any]) -> str:
    rows = []
    for i, c in enumerate(info.get("candidates") or [], start=1):
        params = params_text(c.get("params"))
        rows.append(
            (
                i,
                c.get("family"),
                f"{num(c.get('cv_mean'))} ± {num(c.get('cv_std'))}",
                short(c.get("fit_seconds")),  # fast fits show as 0.012, not 0.0
                num(c.get("n_configs")),
                params or "defaults",
            )
        )
    if not rows:
        return ""
    head = ("rank", "family", "CV mean ± sd", "fit s / fold", "configs tried", "best parameters")
    return table(head, rows, (0, 2, 3, 4))


def _final(info: dict[str, Any]) -> str:
    """The final model: ensemble weights, the temperature, and the prior's bar, out of fold."""
    final = info.get("final")
    if not final:
        return ""
    total = sum(m.get("weight", 0) for m in final["members"]) or 1
    rows = [
        (m.get("family"), params_text(m.get("params")) or "defaults", num(m["weight"] / total, 2))
        for m in final["members"]
    ]
    calibration = final.get("calibration") or {}
    scaled = calibration.get("method") == "temperature"
    lines = [
        f"Out-of-fold log loss of the final model {num(final.get('cv_log_loss'))}, against "
        f"{num(final.get('prior_log_loss'))} for the class frequencies alone.",
        (
            f"Temperature {num(calibration.get('temperature'), 2)}: cross-validated log loss "
            f"{num(calibration.get('cv_log_loss_before'))} before, "
            f"{num(calibration.get('cv_log_loss_after'))} after (the most probable class "
            "unchanged)."
            if scaled
            else "No temperature: scaling did not lower the cross-validated log loss."
        ),
    ]
    held_out = final.get("test")
    if held_out:
        lines.append(
            f"On the held-out rows: log loss {num(held_out['log_loss_before'])} without the "
            f"temperature, {num(held_out['log_loss_after'])} with it; expected calibration "
            f"error {num(held_out['ece_before'])} before, {num(held_out['ece_after'])} after."
        )
    if final.get("guarded"):
        lines.append(
            "Every model's probabilities were worse than the class frequencies out of fold, "
            "so the class frequencies are the model."
        )
    return (
        "<h3>The final model</h3>"
        + table(("member", "parameters", "weight"), rows, (2,))
        + note(" ".join(lines))
    )


def _comparisons(items: list[dict[str, Any]]) -> str:
    if not items:
        return note("No paired comparison was recorded for this run.")
    sentences = "".join(
        f'<li class="{verdict_of(c)}">{esc(comparison_sentence(c))}</li>' for c in items
    )
    rows = [
        (
            c.get("model"),
            c.get("against_model"),
            metric_label(str(c.get("metric"))),
            num(c.get("estimate_model")),
            num(c.get("estimate_against")),
            with_interval(c.get("difference"), c.get("low"), c.get("high")),
            p_text(c.get("p_value")) or "—",
            c.get("test"),
        )
        for c in items
    ]
    head = (
        "model",
        "against",
        "metric",
        "model's score",
        "other's score",
        "difference [interval]",
        "p",
        "test",
    )
    return (
        f'<ul class="verdicts">{sentences}</ul>'
        + figure(
            plots.comparisons(items),
            "Each point is a difference on the same test rows; "
            "an interval that crosses the dashed zero line is not a supported difference.",
            "",
        )
        + table(head, rows, (3, 4, 5))
    )


def _plain_text(value: Any) -> str:
    if value is None:
        return "—"
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def reproducibility(a: Analysis) -> str:
    """Seed, fingerprint, versions and the training arguments: enough to rerun it."""
    info = a.run.info
    lineage = info.get("lineage") or {}
    rows = [
        ("verdict", info.get("verdict_version", "")),
        ("created", info.get("created", "")),
        ("seed", lineage.get("seed", "")),
        ("python", lineage.get("python", "")),
        ("data fingerprint (sha256)", info["data"].get("fingerprint", "")),
        ("time budget (s)", short(info.get("time_budget"))),
        ("elapsed (s)", num(info.get("elapsed_seconds"), 1)),
    ]
    rows += [(f"package {k}", v) for k, v in sorted((lineage.get("packages") or {}).items())]
    params = lineage.get("params") or {}
    rows += [(f"argument {k}", _plain_text(v)) for k, v in params.items()]
    return section("reproducibility", table(("what", "value"), rows))
