"""The model registry: named models, immutable numbered versions, movable aliases.

It is the single source of truth the service, monitoring and every cloud target read from.
Metadata lives in a SQL database (SQLite under ``.verdict/`` by default, PostgreSQL for a team);
artifacts live in a content-addressed store and are verified by sha256 on every load. Every
write is one transaction, and writers are serialised, so two processes registering at once
both succeed with distinct versions and an alias is never seen half-moved.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from verdict.data import Schema
from verdict.errors import InvalidInputError, NotFoundError, RegistryError
from verdict.pipeline import DecisionPolicy, Run
from verdict.registry._database import open_engine
from verdict.registry._history import alias_stack
from verdict.registry._intake import MODEL, read_run
from verdict.registry._loaded import LoadedModel
from verdict.registry._records import ModelSummary, ModelVersion, RegistryEvent
from verdict.registry._refs import DEFAULT_ALIAS, LATEST, ModelRef, check_alias, check_name
from verdict.registry._refs import parse_ref as _parse
from verdict.registry._settings import RegistrySettings
from verdict.registry._store import ArtifactStore
from verdict.registry._tables import AliasRow, EventRow, ModelRow, VersionRow, utcnow
from verdict.registry._trust import load_model

_PG_WRITE_LOCK = 0x7665726470  # held by every writing transaction on PostgreSQL


class Registry:
    """Models, versions and aliases over a SQL database and an artifact store.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy URL of the metadata; default ``VERDICT_REGISTRY_URL`` or
        ``sqlite:///.verdict/registry.db``.
    artifacts : str or Path, optional
        Folder or fsspec URL of the artifact store; default ``VERDICT_ARTIFACT_STORE`` or
        ``.verdict/artifacts``.
    home : str or Path, optional
        The local folder both defaults live in (``VERDICT_HOME``, default ``.verdict``).

    Examples
    --------
    >>> registry = Registry()                                   # doctest: +SKIP
    >>> version = registry.register(run, "penguins", alias="production")  # doctest: +SKIP
    >>> loaded = registry.load("penguins@production")           # doctest: +SKIP
    """

    def __init__(
        self,
        url: str | None = None,
        artifacts: str | Path | None = None,
        *,
        home: str | Path | None = None,
    ) -> None:
        settings = RegistrySettings(**({"home": Path(home)} if home is not None else {}))
        self.url = url or settings.metadata_url()
        self.store = ArtifactStore(artifacts or settings.store_url())
        self._engine: Engine = open_engine(self.url)

    def close(self) -> None:
        """Release the database connections."""
        self._engine.dispose()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __repr__(self) -> str:
        shown = self._engine.url.render_as_string(hide_password=True)
        return f"Registry(url={shown!r}, artifacts={self.store.url!r})"

    # -- writing ---------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """One serialised write transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: a lock)."""
        with Session(self._engine) as session, session.begin():
            if self._engine.dialect.name == "postgresql":
                session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_WRITE_LOCK})
            yield session

    def register(
        self,
        run: Run | str | Path,
        name: str,
        *,
        alias: str | None = None,
        description: str | None = None,
    ) -> ModelVersion:
        """Register a finished run as the next version of ``name``.

        The model artifact is loaded once under the trust policy before anything is written,
        so a run holding an unexpected type is refused rather than stored.

        Parameters
        ----------
        run : Run, str or Path
            What ``train`` returned, or its run directory.
        name : str
            The model's name; created on first use.
        alias : str, optional
            Point this alias (e.g. ``'production'``) at the new version in the same
            transaction.
        description : str, optional
            Free text kept with the version.
        """
        check_name(name)
        if alias is not None:
            check_alias(alias)
        intake = read_run(run)
        load_model(intake.artifacts[MODEL], what=f"The model in {intake.source}")
        digests = {n: self.store.put(data) for n, data in intake.artifacts.items()}
        artifacts = {
            n: {"sha256": digests[n], "bytes": len(data)} for n, data in intake.artifacts.items()
        }
        with self._write() as session:
            self._restore_missing(digests, intake.artifacts)
            model = self._model_row(session, name, create=True, description=description)
            number = self._next_number(session, model)
            now = utcnow()
            session.add(
                VersionRow(
                    model_id=model.id, version=number, created=now, family=intake.family,
                    primary_metric=intake.primary_metric, fingerprint=intake.fingerprint,
                    source=intake.source, description=description, summary=intake.summary,
                    artifacts=artifacts,
                )
            )  # fmt: skip
            session.add(_event(model.id, "registered", version=number, payload={}))
            if alias is not None:
                self._move_alias(session, model, alias, number, {"reason": "registered"})
        return self.get(f"{name}@v{number}")

    def _restore_missing(self, digests: Mapping[str, str], data: Mapping[str, bytes]) -> None:
        """Re-put any artifact a concurrent delete collected since we stored it."""
        for artifact, digest in digests.items():
            if not self.store.exists(digest):
                self.store.put(data[artifact])

    def set_alias(
        self, name: str, alias: str, version: int, *, reason: str | None = None
    ) -> ModelVersion:
        """Point ``alias`` at ``version`` of ``name`` (creating the alias if new)."""
        check_alias(alias)
        with self._write() as session:
            model = self._model_row(session, name)
            self._version_row(session, model, version)
            self._move_alias(session, model, alias, version, {"reason": reason})
        return self.get(f"{name}@v{version}")

    def promote(
        self, ref: str, alias: str = DEFAULT_ALIAS, *, reason: str | None = None
    ) -> ModelVersion:
        """Point ``alias`` (default ``production``) at the version ``ref`` names."""
        target = self.get(ref)
        return self.set_alias(target.name, alias, target.version, reason=reason)

    def rollback(self, name: str, alias: str = DEFAULT_ALIAS) -> ModelVersion:
        """Move ``alias`` back to the version it pointed at before its current one.

        Rolling back twice goes two steps back; versions deleted since are skipped.
        """
        check_alias(alias)
        with self._write() as session:
            model = self._model_row(session, name)
            current = self._alias_row(session, model, alias)
            events = self._alias_events(session, model, alias)
            existing = set(self._version_numbers(session, model))
            earlier = [v for v in alias_stack(events)[:-1] if v in existing]
            if not earlier:
                raise RegistryError(
                    f"{name}@{alias} has no earlier version to roll back to (it points at "
                    f"v{current.version} and has pointed at nothing else still registered). "
                    f"To fix: promote a version explicitly with `verdict models promote`."
                )
            payload = {"reason": "rollback", "rollback": True}
            self._move_alias(session, model, alias, earlier[-1], payload, kind="rollback")
        return self.get(f"{name}@v{earlier[-1]}")

    def remove_alias(self, name: str, alias: str) -> None:
        """Delete ``alias`` from ``name``."""
        with self._write() as session:
            model = self._model_row(session, name)
            row = self._alias_row(session, model, alias)
            session.delete(row)
            session.add(
                _event(model.id, "alias_removed", alias=alias, previous=row.version, payload={})
            )

    def delete(self, name: str, version: int) -> None:
        """Delete one version; refused while an alias points at it.

        Artifacts no other version uses are removed from the store.
        """
        with self._write() as session:
            model = self._model_row(session, name)
            row = self._version_row(session, model, version)
            pointing = sorted(
                a.alias
                for a in session.scalars(select(AliasRow).where(AliasRow.model_id == model.id))
                if a.version == version
            )
            if pointing:
                raise RegistryError(
                    f"{name}@v{version} cannot be deleted: alias {', '.join(pointing)} points at "
                    f"it. To fix: move the alias first (`verdict models promote` or "
                    f"`verdict models rollback`), then delete."
                )
            digests = {a["sha256"] for a in row.artifacts.values()}
            session.delete(row)
            session.add(_event(model.id, "deleted", version=version, payload={}))
        self._collect(digests)

    def _collect(self, digests: set[str]) -> None:
        """Remove the artifacts in ``digests`` that no version refers to any more."""
        with self._write() as session:
            used = {
                a["sha256"]
                for artifacts in session.scalars(select(VersionRow.artifacts))
                for a in artifacts.values()
            }
            for digest in digests - used:
                self.store.remove(digest)

    def record_event(
        self,
        name: str,
        kind: str,
        payload: Mapping[str, Any],
        *,
        version: int | None = None,
    ) -> RegistryEvent:
        """Store a decision or observation about a model (e.g. a promotion's evidence)."""
        with self._write() as session:
            model = self._model_row(session, name)
            row = _event(model.id, kind, version=version, payload=dict(payload))
            session.add(row)
            session.flush()
            return _event_record(name, row)

    # -- reading ---------------------------------------------------------------------------

    def _read(self) -> Session:
        """A session whose queries all see one snapshot (an alias never seen half-moved)."""
        if self._engine.dialect.name == "postgresql":
            return Session(self._engine.execution_options(isolation_level="REPEATABLE READ"))
        return Session(self._engine)  # SQLite: every transaction is already serialised

    def models(self) -> list[ModelSummary]:
        """Every registered model, by name."""
        with self._read() as session:
            rows = session.scalars(select(ModelRow).order_by(ModelRow.name)).all()
            return [self._summary(session, row) for row in rows]

    def versions(self, name: str) -> list[ModelVersion]:
        """Every version of ``name``, oldest first."""
        with self._read() as session:
            model = self._model_row(session, name)
            rows = session.scalars(
                select(VersionRow)
                .where(VersionRow.model_id == model.id)
                .order_by(VersionRow.version)
            ).all()
            aliases = self._aliases(session, model)
            return [_version_record(name, row, aliases) for row in rows]

    def get(self, ref: str) -> ModelVersion:
        """The metadata of the version ``ref`` names (``NAME@ALIAS``, ``NAME@vN``, ...)."""
        parsed = _parse(ref)
        with self._read() as session:
            model = self._model_row(session, parsed.name)
            number = self._resolve(session, model, parsed)
            row = self._version_row(session, model, number)
            return _version_record(model.name, row, self._aliases(session, model))

    def events(self, name: str) -> list[RegistryEvent]:
        """What happened to ``name``, oldest first."""
        with self._read() as session:
            model = self._model_row(session, name)
            rows = session.scalars(
                select(EventRow).where(EventRow.model_id == model.id).order_by(EventRow.id)
            ).all()
            return [_event_record(name, row) for row in rows]

    def artifact(self, ref: str | ModelVersion, artifact: str) -> bytes:
        """The verified bytes of one artifact of a version (``model.skops``, ``report.html``...)."""
        version = ref if isinstance(ref, ModelVersion) else self.get(ref)
        entry = version.artifacts.get(artifact)
        if entry is None:
            raise NotFoundError(
                f"{version.ref} has no artifact {artifact!r}; it has {sorted(version.artifacts)}. "
                f"To fix: ask for one of those."
            )
        return self.store.get(entry["sha256"], what=f"{artifact} of {version.ref}")

    def frame(self, ref: str | ModelVersion, artifact: str = "reference.parquet") -> pd.DataFrame:
        """A table artifact: the training reference sample (default) or the held-out rows."""
        return pd.read_parquet(io.BytesIO(self.artifact(ref, artifact)))

    def load(self, ref: str | ModelVersion) -> LoadedModel:
        """The verified, ready-to-score model ``ref`` names.

        The artifact's sha256 is checked against the registry and its types against the trust
        list; either failing raises ``ArtifactIntegrityError`` and nothing is loaded.
        """
        version = ref if isinstance(ref, ModelVersion) else self.get(ref)
        model = load_model(self.artifact(version, MODEL), what=f"The model of {version.ref}")
        summary = version.summary
        return LoadedModel(
            name=version.name,
            version=version.version,
            model=model,
            schema=Schema.from_dict(summary["schema"]),
            policy=DecisionPolicy.from_dict(summary["policy"]),
            info={**summary, "ref": version.ref, "family": version.family},
        )

    # -- rows ------------------------------------------------------------------------------

    def _model_row(
        self, session: Session, name: str, *, create: bool = False, description: str | None = None
    ) -> ModelRow:
        row = session.scalar(select(ModelRow).where(ModelRow.name == name))
        if row is not None:
            return row
        if not create:
            known = session.scalars(select(ModelRow.name).order_by(ModelRow.name)).all()
            raise NotFoundError(
                f"No model named {name!r} in the registry ({self.url}); registered: "
                f"{list(known) or 'none'}. To fix: check the name, or register one with "
                f"`verdict train ... --register {name}`."
            )
        row = ModelRow(name=name, created=utcnow(), description=description)
        session.add(row)
        session.flush()
        return row

    def _version_row(self, session: Session, model: ModelRow, version: int) -> VersionRow:
        row = session.scalar(
            select(VersionRow).where(VersionRow.model_id == model.id, VersionRow.version == version)
        )
        if row is None:
            existing = self._version_numbers(session, model)
            raise NotFoundError(
                f"{model.name} has no version {version}; it has "
                f"{[f'v{v}' for v in existing] or 'none'}. To fix: pick one of those."
            )
        return row

    def _next_number(self, session: Session, model: ModelRow) -> int:
        """One more than any version ever registered: a deleted number is never reused."""
        numbers = [
            session.scalar(select(func.max(column)).where(where))
            for column, where in (
                (VersionRow.version, VersionRow.model_id == model.id),
                (
                    EventRow.version,
                    (EventRow.model_id == model.id) & (EventRow.kind == "registered"),
                ),
            )
        ]
        return max(n or 0 for n in numbers) + 1

    def _version_numbers(self, session: Session, model: ModelRow) -> list[int]:
        return list(
            session.scalars(
                select(VersionRow.version)
                .where(VersionRow.model_id == model.id)
                .order_by(VersionRow.version)
            )
        )

    def _alias_row(self, session: Session, model: ModelRow, alias: str) -> AliasRow:
        row = session.get(AliasRow, (model.id, alias))
        if row is None:
            known = sorted(self._aliases(session, model))
            raise NotFoundError(
                f"{model.name} has no alias {alias!r}; its aliases: {known or 'none'}. To fix: "
                f"use one of those, a version (NAME@vN), or promote a version to {alias!r}."
            )
        return row

    def _aliases(self, session: Session, model: ModelRow) -> dict[str, int]:
        rows = session.scalars(select(AliasRow).where(AliasRow.model_id == model.id))
        return {row.alias: row.version for row in rows}

    def _alias_events(self, session: Session, model: ModelRow, alias: str) -> list[EventRow]:
        return list(
            session.scalars(
                select(EventRow)
                .where(EventRow.model_id == model.id, EventRow.alias == alias)
                .order_by(EventRow.id)
            )
        )

    def _resolve(self, session: Session, model: ModelRow, ref: ModelRef) -> int:
        if ref.version is not None:
            return ref.version
        if ref.alias == LATEST and LATEST not in self._aliases(session, model):
            numbers = self._version_numbers(session, model)
            if not numbers:
                raise NotFoundError(f"{model.name} has no versions. To fix: register one.")
            return numbers[-1]
        return self._alias_row(session, model, str(ref.alias)).version

    def _move_alias(
        self,
        session: Session,
        model: ModelRow,
        alias: str,
        version: int,
        payload: dict[str, Any],
        *,
        kind: str = "alias",
    ) -> None:
        row = session.get(AliasRow, (model.id, alias))
        previous = None if row is None else row.version
        if row is None:
            session.add(AliasRow(model_id=model.id, alias=alias, version=version, updated=utcnow()))
        else:
            row.version, row.updated = version, utcnow()
        session.add(
            _event(model.id, kind, alias=alias, version=version, previous=previous, payload=payload)
        )

    def _summary(self, session: Session, row: ModelRow) -> ModelSummary:
        numbers = self._version_numbers(session, row)
        return ModelSummary(
            name=row.name,
            created=_iso(row.created),
            description=row.description,
            n_versions=len(numbers),
            latest=numbers[-1] if numbers else None,
            aliases=self._aliases(session, row),
        )


def parse_ref(ref: str) -> ModelRef:
    """Parse ``NAME[@ALIAS|@vN|@latest]`` (a bare name means ``@production``)."""
    return _parse(ref)


def _event(model_id: int, kind: str, **fields: Any) -> EventRow:
    return EventRow(model_id=model_id, created=utcnow(), kind=kind, **fields)


def _iso(moment: Any) -> str:
    if moment is None:
        return ""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _version_record(name: str, row: VersionRow, aliases: Mapping[str, int]) -> ModelVersion:
    if not isinstance(row.summary, dict):
        raise InvalidInputError(f"{name}@v{row.version} has a corrupt summary in the registry.")
    return ModelVersion(
        name=name,
        version=row.version,
        created=_iso(row.created),
        family=row.family,
        primary_metric=row.primary_metric,
        fingerprint=row.fingerprint,
        source=row.source,
        description=row.description,
        aliases=tuple(sorted(a for a, v in aliases.items() if v == row.version)),
        summary=row.summary,
        artifacts=row.artifacts,
    )


def _event_record(name: str, row: EventRow) -> RegistryEvent:
    return RegistryEvent(
        name=name,
        created=_iso(row.created),
        kind=row.kind,
        alias=row.alias,
        version=row.version,
        previous=row.previous,
        payload=row.payload,
    )
