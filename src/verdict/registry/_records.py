"""What the registry returns: a model's summary and one version's metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from verdict._results import Result


@dataclass(frozen=True)
class ModelVersion(Result):
    """One immutable version of a registered model.

    Attributes
    ----------
    name, version : str, int
        ``name@v<version>`` names it for ever.
    created : str
        ISO 8601 time of registration (UTC).
    family : str
        The model family that won the search (``softmax``, ``random_forest`` ...).
    primary_metric : str
        The metric the model was selected on.
    fingerprint : str
        The training data's fingerprint (lineage).
    aliases : tuple of str
        The aliases pointing at this version now.
    summary : dict
        Schema, classes, decision policy, test metrics with intervals, lineage, data.
    artifacts : dict
        Artifact name -> ``{"sha256": ..., "bytes": ...}``.
    """

    _hidden: ClassVar[tuple[str, ...]] = ("summary", "artifacts")

    name: str
    version: int
    created: str
    family: str
    primary_metric: str
    fingerprint: str
    source: str | None
    description: str | None
    aliases: tuple[str, ...]
    summary: dict[str, Any] = field(repr=False)
    artifacts: dict[str, Any] = field(repr=False)

    @property
    def ref(self) -> str:
        """``name@vN``."""
        return f"{self.name}@v{self.version}"

    def metric(self, name: str | None = None) -> dict[str, Any] | None:
        """A test-set metric with its interval (the primary one by default), or None.

        Returns ``{"estimate", "low", "high", "confidence", "method", ...}`` as evaluated.
        """
        intervals = (self.summary.get("metrics") or {}).get("intervals") or {}
        found = intervals.get(name or self.primary_metric)
        return dict(found) if isinstance(found, dict) else None


@dataclass(frozen=True)
class ModelSummary(Result):
    """A registered model: its versions and where its aliases point."""

    name: str
    created: str
    description: str | None
    n_versions: int
    latest: int | None
    aliases: dict[str, int]


@dataclass(frozen=True)
class RegistryEvent(Result):
    """A change to a model: ``registered``, ``alias``, ``rollback``, ``deleted``, or a decision."""

    name: str
    created: str
    kind: str
    alias: str | None
    version: int | None
    previous: int | None
    payload: dict[str, Any]
