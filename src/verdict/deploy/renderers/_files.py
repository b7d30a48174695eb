"""The rendered files that are not Kubernetes objects: container, monitoring, artifacts, docs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from verdict.deploy._planner import Plan
from verdict.deploy._spec import DeploySpec, Target
from verdict.deploy.renderers._k8s import METRICS_PORT

if TYPE_CHECKING:
    from verdict.registry import Registry

BASE_IMAGE = "python:3.11.7-slim-bookworm"
Placed = list[tuple[Target, int]]
# urlopen raises on a refused connection or a non-2xx answer: exit status 1, unhealthy.
_PROBE = (
    "import urllib.request; "
    "urllib.request.urlopen('http://127.0.0.1:8080/v2/health/ready', timeout=2)"
)

DOCKERFILE = f"""\
# syntax=docker/dockerfile:1
# The verdict prediction service. Build from the project root (the folder with pyproject.toml):
#   docker build -f <this folder>/Dockerfile -t IMAGE .
# Both stages use the same exact tag. To pin the digest as well, look it up with
#   docker buildx imagetools inspect {BASE_IMAGE}
# and write FROM {BASE_IMAGE}@sha256:<that digest> in both places.

FROM {BASE_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m venv /opt/verdict \\
 && /opt/verdict/bin/pip wheel --no-deps --wheel-dir /wheels . \\
 && /opt/verdict/bin/pip install /wheels/*.whl

FROM {BASE_IMAGE}
ENV PATH=/opt/verdict/bin:$PATH \\
    PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    VERDICT_HOME=/home/verdict/.verdict \\
    VERDICT_PUBLIC_READINESS=true
RUN groupadd --system --gid 10001 verdict \\
 && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/verdict verdict
COPY --from=builder /opt/verdict /opt/verdict
USER 10001:10001
WORKDIR /home/verdict
EXPOSE 8080
# /metrics without a key when VERDICT_METRICS_PORT is set (the rendered Kubernetes sets 9090)
EXPOSE 9090
# slim images have no curl: ask the ready endpoint with the standard library.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \\
  CMD ["python", "-c", "{_PROBE}"]
ENTRYPOINT ["verdict", "serve", "--host", "0.0.0.0", "--port", "8080"]
"""

DOCKERIGNORE = """\
.git
.github
.venv
venv
.verdict
tests
bench
examples
**/__pycache__
**/*.pyc
**/*.pyo
dist
build
*.egg-info
.ruff_cache
.pytest_cache
.mypy_cache
.coverage
htmlcov
*.pem
"""


def prometheus(spec: DeploySpec, placed: Placed) -> dict[str, Any]:
    """Scrape every target's metrics port (``VERDICT_METRICS_PORT``: ``/metrics`` without a
    key; the NetworkPolicy and the load balancer's source ranges admit only the gateways and
    Prometheus), labelled by target, provider and zone."""
    tls = spec.gateway.tls.reencrypt  # what fronts the service port with TLS fronts this too
    job: dict[str, Any] = {
        "job_name": f"verdict-{spec.model_name}",
        "scheme": "https" if tls else "http",
        "metrics_path": "/metrics",
    }
    if tls:
        job["tls_config"] = {"ca_file": "/etc/prometheus/replicas-ca.pem"}
    job["static_configs"] = [
        {
            "targets": [f"{spec.endpoint(t)[0]}:{METRICS_PORT}"],
            "labels": {"target": t.name, "provider": t.provider, "zone": t.zone},
        }
        for t, _ in placed
    ]
    return {
        "global": {"scrape_interval": "15s", "evaluation_interval": "15s"},
        "scrape_configs": [job],
    }


def artifacts(spec: DeploySpec, placed: Placed, registry: Registry | None) -> str:
    """The sync list: what each target's bucket must hold before its replicas start.

    With a registry the list names every artifact of the version ``spec.model`` resolves to,
    by its content address (``sha256/ab/abcd...``), which is the same path in every store.
    """
    head = [
        f"# Artifacts of {spec.model} each target's bucket (VERDICT_ARTIFACT_STORE) must hold.",
        "# Copy SOURCE to DESTINATION before the target's replicas start; paths are sha256",
        "# content addresses, so a copy is checked by its name.",
    ]
    if registry is None:
        head += [
            "# Rendered without a registry: run `verdict deploy render --registry-url URL` to",
            "# list each artifact, or copy the whole store once the version is registered.",
            "# target\tbucket\tmodel",
        ]
        rows = [f"{t.name}\t{t.bucket}\t{spec.model}" for t, _ in placed]
        return "\n".join(head + rows) + "\n"
    version = registry.get(spec.model)
    source = registry.store.url.rstrip("/")
    head += [
        f"# {spec.model} is {version.ref}; source store {source}",
        "# target\tartifact\tsha256\tsource\tdestination",
    ]
    rows = []
    for t, _ in placed:
        for name, entry in sorted(version.artifacts.items()):
            digest = entry["sha256"]
            path = f"sha256/{digest[:2]}/{digest}"
            dest = f"{t.bucket.rstrip('/')}/{path}"
            rows.append(f"{t.name}\t{name}\t{digest}\t{source}/{path}\t{dest}")
    return "\n".join(head + rows) + "\n"


def gateway_readme(spec: DeploySpec) -> str:
    """How to run the gateways, why there are several, and the residency rules they apply."""
    providers = spec.gateway_providers()
    return f"""\
# Global gateways

One HAProxy configuration per provider: {", ".join(providers)}. Put both gateways behind DNS
(one record per gateway, health-checked): each provider's gateway answers for all targets, so
losing one provider loses no routing.

