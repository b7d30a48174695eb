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

from verdict.registry._loaded import LoadedModel
from verdict.registry._onnx import OnnxExport, export_onnx, onnx_predict
from verdict.registry._records import ModelSummary, ModelVersion, RegistryEvent
from verdict.registry._refs import ModelRef
from verdict.registry._registry import Registry, parse_ref
from verdict.registry._settings import RegistrySettings
from verdict.registry._store import ArtifactStore
from verdict.registry._trust import TRUSTED_TYPES

__all__ = [
    "TRUSTED_TYPES",
    "ArtifactStore",
    "LoadedModel",
    "ModelRef",
    "ModelSummary",
    "ModelVersion",
    "OnnxExport",
    "Registry",
    "RegistryEvent",
    "RegistrySettings",
    "export_onnx",
    "onnx_predict",
    "parse_ref",
]
