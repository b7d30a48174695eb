"""Row-level queries of the registry, each inside the caller's session (and transaction)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from verdict.errors import InvalidInputError, NotFoundError
from verdict.registry._records import ModelSummary, ModelVersion, RegistryEvent
from verdict.registry._refs import LATEST, ModelRef
from verdict.registry._tables import AliasRow, EventRow, ModelRow, VersionRow, utcnow


def model_row(
    session: Session,
    name: str,
    *,
    create: bool = False,
    description: str | None = None,
    where: str = "the registry",
) -> ModelRow:
    row = session.scalar(select(ModelRow).where(ModelRow.name == name))
    if row is not None:
        return row
    if not create:
        known = session.scalars(select(ModelRow.name).order_by(ModelRow.name)).all()
        raise NotFoundError(
            f"No model named {name!r} in {where}; registered: "
            f"{list(known) or 'none'}. To fix: check the name, or register one with "
            f"`verdict train ... --register {name}`."
        )
    row = ModelRow(name=name, created=utcnow(), description=description)
    session.add(row)
    session.flush()
    return row


def version_row(session: Session, model: ModelRow, version: int) -> VersionRow:
    row = session.scalar(
        select(VersionRow).where(VersionRow.model_id == model.id, VersionRow.version == version)
    )
    if row is None:
        existing = version_numbers(session, model)
        raise NotFoundError(
            f"{model.name} has no version {version}; it has "
            f"{[f'v{v}' for v in existing] or 'none'}. To fix: pick one of those."
        )
    return row


def next_number(session: Session, model: ModelRow) -> int:
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


def version_numbers(session: Session, model: ModelRow) -> list[int]:
    return list(
        session.scalars(
            select(VersionRow.version)
            .where(VersionRow.model_id == model.id)
            .order_by(VersionRow.version)
        )
    )


def alias_row(session: Session, model: ModelRow, alias: str) -> AliasRow:
    row = session.get(AliasRow, (model.id, alias))
    if row is None:
        known = sorted(aliases(session, model))
        raise NotFoundError(
            f"{model.name} has no alias {alias!r}; its aliases: {known or 'none'}. To fix: "
            f"use one of those, a version (NAME@vN), or promote a version to {alias!r}."
        )
    return row


def aliases(session: Session, model: ModelRow) -> dict[str, int]:
    rows = session.scalars(select(AliasRow).where(AliasRow.model_id == model.id))
    return {row.alias: row.version for row in rows}


def alias_events(session: Session, model: ModelRow, alias: str) -> list[EventRow]:
    return list(
        session.scalars(
            select(EventRow)
            .where(EventRow.model_id == model.id, EventRow.alias == alias)
            .order_by(EventRow.id)
        )
    )


def resolve(session: Session, model: ModelRow, ref: ModelRef) -> int:
    if ref.version is not None:
        return ref.version
    if ref.alias == LATEST and LATEST not in aliases(session, model):
        numbers = version_numbers(session, model)
        if not numbers:
            raise NotFoundError(f"{model.name} has no versions. To fix: register one.")
        return numbers[-1]
    return alias_row(session, model, str(ref.alias)).version


def move_alias(
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
        new_event(model.id, kind, alias=alias, version=version, previous=previous, payload=payload)
    )


def model_summary(session: Session, row: ModelRow) -> ModelSummary:
    numbers = version_numbers(session, row)
    return ModelSummary(
        name=row.name,
        created=iso(row.created),
        description=row.description,
        n_versions=len(numbers),
        latest=numbers[-1] if numbers else None,
        aliases=aliases(session, row),
    )


def new_event(model_id: int, kind: str, **fields: Any) -> EventRow:
    return EventRow(model_id=model_id, created=utcnow(), kind=kind, **fields)


def iso(moment: Any) -> str:
    if moment is None:
        return ""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def version_record(name: str, row: VersionRow, aliases: Mapping[str, int]) -> ModelVersion:
    if not isinstance(row.summary, dict):
        raise InvalidInputError(f"{name}@v{row.version} has a corrupt summary in the registry.")
    return ModelVersion(
        name=name,
        version=row.version,
        created=iso(row.created),
        family=row.family,
        primary_metric=row.primary_metric,
        fingerprint=row.fingerprint,
        source=row.source,
        description=row.description,
        aliases=tuple(sorted(a for a, v in aliases.items() if v == row.version)),
        summary=row.summary,
        artifacts=row.artifacts,
    )


def event_record(name: str, row: EventRow) -> RegistryEvent:
    return RegistryEvent(
        name=name,
        created=iso(row.created),
        kind=row.kind,
        alias=row.alias,
        version=row.version,
        previous=row.previous,
        payload=row.payload,
    )
