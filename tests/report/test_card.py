"""The model card: its sections, its facts taken from the run, and the same text in Markdown and
in the HTML page."""

from __future__ import annotations

import html
import json
import re

import pytest
from report_runs import build_run

from verdict.report import write_report
from verdict.report._card import model_card, to_markdown
from verdict.report._load import load_run

HEADINGS = (
    "Model details",
    "Intended use",
    "Data",
    "Metrics",
    "Limitations",
    "Ethical considerations",
    "What the intervals mean",
)


@pytest.mark.parametrize("name", ["multiclass_cost_shap", "binary_plain"])
def test_card_has_every_section_in_markdown_and_html(built, name):
    run_dir = built(name)
    card = (run_dir / "model_card.md").read_text(encoding="utf-8")
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    info = json.loads((run_dir / "run.json").read_text())
    assert card.startswith(f"# Model card: {info['best']} predicting {info['data']['target']}")
    for heading in HEADINGS:
        assert f"\n## {heading}\n" in card
        assert f"<h3>{heading}</h3>" in page


@pytest.mark.parametrize("name", ["multiclass_cost_shap", "binary_threshold"])
def test_every_card_line_is_also_on_the_page(built, name):
    run_dir = built(name)
    card = (run_dir / "model_card.md").read_text(encoding="utf-8")
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    for line in card.splitlines():
        text = re.sub(r"^(#+ |- )", "", line).strip()
        if text and not text.startswith("Model card:"):
            assert html.escape(text) in page, text


def test_card_states_the_data_and_the_test_metrics(built):
    run_dir = built("multiclass_cost_shap")
    info = json.loads((run_dir / "run.json").read_text())
    card = (run_dir / "model_card.md").read_text()
    data = info["data"]
    assert f"{data['n_rows']} rows, of which {data['n_train']} trained" in card
    assert f"{data['n_test']} were held out" in card
    assert info["data"]["fingerprint"] in card
    accuracy = info["test"]["intervals"]["accuracy"]
    assert (
        f"accuracy: {accuracy['estimate']:.3f} [{accuracy['low']:.3f}, {accuracy['high']:.3f}]"
        in card
    )
    assert "95% percentile bootstrap" in card and "200 resamples, seed 0" in card


def test_card_names_the_imbalance_and_the_small_classes(built):
    card = (built("multiclass_cost_shap") / "model_card.md").read_text()
    assert "The smallest class, Chinstrap, is 20% of the labelled rows" in card
    assert "Few test rows for Chinstrap (17)" in card
    assert "imbalanced (largest 2.2 times the smallest)" in card


def test_card_with_no_sensitive_column_says_so(built):
    card = (built("binary_plain") / "model_card.md").read_text()
    assert "No column was marked sensitive" in card


def test_card_names_the_sensitive_columns_and_whether_they_are_used(tmp_path):
    run_dir = build_run(
        tmp_path, "multiclass", decision=False, importance=False, sensitive=("sex",)
    )
    write_report(run_dir)
    card = (run_dir / "model_card.md").read_text()
    assert "Columns marked sensitive: sex. Used as features: sex;" in card
    run = load_run(run_dir)
    run.info["schema"]["columns"] = [c for c in run.info["schema"]["columns"] if c["name"] != "sex"]
    text = to_markdown(model_card(run, None, {}))
    assert "Columns marked sensitive: sex. None is used as a feature;" in text


def test_card_reports_the_data_warnings(built, tmp_path):
    run = load_run(built("binary_plain"))
    run.info["data_report"]["findings"] = [
        {
            "code": "leakage",
            "severity": "warning",
            "message": "x alone predicts y. To fix: drop x.",
            "column": "x",
            "value": 0.99,
        },
        {
            "code": "id_column",
            "severity": "info",
            "message": "id dropped.",
            "column": "id",
            "value": None,
        },
    ]
    text = to_markdown(model_card(run, None, {"expected_calibration_error": 0.2}))
    assert "- Data: x alone predicts y. To fix: drop x." in text
    assert "id dropped" not in text
    assert "off by 0.200 on average (ECE)" in text
