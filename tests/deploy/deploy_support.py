"""Small spec builders shared by the deploy tests."""

from __future__ import annotations

from typing import Any

BASE: dict[str, Any] = {
    "model": "penguins@production",
    "load": {"rps": 300, "peak_factor": 2.0, "zones": {"eu": 0.4, "us": 0.6}},
    "latency": {"p99_ms": 250},
    "capacity_rps_per_replica": 100,
    "routing": {"residency": {"eu": "strict"}, "min_targets_per_zone": 2},
    "targets": [
        {
            "name": "aws-eu",
            "provider": "aws",
            "zone": "eu",
            "region": "eu-west-1",
            "cost_per_replica_hour": 1.0,
            "bucket": "s3://b-eu",
        },
        {
            "name": "gcp-eu",
            "provider": "gcp",
            "zone": "eu",
            "region": "europe-west4",
            "cost_per_replica_hour": 1.1,
            "bucket": "gs://b-eu",
        },
        {
            "name": "aws-us",
            "provider": "aws",
            "zone": "us",
            "region": "us-east-1",
            "cost_per_replica_hour": 0.9,
            "bucket": "s3://b-us",
        },
        {
            "name": "azure-us",
            "provider": "azure",
            "zone": "us",
            "region": "eastus",
            "cost_per_replica_hour": 0.95,
            "bucket": "az://acct/us",
        },
    ],
}
for _t in BASE["targets"]:
    _t.update(instance_type="std", min_replicas=0, max_replicas=8)


def target(name: str, provider: str, zone: str, cost: float, **extra: Any) -> dict[str, Any]:
    """One target mapping with a bucket that suits its provider."""
    scheme = {"aws": "s3://", "gcp": "gs://", "azure": "az://", "onprem": "file://"}[provider]
    return {
        "name": name,
        "provider": provider,
        "region": f"{zone}-1",
        "zone": zone,
        "instance_type": "std",
        "cost_per_replica_hour": cost,
        "min_replicas": 0,
        "max_replicas": 4,
        "bucket": f"{scheme}bucket-{name}",
        **extra,
    }
