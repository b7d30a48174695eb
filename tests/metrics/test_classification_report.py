"""classification_report: the same text and dict as scikit-learn's."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn.metrics as skm

from verdict.errors import InvalidInputError
from verdict.metrics import classification_report


def _pairs(seed: int, k: int, n: int = 200):
    rng = np.random.default_rng(seed)
    return rng.integers(0, k, n), rng.integers(0, k, n), rng.random(n)


CASES = [
    {},
    {"digits": 4},
    {"labels": [2, 0, 1]},
    {"labels": [0, 1]},
    {"labels": [0, 1, 2, 7]},
    {"target_names": ["a", "b", "c"]},
    {"zero_division": 1},
    {"zero_division": np.nan},
]


@pytest.mark.parametrize("kwargs", CASES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("output_dict", [False, True])
def test_matches_sklearn(kwargs, weighted, output_dict):
    y, yp, w = _pairs(1, 3)
    w = w if weighted else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = classification_report(y, yp, sample_weight=w, output_dict=output_dict, **kwargs)
        ref = skm.classification_report(y, yp, sample_weight=w, output_dict=output_dict, **kwargs)
    if output_dict:
        assert ours.keys() == ref.keys()
        for key, value in ref.items():
            if isinstance(value, dict):
                np.testing.assert_allclose(
                    list(ours[key].values()), list(value.values()), rtol=1e-12
                )
            else:
                assert ours[key] == pytest.approx(value, rel=1e-12)
    elif weighted:  # weighted supports print in full; summation order moves the last digit
        _same_text_up_to_rounding(ours, ref)
    else:
        assert ours == ref


def _same_text_up_to_rounding(ours: str, ref: str) -> None:
    ours_tokens, ref_tokens = ours.split(), ref.split()
    assert len(ours_tokens) == len(ref_tokens)
    for a, b in zip(ours_tokens, ref_tokens, strict=True):
        try:
            assert float(a) == pytest.approx(float(b), rel=1e-12, nan_ok=True)
        except ValueError:
            assert a == b


def test_string_labels_text_identical():
    names = np.array(["setosa", "versicolor", "virginica"])
    y, yp, _ = _pairs(2, 3)
    assert classification_report(names[y], names[yp]) == skm.classification_report(
        names[y], names[yp]
    )


def test_target_names_size_mismatch_is_an_error():
    y, yp, _ = _pairs(3, 3)
    with pytest.raises(InvalidInputError, match="target_names"):
        classification_report(y, yp, target_names=["a", "b"])
