"""The files each cloud needs, rendered from a spec and its plan (``render(spec, plan, out)``).

Shapes live in small dict builders, one module per kind of target: ``_k8s`` (Kubernetes
objects), ``_karmada`` (multi-cluster propagation), ``_files`` (Dockerfile, Prometheus, the
artifact sync list, the README); ``_write`` decides which files exist and writes them. The
HAProxy gateway configuration comes from ``verdict.deploy``'s gateway builder, which the local
runtime uses too.
"""

from verdict import _lazy

_EXPORTS = {
    "_write": ("render",),
}

__all__ = _lazy.exported(_EXPORTS)

__getattr__, __dir__ = _lazy.lazy_exports(__name__, _EXPORTS)
