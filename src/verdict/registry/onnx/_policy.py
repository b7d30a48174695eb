"""The decision policy as ONNX nodes: probabilities in the served class order, then the class.

The same rule as ``DecisionPolicy.decide_index``: argmax; for a threshold policy the positive
class when its probability is at least the threshold; for a cost policy the least expected
cost ``proba @ cost_matrix + offsets``; for a weights policy the argmax of
``proba * weights``. ONNX's ArgMax/ArgMin pick the first of tied columns, as numpy's do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from verdict.pipeline import DecisionPolicy
from verdict.registry.onnx._graph import GraphBuilder


def label_values(classes: tuple[Any, ...]) -> np.ndarray:
    """The classes as the ``label`` output holds them: int64 when all are ints, else strings."""
    if all(isinstance(c, int) and not isinstance(c, bool) for c in classes):
        return np.asarray(classes, dtype=np.int64)
    return np.asarray([str(c) for c in classes], dtype=object)


def decide(
    g: GraphBuilder,
    proba: str,
    model_classes: list[Any],
    policy: DecisionPolicy,
    *,
    outputs: tuple[str, str],
) -> None:
    """Write ``outputs`` = (label, probabilities) from the estimator's float64 ``proba``.

    ``model_classes`` is the estimator's ``classes_`` order (its probability columns);
    the probabilities output has the policy's class order.
    """
    label, probabilities = outputs
    order = [model_classes.index(c) for c in policy.classes]
    if order == list(range(len(order))):
        g.op("Identity", [proba], output=probabilities)
    else:
        g.op(
            "Gather",
            [proba, g.const(np.asarray(order, np.int64), np.int64)],
            axis=1,
            output=probabilities,
        )
    index = _index(g, probabilities, policy)
    values = label_values(policy.classes)
    g.op("Gather", [g.const(values, values.dtype, hint="classes"), index], axis=0, output=label)


def _index(g: GraphBuilder, proba: str, policy: DecisionPolicy) -> str:
    """The chosen column of each row, shape [N]."""
    if policy.kind == "argmax":
        return g.op("ArgMax", [proba], axis=1, keepdims=0)
    if policy.kind == "threshold":
        positive = policy.classes.index(policy.positive_class)
        column = g.columns(proba, [positive])
        hit = g.op("GreaterOrEqual", [column, g.const(float(policy.threshold))])
        chosen = g.op("Where", [hit, g.const(positive, np.int64), g.const(1 - positive, np.int64)])
        return g.op("Reshape", [chosen, g.const([-1], np.int64)])
    if policy.kind == "weights":
        weighted = g.op("Mul", [proba, g.const(np.asarray(policy.weights, dtype=np.float64))])
        return g.op("ArgMax", [weighted], axis=1, keepdims=0)
    risk = g.op("MatMul", [proba, g.const(np.asarray(policy.cost_matrix, dtype=np.float64))])
    if policy.offsets is not None:
        risk = g.op("Add", [risk, g.const(np.asarray(policy.offsets, dtype=np.float64))])
    return g.op("ArgMin", [risk], axis=1, keepdims=0)
