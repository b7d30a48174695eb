"""Assemble the exported graph: preprocessing, the skl2onnx estimator, the decision policy.

The three parts are spliced into one graph: the preprocessing writes the estimator's input
(``estimator/features``), the estimator (names prefixed ``estimator/``) writes
``estimator/probabilities``, and the policy turns them into the outputs ``label`` and
``probabilities``. Nodes that no output needs (the estimator's own argmax label) are pruned.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import onnx
from onnx import ModelProto, TensorProto, helper

import verdict
from verdict._results import plain
from verdict.errors import ExportError
from verdict.registry._loaded import LoadedModel
from verdict.registry.onnx._converters import FEATURES, convert_estimator, family_of, input_type
from verdict.registry.onnx._graph import DOUBLE, FLOAT, ML, GraphBuilder, prune
from verdict.registry.onnx._policy import decide, label_values
from verdict.registry.onnx._preprocess import ELEMENT_TYPES, InputSpec, input_specs, preprocess

OPSET = 21
ML_OPSET = 3
OUTPUTS = ("label", "probabilities")
_EST = "estimator/"
_DOC = (
    "{ref}, exported by verdict {version}. Inputs: one [N, 1] tensor per raw feature column "
    "(double for numeric, NaN if missing; string for categorical and boolean, '' if missing; "
    "int64 wall-clock nanoseconds since 1970 for datetime, INT64_MIN if missing), listed in "
    "metadata 'verdict.inputs'. Outputs: 'label' [N], the served class (decision policy "
    "applied), and 'probabilities' [N, K] double, columns in 'verdict.classes' order."
)


def build_model(loaded: LoadedModel) -> ModelProto:
    """The checked ONNX model of ``loaded`` (see the module docstring)."""
    preprocessor, estimator = model_steps(loaded)
    est = convert_estimator(estimator, {"": OPSET, ML: ML_OPSET})
    est = onnx.compose.add_prefix(est, _EST)
    specs = input_specs(loaded.schema, reserved=OUTPUTS)
    pre, post = GraphBuilder("pre/"), GraphBuilder("post/")
    features = preprocess(pre, preprocessor, specs)
    if input_type(estimator) == FLOAT:
        features = pre.cast(features, FLOAT)
    pre.op("Identity", [features], output=_EST + FEATURES)
    proba = post.cast(_EST + "probabilities", DOUBLE)
    own_order = [_plain(c) for c in estimator.classes_]
    decide(post, proba, own_order, loaded.policy, outputs=OUTPUTS)
    nodes = prune([*pre.nodes, *est.graph.node, *post.nodes], list(OUTPUTS))
    used = {name for node in nodes for name in node.input}
    tensors = [*pre.initializers, *est.graph.initializer, *post.initializers]
    graph = helper.make_graph(
        nodes,
        str(loaded.name) or "verdict",
        _inputs(specs),
        _outputs(loaded),
        [t for t in tensors if t.name in used],
    )
    model = helper.make_model(
        graph,
        opset_imports=_opset_imports(est),
        ir_version=est.ir_version,
        producer_name="verdict",
        producer_version=verdict.__version__,
        model_version=int(loaded.version),
        doc_string=_DOC.format(ref=loaded.ref, version=verdict.__version__),
    )
    helper.set_model_props(model, _metadata(loaded, specs, family_of(estimator)))
    _check_model(model)
    return model


def model_steps(loaded: LoadedModel) -> tuple[Any, Any]:
    """The preprocessing and the estimator of the model's ``Pipeline``."""
    steps = getattr(loaded.model, "steps", None)
    if not steps or len(steps) != 2:
        raise ExportError(
            f"{loaded.ref} is not a Pipeline(preprocess, model) as verdict trains, so it "
            "cannot be exported to ONNX. To fix: export a model registered from a verdict run."
        )
    return steps[0][1], steps[1][1]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _opset_imports(est: ModelProto) -> list[onnx.OperatorSetIdProto]:
    versions = {o.domain: o.version for o in est.opset_import}
    versions[""] = max(versions.get("", 0), OPSET)
    versions[ML] = max(versions.get(ML, 0), ML_OPSET)
    return [helper.make_opsetid(domain, v) for domain, v in sorted(versions.items())]


def _inputs(specs: list[InputSpec]) -> list[onnx.ValueInfoProto]:
    return [helper.make_tensor_value_info(s.name, ELEMENT_TYPES[s.kind], [None, 1]) for s in specs]


def _outputs(loaded: LoadedModel) -> list[onnx.ValueInfoProto]:
    labels = label_values(loaded.classes)
    label_type = TensorProto.INT64 if labels.dtype == np.int64 else TensorProto.STRING
    return [
        helper.make_tensor_value_info(OUTPUTS[0], label_type, [None]),
        helper.make_tensor_value_info(OUTPUTS[1], DOUBLE, [None, len(loaded.classes)]),
    ]


def _metadata(loaded: LoadedModel, specs: list[InputSpec], family: str) -> dict[str, str]:
    def dump(value: Any) -> str:
        return json.dumps(plain(value), sort_keys=True)

    return {
        "verdict.name": str(loaded.name),
        "verdict.version": str(loaded.version),
        "verdict.family": family,
        "verdict.classes": dump(list(loaded.classes)),
        "verdict.policy": dump(loaded.policy.to_dict()),
        "verdict.schema": dump(loaded.schema.to_dict()),
        "verdict.inputs": dump([s.to_dict() for s in specs]),
    }


def _check_model(model: ModelProto) -> None:
    try:
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise ExportError(
            f"The exported ONNX graph does not pass onnx's checker: {exc}. To fix: report "
            "this as a bug in verdict's ONNX export, with the model family."
        ) from exc
