"""ONNX export: the exported graph serves what the native model serves.

Every supported family on every bundled table must give the same served classes and
probabilities within 1e-5 on held-out rows; the decision policies (threshold, cost) run inside
the graph; date, boolean and categorical columns (with missing and unseen values) are encoded
exactly; unsupported families are refused with a clear message and nothing is written.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime
import pandas as pd
import pytest
from palmerpenguins import load_penguins
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import VotingClassifier
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.tree import DecisionTreeClassifier

from verdict.data import DatetimeExpander, Schema, infer_schema
from verdict.errors import ExportError, InvalidInputError
from verdict.models import OneVsRestLogisticRegression, SoftmaxRegression, TemperatureScaled
from verdict.pipeline import BooleanEncoder, DecisionPolicy, model_families, train
from verdict.pipeline._candidates import make_pipeline
from verdict.pipeline._families import LabelEncoded
from verdict.registry import LoadedModel
from verdict.registry.onnx import _export as onnx_module
from verdict.registry.onnx._converters import SUPPORTED_FAMILIES, register_converters
from verdict.registry.onnx._export import OnnxExport, export_onnx, onnx_feeds, onnx_predict
from verdict.registry.onnx._graph import DOUBLE, GraphBuilder
from verdict.registry.onnx._preprocess import ELEMENT_TYPES, input_specs, preprocess

TOLERANCE = 1e-5
FAMILIES = [
    "softmax",
    "ovr_logistic",
    "decision_tree",
    "random_forest",
    "extra_trees",
    "svm",
    "mlp",
    "hist_gradient_boosting",
]
DATASETS = ["iris", "wine", "breast_cancer", "penguins"]
CHEAP = {
    "random_forest": {"n_estimators": 25},
    "extra_trees": {"n_estimators": 25},
    "hist_gradient_boosting": {"max_iter": 20},
}


def _sklearn_table(loader: Any) -> tuple[pd.DataFrame, str]:
    bunch = loader(as_frame=True)
    frame = bunch.frame.copy()
    frame["target"] = bunch.target.map(dict(enumerate(bunch.target_names)))
    return frame, "target"


@cache
def _table(name: str) -> tuple[Schema, pd.DataFrame, pd.DataFrame, pd.Series]:
    """Schema, training rows, held-out rows and training labels of a bundled table."""
    if name == "penguins":
        frame, target = load_penguins().dropna(subset=["species"]), "species"
    else:
        frame, target = _sklearn_table(
            {"iris": load_iris, "wine": load_wine, "breast_cancer": load_breast_cancer}[name]
        )
    schema = infer_schema(frame, target)
    X, y = frame[list(schema.features)], frame[target]
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    return schema, X_train, X_test, y_train


@cache
def _loaded(dataset: str, family: str) -> LoadedModel:
    schema, X_train, _, y_train = _table(dataset)
    zoo = model_families([family], n_classes=len(schema.classes), seed=0, n_samples=len(X_train))
    pipeline = make_pipeline(schema, zoo[family], CHEAP.get(family, {}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings of the small fits
        pipeline.fit(X_train, y_train)
    return LoadedModel(dataset, 1, pipeline, schema, DecisionPolicy.argmax(schema.classes))


def _assert_matches(loaded: LoadedModel, path: Path, X: pd.DataFrame) -> float:
    """Score ``X`` in onnxruntime and compare with the native model; the largest difference."""
    labels, proba = onnx_predict(path, X)
    assert labels.tolist() == loaded.predict(X).tolist()
    assert proba.shape == (len(X), len(loaded.classes))
    diff = float(np.max(np.abs(proba - loaded.predict_proba(X))))
    assert diff <= TOLERANCE
    return diff


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("family", FAMILIES)
def test_export_matches_native_model(family: str, dataset: str, tmp_path: Path) -> None:
    loaded = _loaded(dataset, family)
    _, _, X_test, _ = _table(dataset)
    result = export_onnx(loaded, tmp_path / "model.onnx", check=X_test)
    assert isinstance(result, OnnxExport)
    assert (result.family, result.n_checked, result.labels_equal) == (family, len(X_test), True)
    assert result.max_abs_proba_diff <= TOLERANCE
    data = (tmp_path / "model.onnx").read_bytes()
    assert (result.sha256, result.n_bytes) == (hashlib.sha256(data).hexdigest(), len(data))
    assert len(result.inputs) == len(loaded.schema.features)
    assert all(name.isidentifier() for name in result.inputs)  # 'sepal length (cm)' too
    assert result.opset == 21
    assert _assert_matches(loaded, tmp_path / "model.onnx", X_test) == pytest.approx(
        result.max_abs_proba_diff
    )
    assert json.loads(json.dumps(result.to_dict()))["family"] == family


@pytest.mark.parametrize("dataset", ["iris", "breast_cancer", "penguins"])
@pytest.mark.parametrize("temperature", [1.0, 0.6, 2.5])
def test_ensemble_with_the_prior_and_a_temperature_exports(
    dataset: str, temperature: float, tmp_path: Path
) -> None:
    """A soft-voting ensemble of three families and the class-frequency prior, scaled."""
    schema, X_train, X_test, y_train = _table(dataset)
    zoo = model_families(None, n_classes=len(schema.classes), seed=0, n_samples=len(X_train))
    members = [
        (f"{name}_{i}", make_pipeline(schema, zoo[name], CHEAP.get(name, {})))
        for i, name in enumerate(["softmax", "random_forest", "mlp"])
    ]
    members.append(
        ("prior_3", Pipeline([("preprocess", "passthrough"), ("model", DummyClassifier())]))
    )
    model = VotingClassifier(members, voting="soft", weights=[3, 2, 1, 1])
    model = TemperatureScaled(model, temperature) if temperature != 1.0 else model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X_train, y_train)
    loaded = LoadedModel(dataset, 1, model, schema, DecisionPolicy.argmax(schema.classes))
    result = export_onnx(loaded, tmp_path / "model.onnx", check=X_test)
    assert (result.family, result.labels_equal) == ("ensemble", True)
    assert _assert_matches(loaded, tmp_path / "model.onnx", X_test) <= TOLERANCE


def test_an_ensemble_with_a_member_onnx_cannot_convert_says_which(tmp_path: Path) -> None:
    schema, X_train, X_test, y_train = _table("iris")
    lgbm = pytest.importorskip("lightgbm")
    softmax = model_families(["softmax"], n_classes=3, seed=0)["softmax"]
    booster = Pipeline([("preprocess", "passthrough"), ("model", lgbm.LGBMClassifier(verbose=-1))])
    members = [("softmax_0", make_pipeline(schema, softmax, {})), ("lightgbm_1", booster)]
    model = VotingClassifier(members, voting="soft").fit(X_train, y_train)
    loaded = LoadedModel("iris", 1, model, schema, DecisionPolicy.argmax(schema.classes))
    with pytest.raises(ExportError, match="lightgbm"):
        export_onnx(loaded, tmp_path / "model.onnx", check=X_test)
    assert not (tmp_path / "model.onnx").exists()


def test_svm_on_large_tables_converts_too(tmp_path: Path) -> None:
    """Above 20,000 rows the svm family is a calibrated LinearSVC."""
    schema, X_train, X_test, y_train = _table("penguins")
    family = model_families(["svm"], n_classes=3, seed=0, n_samples=30_000)["svm"]
    pipeline = make_pipeline(schema, family, {}).fit(X_train, y_train)
    assert type(pipeline[-1].estimator).__name__ == "LinearSVC"
    loaded = LoadedModel("big", 2, pipeline, schema, DecisionPolicy.argmax(schema.classes))
    export_onnx(loaded, tmp_path / "svm.onnx", check=X_test)
    _assert_matches(loaded, tmp_path / "svm.onnx", X_test)


@pytest.fixture(scope="module")
def cost_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two short training runs with costs: a threshold (two classes) and a cost rule (three)."""
    runs = {}
    for name, costs in [("breast_cancer", {"fp": 1, "fn": 10}), ("wine", _WINE_COSTS)]:
        frame, target = _sklearn_table(
            {"breast_cancer": load_breast_cancer, "wine": load_wine}[name]
        )
        runs[name] = train(
            frame,
            target,
            models=["softmax"],
            costs=costs,
            time_budget=2,
            cv=3,
            n_jobs=1,
            quiet=True,
            out=tmp_path_factory.mktemp("runs") / name,
        )
    return runs


