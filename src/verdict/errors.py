"""The exceptions and warnings verdict raises.

Errors that scikit-learn raises as ``ValueError`` stay ``ValueError`` subclasses here, so code
written against scikit-learn keeps catching them::

    Exception
    └── VerdictError                     base of everything verdict raises on purpose
        ├── InvalidInputError(ValueError) an argument is malformed: lengths, NaN, label sets ...
        │   └── InvalidParameterError     a parameter outside its allowed values
        ├── ConfigurationError            settings or environment cannot be used as given
        ├── CapacityError                 a bounded store is full (e.g. orphan feedback per model)
        ├── RegistryError                 a registry operation cannot be done as asked
        │   ├── NotFoundError(KeyError)   no such model, version or alias
        │   └── ArtifactIntegrityError    a stored artifact fails its hash or type check
        └── ExportError                   a model cannot be exported to the asked format

    UserWarning
    └── VerdictWarning
        └── UndefinedMetricWarning        a metric is ill-defined (0/0) and zero_division applies

Every message names the argument, says what was wrong, and ends with how to fix it.
"""

from __future__ import annotations

__all__ = [
    "ArtifactIntegrityError",
    "CapacityError",
    "ConfigurationError",
    "ExportError",
    "InvalidInputError",
    "InvalidParameterError",
    "NotFoundError",
    "RegistryError",
    "UndefinedMetricWarning",
    "VerdictError",
    "VerdictWarning",
]


class VerdictError(Exception):
    """Base class of the errors verdict raises on purpose."""


class InvalidInputError(VerdictError, ValueError):
    """An argument's value cannot be used: wrong length, NaN, unknown labels, bad shape."""


class InvalidParameterError(InvalidInputError):
    """A parameter is outside its allowed values (scikit-learn raises ValueError here too)."""


class ConfigurationError(VerdictError):
    """Settings or the environment cannot be used as given."""


class CapacityError(VerdictError):
    """A bounded store is full: what was sent is refused rather than growing it without end."""


class RegistryError(VerdictError):
    """A registry operation cannot be done as asked (e.g. deleting a version an alias uses)."""


class NotFoundError(RegistryError, KeyError):
    """No model, version or alias by that name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ArtifactIntegrityError(RegistryError):
    """A stored artifact's bytes do not match its sha256, or it holds types not trusted."""


class ExportError(VerdictError):
    """A model cannot be exported to the asked format (an unsupported family, say)."""


class VerdictWarning(UserWarning):
    """Base class of the warnings verdict emits."""


class UndefinedMetricWarning(VerdictWarning):
    """A metric is ill-defined (a 0/0 ratio) and was set by ``zero_division``."""
