"""The schema of a training table: each column's kind, its allowed values, the target's classes.

A :class:`Schema` is what ``infer_schema`` found and what the pipeline builds its preprocessing
from; the registry stores it as JSON beside the model (``to_dict``/``from_dict``) so that the
service can check incoming records against the columns and categories the model was trained on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from verdict.errors import InvalidInputError

SCHEMA_VERSION = 1


class ColumnKind(StrEnum):
    """What a column is, and therefore how the pipeline treats it.

    The first four are features; the others are dropped before training, with the reason
    recorded in :attr:`ColumnSchema.reason`.
    """

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    ID = "id"
    CONSTANT = "constant"
    EMPTY = "empty"
    DROPPED = "dropped"


FEATURE_KINDS = frozenset(
    {ColumnKind.NUMERIC, ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN, ColumnKind.DATETIME}
)


@dataclass(frozen=True, slots=True)
class ColumnSchema:
    """One column: its kind, the pandas dtype it came with, and why it got that kind.

    ``categories`` lists the observed values (sorted) of categorical and boolean columns; the
    service uses them to recognise unseen levels. ``datetime_format`` is the strftime format
    that parsed a column of date strings (None when the column already had a datetime dtype),
    so that prediction-time strings are parsed the same way.
    """

    name: str
    kind: ColumnKind
    dtype: str
    reason: str
    categories: tuple[Any, ...] | None = None
    datetime_format: str | None = None

    @property
    def is_feature(self) -> bool:
        """True when the column is used for training (numeric, categorical, boolean, datetime)."""
        return self.kind in FEATURE_KINDS


@dataclass(frozen=True, slots=True)
class Schema:
    """Every non-target column of a table with its kind, plus the target and its classes.

    ``sensitive`` names the columns the user marked as sensitive attributes (such as sex or
    age); they are recorded so that the report and monitoring can break metrics down by group.
    Whether they are also used as features is the user's choice: mark them ``"drop"`` in
    ``infer_schema(kinds=...)`` to keep them out of the model.
    """

    target: str
    classes: tuple[Any, ...]
    columns: tuple[ColumnSchema, ...]
    sensitive: tuple[str, ...] = ()

    def _names(self, *kinds: ColumnKind) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.kind in kinds)

    @property
    def features(self) -> tuple[str, ...]:
        """The columns used for training, in table order."""
        return tuple(c.name for c in self.columns if c.is_feature)

    @property
    def numeric(self) -> tuple[str, ...]:
        """The numeric feature columns."""
        return self._names(ColumnKind.NUMERIC)

    @property
    def categorical(self) -> tuple[str, ...]:
        """The categorical feature columns."""
        return self._names(ColumnKind.CATEGORICAL)

    @property
    def boolean(self) -> tuple[str, ...]:
        """The boolean feature columns."""
        return self._names(ColumnKind.BOOLEAN)

    @property
    def datetime(self) -> tuple[str, ...]:
        """The datetime feature columns."""
        return self._names(ColumnKind.DATETIME)

    @property
    def dropped(self) -> tuple[ColumnSchema, ...]:
        """The columns left out of training, each with the reason."""
        return tuple(c for c in self.columns if not c.is_feature)

    @property
    def datetime_formats(self) -> dict[str, str]:
        """Column -> strftime format for datetime columns parsed from strings."""
        return {
            c.name: c.datetime_format
            for c in self.columns
            if c.kind is ColumnKind.DATETIME and c.datetime_format is not None
        }

    def column(self, name: str) -> ColumnSchema:
        """The entry of one column; ``InvalidInputError`` if the schema has no such column."""
        for col in self.columns:
            if col.name == name:
                return col
        names = [c.name for c in self.columns]
        raise InvalidInputError(f"The schema has no column {name!r}. To fix: use one of {names}.")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; ``Schema.from_dict`` restores an equal schema."""
        return {
            "version": SCHEMA_VERSION,
            "target": self.target,
            "classes": list(self.classes),
            "sensitive": list(self.sensitive),
            "columns": [_column_to_dict(c) for c in self.columns],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schema:
        """Rebuild a schema from ``to_dict()`` output (for example read back from JSON)."""
        try:
            version = data.get("version", SCHEMA_VERSION)
            if version != SCHEMA_VERSION:
                raise ValueError(f"version {version!r} is not {SCHEMA_VERSION}")
            return cls(
                target=str(data["target"]),
                classes=tuple(data["classes"]),
                columns=tuple(_column_from_dict(c) for c in data["columns"]),
                sensitive=tuple(data.get("sensitive", ())),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInputError(
                f"The schema dict cannot be read: {type(exc).__name__}: {exc}. To fix: pass the "
                f"output of Schema.to_dict() unchanged (keys 'target', 'classes', 'columns')."
            ) from exc


def _column_to_dict(col: ColumnSchema) -> dict[str, Any]:
    return {
        "name": col.name,
        "kind": col.kind.value,
        "dtype": col.dtype,
        "reason": col.reason,
        "categories": None if col.categories is None else list(col.categories),
        "datetime_format": col.datetime_format,
    }


def _column_from_dict(data: Mapping[str, Any]) -> ColumnSchema:
    categories = data.get("categories")
    return ColumnSchema(
        name=str(data["name"]),
        kind=ColumnKind(data["kind"]),
        dtype=str(data["dtype"]),
        reason=str(data.get("reason", "")),
        categories=None if categories is None else tuple(categories),
        datetime_format=data.get("datetime_format"),
    )
