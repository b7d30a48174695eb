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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from verdict.errors import ArtifactIntegrityError, NoSignalError, NotFoundError, RegistryError
from verdict.registry._database import open_engine
from verdict.registry._history import alias_stack
from verdict.registry._intake import MODEL, read_run
from verdict.registry._loaded import LoadedModel
from verdict.registry._queries import (
    alias_events,
    alias_row,
    aliases,
    event_record,
    model_row,
    model_summary,
    move_alias,
    new_event,
    next_number,
    resolve,
    version_numbers,
    version_record,
    version_row,
)
from verdict.registry._records import ModelSummary, ModelVersion, RegistryEvent
from verdict.registry._refs import DEFAULT_ALIAS, ModelRef, check_alias, check_name
from verdict.registry._refs import parse_ref as _parse
from verdict.registry._settings import RegistrySettings
from verdict.registry._store import ArtifactStore
from verdict.registry._tables import AliasRow, EventRow, ModelRow, VersionRow, utcnow
from verdict.registry._trust import load_model

if TYPE_CHECKING:
    import pandas as pd

    from verdict.pipeline import Run

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
        self.where = f"the registry ({self._engine.url.render_as_string(hide_password=True)})"

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
        force: bool = False,
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
        force : bool, default=False
            Register even a run whose model beats no guess from the class frequencies on the
            held-out rows (run.json ``signal``); without it such a run raises
            ``NoSignalError`` and nothing is stored.
        """
        check_name(name)
        if alias is not None:
            check_alias(alias)
        intake = read_run(run)
        if not intake.signal.get("found", True) and not force:
            raise NoSignalError(
                f"The run in {intake.source!r} was not registered: "
                f"{intake.signal.get('message', 'it found no signal')}. To fix: train on "
                "features that carry information about the target, or pass force=True "
                "(`verdict train ... --register NAME --force`) to register it anyway."
            )
        load_model(intake.artifacts[MODEL], what=f"The model in {intake.source}")
        digests = {n: self.store.put(data) for n, data in intake.artifacts.items()}
        artifacts = {
            n: {"sha256": digests[n], "bytes": len(data)} for n, data in intake.artifacts.items()
        }
        with self._write() as session:
            self._restore_missing(digests, intake.artifacts)
            model = model_row(session, name, create=True, description=description)
            number = next_number(session, model)
            now = utcnow()
            session.add(
                VersionRow(
                    model_id=model.id, version=number, created=now, family=intake.family,
                    primary_metric=intake.primary_metric, fingerprint=intake.fingerprint,
                    source=intake.source, description=description, summary=intake.summary,
                    artifacts=artifacts,
                )
            )  # fmt: skip
            session.add(new_event(model.id, "registered", version=number, payload={}))
            if alias is not None:
                move_alias(session, model, alias, number, {"reason": "registered"})
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
            model = model_row(session, name, where=self.where)
            version_row(session, model, version)
            move_alias(session, model, alias, version, {"reason": reason})
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
            model = model_row(session, name, where=self.where)
            current = alias_row(session, model, alias)
            events = alias_events(session, model, alias)
            existing = set(version_numbers(session, model))
            earlier = [v for v in alias_stack(events)[:-1] if v in existing]
            if not earlier:
                raise RegistryError(
                    f"{name}@{alias} has no earlier version to roll back to (it points at "
                    f"v{current.version} and has pointed at nothing else still registered). "
                    f"To fix: promote a version explicitly with `verdict models promote`."
                )
            payload = {"reason": "rollback", "rollback": True}
            move_alias(session, model, alias, earlier[-1], payload, kind="rollback")
        return self.get(f"{name}@v{earlier[-1]}")

    def remove_alias(self, name: str, alias: str) -> None:
        """Delete ``alias`` from ``name``."""
        with self._write() as session:
            model = model_row(session, name, where=self.where)
            row = alias_row(session, model, alias)
            session.delete(row)
            session.add(
                new_event(model.id, "alias_removed", alias=alias, previous=row.version, payload={})
            )

    def delete(self, name: str, version: int) -> None:
        """Delete one version; refused while an alias points at it.

        Artifacts no other version uses are removed from the store.
        """
        with self._write() as session:
            model = model_row(session, name, where=self.where)
            row = version_row(session, model, version)
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
            session.add(new_event(model.id, "deleted", version=version, payload={}))
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
            model = model_row(session, name, where=self.where)
            row = new_event(model.id, kind, version=version, payload=dict(payload))
            session.add(row)
            session.flush()
            return event_record(name, row)

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
            return [model_summary(session, row) for row in rows]

    def versions(self, name: str) -> list[ModelVersion]:
        """Every version of ``name``, oldest first."""
        with self._read() as session:
            model = model_row(session, name, where=self.where)
            rows = session.scalars(
                select(VersionRow)
                .where(VersionRow.model_id == model.id)
                .order_by(VersionRow.version)
            ).all()
            pointing = aliases(session, model)
            return [version_record(name, row, pointing) for row in rows]

    def get(self, ref: str) -> ModelVersion:
        """The metadata of the version ``ref`` names (``NAME@ALIAS``, ``NAME@vN``, ...)."""
        parsed = _parse(ref)
        with self._read() as session:
            model = model_row(session, parsed.name, where=self.where)
            number = resolve(session, model, parsed)
            row = version_row(session, model, number)
            return version_record(model.name, row, aliases(session, model))

    def events(self, name: str) -> list[RegistryEvent]:
        """What happened to ``name``, oldest first."""
        with self._read() as session:
            model = model_row(session, name, where=self.where)
            rows = session.scalars(
                select(EventRow).where(EventRow.model_id == model.id).order_by(EventRow.id)
            ).all()
            return [event_record(name, row) for row in rows]

    def latest_event(self, name: str, kind: str) -> RegistryEvent | None:
        """The newest event of ``kind`` for ``name`` (e.g. the last ``monitor`` pass), or None."""
        with self._read() as session:
            model = model_row(session, name, where=self.where)
            row = session.scalars(
                select(EventRow)
                .where(EventRow.model_id == model.id, EventRow.kind == kind)
                .order_by(EventRow.id.desc())
                .limit(1)
            ).first()
            return None if row is None else event_record(name, row)

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

    def verify(self, ref: str | ModelVersion) -> dict[str, str]:
        """Check every stored artifact of a version against its registered sha256.

        Cheap: each file is read once and hashed; nothing is deserialised or loaded.

        Returns
        -------
        dict
            Artifact name -> ``'ok'``, ``'altered'`` (the stored bytes' sha256 differs from
            the registered one) or ``'missing'``.
        """
        version = ref if isinstance(ref, ModelVersion) else self.get(ref)
        return {n: self.store.check(e["sha256"]) for n, e in sorted(version.artifacts.items())}

    def require_intact(self, ref: str | ModelVersion) -> ModelVersion:
        """The version ``ref`` names, after :meth:`verify` found every artifact intact.

        Raises
        ------
        ArtifactIntegrityError
            Naming the version and each altered or missing file.
        """
        version = ref if isinstance(ref, ModelVersion) else self.get(ref)
        bad = {name: state for name, state in self.verify(version).items() if state != "ok"}
        if bad:
            files = "; ".join(
                f"{name} is {state} ({self.store.location(version.artifacts[name]['sha256'])})"
                for name, state in bad.items()
            )
            raise ArtifactIntegrityError(
                f"{version.ref} cannot be trusted: {files}; an altered file's sha256 differs "
                f"from the one registered. To fix: restore the artifact store from a backup, "
                f"or register the model again from its run directory ({version.source}) and "
                f"point the alias at the new version."
            )
        return version

    def frame(self, ref: str | ModelVersion, artifact: str = "reference.parquet") -> pd.DataFrame:
        """A table artifact: the training reference sample (default) or the held-out rows."""
        import pandas as pd  # only reading a table needs it

        return pd.read_parquet(io.BytesIO(self.artifact(ref, artifact)))

    def load(self, ref: str | ModelVersion) -> LoadedModel:
        """The verified, ready-to-score model ``ref`` names.

        The artifact's sha256 is checked against the registry and its types against the trust
        list; either failing raises ``ArtifactIntegrityError`` and nothing is loaded.
        """
        from verdict.data import Schema  # here, not at import: listing models stays light
        from verdict.pipeline import DecisionPolicy

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


def parse_ref(ref: str) -> ModelRef:
    """Parse ``NAME[@ALIAS|@vN|@latest]`` (a bare name means ``@production``)."""
    return _parse(ref)
