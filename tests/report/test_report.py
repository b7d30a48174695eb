"""``write_report``: every section renders, plots are real inline SVG, nothing loads from the
network, and metrics.json agrees with run.json and with the stored predictions."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from verdict.errors import InvalidInputError
from verdict.report import write_report
from verdict.report._curves import ranking_curves
from verdict.report._decision import threshold_curve
from verdict.report._html import SECTIONS
from verdict.report._load import load_run
from verdict.report._words import comparison_sentence

VARIANTS = ["multiclass_cost_shap", "binary_threshold", "binary_plain", "wine_int_labels"]
SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL)
PATH_D = re.compile(r'<path\b[^>]*\bd="([^"]+)"')


class _Collector(HTMLParser):
    """Ids, section headings and resource-loading attributes of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.loads: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.append(value)
            if name in ("src", "href", "xlink:href", "data", "srcset", "poster") and value:
                self.loads.append(value)


def _page(run_dir: Path) -> str:
    return (run_dir / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", VARIANTS)
def test_every_section_is_present_once_with_its_heading(built, name):
    page = _page(built(name))
    parser = _Collector()
    parser.feed(page)
    for sid, title in SECTIONS:
        assert parser.ids.count(sid) == 1, sid
        if sid != "verdict":  # the verdict section's heading is the headline itself
            assert f'<section id="{sid}"' in page and f"<h2>{title}</h2>" in page
    assert len(parser.ids) == len(set(parser.ids)), "ids must be unique across inline SVGs"


@pytest.mark.parametrize("name", VARIANTS)
def test_plots_are_nonempty_inline_svg_with_drawn_paths(built, name):
    page = _page(built(name))
    svgs = SVG.findall(page)
    # balance, association, cv, comparisons, confusion, per-class, curves, reliability
    assert len(svgs) >= 8
    for svg in svgs:
        assert 'class="plot"' in svg and "aria-label=" in svg
        drawn = [d for d in PATH_D.findall(svg) if d.strip()]
        assert len(drawn) >= 3, svg[:200]
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page


@pytest.mark.parametrize("name", VARIANTS)
def test_nothing_is_loaded_from_the_network(built, name):
    page = _page(built(name))
    parser = _Collector()
    parser.feed(page)
    assert all(v.startswith("#") for v in parser.loads), parser.loads  # no data: images either
    assert "@import" not in page and "<script" not in page and "<link" not in page
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", page)
    # the only absolute URLs left are SVG namespace names, which are never fetched
    for match in re.finditer(r"https?://[^\s\"')<]+", page):
        before = page[max(0, match.start() - 20) : match.start()]
        assert re.search(r'xmlns(:\w+)?="$', before), match.group(0)


def test_write_report_returns_the_page_and_writes_all_three_files(built):
    run_dir = built("binary_threshold")
    assert write_report(str(run_dir)) == run_dir / "report.html"
    for name in ("report.html", "metrics.json", "model_card.md"):
        assert (run_dir / name).stat().st_size > 500


def test_rebuilding_gives_the_same_files(built, tmp_path):
    copy = shutil.copytree(built("wine_int_labels"), tmp_path / "run")
    write_report(copy)  # the page names its folder
    first = [(copy / f).read_bytes() for f in ("report.html", "metrics.json", "model_card.md")]
    write_report(copy)
    again = [(copy / f).read_bytes() for f in ("report.html", "metrics.json", "model_card.md")]
    assert first == again


@pytest.mark.parametrize("name", VARIANTS)
def test_metrics_json_agrees_with_run_json(built, name):
    run_dir = built(name)
    info = json.loads((run_dir / "run.json").read_text())
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["best_model"] == info["best"]
    assert metrics["runner_up"] == info["runner_up"]
    assert metrics["classes"] == info["data"]["classes"]
    assert metrics["comparisons"] == info["comparisons"]
    assert metrics["decision"] == info["decision"]
    for key, ci in info["test"]["intervals"].items():
        assert metrics["test"][key] == {k: ci[k] for k in ("estimate", "low", "high")}
    primary = metrics["primary_metric"]
    assert primary["low"] <= primary["estimate"] <= primary["high"]
    assert primary["metric"].startswith(info["primary_metric"].split("_")[0])
    shown = f"{primary['estimate']:.3f} [{primary['low']:.3f}, {primary['high']:.3f}]"
    assert shown in _page(run_dir) and shown in (run_dir / "model_card.md").read_text()


@pytest.mark.parametrize("name", VARIANTS)
def test_per_class_intervals_match_the_evaluation(built, name):
    run_dir = built(name)
    info = json.loads((run_dir / "run.json").read_text())
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert [r["label"] for r in metrics["per_class"]] == [str(c) for c in info["data"]["classes"]]
    for ours, theirs in zip(metrics["per_class"], info["test"]["per_class"], strict=True):
        assert ours["support"] == theirs["support"]
        for metric in ("precision", "recall", "f1", "specificity"):
            ci = ours[metric]
            assert ci is not None, (name, metric)
            assert ci["estimate"] == pytest.approx(theirs[metric], abs=1e-12)
            assert ci["low"] <= ci["estimate"] <= ci["high"]


def test_curves_match_scikit_learn_and_the_evaluation(built):
    run = load_run(built("multiclass_cost_shap"))
    curves = ranking_curves(run)
    onehot = np.eye(run.n_classes)[run.y_true]
    micro = next(c for c in curves.roc_average if c.name == "micro average")
    assert micro.area == pytest.approx(roc_auc_score(onehot.ravel(), run.proba.ravel()))
    macro = next(c for c in curves.roc_average if c.name == "macro average")
    assert macro.area == pytest.approx(run.info["test"]["roc_auc"]["macro"])
    assert macro.x[0] == 0 and macro.x[-1] == 1 and macro.y[-1] == pytest.approx(1)
    for curve in curves.pr:
        expected = run.info["test"]["per_class"][curve.class_index]["average_precision"]
        assert curve.area == pytest.approx(expected)


def test_binary_curves_are_the_positive_class_only(built):
    run = load_run(built("binary_plain"))
    curves = ranking_curves(run)
    assert [c.class_index for c in curves.roc] == [1] and not curves.roc_average
    assert curves.roc[0].area == pytest.approx(run.info["test"]["roc_auc"]["binary"])


def test_threshold_curve_counts_match_a_direct_count(built):
    run = load_run(built("binary_threshold"))
    costs = np.array([[0.0, 1.0], [5.0, 0.0]])
    curve = threshold_curve(run, costs)
    i = 87
    decided = run.proba[:, 1] >= curve.thresholds[i]
    truth = run.y_true == 1
    fp, fn = np.sum(decided & ~truth), np.sum(~decided & truth)
    assert curve.cost[i] == pytest.approx((fp + 5 * fn) / truth.size)
    assert curve.recall[i] == pytest.approx(np.sum(decided & truth) / truth.sum())


def test_decision_section_follows_the_run(built):
    assert "Decision threshold" in _page(built("binary_threshold"))
    assert 'aria-label="Precision, recall, F1 and cost by decision threshold"' in _page(
        built("binary_threshold")
    )
    multiclass = _page(built("multiclass_cost_shap"))
    assert "true \\ decided" in multiclass and "What each decision rule costs" in multiclass
    plain = _page(built("binary_plain"))
    assert "No costs were given" in plain
    assert 'aria-label="Precision, recall, F1 and cost by decision threshold"' in plain


def test_importance_and_shap_appear_only_when_recorded(built):
    shap = _page(built("multiclass_cost_shap"))
    assert "Bar chart of permutation importance" in shap and "mean absolute SHAP" in shap
    plain = _page(built("binary_plain"))
    assert "No feature importance was recorded" in plain and "SHAP values were not" in plain


def test_comparisons_are_stated_in_words(built):
    page = _page(built("binary_threshold"))
    info = json.loads((built("binary_threshold") / "run.json").read_text())
    baseline = next(c for c in info["comparisons"] if c["against"] == "baseline")
    sentence = (
        f"{baseline['model']} beats the majority-class baseline by "
        f"{abs(baseline['difference']):.3f} macro F1 [{baseline['low']:.3f}, "
        f"{baseline['high']:.3f}]"
    )
    assert sentence in page


def test_a_class_never_predicted_or_absent_still_reports(built, tmp_path):
    run_dir = shutil.copytree(built("multiclass_cost_shap"), tmp_path / "run")
    frame = pd.read_parquet(run_dir / "test_predictions.parquet")
    frame = frame[frame["y_true"] != "Gentoo"].copy()  # absent from the test rows
    frame.loc[frame["y_pred"] == "Chinstrap", "y_pred"] = "Adelie"  # never predicted
    frame.to_parquet(run_dir / "test_predictions.parquet")
    page = write_report(run_dir).read_text()
    assert "undefined" in page  # Chinstrap's precision, Gentoo's recall
    metrics = json.loads((run_dir / "metrics.json").read_text())
    gentoo = next(r for r in metrics["per_class"] if r["label"] == "Gentoo")
    assert gentoo["support"] == 0 and gentoo["recall"] is None


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: shutil.rmtree(d), "is not a directory"),
        (lambda d: (d / "run.json").unlink(), "run.json does not exist"),
        (lambda d: (d / "run.json").write_text("{not json"), "cannot be read as JSON"),
        (lambda d: (d / "run.json").write_text('{"data": {}}'), "lacks"),
        (lambda d: (d / "test_predictions.parquet").unlink(), "parquet does not exist"),
        (lambda d: (d / "test_predictions.parquet").write_text("PAR1 junk"), "as Parquet"),
        (
            lambda d: pd.DataFrame({"y_true": ["a"], "y_pred": ["a"]}).to_parquet(
                d / "test_predictions.parquet"
            ),
            "lacks the columns",
        ),
    ],
)
def test_a_damaged_run_dir_is_a_clear_error(built, tmp_path, damage, message):
    run_dir = shutil.copytree(built("binary_plain"), tmp_path / "run")
    damage(run_dir)
    with pytest.raises(InvalidInputError, match=message) as caught:
        write_report(run_dir)
    assert "To fix:" in str(caught.value)


