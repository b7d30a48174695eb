"""DatetimeExpander: dates (or date strings) to numeric parts, inside a scikit-learn pipeline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from verdict.data import DatetimeExpander, infer_schema
from verdict.errors import InvalidInputError, InvalidParameterError

DATES = pd.to_datetime(["2021-03-01 10:00", "2022-07-15 18:30", None, "2021-12-31 00:15"])


def test_parts_and_names():
    frame = pd.DataFrame({"signup": DATES})
    expander = DatetimeExpander().fit(frame)
    out = expander.transform(frame)
    names = list(expander.get_feature_names_out())
    assert names == ["signup_year", "signup_month", "signup_day", "signup_weekday", "signup_hour"]
    np.testing.assert_array_equal(out[0], [2021, 3, 1, 0, 10])
    assert np.isnan(out[2]).all()  # a missing date is missing in every part


def test_constant_parts_are_left_out():
    frame = pd.DataFrame({"d": pd.to_datetime(["2021-01-04", "2021-01-05", "2021-02-05"])})
    expander = DatetimeExpander().fit(frame)
    assert expander.parts_ == {"d": ("month", "day", "weekday")}  # same year, no time of day


def test_strings_use_the_schema_format_and_unparseable_becomes_nan():
    train = pd.DataFrame({"d": ["03/04/2020", "25/12/2021", "01/01/2022"], "y": ["a", "b", "a"]})
    formats = infer_schema(train, "y").datetime_formats
    assert formats == {"d": "%d/%m/%Y"}
    expander = DatetimeExpander(formats=formats, parts=("year", "month")).fit(train[["d"]])
    out = expander.transform(pd.DataFrame({"d": ["04/03/2020", "not a date", None]}))
    np.testing.assert_array_equal(out[0], [2020, 3])
    assert np.isnan(out[1:]).all()


def test_format_detected_at_fit_when_not_given():
    expander = DatetimeExpander(parts=("month",)).fit(
        pd.DataFrame({"d": ["2020-01-05", "2020-06-01"]})
    )
    assert expander.formats_ == {"d": "%Y-%m-%d"}


def test_in_a_column_transformer_with_pandas_output():
    rng = np.random.default_rng(0)
    n = 60
    frame = pd.DataFrame(
        {
            "when": pd.date_range("2020-01-01", periods=n, freq="37h"),
            "x": rng.normal(size=n),
        }
    )
    y = (frame["when"].dt.hour >= 12).astype(int)
    columns = ColumnTransformer([("dates", DatetimeExpander(), ["when"])], remainder="passthrough")
    model = make_pipeline(columns, LogisticRegression(max_iter=1000)).fit(frame, y)
    assert model.score(frame, y) > 0.9
    names = list(columns.get_feature_names_out())
    assert "dates__when_hour" in names and "remainder__x" in names
    table = clone(columns).set_output(transform="pandas").fit_transform(frame)
    assert list(table.columns) == names


def test_numpy_input_and_clone():
    expander = DatetimeExpander(parts=("year",))
    assert clone(expander).get_params() == {"formats": None, "parts": ("year",)}
    out = expander.fit_transform(
        np.array([[pd.Timestamp("2020-01-01")], [pd.Timestamp("2021-01-01")]])
    )
    assert out.ravel().tolist() == [2020.0, 2021.0]
    assert list(expander.get_feature_names_out()) == ["x0_year"]


def test_errors():
    with pytest.raises(InvalidParameterError, match="'parts' parameter of DatetimeExpander"):
        DatetimeExpander(parts=("year", "fortnight")).fit(pd.DataFrame({"d": DATES}))
    with pytest.raises(InvalidInputError, match="Column 'd' given to DatetimeExpander"):
        DatetimeExpander().fit(pd.DataFrame({"d": ["soon", "later"]}))
    fitted = DatetimeExpander().fit(pd.DataFrame({"d": DATES}))
    with pytest.raises(InvalidInputError, match=r"lacks the columns \['d'\]"):
        fitted.transform(pd.DataFrame({"e": DATES}))


def test_mixed_utc_offsets_are_read_in_utc():
    frame = pd.DataFrame({"d": ["2020-01-01T10:00:00+02:00", "2020-01-01T10:00:00+03:00"]})
    expander = DatetimeExpander(parts=("hour",)).fit(frame)
    assert expander.transform(frame).ravel().tolist() == [8.0, 7.0]
