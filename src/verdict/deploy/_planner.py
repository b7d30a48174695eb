"""The placement planner: the cheapest replicas per target that hold the peak through any loss.

A small integer program solved with :func:`scipy.optimize.milp`. Variables are the replicas
``x_t`` per target, integers in ``[min_replicas, max_replicas]``, and, when
``routing.min_targets_per_zone`` > 1, a binary ``y_t <= x_t`` marking a target as used. The
objective is the hourly cost ``sum(cost_t * x_t)``; among plans of equal cost a second solve keeps
the one with the fewest replicas. The constraint rows, and why they are exact, are in
:func:`verdict.deploy._constraints.build`.

Residency ``preferred`` is not priced: a preferred zone may be served from anywhere, and the plan
states, per preferred zone, the scenarios in which its in-zone capacity falls short of its peak
(there its load is served from other zones).

Every constraint is monotone in the replicas, so feasibility is decided before solving by checking
every target at ``max_replicas``; an infeasible spec is refused naming each constraint that fails.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from verdict._results import Result
from verdict.deploy import _constraints as cons
from verdict.deploy._spec import DeploySpec
from verdict.errors import ConfigurationError

__all__ = ["HOURS_PER_MONTH", "Plan", "ProviderTotal", "TargetPlan", "plan"]

HOURS_PER_MONTH = 730.0


@dataclass(frozen=True)
class TargetPlan(Result):
    """Replicas and cost for one target, and why it has that many."""

    name: str
    provider: str
    region: str
    zone: str
    instance_type: str
    replicas: int
    capacity_rps_per_replica: float
    capacity_source: str
    hourly_cost: float
    monthly_cost: float
    why: str
    needed_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProviderTotal(Result):
    """Replicas and cost summed over one provider's targets."""

    provider: str
    replicas: int
    hourly_cost: float
    monthly_cost: float


@dataclass(frozen=True)
class Plan(Result):
    """A placement: replicas per target, costs per target and provider, and the reasons.

    ``binding`` names the constraints that would break if one replica were removed from some
    target; ``notes`` states residency preferences and what the plan does not model.
    """

    model: str
    peak_rps: float
    zone_peak_rps: dict[str, float]
    targets: tuple[TargetPlan, ...]
    providers: tuple[ProviderTotal, ...]
    hourly_cost: float
    monthly_cost: float
    binding: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def replicas(self) -> dict[str, int]:
        """Replicas by target name."""
        return {t.name: t.replicas for t in self.targets}


def plan(spec: DeploySpec) -> Plan:
    """Choose replicas per target minimising hourly cost under capacity, failover and residency.

    Parameters
    ----------
    spec : DeploySpec
        A validated deployment spec (see :func:`verdict.deploy.load_spec`).

    Returns
    -------
    Plan
        Replicas, hourly and monthly (730 h) cost per target and provider, and why.

    Raises
    ------
    ConfigurationError
        When no replica counts within the bounds meet every constraint; names each one that
        cannot be met even with every target at ``max_replicas``, ending with "To fix: ...".
    """
    upper = np.array([t.max_replicas for t in spec.targets], dtype=float)
    broken = cons.violations(spec, upper)
    if broken:
        raise ConfigurationError(_infeasible_message(broken))
    replicas = _solve(spec)
    return _report(spec, replicas)


def _solve(spec: DeploySpec) -> np.ndarray:
    """Two MILP solves: least hourly cost, then fewest replicas at that cost."""
    n = len(spec.targets)
    rows, mins = cons.build(spec)
    m = n if mins else 0
    cost = np.array([t.cost_per_replica_hour for t in spec.targets], dtype=float)
    lower = [t.min_replicas for t in spec.targets] + [0] * m
    upper = [t.max_replicas for t in spec.targets] + [1] * m
    a, lb, ub = [], [], []
    for row in rows:
        a.append(np.concatenate([row.weights, np.zeros(m)]))
        lb.append(row.need * (1 - 1e-9) - 1e-9)
        ub.append(np.inf)
    for row in mins:
        a.append(np.concatenate([np.zeros(n), row.members.astype(float)]))
        lb.append(row.count)
        ub.append(np.inf)
    for i in range(m):  # y_i <= x_i: a target counts as used only with a replica
        a.append(np.eye(n + m)[n + i] - np.eye(n + m)[i])
        lb.append(-np.inf)
        ub.append(0.0)
    constraints = [LinearConstraint(np.array(a), lb, ub)] if a else []
    bounds = Bounds(lower, upper)
    integrality = np.ones(n + m)
    first = milp(
        np.concatenate([cost, np.zeros(m)]),
        constraints=constraints,
        integrality=integrality,
        bounds=bounds,
    )
    if not first.success:
        raise ConfigurationError(
            f"the placement solver found no plan ({first.message}). "
            "To fix: report this spec; the constraints passed the feasibility check."
        )
    best = float(cost @ np.round(first.x[:n]))
    cap = LinearConstraint(np.concatenate([cost, np.zeros(m)]), -np.inf, best + 1e-9 * (1 + best))
    second = milp(
        np.concatenate([np.ones(n), np.zeros(m)]),
        constraints=[*constraints, cap],
        integrality=integrality,
        bounds=bounds,
    )
    chosen = second.x if second.success else first.x
    return np.round(chosen[:n]).astype(int)


