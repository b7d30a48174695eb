"""The fixtures scikit-learn's root conftest gives its tests, as scikit-learn defines them."""

from __future__ import annotations

import os

import numpy as np
import pytest


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``global_random_seed`` is 42 unless SKLEARN_TESTS_GLOBAL_RANDOM_SEED says otherwise."""
    if "global_random_seed" not in metafunc.fixturenames:
        return
    value = os.environ.get("SKLEARN_TESTS_GLOBAL_RANDOM_SEED")
    if value is None:
        seeds = [42]
    elif value == "all":
        seeds = list(range(100))
    elif "-" in value:
        start, stop = value.split("-")
        seeds = list(range(int(start), int(stop) + 1))
    else:
        seeds = [int(value)]
    metafunc.parametrize("global_random_seed", seeds)


_SKIP32 = pytest.mark.skipif(
    os.environ.get("SKLEARN_RUN_FLOAT32_TESTS", "0") != "1",
    reason="Set SKLEARN_RUN_FLOAT32_TESTS=1 to run float32 dtype tests",
)


@pytest.fixture(params=[pytest.param(np.float32, marks=_SKIP32), np.float64])
def global_dtype(request: pytest.FixtureRequest) -> object:
    return request.param


def pytest_configure(config: pytest.Config) -> None:
    """Markers scikit-learn's tests carry (from pytest-run-parallel, not installed here)."""
    for marker in (
        "thread_unsafe: scikit-learn's: not safe under pytest-run-parallel",
        "parallel_threads(n): scikit-learn's: threads under pytest-run-parallel",
    ):
        config.addinivalue_line("markers", marker)


# ``VERDICT_COUNT_REACH=FILE``: record which of scikit-learn's tests call into verdict.metrics
# (a profile hook during each test's call; slow, so only for measuring, never in CI).
_REACH_FILE = os.environ.get("VERDICT_COUNT_REACH")
_VERDICT_METRICS = os.sep + os.path.join("verdict", "metrics") + os.sep
_reached: dict[str, tuple[bool, str]] = {}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    if not _REACH_FILE:
        return (yield)
    import sys

    hit = False

    def profile(frame, event, arg):
        nonlocal hit
        if not hit and event == "call" and _VERDICT_METRICS in frame.f_code.co_filename:
            hit = True
            sys.setprofile(None)

    sys.setprofile(profile)
    try:
        return (yield)
    finally:
        sys.setprofile(None)
        _reached[item.nodeid] = (hit, "")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if _REACH_FILE and report.when == "call" and report.nodeid in _reached:
        _reached[report.nodeid] = (_reached[report.nodeid][0], report.outcome)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not _REACH_FILE:
        return
    import json

    with open(_REACH_FILE, "w", encoding="utf-8") as f:
        json.dump(_reached, f, indent=0)
