"""``verdict deploy render``: every file a multi-cloud deployment needs, from a spec and its plan.

The shapes live in small dict builders (``_k8s``, ``_karmada``, ``_files`` beside this module,
and ``verdict.deploy._gateway``); this module decides which files exist and writes them, YAML
through ``yaml.safe_dump`` so no value can inject structure.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from verdict.deploy._gateway import haproxy_config, rendered_servers
from verdict.deploy._planner import Plan
from verdict.deploy._spec import DeploySpec
from verdict.deploy.renderers import _files as files
from verdict.deploy.renderers import _k8s as k8s
from verdict.deploy.renderers._karmada import karmada_files
from verdict.errors import ConfigurationError

if TYPE_CHECKING:
    from verdict.registry import Registry

__all__ = ["render"]

GATEWAY_CERT = "/etc/haproxy/certs/verdict.pem"
GATEWAY_SECRET_ENV = "VERDICT_GATEWAY_SECRET"  # HAProxy reads the replicas' secret from it
REPLICAS_CA = "/etc/haproxy/certs/replicas-ca.pem"


def render(spec: DeploySpec, plan: Plan, out: Path, registry: Registry | None = None) -> list[Path]:
    """Write the container, Kubernetes, Karmada, gateway and monitoring files for a plan.

    The files are the plan made concrete, so a reviewer can read exactly what will run where
    before anything is applied; nothing is contacted while rendering but the registry, if given.

    Parameters
    ----------
    spec : DeploySpec
        The validated deployment spec.
    plan : Plan
        Its placement (:func:`verdict.deploy.plan`); targets with 0 replicas get no files.
    out : Path
        The folder to write into; created if missing. Files of the same name are replaced;
        nothing is written outside it.
    registry : Registry, optional
        When given, ``artifacts.txt`` lists every artifact of the version ``spec.model``
        resolves to, by sha256; otherwise it lists the model reference and the buckets.

    Returns
    -------
    list of Path
        The files written, sorted.

    Raises
    ------
    ConfigurationError
        When the plan places no replica, or ``out`` cannot be written.
    NotFoundError
        When ``registry`` is given and does not hold ``spec.model``.
    """
    replicas = plan.replicas
    placed = [(t, replicas[t.name]) for t in spec.targets if replicas.get(t.name, 0) > 0]
    if not placed:
        raise ConfigurationError(
            "the plan places no replica, so there is nothing to render. "
            "To fix: raise min_replicas or the load in the spec, then render again."
        )
    documents: dict[str, Any] = {
        "Dockerfile": files.DOCKERFILE,
        ".dockerignore": files.DOCKERIGNORE,
        # BuildKit reads <Dockerfile>.dockerignore beside the Dockerfile given with -f.
        "Dockerfile.dockerignore": files.DOCKERIGNORE,
        "prometheus.yml": files.prometheus(spec, placed),
        "artifacts.txt": files.artifacts(spec, placed, registry),
        "plan.json": json.dumps(plan.to_dict(), indent=2) + "\n",
        **karmada_files(spec, placed),
        **_gateways(spec, plan),
    }
    for t, n in placed:
        for name, doc in k8s.manifests(spec, t, n).items():
            documents[f"k8s/{t.name}/{name}"] = doc
    documents["README.md"] = files.readme(spec, plan, sorted([*documents, "README.md"]))
    return _write(Path(out), documents)


def _gateways(spec: DeploySpec, plan: Plan) -> dict[str, str]:
    """One HAProxy configuration per gateway provider, and how to run them."""
    servers = rendered_servers(spec, plan)
    ca_file = REPLICAS_CA if spec.gateway.tls.reencrypt else None
    out = {
        f"gateway/{provider}/haproxy.cfg": haproxy_config(
            spec,
            servers,
            cert_path=spec.gateway.tls.cert or GATEWAY_CERT,
            ca_file=ca_file,
            resolve_dns=True,
            name=f"gateway-{provider}",
            secret="${" + GATEWAY_SECRET_ENV + "}",
        )
        for provider in spec.gateway_providers()
    }
    out["gateway/README.md"] = files.gateway_readme(spec)
    return out


def _text(document: Any) -> str:
    """A file's text: strings as they are, a list as a multi-document YAML, else one YAML."""
    if isinstance(document, str):
        return document
    if isinstance(document, list):
        return yaml.safe_dump_all(document, sort_keys=False)
    return yaml.safe_dump(document, sort_keys=False)


def _write(out: Path, documents: dict[str, Any]) -> list[Path]:
    """Write each document under ``out``, refusing any path that would leave it."""
    root = out.resolve()
    written = []
    try:
        for relative, document in documents.items():
            path = (root / relative).resolve()
            if not path.is_relative_to(root):
                raise ConfigurationError(
                    f"refusing to write {relative!r} outside {root}. "
                    "To fix: rename the target or provider that produced this path."
                )
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_text(document), encoding="utf-8")
            written.append(path)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot write the rendered files under {root}: {exc.strerror or exc}. "
            "To fix: choose an output folder you can write to (-o DIR)."
        ) from None
    return sorted(written)
