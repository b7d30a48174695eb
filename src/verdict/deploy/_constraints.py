"""The placement constraints as plain linear rows, shared by the planner, its checks and its tests.

Every constraint is monotone in the replica counts (more replicas never break one), so the spec
is feasible exactly when every target at ``max_replicas`` meets every constraint; that is how
:func:`violations` names what cannot be met without solving anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from verdict.deploy._spec import DeploySpec


@dataclass(frozen=True)
class Capacity:
    """``sum(weights * replicas) >= need``: capacity in requests/s that must hold the peak."""

    kind: str  # "total" or "residency"
    lost: str | None  # the provider lost in this scenario, or None
    zone: str | None  # the strict zone, for kind "residency"
    weights: np.ndarray
    need: float

    @property
    def name(self) -> str:
        """A readable name: what must hold, and in which failure scenario."""
        scenario = f"with {self.lost} lost" if self.lost else "with every provider up"
        if self.kind == "total":
            return f"capacity: total peak {self.need:.6g} rps {scenario}"
        return f"residency: strict zone {self.zone} peak {self.need:.6g} rps in zone {scenario}"


@dataclass(frozen=True)
class MinTargets:
    """At least ``count`` targets of ``zone`` run one replica or more."""

    zone: str
    members: np.ndarray  # boolean mask over targets
    count: int

    @property
    def name(self) -> str:
        """A readable name."""
        return f"min_targets_per_zone: strict zone {self.zone} on at least {self.count} targets"


def capacities(spec: DeploySpec) -> np.ndarray:
    """Requests/s per replica of each target, in spec order."""
    return np.array([spec.capacity(t)[0] for t in spec.targets], dtype=float)


def scenarios(spec: DeploySpec) -> list[str | None]:
    """The failure scenarios: each provider lost, or only "nothing lost" when not asked."""
    if not spec.routing.survive_provider_loss:
        return [None]
    return sorted({t.provider for t in spec.targets})


def build(spec: DeploySpec) -> tuple[list[Capacity], list[MinTargets]]:
    """Every capacity row (per scenario: total, and per strict zone) and min-targets row.

    Targets each lie in one zone, so strict zones draw on disjoint target sets while preferred
    zones may use any target. By Hall's theorem a split of every zone's peak over the surviving
    targets exists exactly when, per scenario, total surviving capacity covers the total peak and
    each strict zone's surviving in-zone capacity covers its own peak: any set of zones holding a
    preferred zone can reach every target, and a set of strict zones reaches only the union of
    their disjoint in-zone targets. So these rows are both sound and exact (traffic is divisible).
    """
    cap = capacities(spec)
    providers = np.array([t.provider for t in spec.targets])
    zones = np.array([t.zone for t in spec.targets])
    peaks = spec.zone_peak_rps()
    rows: list[Capacity] = []
    for lost in scenarios(spec):
        alive = providers != lost
        rows.append(Capacity("total", lost, None, cap * alive, spec.peak_rps))
        for zone in spec.strict_zones():
            if peaks[zone] > 0:
                rows.append(
                    Capacity("residency", lost, zone, cap * alive * (zones == zone), peaks[zone])
                )
    k = spec.routing.min_targets_per_zone
    mins = [MinTargets(z, zones == z, k) for z in spec.strict_zones() if k > 1]
    return rows, mins


def holds(row: Capacity | MinTargets, replicas: np.ndarray, tol: float = 1e-9) -> bool:
    """Whether the replica vector meets this constraint."""
    if isinstance(row, Capacity):
        return float(row.weights @ replicas) >= row.need * (1 - tol) - tol
    return int(np.count_nonzero(replicas[row.members] > 0)) >= row.count


def violations(spec: DeploySpec, replicas: np.ndarray) -> list[str]:
    """Named constraints the replica vector breaks, with the shortfall."""
    rows, mins = build(spec)
    out = []
    for row in rows:
        if not holds(row, replicas):
            out.append(f"{row.name}: only {float(row.weights @ replicas):.6g} rps")
    for m in mins:
        if not holds(m, replicas):
            have = int(np.count_nonzero(replicas[m.members] > 0))
            out.append(f"{m.name}: only {have} target(s) can run there")
    return out
