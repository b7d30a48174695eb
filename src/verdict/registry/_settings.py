"""Where the registry keeps its metadata and artifacts: arguments, then VERDICT_* variables.

The embedded default needs nothing running: SQLite and a local folder under ``.verdict/``. A
team points the same code at PostgreSQL and a bucket by URL, e.g.
``VERDICT_REGISTRY_URL=postgresql+psycopg://user@host/verdict`` and
``VERDICT_ARTIFACT_STORE=s3://bucket/verdict``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_HOME = Path(".verdict")


class RegistrySettings(BaseSettings):
    """Registry location.

    Attributes
    ----------
    registry_url : str or None
        A SQLAlchemy URL for the metadata (``VERDICT_REGISTRY_URL``); None means
        ``sqlite:///<home>/registry.db``.
    artifact_store : str or None
        A folder or fsspec URL for the artifacts (``VERDICT_ARTIFACT_STORE``); None means
        ``<home>/artifacts``.
    home : Path
        The local folder for the defaults (``VERDICT_HOME``, default ``.verdict``).
    """

    model_config = SettingsConfigDict(env_prefix="VERDICT_", extra="ignore")

    registry_url: str | None = None
    artifact_store: str | None = None
    home: Path = DEFAULT_HOME

    def metadata_url(self) -> str:
        """The SQLAlchemy URL actually used."""
        return self.registry_url or f"sqlite:///{self.home / 'registry.db'}"

    def store_url(self) -> str:
        """The artifact location actually used."""
        return self.artifact_store or str(self.home / "artifacts")
