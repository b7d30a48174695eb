"""Deployment across clouds: spec, placement, rendered files, and the topology run locally.

``load_spec(path)`` validates a ``deploy.yaml``; ``plan(spec)`` chooses the cheapest replicas per
target that hold the peak through the loss of any one provider with strict-residency zones kept
in zone; ``render(spec, plan, out)`` writes what each cloud needs (Dockerfile, Kubernetes and
Karmada manifests, HAProxy gateways, Prometheus, the artifact sync list); ``up``/``down`` run
the plan on 127.0.0.1 behind a real HAProxy, with each target's artifacts synced and verified
(``sync_version``) and its prediction log shipped to the center exactly once (``ship``).
"""

from __future__ import annotations

from verdict.deploy._artifacts import SyncReport, sync_version
from verdict.deploy._gateway import GatewayServer, haproxy_config, rendered_servers, target_weights
from verdict.deploy._link import ShipResult, ship
from verdict.deploy._local import deploy_folder, down, up
from verdict.deploy._local_ops import canary, cut_link, kill, revive
from verdict.deploy._local_state import DeploymentState
from verdict.deploy._local_status import TargetStatus, status
from verdict.deploy._planner import Plan, ProviderTotal, TargetPlan, plan
from verdict.deploy._render import render
from verdict.deploy._spec import DEFAULT_CAPACITY_RPS, DeploySpec, load_spec, parse_spec

__all__ = [
    "DEFAULT_CAPACITY_RPS",
    "DeploySpec",
    "DeploymentState",
    "GatewayServer",
    "Plan",
    "ProviderTotal",
    "ShipResult",
    "SyncReport",
    "TargetPlan",
    "TargetStatus",
    "canary",
    "cut_link",
    "deploy_folder",
    "down",
    "haproxy_config",
    "kill",
    "load_spec",
    "parse_spec",
    "plan",
    "render",
    "rendered_servers",
    "revive",
    "ship",
    "status",
    "sync_version",
    "target_weights",
    "up",
]
