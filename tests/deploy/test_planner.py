"""The placement planner: least cost by brute force, survival of any provider loss, refusals."""

from __future__ import annotations

import itertools
import random
from typing import Any

import numpy as np
import pytest
from deploy_support import target
from scipy.optimize import linprog

from verdict.deploy import DeploySpec, Plan, parse_spec, plan
from verdict.errors import ConfigurationError


def _random_spec(rng: random.Random) -> DeploySpec:
    n = rng.randint(1, 4)
    targets = []
    for i in range(n):
        t = target(
            f"t{i}",
            rng.choice(["aws", "gcp", "azure"]),
            rng.choice(["eu", "us"]),
            round(rng.uniform(0, 3), 2),
            max_replicas=rng.randint(0, 4),
            capacity_rps_per_replica=rng.choice([50, 100, 150]),
        )
        t["min_replicas"] = rng.randint(0, min(1, t["max_replicas"]))
        targets.append(t)
    eu = rng.choice([0.0, 0.3, 0.5, 1.0])
    return parse_spec(
        {
            "model": "m@prod",
            "load": {
                "rps": rng.choice([50, 100, 200]),
                "peak_factor": rng.choice([1, 1.5, 2]),
                "zones": {"eu": eu, "us": 1 - eu},
            },
            "latency": {"p99_ms": 100},
            "routing": {
                "residency": {"eu": rng.choice(["strict", "preferred"])},
                "min_targets_per_zone": rng.choice([1, 1, 2]),
                "survive_provider_loss": rng.random() < 0.8,
            },
            "targets": targets,
        }
    )


def _feasible_by_flow(spec: DeploySpec, x: np.ndarray) -> bool:
    """Independent check: per scenario, an LP splits each zone's peak over allowed survivors."""
    caps = np.array([spec.capacity(t)[0] for t in spec.targets]) * x
    zones = spec.zone_peak_rps() or {"*": spec.peak_rps}
    strict = set(spec.strict_zones())
    providers = sorted({t.provider for t in spec.targets})
    lost_options = providers if spec.routing.survive_provider_loss else [None]
    k = spec.routing.min_targets_per_zone
    for z in strict:
        if (
            k > 1
            and sum(1 for t, r in zip(spec.targets, x, strict=True) if t.zone == z and r > 0) < k
        ):
            return False
    for lost in lost_options:
        pairs = [
            (z, i)
            for z in zones
            for i, t in enumerate(spec.targets)
            if t.provider != lost and (z not in strict or t.zone == z)
        ]
        if not pairs:
            if sum(zones.values()) > 1e-9:
                return False
            continue
        a_eq = [[1.0 if p[0] == z else 0.0 for p in pairs] for z in zones]
        a_ub = [[1.0 if p[1] == i else 0.0 for p in pairs] for i in range(len(spec.targets))]
        res = linprog(
            np.zeros(len(pairs)),
            A_ub=a_ub,
            b_ub=caps,
            A_eq=a_eq,
            b_eq=list(zones.values()),
            bounds=(0, None),
        )
        if res.status != 0:
            return False
    return True


def _brute_force(spec: DeploySpec) -> float | None:
    ranges = [range(t.min_replicas, t.max_replicas + 1) for t in spec.targets]
    cost = np.array([t.cost_per_replica_hour for t in spec.targets])
    best = None
    for combo in itertools.product(*ranges):
        x = np.array(combo)
        c = float(cost @ x)
        if (best is None or c < best - 1e-9) and _feasible_by_flow(spec, x):
            best = c
    return best


def _vector(p: Plan) -> np.ndarray:
    return np.array([t.replicas for t in p.targets])


def test_least_cost_matches_brute_force_on_random_small_specs() -> None:
    rng = random.Random(20261126)
    feasible = infeasible = 0
    for _ in range(120):
        spec = _random_spec(rng)
        best = _brute_force(spec)
        if best is None:
            infeasible += 1
            with pytest.raises(ConfigurationError, match="To fix:"):
                plan(spec)
            continue
        feasible += 1
        result = plan(spec)
        assert result.hourly_cost == pytest.approx(best, abs=1e-6)
        assert _feasible_by_flow(spec, _vector(result))
    assert feasible >= 20 and infeasible >= 10


