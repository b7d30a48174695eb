"""One message for a bad parameter, and the small constraints that say what a parameter may be.

Every public function and estimator that checks a parameter describes what it accepts with the
constraints below and raises through :func:`invalid_parameter`, so that every such error reads
the same way (scikit-learn's template, as in its ``utils/_param_validation.py``, plus verdict's
fix)::

    The 'average' parameter of precision_score must be one of {'micro', 'macro', None}.
    Got 'mcro' instead. To fix: pass one of the values listed.

Messages name Python arguments (``'percent'``, ``percent=10``), never command-line flags: the
CLI and ``python -m verdict.serving`` rewrite them into their own words (:func:`as_options`).
This module imports only the standard library and ``verdict.errors`` (not even numpy: the CLI
starts with it), so ``verdict.metrics`` stays usable alone.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from numbers import Integral, Real
from typing import Any, Literal

from verdict.errors import InvalidParameterError

__all__ = [
    "BOOLEAN",
    "CALLABLE",
    "Constraint",
    "InstanceOf",
    "Interval",
    "Options",
    "Satisfies",
    "StrOptions",
    "as_options",
    "check",
    "describe",
    "invalid_parameter",
]

Closed = Literal["left", "right", "both", "neither"]


class Constraint:
    """What a parameter may be: a test and the words the message uses for it."""

    def is_satisfied_by(self, value: Any) -> bool:
        """Whether ``value`` is allowed."""
        raise NotImplementedError

    def __str__(self) -> str:
        raise NotImplementedError


class Interval(Constraint):
    """A number of ``type`` (``Integral`` or ``Real``) between ``low`` and ``high``.

    Booleans are never numbers here, although Python counts them as ints: ``C=True`` is a
    mistake, not ``C=1``. NaN is never inside. A missing bound is infinite; ``closed`` says
    which ends belong to the interval, infinite ones included (``closed="right"`` with no
    ``high`` allows ``inf``).
    """

    def __init__(
        self,
        type: type[Integral] | type[Real],
        low: float | None,
        high: float | None,
        *,
        closed: Closed = "both",
    ) -> None:
        if type not in (Integral, Real):
            raise TypeError(f"Interval type must be numbers.Integral or numbers.Real, not {type}")
        self.type, self.low, self.high, self.closed = type, low, high, closed

    def is_satisfied_by(self, value: Any) -> bool:
        if _is_bool(value) or not isinstance(value, self.type):
            return False
        number = float(value)
        if math.isnan(number):
            return False
        low = -math.inf if self.low is None else self.low
        high = math.inf if self.high is None else self.high
        above = number >= low if self.closed in ("left", "both") else number > low
        below = number <= high if self.closed in ("right", "both") else number < high
        return above and below

    def __str__(self) -> str:
        kind = "an int" if self.type is Integral else "a float"
        if self.low is None and self.high is None:
            return kind
        as_shown: Callable[[float], str] = str if self.type is Integral else lambda b: str(float(b))
        low = "-inf" if self.low is None else as_shown(self.low)
        high = "inf" if self.high is None else as_shown(self.high)
        left = "[" if self.closed in ("left", "both") else "("
        right = "]" if self.closed in ("right", "both") else ")"
        return f"{kind} in the range {left}{low}, {high}{right}"


class Options(Constraint):
    """One of a few values, compared by type as well as value.

    ``average=True`` is not ``average=1`` and ``np.str_('macro')`` is not ``'macro'``: the type
    check keeps the lookup exact (and safe for arrays, whose ``==`` is elementwise).
    """

    def __init__(self, *values: Any) -> None:
        self.values = values

    def is_satisfied_by(self, value: Any) -> bool:
        return any(value is v or (type(value) is type(v) and value == v) for v in self.values)

    def __str__(self) -> str:
        if len(self.values) == 1:
            return repr(self.values[0])
        return "one of {" + ", ".join(repr(v) for v in self.values) + "}"


class StrOptions(Options):
    """One of a few strings, numpy's strings too (what a grid search over an array yields)."""

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.values


class InstanceOf(Constraint):
    """An instance of ``types``; ``description`` names it in the message ("a scheduler address")."""

    def __init__(self, types: type | tuple[type, ...], description: str | None = None) -> None:
        self.types = types
        if description is None:
            names = types if isinstance(types, tuple) else (types,)
            description = " or ".join(f"an instance of {t.__name__!r}" for t in names)
        self.description = description

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, self.types)

    def __str__(self) -> str:
        return self.description


class Satisfies(Constraint):
    """Any rule that the others cannot say (``n_jobs`` a non-zero int), with its words."""

    def __init__(self, predicate: Callable[[Any], bool], description: str) -> None:
        self.predicate, self.description = predicate, description

    def is_satisfied_by(self, value: Any) -> bool:
        return bool(self.predicate(value))

    def __str__(self) -> str:
        return self.description


def _is_bool(value: Any) -> bool:
    """A bool, numpy's too; numpy is not imported for it (a numpy value implies numpy is
    loaded), so that the CLI, which maps these messages, starts without it."""
    numpy = sys.modules.get("numpy")
    return isinstance(value, bool) or (numpy is not None and isinstance(value, numpy.bool_))


BOOLEAN = Satisfies(_is_bool, "a bool")
CALLABLE = Satisfies(callable, "a callable")
_NONE = Options(None)


def _constraints(allowed: Iterable[Constraint | None]) -> list[Constraint]:
    return [_NONE if c is None else c for c in allowed]


def describe(allowed: Iterable[Constraint | None]) -> str:
    """The words for a list of constraints: "a, b or c" (scikit-learn's order and commas)."""
    words = [str(c) for c in _constraints(allowed)]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def invalid_parameter(
    name: str,
    value: Any,
    func: str,
    allowed: str | Iterable[Constraint | None],
    fix: str | None = None,
) -> InvalidParameterError:
    """The one error for a parameter outside its allowed values.

    ``allowed`` is the constraints (or, where no constraint says it well, their words);
    ``fix`` says how to mend it ("pass e.g. C=1.0"); without one the message points back to
    the allowed values.
    """
    must_be = allowed if isinstance(allowed, str) else describe(allowed)
    if fix is None:
        fix = "pass one of the values listed" if "one of" in must_be else f"pass {must_be}"
    return InvalidParameterError(
        f"The {name!r} parameter of {func} must be {must_be}. Got {value!r} instead. To fix: {fix}."
    )


def check(
    name: str, value: Any, func: str, *allowed: Constraint | None, fix: str | None = None
) -> Any:
    """Return ``value`` when one of the constraints allows it (``None``: None is allowed)."""
    if any(c.is_satisfied_by(value) for c in _constraints(allowed)):
        return value
    raise invalid_parameter(name, value, func, allowed, fix)


def as_options(message: str, parameters: Iterable[str] | Mapping[str, str]) -> str:
    """A core message in the words of a command line that wraps the function: ``'name'``
    reads ``--name``, ``name=True`` ``--name`` and ``name=10`` ``--name 10`` (underscores
    become dashes; a mapping names the option of each parameter where they differ, e.g.
    ``{"models": "model"}``)."""
    flags = parameters if isinstance(parameters, Mapping) else {p: p for p in parameters}
    for name, flag in flags.items():
        option = "--" + flag.replace("_", "-")
        message = message.replace(f"'{name}'", option)
        message = re.sub(rf"\b{re.escape(name)}=True\b", option, message)
        message = re.sub(rf"\b{re.escape(name)}=(?=\S)", f"{option} ", message)
    return message
