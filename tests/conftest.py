"""Shared test helper: run scikit-learn and verdict side by side and compare everything."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sklearn.metrics
from sklearn.exceptions import UndefinedMetricWarning as SkUndefined

import verdict.metrics
from verdict.errors import UndefinedMetricWarning

RTOL = 1e-12


def _call(func: Callable[..., Any], args: tuple, kwargs: dict) -> tuple[Any, Exception | None, set]:
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        try:
            value, exc = func(*args, **kwargs), None
        except Exception as caught:
            value, exc = None, caught
    kinds = set()
    for r in records:
        if issubclass(r.category, (SkUndefined, UndefinedMetricWarning)):
            # each library warns with its own class (verdict's subclasses scikit-learn's)
            kinds.add(("undefined", r.category in (SkUndefined, UndefinedMetricWarning)))
        elif issubclass(r.category, UserWarning):
            kinds.add((r.category.__name__, str(r.message).split(" ")[0]))
    return value, exc, kinds


def assert_same_value(ours: Any, theirs: Any, check_dtype: bool = True) -> None:
    """Equal to rtol 1e-12 (NaN equals NaN); same container, shape and, if asked, dtype."""
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            assert_same_value(a, b, check_dtype)
    elif theirs is None:
        assert ours is None
    elif isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray) and ours.shape == theirs.shape
        if check_dtype:
            assert ours.dtype == theirs.dtype, (ours.dtype, theirs.dtype)
        np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=0, equal_nan=True)
    else:
        assert isinstance(ours, float) == isinstance(theirs, float), (type(ours), type(theirs))
        np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=0, equal_nan=True)


def check_same(
    ref: str | Callable[..., Any],
    *args: Any,
    ours: Callable[..., Any] | None = None,
    check_dtype: bool = True,
    **kwargs: Any,
) -> Any:
    """Call the reference (a sklearn.metrics name or a callable) and ours; compare results,
    raised exception types (ours must be a subclass; sklearn's InvalidParameterError counts as
    ValueError) and warnings (same UndefinedMetricWarning/UserWarning kinds). Returns ours'
    value, or its exception when both raised."""
    if isinstance(ref, str):
        ours = ours or getattr(verdict.metrics, ref)
        ref = getattr(sklearn.metrics, ref)
    sk_value, sk_exc, sk_kinds = _call(ref, args, kwargs)
    value, exc, kinds = _call(ours, args, kwargs)
    if sk_exc is not None:
        expected = ValueError if isinstance(sk_exc, ValueError) else type(sk_exc)
        assert isinstance(exc, expected), f"sklearn raised {sk_exc!r}, we gave {exc or value!r}"
        return exc
    if exc is not None:
        raise AssertionError(f"sklearn returned {sk_value!r} but we raised") from exc
    assert_same_value(value, sk_value, check_dtype)
    assert kinds == sk_kinds, f"warnings differ: ours {kinds}, sklearn {sk_kinds}"
    return value


@pytest.fixture
def same() -> Callable[..., Any]:
    return check_same


@pytest.fixture(autouse=True)
def _isolated_verdict_home(tmp_path_factory, monkeypatch):
    """Every test gets its own VERDICT_HOME, so nothing writes a registry into the checkout."""
    monkeypatch.setenv("VERDICT_HOME", str(tmp_path_factory.mktemp("verdict-home")))
    for name in ("VERDICT_REGISTRY_URL", "VERDICT_ARTIFACT_STORE", "VERDICT_STATE_URL"):
        monkeypatch.delenv(name, raising=False)
