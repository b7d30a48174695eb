"""Whatever the service accepts, the loop digests: arbitrary bodies are sent to the HTTP API
(hypothesis), then `verdict monitor` and `verdict retrain` run on what was stored and answer
with a documented exit code (0, 1 or 2), never a traceback (3)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from serving_support import records, service, trained_home

pytestmark = pytest.mark.slow  # a trained model, a served app, 120 examples, monitor and retrain

PREDICT = "/v1/models/penguins/predict"
INFER = "/v2/models/penguins/infer"
FEATURES = list(records(1)[0])
CLASSES = ["Adelie", "Chinstrap", "Gentoo"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=-1e12, max_value=1e12),
    st.text(max_size=12),
    st.sampled_from(["Biscoe", "Dream", "Torgersen", "male", "female", "", "NaN", "1e3"]),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=2),
    st.dictionaries(st.text(max_size=3), scalars, max_size=2),
)
rows = st.fixed_dictionaries(
    {f: values for f in FEATURES},
    optional={"extra": values, "species": values},
)
labels = st.one_of(st.sampled_from(CLASSES), scalars)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A VERDICT_HOME (a copy of the trained registry) and a service writing its state there."""
    trained = trained_home(tmp_path_factory)
    home = tmp_path_factory.mktemp("fuzz_home")
    shutil.copy(trained.root / "registry.db", home / "registry.db")
    shutil.copytree(trained.artifacts, home / "artifacts")
    with service(trained, home, models=["penguins@production"]) as running:
        yield home, running


def _post(svc: Any, path: str, body: Any) -> Any:
    response = svc.post(path, json=body)
    assert response.status_code < 500, response.text[:500]
    return response


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=st.lists(rows, min_size=1, max_size=6), feedback=st.lists(labels, max_size=6),
       tensor=st.lists(scalars, min_size=1, max_size=4))  # fmt: skip
def test_arbitrary_traffic_is_answered_without_server_errors(world, batch, feedback, tensor):
    _, svc = world
    answer = _post(svc, PREDICT, {"instances": batch})
    ids = [answer.json()["request_id"]] if answer.status_code == 200 else ["never-answered"]
    items = [
        {"request_id": ids[0], "row": i % len(batch), "label": label} if i % 3 else
        {"features": batch[i % len(batch)], "label": label, "model": "penguins"}
        for i, label in enumerate(feedback)
    ]  # fmt: skip
    if items:
        _post(svc, "/v1/feedback", {"feedback": items})
    inputs = [{"name": f, "shape": [len(tensor)], "datatype": "BYTES", "data": tensor}
              for f in FEATURES]  # fmt: skip
    _post(svc, INFER, {"inputs": inputs})


def _verdict(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "VERDICT_HOME": str(home)}
    env.pop("VERDICT_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "verdict.cli", *args], env=env, cwd=home,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_monitor_and_retrain_digest_what_was_accepted(world):
    home, svc = world
    good = records(120)  # some honest traffic with labels too, so both have work to do
    for start in range(0, len(good), 20):
        answer = _post(svc, PREDICT, {"instances": good[start : start + 20]}).json()
        truth = [{"request_id": answer["request_id"], "row": r, "label": CLASSES[r % 3]}
                 for r in range(20)]  # fmt: skip
        _post(svc, "/v1/feedback", {"feedback": truth})
    for args in (["monitor", "penguins@production", "--window", "30", "--out",
                  str(home / "monitor.html")],
                 ["retrain", "penguins", "--time-budget", "3"]):  # fmt: skip
        done = _verdict(home, *args)
        output = done.stdout + done.stderr
        assert done.returncode in (0, 1, 2), output[-3000:]
        assert "Traceback" not in output, output[-3000:]
