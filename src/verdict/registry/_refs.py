"""Model references: ``NAME``, ``NAME@ALIAS``, ``NAME@vN`` (or ``NAME@N``), ``NAME@latest``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from verdict.errors import InvalidInputError

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
VERSION_PATTERN = re.compile(r"^v?([0-9]+)$")
LATEST = "latest"
DEFAULT_ALIAS = "production"


@dataclass(frozen=True)
class ModelRef:
    """A parsed reference: a model name and either a version number or an alias."""

    name: str
    version: int | None = None
    alias: str | None = None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.name}@v{self.version}"
        return f"{self.name}@{self.alias}" if self.alias else self.name


def parse_ref(ref: str, *, default_alias: str | None = DEFAULT_ALIAS) -> ModelRef:
    """Parse ``NAME[@ALIAS|@vN|@latest]``; a bare name means ``default_alias``."""
    if not isinstance(ref, str) or not ref.strip():
        raise InvalidInputError(
            f"A model reference must be a non-empty string such as 'penguins@production'; got "
            f"{ref!r}. To fix: pass NAME@ALIAS, NAME@vN or NAME@latest."
        )
    name, _, target = ref.strip().partition("@")
    check_name(name, "model name")
    if not target:
        return ModelRef(name, alias=default_alias or LATEST)
    match = VERSION_PATTERN.match(target)
    if match:
        version = int(match.group(1))
        if version < 1:
            raise InvalidInputError(
                f"Version numbers start at 1; got {target!r} in {ref!r}. To fix: use "
                f"'{name}@v1' or later (see `verdict models list`)."
            )
        return ModelRef(name, version=version)
    return ModelRef(name, alias=check_alias(target))


def check_name(name: str, what: str = "model name") -> str:
    """Return ``name`` if usable as a model name or alias, else raise saying why."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise InvalidInputError(
            f"{what} {name!r} is not allowed: use 1 to 64 letters, digits, '_', '.' or '-', "
            f"starting with a letter or digit. To fix: choose a name like "
            f"{'production' if what == 'alias' else 'penguins'!r}."
        )
    return name


def check_alias(alias: str) -> str:
    """Return ``alias`` if usable; version-like names are reserved for versions."""
    check_name(alias, "alias")
    if VERSION_PATTERN.match(alias):
        raise InvalidInputError(
            f"alias {alias!r} looks like a version number, which would be ambiguous. To fix: "
            f"choose a name that is not 'vN' or a number, such as 'production' or 'staging'."
        )
    return alias
