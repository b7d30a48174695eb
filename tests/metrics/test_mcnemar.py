"""McNemar's test against statsmodels' ``mcnemar`` on the table of discordant pairs.

Deliberate difference: with ``b == c`` and the continuity correction, statsmodels reports the
statistic ``(|b - c| - 1)**2 / (b + c) = 1 / (b + c)``; verdict does not let the correction
push ``|b - c|`` below 0 and reports 0 with p = 1, as R's ``mcnemar.test`` does.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.contingency_tables import mcnemar

from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.metrics._mcnemar import McNemarResult, mcnemar_test


def rows_for(both: int, b: int, c: int, neither: int, rng: np.random.Generator):
    """Labels and two prediction vectors with the given 2x2 table of (a right, b right)."""
    a_right = np.repeat([True, True, False, False], [both, b, c, neither])
    b_right = np.repeat([True, False, True, False], [both, b, c, neither])
    perm = rng.permutation(a_right.shape[0])
    a_right, b_right = a_right[perm], b_right[perm]
    y = rng.integers(0, 3, a_right.shape[0])
    return y, np.where(a_right, y, (y + 1) % 3), np.where(b_right, y, (y + 2) % 3)


def statsmodels_result(b: int, c: int, exact: bool, correction: bool):
    table = np.array([[5, b], [c, 7]])
    return mcnemar(table, exact=exact, correction=correction)


@pytest.mark.parametrize("b", [0, 1, 3, 12, 30, 200])
@pytest.mark.parametrize("c", [0, 2, 5, 12, 24, 30, 41])
@pytest.mark.parametrize("exact", [True, False, "auto"])
@pytest.mark.parametrize("correction", [True, False])
def test_agrees_with_statsmodels(b, c, exact, correction):
    rng = np.random.default_rng(b * 100 + c)
    y, pa, pb = rows_for(5, b, c, 7, rng)
    r = mcnemar_test(y, pa, pb, exact=exact, correction=correction)
    assert (r.b, r.c) == (b, c)
    use_exact = (b + c < 25) if exact == "auto" else exact
    assert r.method == ("exact" if use_exact else "chi2-corrected" if correction else "chi2")
    if b + c == 0:  # statsmodels divides 0 by 0 for the chi-square version
        assert (r.statistic, r.p_value) == (0.0, 1.0)
        return
    ref = statsmodels_result(b, c, use_exact, correction)
    if not use_exact and correction and b == c:  # the documented difference
        assert (r.statistic, r.p_value) == (0.0, 1.0)
        return
    assert r.statistic == pytest.approx(float(ref.statistic), rel=1e-12, abs=1e-300)
    assert r.p_value == pytest.approx(float(ref.pvalue), rel=1e-10, abs=1e-300)


def test_no_discordant_rows_gives_p_one():
    y = np.array([0, 1, 2, 1])
    for exact in (True, False, "auto"):
        r = mcnemar_test(y, y, y.copy(), exact=exact)
        assert (r.b, r.c, r.statistic, r.p_value) == (0, 0, 0.0, 1.0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 2)), min_size=1),
    st.sampled_from([True, False, "auto"]),
)
def test_swapping_the_models_swaps_b_and_c(rows, exact):
    y, a, b = (np.array(col) for col in zip(*rows, strict=True))
    ab, ba = mcnemar_test(y, a, b, exact=exact), mcnemar_test(y, b, a, exact=exact)
    assert (ab.b, ab.c) == (ba.c, ba.b)
    assert ab.statistic == ba.statistic and ab.p_value == ba.p_value
    assert 0 <= ab.p_value <= 1
    assert ab.accuracy_a - ab.accuracy_b == pytest.approx((ab.b - ab.c) / len(rows))


def test_string_labels_and_result_record():
    y = np.array(["cat", "dog", "cat", "bird", "dog", "dog"])
    a = np.array(["cat", "dog", "cat", "bird", "cat", "dog"])
    b = np.array(["dog", "dog", "cat", "cat", "cat", "dog"])
    r = mcnemar_test(y, a, b)
    assert isinstance(r, McNemarResult) and (r.b, r.c) == (2, 0) and r.method == "exact"
    assert r.p_value == pytest.approx(0.5)
    assert str(r).startswith("McNemarResult(statistic=0") and "\n" not in str(r)
    assert json.loads(json.dumps(r.to_dict()))["method"] == "exact"


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (([0, 1], [0, 1], [0]), {}, InvalidInputError, "different numbers"),
        (([0, 1], ["a", "b"], [0, 1]), {}, InvalidInputError, "pred_a"),
        (([0, 1], [0, 1], ["a", "b"]), {}, InvalidInputError, "pred_b"),
        (([0, 1], [0.5, 1], [0, 1]), {}, InvalidInputError, "continuous"),
        (([0, 1], [0, 1], [0, 1]), {"exact": "yes"}, InvalidParameterError, "'exact'"),
        (([0, 1], [0, 1], [0, 1]), {"correction": None}, InvalidParameterError, "'correction'"),
        (([], [], []), {}, InvalidInputError, "empty"),
    ],
)
def test_bad_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        mcnemar_test(*args, **kwargs)
