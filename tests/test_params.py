"""verdict._params: the constraints say what they allow, and every bad parameter reads the same."""

from __future__ import annotations

import math
import re
from numbers import Integral, Real

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.utils._param_validation import Interval as SkInterval

from verdict._params import (
    BOOLEAN,
    CALLABLE,
    InstanceOf,
    Interval,
    Options,
    Satisfies,
    StrOptions,
    check,
    describe,
    invalid_parameter,
)
from verdict.errors import InvalidInputError, InvalidParameterError

CLOSED = ["left", "right", "both", "neither"]


# --------------------------------------------------------------------------- the template


def test_the_message_is_scikit_learns_with_a_fix():
    averages = Options("micro", "macro", "weighted", None)
    with pytest.raises(InvalidParameterError) as caught:
        check("average", "mcro", "precision_score", averages, fix="pass average='macro'")
    assert str(caught.value) == (
        "The 'average' parameter of precision_score must be one of {'micro', 'macro', "
        "'weighted', None}. Got 'mcro' instead. To fix: pass average='macro'."
    )


def test_the_error_is_a_value_error_and_always_says_how_to_fix():
    k = Interval(Integral, 1, None, closed="left")
    error = invalid_parameter("k", 0, "top_k_accuracy_score", [k])
    assert isinstance(error, InvalidParameterError) and isinstance(error, InvalidInputError)
    assert isinstance(error, ValueError)  # scikit-learn raises ValueError here: drop-in code
    assert str(error).endswith("To fix: pass an int in the range [1, inf).")
    choice = invalid_parameter("solver", "sag", "SoftmaxRegression", [Options("lbfgs", "x")])
    assert str(choice).endswith("To fix: pass one of the values listed.")


def test_free_words_use_the_same_template():
    error = invalid_parameter("beta", 0, "optimal_threshold", "a finite number > 0", "pass 2")
    assert str(error) == (
        "The 'beta' parameter of optimal_threshold must be a finite number > 0. Got 0 "
        "instead. To fix: pass 2."
    )


def test_the_cli_reads_the_message_as_options():
    from verdict.cli._output import as_options

    error = invalid_parameter("test_size", 1.5, "check_table", "a fraction", "pass test_size=0.2")
    assert as_options(str(error), ["test_size"]) == (
        "The --test-size parameter of check_table must be a fraction. Got 1.5 instead. "
        "To fix: pass --test-size 0.2."
    )


@pytest.mark.parametrize(
    ("allowed", "words"),
    [
        ([BOOLEAN], "a bool"),
        ([BOOLEAN, Options("auto")], "a bool or 'auto'"),
        (
            [InstanceOf(dict), Options("balanced"), None],
            "an instance of 'dict', 'balanced' or None",
        ),
        ([None, InstanceOf(str, "a scheduler address")], "None or a scheduler address"),
        ([CALLABLE, InstanceOf(str, "a metric name")], "a callable or a metric name"),
        ([Options("warn", 0.0, 1.0, float("nan"))], "one of {'warn', 0.0, 1.0, nan}"),
    ],
)
def test_describe_joins_like_scikit_learn(allowed, words):
    assert describe(allowed) == words


# --------------------------------------------------------------------------- constraints


def test_check_returns_the_value_and_none_only_where_allowed():
    assert check("n_jobs", -1, "f", Interval(Integral, None, None), None) == -1
    assert check("n_jobs", None, "f", Interval(Integral, None, None), None) is None
    with pytest.raises(InvalidParameterError, match=r"must be an int\. Got None instead"):
        check("n_jobs", None, "f", Interval(Integral, None, None))


@pytest.mark.parametrize(
    ("interval", "words"),
    [
        (Interval(Integral, 1, None, closed="left"), "an int in the range [1, inf)"),
        (Interval(Real, 0, None, closed="right"), "a float in the range (0.0, inf]"),
        (Interval(Real, 0, 1, closed="neither"), "a float in the range (0.0, 1.0)"),
        (Interval(Real, -1, 1), "a float in the range [-1.0, 1.0]"),
        (Interval(Integral, None, None), "an int"),
    ],
)
def test_interval_words(interval, words):
    assert str(interval) == words


