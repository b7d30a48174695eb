"""deploy.yaml validation: a valid spec loads; each mistake is named by its field path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from verdict.deploy import DEFAULT_CAPACITY_RPS, DeploySpec, load_spec, parse_spec
from verdict.errors import ConfigurationError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "deploy.yaml"


def test_example_spec_loads() -> None:
    spec = load_spec(EXAMPLE)
    assert isinstance(spec, DeploySpec)
    assert {t.provider for t in spec.targets} == {"aws", "gcp", "azure"}
    assert spec.strict_zones() == ["eu"]
    assert spec.zone_peak_rps() == pytest.approx({"eu": 800.0, "us": 1200.0})
    assert spec.routing.policy == "failover"


def test_capacity_comes_from_target_then_spec_then_bench(spec_dict: dict[str, Any]) -> None:
    spec_dict["targets"][0]["capacity_rps_per_replica"] = 50
    spec = parse_spec(spec_dict)
    assert spec.capacity(spec.targets[0]) == (50, "target")
    assert spec.capacity(spec.targets[1]) == (100, "spec")
    del spec_dict["capacity_rps_per_replica"]
    spec = parse_spec(spec_dict)
    assert spec.capacity(spec.targets[1]) == (DEFAULT_CAPACITY_RPS, "bench default")


def _error(spec_dict: dict[str, Any]) -> str:
    with pytest.raises(ConfigurationError) as info:
        parse_spec(spec_dict)
    message = str(info.value)
    assert "To fix:" in message
    return message


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["targets"][1].update(max_replicas=-1), "targets[1].max_replicas"),
        (lambda d: d["targets"][2].update(min_replicas=9), "targets[2]"),
        (lambda d: d["targets"][0].update(provider="ibm"), "targets[0].provider"),
        (lambda d: d["targets"][3].update(cost_per_replica_hour=-1), "cost_per_replica_hour"),
        (lambda d: d["targets"][0].update(bucket="gs://wrong"), "targets[0]"),
        (lambda d: d["targets"][0].update(colour="red"), "targets[0].colour"),
        (lambda d: d.update(model="penguins"), "model"),
        (lambda d: d["load"].update(rps=0), "load.rps"),
        (lambda d: d["load"].update(peak_factor=0.5), "load.peak_factor"),
        (lambda d: d["load"].update(zones={"eu": 0.5, "us": 0.6}), "load.zones"),
        (lambda d: d.pop("latency"), "latency"),
        (lambda d: d["routing"].update(residency={"asia": "strict"}), "asia"),
        (lambda d: d["routing"].update(residency={"eu": "always"}), "routing.residency.eu"),
        (lambda d: d["routing"].update(failover=["nope"]), "nope"),
        (lambda d: d["routing"].update(failover=["aws-eu"], cost_weights={"aws-eu": 1}), "routing"),
        (lambda d: d["routing"].update(min_targets_per_zone=0), "min_targets_per_zone"),
    ],
)
def test_invalid_fields_are_named(spec_dict: dict[str, Any], edit: Any, field: str) -> None:
    edit(spec_dict)
    assert field in _error(spec_dict)


def test_duplicate_target_names_are_refused(spec_dict: dict[str, Any]) -> None:
    spec_dict["targets"][1]["name"] = "aws-eu"
    assert "unique" in _error(spec_dict) and "aws-eu" in _error(spec_dict)


def test_unknown_provider_lists_the_known_ones(spec_dict: dict[str, Any]) -> None:
    spec_dict["targets"][0]["provider"] = "ibm"
    assert "onprem" in _error(spec_dict)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "deploy.yaml"
    path.write_text("model: a@b\nload: {rps: 1\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"not valid YAML at line \d+.*To fix:"):
        load_spec(path)


def test_missing_file_and_non_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read deploy spec"):
        load_spec(tmp_path / "absent.yaml")
    path = tmp_path / "list.yaml"
    path.write_text(yaml.safe_dump([1, 2]), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="must be a YAML mapping"):
        load_spec(path)


def test_load_spec_round_trips_a_file(tmp_path: Path, spec_dict: dict[str, Any]) -> None:
    path = tmp_path / "deploy.yaml"
    path.write_text(yaml.safe_dump(spec_dict), encoding="utf-8")
    assert load_spec(path) == parse_spec(spec_dict)


# -- residency: zones a request may name, the default zone, the gateway's sources ---------------


def test_zones_are_strict_first_then_load_residency_and_target_zones(
    spec_dict: dict[str, Any],
) -> None:
    spec_dict["targets"][3]["zone"] = "apac"  # a target zone with no load share
    spec = parse_spec(spec_dict)
    assert spec.zones() == ["eu", "apac", "us"]
    assert spec.routing.default_zone is None and spec.routing.require_zone is False


def test_default_zone_must_be_a_zone_of_the_spec(spec_dict: dict[str, Any]) -> None:
    spec_dict["routing"]["default_zone"] = "us"
    assert parse_spec(spec_dict).routing.default_zone == "us"
    spec_dict["routing"]["default_zone"] = "EU"  # zones are lower case, as the header is matched
    message = _error(spec_dict)
    assert "routing.default_zone 'EU' is not a zone of this spec" in message
    assert "the zones are eu, us" in message


def test_default_zone_and_require_zone_exclude_each_other(spec_dict: dict[str, Any]) -> None:
    spec_dict["routing"].update(default_zone="eu", require_zone=True)
    assert "not both" in _error(spec_dict)
    spec_dict["routing"].pop("default_zone")
    assert parse_spec(spec_dict).routing.require_zone is True


@pytest.mark.parametrize(
    "ranges", [[], ["10.0.0.1/8"], ["not-a-cidr"], ["2001:db8::1/32"], ["10.0.0.0/33"]]
)
def test_source_ranges_must_be_cidr_networks(spec_dict: dict[str, Any], ranges: list) -> None:
    spec_dict["gateway"] = {"source_ranges": ranges}
    assert "gateway.source_ranges" in _error(spec_dict)


def test_source_ranges_are_kept_normalised(spec_dict: dict[str, Any]) -> None:
    spec_dict["gateway"] = {"source_ranges": ["203.0.113.10", "2001:DB8::/32"]}
    assert parse_spec(spec_dict).gateway.source_ranges == ["203.0.113.10/32", "2001:db8::/32"]
