"""ONNX export of a registered version: preprocessing, model and decision policy in one graph.

``export_onnx`` builds the graph (``_build``: ``_preprocess`` and ``_datetime`` for the
columns, ``_converters`` for the estimator, ``_policy`` for the decision, all on ``_graph``'s
builder) and checks it against the pipeline; ``onnx_predict`` and ``onnx_feeds`` score a file
with onnxruntime, reading the metadata (``read_metadata``) the export wrote.
"""

from verdict import _lazy

_EXPORTS = {
    "_export": ("OnnxExport", "export_onnx", "onnx_feeds", "onnx_predict", "read_metadata"),
    "_policy": ("label_values",),
}

__all__ = _lazy.exported(_EXPORTS)

__getattr__, __dir__ = _lazy.lazy_exports(__name__, _EXPORTS)