def test_an_interval_refuses_booleans_nan_and_other_types():
    anything = Interval(Real, None, None, closed="neither")
    for bad in (True, np.bool_(False), float("nan"), np.nan, "1", None, 1j, [1]):
        assert not anything.is_satisfied_by(bad), bad
    assert anything.is_satisfied_by(np.float32(2.5)) and anything.is_satisfied_by(3)
    assert not Interval(Integral, 0, None, closed="left").is_satisfied_by(1.0)
    assert Interval(Integral, 0, None, closed="left").is_satisfied_by(np.int64(4))
    with pytest.raises(TypeError):
        Interval(float, 0, 1)  # type: ignore[arg-type]


def test_an_infinite_bound_is_inside_only_when_closed():
    assert Interval(Real, 0, None, closed="right").is_satisfied_by(math.inf)
    assert not Interval(Real, 0, None, closed="neither").is_satisfied_by(math.inf)
    assert not Interval(Real, 0, None, closed="both").is_satisfied_by(-math.inf)


finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6)


@given(value=finite, low=finite, width=st.floats(0.5, 1e3), closed=st.sampled_from(CLOSED))
def test_interval_agrees_with_scikit_learn(value, low, width, closed):
    """Same membership and same words as scikit-learn's Interval, over the reals."""
    ours = Interval(Real, low, low + width, closed=closed)
    theirs = SkInterval(Real, low, low + width, closed=closed)
    assert ours.is_satisfied_by(value) == theirs.is_satisfied_by(value)
    assert str(ours) == str(theirs)


@given(value=st.integers(-50, 50), low=st.integers(-20, 20), closed=st.sampled_from(CLOSED))
def test_integer_interval_agrees_with_scikit_learn(value, low, closed):
    ours = Interval(Integral, low, low + 10, closed=closed)
    theirs = SkInterval(Integral, low, low + 10, closed=closed)
    assert ours.is_satisfied_by(value) == theirs.is_satisfied_by(value)
    assert str(ours) == str(theirs)


@given(st.lists(st.one_of(st.text(max_size=5), st.integers(), st.none()), min_size=1, max_size=5))
def test_options_allow_their_values_and_compare_types(values):
    options = Options(*values)
    assert all(options.is_satisfied_by(v) for v in values)
    for v in values:
        if isinstance(v, str):
            assert not options.is_satisfied_by(np.array([v]))  # no elementwise ==
        if isinstance(v, int):
            assert not options.is_satisfied_by(float(v))  # 1.0 is not the option 1


def test_options_are_exact_about_types():
    assert not Options("macro").is_satisfied_by(np.str_("macro"))
    assert not Options(1).is_satisfied_by(True)
    assert not Options(1.0).is_satisfied_by(1)
    assert Options(None).is_satisfied_by(None) and str(Options(None)) == "None"
    nan = float("nan")
    assert Options(nan).is_satisfied_by(nan)  # the very object, although nan != nan


def test_string_options_take_numpy_strings():
    solvers = StrOptions("lbfgs", "newton-cg")
    assert solvers.is_satisfied_by(np.array(["lbfgs"])[0])  # what a grid over an array yields
    assert not solvers.is_satisfied_by("sag") and not solvers.is_satisfied_by(None)
    assert str(solvers) == "one of {'lbfgs', 'newton-cg'}"


def test_booleans_include_numpys_and_satisfies_uses_its_words():
    assert BOOLEAN.is_satisfied_by(np.bool_(True)) and not BOOLEAN.is_satisfied_by(1)
    non_zero = Satisfies(lambda v: isinstance(v, int) and v != 0, "a non-zero int")
    assert non_zero.is_satisfied_by(-1) and not non_zero.is_satisfied_by(0)
    with pytest.raises(InvalidParameterError, match=re.escape("must be a non-zero int or None")):
        check("n_jobs", 0, "OneVsRestLogisticRegression", non_zero, None)
    assert CALLABLE.is_satisfied_by(len) and not CALLABLE.is_satisfied_by("len")
