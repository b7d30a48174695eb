"""The exceptions and warnings verdict raises.

Errors that scikit-learn raises as ``ValueError`` stay ``ValueError`` subclasses here, so code
written against scikit-learn keeps catching them::

    Exception
    └── VerdictError                     base of everything verdict raises on purpose
        ├── InvalidInputError(ValueError) an argument is malformed: lengths, NaN, label sets ...
        │   └── InvalidParameterError     a parameter outside its allowed values
        ├── InvalidInputTypeError(TypeError) an argument of a type no metric reads (bytes labels)
        ├── ConfigurationError            settings or environment cannot be used as given
        ├── CapacityError                 a bounded store is full (e.g. orphan feedback per model)
        ├── RegistryError                 a registry operation cannot be done as asked
        │   ├── NotFoundError(KeyError)   no such model, version or alias
        │   ├── ArtifactIntegrityError    a stored artifact fails its hash or type check
        │   └── NoSignalError             a run whose model beats no guess, registered unforced
        ├── ExportError                   a model cannot be exported to the asked format
        └── ServiceError                  the prediction service refused a request or never answered

    UserWarning
    └── VerdictWarning
        └── UndefinedMetricWarning        a metric is ill-defined (0/0) and zero_division applies
                                          (also a sklearn.exceptions.UndefinedMetricWarning)

Every message names the argument, says what was wrong, and ends with how to fix it. Where
scikit-learn raises for the same input, the message starts with scikit-learn's own text, so
``pytest.raises(match=...)`` written against scikit-learn keeps matching.

``UndefinedMetricWarning`` is built on first access (a module ``__getattr__``): it subclasses
scikit-learn's class so that code filtering or expecting scikit-learn's warning sees ours, and
importing scikit-learn costs about a second, which ``import verdict.errors`` must not pay.
Code that warns looks it up when it warns (``errors.UndefinedMetricWarning``).
"""

from __future__ import annotations

import threading
import typing

__all__ = [
    "ArtifactIntegrityError",
    "CapacityError",
    "ConfigurationError",
    "ExportError",
    "InvalidInputError",
    "InvalidInputTypeError",
    "InvalidParameterError",
    "NoSignalError",
    "NotFoundError",
    "RegistryError",
    "ServiceError",
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


class InvalidInputTypeError(VerdictError, TypeError):
    """An argument has a type no metric reads (bytes labels): scikit-learn's TypeError cases."""


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


class NoSignalError(RegistryError):
    """The run's model beats no guess from the class frequencies (run.json ``signal``), and
    registering it was not forced."""


class ExportError(VerdictError):
    """A model cannot be exported to the asked format (an unsupported family, say)."""


class ServiceError(VerdictError):
    """The prediction service answered a request with an error, or could not be reached.

    Raised by :class:`verdict.client.Client`. The message is the service's own (it ends with
    "To fix: ..."), prefixed with the request and the status.

    Attributes
    ----------
    status : int or None
        The HTTP status; None when no HTTP answer came (refused, timed out, TLS failed).
    kind : str
        The service's machine-readable kind (``unauthorized``, ``model_not_found``,
        ``invalid_rows`` ...), or ``unreachable``, ``timeout``, ``tls``, ``bad_answer``.
    message : str
        The service's message (or the client's, without an answer).
    details : list of dict
        Field-level problems (``loc``, ``kind``, ``message``), the first 20 (422).
    request_id : str or None
        The service's id for the request (``X-Request-ID``), to quote to its operator.
    target : str or None
        The deployment target that answered (``X-Verdict-Target``), if any.
    """

    def __init__(
        self,
        text: str,
        *,
        status: int | None = None,
        kind: str = "error",
        message: str = "",
        details: list[dict] | None = None,
        request_id: str | None = None,
        target: str | None = None,
    ) -> None:
        super().__init__(text)
        self.status = status
        self.kind = kind
        self.message = message or text
        self.details = list(details or [])
        self.request_id = request_id
        self.target = target


class VerdictWarning(UserWarning):
    """Base class of the warnings verdict emits."""


if typing.TYPE_CHECKING:

    class UndefinedMetricWarning(VerdictWarning):
        """A metric is ill-defined (a 0/0 ratio) and was set by ``zero_division``."""


_LAZY = ("UndefinedMetricWarning",)
_lock = threading.Lock()


def _undefined_metric_warning() -> type[VerdictWarning]:
    """verdict's UndefinedMetricWarning, a subclass of scikit-learn's when it is installed."""
    try:
        from sklearn.exceptions import UndefinedMetricWarning as SklearnUndefined
    except ImportError:  # pragma: no cover - scikit-learn is a dependency
        bases: tuple[type, ...] = (VerdictWarning,)
    else:
        bases = (VerdictWarning, SklearnUndefined)
    doc = "A metric is ill-defined (a 0/0 ratio) and was set by ``zero_division``."
    return type("UndefinedMetricWarning", bases, {"__doc__": doc, "__module__": __name__})


def __getattr__(name: str) -> type:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with _lock:  # one class for every thread, or filters on it would miss
        if name not in globals():
            globals()[name] = _undefined_metric_warning()
    return globals()[name]


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