_WINE_COSTS = [[0, 1, 5], [2, 0, 1], [8, 1, 0]]


@pytest.mark.parametrize(("name", "kind"), [("breast_cancer", "threshold"), ("wine", "cost")])
def test_trained_decision_policy_runs_in_the_graph(
    cost_runs: dict[str, Any], name: str, kind: str, tmp_path: Path
) -> None:
    run = cost_runs[name]
    policy = DecisionPolicy.from_decision(run.info["decision"], run.schema.classes)
    assert policy.kind == kind
    loaded = LoadedModel(name, 3, run.model, run.schema, policy)
    frame, _ = _sklearn_table({"breast_cancer": load_breast_cancer, "wine": load_wine}[name])
    X = frame[list(run.schema.features)]
    result = export_onnx(loaded, tmp_path / "m.onnx", check=X)
    assert result.labels_equal and result.n_checked == len(X)
    _assert_matches(loaded, tmp_path / "m.onnx", X)


def _differs_from_argmax(loaded: LoadedModel, X: pd.DataFrame) -> int:
    argmax = DecisionPolicy.argmax(loaded.classes).decide(loaded.predict_proba(X))
    return int((loaded.predict(X) != argmax).sum())


def test_threshold_policy_decides_in_the_graph(tmp_path: Path) -> None:
    base = _loaded("breast_cancer", "softmax")
    _, _, X_test, _ = _table("breast_cancer")
    positive = base.classes[0]
    threshold = float(np.quantile(base.predict_proba(X_test)[:, 0], 0.3))
    policy = DecisionPolicy("threshold", base.classes, threshold=threshold, positive_class=positive)
    loaded = LoadedModel("bc", 1, base.model, base.schema, policy)
    assert _differs_from_argmax(loaded, X_test) > 0  # else the test could not fail
    export_onnx(loaded, tmp_path / "t.onnx", check=X_test)
    _assert_matches(loaded, tmp_path / "t.onnx", X_test)