def test_every_plan_survives_each_single_provider_loss(spec_dict: dict[str, Any]) -> None:
    spec = parse_spec(spec_dict)
    result = plan(spec)
    caps = {t.name: spec.capacity(t)[0] for t in spec.targets}
    for lost in ("aws", "gcp", "azure"):
        alive = [t for t in result.targets if t.provider != lost]
        total = sum(t.replicas * caps[t.name] for t in alive)
        eu = sum(t.replicas * caps[t.name] for t in alive if t.zone == "eu")
        assert total >= spec.peak_rps - 1e-9
        assert eu >= spec.zone_peak_rps()["eu"] - 1e-9
    assert sum(1 for t in result.targets if t.zone == "eu" and t.replicas > 0) >= 2


def test_plan_reports_costs_providers_and_reasons(spec_dict: dict[str, Any]) -> None:
    result = plan(parse_spec(spec_dict))
    assert result.monthly_cost == pytest.approx(result.hourly_cost * 730)
    assert sum(p.hourly_cost for p in result.providers) == pytest.approx(result.hourly_cost)
    assert {p.provider for p in result.providers} == {"aws", "gcp", "azure"}
    assert result.binding and all(t.why for t in result.targets)
    used = [t for t in result.targets if t.replicas > 0]
    assert all(set(t.needed_by) <= set(result.binding) and t.needed_by for t in used)
    assert any("preferred" in n for n in result.notes)
    assert result.to_dict()["targets"][0]["name"] == "aws-eu"
    assert result.replicas.keys() == {"aws-eu", "gcp-eu", "aws-us", "azure-us"}


def test_equal_cost_prefers_fewer_replicas() -> None:
    spec = parse_spec(
        {
            "model": "m@prod",
            "load": {"rps": 100},
            "latency": {"p99_ms": 100},
            "routing": {"survive_provider_loss": False},
            "targets": [target("free", "onprem", "eu", 0.0), target("paid", "aws", "eu", 1.0)],
            "capacity_rps_per_replica": 100,
        }
    )
    assert plan(spec).replicas == {"free": 1, "paid": 0}


def _refusal(spec_dict: dict[str, Any]) -> str:
    with pytest.raises(ConfigurationError) as info:
        plan(parse_spec(spec_dict))
    assert "To fix:" in str(info.value)
    return str(info.value)


def test_strict_zone_on_one_provider_is_refused(spec_dict: dict[str, Any]) -> None:
    spec_dict["targets"][1].update(provider="aws", bucket="s3://x")
    message = _refusal(spec_dict)
    assert "residency: strict zone eu" in message and "with aws lost" in message


def test_max_replicas_too_low_is_refused(spec_dict: dict[str, Any]) -> None:
    for t in spec_dict["targets"]:
        t["max_replicas"] = 2
    message = _refusal(spec_dict)
    assert "capacity: total peak 600 rps" in message and "max_replicas" in message


def test_min_targets_per_zone_unmet_is_refused(spec_dict: dict[str, Any]) -> None:
    spec_dict["routing"]["min_targets_per_zone"] = 3
    assert "min_targets_per_zone: strict zone eu on at least 3 targets" in _refusal(spec_dict)


def test_single_provider_cannot_survive_its_loss(spec_dict: dict[str, Any]) -> None:
    spec_dict["routing"] = {}
    spec_dict["targets"] = [target("a", "aws", "eu", 1.0), target("b", "aws", "us", 1.0)]
    assert "capacity: total peak 600 rps with aws lost" in _refusal(spec_dict)
    spec_dict["routing"] = {"survive_provider_loss": False}
    spec_dict["capacity_rps_per_replica"] = 200
    assert sum(plan(parse_spec(spec_dict)).replicas.values()) == 3
