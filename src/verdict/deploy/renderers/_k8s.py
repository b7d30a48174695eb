"""Kubernetes manifests for one target: the shapes, as small dict builders.

Each target with replicas gets a hardened Deployment (non-root, read-only root file system, no
capabilities, writable scratch only in emptyDir volumes), a LoadBalancer Service with its
provider's annotations, an autoscaler starting at the planned replicas, a disruption budget,
and a network policy. Secrets are referenced by name, never rendered.

Replicas take traffic only from the gateway. They require the deployment's gateway secret
(Secret ``verdict-gateway``, key ``secret``) on every request but the probes, and know their
zone and the strict zones (``verdict.serving._residency``). The NetworkPolicy admits the
service port only from the gateway: pods labelled ``app.kubernetes.io/name: verdict-gateway``
in namespace ``verdict-gateway`` (a gateway run in the cluster), and the CIDRs of
``gateway.source_ranges`` (gateways outside it). With ``source_ranges`` the load balancer
admits only them too (``loadBalancerSourceRanges``) and keeps the client address
(``externalTrafficPolicy: Local``), so the policy sees the gateway's own address.
"""

from __future__ import annotations

import re
from typing import Any

from verdict.deploy._spec import DeploySpec, Target

NAMESPACE = "verdict"
PORT = 8080
METRICS_PORT = 9090  # /metrics without a key (VERDICT_METRICS_PORT), for Prometheus
UID = 10001
HOME = "/home/verdict"
REGISTRY_SECRET = "verdict-registry"
GATEWAY_SECRET = "verdict-gateway"  # key "secret": the header the gateway sends to replicas
GATEWAY_NAMESPACE = "verdict-gateway"  # where an in-cluster gateway runs
GATEWAY_POD_LABELS = {"app.kubernetes.io/name": "verdict-gateway"}
PROMETHEUS_PODS = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
}
READY_PATH = "/v2/health/ready"
LIVE_PATH = "/v2/health/live"

LB_ANNOTATIONS: dict[str, dict[str, str]] = {
    "aws": {
        "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
        "service.beta.kubernetes.io/aws-load-balancer-healthcheck-path": READY_PATH,
        "service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol": "HTTP",
    },
    "gcp": {"cloud.google.com/l4-rbs": "enabled"},
    "azure": {
        "service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path": READY_PATH,
    },
    "onprem": {"metallb.universe.tf/address-pool": "verdict"},
}


def dns_name(text: str) -> str:
    """``text`` as a DNS label: lowercase letters, digits and '-', at most 63 characters."""
    label = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return label[:63].rstrip("-") or "model"


def app_name(spec: DeploySpec) -> str:
    """The name every resource of the deployment shares: ``verdict-<model name>``."""
    return dns_name(f"verdict-{spec.model_name}")


def selector(spec: DeploySpec) -> dict[str, str]:
    """The labels that select the deployment's pods (the same in every cluster)."""
    return {"app.kubernetes.io/name": "verdict", "app.kubernetes.io/instance": app_name(spec)}


def target_labels(t: Target) -> dict[str, str]:
    """Where a pod runs: target, provider and zone, as valid label values."""
    return {
        "verdict/target": t.name,
        "verdict/provider": t.provider,
        "verdict/zone": dns_name(t.zone),
    }


def target_env(t: Target) -> dict[str, str]:
    """The environment values that differ between targets."""
    return {"VERDICT_TARGET": t.name, "VERDICT_ARTIFACT_STORE": t.bucket, "VERDICT_ZONE": t.zone}


def manifests(spec: DeploySpec, t: Target, replicas: int) -> dict[str, dict[str, Any]]:
    """Every manifest of one target by file name (``deployment.yaml`` ...)."""
    return {
        "00-namespace.yaml": namespace(),  # first: kubectl applies a folder in name order
        "deployment.yaml": deployment(spec, t, replicas),
        "service.yaml": service(spec, t),
        "hpa.yaml": autoscaler(spec, replicas, max(t.max_replicas, replicas)),
        "pdb.yaml": disruption_budget(spec),
        "networkpolicy.yaml": network_policy(spec),
    }


def _meta(spec: DeploySpec, t: Target | None, **extra: Any) -> dict[str, Any]:
    """Name, namespace and labels of a resource."""
    labels = {**selector(spec), **(target_labels(t) if t else {})}
    return {"name": app_name(spec), "namespace": NAMESPACE, "labels": labels, **extra}


def namespace() -> dict[str, Any]:
    """The namespace, enforcing the ``restricted`` pod security standard the pods meet."""
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": NAMESPACE,
            "labels": {"pod-security.kubernetes.io/enforce": "restricted"},
        },
    }


