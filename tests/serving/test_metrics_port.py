"""Prometheus by the book: names, OpenMetrics on request, and a keyless metrics port."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from process_support import ROW, penguins_home, service
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_families
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.slow
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    home = penguins_home(tmp_path_factory.mktemp("metrics") / "home")
    lines: list[str] = []
    with service(home, "--metrics-port", "0", stdout=lines) as svc:
        found = None
        for _ in range(100):
            found = next((re.search(r"verdict metrics on (http://127\.0\.0\.1:\d+/metrics)", x)
                          for x in lines if "metrics on" in x), None)  # fmt: skip
            if found:
                break
            time.sleep(0.05)
        assert found, lines
        httpx.post(f"{svc.url}/v1/models/penguins/predict", json={"instances": [ROW]},
                   headers=svc.headers).raise_for_status()  # fmt: skip
        yield svc, found.group(1)


def _check_names(families) -> set[str]:
    kinds = {}
    for family in families:
        kinds[family.name] = family.type
        if family.type == "counter":
            assert not family.name.endswith("_total"), family.name  # the parser strips it
            for sample in family.samples:
                assert sample.name in (f"{family.name}_total", f"{family.name}_created"), sample
        elif family.type == "gauge":
            assert not family.name.endswith("_total"), f"gauge {family.name} ends in _total"
    return set(kinds)


def test_the_metrics_port_needs_no_key_and_follows_the_naming_rules(running):
    svc, url = running
    assert httpx.get(f"{svc.url}/metrics").status_code == 401  # the service port keeps its key
    scraped = httpx.get(url)
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    names = _check_names(text_string_to_metric_families(scraped.text))
    assert {
        "verdict_requests",
        "verdict_predictions",
        "verdict_in_flight",
        "verdict_prediction_log_refused_rows",
        "verdict_prediction_log_pending",
    } <= names
    assert re.search(r'verdict_rows_total\{model="penguins"\} 1\.0', scraped.text)


@pytest.mark.parametrize("where", ["port", "service"])
def test_openmetrics_when_asked_for(running, where):
    svc, url = running
    target, headers = (url, {}) if where == "port" else (f"{svc.url}/metrics", svc.headers)
    answer = httpx.get(target, headers={**headers, "Accept": OPENMETRICS})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/openmetrics-text")
    assert answer.text.rstrip().endswith("# EOF")
    _check_names(om_families(answer.text))
    plain = httpx.get(target, headers=headers)
    assert plain.headers["content-type"].startswith("text/plain")
