"""One monitoring pass over logged traffic: unchanged, drifted, and with labels that changed."""

from __future__ import annotations

import pytest
from monitor_support import make_world, population, send, utc

from verdict.errors import InvalidInputError
from verdict.monitoring import monitor


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    made = make_world(tmp_path_factory.mktemp("monitor"))
    yield made
    made.close()


def test_unchanged_traffic_raises_no_alert(world):
    rows = population(2000, seed=1)
    send(world, rows, start=utc(0), labels=rows["species"])
    result = monitor("penguins@production", registry=world.registry, log=world.log, window=1000,
                     until=utc(60))  # fmt: skip
    assert result.n_rows == 2000 and len(result.windows) == 2
    assert result.n_labelled == 2000 and len(result.labelled) == 2
    assert not result.windows[-1].drift.alarm
    assert not result.labelled[-1].live.dropped
    assert result.alerts == () and not result.alarm
    estimated = result.windows[-1].estimated
    assert 0.8 < estimated.metrics["accuracy"] <= 1.0


def test_a_shifted_feature_and_a_changed_label_relationship_alert(world):
    rows = population(1000, seed=2)
    rows["bill_length_mm"] = rows["bill_length_mm"] + 0.5 * rows["bill_length_mm"].std()
    swapped = rows["species"].map(
        {"Adelie": "Gentoo", "Gentoo": "Chinstrap", "Chinstrap": "Adelie"}
    )
    send(world, rows, start=utc(120), labels=swapped)
    result = monitor("penguins@production", registry=world.registry, log=world.log, window=1000,
                     since=utc(100))  # fmt: skip
    assert result.windows[-1].drift.alarm
    drifted = [t.name for t in result.windows[-1].drift.tests if t.drifted]
    assert "bill_length_mm" in drifted
    assert result.labelled[-1].live.dropped
    assert any(a.startswith("drift") for a in result.alerts)
    assert any("dropped" in a for a in result.alerts)


def test_no_traffic_in_the_window_is_a_clear_error(world):
    with pytest.raises(InvalidInputError, match="0 logged rows between"):
        monitor("penguins@production", registry=world.registry, log=world.log,
                since=utc(10_000))  # fmt: skip
    with pytest.raises(InvalidInputError, match="'window' parameter of monitor must be an integer"):
        monitor("penguins@production", registry=world.registry, log=world.log, window=5)
