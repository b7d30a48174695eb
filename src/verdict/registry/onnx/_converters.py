"""skl2onnx converters for verdict's logistic estimators, and the estimator step's conversion.

``register_converters()`` registers ``SoftmaxRegression`` and ``OneVsRestLogisticRegression``
with skl2onnx (``update_registered_converter``), so ``skl2onnx.to_onnx`` converts any pipeline
holding them, not only verdict's export. It runs on first use, never at import.

``convert_estimator`` turns a pipeline's final estimator into an ONNX model with one input,
``features`` (the preprocessed matrix), and the outputs ``label`` and ``probabilities`` (columns
in ``classes_`` order).
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np
from onnx import ModelProto, TensorProto
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import (
    ExtraTreesClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.neural_network import MLPClassifier
from sklearn.tree import DecisionTreeClassifier

from verdict.errors import ExportError
from verdict.models import OneVsRestLogisticRegression, SoftmaxRegression

FEATURES = "features"
# scikit-learn's trees compare float32 features with their thresholds; skl2onnx's tree
# converters reproduce that only from float32 input (and onnxruntime's tree ensembles run
# in float32), so those families get the features cast to float32. The rest stay float64.
_FAMILIES: dict[type, tuple[str, int]] = {
    SoftmaxRegression: ("softmax", TensorProto.DOUBLE),
    OneVsRestLogisticRegression: ("ovr_logistic", TensorProto.DOUBLE),
    DecisionTreeClassifier: ("decision_tree", TensorProto.FLOAT),
    RandomForestClassifier: ("random_forest", TensorProto.FLOAT),
    ExtraTreesClassifier: ("extra_trees", TensorProto.FLOAT),
    CalibratedClassifierCV: ("svm", TensorProto.DOUBLE),
    MLPClassifier: ("mlp", TensorProto.DOUBLE),
    HistGradientBoostingClassifier: ("hist_gradient_boosting", TensorProto.FLOAT),
}
SUPPORTED_FAMILIES = tuple(name for name, _ in _FAMILIES.values())
_KNOWN = {"LGBMClassifier": "lightgbm", "LabelEncoded": "xgboost", "XGBClassifier": "xgboost"}


def family_of(estimator: Any) -> str:
    """The verdict family name of a fitted estimator (its class name when not a family)."""
    name = type(estimator).__name__
    entry = _FAMILIES.get(type(estimator))
    return entry[0] if entry else _KNOWN.get(name, name)


def input_type(estimator: Any) -> int:
    """The ONNX element type the estimator's converted graph takes its features in."""
    return _FAMILIES[type(estimator)][1]


def convert_estimator(estimator: Any, opset: dict[str, int]) -> ModelProto:
    """The estimator as an ONNX model: ``features`` in, ``label`` and ``probabilities`` out.

    Raises ``ExportError`` for a family skl2onnx cannot convert.
    """
    family = family_of(estimator)
    if type(estimator) not in _FAMILIES:
        raise ExportError(
            f"Model family {family!r} cannot be exported to ONNX; the supported families are "
            f"{list(SUPPORTED_FAMILIES)}. To fix: retrain with one of them (verdict train "
            f"--models {SUPPORTED_FAMILIES[0]},...), or serve this model in its native format."
        )
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    register_converters()
    tensor = DoubleTensorType if input_type(estimator) == TensorProto.DOUBLE else FloatTensorType
    n_features = int(estimator.n_features_in_)
    try:
        with warnings.catch_warnings():
            # skl2onnx reads SVC.probA_, deprecated in scikit-learn 1.9
            warnings.simplefilter("ignore", FutureWarning)
            return convert_sklearn(
                estimator,
                initial_types=[(FEATURES, tensor([None, n_features]))],
                options={id(estimator): {"zipmap": False}},
                target_opset=opset,
                custom_conversion_functions={HistGradientBoostingClassifier: _convert_hgb},
            )
    except Exception as exc:  # skl2onnx raises bare RuntimeError/NotImplementedError
        raise ExportError(
            f"skl2onnx could not convert the {family!r} model ({type(estimator).__name__}): "
            f"{type(exc).__name__}: {exc}. To fix: retrain with another family (supported: "
            f"{list(SUPPORTED_FAMILIES)}) or upgrade skl2onnx."
        ) from exc


