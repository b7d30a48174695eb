"""The shared behaviour of the small result records: printable and convertible to dicts.

Like ``verdict.errors``, a foundation module that every layer may import.

Every statistical result (an interval, a test, a threshold) is a frozen dataclass that
inherits ``Result``; ``to_dict`` gives plain Python types and ``str`` one readable line.
"""

from __future__ import annotations

import math
import sys
from dataclasses import fields
from typing import Any


def _numpy() -> Any:
    """numpy if it is loaded, else None: a value can only be a numpy type once numpy is
    imported, so the registry's records convert without paying numpy's import (~0.1 s) in
    commands such as ``verdict models list``."""
    return sys.modules.get("numpy")


class Result:
    """Mixin for frozen result dataclasses: ``to_dict()`` and a one-line ``str``."""

    __slots__ = ()
    _hidden: tuple[str, ...] = ()  # long fields left out of str()

    def to_dict(self) -> dict[str, Any]:
        """Plain Python types (numpy arrays become lists, NaN becomes None), JSON-ready."""
        return {f.name: plain(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]

    def __str__(self) -> str:
        shown = []
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            np = _numpy()
            if f.name in self._hidden or (np is not None and isinstance(value, np.ndarray)):
                continue
            shown.append(f"{f.name}={_short(value)}")
        return f"{type(self).__name__}({', '.join(shown)})"


def _short(value: Any) -> str:
    np = _numpy()
    if isinstance(value, float) or (np is not None and isinstance(value, np.floating)):
        return f"{float(value):.4g}"
    return repr(value)


def plain(value: Any) -> Any:
    """Convert numpy values, dataclasses and containers into JSON-able Python types."""
    np = _numpy()
    if np is not None and isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if np is not None and isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {_key(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    return value


def _key(key: Any) -> str | int:
    np = _numpy()
    if np is not None and isinstance(key, np.generic):
        key = key.item()
    return key if isinstance(key, (str, int)) else str(key)
