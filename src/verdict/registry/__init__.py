"""The model registry: versions, aliases, lineage and safe artifacts.

Each version keeps the fitted pipeline (skops, verified by sha256 and a type allow-list on
every load), the schema, the classes, the decision policy, the test metrics with intervals, the
training reference sample for monitoring, lineage and the report::

    from verdict.registry import Registry
    registry = Registry()                       # .verdict/registry.db + .verdict/artifacts
    registry.register(run, "penguins", alias="production")
    model = registry.load("penguins@production")
    model.predict(frame)

Set ``VERDICT_REGISTRY_URL`` (any SQLAlchemy URL, e.g. PostgreSQL) and
``VERDICT_ARTIFACT_STORE`` (a folder or fsspec URL such as ``s3://bucket/verdict``) to share
one registry across a team.
"""

from verdict import _lazy

_EXPORTS = {
    "_loaded": ("LoadedModel",),
    "_records": ("ModelSummary", "ModelVersion", "RegistryEvent"),
    "_refs": ("ModelRef", "check_alias", "check_name"),
    "_registry": ("Registry", "parse_ref"),
    "_settings": ("RegistrySettings",),
    "_store": ("ArtifactStore",),
    "_trust": ("TRUSTED_TYPES",),
    "onnx": ("OnnxExport", "export_onnx", "onnx_predict"),
}

__all__ = _lazy.exported(_EXPORTS)

__getattr__, __dir__ = _lazy.lazy_exports(__name__, _EXPORTS)