@functools.cache
def register_converters() -> None:
    """Register verdict's logistic estimators with skl2onnx (once per process)."""
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes

    options = {"zipmap": [True, False, "columns"], "nocl": [True, False]}
    for estimator in (SoftmaxRegression, OneVsRestLogisticRegression):
        update_registered_converter(
            estimator,
            f"Verdict{estimator.__name__}",
            calculate_linear_classifier_output_shapes,
            convert_logistic,
            options=options,
        )


def convert_logistic(scope: Any, operator: Any, container: Any) -> None:
    """skl2onnx converter of ``SoftmaxRegression`` and ``OneVsRestLogisticRegression``.

    Scores ``X @ coef_.T + intercept_``; two classes give ``[expit(-s), expit(s)]``, more a
    softmax (``SoftmaxRegression``) or the sigmoids divided by their sum (one-vs-rest), exactly
    as the estimators' ``predict_proba``; the label is the class of the largest probability.
    """
    from skl2onnx.common.data_types import guess_numpy_type, guess_proto_type

    model = operator.raw_operator
    proto = guess_proto_type(operator.inputs[0].type)
    dtype = guess_numpy_type(operator.inputs[0].type)

    def name(hint: str) -> str:
        return scope.get_unique_variable_name(hint)

    def node(op_type: str, inputs: list[str], output: str | None = None, **attrs: Any) -> str:
        out = output or name(op_type.lower())
        container.add_node(
            op_type, inputs, [out], name=scope.get_unique_operator_name(op_type), **attrs
        )
        return out

    def const(values: np.ndarray, proto_type: int, hint: str) -> str:
        out = name(hint)
        container.add_initializer(out, proto_type, list(values.shape), values.ravel().tolist())
        return out

    coef = const(np.asarray(model.coef_, dtype).T, proto, "coef")
    intercept = const(np.asarray(model.intercept_, dtype), proto, "intercept")
    scores = node("Add", [node("MatMul", [operator.inputs[0].full_name, coef]), intercept])
    probabilities = operator.outputs[1].full_name
    if len(model.classes_) == 2:
        negative = node("Sigmoid", [node("Neg", [scores])])
        node("Concat", [negative, node("Sigmoid", [scores])], probabilities, axis=1)
    elif isinstance(model, SoftmaxRegression):
        node("Softmax", [scores], probabilities, axis=1)
    else:
        sigmoid = node("Sigmoid", [scores])
        node("Div", [sigmoid, _row_sum(node, const, sigmoid, container)], probabilities)
    _label(node, const, model, probabilities, operator.outputs[0].full_name, scope)


def _row_sum(node: Any, const: Any, x: str, container: Any) -> str:
    if container.target_opset < 13:
        return node("ReduceSum", [x], axes=[1], keepdims=1)
    return node("ReduceSum", [x, const(np.array([1], np.int64), TensorProto.INT64, "axes")])


def _label(node: Any, const: Any, model: Any, proba: str, output: str, scope: Any) -> None:
    """The class of the largest probability, typed as skl2onnx's shape calculator expects."""
    from skl2onnx.common.utils_classifier import get_label_classes

    classes = np.asarray(get_label_classes(scope, model))
    index = node("ArgMax", [proba], axis=1, keepdims=0)
    if all(isinstance(c, str) for c in classes):
        values = const(classes.astype(object), TensorProto.STRING, "classes")
    else:
        values = const(classes.astype(np.int64), TensorProto.INT64, "classes")
    node("Gather", [values, index], output, axis=0)


def _convert_hgb(scope: Any, operator: Any, container: Any) -> None:
    """skl2onnx's own converter, with booleans in integer attributes turned into ints.

    skl2onnx 1.20 writes ``False`` into ``nodes_missing_value_tracks_true`` for leaves, which
    onnx >= 1.17 refuses in an ``ints`` attribute.
    """
    from skl2onnx.operator_converters.random_forest import (
        convert_sklearn_random_forest_classifier,
    )

    convert_sklearn_random_forest_classifier(scope, operator, _IntAttributes(container))


class _IntAttributes:
    """A container proxy whose ``add_node`` turns bool list items into ints."""

    def __init__(self, container: Any) -> None:
        self._container = container

    def __getattr__(self, name: str) -> Any:
        return getattr(self._container, name)

    def add_node(self, *args: Any, **attrs: Any) -> Any:
        fixed = {k: _ints(v) for k, v in attrs.items()}
        return self._container.add_node(*args, **fixed)


def _ints(value: Any) -> Any:
    if isinstance(value, list) and any(isinstance(v, bool | np.bool_) for v in value):
        return [int(v) for v in value]
    return value
