"""The runtime that runs a deployment's topology as processes on 127.0.0.1.

``up(spec)`` gives each target of the plan its own artifact folder (synced and verified,
``sync_version``), state database and replicas (``python -m verdict.serving``), a link per target
that ships its prediction log to the central database (``ship``; ``python -m
verdict.deploy.local._link``), a real HAProxy in front with its certificates, and a supervisor
that restarts what dies. ``status``, ``kill``/``revive``, ``cut_link``/``restore_link`` and
``canary`` act on the running deployment (``DeploymentState``); ``down`` stops it all.
"""

from verdict import _lazy

_EXPORTS = {
    "_artifacts": ("SyncReport", "sync_version"),
    "_link": ("ShipResult", "ship"),
    "_ops": ("canary", "cut_link", "kill", "restore_link", "revive", "wait_version"),
    "_procs": ("haproxy_binary",),
    "_state": ("DeploymentState",),
    "_status": ("TargetStatus", "status"),
    "_up": ("deploy_folder", "down", "up"),
}

__all__ = _lazy.exported(_EXPORTS)

__getattr__, __dir__ = _lazy.lazy_exports(__name__, _EXPORTS)