def test_cost_policy_with_offsets_decides_in_the_graph(tmp_path: Path) -> None:
    base = _loaded("wine", "random_forest")
    _, _, X_test, _ = _table("wine")
    policy = DecisionPolicy(
        "cost", base.classes, cost_matrix=((0, 1, 9), (4, 0, 1), (9, 3, 0)), offsets=(0.2, 0, -0.1)
    )
    loaded = LoadedModel("wine", 1, base.model, base.schema, policy)
    assert _differs_from_argmax(loaded, X_test) > 0
    export_onnx(loaded, tmp_path / "c.onnx", check=X_test)
    _assert_matches(loaded, tmp_path / "c.onnx", X_test)


def test_weights_policy_decides_in_the_graph(tmp_path: Path) -> None:
    base = _loaded("wine", "random_forest")
    _, _, X_test, _ = _table("wine")
    policy = DecisionPolicy("weights", base.classes, weights=(0.3, 1.0, 2.5))
    loaded = LoadedModel("wine", 1, base.model, base.schema, policy)
    assert _differs_from_argmax(loaded, X_test) > 0
    export_onnx(loaded, tmp_path / "w.onnx", check=X_test)
    _assert_matches(loaded, tmp_path / "w.onnx", X_test)


def test_probability_columns_follow_the_policy_class_order(tmp_path: Path) -> None:
    base = _loaded("penguins", "mlp")
    _, _, X_test, _ = _table("penguins")
    reversed_classes = tuple(reversed(base.classes))
    loaded = LoadedModel("p", 1, base.model, base.schema, DecisionPolicy.argmax(reversed_classes))
    export_onnx(loaded, tmp_path / "r.onnx", check=X_test)
    _, proba = onnx_predict(tmp_path / "r.onnx", X_test)
    native = np.asarray(base.model.predict_proba(X_test))
    np.testing.assert_allclose(proba, native[:, ::-1], atol=TOLERANCE)
    assert not np.allclose(proba, native)


