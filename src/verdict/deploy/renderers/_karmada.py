"""Karmada: one workload on the control plane, divided over member clusters by the plan.

Each target with replicas is a member cluster of the same name. ``workload.yaml`` holds the
resources once, with the plan's total replicas and no target-specific values; the
PropagationPolicy places them on those clusters and divides the replicas with static weights
equal to the planned replicas, so each cluster gets exactly its share; the OverridePolicies set
what differs per cluster (target name, artifact bucket, labels, load-balancer annotations and
port, autoscaler bounds).
"""

from __future__ import annotations

from typing import Any

from verdict.deploy._spec import DeploySpec, Target
from verdict.deploy.renderers import _k8s as k8s

API = "policy.karmada.io/v1alpha1"
Placed = list[tuple[Target, int]]


def karmada_files(spec: DeploySpec, placed: Placed) -> dict[str, list[dict[str, Any]]]:
    """The Karmada documents by file name, for targets with replicas (``placed``)."""
    return {
        "karmada/workload.yaml": workload(spec, placed),
        "karmada/propagation-policy.yaml": [propagation_policy(spec, placed)],
        "karmada/override-policy.yaml": override_policies(spec, placed),
    }


def _selectors(spec: DeploySpec) -> list[dict[str, str]]:
    """The resources the policies select, all named after the deployment."""
    kinds = (
        ("apps/v1", "Deployment"),
        ("v1", "Service"),
        ("autoscaling/v2", "HorizontalPodAutoscaler"),
        ("policy/v1", "PodDisruptionBudget"),
        ("networking.k8s.io/v1", "NetworkPolicy"),
    )
    return [{"apiVersion": a, "kind": k, "name": k8s.app_name(spec)} for a, k in kinds]


def workload(spec: DeploySpec, placed: Placed) -> list[dict[str, Any]]:
    """The resources as the control plane holds them: total replicas, no per-target values."""
    first, replicas = placed[0]
    total = sum(r for _, r in placed)
    deployment = k8s.deployment(spec, first, total)
    for labels in (
        deployment["metadata"]["labels"],
        deployment["spec"]["template"]["metadata"]["labels"],
    ):
        for key in k8s.target_labels(first):
            labels.pop(key)
    return [
        k8s.namespace(),
        deployment,
        k8s.service(spec, first, annotated=False),
        k8s.autoscaler(spec, replicas, max(first.max_replicas, replicas)),
        k8s.disruption_budget(spec),
        k8s.network_policy(spec),
    ]


def propagation_policy(spec: DeploySpec, placed: Placed) -> dict[str, Any]:
    """Place the resources on the planned clusters, dividing replicas by the plan."""
    weights = [
        {"targetCluster": {"clusterNames": [t.name]}, "weight": replicas} for t, replicas in placed
    ]
    return {
        "apiVersion": API,
        "kind": "PropagationPolicy",
        "metadata": {"name": k8s.app_name(spec), "namespace": k8s.NAMESPACE},
        "spec": {
            "resourceSelectors": _selectors(spec),
            "placement": {
                "clusterAffinity": {"clusterNames": [t.name for t, _ in placed]},
                "replicaScheduling": {
                    "replicaSchedulingType": "Divided",
                    "replicaDivisionPreference": "Weighted",
                    "weightPreference": {"staticWeightList": weights},
                },
            },
        },
    }


def override_policies(spec: DeploySpec, placed: Placed) -> list[dict[str, Any]]:
    """One OverridePolicy per resource kind, so every JSON path exists where it applies."""
    selectors = {s["kind"]: s for s in _selectors(spec)}
    rules = {
        "Deployment": _deployment_overriders,
        "Service": _service_overriders,
        "HorizontalPodAutoscaler": _autoscaler_overriders,
    }
    return [
        {
            "apiVersion": API,
            "kind": "OverridePolicy",
            "metadata": {
                "name": f"{k8s.app_name(spec)}-{kind.lower()}",
                "namespace": k8s.NAMESPACE,
            },
            "spec": {
                "resourceSelectors": [selectors[kind]],
                "overrideRules": [
                    {"targetCluster": {"clusterNames": [t.name]}, "overriders": build(spec, t, n)}
                    for t, n in placed
                ],
            },
        }
        for kind, build in rules.items()
    ]


def _deployment_overriders(spec: DeploySpec, t: Target, replicas: int) -> dict[str, Any]:
    """The target's name and bucket in the environment, its labels on the pods."""
    index = {e["name"]: i for i, e in enumerate(k8s.env(spec, t))}
    container = "/spec/template/spec/containers/0"
    plaintext = [
        {"path": f"{container}/env/{index[name]}/value", "operator": "replace", "value": value}
        for name, value in k8s.target_env(t).items()
    ]
    plaintext += [
        {"path": f"/spec/template/metadata/labels/{_pointer(k)}", "operator": "add", "value": v}
        for k, v in k8s.target_labels(t).items()
    ]
    return {"plaintext": plaintext, "labelsOverrider": [_add(k8s.target_labels(t))]}


def _service_overriders(spec: DeploySpec, t: Target, replicas: int) -> dict[str, Any]:
    """The provider's load-balancer annotations and the target's port."""
    port = {"path": "/spec/ports/0/port", "operator": "replace", "value": spec.endpoint(t)[1]}
    return {
        "plaintext": [port],
        "annotationsOverrider": [_add(k8s.LB_ANNOTATIONS[t.provider])],
        "labelsOverrider": [_add(k8s.target_labels(t))],
    }


def _autoscaler_overriders(spec: DeploySpec, t: Target, replicas: int) -> dict[str, Any]:
    """Autoscaling bounds per cluster: the planned replicas up to the target's maximum."""
    return {
        "plaintext": [
            {"path": "/spec/minReplicas", "operator": "replace", "value": replicas},
            {
                "path": "/spec/maxReplicas",
                "operator": "replace",
                "value": max(t.max_replicas, replicas),
            },
        ]
    }


def _add(values: dict[str, str]) -> dict[str, Any]:
    """A labels or annotations overrider adding ``values``."""
    return {"operator": "add", "value": dict(values)}


def _pointer(key: str) -> str:
    """``key`` escaped as one JSON-pointer segment (``/`` is ``~1``)."""
    return key.replace("~", "~0").replace("/", "~1")
