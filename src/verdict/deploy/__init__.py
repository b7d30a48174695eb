"""Deployment across clouds: spec, placement, rendered files, and the topology run locally.

``load_spec(path)`` validates a ``deploy.yaml``; ``plan(spec)`` chooses the cheapest replicas per
target that hold the peak through the loss of any one provider with strict-residency zones kept
in zone; ``render(spec, plan, out)`` (``deploy/renderers/``) writes what each cloud needs
(Dockerfile, Kubernetes and Karmada manifests, HAProxy gateways, Prometheus, the artifact sync
list); the gateways are ``haproxy_config`` over one ``ServerLine`` per endpoint. ``up``/``down``
(``deploy/local/``, the runtime) run the plan on 127.0.0.1 behind a real HAProxy, with each
target's artifacts synced and verified (``sync_version``) and its prediction log shipped to the
center exactly once (``ship``).
"""

from verdict import _lazy

_EXPORTS = {
    "_gateway": ("ServerLine", "haproxy_config", "rendered_servers", "target_weights"),
    "_planner": ("Plan", "ProviderTotal", "TargetPlan", "plan"),
    "_spec": ("DEFAULT_CAPACITY_RPS", "DeploySpec", "load_spec", "parse_spec"),
    "local": _lazy.names_of(f"{__name__}.local"),
    "renderers": _lazy.names_of(f"{__name__}.renderers"),
}

__all__ = _lazy.exported(_EXPORTS)

# GatewayServer was renamed for what it is (issue #16): importable here for a release.
__getattr__, __dir__ = _lazy.lazy_exports(
    __name__, _EXPORTS, {"GatewayServer": "verdict.deploy:ServerLine"}
)
