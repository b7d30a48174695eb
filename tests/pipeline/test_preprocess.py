"""build_preprocessor: missing values, unseen levels, booleans, dates, clipping, scaling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import skops.io as skops_io
from sklearn.base import clone

from verdict.data import infer_schema
from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.pipeline import BooleanEncoder, CategoryText, OutlierClipper, build_preprocessor


def _frame(n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "size": rng.normal(10, 2, n),
            "colour": rng.choice(["red", "green", "blue"], n),
            "member": rng.choice(["yes", "no"], n),
            "joined": pd.date_range("2020-01-01", periods=n, freq="37h"),
            "y": rng.choice(["a", "b"], n),
        }
    )
    frame.loc[[1, 5], "size"] = np.nan
    frame.loc[[2, 6], "colour"] = None
    frame.loc[[3], "member"] = None
    return frame


def _fit(frame: pd.DataFrame, family: str = "softmax", **kw):
    schema = infer_schema(frame, "y")
    pre = build_preprocessor(schema, family, **kw)
    return schema, pre.fit(frame.drop(columns="y"))


def test_every_kind_becomes_finite_numbers_with_missing_indicators():
    frame = _frame()
    schema, pre = _fit(frame)
    assert set(schema.numeric) == {"size"} and schema.boolean == ("member",)
    out = pre.transform(frame.drop(columns="y"))
    names = list(pre.get_feature_names_out())
    assert np.isfinite(out).all() and out.shape == (len(frame), len(names))
    assert "numeric__missingindicator_size" in names
    assert "boolean__missingindicator_member" in names
    assert "categorical__colour_missing" in names  # missing is its own level
    assert any(n.startswith("datetime__joined_") for n in names)
    size = out[:, names.index("numeric__missingindicator_size")]
    np.testing.assert_array_equal(np.flatnonzero(size), [1, 5])


def test_unseen_categories_and_values_at_predict_time():
    frame = _frame()
    _, pre = _fit(frame)
    new = frame.drop(columns="y").iloc[:3].copy()
    new["colour"] = ["purple", "red", "teal"]
    new["member"] = ["maybe", "yes", "no"]
    new["size"] = [np.nan, 1e9, 3.0]
    out = pre.transform(new)
    names = list(pre.get_feature_names_out())
    onehot = [i for i, n in enumerate(names) if n.startswith("categorical__")]
    assert np.isfinite(out).all()
    assert out[0, onehot].sum() == 0  # an unseen level (no infrequent level here): all zeros
    assert out[1, onehot].sum() == 1


def test_rare_levels_pool_into_infrequent_and_absorb_unseen_ones():
    frame = _frame(n=300)
    frame.loc[0, "colour"] = "mauve"  # 1 of 300: below the 1% minimum frequency
    _, pre = _fit(frame, family="random_forest")
    names = list(pre.get_feature_names_out())
    assert "categorical__colour_infrequent_sklearn" in names
    new = frame.drop(columns="y").iloc[:1].assign(colour="never seen")
    out = pre.transform(new)
    assert out[0, names.index("categorical__colour_infrequent_sklearn")] == 1


def test_booleans_are_zero_one():
    enc = BooleanEncoder().fit(pd.DataFrame({"a": ["Yes", "no", None], "b": [True, False, True]}))
    out = enc.transform(pd.DataFrame({"a": ["yes", "NO", "other"], "b": [False, True, None]}))
    np.testing.assert_array_equal(out[:, 0][:2], [1.0, 0.0])
    assert np.isnan(out[2, 0])  # a value not seen in fit is missing, for the imputer
    np.testing.assert_array_equal(out[:2, 1], [0.0, 1.0])
    assert np.isnan(out[2, 1])


def test_numeric_boolean_and_category_spellings_are_stable():
    text = CategoryText().fit(pd.DataFrame({"c": [1, 2, 3]}))
    out = text.transform(pd.DataFrame({"c": [1.0, np.nan, 3.0]}))
    assert out[:, 0].tolist() == ["1", "missing", "3"]
    enc = BooleanEncoder().fit(pd.DataFrame({"z": [0, 1, 1]}))
    assert enc.transform(pd.DataFrame({"z": [1.0, 0.0, np.nan]}))[:2, 0].tolist() == [1.0, 0.0]
    typed = pd.DataFrame(
        {
            "c": pd.Categorical(["a", None, "b"]),
            "s": pd.array(["x", None, "y"], dtype="string"),
            "b": pd.array([True, None, False], dtype="boolean"),
        }
    )
    out = CategoryText().fit_transform(typed[["c", "s"]])
    assert out.tolist() == [["a", "x"], ["missing", "missing"], ["b", "y"]]
    flags = BooleanEncoder().fit_transform(typed[["b"]])[:, 0]
    assert flags[0] == 1.0 and np.isnan(flags[1]) and flags[2] == 0.0


def test_scaling_only_for_families_that_need_it():
    frame = _frame(n=200)
    frame["size"] = frame["size"] * 1000
    for family, scaled in [("softmax", True), ("svm", True), ("random_forest", False)]:
        _, pre = _fit(frame, family=family)
        names = list(pre.get_feature_names_out())
        column = pre.transform(frame.drop(columns="y"))[:, names.index("numeric__size")]
        assert bool(abs(column.mean()) < 0.1 and column.std() < 1.5) is scaled
    _, pre = _fit(frame, family="mlp", scaler="minmax")
    column = pre.transform(frame.drop(columns="y"))[:, 0]
    assert column.min() == 0.0 and column.max() == pytest.approx(1.0)


def test_outliers_are_clipped_to_fences_learned_in_fit():
    values = np.r_[np.arange(1.0, 101.0), 1e6, np.nan][:, None]
    clipper = OutlierClipper(factor=3.0).fit(values)
    q1, q3 = np.nanpercentile(values, [25, 75])
    assert clipper.upper_[0] == pytest.approx(q3 + 3 * (q3 - q1))
    out = clipper.transform(np.array([[1e6], [-1e6], [50.0], [np.nan]]))
    assert out[0, 0] == clipper.upper_[0] and out[1, 0] == clipper.lower_[0]
    assert out[2, 0] == 50.0 and np.isnan(out[3, 0])


def test_a_column_without_spread_is_not_clipped():
    values = np.r_[np.zeros(95), [3.0, 8.0, 16.0, 16.0, 12.0]][:, None]  # sparse pixels
    out = OutlierClipper().fit_transform(values)
    np.testing.assert_array_equal(out, values)


def test_clipping_is_configurable():
    frame = _frame()
    frame.loc[0, "size"] = 1e6
    for clip, expect_clipped in [(True, True), (20.0, True), (False, False)]:
        _, pre = _fit(frame, family="random_forest", clip_outliers=clip)
        out = pre.transform(frame.drop(columns="y").iloc[:1])
        assert bool(out[0, 0] < 1e6) is expect_clipped


def test_statistics_come_only_from_the_rows_it_is_fitted_on():
    frame = _frame(n=60)
    train, other = frame.iloc[:40], frame.iloc[40:].copy()
    _, pre = _fit(train, family="random_forest")
    poisoned = other.assign(size=1e9, colour="poison", member="no")
    fitted_again = clone(pre).fit(train.drop(columns="y"))
    probe = other.drop(columns="y")
    np.testing.assert_array_equal(pre.transform(probe), fitted_again.transform(probe))
    imputer = pre.named_transformers_["numeric"].named_steps["impute"]
    assert imputer.statistics_[0] == pytest.approx(train["size"].median())
    assert poisoned["size"].iloc[0] == 1e9  # the poisoned rows never reached a fit


def test_errors_name_the_argument():
    schema = infer_schema(_frame(), "y")
    with pytest.raises(InvalidParameterError, match=r"'family'.*To fix"):
        build_preprocessor(schema, "xgb-ish")
    with pytest.raises(InvalidParameterError, match="'clip_outliers'"):
        build_preprocessor(schema, "softmax", clip_outliers=-1)
    with pytest.raises(InvalidParameterError, match="'scaler'"):
        build_preprocessor(schema, "softmax", scaler="quantile")
    empty = infer_schema(pd.DataFrame({"k": [1, 1, 1, 1], "y": ["a", "b", "a", "b"]}), "y")
    with pytest.raises(InvalidInputError, match="no feature columns"):
        build_preprocessor(empty, "softmax")


def test_fitted_preprocessor_round_trips_through_skops(tmp_path):
    frame = _frame()
    _, pre = _fit(frame)
    path = tmp_path / "pre.skops"
    skops_io.dump(pre, path)
    untrusted = skops_io.get_untrusted_types(file=path)
    assert {
        "verdict.pipeline.OutlierClipper",
        "verdict.pipeline.BooleanEncoder",
        "verdict.pipeline.CategoryText",
    } <= set(untrusted)
    others = [t for t in untrusted if not t.startswith("verdict.")]
    assert others in ([], ["numpy.dtype"])  # nothing beyond our types (and a dtype) to trust
    loaded = skops_io.load(path, trusted=untrusted)
    X = frame.drop(columns="y")
    np.testing.assert_array_equal(loaded.transform(X), pre.transform(X))