def _report(spec: DeploySpec, replicas: np.ndarray) -> Plan:
    """Assemble the Plan: per-target rows with reasons, provider totals, binding rows, notes."""
    targets = []
    binding: list[str] = []
    for i, t in enumerate(spec.targets):
        capacity, source = spec.capacity(t)
        why, needed_by = _why(spec, replicas, i)
        binding += [b for b in needed_by if b not in binding]
        hourly = t.cost_per_replica_hour * int(replicas[i])
        targets.append(
            TargetPlan(
                t.name,
                t.provider,
                t.region,
                t.zone,
                t.instance_type,
                int(replicas[i]),
                capacity,
                source,
                hourly,
                hourly * HOURS_PER_MONTH,
                why,
                tuple(needed_by),
            )
        )
    providers = []
    for p in sorted({t.provider for t in targets}):
        own = [t for t in targets if t.provider == p]
        hourly = sum(t.hourly_cost for t in own)
        providers.append(
            ProviderTotal(p, sum(t.replicas for t in own), hourly, hourly * HOURS_PER_MONTH)
        )
    hourly = sum(t.hourly_cost for t in targets)
    return Plan(
        model=spec.model,
        peak_rps=spec.peak_rps,
        zone_peak_rps=spec.zone_peak_rps(),
        targets=tuple(targets),
        providers=tuple(providers),
        hourly_cost=hourly,
        monthly_cost=hourly * HOURS_PER_MONTH,
        binding=tuple(binding),
        notes=tuple(_notes(spec, replicas)),
    )


def _why(spec: DeploySpec, replicas: np.ndarray, i: int) -> tuple[str, list[str]]:
    """Why target i has its replicas, and the constraints one replica fewer would break."""
    t = spec.targets[i]
    if replicas[i] == 0:
        if t.max_replicas == 0:
            return "max_replicas is 0", []
        return "not needed: cheaper targets meet every constraint", []
    if replicas[i] == t.min_replicas:
        return f"held at min_replicas ({t.min_replicas})", []
    fewer = replicas.copy()
    fewer[i] -= 1
    broken = _broken_names(spec, fewer)
    if not broken:
        return "free capacity at no extra cost", []
    return f"one fewer breaks {len(broken)} constraint(s)", broken


def _broken_names(spec: DeploySpec, replicas: np.ndarray) -> list[str]:
    """Names (without figures) of the constraints the replica vector breaks."""
    rows, mins = cons.build(spec)
    return [r.name for r in [*rows, *mins] if not cons.holds(r, replicas)]


def _notes(spec: DeploySpec, replicas: np.ndarray) -> list[str]:
    """Residency preferences met or not per scenario, and what the plan leaves to other steps."""
    notes = []
    cap = cons.capacities(spec) * replicas
    peaks = spec.zone_peak_rps()
    for zone in sorted(set(peaks) - set(spec.strict_zones())):
        short = []
        for lost in [None, *cons.scenarios(spec)]:
            in_zone = sum(
                c
                for c, t in zip(cap, spec.targets, strict=True)
                if t.zone == zone and t.provider != lost
            )
            if in_zone < peaks[zone] * (1 - 1e-9):
                short.append(f"{lost} lost" if lost else "every provider up")
        where = "always in zone" if not short else "partly out of zone with " + ", ".join(short)
        notes.append(f"zone {zone} (preferred): served {where}")
    if not spec.routing.survive_provider_loss:
        notes.append("routing.survive_provider_loss is false: the plan holds no provider loss")
    notes.append(
        f"latency objective p99 <= {spec.latency.p99_ms:g} ms is assumed met at each target's "
        "capacity_rps_per_replica; measure it with the service benchmark"
    )
    return notes


def _infeasible_message(broken: list[str]) -> str:
    """The refusal: every constraint that fails at max_replicas, and how to fix each kind."""
    fixes = []
    if any(b.startswith("capacity") for b in broken):
        fixes.append(
            "raise max_replicas or capacity_rps_per_replica, add targets on other "
            "providers, or lower load.rps / load.peak_factor"
        )
    if any(b.startswith("residency") for b in broken):
        fixes.append(
            "add targets in the strict zone on a second provider (or raise their "
            "max_replicas), or set that zone to preferred in routing.residency"
        )
    if any(b.startswith("min_targets") for b in broken):
        fixes.append("add targets in that zone or lower routing.min_targets_per_zone")
    return (
        "the deploy spec cannot be met even with every target at max_replicas:\n"
        + "\n".join(f"  - {b}" for b in broken)
        + "\nTo fix: "
        + "; ".join(fixes)
        + "."
    )