def test_integer_classes_come_back_as_ints(tmp_path: Path) -> None:
    bunch = load_iris(as_frame=True)
    frame = bunch.frame
    schema = infer_schema(frame, "target")
    X, y = frame[list(schema.features)], frame["target"]
    zoo = model_families(["ovr_logistic"], n_classes=3, seed=0)
    pipeline = make_pipeline(schema, zoo["ovr_logistic"], {}).fit(X, y)
    loaded = LoadedModel("iris", 1, pipeline, schema, DecisionPolicy.argmax(schema.classes))
    export_onnx(loaded, tmp_path / "i.onnx", check=X)
    labels, _ = onnx_predict(tmp_path / "i.onnx", X)
    assert {type(v) for v in labels} == {int}
    model = onnx.load(tmp_path / "i.onnx")
    assert model.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.INT64


def test_metadata_and_interface(tmp_path: Path) -> None:
    loaded = _loaded("penguins", "softmax")
    export_onnx(loaded, tmp_path / "m.onnx")
    model = onnx.load(tmp_path / "m.onnx")
    onnx.checker.check_model(model, full_check=True)
    props = {p.key: p.value for p in model.metadata_props}
    assert props["verdict.name"] == "penguins" and props["verdict.version"] == "1"
    assert props["verdict.family"] == "softmax"
    assert json.loads(props["verdict.classes"]) == list(loaded.classes)
    policy = DecisionPolicy.from_dict(json.loads(props["verdict.policy"]))
    assert policy.to_dict() == loaded.policy.to_dict()
    assert Schema.from_dict(json.loads(props["verdict.schema"])) == loaded.schema
    types = {i.name: i.type.tensor_type.elem_type for i in model.graph.input}
    assert types["bill_length_mm"] == onnx.TensorProto.DOUBLE
    assert types["island"] == types["sex"] == onnx.TensorProto.STRING
    assert [o.name for o in model.graph.output] == ["label", "probabilities"]
    assert model.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.STRING


def test_raw_onnxruntime_feeds_follow_the_documented_encoding(tmp_path: Path) -> None:
    """A client without verdict: doubles with NaN, strings with '' for missing."""
    loaded = _loaded("penguins", "decision_tree")
    _, _, X_test, _ = _table("penguins")
    export_onnx(loaded, tmp_path / "p.onnx")
    feeds = {}
    for column in X_test.columns:
        values = X_test[column]
        if column in loaded.schema.numeric:
            feeds[column] = values.to_numpy(np.float64, na_value=np.nan).reshape(-1, 1)
        else:
            text = values.astype(object).where(values.notna(), "").astype(str)
            feeds[column] = text.to_numpy(object).reshape(-1, 1)
    session = onnxruntime.InferenceSession(str(tmp_path / "p.onnx"))
    labels, proba = session.run(["label", "probabilities"], feeds)
    assert X_test.isna().any().any()
    assert labels.tolist() == loaded.predict(X_test).tolist()
    np.testing.assert_allclose(proba, loaded.predict_proba(X_test), atol=TOLERANCE)