def deployment(spec: DeploySpec, t: Target, replicas: int) -> dict[str, Any]:
    """The replicas: rolling updates that never drop below the current count."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(spec, t),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": selector(spec)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": {
                "metadata": {"labels": {**selector(spec), **target_labels(t)}},
                "spec": _pod(spec, t),
            },
        },
    }


def _pod(spec: DeploySpec, t: Target) -> dict[str, Any]:
    """The pod: one hardened container, scratch volumes, spread over nodes."""
    return {
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": UID,
            "runAsGroup": UID,
            "fsGroup": UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "terminationGracePeriodSeconds": 30,
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": selector(spec)},
            }
        ],
        "containers": [_container(spec, t)],
        "volumes": [{"name": "tmp", "emptyDir": {}}, {"name": "state", "emptyDir": {}}],
    }


def env(spec: DeploySpec, t: Target) -> list[dict[str, Any]]:
    """The container's environment; the database URLs and the gateway secret come from
    secrets."""
    plain = {
        **target_env(t),
        "VERDICT_MODELS": spec.model,
        "VERDICT_PUBLIC_READINESS": "true",
        "VERDICT_HOME": f"{HOME}/.verdict",
        "VERDICT_STRICT_ZONES": ",".join(spec.strict_zones()),
        "VERDICT_ZONE_HEADER": spec.gateway.zone_header,
        "VERDICT_METRICS_PORT": str(METRICS_PORT),
    }
    out: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in plain.items()]
    for name, secret, key in (
        ("VERDICT_REGISTRY_URL", REGISTRY_SECRET, "url"),
        ("VERDICT_STATE_URL", REGISTRY_SECRET, "state-url"),
        ("VERDICT_GATEWAY_SECRET", GATEWAY_SECRET, "secret"),
    ):
        ref = {"secretKeyRef": {"name": secret, "key": key}}
        out.append({"name": name, "valueFrom": ref})
    return out


def _container(spec: DeploySpec, t: Target) -> dict[str, Any]:
    """The service container: probes, resources, and a locked-down security context."""
    return {
        "name": "verdict",
        "image": spec.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [
            {"name": "http", "containerPort": PORT, "protocol": "TCP"},
            {"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"},
        ],
        "env": env(spec, t),
        "startupProbe": _probe(LIVE_PATH, period=2, failures=60),
        "readinessProbe": _probe(READY_PATH, period=5, failures=2),
        "livenessProbe": _probe(LIVE_PATH, period=10, failures=3),
        "resources": {
            "requests": {"cpu": "500m", "memory": "512Mi"},
            "limits": {"cpu": "1", "memory": "1Gi"},
        },
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": UID,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "state", "mountPath": f"{HOME}/.verdict"},
        ],
    }


def _probe(path: str, *, period: int, failures: int) -> dict[str, Any]:
    """An HTTP probe on the service port."""
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


def service(spec: DeploySpec, t: Target, *, annotated: bool = True) -> dict[str, Any]:
    """The target's load balancer, on the port the gateway reaches it at."""
    annotations = LB_ANNOTATIONS[t.provider] if annotated else {}
    meta = _meta(spec, t if annotated else None)
    if annotations:
        meta["annotations"] = dict(annotations)
    port = spec.endpoint(t)[1]
    body: dict[str, Any] = {
        "type": "LoadBalancer",
        "selector": selector(spec),
        "ports": [
            {"name": "http", "port": port, "targetPort": "http", "protocol": "TCP"},
            {"name": "metrics", "port": METRICS_PORT, "targetPort": "metrics",
             "protocol": "TCP"},
        ],
    }  # fmt: skip
    ranges = spec.gateway.source_ranges
    if ranges:  # only the gateways, and their own address kept for the NetworkPolicy
        body["externalTrafficPolicy"] = "Local"
        body["loadBalancerSourceRanges"] = list(ranges)
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": body}


def autoscaler(spec: DeploySpec, low: int, high: int) -> dict[str, Any]:
    """CPU-based autoscaling from the planned replicas up to the target's maximum."""
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _meta(spec, None),
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": app_name(spec),
            },
            "minReplicas": low,
            "maxReplicas": high,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70},
                    },
                }
            ],
        },
    }


def disruption_budget(spec: DeploySpec) -> dict[str, Any]:
    """Voluntary disruptions (node drains) take one replica at a time.

    ``maxUnavailable: 1`` rather than 0 even for one replica: 0 would block every node drain,
    and the gateway's health checks move traffic to the other targets meanwhile.
    """
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(spec, None),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(spec)}},
    }


def network_policy(spec: DeploySpec) -> dict[str, Any]:
    """In: the service port, from the gateway only, and the metrics port from the gateway and
    Prometheus (``gateway.source_ranges`` lists its address); in-cluster Prometheus pods
    (namespace ``monitoring``, ``app.kubernetes.io/name: prometheus``) reach the metrics port
    only. Out: DNS, HTTPS (object stores) and PostgreSQL. Kubelet probes come from the node,
    which policies always admit."""
    dns = [{"protocol": proto, "port": 53} for proto in ("UDP", "TCP")]
    out = [{"protocol": "TCP", "port": port} for port in (443, 5432)]
    gateway_pods = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": GATEWAY_NAMESPACE}},
        "podSelector": {"matchLabels": dict(GATEWAY_POD_LABELS)},
    }
    sources = [gateway_pods]
    sources += [{"ipBlock": {"cidr": cidr}} for cidr in spec.gateway.source_ranges or []]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(spec, None),
        "spec": {
            "podSelector": {"matchLabels": selector(spec)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {"from": sources, "ports": [{"protocol": "TCP", "port": PORT}]},
                {
                    "from": [*sources, PROMETHEUS_PODS],
                    "ports": [{"protocol": "TCP", "port": METRICS_PORT}],
                },
            ],
            "egress": [{"ports": dns}, {"ports": out}],
        },
    }
