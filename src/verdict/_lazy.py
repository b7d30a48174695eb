"""Lazy re-exports for package ``__init__``s (PEP 562): a public name is imported on first use.

A package names the private module of each public name and installs the hooks::

    __getattr__, __dir__ = _lazy.lazy_exports(__name__, {"_registry": ("Registry", "parse_ref")})

so ``from verdict.registry import Registry`` imports ``verdict.registry._registry`` and what it
needs, and nothing else: a CLI command or the service pays only for what it runs.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, Iterable[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of ``package``; ``exports``: module -> names."""
    where = {name: module for module, names in exports.items() for name in names}

    def attribute(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)  # later lookups skip this hook
        return value

    def names() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(where))

    return attribute, names
