"""``check_rows``: conversion per kind of column, every problem kind, unknown categories, row
numbers across chunks, and the error raised from the findings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verdict.data import ColumnKind, ColumnSchema, Schema
from verdict.data._levels import level_spelling
from verdict.data._rows import PROBLEM_KINDS, RowProblem, check_rows
from verdict.errors import InvalidInputError
from verdict.pipeline import CategoryText

K = ColumnKind
SCHEMA = Schema(
    target="label",
    classes=("a", "b"),
    columns=(
        ColumnSchema("customer_id", K.ID, "str", "an identifier"),
        ColumnSchema("size", K.NUMERIC, "float64", "numbers"),
        ColumnSchema("colour", K.CATEGORICAL, "str", "3 values", ("blue", "green", "red")),
        ColumnSchema("code", K.CATEGORICAL, "int64", "declared", (1, 2, 3)),
        ColumnSchema("member", K.BOOLEAN, "str", "yes/no", ("no", "yes")),
        ColumnSchema("flag", K.BOOLEAN, "bool", "bool dtype", (False, True)),
        ColumnSchema("signup", K.DATETIME, "str", "dates", None, "%Y-%m-%d"),
        ColumnSchema("seen", K.DATETIME, "datetime64[ns]", "datetime dtype"),
        ColumnSchema("note", K.CONSTANT, "str", "one value"),
    ),
)
FEATURES = ["size", "colour", "code", "member", "flag", "signup", "seen"]


def good_rows(n: int = 4) -> pd.DataFrame:
    base = {
        "note": "x",
        "size": [1.5, 2, 3, 4.25],
        "customer_id": ["c1", "c2", "c3", "c4"],
        "colour": ["red", "blue", "green", "red"],
        "code": [1, 2, 3, 1],
        "member": ["yes", "no", "yes", "no"],
        "flag": [True, False, True, True],
        "signup": ["2020-01-02", "2021-12-31", "2019-06-30", "2022-02-28"],
        "seen": pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04"]),
    }
    return pd.DataFrame(base).iloc[np.arange(n) % 4].reset_index(drop=True)


def one_row(**values: object) -> pd.DataFrame:
    frame = good_rows(1).astype(object)
    for name, value in values.items():
        frame.at[0, name] = value
    return frame


def test_clean_rows_pass_converted_in_schema_order_with_the_index_kept():
    frame = good_rows().set_axis([10, 11, 12, 13])
    check = check_rows(frame, SCHEMA)
    assert check.ok and check.problems == () and check.n_rows == 4
    assert list(check.frame.columns) == FEATURES == list(SCHEMA.features)
    assert list(check.frame.index) == [10, 11, 12, 13]
    assert check.frame["size"].dtype == np.float64
    assert pd.api.types.is_datetime64_any_dtype(check.frame["signup"])
    assert check.frame["signup"].iloc[1] == pd.Timestamp("2021-12-31")
    assert check.unknown_categories == {}


def test_values_are_converted_to_what_training_saw():
    frame = one_row(size=" 3.5 ", code="3.0", member=True, flag="YES", signup="2020-05-06")
    check = check_rows(frame, SCHEMA)
    assert check.ok, check.problems
    row = check.frame.iloc[0]
    assert row["size"] == 3.5
    assert row["code"] == 3  # a numeric category given as text is the number
    assert row["member"] == "yes" and row["flag"] is True  # the training spelling
    assert row["signup"] == pd.Timestamp("2020-05-06")
    assert check.unknown_categories == {}


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("size", "abc", "expected a number, got 'abc'"),
        ("size", True, "expected a number, got True"),
        ("size", [1, 2], "expected a number, got [1, 2]"),
        ("colour", ["red"], "expected a single value, got ['red']"),
        ("colour", {"a": 1}, "expected a single value"),
        ("member", "maybe", "expected true or false (as in training: ['no', 'yes']), got 'maybe'"),
        ("flag", 7, "expected true or false"),
        ("signup", "06/05/2020", "expected a date in the format '%Y-%m-%d', got '06/05/2020'"),
        ("signup", 20200506, "expected a date in the format '%Y-%m-%d', got 20200506"),
        ("seen", "not a date", "expected a date, got 'not a date'"),
    ],
)
def test_a_value_of_the_wrong_type_is_a_problem_naming_row_and_column(column, value, expected):
    check = check_rows(one_row(**{column: value}), SCHEMA, first_row=41)
    assert not check.ok
    (problem,) = check.problems
    assert (problem.row, problem.column, problem.kind) == (41, column, "wrong_type")
    assert expected in problem.message
    assert pd.isna(check.frame[column].iloc[0])  # a problem value is left missing


def test_numbers_from_a_column_of_another_dtype_are_wrong_types():
    frame = good_rows(2)
    frame["size"] = pd.to_datetime(["2020-01-01", "2020-01-02"])
    frame["signup"] = [1.5, 2.5]
    kinds = {(p.column, p.kind) for p in check_rows(frame, SCHEMA).problems}
    assert kinds == {("size", "wrong_type"), ("signup", "wrong_type")}


def test_infinite_numbers_become_missing_as_in_training():
    check = check_rows(one_row(size=np.inf), SCHEMA)
    assert check.ok and np.isnan(check.frame["size"].iloc[0])


def test_missing_values_are_allowed_everywhere_unless_required():
    frame = good_rows().astype(object)
    frame.loc[1, FEATURES] = None
    frame.loc[2, "size"] = np.nan
    assert check_rows(frame, SCHEMA).ok
    check = check_rows(frame, SCHEMA, required=["size", "colour"])
    assert [(p.row, p.column, p.kind) for p in check.problems] == [
        (1, "size", "missing_value"),
        (1, "colour", "missing_value"),
        (2, "size", "missing_value"),
    ]


def test_a_missing_column_is_one_problem_with_a_suggestion():
    frame = good_rows().rename(columns={"colour": "Colour"}).drop(columns=["flag"])
    check = check_rows(frame, SCHEMA)
    assert [(p.row, p.column, p.kind) for p in check.problems] == [
        (None, "colour", "missing_column"),
        (None, "flag", "missing_column"),
    ]
    assert "did you mean 'Colour'?" in check.problems[0].message
    assert str(check.problems[1]) == "every row, column 'flag': the column is missing"
    assert list(check.frame.columns) == FEATURES


def test_a_duplicated_feature_column_is_a_problem():
    frame = pd.concat([good_rows(), good_rows()[["size"]]], axis=1)
    (problem,) = check_rows(frame, SCHEMA).problems
    assert (problem.row, problem.column, problem.kind) == (None, "size", "duplicate_column")


def test_unknown_categories_are_accepted_and_counted_per_column():
    frame = good_rows(8)
    frame["colour"] = ["red", "purple", "purple", None, "blue", "teal", "red", "red"]
    frame["code"] = [1, 4, 2.0, 3, "3", "x", None, 1]
    frame["member"] = ["yes", "no", "true", "false", "no", "no", "yes", "yes"]
    check = check_rows(frame, SCHEMA)
    assert check.ok
    assert check.unknown_categories == {"colour": 3, "code": 2}
    assert list(check.frame["member"]) == ["yes", "no", "yes", "no", "no", "no", "yes", "yes"]


def test_a_boolean_side_never_seen_in_training_is_counted_not_refused():
    schema = Schema("y", ("a", "b"), (ColumnSchema("on", K.BOOLEAN, "str", "", ("yes",)),))
    check = check_rows(pd.DataFrame({"on": ["yes", "no", "YES", "n"]}), schema)
    assert check.ok and check.unknown_categories == {"on": 2}
    assert list(check.frame["on"]) == ["yes", "no", "yes", "n"]


def test_extra_columns_are_ignored_and_an_empty_frame_is_fine():
    frame = good_rows().assign(unrelated=[object()] * 4, label="a")
    assert check_rows(frame, SCHEMA).ok
    empty = check_rows(good_rows().head(0), SCHEMA)
    assert empty.ok and empty.n_rows == 0 and list(empty.frame.columns) == FEATURES


def test_problems_come_columns_first_then_by_row_and_schema_order():
    frame = good_rows(4).astype(object).drop(columns=["seen"])
    frame.loc[3, "size"] = "x"
    frame.loc[0, "member"] = "maybe"
    frame.loc[0, "size"] = "y"
    check = check_rows(frame, SCHEMA, first_row=100)
    assert [(p.row, p.column) for p in check.problems] == [
        (None, "seen"),
        (100, "size"),
        (100, "member"),
        (103, "size"),
    ]


def test_raise_for_problems_lists_the_first_problems_a_count_and_the_fix():
    frame = good_rows(12).astype(object)
    frame["size"] = "big"
    check = check_rows(frame, SCHEMA, first_row=1000)
    with pytest.raises(InvalidInputError) as caught:
        check.raise_for_problems(what="rows 1,000-1,011 of 'new.csv'")
    text = str(caught.value)
    assert text.startswith(
        "12 problems in rows 1,000-1,011 of 'new.csv' (checked against the model's schema; "
        "rows numbered from 0): row 1000, column 'size': expected a number, got 'big'; "
    )
    assert "row 1000, column 'size': expected a number, got 'big'" in text
    assert "row 1004" in text and "row 1005" not in text and "and 7 more" in text
    assert "To fix: correct the values" in text
    check_rows(good_rows(), SCHEMA).raise_for_problems()  # nothing to raise
    with pytest.raises(InvalidInputError, match=r"^1 problem in the 4 rows \(checked against"):
        check_rows(good_rows().drop(columns="seen"), SCHEMA).raise_for_problems()


def test_problems_are_plain_records_for_a_service():
    (problem,) = check_rows(one_row(size="abc"), SCHEMA).problems
    assert problem.to_dict() == {
        "row": 0,
        "column": "size",
        "kind": "wrong_type",
        "message": "expected a number, got 'abc'",
    }
    assert isinstance(problem, RowProblem) and type(problem.row) is int
    assert problem.kind in PROBLEM_KINDS


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"frame": [[1, 2]]}, "frame must be a pandas DataFrame"),
        ({"schema": {"target": "y"}}, "schema must be a verdict Schema"),
        ({"first_row": -1}, "first_row must be a non-negative integer"),
        ({"first_row": 1.5}, "first_row must be a non-negative integer"),
        ({"required": ["customer_id"]}, "required names columns that are not features"),
    ],
)
def test_bad_arguments_are_refused_with_the_fix(kwargs, fragment):
    arguments = {"frame": good_rows(), "schema": SCHEMA, **kwargs}
    frame, schema = arguments.pop("frame"), arguments.pop("schema")
    with pytest.raises(InvalidInputError, match=fragment) as caught:
        check_rows(frame, schema, **arguments)
    assert "To fix:" in str(caught.value)


def test_a_large_chunk_is_checked_quickly():
    import time

    frame = good_rows(100_000)
    start = time.perf_counter()
    check = check_rows(frame, SCHEMA)
    assert check.ok and time.perf_counter() - start < 2.0


values = st.one_of(
    st.booleans(),
    st.integers(-1000, 1000),
    st.floats(allow_nan=False, allow_infinity=True),
    st.text(max_size=6),
    st.sampled_from(["Yes", " no ", "TRUE", "1.0", "0", "f", "T", "3.0", "red "]),
)


@given(st.lists(values, max_size=8))
def test_levels_are_compared_by_the_pipelines_own_spelling(levels):
    written = CategoryText().fit_transform(pd.DataFrame({"c": pd.Series(levels, dtype=object)}))
    assert list(np.asarray(written).ravel()) == [level_spelling(v) for v in levels]


cells = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.just(None),
    st.sampled_from(["abc", "1,5", "--"]),
)


@settings(max_examples=50, deadline=None)
@given(st.lists(cells, min_size=1, max_size=30), st.integers(1, 7), st.integers(0, 10**6))
def test_chunks_find_what_the_whole_finds_with_the_same_row_numbers(sizes, step, offset):
    frame = good_rows(len(sizes)).astype({"size": object})
    frame["size"] = sizes
    whole = check_rows(frame, SCHEMA, first_row=offset)
    bad = [i + offset for i, v in enumerate(sizes) if isinstance(v, str)]
    assert [p.row for p in whole.problems] == bad
    parts = [
        check_rows(frame.iloc[i : i + step], SCHEMA, first_row=offset + i)
        for i in range(0, len(frame), step)
    ]
    assert [p for part in parts for p in part.problems] == list(whole.problems)
    joined = pd.concat([part.frame for part in parts])
    pd.testing.assert_frame_equal(joined, whole.frame, check_dtype=False)
