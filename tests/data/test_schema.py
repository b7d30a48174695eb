"""infer_schema: each rule on a small column, the overrides, the refusals, the JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from palmerpenguins import load_penguins

from verdict.data import ColumnKind, ColumnSchema, Schema, infer_schema
from verdict.errors import InvalidInputError

N = 40
RNG = np.random.default_rng(0)
Y = pd.Series(["a", "b"] * (N // 2))


def kind_of(values, name="col", **kwargs) -> ColumnKind:
    frame = pd.DataFrame({name: values, "y": Y})
    return infer_schema(frame, "y", **kwargs).column(name).kind


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (RNG.normal(size=N), ColumnKind.NUMERIC),
        (RNG.integers(0, 5, N), ColumnKind.NUMERIC),  # low-cardinality integers stay numeric
        (RNG.integers(0, 10**6, N), ColumnKind.NUMERIC),  # distinct integers, no id name
        (np.arange(N) + 100, ColumnKind.ID),  # a row number
        (RNG.choice(["x", "y", "z"], N), ColumnKind.CATEGORICAL),
        (
            pd.Categorical(RNG.choice(["lo", "hi"], N), categories=["lo", "mid", "hi"]),
            ColumnKind.CATEGORICAL,
        ),
        ([f"ID-{i:05d}" for i in RNG.permutation(N)], ColumnKind.ID),
        (RNG.random(N) < 0.5, ColumnKind.BOOLEAN),
        (RNG.integers(0, 2, N).astype(float), ColumnKind.BOOLEAN),
        (RNG.choice(["Yes", "No"], N), ColumnKind.BOOLEAN),
        (RNG.choice(["yes", "maybe"], N), ColumnKind.CATEGORICAL),
        (pd.date_range("2021-01-01", periods=N, freq="D"), ColumnKind.DATETIME),
        ([f"2021-03-{d:02d}" for d in RNG.integers(1, 29, N)], ColumnKind.DATETIME),
        ([f"{m:02d}/25/2020" for m in RNG.integers(1, 13, N)], ColumnKind.DATETIME),
        (["2020-01-01"] * (N - 1) + ["soon"], ColumnKind.CATEGORICAL),  # one value will not parse
        ([str(v) for v in RNG.integers(0, 4, N)], ColumnKind.CATEGORICAL),
        (["same"] * N, ColumnKind.CONSTANT),
        ([np.nan] * N, ColumnKind.EMPTY),
        (["pool"] + [None] * (N - 1), ColumnKind.CATEGORICAL),  # presence carries information
        (pd.array([1, 2, None, 4] * (N // 4), dtype="Int64"), ColumnKind.NUMERIC),
    ],
)
def test_inferred_kind(values, kind):
    assert kind_of(values) is kind


@pytest.mark.parametrize("name", ["id", "customer_id", "userId", "Row ID", "uuid"])
def test_distinct_integers_named_like_an_id(name):
    assert kind_of(RNG.permutation(10**6)[:N], name=name) is ColumnKind.ID


def test_id_hint_needs_distinct_values():
    assert kind_of(RNG.integers(0, 3, N), name="store_id") is ColumnKind.NUMERIC


def test_categories_and_reason_recorded():
    schema = infer_schema(load_penguins(), "species")
    island = schema.column("island")
    assert island.categories == ("Biscoe", "Dream", "Torgersen")
    assert island.reason == "3 distinct values"
    assert schema.classes == ("Adelie", "Chinstrap", "Gentoo")
    assert schema.categorical == ("island", "sex") and "year" in schema.numeric
    assert schema.features == tuple(c for c in load_penguins().columns if c != "species")


def test_declared_categories_of_a_category_dtype():
    values = pd.Categorical(["lo", "hi"] * (N // 2), categories=["lo", "mid", "hi"])
    frame = pd.DataFrame({"c": values, "y": Y})
    assert infer_schema(frame, "y").column("c").categories == ("hi", "lo", "mid")


def test_datetime_format_recorded():
    days = [
        f"{d:02d}/{m:02d}/2020"
        for d, m in zip(RNG.integers(1, 29, N), RNG.integers(1, 13, N), strict=True)
    ]
    days[0], days[1] = "01/02/2020", "25/02/2020"  # ambiguous first; only day-first parses all
    column = infer_schema(pd.DataFrame({"d": days, "y": Y}), "y").column("d")
    assert column.kind is ColumnKind.DATETIME and column.datetime_format == "%d/%m/%Y"
    iso = ["2020-01-01", "2020-01-02 10:30", "2020-01-03T08:00:00"] * (N // 3) + ["2020-02-01"]
    column = infer_schema(pd.DataFrame({"d": iso, "y": Y}), "y").column("d")
    assert column.kind is ColumnKind.DATETIME and column.datetime_format == "ISO8601"


def test_free_text_is_refused_with_a_fix():
    comments = [f"the delivery was late by {i} days and the box was damaged" for i in range(N)]
    with pytest.raises(InvalidInputError) as exc:
        infer_schema(pd.DataFrame({"comment": comments, "y": Y}), "y")
    message = str(exc.value)
    assert message.startswith("Column 'comment' looks like free text (long, mostly unique strings")
    assert "verdict does not featurise text. To fix: drop it" in message


def test_free_text_can_be_dropped_or_declared():
    comments = [f"the delivery was late by {i} days and the box was damaged" for i in range(N)]
    frame = pd.DataFrame({"comment": comments, "x": RNG.normal(size=N), "y": Y})
    dropped = infer_schema(frame, "y", kinds={"comment": "drop"}).column("comment")
    assert dropped.kind is ColumnKind.DROPPED and "as asked" in dropped.reason
    declared = infer_schema(frame, "y", kinds={"comment": "categorical"})
    assert declared.column("comment").kind is ColumnKind.CATEGORICAL


def test_overrides():
    frame = pd.DataFrame({"zip": RNG.integers(1000, 1010, N), "when": ["2020-01-02"] * N, "y": Y})
    schema = infer_schema(frame, "y", kinds={"zip": "categorical", "when": "datetime"})
    assert schema.column("zip").kind is ColumnKind.CATEGORICAL
    assert all(isinstance(c, int) for c in schema.column("zip").categories)
    assert schema.column("when").datetime_format == "%Y-%m-%d"


@pytest.mark.parametrize(
    ("kinds", "match"),
    [
        ({"colour": "numeric"}, "declared numeric but its values do not allow it"),
        ({"colour": "datetime"}, "declared datetime"),
        ({"colour": "text"}, r"kinds\['colour'\]='text' is not a kind"),
        ({"color": "drop"}, "kinds='color' is not a column of the table; did you mean 'colour'"),
        ({"y": "drop"}, "kinds names the target"),
    ],
)
def test_bad_overrides(kinds, match):
    frame = pd.DataFrame({"colour": RNG.choice(["r", "g", "b"], N), "y": Y})
    with pytest.raises(InvalidInputError, match=match) as exc:
        infer_schema(frame, "y", kinds=kinds)
    assert "To fix:" in str(exc.value)


def test_missing_target_suggests_close_names():
    with pytest.raises(InvalidInputError) as exc:
        infer_schema(load_penguins(), "specie")
    assert "target='specie' is not a column of the table; did you mean 'species'?" in str(exc.value)


def test_sensitive_recorded_and_checked():
    schema = infer_schema(load_penguins(), "species", sensitive=["sex"])
    assert schema.sensitive == ("sex",) and "sex" in schema.features
    with pytest.raises(InvalidInputError, match="sensitive='gender'"):
        infer_schema(load_penguins(), "species", sensitive=["gender"])
    with pytest.raises(InvalidInputError, match="sensitive names the target"):
        infer_schema(load_penguins(), "species", sensitive=["species"])


@pytest.mark.parametrize(
    ("values", "match"),
    [
        (pd.to_timedelta(RNG.integers(0, 9, N), unit="s"), r"dtype timedelta64.*total_seconds"),
        ([[1, 2]] * N, "nested values"),
        ([{"a": 1}] * N, "nested values"),
    ],
)
def test_unsupported_values_are_refused(values, match):
    with pytest.raises(InvalidInputError, match=match):
        infer_schema(pd.DataFrame({"odd": values, "y": Y}), "y")


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        ([1, 2], "must be a pandas DataFrame"),
        (pd.DataFrame({"y": []}), "has no rows"),
        (pd.DataFrame({0: [1], "y": [1]}), "not strings"),
        (pd.DataFrame([[1, 2]], columns=["y", "y"]), "duplicate column names"),
        (pd.DataFrame({"x": [1, 2], "y": [None, None]}), "target 'y' has no values"),
    ],
)
def test_bad_frames(frame, match):
    with pytest.raises(InvalidInputError, match=match):
        infer_schema(frame, "y")


def test_frame_is_not_modified():
    frame = load_penguins()
    before = frame.copy()
    infer_schema(frame, "species")
    pd.testing.assert_frame_equal(frame, before)


def test_round_trip_through_json():
    frame = load_penguins().assign(
        when=[f"2020-01-{d % 28 + 1:02d}" for d in range(344)],
        flag=[True, False] * 172,
        row=np.arange(344),
        code=pd.Categorical(["a", "b"] * 172),
        empty=np.nan,
    )
    schema = infer_schema(frame, "species", sensitive=["sex"])
    assert {c.kind for c in schema.columns} >= set(ColumnKind) - {
        ColumnKind.CONSTANT,
        ColumnKind.DROPPED,
    }
    again = Schema.from_dict(json.loads(json.dumps(schema.to_dict())))
    assert again == schema and again.datetime_formats == {"when": "%Y-%m-%d"}


def test_from_dict_errors_name_the_problem():
    data = infer_schema(load_penguins(), "species").to_dict()
    for broken in (
        {**data, "columns": [{"name": "x", "kind": "blob", "dtype": "str"}]},
        {k: v for k, v in data.items() if k != "target"},
        {**data, "version": 99},
    ):
        with pytest.raises(InvalidInputError, match=r"schema dict cannot be read.*To fix"):
            Schema.from_dict(broken)


def test_schema_column_lookup():
    schema = Schema("y", ("a", "b"), (ColumnSchema("x", ColumnKind.NUMERIC, "float64", "numbers"),))
    assert schema.column("x").is_feature
    with pytest.raises(InvalidInputError, match="no column 'z'"):
        schema.column("z")


COLUMNS = st.sampled_from(
    [
        lambda r, n: r.normal(size=n),
        lambda r, n: r.integers(0, 4, n),
        lambda r, n: r.choice(["a", "b", "c", None], n),
        lambda r, n: r.random(n) < 0.5,
        lambda r, n: [
            f"20{r.integers(10, 30)}-0{r.integers(1, 10)}-1{r.integers(0, 10)}" for _ in range(n)
        ],
        lambda r, n: np.where(r.random(n) < 0.3, np.nan, r.normal(size=n)),
    ]
)


@settings(max_examples=40, deadline=None)
@given(
    makers=st.lists(COLUMNS, min_size=1, max_size=5), n=st.integers(12, 60), seed=st.integers(0, 99)
)
def test_kinds_ignore_row_order_and_survive_json(makers, n, seed):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"c{i}": make(rng, n) for i, make in enumerate(makers)})
    frame["y"] = rng.choice(["p", "q"], n)
    schema = infer_schema(frame, "y")
    shuffled = infer_schema(frame.sample(frac=1.0, random_state=seed), "y")
    assert [c.kind for c in shuffled.columns] == [c.kind for c in schema.columns]
    assert Schema.from_dict(json.loads(json.dumps(schema.to_dict()))) == schema