def _mixed_table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Dates (strings, datetimes, time zones, before 1970), booleans, rare and missing levels."""
    rng = np.random.default_rng(seed)
    low, high = pd.Timestamp("1905-01-01").value, pd.Timestamp("2060-12-31").value
    dates = pd.Series(pd.to_datetime(rng.integers(low, high, n)))
    dates[rng.random(n) < 0.08] = pd.NaT
    level = rng.choice(["a", "b", "c", "d", "rare"], n, p=[0.3, 0.3, 0.2, 0.197, 0.003])
    frame = pd.DataFrame(
        {
            "amount": np.where(rng.random(n) < 0.05, np.nan, rng.normal(0, 1, n)),
            "when": dates.dt.strftime("%d/%m/%Y %H:%M"),
            "stamp": dates,
            "zoned": dates.dt.tz_localize("UTC").dt.tz_convert("Asia/Kolkata"),
            "flag": rng.choice(["yes", "no", None], n),
            "level": np.where(rng.random(n) < 0.05, None, level),
            "label": rng.choice([1, 2, 3], n).astype(float),  # a feature named like an output
        }
    )
    score = frame.amount.fillna(0) + (frame.level == "a") + dates.dt.month.fillna(6) / 6
    frame["y"] = np.where(score + rng.normal(0, 0.5, n) > 1.2, "high", "low")
    return frame


def test_dates_booleans_and_unseen_levels_export(tmp_path: Path) -> None:
    frame = _mixed_table()
    schema = infer_schema(frame, "y", kinds={"flag": "boolean", "label": "categorical"})
    assert set(schema.datetime) == {"when", "stamp", "zoned"} and schema.boolean == ("flag",)
    X = frame[list(schema.features)]
    X_train, X_test = X.iloc[:300], X.iloc[300:].copy()
    X_test.iloc[0, X_test.columns.get_loc("level")] = "never seen"
    X_test.iloc[1, X_test.columns.get_loc("flag")] = "maybe"
    for family in ("softmax", "decision_tree"):
        zoo = model_families([family], n_classes=2, seed=0)
        pipeline = make_pipeline(schema, zoo[family], {}).fit(X_train, frame.y.iloc[:300])
        loaded = LoadedModel("mixed", 1, pipeline, schema, DecisionPolicy.argmax(schema.classes))
        result = export_onnx(loaded, tmp_path / f"{family}.onnx", check=X_test)
        assert "label_2" in result.inputs and "label" not in result.inputs
        _assert_matches(loaded, tmp_path / f"{family}.onnx", X_test)


def test_preprocessing_is_exact_for_every_date_part() -> None:
    """The graph's features equal ColumnTransformer.transform, value for value."""
    frame = _mixed_table(n=2000, seed=1)
    schema = infer_schema(frame, "y", kinds={"flag": "boolean", "label": "drop"})
    parts = ("year", "quarter", "month", "day", "dayofyear", "weekday", "hour", "minute")
    expander = DatetimeExpander(formats=schema.datetime_formats, parts=parts)
    transformer = ColumnTransformer(
        [("dates", expander, list(schema.datetime)), ("flags", BooleanEncoder(), ["flag"])],
        sparse_threshold=0.0,
    )
    X = frame[list(schema.features)]
    expected = transformer.fit_transform(X)
    g = GraphBuilder("p/")
    specs = input_specs(schema)
    out = preprocess(g, transformer, specs)
    inputs = [
        onnx.helper.make_tensor_value_info(s.name, ELEMENT_TYPES[s.kind], [None, 1]) for s in specs
    ]
    graph = onnx.helper.make_graph(
        g.nodes,
        "pre",
        inputs,
        [onnx.helper.make_tensor_value_info(out, DOUBLE, [None, None])],
        g.initializers,
    )
    opsets = [onnx.helper.make_opsetid("", 21), onnx.helper.make_opsetid("ai.onnx.ml", 3)]
    model = onnx.helper.make_model(graph, opset_imports=opsets)
    meta = {"verdict.inputs": [s.to_dict() for s in specs], "verdict.schema": schema.to_dict()}
    session = onnxruntime.InferenceSession(model.SerializeToString())
    (got,) = session.run(None, onnx_feeds(meta, X))
    assert expected.shape == got.shape == (len(X), 3 * len(parts) + 1)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    ("estimator", "named"),
    [
        (LabelEncoded(DecisionTreeClassifier(random_state=0)), "'xgboost'"),
        (KNeighborsClassifier(), "'KNeighborsClassifier'"),
    ],
)
def test_unsupported_family_is_refused(estimator: Any, named: str, tmp_path: Path) -> None:
    base = _loaded("iris", "softmax")
    _, X_train, _, y_train = _table("iris")
    pipeline = Pipeline([("preprocess", base.model[0]), ("model", estimator)]).fit(X_train, y_train)
    loaded = LoadedModel("iris", 1, pipeline, base.schema, base.policy)
    with pytest.raises(ExportError) as caught:
        export_onnx(loaded, tmp_path / "x.onnx")
    message = str(caught.value)
    assert named in message and "softmax" in message and "hist_gradient_boosting" in message
    assert "To fix:" in message
    assert not list(tmp_path.iterdir())


