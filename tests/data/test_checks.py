"""check_table: every stopping problem raises one paragraph; every warning names column and fix."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from palmerpenguins import load_penguins

from verdict.data import DataQualityWarning, DataReport, check_table, infer_schema
from verdict.data._target import min_rows_per_class
from verdict.errors import InvalidInputError, InvalidParameterError, VerdictWarning

N = 120
RNG = np.random.default_rng(1)


def table(**extra) -> pd.DataFrame:
    """Two honest noisy features and a three-class target, plus any extra columns."""
    y = RNG.choice(["a", "b", "c"], N)
    frame = pd.DataFrame(
        {"x": RNG.normal(size=N) + (y == "a"), "colour": RNG.choice(["r", "g"], N)}
    )
    return frame.assign(**extra, y=y)


def quiet_check(frame: pd.DataFrame, **kwargs) -> DataReport:
    return check_table(frame, "y", warn=False, **kwargs)


def codes(report: DataReport) -> list[str]:
    return [f.code for f in report.findings]


def raises(frame: pd.DataFrame, match: str, **kwargs) -> str:
    with pytest.raises(InvalidInputError, match=match) as exc:
        check_table(frame, kwargs.pop("target", "y"), **kwargs)
    message = str(exc.value)
    assert "\n" not in message and "To fix:" in message
    return message


def test_clean_table_has_no_findings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = check_table(table(), "y")
    assert report.findings == () and report.n_rows == report.n_labelled == N
    assert report.schema.features == ("x", "colour")


def test_missing_target_column_suggests_names():
    message = raises(table(), "target='Y' is not a column", target="Y")
    assert "did you mean 'y'?" in message


def test_target_without_values():
    raises(table().assign(y=np.nan), "target 'y' has no values")


def test_unlabelled_rows_are_dropped_with_a_warning():
    frame = table()
    frame.loc[:4, "y"] = None
    with pytest.warns(DataQualityWarning, match="5 of 120 rows have no value in target 'y'"):
        report = check_table(frame, "y")
    assert report.n_labelled == N - 5 and codes(report) == ["unlabelled_rows"]
    clean = report.clean(frame)
    assert len(clean) == N - 5 and clean["y"].notna().all()


def test_single_class():
    message = raises(table().assign(y="a"), "target 'y' has a single class")
    assert "('a')" in message


def test_continuous_target():
    raises(table().assign(y=RNG.normal(size=N)), "looks continuous")
    raises(table().assign(y=[f"u{i}" for i in range(N)]), "120 distinct values in 120 rows")


def test_class_too_small_for_the_folds():
    frame = table()
    frame.loc[:, "y"] = ["a", "b"] * (N // 2)
    frame.loc[:3, "y"] = "rare"
    message = raises(frame, r"too few rows in class 'rare' \(4 rows\)")
    assert "with cv=5 folds and test_size=0.2 every class needs at least 7" in message
    assert "lower cv (cv=3 works with 4 rows)" in message
    assert quiet_check(frame, cv=3).n_labelled == N  # the suggested cv indeed passes


@pytest.mark.parametrize(("cv", "test_size", "need"), [(5, 0.2, 7), (3, 0.25, 4), (10, 0.1, 12)])
def test_min_rows_per_class_leaves_cv_rows_after_the_hold_out(cv, test_size, need):
    assert min_rows_per_class(cv, test_size) == need
    assert need - np.ceil(need * test_size) >= cv > (need - 1) - np.ceil((need - 1) * test_size)


def test_id_and_empty_columns_are_dropped_and_said():
    frame = table(customer_id=np.arange(N), notes=np.nan, country="NL")
    with pytest.warns(DataQualityWarning) as record:
        report = check_table(frame, "y")
    messages = [str(r.message) for r in record]
    assert any(m.startswith("column 'customer_id' looks like an identifier") for m in messages)
    assert any(
        m.startswith("column 'notes' is missing in every row; it is dropped") for m in messages
    )
    assert codes(report) == ["id_column", "empty_column", "constant_column"]  # constant: info only
    assert list(report.clean(frame).columns) == ["x", "colour", "y"]


def test_nothing_left_to_train_on():
    frame = pd.DataFrame({"row": np.arange(N), "y": ["a", "b"] * (N // 2)})
    raises(frame, r"No feature columns are left.*'row': id")


def test_free_text_stops_the_check():
    comments = [f"customer {i} said the parcel arrived two weeks late" for i in range(N)]
    raises(table(comment=comments), "Column 'comment' looks like free text")


def test_duplicate_rows():
    frame = table()
    frame = pd.concat([frame, frame.iloc[:6]], ignore_index=True)
    report = quiet_check(frame)
    finding = next(f for f in report.findings if f.code == "duplicate_rows")
    assert finding.value == 6 and finding.message.startswith("6 rows (4.8%) repeat another row")
    assert "drop_duplicates" in finding.message


def test_conflicting_labels_are_info():
    frame = table()
    copy = frame.iloc[:3].assign(y=frame.y.iloc[:3].map({"a": "b", "b": "c", "c": "a"}))
    report = quiet_check(pd.concat([frame, copy], ignore_index=True))
    finding = next(f for f in report.findings if f.code == "conflicting_labels")
    assert finding.severity == "info" and finding.value == 6


def test_high_cardinality_categorical():
    report = quiet_check(table(city=[f"city{i}" for i in RNG.integers(0, 80, N)]))
    finding = next(f for f in report.findings if f.code == "high_cardinality")
    assert finding.column == "city" and "'infrequent' level" in finding.message
    assert "To fix:" in finding.message


@pytest.mark.parametrize(
    "leak",
    [
        lambda y: y.map({"a": 0, "b": 1, "c": 2}) + RNG.normal(scale=0.01, size=N),  # numeric copy
        lambda y: y.map({"a": "approved", "b": "rejected", "c": "pending"}),  # renamed copy
        lambda y: np.where(y == "a", np.nan, y.map({"a": 0.0, "b": 5.0, "c": 9.0})),  # missingness
    ],
)
def test_a_feature_that_alone_predicts_the_target(leak):
    frame = table()
    frame["status"] = leak(frame["y"])
    with pytest.warns(DataQualityWarning, match="feature 'status' alone predicts target 'y'"):
        report = check_table(frame, "y")
    assert [f.column for f in report.findings if f.code == "leakage"] == ["status"]


def test_no_leakage_warning_on_real_data():
    from sklearn.datasets import load_breast_cancer, load_digits, load_wine

    for loader in (load_wine, load_digits, load_breast_cancer):
        report = quiet_check(loader(as_frame=True).frame.rename(columns={"target": "y"}))
        assert "leakage" not in codes(report) and "id_column" not in codes(report)


def test_penguins_pass_cleanly():
    frame = load_penguins()
    with warnings.catch_warnings():
        warnings.simplefilter("error", VerdictWarning)
        report = check_table(frame, "species", sensitive=["sex"])
    assert report.findings == () and report.schema.sensitive == ("sex",)


def test_given_schema_is_checked_against_the_table():
    frame = table()
    schema = infer_schema(frame, "y")
    assert quiet_check(frame, schema=schema).schema is schema
    raises(frame.drop(columns="colour"), "schema feature='colour' is not a column", schema=schema)
    raises(
        frame.assign(y=frame.y.replace("c", "d")), r"classes \['d'\] that the schema", schema=schema
    )
    raises(
        frame.rename(columns={"y": "label"}), "made for target 'y'", target="label", schema=schema
    )
    with pytest.raises(InvalidParameterError, match="both schema and kinds"):
        quiet_check(frame, schema=schema, kinds={"x": "drop"})


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"cv": 1}, "'cv' parameter"), ({"test_size": 1.0}, "'test_size'")]
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        quiet_check(table(), **kwargs)


def test_report_to_dict_is_json_ready():
    import json

    frame = table(customer_id=np.arange(N))
    data = json.loads(json.dumps(quiet_check(frame).to_dict()))
    assert data["findings"][0]["code"] == "id_column" and data["schema"]["target"] == "y"


def test_infinite_values_are_said_and_made_missing():
    frame = table(ratio=RNG.normal(size=N))
    frame.loc[[3, 7], "ratio"] = [np.inf, -np.inf]
    with pytest.warns(DataQualityWarning, match="column 'ratio' holds 2 infinite values"):
        report = check_table(frame, "y")
    clean = report.clean(frame)
    assert clean["ratio"].isna().sum() == 2 and np.isfinite(frame.loc[3:7, "ratio"]).sum() == 3
    assert clean["x"].equals(frame["x"])  # columns without infinities are untouched
