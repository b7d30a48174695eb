"""The HTML monitoring report: self-contained, and it says what the monitoring pass found."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from monitor_support import make_world, population, send, utc

from verdict.monitoring import monitor
from verdict.monitoring.html._write import write_monitor_report

SHIFTED = "bill_length_mm"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """An unchanged labelled stream, a drifted and relabelled one, and one without labels."""
    world = make_world(tmp_path_factory.mktemp("monitor-html"))
    try:
        rows = population(2000, seed=1)
        send(world, rows, start=utc(0), labels=rows["species"])
        drifted = population(1000, seed=2)
        drifted[SHIFTED] = drifted[SHIFTED] + 0.5 * drifted[SHIFTED].std()
        swapped = drifted["species"].map(
            {"Adelie": "Gentoo", "Gentoo": "Chinstrap", "Chinstrap": "Adelie"}
        )
        send(world, drifted, start=utc(120), labels=swapped)
        send(world, population(450, seed=3), start=utc(300))
        run = {"registry": world.registry, "log": world.log, "window": 500}
        yield {
            "unchanged": monitor("penguins@production", until=utc(60), **run),
            "drifted": monitor("penguins@production", since=utc(100), until=utc(200), **run),
            "unlabelled": monitor("penguins@production", since=utc(290), **run),
        }
    finally:
        world.close()


def _write(result, tmp_path, name="report.html"):
    path = write_monitor_report(result, tmp_path / "nested" / "dir" / name)
    return path, path.read_text(encoding="utf-8")


def _self_contained(text: str) -> None:
    assert "<svg" in text and "<script" not in text.lower()
    # No external reference: nothing loaded by src/href/url() from the network.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text, re.IGNORECASE)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", text, re.IGNORECASE)
    assert "<link" not in text.lower() and "@import" not in text


def test_unchanged_stream_reports_no_alert(results, tmp_path):
    result = results["unchanged"]
    assert not result.alarm and len(result.windows) == 4 and len(result.labelled) == 4
    path, text = _write(result, tmp_path)
    assert path.parent.name == "dir" and path.name == "report.html"
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]  # no temp file left
    _self_contained(text)
    assert "No alert" in text and "ALERT" not in text.split("<main>")[1].split("</section>")[0]
    assert text.count("<svg") == 2
    for sid in ("glance", "drift", "performance", "reading"):
        assert f'id="{sid}"' in text
    assert "penguins@v1" in text and "estimate reliable" in text
    assert "no significant drop" in text and "Holm" in text


def test_drifted_stream_names_the_feature_and_the_alerts(results, tmp_path):
    result = results["drifted"]
    assert result.alarm and len(result.windows) == 2
    _, text = _write(result, tmp_path)
    _self_contained(text)
    assert "ALERT" in text and 'class="hero alarm"' in text
    for alert in result.alerts:
        assert alert.replace("&", "&amp;") in text
    assert re.search(r'<td class="num drifted"[^>]*>PSI [\d.]+', text)
    assert f"<td>{SHIFTED}</td><td>DRIFT</td>" in text  # the newest window's detail
    assert ">dropped<" in text and "got worse" in text


def test_a_result_without_labels_renders(results, tmp_path):
    result = results["unlabelled"]
    assert result.labelled == () and len(result.windows) == 1
    _, text = _write(result, tmp_path)
    _self_contained(text)
    assert "Labels have not come back yet" in text
    assert "none yet" in text and text.count("<svg") == 2


def test_an_unreliable_estimate_is_shown_but_marked(results, tmp_path):
    result = results["unchanged"]
    bad = replace(
        result.calibration, ece=0.12, calibrated=False, message="not calibrated: ECE 0.120"
    )
    _, text = _write(replace(result, calibration=bad), tmp_path)
    assert "estimate NOT reliable" in text and "NOT reliable" in text.split("<svg")[-1]
    assert "do not trust it" in text


def test_writing_again_replaces_the_file(results, tmp_path):
    path, _ = _write(results["unlabelled"], tmp_path)
    again, text = _write(results["drifted"], tmp_path)
    assert again == path and "ALERT" in text