def test_unknown_preprocessing_step_is_refused(tmp_path: Path) -> None:
    base = _loaded("iris", "decision_tree")
    _, X_train, _, y_train = _table("iris")
    step = ColumnTransformer([("odd", FunctionTransformer(np.log1p), list(base.schema.numeric))])
    pipeline = Pipeline([("preprocess", step), ("model", DecisionTreeClassifier())])
    loaded = LoadedModel("iris", 1, pipeline.fit(X_train, y_train), base.schema, base.policy)
    with pytest.raises(ExportError, match=r"FunctionTransformer.*To fix"):
        export_onnx(loaded, tmp_path / "x.onnx")


def test_mismatch_raises_with_figures_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = _loaded("wine", "softmax")
    _, _, X_test, _ = _table("wine")
    target = tmp_path / "m.onnx"
    target.write_bytes(b"previous export")
    estimator = loaded.model[-1]
    honest = estimator.predict_proba
    monkeypatch.setattr(estimator, "predict_proba", lambda X: honest(X)[:, [1, 2, 0]])
    with pytest.raises(ExportError, match=r"served classes differ.*largest probability.*To fix"):
        export_onnx(loaded, target, check=X_test)
    assert target.read_bytes() == b"previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]


def test_tolerance_is_enforced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random forests agree within float32 rounding only: a zero tolerance refuses them."""
    loaded = _loaded("iris", "random_forest")
    _, _, X_test, _ = _table("iris")
    monkeypatch.setattr(onnx_module, "PROBA_TOLERANCE", 0.0)
    with pytest.raises(ExportError, match="0 served classes differ"):
        export_onnx(loaded, tmp_path / "m.onnx", check=X_test)


def test_sample_checks_when_no_check_rows_and_overwrites_atomically(tmp_path: Path) -> None:
    loaded = _loaded("iris", "ovr_logistic")
    _, X_train, _, _ = _table("iris")
    target = tmp_path / "out" / "m.onnx"
    unchecked = export_onnx(loaded, target)
    assert unchecked.n_checked == 0 and np.isnan(unchecked.max_abs_proba_diff)
    sampled = export_onnx(loaded, target, sample=X_train.head(7))
    assert sampled.n_checked == 7 and sampled.sha256 == unchecked.sha256
    assert [p.name for p in target.parent.iterdir()] == ["m.onnx"]


def test_onnx_predict_needs_every_feature_column(tmp_path: Path) -> None:
    loaded = _loaded("penguins", "softmax")
    _, _, X_test, _ = _table("penguins")
    export_onnx(loaded, tmp_path / "m.onnx")
    with pytest.raises(InvalidInputError, match=r"island.*To fix"):
        onnx_predict(tmp_path / "m.onnx", X_test.drop(columns="island"))
    with pytest.raises(InvalidInputError, match="metadata"):
        plain = onnx.load(tmp_path / "m.onnx")
        del plain.metadata_props[:]
        onnx_predict(plain.SerializeToString(), X_test)


@pytest.mark.parametrize("estimator", [SoftmaxRegression, OneVsRestLogisticRegression])
def test_estimators_are_registered_with_skl2onnx(estimator: type) -> None:
    """Our converters work through skl2onnx's public API, for two and for three classes."""
    from skl2onnx import to_onnx

    register_converters()
    for loader in (load_iris, load_breast_cancer):
        X, y = loader(return_X_y=True)
        model = estimator(max_iter=1000).fit(X / X.max(axis=0), y)
        X = X / X.max(axis=0)
        onx = to_onnx(model, X[:1], options={id(model): {"zipmap": False}})
        session = onnxruntime.InferenceSession(onx.SerializeToString())
        labels, proba = session.run(None, {session.get_inputs()[0].name: X})
        np.testing.assert_allclose(proba, model.predict_proba(X), atol=1e-12)
        assert (labels == model.predict(X)).mean() > 0.99  # exact ties aside


def test_supported_families_are_the_ones_tested() -> None:
    assert sorted(SUPPORTED_FAMILIES) == sorted(FAMILIES)
