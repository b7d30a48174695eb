"""The monitoring page: ``write_monitor_report`` (``_sections`` and ``_plots`` draw its parts)."""

from verdict import _lazy

_EXPORTS = {
    "_write": ("write_monitor_report",),
}

__all__ = _lazy.exported(_EXPORTS)

__getattr__, __dir__ = _lazy.lazy_exports(__name__, _EXPORTS)
