"""The rendered files that are not Kubernetes objects: container, monitoring, artifacts, docs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from verdict.deploy._planner import Plan
from verdict.deploy._spec import DeploySpec, Target

if TYPE_CHECKING:
    from verdict.registry import Registry

BASE_IMAGE = "python:3.11.7-slim-bookworm"
TOKEN_FILE = "/etc/prometheus/verdict-token"
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
    """Scrape every target's ``/metrics`` with an API key, labelled by target, provider, zone."""
    tls = spec.gateway.tls.reencrypt
    job: dict[str, Any] = {
        "job_name": f"verdict-{spec.model_name}",
        "scheme": "https" if tls else "http",
        "metrics_path": "/metrics",
        "authorization": {"type": "Bearer", "credentials_file": TOKEN_FILE},
    }
    if tls:
        job["tls_config"] = {"ca_file": "/etc/prometheus/replicas-ca.pem"}
    job["static_configs"] = [
        {
            "targets": ["{}:{}".format(*spec.endpoint(t))],
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
    """How to run the gateways and why there are several."""
    providers = spec.gateway_providers()
    return f"""\
# Global gateways

One HAProxy configuration per provider: {", ".join(providers)}. Put both gateways behind DNS
(one record per gateway, health-checked): each provider's gateway answers for all targets, so
losing one provider loses no routing.

- Check: `haproxy -c -f gateway/<provider>/haproxy.cfg`
- Run: `haproxy -f gateway/<provider>/haproxy.cfg` with the gateway's certificate and key in
  `{spec.gateway.tls.cert or "/etc/haproxy/certs/verdict.pem"}`.
- Requests carrying `{spec.gateway.zone_header}` are routed in zone (backend `zone_<zone>`);
  strict zones ({", ".join(spec.strict_zones()) or "none"}) are never served elsewhere: when
  every target in the zone is down the gateway answers 503 with error kind `no_target_in_zone`.
- Server host names resolve at run time (`resolvers dns`), so a gateway starts before DNS does.
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
3. Copy the artifacts listed in `artifacts.txt` into each target's bucket.
4. Either apply each cluster on its own:
   `for t in {clusters}; do kubectl --context $t apply -f k8s/$t/; done`
   or through Karmada, with the clusters joined under their target names
   (`karmadactl join <target> --cluster-kubeconfig=...`):
   `kubectl --kubeconfig karmada-apiserver.config apply -f karmada/`
5. Start the gateways (`gateway/README.md`): `haproxy -c -f gateway/<provider>/haproxy.cfg`,
   then `haproxy -f gateway/<provider>/haproxy.cfg`.
6. Scrape the replicas with `prometheus.yml`; put an API key in `{TOKEN_FILE}`
   (`verdict keys create`).
"""
