"""Deployment across clouds: the spec (``deploy.yaml``) and the placement planner.

``load_spec(path)`` validates a spec into a :class:`DeploySpec`; ``plan(spec)`` chooses the
cheapest replicas per target that hold the peak load through the loss of any one provider while
keeping strict-residency zones in zone, and returns a :class:`Plan`.
"""

from __future__ import annotations

from verdict.deploy._planner import Plan, ProviderTotal, TargetPlan, plan
from verdict.deploy._spec import DEFAULT_CAPACITY_RPS, DeploySpec, load_spec, parse_spec

__all__ = [
    "DEFAULT_CAPACITY_RPS",
    "DeploySpec",
    "Plan",
    "ProviderTotal",
    "TargetPlan",
    "load_spec",
    "parse_spec",
    "plan",
]
