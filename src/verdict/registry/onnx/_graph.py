"""A small ONNX graph builder: nodes, constants and unique names, in double precision.

The preprocessing and the decision policy of an exported model are written with it; the
estimator itself comes from skl2onnx and is spliced in by ``_build``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from onnx import NodeProto, TensorProto, helper, numpy_helper

ML = "ai.onnx.ml"
DOUBLE = TensorProto.DOUBLE
FLOAT = TensorProto.FLOAT
INT64 = TensorProto.INT64
BOOL = TensorProto.BOOL


class GraphBuilder:
    """Collects nodes and initializers; every name it hands out starts with ``prefix``."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.nodes: list[NodeProto] = []
        self.initializers: list[TensorProto] = []
        self._count = 0

    def name(self, hint: str) -> str:
        """A fresh tensor or node name."""
        self._count += 1
        return f"{self.prefix}{hint}_{self._count}"

    def op(
        self,
        op_type: str,
        inputs: list[str],
        *,
        domain: str = "",
        output: str | None = None,
        **attrs: Any,
    ) -> str:
        """Add one single-output node; returns its output name."""
        out = output or self.name(op_type.lower())
        node = helper.make_node(
            op_type, inputs, [out], name=self.name(op_type), domain=domain or None, **attrs
        )
        self.nodes.append(node)
        return out

    def const(self, values: Any, dtype: Any = np.float64, hint: str = "const") -> str:
        """An initializer holding ``values`` (strings when ``dtype`` is object)."""
        array = np.asarray(values, dtype=dtype)
        name = self.name(hint)
        if array.dtype == object:
            tensor = helper.make_tensor(
                name, TensorProto.STRING, array.shape, [str(v).encode() for v in array.ravel()]
            )
        else:
            tensor = numpy_helper.from_array(array, name)
        self.initializers.append(tensor)
        return name

    def cast(self, x: str, to: int) -> str:
        """``x`` cast to the ONNX element type ``to``."""
        return self.op("Cast", [x], to=to)

    def concat(self, parts: list[str], axis: int = 1) -> str:
        """Parts joined along ``axis`` (the part itself when there is one)."""
        return parts[0] if len(parts) == 1 else self.op("Concat", parts, axis=axis)

    def columns(self, x: str, indices: Any) -> str:
        """The columns ``indices`` of the 2-d tensor ``x``."""
        return self.op("Gather", [x, self.const(np.asarray(indices, np.int64), np.int64)], axis=1)

    def where_nan(self, x: str, fill: str) -> str:
        """``fill`` where ``x`` is NaN, ``x`` elsewhere (``fill`` broadcasts)."""
        return self.op("Where", [self.op("IsNaN", [x]), fill, x])


def prune(nodes: list[NodeProto], outputs: list[str]) -> list[NodeProto]:
    """The nodes that ``outputs`` depend on, in their original (topological) order."""
    needed = set(outputs)
    kept = []
    for node in reversed(nodes):
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(node.input)
    return kept[::-1]