- Check: `VERDICT_GATEWAY_SECRET=... haproxy -c -f gateway/<provider>/haproxy.cfg`
- Run: `haproxy -f gateway/<provider>/haproxy.cfg` with the gateway's certificate and key in
  `{spec.gateway.tls.cert or "/etc/haproxy/certs/verdict.pem"}` and the deployment's gateway
  secret (the value of Secret `verdict-gateway` in the clusters) in the environment variable
  `VERDICT_GATEWAY_SECRET`: HAProxy refuses to start without it.
- Server host names resolve at run time (`resolvers dns`), so a gateway starts before DNS does.

{residency_rules(spec)}"""


def residency_rules(spec: DeploySpec) -> str:
    """The residency rules, as the gateway and the replicas apply them (README text)."""
    header, zones = spec.gateway.zone_header, ", ".join(spec.zones())
    strict = ", ".join(spec.strict_zones()) or "none"
    routing, ranges = spec.routing, spec.gateway.source_ranges
    if routing.require_zone:
        missing = "is refused: 400 with error kind `missing_zone` (`routing.require_zone`)"
    elif routing.default_zone is not None:
        missing = f"is routed as zone `{routing.default_zone}` (`routing.default_zone`)"
    else:
        missing = "is routed over every target by the routing policy (no `default_zone`)"
    admitted = ", ".join(f"`{r}`" for r in ranges) if ranges else "none listed"
    return f"""\
## Residency rules

- A request names its zone in one `{header}` header holding exactly one of: {zones} (any
  case, spaces around it ignored). Several `{header}` headers, a list (`eu, us`), an empty,
  quoted or unknown value is answered 400 with error kind `bad_zone`, naming the allowed zones;
  it is never routed.
- A request without `{header}` {missing}.
- Strict zones ({strict}) are never served elsewhere: when every target in such a zone is down,
  the gateway answers 503 with error kind `no_target_in_zone`. Other zones prefer their own
  targets and fail over to the rest.
- A failed server is retried on another (`retry-on all-retryable-errors`, `option redispatch`);
  when no server is left the gateway answers 503 `no_server` in JSON, never a closed
  connection.
- Replicas answer only their gateway. The gateway adds `X-Verdict-Gateway-Secret` to every
  request and health check; replicas refuse a request without it (403 `not_from_gateway`;
  the probes `/v2/health/live` and `/v2/health/ready` excepted, as kubelets and load
  balancers cannot send it), and refuse a request for a strict zone that is not their own
  (421 `wrong_zone`).
- Their NetworkPolicy admits the service port only from the gateway: pods labelled
  `app.kubernetes.io/name: verdict-gateway` in namespace `verdict-gateway`, and the addresses
  in `gateway.source_ranges`, now: {admitted}. With `source_ranges` the load balancers admit
  only those addresses and pass them on unchanged (`externalTrafficPolicy: Local`); a gateway
  outside the clusters must be listed there, or its requests never reach a replica.
- Without `tls.reencrypt` the secret crosses the network in clear: re-encrypt when the path
  from the gateways to the replicas is not private.
"""


def readme(spec: DeploySpec, plan: Plan, files: Sequence[str]) -> str:
    """The top-level guide: what was rendered and the commands that apply it."""
    placed = [t for t in plan.targets if t.replicas > 0]
    listing = "\n".join(f"- `{f}`" for f in files)
    clusters = " ".join(t.name for t in placed)
    return f"""\
# Deployment of {spec.model}

Rendered by `verdict deploy render`: {sum(t.replicas for t in placed)} replicas on
{len(placed)} targets ({clusters}), {plan.monthly_cost:,.2f} USD/month by the plan
(`plan.json`).

## Files

{listing}

## Apply

1. Build and push the image, from the project root:
   `docker build -f <this folder>/Dockerfile -t {spec.image} . && docker push {spec.image}`
2. Create the secrets in every cluster (never rendered here). The replicas read the registry
   database URL and the service-state database URL (API keys, prediction log) from them:
   `kubectl --context <target> create namespace verdict`
   `kubectl --context <target> -n verdict create secret generic verdict-registry
   --from-literal=url=postgresql+psycopg://... --from-literal=state-url=postgresql+psycopg://...`
   and the gateway secret, one value for the whole deployment (the gateways send it, the
   replicas refuse requests without it; make it with
   `python -c 'import secrets; print(secrets.token_urlsafe(32))'`):
   `kubectl --context <target> -n verdict create secret generic verdict-gateway
   --from-literal=secret=<the value>`
3. Copy the artifacts listed in `artifacts.txt` into each target's bucket.
4. Either apply each cluster on its own:
   `for t in {clusters}; do kubectl --context $t apply -f k8s/$t/; done`
   or through Karmada, with the clusters joined under their target names
   (`karmadactl join <target> --cluster-kubeconfig=...`):
   `kubectl --kubeconfig karmada-apiserver.config apply -f karmada/`
5. Start the gateways (`gateway/README.md`) with `VERDICT_GATEWAY_SECRET` set to the gateway
   secret: `haproxy -c -f gateway/<provider>/haproxy.cfg`, then
   `haproxy -f gateway/<provider>/haproxy.cfg`.
6. Scrape the replicas' metrics port ({METRICS_PORT}, no key needed) with `prometheus.yml`,
   listing the Prometheus host's address in `gateway.source_ranges` (the replicas admit no
   one else), or run Prometheus in the clusters' `monitoring` namespace.

{residency_rules(spec)}"""
