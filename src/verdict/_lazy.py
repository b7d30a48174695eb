"""Lazy re-exports for package ``__init__``s (PEP 562): a public name is imported on first use.

A package names the private module of each public name, once, and installs the hooks::

    _EXPORTS = {"_registry": ("Registry", "parse_ref")}
    __all__ = _lazy.exported(_EXPORTS)
    __getattr__, __dir__ = _lazy.lazy_exports(__name__, _EXPORTS)

A key is a module relative to the package (``"_registry"``, a folder ``"onnx"``) or an
absolute ``"verdict.x"`` path for names kept importable from here after they moved.

so ``from verdict.registry import Registry`` imports ``verdict.registry._registry`` and what it
needs, and nothing else: a CLI command or the service pays only for what it runs.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, Iterable[str]], moved: Mapping[str, str] | None = None
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of ``package``; ``exports``: module -> names.

    ``moved`` (name -> the package it moved to, or ``"package:new_name"`` when it was renamed
    too) keeps an old name importable from here for a release, with a DeprecationWarning that
    says where it lives now; it is not in ``dir()``.
    """
    where = {name: module for module, names in exports.items() for name in names}
    warned: set[str] = set()  # `from p import x` looks x up twice: one warning is enough

    def attribute(name: str) -> Any:
        module = where.get(name)
        if module is None and moved and name in moved:
            home, _, new_name = moved[name].partition(":")
            if name not in warned:
                warned.add(name)
                warnings.warn(
                    f"{package}.{name} is now {home}.{new_name or name}; import it from there "
                    "(the old name goes in the next release).",
                    DeprecationWarning,
                    stacklevel=2,
                )
            return getattr(importlib.import_module(home), new_name or name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        target = module if module.startswith("verdict.") else f"{package}.{module}"
        value = getattr(importlib.import_module(target), name)
        setattr(sys.modules[package], name, value)  # later lookups skip this hook
        return value

    def names() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(where))

    return attribute, names


def exported(exports: Mapping[str, Iterable[str]]) -> list[str]:
    """A package's ``__all__``: every name its exports map lists."""
    return sorted({name for names in exports.values() for name in names})


def names_of(package: str) -> tuple[str, ...]:
    """The ``__all__`` of a sub-package (cheap: its ``__init__`` imports nothing but this), so
    that a parent re-exports a folder's names without listing them a second time."""
    return tuple(importlib.import_module(package).__all__)