def test_predictions_of_another_run_are_refused(built, tmp_path):
    run_dir = shutil.copytree(built("binary_plain"), tmp_path / "run")
    frame = pd.read_parquet(run_dir / "test_predictions.parquet")
    frame["y_true"] = "unknown"
    frame.to_parquet(run_dir / "test_predictions.parquet")
    with pytest.raises(InvalidInputError, match="not classes of the run"):
        write_report(run_dir)


@pytest.mark.parametrize(
    ("comparison", "expected"),
    [
        (
            {
                "metric": "f1_macro",
                "difference": 0.52,
                "low": 0.45,
                "high": 0.6,
                "p_value": 1e-4,
                "against": "baseline",
                "against_model": "majority_class",
            },
            "m beats the majority-class baseline by 0.520 macro F1 [0.450, 0.600], p < 0.001.",
        ),
        (  # a loss: a negative difference is a gain, stated as a positive size
            {
                "metric": "expected_cost",
                "difference": -0.158,
                "low": -0.333,
                "high": -0.009,
                "p_value": 0.04,
                "against": "runner_up",
                "against_model": "rf",
            },
            "m beats the runner-up (rf) by 0.158 expected cost [0.009, 0.333], p = 0.040.",
        ),
        (
            {
                "metric": "roc_auc",
                "difference": -0.038,
                "low": -0.066,
                "high": -0.009,
                "p_value": 0.009,
                "against": "runner_up",
                "against_model": "rf",
            },
            "m trails the runner-up (rf) by 0.038 ROC AUC [0.009, 0.066], p = 0.009.",
        ),
        (  # an interval touching zero is not a supported difference
            {
                "metric": "f1_macro",
                "difference": 0.017,
                "low": 0.0,
                "high": 0.06,
                "p_value": 0.72,
                "against": "runner_up",
                "against_model": "rf",
            },
            "m and the runner-up (rf) cannot be told apart on this test set: the difference "
            "in macro F1 is 0.017 [0.000, 0.060], p = 0.72.",
        ),
        (  # McNemar: no interval, the p-value decides
            {
                "metric": "accuracy",
                "difference": 0.02,
                "low": None,
                "high": None,
                "p_value": 0.01,
                "against": "runner_up",
                "against_model": "rf",
            },
            "m beats the runner-up (rf) by 0.020 accuracy, p = 0.010.",
        ),
    ],
)
def test_comparison_sentences(comparison, expected):
    assert comparison_sentence({"model": "m", **comparison}) == expected
